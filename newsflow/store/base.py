"""The store's methods, written once for both dialects.

Articles are keyed by their stable id (source + item key) and carry a content
hash and the model version that translated them, so a re-run can tell what is
done (skip), what is pending (retry) and what changed (re-translate).

:class:`BaseStore` holds every query; they are plain SQL both SQLite (>= 3.35:
``ON CONFLICT``, ``RETURNING``) and PostgreSQL run, written with ``?``
placeholders. A dialect (``sqlite.py``, ``postgres.py``) supplies only what
differs, one hook per difference:

* ``_connect``-time set-up and its one-line errors (the dialect's ``__init__``);
* ``transaction()`` (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction);
* ``_sql(sql)``: the placeholder style (``?`` or ``%s``);
* ``_serialize(conn, key)``: claim/run/schema transactions serialise
  (SQLite: ``BEGIN IMMEDIATE`` already does; PostgreSQL: an advisory lock);
* ``_clock(conn)``: the lease clock (SQLite: this machine; PostgreSQL: the
  server's, so workers with skewed clocks agree when a lease ran out);
* ``_columns(conn, table)``: introspection, for migrations;
* ``BYTE_ORDER``: the collation that sorts ids by bytes, as ``sorted()`` does.

Rows written in one call are written in key order, so concurrent writers of
overlapping keys wait for each other instead of deadlocking.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta

from newsflow.article import StoredArticle
from newsflow.errors import NewsflowError
from newsflow.store.schema import (
    ARTICLE_COLUMNS,
    KEEP_ON_UPDATE,
    SCHEMA_DIGEST,
    SCHEMA_VERSION,
    TABLES,
    article_row,
    lease_lost,
    legacy_run_expiry,
    now_iso,
    plan_sync,
    row_article,
    sentence_hash,
)

# Keys of the serialising lock (PostgreSQL advisory locks; "new" + n).
SCHEMA_LOCK = 0x6E6577_0001
CLAIMS_LOCK = 0x6E6577_0002
CACHE_PRUNE_LOCK = 0x6E6577_0003

SEARCH_COLUMNS = ("a.id, a.title, a.title_en, a.lang, a.source, a.url, a.published, "
                  "a.story_id")


def like_pattern(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere (its % _ and \\ taken literally)."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_CHUNK = 500  # ids per IN (...) list: well under both dialects' parameter limits

_UPSERT = (
    f"INSERT INTO articles ({','.join(ARTICLE_COLUMNS)}) VALUES ({','.join('?' * len(ARTICLE_COLUMNS))}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ",".join(f"{c}=excluded.{c}" for c in ARTICLE_COLUMNS if c not in KEEP_ON_UPDATE)
)


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _marks(n: int, width: int = 1) -> str:
    one = "?" if width == 1 else "(" + ",".join("?" * width) + ")"
    return ",".join([one] * n)


class BaseStore:
    """The article store's interface and queries; see the module docstring.
    Use as a context manager or call :meth:`close`.

    One connection per store, guarded by a lock (Prefect runs tasks in threads;
    every task opens its own store)."""

    dialect = ""
    BYTE_ORDER = ""
    schema_version: int = 0
    _conn = None
    _lock: threading.RLock

    # -- dialect hooks ------------------------------------------------------------

    def transaction(self) -> AbstractContextManager:  # pragma: no cover - dialects override
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def _serialize(self, conn, key: int) -> None:
        pass

    def _clock(self, conn) -> float:  # pragma: no cover - dialects override
        raise NotImplementedError

    def _columns(self, conn, table: str) -> list[str]:  # pragma: no cover - dialects override
        raise NotImplementedError

    def _where(self) -> str:  # pragma: no cover - dialects override
        raise NotImplementedError

    # -- full-text search (newsflow/search.py; one hook per dialect difference) ----------

    SEARCH_SCHEMA: tuple[str, ...] = ()  # the dialect's search tables/indexes/triggers

    def _schema_digest(self) -> str:
        """The tables' digest, plus the dialect's search schema (a change to either migrates)."""
        if not self.SEARCH_SCHEMA:
            return SCHEMA_DIGEST
        extra = hashlib.sha256("\n".join(self.SEARCH_SCHEMA).encode()).hexdigest()[:8]
        return f"{SCHEMA_DIGEST}+{extra}"

    def _search_schema(self, conn) -> None:
        """Create the search structures (idempotent) and index existing rows."""
        for statement in self.SEARCH_SCHEMA:
            conn.execute(statement)

    def search_words(self, query: str, terms: list[str], where: str, args: list,
                     limit: int, offset: int) -> list:  # pragma: no cover - dialects override
        """Rows (id, title, title_en, lang, source, url, published, story_id, snippet, rank)
        whose English text, original text or title hold the words; best first."""
        raise NotImplementedError

    def search_chars(self, terms: list[tuple[str, ...]], where: str, args: list, limit: int,
                     offset: int) -> list:
        """Rows (as :meth:`search_words`, snippet None) whose title or original text hold
        every term (one of its variants, e.g. Simplified and Traditional) as a substring:
        the LIKE path for Chinese; a dialect may use an index instead."""
        one = "(a.title LIKE ? ESCAPE '\\' OR a.original_text LIKE ? ESCAPE '\\')"
        conds = " AND ".join("(" + " OR ".join([one] * len(t)) + ")" for t in terms)
        likes = [p for t in terms for v in t for p in (like_pattern(v),) * 2]
        return self._query(f"SELECT {SEARCH_COLUMNS}, NULL AS snippet, 0 AS rank FROM articles a "
                           f"WHERE {conds}{where} ORDER BY a.published DESC, a.id {self.BYTE_ORDER} "
                           "LIMIT ? OFFSET ?", [*likes, *args, limit, offset])

    # -- plumbing -----------------------------------------------------------------

    def _exec(self, conn, sql: str, params=()):
        return conn.execute(self._sql(sql), params)

    def _query(self, sql: str, params=()) -> list:
        with self._lock:
            return self._exec(self._conn, sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------

    def _read_version(self, conn) -> tuple[int, str | None]:
        """(schema_version, schema_digest): (0, None) on an empty database, (1, None)
        on one made before the meta table existed."""
        if not self._columns(conn, "meta"):
            return (1 if self._columns(conn, "articles") else 0), None
        rows = self._exec(conn, "SELECT key, value FROM meta WHERE key IN ('schema_version', 'schema_digest')")
        meta = {r["key"]: r["value"] for r in rows.fetchall()}
        return int(meta.get("schema_version", 1)), meta.get("schema_digest")

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise NewsflowError(f"{self._where()}: the database has schema version {version}, newer than "
                                f"this newsflow's ({SCHEMA_VERSION}); upgrade newsflow to use it")

    def _open_schema(self) -> None:
        """Create or migrate the schema in place (see newsflow/store/schema.py).
        Every task opens a store: look first, so the usual case takes no lock."""
        want = self._schema_digest()
        with self._lock:
            version, digest = self._read_version(self._conn)
        self._check_version(version)
        if digest != want:
            with self.transaction() as conn:
                self._serialize(conn, SCHEMA_LOCK)
                version, digest = self._read_version(conn)  # another worker may have done it
                self._check_version(version)
                if digest != want:
                    existing = {t.name: self._columns(conn, t.name) for t in TABLES}
                    for statement in plan_sync(existing, self.dialect):
                        conn.execute(statement)
                    self._search_schema(conn)
                    self._exec(conn, "INSERT INTO meta (key, value) VALUES (?, ?), (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                               ("schema_version", str(SCHEMA_VERSION), "schema_digest", want))
        self.schema_version = SCHEMA_VERSION

    # -- articles -----------------------------------------------------------------

    def get(self, article_id: str) -> StoredArticle | None:
        rows = self._query("SELECT * FROM articles WHERE id = ?", (article_id,))
        return row_article(rows[0]) if rows else None

    def get_many(self, ids: Iterable[str]) -> dict[str, StoredArticle]:
        out: dict[str, StoredArticle] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            for row in self._query(f"SELECT * FROM articles WHERE id IN ({_marks(len(chunk))})", chunk):
                out[row["id"]] = row_article(row)
        return out

    def get_states(self, ids: Iterable[str]) -> dict[str, dict]:
        """What planning needs of ``ids`` (id, content_hash, status, lang, lang_confidence,
        paragraph_langs, model_version), without the texts: a run skips the articles it
        already finished without loading them (runcore, ``newsflow.work.light_states``)."""
        out: dict[str, dict] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            for row in self._query("SELECT id, content_hash, status, lang, lang_confidence, paragraph_langs, "
                                   f"model_version FROM articles WHERE id IN ({_marks(len(chunk))})", chunk):
                state = {k: row[k] for k in ("id", "content_hash", "status", "lang", "lang_confidence",
                                             "paragraph_langs", "model_version")}
                state["paragraph_langs"] = json.loads(state["paragraph_langs"] or "[]")
                out[row["id"]] = state
        return out

    def upsert_many(self, articles: Iterable[StoredArticle]) -> int:
        """Insert or update articles in one transaction (``first_run`` and
        ``created_at`` kept); returns how many were written."""
        stamp = now_iso()
        rows = sorted((article_row(a, stamp) for a in articles), key=lambda r: r[0])
        if not rows:
            return 0
        with self.transaction() as conn:
            conn.cursor().executemany(self._sql(_UPSERT), rows)
        return len(rows)

    @staticmethod
    def _filters(status: str | None, source: str | None) -> tuple[str, list]:
        sql, args = "", []
        if status:
            sql, args = sql + " AND status = ?", [*args, status]
        if source:
            sql, args = sql + " AND source = ?", [*args, source]
        return sql, args

    def all(self, status: str | None = None, source: str | None = None) -> list[StoredArticle]:
        """Every article (optionally of one status / source), by id in byte order."""
        where, args = self._filters(status, source)
        rows = self._query(f"SELECT * FROM articles WHERE 1=1{where} ORDER BY id {self.BYTE_ORDER}", args)
        return [row_article(r) for r in rows]

    def iter_articles(self, status: str | None = None, source: str | None = None,
                      batch: int = 500) -> Iterator[StoredArticle]:
        """The articles of :meth:`all`, ``batch`` rows per query (keyset paging on
        the primary key: memory stays at one batch, each query uses the index).
        Rows inserted meanwhile behind the last id read are not seen; none is seen
        twice. The order is the database's id order (byte order in SQLite and in a
        C-locale PostgreSQL database)."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        where, args = self._filters(status, source)
        last: str | None = None
        while True:
            after = "" if last is None else " AND id > ?"
            rows = self._query(f"SELECT * FROM articles WHERE 1=1{where}{after} ORDER BY id LIMIT ?",
                               [*args, *([] if last is None else [last]), batch])
            for row in rows:
                yield row_article(row)
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    def review_queue(self, limit: int = 50, offset: int = 0) -> list[StoredArticle]:
        """Articles flagged ``needs_review``, the most recently written first."""
        rows = self._query("SELECT * FROM articles WHERE needs_review "
                           f"ORDER BY updated_at DESC, id {self.BYTE_ORDER} LIMIT ? OFFSET ?",
                           (int(limit), int(offset)))
        return [row_article(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._query("SELECT status, COUNT(*) AS n FROM articles GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def sentence_cache(self) -> SentenceCache:
        return SentenceCache(self)

    # -- claims -------------------------------------------------------------------

    def claim(self, ids: Iterable[str], run_id: str, lease_seconds: float = 3600) -> set[str]:
        """Atomically take the articles no live run is working on; returns the ids
        this run now owns. Two runs over the same articles never both translate
        one. Stale claims (:func:`~newsflow.store.schema.lease_lost`: lease ran
        out, or the process on this host is gone) are taken over, so work is never
        stuck behind a killed run. Claims the run already holds are its own again."""
        ids = sorted(set(ids))
        host, pid = socket.gethostname(), os.getpid()
        owned: set[str] = set()
        with self.transaction() as conn:
            self._serialize(conn, CLAIMS_LOCK)
            now = self._clock(conn)
            candidates = self._exec(conn, "SELECT article_id, host, pid, expires_at FROM claims "
                                          "WHERE expires_at < ? OR host = ?", (now, host)).fetchall()
            stale = sorted(c["article_id"] for c in candidates
                           if lease_lost(c["host"], c["pid"], c["expires_at"], now=now, my_host=host, my_pid=pid))
            for chunk in _chunks(stale):
                self._exec(conn, f"DELETE FROM claims WHERE article_id IN ({_marks(len(chunk))})", chunk)
            for chunk in _chunks(ids, 200):
                params = [v for i in chunk for v in (i, run_id, host, pid, now + lease_seconds)]
                # a claim this run already holds (a chunk run again inside the run) is its own:
                # taken again, with the new lease; another run's is left alone
                rows = self._exec(conn, "INSERT INTO claims (article_id, run_id, host, pid, expires_at) "
                                        f"VALUES {_marks(len(chunk), 5)} "
                                        "ON CONFLICT (article_id) DO UPDATE SET host = excluded.host, "
                                        "pid = excluded.pid, expires_at = excluded.expires_at "
                                        "WHERE claims.run_id = excluded.run_id RETURNING article_id", params)
                owned.update(r["article_id"] for r in rows.fetchall())
        return owned

    def release(self, run_id: str) -> None:
        with self.transaction() as conn:
            self._serialize(conn, CLAIMS_LOCK)
            self._exec(conn, "DELETE FROM claims WHERE run_id = ?", (run_id,))

    def renew(self, run_id: str, lease_seconds: float = 3600) -> int:
        """Extend the leases of a live run: its claims and its `runs` row expire
        ``lease_seconds`` from now. Returns how many claims were extended (claims
        another run took over are not the run's any more)."""
        with self.transaction() as conn:
            self._serialize(conn, CLAIMS_LOCK)
            expires = self._clock(conn) + lease_seconds
            n = self._exec(conn, "UPDATE claims SET expires_at = ? WHERE run_id = ?", (expires, run_id)).rowcount
            self._exec(conn, "UPDATE runs SET heartbeat_at = ?, lease_expires = ? "
                             "WHERE run_id = ? AND state = 'running'", (now_iso(), expires, run_id))
        return n

    # -- runs ---------------------------------------------------------------------

    def start_run(self, run_id: str, lease_seconds: float = 3600) -> None:
        """Record a run as `running` on this host and process, its lease ending
        ``lease_seconds`` from now (a restarted run id starts afresh)."""
        with self.transaction() as conn:
            self._serialize(conn, CLAIMS_LOCK)
            stamp = now_iso()
            self._exec(conn,
                       "INSERT INTO runs (run_id, started_at, state, host, pid, heartbeat_at, lease_expires) "
                       "VALUES (?, ?, 'running', ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
                       "started_at = excluded.started_at, state = excluded.state, finished_at = NULL, "
                       "summary = NULL, host = excluded.host, pid = excluded.pid, "
                       "heartbeat_at = excluded.heartbeat_at, lease_expires = excluded.lease_expires",
                       (run_id, stamp, socket.gethostname(), os.getpid(), stamp,
                        self._clock(conn) + lease_seconds))

    def finish_run(self, run_id: str, state: str, summary: dict) -> None:
        with self.transaction() as conn:
            self._exec(conn, "UPDATE runs SET finished_at = ?, state = ?, summary = ? WHERE run_id = ?",
                       (now_iso(), state, json.dumps(summary, ensure_ascii=False), run_id))

    def mark_crashed_runs(self) -> list[str]:
        """Runs left `running` whose process on this host is gone, or whose lease
        ran out (:func:`~newsflow.store.schema.lease_lost`), become `crashed`
        (``finished_at`` set, their claims given back). Returns their ids. A row
        from before schema version 2 (no lease) counts as lost an hour after it
        started. Called at the start of every run."""
        host, pid = socket.gethostname(), os.getpid()
        with self.transaction() as conn:
            self._serialize(conn, CLAIMS_LOCK)
            now = self._clock(conn)
            running = self._exec(conn, "SELECT run_id, started_at, host, pid, lease_expires FROM runs "
                                       "WHERE state = 'running'").fetchall()
            dead = sorted(
                r["run_id"] for r in running
                if lease_lost(r["host"], r["pid"],
                              r["lease_expires"] if r["host"] is not None else legacy_run_expiry(r["started_at"]),
                              now=now, my_host=host, my_pid=pid))
            stamp = now_iso()
            for run_id in dead:
                self._exec(conn, "UPDATE runs SET state = 'crashed', finished_at = ? "
                                 "WHERE run_id = ? AND state = 'running'", (stamp, run_id))
                self._exec(conn, "DELETE FROM claims WHERE run_id = ?", (run_id,))
        return dead

    def runs(self) -> list[dict]:
        rows = self._query(f"SELECT * FROM runs ORDER BY started_at {self.BYTE_ORDER}, run_id {self.BYTE_ORDER}")
        return [dict(r) for r in rows]

    # -- per-source state (feed validators) ---------------------------------------

    def get_source_state(self, key: str) -> dict | None:
        rows = self._query("SELECT state FROM source_state WHERE key = ?", (key,))
        return json.loads(rows[0]["state"]) if rows else None

    def put_source_state(self, key: str, state: dict) -> None:
        """Replace the JSON state kept for ``key`` (a source name or URL)."""
        if not isinstance(state, dict):
            raise TypeError(f"source state for {key!r} must be a dict, not {type(state).__name__}")
        with self.transaction() as conn:
            self._exec(conn, "INSERT INTO source_state (key, state, updated_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                       (key, json.dumps(state, ensure_ascii=False, sort_keys=True), now_iso()))


class SentenceCache:
    """Sentence-level translation cache keyed by model key + sentence hash.

    News repeats datelines, agency credits and boilerplate; they are translated
    once per model version, across runs. Implements translators' SentenceCache.
    Each entry keeps the day it was written (``written_on``), so that :meth:`prune` can
    drop old entries and the table does not grow for as long as a deployment runs. Reads
    never write: a sentence still met after its entry was pruned is translated once more
    and written again (one sentence per pruning period), and a read path that writes would
    take write locks in the middle of a chunk's translation.
    """

    def __init__(self, store: BaseStore, today=None):
        self._store = store
        self._today = today or _utc_today

    def get_many(self, model_key: str, sources: list[str]) -> dict[str, str]:
        by_hash = {sentence_hash(s): s for s in sources}
        found: dict[str, str] = {}
        for chunk in _chunks(list(by_hash)):
            rows = self._store._query("SELECT source_hash, translation FROM sentence_cache "
                                      f"WHERE model_key = ? AND source_hash IN ({_marks(len(chunk))})",
                                      [model_key, *chunk])
            for r in rows:
                found[by_hash[r["source_hash"]]] = r["translation"]
        return found

    def put_many(self, model_key: str, pairs: dict[str, str]) -> None:
        """Store translations (an existing entry is replaced), in key order."""
        rows = sorted((sentence_hash(s), t) for s, t in pairs.items())
        if not rows:
            return
        today = self._today()
        with self._store.transaction() as conn:
            for chunk in _chunks(rows, 250):
                self._store._exec(conn, "INSERT INTO sentence_cache (model_key, source_hash, translation, written_on) "
                                        f"VALUES {_marks(len(chunk), 4)} ON CONFLICT (model_key, source_hash) "
                                        "DO UPDATE SET translation = excluded.translation, written_on = excluded.written_on",
                                  [v for h, t in chunk for v in (model_key, h, t, today)])

    def prune(self, days: int) -> int:
        """Delete the entries written more than ``days`` days ago; returns how many. Entries
        from before ``written_on`` existed count as written on the day of the first prune.
        Runs at most once a day per database (the day is kept in ``meta``)."""
        today = self._today()
        cutoff = (date.fromisoformat(today) - timedelta(days=days)).isoformat()
        with self._store.transaction() as conn:
            self._store._serialize(conn, CACHE_PRUNE_LOCK)
            done = self._store._exec(conn, "SELECT value FROM meta WHERE key = 'sentence_cache_pruned_on'")
            row = done.fetchone()
            if row is not None and row["value"] >= today:
                return 0
            self._store._exec(conn, "UPDATE sentence_cache SET written_on = ? WHERE written_on IS NULL", (today,))
            deleted = self._store._exec(conn, "DELETE FROM sentence_cache WHERE written_on < ?", (cutoff,)).rowcount
            self._store._exec(conn, "INSERT INTO meta (key, value) VALUES ('sentence_cache_pruned_on', ?) "
                                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (today,))
        return deleted


def _utc_today() -> str:
    return datetime.now(UTC).date().isoformat()
