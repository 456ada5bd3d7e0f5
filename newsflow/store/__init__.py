"""The article store, the single source of truth: SQLite (WAL) by default,
PostgreSQL when ``database_url`` is set.

* ``schema.py``: the one schema both dialects' tables come from, the row codec,
  the stale-lease rule, schema versions and in-place migration;
* ``base.py``: every query, written once;
* ``sqlite.py`` / ``postgres.py``: what each dialect does its own way.

``from newsflow.store import StoredArticle, Store, open_store`` keeps working
(``StoredArticle`` lives in :mod:`newsflow.article` with the other records).
"""

from __future__ import annotations

from newsflow.article import STATUSES, StoredArticle
from newsflow.store.base import BaseStore, SentenceCache
from newsflow.store.schema import SCHEMA_VERSION
from newsflow.store.sqlite import Store

__all__ = ["STATUSES", "SCHEMA_VERSION", "BaseStore", "SentenceCache", "Store", "StoredArticle", "open_store"]


def open_store(settings) -> BaseStore:
    """The store the settings name: PostgreSQL when `database_url` is set, else
    the SQLite file at `database`."""
    if settings.database_url:
        from newsflow.store.postgres import PostgresStore

        return PostgresStore(settings.database_url)
    return Store(settings.resolve(settings.database))
