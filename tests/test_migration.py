"""Databases made by the schema before schema_version (v1, copied verbatim into
tests/data/store/) open and are migrated in place, on both dialects; a newer
database is refused in one line; an up-to-date one opens without writing."""
# ruff: noqa: F811 - the fixtures are imported from tests/support/postgres.py

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from newsflow.errors import NewsflowError
from newsflow.store import SCHEMA_VERSION, Store, StoredArticle
from newsflow.store.schema import Column, Table, plan_sync, schema_sql
from tests.support.postgres import pg_database_url, postgres_url  # noqa: F401
from tests.support.stores import expected_layout, postgres_layout, sqlite_layout

DATA = Path(__file__).parent / "data" / "store"

V1_ARTICLE = {
    "id": "de-nachrichten:0011223344556677", "source": "de-nachrichten", "url": "https://example.org/a",
    "published": "2025-03-01T08:00:00+00:00", "title": "Lawrow in Berlin", "original_text": "Erster.\n\nZweiter.",
    "content_hash": "c" * 64, "lang": "de", "lang_confidence": 0.99, "paragraph_langs": '["de", "de"]',
    "status": "translated", "reason": None, "title_en": "Lavrov in Berlin", "translation": "First.\n\nSecond.",
    "raw_translation": "First.\n\nSecond.", "model_id": "translate-de_en", "model_version": "1.0@abc",
    "name_findings": '[{"entity": "lavrov", "status": "ok"}]', "name_candidates": "[]",
    "truncated_sentences": 0, "attempts": 1, "first_run": "run-1", "last_run": "run-1",
    "created_at": "2025-03-01T09:00:00+00:00", "updated_at": "2025-03-01T09:00:00+00:00",
}


def v1_script(dialect: str) -> str:
    return (DATA / f"schema_v1_{dialect}.sql").read_text()


def fill_v1(conn, mark: str) -> None:
    """Rows as today's code writes them (``mark`` is the placeholder)."""
    cols = list(V1_ARTICLE)
    conn.execute(f"INSERT INTO articles ({','.join(cols)}) VALUES ({','.join([mark] * len(cols))})",
                 [V1_ARTICLE[c] for c in cols])
    conn.execute(f"INSERT INTO runs VALUES ({mark}, {mark}, NULL, 'running', NULL)",
                 ("old-run", "2025-03-01T09:00:00+00:00"))
    conn.execute(f"INSERT INTO runs VALUES ({mark}, {mark}, {mark}, 'completed', '{{}}')",
                 ("done-run", "2025-03-01T08:00:00+00:00", "2025-03-01T08:01:00+00:00"))
    conn.execute(f"INSERT INTO claims VALUES ({mark}, 'old-run', 'elsewhere', 1, 9e12)", (V1_ARTICLE["id"],))
    conn.execute(f"INSERT INTO sentence_cache VALUES ('de-en@1', {mark}, 'Hello.')", ("h" * 64,))


def check_migrated(store) -> None:
    assert store.schema_version == SCHEMA_VERSION
    got = store.get(V1_ARTICLE["id"])
    assert got.translation == "First.\n\nSecond." and got.name_findings == [{"entity": "lavrov", "status": "ok"}]
    assert got.paragraph_langs == ["de", "de"] and got.first_run == "run-1"
    # the new fields read as their defaults
    assert (got.glossary_digest, got.needs_review, got.quality_flags, got.story_id) == (None, False, [], None)
    # and can be written
    got.needs_review, got.quality_flags = True, [{"paragraph": 1, "sentence": 0, "kind": "k", "detail": "d"}]
    got.glossary_digest, got.fetch_note = "g" * 64, "full text unavailable: HTTP 404"
    store.upsert_many([got])
    assert store.get(got.id) == got
    assert [a.id for a in store.review_queue()] == [got.id]
    assert store.sentence_cache().get_many("de-en@1", []) == {}
    assert store.claim([got.id], "new-run") == set()  # the old claim is still held
    # the old `running` row has no lease: it started long ago, so it crashed
    assert store.mark_crashed_runs() == ["old-run"]
    states = {r["run_id"]: r["state"] for r in store.runs()}
    assert states == {"old-run": "crashed", "done-run": "completed"}
    assert store.claim([got.id], "new-run") == {got.id}  # the crashed run's claim was given back


def test_a_sqlite_database_of_schema_v1_opens_and_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(v1_script("sqlite"))
    fill_v1(conn, "?")
    conn.commit()
    conn.close()

    with Store(path) as store:
        check_migrated(store)
        assert sqlite_layout(store._conn) == expected_layout()  # same as a fresh database, column order too
        meta = dict(store._conn.execute("SELECT key, value FROM meta").fetchall())
        assert meta["schema_version"] == str(SCHEMA_VERSION)
    with Store(tmp_path / "fresh.db") as fresh:
        assert sqlite_layout(fresh._conn) == expected_layout()


@pytest.mark.postgres
def test_a_postgres_database_of_schema_v1_opens_and_is_migrated(pg_database_url):
    import psycopg

    from newsflow.store.postgres import PostgresStore

    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        conn.execute(v1_script("postgres"))
        with conn.transaction():
            fill_v1(conn, "%s")
    with PostgresStore(pg_database_url) as store:
        check_migrated(store)
        assert postgres_layout(store._conn) == expected_layout()


@pytest.mark.postgres
def test_workers_opening_a_v1_postgres_database_together_migrate_it_once(pg_database_url):
    import psycopg

    from newsflow.store.postgres import PostgresStore

    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        conn.execute(v1_script("postgres"))
    errors, versions = [], []

    def open_one():
        try:
            with PostgresStore(pg_database_url) as store:
                versions.append(store.schema_version)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and versions == [SCHEMA_VERSION] * 6


def test_a_newer_database_is_refused_in_one_line(tmp_path):
    path = tmp_path / "db.sqlite"
    with Store(path) as store:
        store._conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(NewsflowError) as info:
        Store(path)
    message = str(info.value)
    assert "schema version 99" in message and str(path) in message and "\n" not in message


def test_an_up_to_date_database_opens_without_taking_the_write_lock(tmp_path):
    """Every task opens a store: the usual open only reads. With another process
    holding the write lock it still opens at once (a migration would wait 30 s)."""
    path = tmp_path / "db.sqlite"
    Store(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with Store(path) as store:
            assert store.schema_version == SCHEMA_VERSION
            store._conn.execute("PRAGMA busy_timeout = 100")
            with pytest.raises(NewsflowError, match="cannot write"):  # writes do wait for the lock
                store.upsert_many([StoredArticle(id="a", source="s", content_hash="h", status="pending")])
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_plan_sync_adds_only_what_is_missing():
    v1_articles = [line.split()[0] for line in v1_script("sqlite").split("CREATE TABLE IF NOT EXISTS articles (")[1]
                   .split(");")[0].strip().splitlines()]
    plan = plan_sync({"articles": v1_articles, "sentence_cache": ["model_key", "source_hash", "translation"]},
                     "sqlite")
    added = [s.split("ADD COLUMN ")[1].split()[0] for s in plan if "ADD COLUMN" in s]
    # the contract's v2 fields (later versions may add more after them)
    assert added[:10] == ["glossary_digest", "retranslate_error", "retranslate_failed_at", "needs_review",
                          "quality_flags", "story_id", "fetched_from", "fetch_note", "author", "source_updated"]
    assert "ALTER TABLE articles ADD COLUMN needs_review INTEGER NOT NULL DEFAULT FALSE" in plan
    created = {s.split()[5] for s in plan if s.startswith("CREATE TABLE")}
    assert {"claims", "meta", "runs", "source_state", "stories", "story_keys", "story_members"} <= created
    assert not {"articles", "sentence_cache"} & created
    assert not any("sentence_cache (" in s for s in plan if s.startswith("CREATE TABLE"))
    # a fresh database: every table and index, the same statements but for the types
    lite, pg = schema_sql("sqlite"), schema_sql("postgres")
    assert len(lite) == len(pg) and "lang_confidence DOUBLE PRECISION NOT NULL DEFAULT 0" in pg[0]


def test_a_not_null_column_without_default_cannot_be_migrated(monkeypatch):
    from newsflow.store import schema

    bad = Table("t", (Column("a", "text", null=False), Column("b", "text", null=False)), ("a",))
    monkeypatch.setattr(schema, "TABLES", (bad,))
    assert len(schema.plan_sync({}, "sqlite")) == 1  # a new table is fine
    with pytest.raises(ValueError, match="t.b: NOT NULL without a default"):
        schema.plan_sync({"t": ["a"]}, "sqlite")


def test_v1_fixture_is_what_the_v1_code_wrote():
    """The fixtures are the schema text of newsflow/store.py and newsflow/postgres.py
    at 6e3f4ff (before schema_version); the v2 definition keeps every v1 column in order."""
    for dialect in ("sqlite", "postgres"):
        text = v1_script(dialect)
        body = text.split("CREATE TABLE IF NOT EXISTS articles (")[1].split(");")[0]
        v1_cols = [line.split()[0] for line in body.strip().splitlines()]
        assert expected_layout()["articles"][0][:len(v1_cols)] == v1_cols
        assert len(v1_cols) == 25
