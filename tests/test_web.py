"""The reader (`newsflow web`) in-process: every route, escaping of hostile feed input,
pagination, filters, 404s, a missing and a locked store, the JSON routes, and that the
reader never writes (SQLite read-only URI; PostgreSQL read-only transactions)."""
# ruff: noqa: F811 - the PostgreSQL fixtures are imported from tests/support/postgres.py

from __future__ import annotations

import hashlib
import sqlite3
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # Starlette 1.x: "install httpx2" (httpx works)
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from newsflow.config import parse_settings  # noqa: E402
from newsflow.errors import NewsflowError  # noqa: E402
from newsflow.store import Store, StoredArticle  # noqa: E402
from newsflow.web import article_url, story_url  # noqa: E402
from newsflow.web.app import create_app  # noqa: E402
from newsflow.web.readonly import open_sqlite_read_only, read_only_url  # noqa: E402
from newsflow.web.views import article_parts, fix_spans  # noqa: E402
from tests.support.postgres import pg_database_url, postgres_url  # noqa: E402,F401
from tests.support.services import require_import  # noqa: E402

HOSTILE = '<script>alert("x")</script>'
HOSTILE_IMG = '<img src=x onerror=alert(1)>'


def settings_for(tmp_path: Path, extra: str = ""):
    text = (f"database: {tmp_path / 'data' / 'newsflow.db'}\n"
            "sources:\n"
            "  - {name: de-wire, kind: folder, path: .}\n"
            "  - {name: zh-wire, kind: folder, path: .}\n" + extra)
    return parse_settings(text, base_dir=tmp_path)


def article(i: int, **kw) -> StoredArticle:
    base = dict(
        id=f"de-wire:{i:04d}", source="de-wire", content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
        status="translated", title=f"Lawrow trifft Wang Yi in Tunxi {i}",
        original_text="Der Außenminister Lawrow traf Wang Yi. Sie sprachen über Handel.\n\nZweiter Absatz.",
        title_en=f"Lavrov meets Wang Yi in Tunxi {i}",
        translation="Foreign Minister Lavrov met Wang Yi. They talked about trade.\n\nSecond paragraph.",
        raw_translation=(f"Lawrow meets Wang Yi in Tunxi {i}\n\nForeign Minister Lawrow met Wang Yi. "
                         "They talked about trade.\n\nSecond paragraph."),
        lang="de", lang_confidence=0.98, model_id="translate-de_en", model_version="1.9",
        url=f"https://example.org/{i}", published=f"2026-11-{1 + i % 28:02d}T08:00:00+00:00",
        name_findings=[{"entity": "lavrov", "status": "wrong", "found": ["Lawrow"], "expected": "Lavrov"},
                       {"entity": "wang-yi", "status": "ok", "found": ["Wang Yi"], "expected": "Wang Yi"},
                       {"entity": "tunxi", "status": "missing", "found": [], "expected": "Tunxi"}],
        last_run="run-1",
    )
    base.update(kw)
    row = StoredArticle(**{k: v for k, v in base.items() if k in StoredArticle.__dataclass_fields__})
    for k, v in base.items():  # fields newer stores have (needs_review, quality_flags, ...)
        if k not in StoredArticle.__dataclass_fields__:
            setattr(row, k, v)
    return row


def fill(settings, rows) -> Path:
    path = settings.resolve(settings.database)
    with Store(path) as store:
        store.upsert_many(rows)
    return path


@pytest.fixture
def client_for():
    clients = []

    def make(settings, **kw):
        client = TestClient(create_app(settings, **kw), raise_server_exceptions=True)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.app.state.reader.close()


# -- article page ------------------------------------------------------------


def test_article_page_shows_english_beside_original_with_names_and_facts(tmp_path, client_for):
    s = settings_for(tmp_path)
    fill(s, [article(1)])
    r = client_for(s).get("/articles/de-wire:0001")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    # paragraph by paragraph: title, then two paragraphs, each English beside the original
    assert html.count('class="row') == 4  # header row + title + 2 paragraphs
    assert 'id="p1"' in html and 'id="p2"' in html
    assert "Sie sprachen über Handel." in html and "They talked about trade." in html
    # the fixed name, in place and listed
    assert '<mark class="fixed" title="the model wrote: Lawrow">Lavrov</mark>' in html
    assert "the model wrote <del>Lawrow</del> → <ins>Lavrov</ins>" in html
    # the missing name
    assert "Names missing" in html and '<strong title="tunxi">Tunxi</strong>' in html
    # facts: source, URL, language and confidence, model, status
    for fact in ("de-wire", 'href="https://example.org/1"', "German (de), confidence 0.98",
                 "translate-de_en 1.9", "status-translated"):
        assert fact in html


def test_hostile_title_text_and_url_show_as_text(tmp_path, client_for):
    s = settings_for(tmp_path)
    hostile = article(2, title=f"Titel {HOSTILE}", title_en=f"Title {HOSTILE}",
                      original_text=f"Absatz {HOSTILE_IMG}.", translation=f"Paragraph {HOSTILE_IMG}.",
                      raw_translation=f"Title {HOSTILE}\n\nParagraph {HOSTILE_IMG}.",
                      url="javascript:alert(1)", reason=HOSTILE, fetched_from="JavaScript:alert(2)",
                      author=HOSTILE, fetch_note=HOSTILE_IMG,
                      name_findings=[{"entity": HOSTILE, "status": "wrong", "found": [HOSTILE_IMG],
                                      "expected": HOSTILE}])
    fill(s, [hostile])
    client = client_for(s)
    html = client.get("/articles/de-wire:0002").text
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html.lower() and "javascript:alert(1)" in html  # shown, not linked
    assert "JavaScript:alert(2)" in html
    js = client.get("/api/articles/de-wire:0002").json()
    assert js["title"] == f"Titel {HOSTILE}"  # JSON carries the text as it is
    # and should escaping ever fail, the browser runs no script and loads nothing foreign
    csp = client.get("/articles/de-wire:0002").headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_flagged_sentences_are_marked_with_their_reason(tmp_path, client_for):
    s = settings_for(tmp_path)
    flags = [{"paragraph": 1, "sentence": 1, "kind": "low_confidence", "detail": "score -1.20"},
             {"paragraph": 2, "sentence": -1, "kind": "untranslated", "detail": "copied source"},
             {"paragraph": 0, "sentence": 0, "kind": "repetition", "detail": f"repeats {HOSTILE}"}]
    fill(s, [article(3, needs_review=True, quality_flags=flags)])
    html = client_for(s).get("/articles/de-wire:0003").text
    assert "Sentences to check" in html
    # sentence 2 of paragraph 1 is marked on both sides, with its reason as a tooltip and a mark
    assert '<span class="s flagged" title="low_confidence: score -1.20">They talked about trade.</span>' in html
    assert '<span class="s flagged" title="low_confidence: score -1.20">Sie sprachen über Handel.</span>' in html
    assert "⚑ low_confidence" in html
    assert "¶ 1, sentence 2" in html and "¶ 2" in html and "copied source" in html
    assert "<script>" not in html and "repeats &lt;script&gt;" in html


def test_pending_article_has_no_english_and_says_why(tmp_path, client_for):
    s = settings_for(tmp_path)
    fill(s, [article(4, status="pending", title_en=None, translation=None, raw_translation=None,
                     model_id=None, model_version=None, name_findings=[],
                     reason="no model installed for de->en")])
    html = client_for(s).get("/articles/de-wire:0004").text
    assert "not translated: no model installed for de-&gt;en" in html
    assert "status-pending" in html and "none (not machine-translated)" in html


def test_fix_spans_and_unaligned_parts():
    assert fix_spans("Lawrows Besuch", "Lavrov's Besuch") == [(0, 8, "Lawrows")]
    assert fix_spans("same", "same") == []
    row = article(5, translation="One. Two. Three.\n\nSecond paragraph.",
                  quality_flags=[{"paragraph": 1, "sentence": 0, "kind": "k", "detail": "d"}])
    parts = article_parts(row)
    assert parts[1].original[0].flags and parts[1].english_unaligned  # 2 German, 3 English sentences


def test_snippet_match_is_marked_and_the_rest_escaped(tmp_path):
    from newsflow.web.app import _templates
    from newsflow.web.views import snippet_segments

    assert snippet_segments("…met [Lavrov] in <b>Tunxi</b>") == [
        ("…met ", False), ("Lavrov", True), (" in <b>Tunxi</b>", False)]
    html = _templates().from_string(
        "{% for t, hit in s|snippet %}{% if hit %}<mark>{{ t }}</mark>{% else %}{{ t }}{% endif %}{% endfor %}"
    ).render(s=f"a [{HOSTILE}] b {HOSTILE_IMG}")
    assert "<script>" not in html and "<img" not in html
    assert html.startswith("a <mark>&lt;script&gt;")


# -- unknown ids, bad parameters ----------------------------------------------


def test_unknown_ids_are_404_pages_and_json(tmp_path, client_for):
    s = settings_for(tmp_path)
    fill(s, [article(1)])
    client = client_for(s)
    r = client.get("/articles/de-wire:9999")
    assert r.status_code == 404 and "Not found" in r.text and "de-wire:9999" in r.text
    assert "Traceback" not in r.text
    r = client.get("/api/articles/nope")
    assert r.status_code == 404 and "nope" in r.json()["error"]
    assert client.get("/no/such/page").status_code == 404
    r = client.get("/?offset=-3")
    assert r.status_code == 400 and "offset" in r.text


# -- store missing / locked / read-only ------------------------------------------


def test_missing_store_is_a_clear_page_and_is_never_created(tmp_path, client_for):
    s = settings_for(tmp_path)
    client = client_for(s)
    for url in ("/", "/articles/x:1", "/search?q=Lavrov", "/review"):
        r = client.get(url)
        assert r.status_code == 503, url
        assert "No store yet" in r.text and "newsflow run" in r.text and "Traceback" not in r.text
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
    assert client.get("/api/articles/x:1").json()["error"].startswith("No store yet")
    assert not (tmp_path / "data").exists()  # neither the file nor its folder was created
    # the store appears later (a first run): the same reader picks it up
    fill(s, [article(1)])
    assert client.get("/healthz").json() == {"status": "ok", "articles": 1, "by_status": {"translated": 1}}


def test_locked_store_is_a_clear_page(tmp_path, client_for):
    s = settings_for(tmp_path)
    path = fill(s, [article(1)])
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = DELETE")  # a rollback-journal writer blocks readers
    con.execute("BEGIN EXCLUSIVE")
    try:
        client = client_for(s, busy_seconds=0.2)
        r = client.get("/articles/de-wire:0001")
        assert r.status_code == 503 and "The store is locked" in r.text and "Traceback" not in r.text
        assert client.get("/healthz").status_code == 503
        assert "locked" in client.get("/api/articles/de-wire:0001").json()["error"]
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert client.get("/articles/de-wire:0001").status_code == 200  # lock gone: answers again


def test_the_reader_never_writes(tmp_path, client_for):
    s = settings_for(tmp_path)
    path = fill(s, [article(1)])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    client = client_for(s)
    for url in ("/", "/articles/de-wire:0001", "/api/articles/de-wire:0001", "/healthz", "/review"):
        client.get(url)
    store = open_sqlite_read_only(path)
    try:
        with pytest.raises((sqlite3.Error, NewsflowError)):
            store.upsert_many([article(2)])
    finally:
        store.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with Store(path) as rw:
        assert [a.id for a in rw.all()] == ["de-wire:0001"]


def test_read_only_postgres_url_keeps_other_options():
    url = read_only_url("postgresql://u:p@h:5432/db?sslmode=disable&options=-c%20search_path%3Dx")
    assert "sslmode=disable" in url
    assert "options=-c%20search_path%3Dx%20-c%20default_transaction_read_only%3Don" in url


def test_unreachable_postgres_is_a_clear_page(tmp_path, client_for):
    require_import("psycopg", "uv sync installs it with the dev group")
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    s = settings_for(tmp_path, extra=f"database_url: postgresql://u:secret@127.0.0.1:{port}/news\n")
    r = client_for(s).get("/")
    assert r.status_code == 503 and "The store cannot be opened" in r.text
    assert "secret" not in r.text and "Traceback" not in r.text


@pytest.mark.postgres
def test_postgres_store_is_read_only(pg_database_url, tmp_path, client_for):
    require_import("psycopg", "uv sync installs it with the dev group")
    from newsflow.store import open_store

    s = settings_for(tmp_path, extra=f"database_url: {pg_database_url}\n")
    with open_store(s) as store:
        store.upsert_many([article(1)])
    client = client_for(s)
    assert client.get("/api/articles/de-wire:0001").json()["id"] == "de-wire:0001"
    assert client.get("/healthz").json()["articles"] == 1
    reader = client.app.state.reader
    with pytest.raises(NewsflowError, match="read-only"):
        reader.call(lambda st: st.upsert_many([article(2)]))


# -- JSON, health, static, helpers ---------------------------------------------


def test_api_article_has_the_article_file_fields(tmp_path, client_for):
    from newsflow.report import article_json

    s = settings_for(tmp_path)
    fill(s, [article(1)])
    js = client_for(s).get("/api/articles/de-wire:0001").json()
    with Store(s.resolve(s.database)) as store:
        expected = article_json(store.get("de-wire:0001"))
    assert {k: js[k] for k in expected} == expected
    assert {"needs_review", "quality_flags"} <= js.keys() or not hasattr(StoredArticle, "needs_review")


def test_healthz_static_and_urls(tmp_path, client_for):
    s = settings_for(tmp_path)
    fill(s, [article(1), article(2, status="pending", translation=None, title_en=None)])
    client = client_for(s)
    assert client.get("/healthz").json()["by_status"] == {"translated": 1, "pending": 1}
    assert client.head("/healthz").status_code == 200  # what proxies' health checks send
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    html = client.get("/articles/de-wire:0001").text
    assert "http://" not in html.replace('href="https://example.org/1"', "").split("<main>")[0]
    assert story_url(None, "s1") is None
    assert story_url("https://r.example/news/", "a b/c") == "https://r.example/news/stories/a%20b%2Fc"
    assert article_url("https://r.example", "de:1") == "https://r.example/articles/de%3A1"


def test_stories_links_for_the_run_summary():
    from newsflow.web import stories_links_markdown

    stories = [{"id": "st-1", "title": f"Lavrov [x](javascript:y) {HOSTILE}", "languages": ["de", "zh"],
                "article_count": 3}]
    assert stories_links_markdown(stories, None) == ""
    assert stories_links_markdown([], "https://r.example") == ""
    md = stories_links_markdown(stories, "https://r.example/")
    assert "](<https://r.example/stories/st-1>) (de, zh · 3 articles)" in md
    assert "<script>" not in md and "\\[x\\](javascript:y)" in md


def test_web_config_key(tmp_path):
    s = settings_for(tmp_path, extra="web: {base_url: 'https://reader.example'}\n")
    assert s.web.base_url == "https://reader.example"
    assert settings_for(tmp_path).web.base_url is None
    with pytest.raises(NewsflowError, match="web.base_url"):
        settings_for(tmp_path, extra="web: {base_url: 'reader.example'}\n")


# -- review queue --------------------------------------------------------------


def test_review_page_and_api(tmp_path, client_for):
    s = settings_for(tmp_path)
    flag = {"paragraph": 1, "sentence": 0, "kind": "low_confidence", "detail": "d"}
    rows = [article(i, needs_review=i % 2 == 0, quality_flags=[flag] if i % 2 == 0 else [],
                    title_en=f"Review {HOSTILE} {i}") for i in range(1, 121)]
    fill(s, rows)
    client = client_for(s)
    html = client.get("/review").text
    assert html.count('href="/articles/') == 50 and "older →" in html
    assert "<script>" not in html and "low_confidence" in html
    second = client.get("/review?offset=50").text
    assert second.count('href="/articles/') == 10 and "← newer" in second and "older →" not in second
    js = client.get("/api/review?limit=100").json()
    assert len(js["articles"]) == 60 and js["next_offset"] is None
    assert all(a["kinds"] == ["low_confidence"] for a in js["articles"])


# -- stories and search (newsflow.stories / newsflow.search) --------------------


def _story_store(s, n: int = 70):
    """n articles in n distinct stories (distinct entities, days apart) plus one German and one
    Chinese report of the same event, assigned by the real story code."""
    from newsflow.store import open_store
    from newsflow.stories import assign

    rows = [article(i, title=f"Bericht {i}", title_en=f"Report {HOSTILE} number {i}",
                    original_text=f"Ereignis {i} in Stadt{i}.", translation=f"Event {i} in town{i}.",
                    raw_translation=f"Report {HOSTILE} number {i}\n\nEvent {i} in town{i}.",
                    name_findings=[], published=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T0{i % 10}:00:00+00:00")
            for i in range(1, n + 1)]
    zh = article(900, id="zh-wire:0900", source="zh-wire", lang="zh", title="拉夫罗夫与王毅在屯溪会谈",
                 original_text="俄罗斯外长拉夫罗夫与中国外长王毅在屯溪会谈。",
                 title_en="Lavrov and Wang Yi hold talks in Tunxi",
                 translation="Russian Foreign Minister Lavrov and Chinese Foreign Minister Wang Yi held talks in Tunxi.",
                 raw_translation="Lavrov and Wang Yi hold talks in Tunxi\n\nRussian Foreign Minister Lavrov "
                                 "and Chinese Foreign Minister Wang Yi held talks in Tunxi.",
                 published="2026-12-01T06:00:00+00:00")
    de = article(901, published="2026-12-01T07:00:00+00:00")
    rows += [zh, de]
    with open_store(s) as store:
        store.upsert_many(rows)
        assign(store, rows, s)
    return rows


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def dialect_settings(request, tmp_path):
    """Settings for an empty store of each dialect (the schema made by the store itself)."""
    from newsflow.store import open_store

    extra = ""
    if request.param == "postgres":
        require_import("psycopg", "uv sync installs it with the dev group")
        extra = f"database_url: {request.getfixturevalue('pg_database_url')}\n"
    s = settings_for(tmp_path, extra=extra)
    open_store(s).close()
    return s


def test_stories_page_lists_paginates_filters_and_escapes(dialect_settings, client_for):
    s = dialect_settings
    _story_store(s)
    client = client_for(s)
    first = client.get("/")
    assert first.status_code == 200
    assert first.text.count('<a class="title" href="/stories/') == 30 and "older →" in first.text
    assert "<script>" not in first.text
    api = client.get("/api/stories?limit=200").json()
    total = len(api["stories"])
    assert api["next_offset"] is None and total >= 60
    # newest first, as the CLI lists them
    seen = [st["last_seen"] for st in api["stories"]]
    assert seen == sorted(seen, reverse=True)
    # page 2 continues page 1
    page2 = client.get("/api/stories?limit=30&offset=30").json()["stories"]
    assert [x["id"] for x in page2] == [x["id"] for x in api["stories"][30:60]]
    # filters: language and source
    zh = client.get("/api/stories?lang=zh").json()["stories"]
    assert zh and all("zh" in st["languages"] for st in zh)
    by_source = client.get("/?source=zh-wire").text
    assert by_source.count('<a class="title" href="/stories/') == len(zh)
    # the front page reads the stories without their articles (counts only): the same list
    from newsflow.store import open_store
    from newsflow.stories import list_stories

    with open_store(s) as store:
        bare = list_stories(store, limit=200, with_articles=False)
    assert [b["id"] for b in bare] == [x["id"] for x in api["stories"]]
    assert all(b["articles"] == [] for b in bare)


def test_story_page_and_api(dialect_settings, client_for):
    s = dialect_settings
    _story_store(s, n=3)
    client = client_for(s)
    stories = client.get("/api/stories").json()["stories"]
    joint = next(st for st in stories if "zh" in st["languages"])
    r = client.get(f"/stories/{joint['id']}")
    assert r.status_code == 200
    for a in joint["articles"]:
        assert f'/articles/{a["id"].replace(":", "%3A")}' in r.text
    assert client.get(f"/api/stories/{joint['id']}").json()["id"] == joint["id"]
    member = joint["articles"][0]["id"]
    assert client.get(f"/api/articles/{member}").json()["story"] == joint["id"]
    assert f'href="/stories/{joint["id"]}"' in client.get(f"/articles/{member}").text
    assert client.get("/stories/no-such-story").status_code == 404
    bad = client.get("/?since=yesterday")
    assert bad.status_code == 400 and "yesterday" in bad.text and "Traceback" not in bad.text
    assert client.get("/?since=24000h").status_code == 200
    assert client.get("/api/stories/no-such-story").status_code == 404


def test_search_page_and_api_match_the_cli_function(dialect_settings, client_for):
    from newsflow.search import search
    from newsflow.store import open_store

    s = dialect_settings
    _story_store(s, n=5)
    client = client_for(s)
    js = client.get("/api/search", params={"q": "Lavrov"}).json()
    with open_store(s) as store:
        direct = search(store, "Lavrov", limit=20)
    assert [r["id"] for r in js["results"]] == [r["id"] for r in direct] and direct
    html = client.get("/search", params={"q": "Lavrov"}).text
    assert all(f'/articles/{r["id"].replace(":", "%3A")}' in html for r in direct)
    assert "<script>" not in client.get("/search", params={"q": "Report"}).text
    assert client.get("/search", params={"q": "王毅"}).status_code == 200
    assert "Nothing found" in client.get("/search", params={"q": "zzzunknownword"}).text
    assert client.get("/api/search").status_code == 400  # q is required


# -- schema versions -----------------------------------------------------------


def test_a_store_from_before_schema_versions_is_read_as_it_is(tmp_path, client_for):
    from tests.conftest import REPO

    s = settings_for(tmp_path)
    path = s.resolve(s.database)
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    con.executescript((REPO / "tests" / "data" / "store" / "schema_v1_sqlite.sql").read_text())
    con.execute("INSERT INTO articles (id, source, content_hash, status, title, created_at, updated_at) "
                "VALUES ('de-wire:1', 'de-wire', 'h', 'pending', 'Alt', '2026-01-01', '2026-01-01')")
    con.commit()
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    client = client_for(s)
    assert client.get("/articles/de-wire:1").status_code == 200  # old rows still read
    r = client.get("/review")  # needs a column the old schema lacks: says what to do
    assert r.status_code == 503 and "another version" in r.text and "newsflow run" in r.text
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # not migrated by the reader


def test_a_store_from_a_newer_newsflow_is_refused_clearly(tmp_path, client_for):
    s = settings_for(tmp_path)
    path = fill(s, [article(1)])
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    r = client_for(s).get("/articles/de-wire:0001")
    assert r.status_code == 503 and "schema version 999" in r.text and "Upgrade newsflow" in r.text


# -- the command -----------------------------------------------------------------


def test_web_command_port_in_use_is_one_line_error(tmp_path):
    import socket

    from typer.testing import CliRunner

    from newsflow.cli import app

    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database: {tmp_path / 'n.db'}\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["--config", str(cfg), "web", "--port", str(port)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "n.db").exists()


def test_run_summary_artifact_links_stories_to_the_reader(monkeypatch):
    import flows.artifacts as artifacts
    from newsflow.report import RunReport

    made = {}
    monkeypatch.setattr(artifacts, "create_markdown_artifact", lambda **kw: made.update(md=kw["markdown"]))
    monkeypatch.setattr(artifacts, "create_table_artifact", lambda **kw: None)
    monkeypatch.setattr(artifacts, "create_link_artifact", lambda **kw: None)
    report = RunReport(run_id="r1", started_at="2026-12-01T08:00:00+00:00")
    report.stories_touched = [{"id": "st-abc", "title": f"Lavrov {HOSTILE}", "languages": ["de", "zh"],
                               "article_count": 2}]
    artifacts.publish(report, None)
    assert "Stories in the reader" not in made["md"]  # no base_url: no links
    artifacts.publish(report, None, base_url="https://reader.example.org")
    assert "](<https://reader.example.org/stories/st-abc>) (de, zh · 2 articles)" in made["md"]
    assert "<script>" not in made["md"]
