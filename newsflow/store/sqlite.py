"""The article store on SQLite (WAL): the default, one file, one machine.

The queries are :class:`~newsflow.store.base.BaseStore`'s; this module holds
only what SQLite does its own way. Writes go through one connection guarded by
a lock: Prefect runs tasks in threads, and SQLite in WAL mode with
``busy_timeout`` lets other processes (a second `newsflow run`, the CLI) read
and wait for the write lock instead of failing. Every write transaction is
``BEGIN IMMEDIATE``: it takes the database's write lock up front, which also
serialises claims, runs and schema set-up between processes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsflow.errors import NewsflowError
from newsflow.store.base import SEARCH_COLUMNS, BaseStore


class Store(BaseStore):
    """SQLite article store. Use as a context manager or call :meth:`close`."""

    dialect = "sqlite"
    BYTE_ORDER = ""  # TEXT compares with BINARY: UTF-8 byte order, as sorted() orders str

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.RLock()
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
            self._open_schema()
        except (sqlite3.Error, OSError) as exc:
            if getattr(self, "_conn", None) is not None:
                self._conn.close()
            raise NewsflowError(f"{path}: cannot open the database: {' '.join(str(exc).split())}") from None
        except NewsflowError:
            self._conn.close()
            raise

    def _where(self) -> str:
        return str(self.path)

    # -- full-text search: FTS5, kept in step with `articles` by triggers ------------
    # articles_fts: words (porter stemming over unicode61: English and German words);
    # articles_trgm: trigrams of the title and original text (Chinese, any 3+ characters).
    # Both are external-content tables over articles' rowid: the text is stored once.
    SEARCH_SCHEMA = (
        "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(title, title_en, translation, "
        "original_text, content='articles', content_rowid='rowid', "
        "tokenize='porter unicode61 remove_diacritics 2')",
        "CREATE VIRTUAL TABLE IF NOT EXISTS articles_trgm USING fts5(title, original_text, "
        "content='articles', content_rowid='rowid', tokenize='trigram')",
        "CREATE TRIGGER IF NOT EXISTS articles_search_ai AFTER INSERT ON articles BEGIN "
        "INSERT INTO articles_fts(rowid, title, title_en, translation, original_text) "
        "VALUES (new.rowid, new.title, new.title_en, new.translation, new.original_text); "
        "INSERT INTO articles_trgm(rowid, title, original_text) "
        "VALUES (new.rowid, new.title, new.original_text); END",
        "CREATE TRIGGER IF NOT EXISTS articles_search_ad AFTER DELETE ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, title, title_en, translation, original_text) "
        "VALUES ('delete', old.rowid, old.title, old.title_en, old.translation, old.original_text); "
        "INSERT INTO articles_trgm(articles_trgm, rowid, title, original_text) "
        "VALUES ('delete', old.rowid, old.title, old.original_text); END",
        "CREATE TRIGGER IF NOT EXISTS articles_search_au AFTER UPDATE OF title, title_en, "
        "translation, original_text ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, title, title_en, translation, original_text) "
        "VALUES ('delete', old.rowid, old.title, old.title_en, old.translation, old.original_text); "
        "INSERT INTO articles_trgm(articles_trgm, rowid, title, original_text) "
        "VALUES ('delete', old.rowid, old.title, old.original_text); "
        "INSERT INTO articles_fts(rowid, title, title_en, translation, original_text) "
        "VALUES (new.rowid, new.title, new.title_en, new.translation, new.original_text); "
        "INSERT INTO articles_trgm(rowid, title, original_text) "
        "VALUES (new.rowid, new.title, new.original_text); END",
        # a database that had articles before these tables: index them (schema changes only)
        "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
        "INSERT INTO articles_trgm(articles_trgm) VALUES ('rebuild')",
    )

    @staticmethod
    def _fts_query(terms) -> str:
        """Every term as an FTS5 string, AND of them (a term of variants: OR of those)."""
        def one(t: str) -> str:
            return '"' + t.replace('"', '""') + '"'

        return " AND ".join(one(t) if isinstance(t, str) else "(" + " OR ".join(map(one, t)) + ")"
                            for t in terms)

    def search_words(self, query, terms, where, args, limit, offset):
        if not terms:
            return []
        # bm25: titles weigh 3x the body; snippet from whichever column matched best
        return self._query(
            f"SELECT {SEARCH_COLUMNS}, snippet(articles_fts, -1, '[', ']', '…', 24) AS snippet, "
            "bm25(articles_fts, 3.0, 3.0, 1.0, 1.0) AS rank FROM articles_fts "
            f"JOIN articles a ON a.rowid = articles_fts.rowid WHERE articles_fts MATCH ?{where} "
            "ORDER BY rank, a.id LIMIT ? OFFSET ?", [self._fts_query(terms), *args, limit, offset])

    def search_chars(self, terms, where, args, limit, offset):
        """Trigram index for terms of 3+ characters; LIKE when a term is shorter."""
        if not terms or any(len(v) < 3 for t in terms for v in t):
            return super().search_chars(terms, where, args, limit, offset)
        return self._query(
            f"SELECT {SEARCH_COLUMNS}, snippet(articles_trgm, -1, '[', ']', '…', 24) AS snippet, "
            "bm25(articles_trgm, 3.0, 1.0) AS rank FROM articles_trgm "
            f"JOIN articles a ON a.rowid = articles_trgm.rowid WHERE articles_trgm MATCH ?{where} "
            "ORDER BY rank, a.id LIMIT ? OFFSET ?", [self._fts_query(terms), *args, limit, offset])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (parameters are ``?``)."""
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

    def _clock(self, conn) -> float:
        return time.time()

    def _columns(self, conn, table: str) -> list[str]:
        return [r["name"] for r in conn.execute(f"PRAGMA table_info({table})")]
