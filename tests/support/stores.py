"""Stores for tests: ``any_store`` (the same test on SQLite and, when a server
is there, PostgreSQL), and what a store database holds, read back from the
database itself (not from newsflow's schema definition), so tests can compare
dialects, fresh and migrated databases, and both against newsflow/store/schema.py."""

from __future__ import annotations

import pytest

from newsflow.store import Store, StoredArticle


def full_row() -> StoredArticle:
    """Every field set, with text that trips up naive encodings."""
    return StoredArticle(
        id="zh-xinwen:0123456789abcdef", source="zh-xinwen", content_hash="c" * 64, status="translated",
        title="王毅会见拉夫罗夫", original_text="第一段。\n\n第二段 'quoted' \"dq\" \\ %s %(x)s",
        url="https://example.org/a?b=1&c=2", published="2025-03-01T08:00:00+00:00", lang="zh",
        lang_confidence=0.123456789012345, paragraph_langs=["zh", "en"], reason=None,
        title_en="Wang Yi meets Lavrov", translation="First.\n\nSecond — “quoted”.",
        raw_translation="First.\n\nSecond.", model_id="translate-zh_en", model_version="1.9@abc",
        name_findings=[{"entity": "lavrov", "status": "fixed", "spans": [[0, 6]], "z": None}],
        name_candidates=[{"text": "Tunxi", "count": 2}], truncated_sentences=1, attempts=3,
        first_run="run-1", last_run="run-2",
        glossary_digest="d" * 64, retranslate_error="de-en: model.bin: cannot load",
        retranslate_failed_at="2025-03-02T08:00:00+00:00", needs_review=True,
        quality_flags=[{"paragraph": 0, "sentence": -1, "kind": "untranslated", "detail": "王毅 'x' %s"}],
        story_id="story:abc", fetched_from="https://example.org/full?x=1", fetch_note="full text unavailable: HTTP 404",
        author="李明", source_updated="2025-03-01T09:00:00Z",
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, tmp_path):
    """The same tests against both backends: PostgresStore mirrors Store."""
    if request.param == "sqlite":
        with Store(tmp_path / "db.sqlite") as store:
            yield store
    else:
        from newsflow.store.postgres import PostgresStore

        with PostgresStore(request.getfixturevalue("pg_database_url")) as store:
            yield store


def second_store(store, tmp_path):
    """Another connection to the same database (another worker)."""
    if isinstance(store, Store):
        return Store(tmp_path / "db.sqlite")
    from newsflow.store.postgres import PostgresStore

    return PostgresStore(store.url)


def insert_claim(store, article_id, run_id, host, pid, expires):
    sql = "INSERT INTO claims VALUES (?, ?, ?, ?, ?)"
    if not isinstance(store, Store):
        sql = sql.replace("?", "%s")
    with store.transaction() as conn:
        conn.execute(sql, (article_id, run_id, host, pid, expires))


def expected_layout() -> dict:
    """The layout newsflow/store/schema.py defines, in the form of the two below."""
    from newsflow.store.schema import TABLES

    return {t.name: (list(t.column_names), ",".join(t.primary_key),
                     {i.name: (list(i.columns), i.where is not None) for i in t.indexes})
            for t in TABLES}


# The dialects' full-text search structures (a store's SEARCH_SCHEMA, not schema.TABLES):
# FTS5 tables and their shadow tables, PostgreSQL's search and trigram indexes.
SEARCH_PREFIXES = ("articles_fts", "articles_trgm", "articles_search_")


def sqlite_layout(conn) -> dict:
    """table -> (columns, primary key, {index: (columns, partial?)}) of a SQLite database
    (search structures left out: see SEARCH_PREFIXES)."""
    out = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        if table.startswith(SEARCH_PREFIXES):
            continue
        info = list(conn.execute(f"PRAGMA table_info({table})"))
        cols = [r[1] for r in info]
        pk = ",".join(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        indexes = {}
        for idx in conn.execute(f"PRAGMA index_list({table})"):
            if idx[3] == "c":  # created by CREATE INDEX (not the primary key's)
                indexes[idx[1]] = ([r[2] for r in conn.execute(f"PRAGMA index_info({idx[1]})")], bool(idx[4]))
        out[table] = (cols, pk, indexes)
    return out


def postgres_layout(conn) -> dict:
    out = {}
    tables = [r["table_name"] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "ORDER BY table_name")]
    for table in tables:
        cols = [r["column_name"] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = current_schema() ORDER BY ordinal_position", (table,))]
        pk = conn.execute(
            "SELECT string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS cols "
            "FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu "
            "USING (constraint_schema, constraint_name, table_name) WHERE tc.constraint_type = 'PRIMARY KEY' "
            "AND tc.table_schema = current_schema() AND tc.table_name = %s", (table,)).fetchone()["cols"]
        indexes = {}
        for r in conn.execute(
                "SELECT i.relname AS name, ix.indpred IS NOT NULL AS partial, "
                "array_agg(a.attname ORDER BY k.n) AS cols FROM pg_index ix "
                "JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid "
                "CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
                "WHERE t.relname = %s AND NOT ix.indisprimary AND t.relnamespace = current_schema()::regnamespace "
                "GROUP BY i.relname, ix.indpred", (table,)):
            if not r["name"].startswith(SEARCH_PREFIXES):
                indexes[r["name"]] = (list(r["cols"]), r["partial"])
        out[table] = (cols, pk, indexes)
    return out
