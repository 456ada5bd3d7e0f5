"""Open the store so the reader can never write to it, and say clearly why it cannot be read.

* SQLite: the file is opened with a ``file:...?mode=ro`` URI plus ``PRAGMA query_only``: a
  missing file is reported (never created), and any write fails inside SQLite. In WAL mode
  SQLite may create the ``-wal``/``-shm`` side files next to the database (readers need the
  shared memory index); the database file itself is never written.
* PostgreSQL: the connection sets ``default_transaction_read_only=on``, so every statement
  runs in a read-only transaction.

The read-only store is the store's own class (all its read methods work unchanged); only
the connection differs. Failures become :class:`StoreUnavailable` with a title and a hint
for the page, never a traceback.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from newsflow.errors import NewsflowError

# How long a page waits for a store another process holds locked before it says so.
DEFAULT_BUSY_SECONDS = 3.0


class StoreUnavailable(NewsflowError):
    """The store cannot be read right now: missing, locked, unreachable or too old."""

    def __init__(self, title: str, detail: str, hint: str = ""):
        super().__init__(f"{title}: {detail}")
        self.title, self.detail, self.hint = title, detail, hint


def open_sqlite_read_only(path: Path, busy_seconds: float = DEFAULT_BUSY_SECONDS):
    """The SQLite store at ``path``, read-only. Raises StoreUnavailable when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise StoreUnavailable(
            "No store yet", f"there is no database at {path}",
            "Run `newsflow run` first (the reader never creates a store), or check `database` "
            "in config.yaml.")
    from newsflow.store.sqlite import Store as store_cls
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_seconds, check_same_thread=False,
                               isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise classify(exc, str(path)) from None
    # The store's own class without its __init__ (which creates and migrates the schema):
    # the same attributes, a read-only connection.
    store = store_cls.__new__(store_cls)
    store.path = path
    store._conn = conn
    store._lock = threading.RLock()
    store.read_only = True
    try:
        _check_schema(store, conn, str(path))
    except BaseException:
        conn.close()
        raise
    return store


def _check_schema(store, conn, where: str) -> None:
    """Refuse a database this newsflow cannot read (a newer schema); note the version. An
    older schema is read as it is (columns it lacks read as their defaults where the store
    allows, else the page says to run `newsflow run` once, which migrates it)."""
    read_version = getattr(store, "_read_version", None)
    if read_version is None:  # a store without schema versions
        return
    try:
        version, _digest = read_version(conn)
        store._check_version(version)
    except NewsflowError as exc:
        raise StoreUnavailable("The store is from another version", str(exc),
                               "Upgrade newsflow to read it.") from None
    except Exception as exc:
        if not is_database_error(exc):
            raise
        raise classify(exc, where) from None
    store.schema_version = version


def is_database_error(exc: BaseException) -> bool:
    """An error of the database driver (sqlite3 or psycopg), as opposed to a bug."""
    return isinstance(exc, sqlite3.Error) or type(exc).__module__.split(".")[0] == "psycopg"


def read_only_url(url: str) -> str:
    """The PostgreSQL URL with ``default_transaction_read_only=on`` added to its options."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    flag = "-c default_transaction_read_only=on"
    options = [v for k, v in pairs if k == "options"]
    rest = [(k, v) for k, v in pairs if k != "options"]
    merged = " ".join([*options, flag]).strip()
    # %20, not "+": libpq does not read "+" as a space
    return urlunsplit(parts._replace(query=urlencode([*rest, ("options", merged)], quote_via=quote)))


def open_postgres_read_only(url: str):
    """The PostgreSQL store at ``url``, every transaction read-only. Like SQLite, the
    store's own class without its __init__ (which creates and migrates the tables)."""
    from newsflow.store.postgres import PostgresStore, _connect, redact_url

    try:
        conn = _connect(read_only_url(url))
    except NewsflowError as exc:
        raise StoreUnavailable("The store cannot be opened", str(exc),
                               "Check `database_url` and that PostgreSQL is running.") from None
    store = PostgresStore.__new__(PostgresStore)
    store.url = url
    store._conn = conn
    store._lock = threading.RLock()
    store.read_only = True
    try:
        _check_schema(store, conn, f"database_url {redact_url(url)!r}")
    except BaseException:
        conn.close()
        raise
    return store


def open_read_only(settings, busy_seconds: float = DEFAULT_BUSY_SECONDS):
    """The store the settings name (PostgreSQL with ``database_url``, else SQLite), read-only."""
    if settings.database_url:
        return open_postgres_read_only(settings.database_url)
    return open_sqlite_read_only(settings.resolve(settings.database), busy_seconds)


def describe(settings) -> str:
    """Which store the settings name, without a password."""
    if settings.database_url:
        from newsflow.store.postgres import redact_url

        return redact_url(settings.database_url)
    return str(settings.resolve(settings.database))


def classify(exc: BaseException, where: str) -> StoreUnavailable:
    """A database error as the page should explain it."""
    if isinstance(exc, StoreUnavailable):
        return exc
    message = " ".join(str(exc).split()) or type(exc).__name__
    low = message.lower()
    if "locked" in low or "busy" in low:
        return StoreUnavailable(
            "The store is locked", f"{where}: {message}",
            "Another process holds the database locked (a writer in rollback-journal mode, or an "
            "exclusive lock). Reload in a moment; newsflow's own runs use WAL and never block "
            "readers.")
    if "no such table" in low or "no such column" in low or "does not exist" in low:
        return StoreUnavailable(
            "The store is from another version", f"{where}: {message}",
            "Run `newsflow run` once with this version of newsflow: it migrates the schema "
            "(the reader never writes).")
    if "unable to open" in low or "not a database" in low or "malformed" in low:
        return StoreUnavailable("The store cannot be opened", f"{where}: {message}",
                                "Check `database` in config.yaml.")
    return StoreUnavailable("The store cannot be read", f"{where}: {message}", "")
