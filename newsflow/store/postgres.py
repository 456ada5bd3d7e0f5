"""The article store on PostgreSQL, for several workers on several machines.

The same tables (from :mod:`newsflow.store.schema`), queries
(:class:`~newsflow.store.base.BaseStore`) and public methods as the SQLite
:class:`~newsflow.store.sqlite.Store`; JSON columns are JSON text, so a
:class:`~newsflow.article.StoredArticle` round-trips identically.
``open_store(settings)`` returns a :class:`PostgresStore` when ``database_url``
is set. What this module does its own way:

* placeholders are ``%s`` (the shared queries are written with ``?``);
* claim, release, renew, run and schema transactions take one
  transaction-level advisory lock: SQLite's ``BEGIN IMMEDIATE`` serialises them
  the same way, and it keeps the stale-claim sweep (which deletes other runs'
  rows) from deadlocking with a concurrent claim. They are short, so the lock
  costs nothing measurable;
* leases use the database server's clock, so workers on machines with skewed
  clocks agree on when a lease ran out. "This host" (a claim or run whose
  process is gone) is ``socket.gethostname()``: every worker needs its own
  hostname (the default for containers and Kubernetes pods);
* ids sort with ``COLLATE "C"`` (byte order, as SQLite), whatever the locale.

Only this module imports psycopg (the ``scale`` extra).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsflow.errors import NewsflowError
from newsflow.store.base import SEARCH_COLUMNS, BaseStore

if TYPE_CHECKING:
    import psycopg

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


@functools.lru_cache(maxsize=512)
def _placeholders(sql: str) -> str:
    """The shared ``?`` queries in psycopg's style (they hold no literal ? or %)."""
    return sql.replace("?", "%s")


class PostgresStore(BaseStore):
    """PostgreSQL article store with :class:`~newsflow.store.sqlite.Store`'s interface.
    Use as a context manager or call :meth:`close`."""

    dialect = "postgres"
    BYTE_ORDER = 'COLLATE "C"'

    def __init__(self, url: str):
        self.url = url
        self._conn = _connect(url)
        self._lock = threading.RLock()
        try:
            self._open_schema()
        except Exception as exc:
            self._conn.close()
            import psycopg

            if isinstance(exc, psycopg.Error):
                raise NewsflowError(f"database_url {redact_url(url)!r}: cannot set up the tables: "
                                    f"{_one_line(exc, None)}") from None
            raise

    def _where(self) -> str:
        return f"database_url {redact_url(self.url)!r}"

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """One transaction on the store's connection (parameters are ``%s``)."""
        with self._lock, self._conn.transaction():
            yield self._conn

    def _sql(self, sql: str) -> str:
        return _placeholders(sql)

    # -- full-text search: expression indexes, always in step with the rows ----------
    # English text with English stemming; title + original text with the 'simple'
    # configuration (German words as written, lower-cased). Chinese goes through
    # search_chars (LIKE), sped up by pg_trgm's GIN index where the extension is there.
    _EN_TEXT = "coalesce({p}title_en, '') || ' ' || coalesce({p}translation, '')"
    _ORIG_TEXT = "coalesce({p}title, '') || ' ' || coalesce({p}original_text, '')"
    _EN = "to_tsvector('english', " + _EN_TEXT + ")"
    _ORIG = "to_tsvector('simple', " + _ORIG_TEXT + ")"
    SEARCH_SCHEMA = (
        f"CREATE INDEX IF NOT EXISTS articles_search_en ON articles USING gin (({_EN.format(p='')}))",
        f"CREATE INDEX IF NOT EXISTS articles_search_orig ON articles USING gin (({_ORIG.format(p='')}))",
    )
    _TRGM = (
        "CREATE INDEX IF NOT EXISTS articles_trgm_title ON articles USING gin (title gin_trgm_ops)",
        "CREATE INDEX IF NOT EXISTS articles_trgm_text ON articles USING gin "
        "(original_text gin_trgm_ops)",
    )

    def _search_schema(self, conn) -> None:
        import psycopg

        super()._search_schema(conn)
        try:  # pg_trgm is a trusted extension (PostgreSQL 13+) but may not be installed
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                for statement in self._TRGM:
                    conn.execute(statement)
        except psycopg.Error:
            pass  # Chinese queries then scan with LIKE

    def search_words(self, query, terms, where, args, limit, offset):
        if not query.strip():
            return []
        en, orig = self._EN.format(p="a."), self._ORIG.format(p="a.")
        opts = "StartSel=[, StopSel=], MaxWords=30, MinWords=12, MaxFragments=1, FragmentDelimiter=…"
        return self._query(
            f"SELECT {SEARCH_COLUMNS}, CASE WHEN {en} @@ q.e THEN ts_headline('english', "
            f"{self._EN_TEXT.format(p='a.')}, q.e, '{opts}') ELSE ts_headline('simple', "
            f"{self._ORIG_TEXT.format(p='a.')}, q.s, '{opts}') END AS snippet, "
            f"ts_rank({en}, q.e) + ts_rank({orig}, q.s) AS rank "
            "FROM articles a, (SELECT websearch_to_tsquery('english', ?) AS e, "
            "websearch_to_tsquery('simple', ?) AS s) q "
            f"WHERE ({en} @@ q.e OR {orig} @@ q.s){where} "
            f"ORDER BY rank DESC, a.id {self.BYTE_ORDER} LIMIT ? OFFSET ?",
            [query, query, *args, limit, offset])

    def _serialize(self, conn, key: int) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    def _clock(self, conn) -> float:
        return conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS t").fetchone()["t"]

    def _columns(self, conn, table: str) -> list[str]:
        # pg_attribute, not information_schema (~20 ms a query): every task opens a store
        rows = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (table,))
        return [r["attname"] for r in rows.fetchall()]
