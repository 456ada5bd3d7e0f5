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
from newsflow.store.base import BaseStore


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
