"""The article store on PostgreSQL, for several workers on several machines.

Same tables and columns as the SQLite :class:`~newsflow.store.Store` (articles,
runs, claims, sentence_cache; JSON columns are JSON text, so a
:class:`~newsflow.store.StoredArticle` round-trips identically) and the same
public methods with the same meaning. ``open_store(settings)`` returns a
:class:`PostgresStore` when ``database_url`` is set.

Idempotency and concurrency, as in SQLite:

* articles are keyed by id and written with ``INSERT ... ON CONFLICT (id) DO
  UPDATE`` in one transaction per call (``first_run`` and ``created_at`` kept);
* claims are taken with ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, so two
  runs never own one article. Claim and release transactions also take one
  transaction-level advisory lock: SQLite's ``BEGIN IMMEDIATE`` serialises them
  the same way, and it keeps the stale-claim sweep (which deletes other runs'
  rows) from deadlocking with a concurrent claim. Claims are one short
  transaction per run, so the lock costs nothing measurable;
* a claim is stale when its lease ran out or when its process on this host is
  gone. Leases use the database server's clock, so workers on machines with
  skewed clocks agree on when a lease ran out. "This host" is
  ``socket.gethostname()``: every worker needs its own hostname (the default for
  containers and Kubernetes pods);
* sentence-cache and claim rows are written in key order, so concurrent writers
  of overlapping keys wait for each other instead of deadlocking.

Only this module imports psycopg (the ``scale`` extra).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsflow.errors import NewsflowError
from newsflow.store import (
    _JSON_FIELDS,
    STATUSES,
    StoredArticle,
    _row_to_article,
    now_iso,
    process_alive,
)

if TYPE_CHECKING:
    import psycopg

# Columns of `articles` besides the StoredArticle fields (the SQLite schema's too).
TIMESTAMP_COLUMNS = ("created_at", "updated_at")
ARTICLE_COLUMNS = tuple(f.name for f in fields(StoredArticle)) + TIMESTAMP_COLUMNS
# Columns an upsert never overwrites (as in Store.upsert_many).
_KEEP_ON_UPDATE = ("id", "created_at", "first_run")

# Keys for pg_advisory_xact_lock: "newsflow" schema set-up and claims.
_SCHEMA_LOCK = 0x6E6577_0001
_CLAIMS_LOCK = 0x6E6577_0002

_STATUS_LIST = ",".join(f"'{s}'" for s in STATUSES)

# The SQLite schema in PostgreSQL types: REAL (8 bytes in SQLite) is DOUBLE
# PRECISION here, JSON stays TEXT (byte-identical round trips; cast with ::jsonb
# to query it).
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS articles (
    id               TEXT PRIMARY KEY,
    source           TEXT NOT NULL,
    url              TEXT,
    published        TEXT,
    title            TEXT NOT NULL DEFAULT '',
    original_text    TEXT NOT NULL DEFAULT '',
    content_hash     TEXT NOT NULL,
    lang             TEXT NOT NULL DEFAULT 'und',
    lang_confidence  DOUBLE PRECISION NOT NULL DEFAULT 0,
    paragraph_langs  TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL CHECK (status IN ({_STATUS_LIST})),
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
    expires_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_run ON claims(run_id);
CREATE TABLE IF NOT EXISTS sentence_cache (
    model_key    TEXT NOT NULL,
    source_hash  TEXT NOT NULL,
    translation  TEXT NOT NULL,
    PRIMARY KEY (model_key, source_hash)
);
"""

_TABLES = ("articles", "runs", "claims", "sentence_cache")
_URL_SCHEMES = ("postgresql", "postgres")
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)([^@]*)(@)")


def redact_url(url: str) -> str:
    """The URL with its password (in the user part or the query) replaced by ***."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user_part, _, host_part = netloc.rpartition("@")
            netloc = f"{user_part.partition(':')[0]}:***@{host_part}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(k == "password" for k, _ in pairs):
                query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return _PASSWORD_IN_URL.sub(r"\1***\3", url)


def _one_line(text: str, secret: str | None) -> str:
    line = " ".join(str(text).split())
    return line.replace(secret, "***") if secret else line


def libpq_url(url: str) -> str:
    """Check that `url` is a PostgreSQL URL and return it as libpq takes it
    (a SQLAlchemy-style ``postgresql+driver://`` loses its ``+driver``)."""
    scheme, sep, rest = url.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if not sep or base not in _URL_SCHEMES:
        # not echoed unless it is a URL: a key=value string may hold a password
        shown = f" {redact_url(url)!r}" if sep else ""
        raise NewsflowError(f"database_url{shown}: not a PostgreSQL URL "
                            "(expected postgresql://user:password@host:5432/dbname)")
    return f"{base}://{rest}"


def _connect(url: str) -> psycopg.Connection:
    try:
        import psycopg
        from psycopg import conninfo
        from psycopg.rows import dict_row
    except ImportError:
        raise NewsflowError("database_url is set but psycopg is not installed "
                            "(uv sync --extra scale, or pip install 'psycopg[binary]')") from None
    shown = redact_url(url)
    url = libpq_url(url)
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise NewsflowError(f"database_url {shown!r}: invalid URL: "
                            f"{_one_line(exc, _password_of(url))}") from None
    secret = params.get("password")
    extra = {} if "connect_timeout" in params else {"connect_timeout": 10}
    try:
        return psycopg.connect(url, autocommit=True, row_factory=dict_row,
                               application_name="newsflow", **extra)
    except psycopg.Error as exc:
        raise NewsflowError(f"database_url {shown!r}: cannot connect: {_one_line(exc, secret)}") from None


def _password_of(url: str) -> str | None:
    found = _PASSWORD_IN_URL.search(url)
    return found.group(2) if found and found.group(2) else None


def _article_params(art: StoredArticle, stamp: str) -> dict:
    data = asdict(art)
    for key in _JSON_FIELDS:
        data[key] = json.dumps(data[key], ensure_ascii=False)
    data["created_at"] = stamp
    data["updated_at"] = stamp
    return data


_UPSERT = (
    f"INSERT INTO articles ({','.join(ARTICLE_COLUMNS)}) "
    f"VALUES ({','.join(f'%({c})s' for c in ARTICLE_COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ",".join(f"{c}=excluded.{c}" for c in ARTICLE_COLUMNS if c not in _KEEP_ON_UPDATE)
)


class PostgresStore:
    """PostgreSQL article store with :class:`~newsflow.store.Store`'s interface.
    Use as a context manager or call :meth:`close`.

    One connection per store, guarded by a lock like the SQLite store (Prefect
    runs tasks in threads; every task opens its own store)."""

    def __init__(self, url: str):
        self.url = url
        self._conn = _connect(url)
        self._lock = threading.RLock()
        try:
            self._create_tables()
        except Exception as exc:
            self._conn.close()
            import psycopg

            if isinstance(exc, psycopg.Error):
                raise NewsflowError(f"database_url {redact_url(url)!r}: cannot set up the tables: "
                                    f"{_one_line(exc, None)}") from None
            raise

    def _create_tables(self) -> None:
        # Every task opens a store: look first, so the usual case takes no lock.
        # Workers starting together on a new database serialise on the lock.
        check = "SELECT " + " AND ".join(f"to_regclass('{t}') IS NOT NULL" for t in _TABLES) + " AS ok"
        if self._conn.execute(check).fetchone()["ok"]:
            return
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            conn.execute(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """One transaction on the store's connection (parameters are ``%s``)."""
        with self._lock, self._conn.transaction():
            yield self._conn

    # -- articles ---------------------------------------------------------

    def get(self, article_id: str) -> StoredArticle | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM articles WHERE id = %s", (article_id,)).fetchone()
        return _row_to_article(row) if row else None

    def get_many(self, ids: Iterable[str]) -> dict[str, StoredArticle]:
        ids = list(ids)
        if not ids:
            return {}
        with self._lock:
            rows = self._conn.execute("SELECT * FROM articles WHERE id = ANY(%s)", (ids,)).fetchall()
        return {row["id"]: _row_to_article(row) for row in rows}

    def upsert_many(self, articles: Iterable[StoredArticle]) -> int:
        """Insert or update articles in one transaction; returns how many were written."""
        stamp = now_iso()
        rows = [_article_params(a, stamp) for a in articles]
        if not rows:
            return 0
        rows.sort(key=lambda r: r["id"])  # key order: concurrent writers cannot deadlock
        with self.transaction() as conn, conn.cursor() as cur:
            cur.executemany(_UPSERT, rows)
        return len(rows)

    def all(self, status: str | None = None, source: str | None = None) -> list[StoredArticle]:
        sql, args = "SELECT * FROM articles WHERE TRUE", []
        if status:
            sql, args = sql + " AND status = %s", [*args, status]
        if source:
            sql, args = sql + " AND source = %s", [*args, source]
        # COLLATE "C": byte order, as SQLite sorts, whatever the database's locale
        with self._lock:
            rows = self._conn.execute(sql + ' ORDER BY id COLLATE "C"', args).fetchall()
        return [_row_to_article(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT status, COUNT(*) AS n FROM articles GROUP BY status").fetchall()
        return {r["status"]: r["n"] for r in rows}

    def sentence_cache(self) -> PostgresSentenceCache:
        return PostgresSentenceCache(self)

    # -- claims -----------------------------------------------------------

    def claim(self, ids: Iterable[str], run_id: str, lease_seconds: float = 3600) -> set[str]:
        """Atomically take the articles no live run is working on; returns the
        ids this run now owns (see :meth:`newsflow.store.Store.claim`)."""
        ids = sorted(set(ids))
        host, pid = socket.gethostname(), os.getpid()
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CLAIMS_LOCK,))
            now = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS t").fetchone()["t"]
            candidates = conn.execute(
                "SELECT article_id, host, pid, expires_at FROM claims WHERE expires_at < %s OR host = %s",
                (now, host),
            ).fetchall()
            stale = [
                c["article_id"] for c in candidates
                if c["expires_at"] < now or (c["host"] == host and c["pid"] != pid and not process_alive(c["pid"]))
            ]
            if stale:
                conn.execute("DELETE FROM claims WHERE article_id = ANY(%s)", (stale,))
            if not ids:
                return set()
            rows = conn.execute(
                "INSERT INTO claims (article_id, run_id, host, pid, expires_at) "
                "SELECT i, %s, %s, %s, %s FROM unnest(%s::text[]) WITH ORDINALITY AS t(i, n) ORDER BY n "
                "ON CONFLICT (article_id) DO NOTHING RETURNING article_id",
                (run_id, host, pid, now + lease_seconds, ids),
            ).fetchall()
        return {r["article_id"] for r in rows}

    def release(self, run_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CLAIMS_LOCK,))
            conn.execute("DELETE FROM claims WHERE run_id = %s", (run_id,))

    # -- runs -------------------------------------------------------------

    def start_run(self, run_id: str) -> None:
        with self.transaction() as conn:
            # SQLite's INSERT OR REPLACE: a restarted run starts afresh
            conn.execute(
                "INSERT INTO runs (run_id, started_at, state) VALUES (%s, %s, 'running') "
                "ON CONFLICT (run_id) DO UPDATE SET started_at = excluded.started_at, "
                "state = excluded.state, finished_at = NULL, summary = NULL",
                (run_id, now_iso()),
            )

    def finish_run(self, run_id: str, state: str, summary: dict) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = %s, state = %s, summary = %s WHERE run_id = %s",
                (now_iso(), state, json.dumps(summary, ensure_ascii=False), run_id),
            )

    def runs(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute(
                'SELECT run_id, started_at, finished_at, state, summary FROM runs '
                'ORDER BY started_at COLLATE "C"').fetchall()
        return [dict(r) for r in rows]


class PostgresSentenceCache:
    """Sentence-level translation cache on PostgreSQL: the same rows and
    semantics as :class:`~newsflow.store.SqliteSentenceCache`."""

    def __init__(self, store: PostgresStore):
        self._store = store

    @staticmethod
    def _hash(sentence: str) -> str:
        return hashlib.sha256(sentence.encode()).hexdigest()

    def get_many(self, model_key: str, sources: list[str]) -> dict[str, str]:
        by_hash = {self._hash(s): s for s in sources}
        if not by_hash:
            return {}
        with self._store._lock:
            rows = self._store._conn.execute(
                "SELECT source_hash, translation FROM sentence_cache "
                "WHERE model_key = %s AND source_hash = ANY(%s)",
                (model_key, list(by_hash)),
            ).fetchall()
        return {by_hash[r["source_hash"]]: r["translation"] for r in rows}

    def put_many(self, model_key: str, pairs: dict[str, str]) -> None:
        if not pairs:
            return
        by_hash = sorted((self._hash(s), t) for s, t in pairs.items())
        with self._store.transaction() as conn:
            # SQLite's INSERT OR REPLACE, in key order (no deadlocks between writers)
            conn.execute(
                "INSERT INTO sentence_cache (model_key, source_hash, translation) "
                "SELECT %s, h, t FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(h, t, n) "
                "ORDER BY n "
                "ON CONFLICT (model_key, source_hash) DO UPDATE SET translation = excluded.translation",
                (model_key, [h for h, _ in by_hash], [t for _, t in by_hash]),
            )
