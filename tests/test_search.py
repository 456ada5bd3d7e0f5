"""Search: German, Chinese and English articles found by English words, German words and
Chinese characters (Simplified and Traditional, 2 characters and more), ranked, with
snippets and filters, kept in step with the articles table; on SQLite and PostgreSQL."""
# ruff: noqa: F811 - the fixtures are imported from tests/support/postgres.py

from __future__ import annotations

import dataclasses
import json

import pytest

from newsflow import stories
from newsflow.search import make_snippet, parse_terms, script_variants, search
from newsflow.store import Store
from tests.conftest import write_config
from tests.support.postgres import pg_database_url, postgres_url  # noqa: F401
from tests.support.stories import sample_rows, settings

DE_TUNXI = "de-nachrichten:5db395cf31909a13"
ZH_TUNXI = "zh-xinwen:c3a80a8216e4fd6b"
ZT_TUNXI = "zh-xinwen:3c1276ff2ecceee2"
EN_TUNXI = "en-news:f0569ddab5942f99"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(tmp_path / "db.sqlite")
    else:
        from newsflow.store.postgres import PostgresStore

        s = PostgresStore(request.getfixturevalue("pg_database_url"))
    with s:
        rows = sample_rows()
        s.upsert_many(rows)
        stories.assign(s, rows, settings())
        yield s


def ids(results) -> list[str]:
    return [r["id"] for r in results]


def test_english_words_find_german_chinese_and_english_articles(store):
    found = search(store, "Tunxi", limit=50)
    langs = {r["lang"] for r in found}
    assert {"de", "zh", "zt", "en"} <= langs  # the translations are searched
    assert {DE_TUNXI, ZH_TUNXI, ZT_TUNXI, EN_TUNXI} <= set(ids(found))
    # stemming: "talk" finds "talks", several words must all occur
    both = ids(search(store, "Lavrov talk Anhui", limit=50))
    assert ZH_TUNXI in both and all(i in ids(found) for i in both)
    assert search(store, "Tunxi Zelensky") == []


def test_german_words_find_german_originals(store):
    found = search(store, "Außenminister Amtskollege", limit=50)
    assert DE_TUNXI in ids(found)
    assert all(r["lang"] == "de" for r in found)
    assert ids(search(store, "Lawrow", limit=50)) and all(
        r["lang"] == "de" for r in search(store, "Lawrow", limit=50))


def test_chinese_characters_find_chinese_articles_in_both_scripts(store):
    found = ids(search(store, "拉夫罗夫", limit=50))  # Simplified: finds 拉夫羅夫 too
    assert ZH_TUNXI in found and ZT_TUNXI in found
    assert ids(search(store, "拉夫羅夫", limit=50)) and ZH_TUNXI in ids(search(store, "拉夫羅夫", limit=50))
    short = search(store, "王毅", limit=50)  # 2 characters: below a trigram, still found
    assert ZH_TUNXI in ids(short) and ZT_TUNXI in ids(short)
    assert all(r["lang"] in ("zh", "zt") for r in short)
    two_terms = ids(search(store, "屯溪 老街", limit=50))
    assert ZH_TUNXI in two_terms and ZT_TUNXI not in two_terms  # 老街 only in the zh report
    assert search(store, "屯溪", lang="zt", limit=50) and all(
        r["lang"] == "zt" for r in search(store, "屯溪", lang="zt", limit=50))


def test_results_carry_the_contract_keys_story_snippet_and_rank_order(store):
    found = search(store, "Tunxi", limit=50)
    keys = {"id", "title", "title_en", "lang", "source", "url", "published", "story", "snippet"}
    assert all(keys <= set(r) for r in found)
    placed = {a["id"]: s["id"] for s in stories.list_stories(store, limit=1000) for a in s["articles"]}
    assert all(r["story"] == placed[r["id"]] for r in found)
    assert all("[" in r["snippet"] and "]" in r["snippet"] for r in found)
    assert any("tunxi" in r["snippet"].lower() for r in found)
    zh = search(store, "屯溪", limit=5)
    assert zh and all("[屯溪]" in r["snippet"] or "[屯溪" in r["snippet"] for r in zh)
    # a title hit ranks above a passing mention
    top = search(store, "Zelensky Berlin", limit=3)
    assert "Berlin" in (top[0]["title_en"] or top[0]["title"])


def test_filters_and_paging(store):
    assert {r["source"] for r in search(store, "Tunxi", source="pages", limit=50)} == {"pages"}
    assert all(r["lang"] == "de" for r in search(store, "Tunxi", lang="de", limit=50))
    assert search(store, "Tunxi", since="2099-01-01") == []
    all_ = ids(search(store, "Tunxi", limit=50))
    assert ids(search(store, "Tunxi", limit=2, offset=1)) == all_[1:3]
    assert search(store, "   ") == [] and search(store, "Tunxi", limit=0) == []


def test_index_follows_updates(store):
    row = store.get(EN_TUNXI)
    changed = dataclasses.replace(row, content_hash="x", title="Quarantine lifted in Zorgvliet",
                                  title_en="Quarantine lifted in Zorgvliet",
                                  translation="Officials in Zorgvliet lifted the quarantine.",
                                  original_text="Officials in Zorgvliet lifted the quarantine.")
    store.upsert_many([changed])
    assert ids(search(store, "Zorgvliet")) == [EN_TUNXI]
    assert EN_TUNXI not in ids(search(store, "Tunxi", limit=50))


def test_search_opens_an_existing_database_and_indexes_its_rows(tmp_path):
    """A database whose rows were written before the search tables existed gets them indexed."""
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(sample_rows())
        with s.transaction() as conn:  # as if made before search existed
            for t in ("articles_fts", "articles_trgm"):
                conn.execute(f"DROP TABLE {t}")
            for t in ("ai", "ad", "au"):
                conn.execute(f"DROP TRIGGER IF EXISTS articles_search_{t}")
            conn.execute("UPDATE meta SET value = 'old' WHERE key = 'schema_digest'")
    with Store(tmp_path / "db.sqlite") as s:
        assert ZH_TUNXI in ids(search(s, "拉夫罗夫", limit=50))
        assert DE_TUNXI in ids(search(s, "Tunxi", limit=50))


def test_query_helpers():
    assert parse_terms('Lavrov "Wang Yi" talks!') == ["Lavrov", "Wang Yi", "talks"]
    assert parse_terms('"" ,, x') == ["x"]
    assert set(script_variants("拉夫罗夫")) == {"拉夫罗夫", "拉夫羅夫"}
    snip = make_snippet("a " * 100 + "Tunxi talks " + "b " * 100, ["tunxi"])
    assert "[Tunxi]" in snip and snip.startswith("…") and snip.endswith("…") and len(snip) < 120


def test_fts_syntax_in_a_query_is_taken_literally(store):
    for q in ('"unbalanced', "AND OR NOT", "Tunxi*", "a:b", "(x", "-", "%", "_"):
        search(store, q)  # no error
    assert EN_TUNXI in ids(search(store, "Tunxi,", limit=50))


def test_cli_search_json_contract(tmp_path):
    """`newsflow search`, run in this process (typer's runner: the same command code, exit
    status, stdout and stderr; a subprocess would add only ~2 s of imports per call)."""
    from typer.testing import CliRunner

    from newsflow.cli import app

    cfg = write_config(tmp_path, None)
    with Store(tmp_path / "data" / "newsflow.db") as s:
        s.upsert_many(sample_rows())

    def newsflow(*args):
        return CliRunner().invoke(app, ["--config", str(cfg), "search", *args])

    proc = newsflow("拉夫罗夫", "--lang", "zt", "--json")
    assert proc.exit_code == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"results"} and data["results"]
    assert {r["lang"] for r in data["results"]} == {"zt"}
    for r in data["results"]:
        assert set(r) >= {"id", "title", "title_en", "lang", "source", "url", "published", "story",
                          "snippet"}
    human = newsflow("Tunxi", "--source", "en-news")
    assert human.exit_code == 0 and "Tunxi" in human.stdout
    bad = newsflow("x", "--lang", "fr")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --lang 'fr'")
