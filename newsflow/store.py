"""The article store: SQLite (WAL) by default, the single source of truth.

Articles are keyed by their stable id (source + item key) and carry a content
hash and the model version that translated them, so a re-run can tell what is
done (skip), what is pending (retry) and what changed (re-translate).

All database I/O lives here. Writes go through one connection guarded by a
lock: Prefect runs tasks in threads, and SQLite in WAL mode with
``busy_timeout`` lets other processes (a second `newsflow run`, the CLI) read
and wait for the write lock instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from newsflow.errors import NewsflowError

STATUSES = ("translated", "passed-through", "pending", "failed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id               TEXT PRIMARY KEY,
    source           TEXT NOT NULL,
    url              TEXT,
    published        TEXT,
    title            TEXT NOT NULL DEFAULT '',
    original_text    TEXT NOT NULL DEFAULT '',
    content_hash     TEXT NOT NULL,
    lang             TEXT NOT NULL DEFAULT 'und',
    lang_confidence  REAL NOT NULL DEFAULT 0,
    paragraph_langs  TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL CHECK (status IN ('translated','passed-through','pending','failed')),
    reason           TEXT,
    title_en         TEXT,
    translation      TEXT,
    raw_translation  TEXT,
    model_id         TEXT,
    model_version    TEXT,
    name_findings    TEXT NOT NULL DEFAULT '[]',
    name_candidates  TEXT NOT NULL DEFAULT '[]',
    truncated_sentences INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_run        TEXT,
    last_run         TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_status ON articles(status);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    state       TEXT,
    summary     TEXT
);
CREATE TABLE IF NOT EXISTS claims (
    article_id  TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sentence_cache (
    model_key    TEXT NOT NULL,
    source_hash  TEXT NOT NULL,
    translation  TEXT NOT NULL,
    PRIMARY KEY (model_key, source_hash)
);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class StoredArticle:
    """One row of `articles`, as the pipeline writes and reads it."""

    id: str
    source: str
    content_hash: str
    status: str
    title: str = ""
    original_text: str = ""
    url: str | None = None
    published: str | None = None
    lang: str = "und"
    lang_confidence: float = 0.0
    paragraph_langs: list[str] = field(default_factory=list)
    reason: str | None = None
    title_en: str | None = None
    translation: str | None = None
    raw_translation: str | None = None
    model_id: str | None = None
    model_version: str | None = None
    name_findings: list[dict] = field(default_factory=list)
    name_candidates: list[dict] = field(default_factory=list)
    truncated_sentences: int = 0
    attempts: int = 0
    first_run: str | None = None
    last_run: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown article status {self.status!r}")


_JSON_FIELDS = ("paragraph_langs", "name_findings", "name_candidates")


def _row_to_article(row: sqlite3.Row) -> StoredArticle:
    data = {k: row[k] for k in row.keys() if k not in ("created_at", "updated_at")}
    for key in _JSON_FIELDS:
        data[key] = json.loads(data[key] or "[]")
    return StoredArticle(**data)


class Store:
    """SQLite article store. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(path), timeout=30, check_same_thread=False, isolation_level=None
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if str(path) != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise NewsflowError(f"{path}: cannot open the database: {exc}") from None
        self._lock = threading.RLock()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # e.g. still locked after busy_timeout
                raise NewsflowError(f"{self.path}: cannot write: {exc} (waited 30 s for another writer)") from None
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    # -- articles ---------------------------------------------------------

    def get(self, article_id: str) -> StoredArticle | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _row_to_article(row) if row else None

    def get_many(self, ids: Iterable[str]) -> dict[str, StoredArticle]:
        ids = list(ids)
        out: dict[str, StoredArticle] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(f"SELECT * FROM articles WHERE id IN ({marks})", chunk):
                    out[row["id"]] = _row_to_article(row)
        return out

    def upsert_many(self, articles: Iterable[StoredArticle]) -> int:
        """Insert or update articles in one transaction; returns how many were written."""
        stamp = now_iso()
        n = 0
        with self.transaction() as conn:
            for art in articles:
                data = asdict(art)
                for key in _JSON_FIELDS:
                    data[key] = json.dumps(data[key], ensure_ascii=False)
                data["created_at"] = stamp
                data["updated_at"] = stamp
                cols = list(data)
                updates = ",".join(
                    f"{c}=excluded.{c}" for c in cols if c not in ("id", "created_at", "first_run")
                )
                conn.execute(
                    f"INSERT INTO articles ({','.join(cols)}) VALUES ({','.join('?' * len(cols))}) "
                    f"ON CONFLICT(id) DO UPDATE SET {updates}",
                    [data[c] for c in cols],
                )
                n += 1
        return n

    def all(self, status: str | None = None, source: str | None = None) -> list[StoredArticle]:
        sql, args = "SELECT * FROM articles WHERE 1=1", []
        if status:
            sql, args = sql + " AND status = ?", [*args, status]
        if source:
            sql, args = sql + " AND source = ?", [*args, source]
        with self._lock:
            return [_row_to_article(r) for r in self._conn.execute(sql + " ORDER BY id", args)]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT status, COUNT(*) FROM articles GROUP BY status")
            return {status: n for status, n in rows}

    def sentence_cache(self) -> SqliteSentenceCache:
        return SqliteSentenceCache(self)

    # -- claims -----------------------------------------------------------

    def claim(self, ids: Iterable[str], run_id: str, lease_seconds: float = 3600) -> set[str]:
        """Atomically take the articles no live run is working on; returns the
        ids this run now owns. Two runs over the same articles never both
        translate one. A claim is stale when its lease ran out or when its
        process on this host is gone (a killed run), so work is never stuck.
        """
        ids = list(dict.fromkeys(ids))
        host, pid, now = socket.gethostname(), os.getpid(), time.time()
        owned: set[str] = set()
        with self.transaction() as conn:
            stale = [
                article_id
                for article_id, c_host, c_pid, expires in conn.execute(
                    "SELECT article_id, host, pid, expires_at FROM claims"
                )
                if expires < now or (c_host == host and c_pid != pid and not process_alive(c_pid))
            ]
            conn.executemany("DELETE FROM claims WHERE article_id = ?", [(i,) for i in stale])
            for article_id in ids:
                cur = conn.execute(
                    "INSERT INTO claims (article_id, run_id, host, pid, expires_at) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(article_id) DO NOTHING",
                    (article_id, run_id, host, pid, now + lease_seconds),
                )
                if cur.rowcount == 1:
                    owned.add(article_id)
        return owned

    def release(self, run_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM claims WHERE run_id = ?", (run_id,))

    # -- runs -------------------------------------------------------------

    def start_run(self, run_id: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO runs (run_id, started_at, state) VALUES (?, ?, 'running')",
                (run_id, now_iso()),
            )

    def finish_run(self, run_id: str, state: str, summary: dict) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, state = ?, summary = ? WHERE run_id = ?",
                (now_iso(), state, json.dumps(summary, ensure_ascii=False), run_id),
            )

    def runs(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM runs ORDER BY started_at").fetchall()
        return [dict(r) for r in rows]


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (stale claims, temp files of dead writers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SqliteSentenceCache:
    """Sentence-level translation cache keyed by model key + sentence hash.

    News repeats datelines, agency credits and boilerplate; they are translated
    once per model version, across runs. Implements translators' SentenceCache.
    """

    def __init__(self, store: Store):
        self._store = store

    @staticmethod
    def _hash(sentence: str) -> str:
        return hashlib.sha256(sentence.encode()).hexdigest()

    def get_many(self, model_key: str, sources: list[str]) -> dict[str, str]:
        by_hash = {self._hash(s): s for s in sources}
        found: dict[str, str] = {}
        hashes = list(by_hash)
        with self._store._lock:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._store._conn.execute(
                    f"SELECT source_hash, translation FROM sentence_cache "
                    f"WHERE model_key = ? AND source_hash IN ({marks})",
                    [model_key, *chunk],
                )
                for source_hash, translation in rows:
                    found[by_hash[source_hash]] = translation
        return found

    def put_many(self, model_key: str, pairs: dict[str, str]) -> None:
        if not pairs:
            return
        with self._store.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO sentence_cache (model_key, source_hash, translation) "
                "VALUES (?, ?, ?)",
                [(model_key, self._hash(s), t) for s, t in pairs.items()],
            )


def open_store(settings) -> Store:
    """The store the settings name: PostgreSQL when `database_url` is set, else
    the SQLite file at `database`."""
    if settings.database_url:
        from newsflow.postgres import PostgresStore

        return PostgresStore(settings.database_url)
    return Store(settings.resolve(settings.database))
