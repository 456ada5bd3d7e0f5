"""Teaser feeds: the article behind every item, fetched politely and incrementally,
against a loopback news site (tests/support/news_site.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from newsflow import fetch
from newsflow.clean import clean_article
from newsflow.config import SourceConfig
from newsflow.sources import read_source
from tests.support.news_site import NewsSite

BOILERPLATE = (
    "Show More", "Related Articles", "Back to top", "bloggers like this", "Like this",
    "Cookies", "Alle akzeptieren", "Cookie-Einstellungen", "Endlich tut sich", "Leser123",
    "Kommentare", "Neue Buslinie", "Parkgebühren", "Anzeige", "Startseite", "©",
    "Alle Rechte vorbehalten", "Read more", "Werften", "Fenster schließen", "Drucken",
)
BOILERPLATE_ZH = ("返回顶部", "相关新闻", "北京推出人才公寓", "分享到", "微信", "cookies", "网友评论",
                  "版权所有", "首页", "点击查看更多", "延伸閱讀", "高鐵新站", "返回頂部")


@dataclass
class Row:
    """What the store keeps of an article (the fields read_source looks at)."""

    id: str
    title: str
    original_text: str
    published: str | None
    fetched_from: str | None
    fetch_note: str | None
    author: str | None
    source_updated: str | None
    status: str


class MemoryStore:
    """The store API read_source uses: get_many and the per-source state."""

    def __init__(self):
        self.rows: dict[str, Row] = {}
        self.state: dict[str, dict] = {}

    def get_many(self, ids):
        return {i: self.rows[i] for i in ids if i in self.rows}

    def get_source_state(self, key):
        return dict(self.state[key]) if key in self.state else None

    def put_source_state(self, key, value):
        self.state[key] = dict(value)

    def keep(self, articles):
        for a in articles:
            self.rows[a.id] = Row(a.id, a.title, a.text, a.published, a.fetched_from, a.fetch_note,
                                  a.author, a.source_updated, "failed" if a.error else "translated")


def run(source: SourceConfig, store: MemoryStore) -> dict[str, object]:
    """One run of the source: read, clean, store. Returns the cleaned articles by key."""
    fetch.begin_run()
    articles = {raw.key: clean_article(raw) for raw in read_source(source, store=store, base_dir=None)}
    store.keep(articles.values())
    return articles


def feed_source(site, path="/feed.rss", **options) -> SourceConfig:
    # 0.3 s: every run of the feed waits this long for its slow page (which answers after
    # 0.6 s, news_site.Site.slow_seconds); the other pages answer in a few ms
    fetch_options = {"min_delay_seconds": 0, "timeout_seconds": 0.3, "max_bytes": 200_000,
                     "per_host_concurrency": 2}
    fetch_options.update(options.pop("fetch", {}))
    return SourceConfig(name=options.pop("name", "zeitung"), kind="feed", url=f"{site.base}{path}",
                        lang=options.pop("lang", "de"), fetch=fetch_options, **options)


@pytest.fixture
def site():
    with NewsSite() as site:
        yield site


def test_teaser_feed_items_become_full_articles(site):
    articles = run(feed_source(site), MemoryStore())
    radwege = articles["de-1"]
    assert radwege.fetched_from == f"{site.base}/de/radwege.html" and radwege.fetch_note is None
    assert radwege.title == "Stadtrat beschließt neue Radwege"  # the feed's title
    assert radwege.author == "Anna Beispiel"
    # the whole article, split over two <div>s, in order; nothing around it
    assert [p.split()[0] for p in radwege.paragraphs] == ["Der", "Oberbürgermeisterin", "Kritik", "Der"]
    assert radwege.paragraphs[3].startswith("Der Fahrradclub")
    for article in (articles["de-1"], articles["de-2"], articles["de-3"]):
        for phrase in BOILERPLATE:
            assert phrase not in article.text, (article.id, phrase)
        assert article.fetched_from and article.fetch_note is None
    amp, printed = articles["de-2"], articles["de-3"]
    assert amp.paragraphs[0].startswith("Der Hafen hat im vergangenen Jahr")
    assert amp.paragraphs[-1].startswith("Die Gewerkschaft verlangt")
    assert printed.paragraphs[0].startswith("Das Stadtmuseum zeigt ab Freitag")
    assert printed.paragraphs[-1].startswith("Die Museumsleitung hofft")


def test_boilerplate_inside_the_article_element_is_left_out(site):
    articles = run(feed_source(site, "/feed-blog.rss", name="blog"), MemoryStore())
    assert list(articles) == ["blog-1"]  # the guid as written: ids do not depend on the URL
    blog = articles["blog-1"]
    # the item's link was relative: followed against the feed's URL
    assert blog.fetched_from == f"{site.base}/blog/bahn.html"
    assert [p.split()[0] for p in blog.paragraphs] == ["Die", "Möglich", "Fahrgastverbände"]
    for phrase in (*BOILERPLATE, "Newsletter", "Facebook", "WhatsApp", "Leave a Reply", "Bernd",
                   "Kommentare", "Streik", "Loading", "weitersurfen"):
        assert phrase not in blog.text, phrase


def test_items_whose_page_fails_keep_the_feed_text_with_a_reason(site):
    articles = run(feed_source(site), MemoryStore())
    notes = {key: (a.fetch_note, a.fetched_from) for key, a in articles.items()}
    assert notes["de-4"] == ("full text not fetched: disallowed by robots.txt", None)
    assert notes["de-5"][0] == "full text unavailable: HTTP 404 Not Found"
    assert notes["de-6"][0] == "full text unavailable: timed out after 0.3 s; tried again on a later run"
    assert notes["de-7"][0].startswith("full text unavailable: redirect loop")
    assert notes["de-8"][0].startswith("full text unavailable: response too large")
    assert notes["de-9"][0] == "extraction found no article"
    assert notes["de-10"][0] == "extraction found less text than the feed"
    assert notes["de-11"][0].startswith("full text not fetched: disallowed by robots.txt (redirected to")
    # each keeps the feed's teaser, and is not an error: it is translated like any article
    assert articles["de-5"].paragraphs == ["Dieser Artikel wurde entfernt."]
    assert articles["de-10"].text.startswith("Die Sitzung des Ausschusses")
    assert all(a.error is None for a in articles.values())
    # robots.txt read once; the disallowed pages never asked for
    assert site.count("/robots.txt") == 1
    assert not [p for p in site.paths() if p.startswith("/private/")]
    # the redirect loop was cut: each side of it asked for once
    assert site.count("/schleife-a") == 1 and site.count("/schleife-b") == 1


def test_second_run_is_a_304_and_fetches_no_page(site):
    store = MemoryStore()
    first = run(feed_source(site), store)
    assert len(first) == 11
    site.clear()
    second = run(feed_source(site), store)
    assert second == {}  # nothing new: what is stored stands
    assert [p for p in site.paths() if p != "/robots.txt"] == ["/feed.rss"]
    assert site.statuses("/feed.rss") == [304]
    feed_request = next(r for r in site.requests if r.path == "/feed.rss")
    assert feed_request.headers["if-none-match"] == '"rss-v1"'
    assert "if-modified-since" in feed_request.headers


def test_changed_feed_fetches_only_new_updated_and_retryable_items(site):
    store = MemoryStore()
    run(feed_source(site), store)
    stored_radwege = store.rows[next(i for i, r in store.rows.items() if r.title.startswith("Stadtrat"))]
    site.clear()
    site.feed_version = 2  # one new item, the Radwege item marked updated
    second = run(feed_source(site), store)
    pages = sorted(p for p in site.paths() if p not in ("/robots.txt", "/feed.rss"))
    # the new item and the updated one (answered 304: unchanged page); the page that timed
    # out an hour ago is not asked for again yet
    assert pages == ["/de/radwege-2.html", "/de/radwege.html"]
    radwege_request = next(r for r in site.requests if r.path == "/de/radwege.html")
    assert radwege_request.headers.get("if-none-match") == '"de-radwege.html-v1"'
    assert site.statuses("/de/radwege.html") == [304]
    # the updated item keeps its full stored text (not the teaser), the new one is full text
    assert second["de-1"].text == stored_radwege.original_text
    assert second["de-1"].fetched_from == f"{site.base}/de/radwege.html"
    assert second["de-12"].fetched_from == f"{site.base}/de/radwege-2.html"
    # items not updated come with their stored text and cost no request
    assert second["de-2"].text == first_text(store, "de-2")
    assert second["de-4"].fetch_note == "full text not fetched: disallowed by robots.txt"
    assert second["de-6"].fetch_note.endswith("; tried again on a later run")
    # an hour later (the feed changed again): only the page that timed out is retried
    slow = store.state[f"{site.base}/langsam.html"]
    assert slow["retry_at"] > time.time() + 3500
    slow["retry_at"] = time.time() - 1
    site.clear()
    site.feed_version = 3
    run(feed_source(site), store)
    assert [p for p in site.paths() if p not in ("/robots.txt", "/feed.rss")] == ["/langsam.html"]


def first_text(store: MemoryStore, key: str) -> str:
    from newsflow.article import stable_id

    return store.rows[stable_id("zeitung", key)].original_text


def test_chinese_pages_in_gbk_gb18030_and_big5(site):
    articles = run(feed_source(site, "/feed.atom", name="xinwen", lang="zh"), MemoryStore())
    gbk, gb18030, big5 = articles["urn:zh-1"], articles["urn:zh-2"], articles["urn:zh-3"]
    # GBK with no charset anywhere, GB18030 in the header, Big5 in a <meta>
    assert gbk.paragraphs[0].startswith("上海市政府十二日发布新的住房保障政策")
    assert gbk.paragraphs[-1] == "专家认为，这一政策有助于稳定租赁市场，减轻年轻人的生活压力。"
    assert len(gbk.paragraphs) == 4  # split over two <div>s
    assert gb18030.paragraphs[0].startswith("深圳港去年完成集装箱吞吐量三千万标准箱")
    assert big5.paragraphs[0].startswith("台北捷運環狀線北段今日正式通車")
    for article in (gbk, gb18030, big5):
        assert article.fetched_from and article.fetch_note is None
        for phrase in BOILERPLATE_ZH:
            assert phrase not in article.text, (article.id, phrase)
        assert "\ufffd" not in article.text


def test_second_run_of_a_last_modified_only_feed_is_a_304(site):
    store = MemoryStore()
    source = feed_source(site, "/feed.atom", name="xinwen", lang="zh")
    assert len(run(source, store)) == 3
    site.clear()
    assert run(source, store) == {}
    assert site.statuses("/feed.atom") == [304]
    assert [p for p in site.paths() if p not in ("/robots.txt", "/feed.atom")] == []


def test_follow_links_never_and_always(site):
    never = run(feed_source(site, follow_links="never"), MemoryStore())
    assert site.paths() == ["/robots.txt", "/feed.rss"]  # no page
    assert never["de-1"].text == "Zwölf Kilometer neue Radwege: der Stadtrat hat entschieden."
    assert all(a.fetched_from is None and a.fetch_note is None for a in never.values())


def test_auto_does_not_follow_items_with_whole_articles(site):
    articles = run(feed_source(site, "/feed-full.rss"), MemoryStore())
    assert articles["full-1"].text.startswith("Der ganze Artikel steht schon im Feed")
    assert articles["full-1"].fetch_note is None and articles["full-1"].fetched_from is None
    assert site.paths() == ["/robots.txt", "/feed-full.rss"]


def test_always_falls_back_when_the_page_has_less(site, tmp_path):
    # a feed with whole articles in content:encoded is not followed in auto mode
    long_text = "Ein ganzer Artikel steht schon im Feed. " * 20
    feed = tmp_path / "full.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
        f"<item><guid>x</guid><title>Ganz</title><link>{site.base}/de/radwege.html</link>"
        f"<content:encoded><![CDATA[<p>{long_text}</p>]]></content:encoded></item>"
        "</channel></rss>", encoding="utf-8")
    source = SourceConfig(name="voll", kind="feed", url=str(feed), lang="de", follow_links="always",
                          fetch={"min_delay_seconds": 0})
    always = run(source, MemoryStore())
    assert always["x"].fetched_from is None  # the page has less text than the feed
    assert always["x"].fetch_note == "extraction found less text than the feed"
    assert site.count("/de/radwege.html") == 1
    auto = run(source.model_copy(update={"follow_links": "auto"}), MemoryStore())
    assert auto["x"].fetch_note is None and site.count("/de/radwege.html") == 1


def test_incremental_with_the_real_store(site, tmp_path):
    """The same two runs through the SQLite store: what read_source needs survives in it
    (fetched_from, fetch_note, source_updated, the feed's and pages' validators)."""
    from newsflow import pipeline
    from newsflow.store import Store

    source = feed_source(site)
    with Store(tmp_path / "news.db") as store:
        fetch.begin_run()
        first = [clean_article(raw) for raw in read_source(source, None, store)]
        store.upsert_many(pipeline.base_row(a, "passed-through", "run-1") for a in first)
        row = store.get(next(a.id for a in first if a.title.startswith("Stadtrat")))
        assert row.fetched_from == f"{site.base}/de/radwege.html"
        assert row.source_updated == "2026-03-12T08:00:00+00:00" and row.author == "Anna Beispiel"
        assert store.get_source_state("zeitung")["validators"]["etag"] == '"rss-v1"'
        site.clear()
        fetch.begin_run()
        assert list(read_source(source, None, store)) == []
        assert site.statuses("/feed.rss") == [304]
        assert [p for p in site.paths() if p not in ("/feed.rss", "/robots.txt")] == []
    # a run that died after reading the feed but before storing: no conditional request
    with Store(tmp_path / "other.db") as empty:
        empty.put_source_state("zeitung", store_state := {
            "url": source.url, "validators": {"etag": '"rss-v1"'},
            "items": {a.id: a.source_updated for a in first}})
        site.clear()
        fetch.begin_run()
        assert len(list(read_source(source, None, empty))) == 11
        assert "if-none-match" not in site.requests[1].headers and site.statuses("/feed.rss") == [200]
    assert store_state["items"]


def test_dry_run_reads_state_but_writes_none(site):
    store = MemoryStore()
    fetch.begin_run()
    articles = list(read_source(feed_source(site), None, store, save_state=False))
    assert len(articles) == 11 and store.state == {}
    # a later real run is not fooled into a 304 by what the dry run saw
    run(feed_source(site), store)
    assert site.statuses("/feed.rss") == [200, 200]


def test_feed_marking_items_updated_is_not_answered_from_old_validators(site):
    """Validators saved for an answer whose updated items were never stored (a crash, a
    dry run on another store) are not sent: the updates would be lost behind a 304."""
    store = MemoryStore()
    run(feed_source(site), store)
    radwege = next(r for r in store.rows.values() if r.title.startswith("Stadtrat"))
    radwege.source_updated = "2026-01-01T00:00:00+00:00"  # the store holds an older version
    site.clear()
    second = run(feed_source(site), store)
    assert site.statuses("/feed.rss") == [200]  # asked unconditionally
    assert "if-none-match" not in next(r for r in site.requests if r.path == "/feed.rss").headers
    assert site.statuses("/de/radwege.html") == [200]  # the page too: its validators were for v1
    assert second["de-1"].fetched_from == f"{site.base}/de/radwege.html"


def test_an_unexpected_error_costs_one_item_not_the_source(site, monkeypatch):
    from newsflow import feeds

    real = feeds.extract_article

    def broken(html, url=None):
        if "radwege" in (url or ""):
            raise RuntimeError("odd markup")
        return real(html, url)

    monkeypatch.setattr(feeds, "extract_article", broken)
    articles = run(feed_source(site), MemoryStore())
    assert len(articles) == 11
    assert articles["de-1"].fetch_note == "full text unavailable: RuntimeError: odd markup"
    assert articles["de-1"].text == "Zwölf Kilometer neue Radwege: der Stadtrat hat entschieden."
    assert articles["de-2"].fetched_from  # the others are unaffected


def test_the_feeds_or_pages_language_is_the_hint_when_the_source_names_none(site):
    articles = run(feed_source(site, "/feed-blog.rss", name="blog", lang=None), MemoryStore())
    # that feed has no <language>: the page's <html lang="de"> is the hint
    assert articles["blog-1"].expected_lang == "de"
    articles = run(feed_source(site, lang=None), MemoryStore())
    assert {a.expected_lang for a in articles.values()} == {"de"}  # <language>de</language>
