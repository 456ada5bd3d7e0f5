"""Sources: loading (files, swapped-out fetch) and parsing payloads from bytes alone."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow import fetch
from newsflow.config import SourceConfig
from newsflow.errors import SourceError
from newsflow.fetch import Payload
from newsflow.sources import DecodeError, decode_text, load_source, parse_payloads

DATA = Path(__file__).parent / "data" / "sources"
SAMPLES = Path(__file__).parent.parent / "samples"


def feed(name="feed", url="feeds/rss_content.xml", lang="de") -> SourceConfig:
    return SourceConfig(name=name, kind="feed", url=url, lang=lang)


def folder(path="folder", lang="de") -> SourceConfig:
    return SourceConfig(name="inbox", kind="folder", path=path, lang=lang)


def pages(*locations: str, lang="de") -> SourceConfig:
    return SourceConfig(name="pages", kind="pages", pages=list(locations), lang=lang)


# --------------------------------------------------------------------------- feeds


def test_rss_feed_from_file():
    source = feed()
    payloads = load_source(source, DATA)
    assert [p.location for p in payloads] == [str(DATA / "feeds/rss_content.xml")]
    first, summary_only, bare = parse_payloads(source, payloads)

    assert first.key == "bz-2024-0001"  # guid
    assert first.title == "Neue Radwege für Berlin"
    assert first.is_html and "<p>Die Stadt Berlin hat am Montag" in first.body  # content:encoded
    assert "Kurzfassung" not in first.body
    assert "trackVisitor" not in first.body  # feedparser sanitises scripts
    assert first.url == "https://news.example.de/radwege"
    assert first.published == "2024-05-06T08:00:00+00:00"
    assert first.expected_lang == "de" and first.source == "feed" and first.error is None

    assert summary_only.key == "https://news.example.de/zusammenfassung"  # no guid -> link
    assert summary_only.body == "<p>Diese Meldung hat nur eine Beschreibung.</p>"
    assert summary_only.is_html
    assert summary_only.published == "2024-05-07T08:30:00+00:00"

    assert bare.key.startswith("sha256:") and bare.url is None  # no guid, no link -> title hash
    assert bare.body == "Ein Eintrag, der weder guid noch link hat."
    # the key, hence the id, is stable across runs
    again = parse_payloads(source, payloads)
    assert [a.id for a in again] == [first.id, summary_only.id, bare.id]


def test_atom_feed_with_html_content():
    source = feed(name="xinwen", url="feeds/atom_zh.xml", lang="zh")
    full, summary = parse_payloads(source, load_source(source, DATA))
    assert full.key == "urn:uuid:zh-0001"
    assert full.title == "北京举行新闻发布会"
    assert full.is_html and full.body.startswith("<p>北京时间今天上午")
    assert full.url == "https://news.example.cn/0001.html"
    assert full.published == "2024-05-06T01:00:00+00:00"
    assert summary.body == "这条新闻只有摘要。"
    assert full.expected_lang == "zh"


def test_feed_url_goes_through_fetch(monkeypatch):
    calls = []

    def fake_fetch(url, timeout):
        calls.append((url, timeout))
        return Payload(url, (DATA / "feeds/atom_zh.xml").read_bytes(), "application/atom+xml")

    monkeypatch.setattr(fetch, "fetch_bytes", fake_fetch)
    source = SourceConfig(
        name="remote", kind="feed", url="https://news.example.cn/feed", timeout_seconds=7
    )
    articles = parse_payloads(source, load_source(source, Path("/nonexistent")))
    assert calls == [("https://news.example.cn/feed", 7.0)]
    assert len(articles) == 2


def test_feed_fetch_error_names_the_source(monkeypatch):
    def failing(url, timeout):
        raise SourceError(f"{url}: HTTP 503 Service Unavailable")

    monkeypatch.setattr(fetch, "fetch_bytes", failing)
    with pytest.raises(SourceError, match=r"^source 'remote': https://x\.test/f: HTTP 503"):
        load_source(SourceConfig(name="remote", kind="feed", url="https://x.test/f"), DATA)


def test_missing_feed_file_names_source_and_path():
    with pytest.raises(SourceError) as err:
        load_source(feed(url="feeds/nope.xml"), DATA)
    assert str(err.value) == f"source 'feed': {DATA / 'feeds/nope.xml'} does not exist"


def test_malformed_feed_raises():
    source = feed(url="feeds/malformed.xml")
    with pytest.raises(SourceError, match=r"^source 'feed': .*malformed\.xml: malformed feed: "):
        parse_payloads(source, load_source(source, DATA))


def test_html_page_is_not_a_feed():
    html = b"<!DOCTYPE html><html><body><p>Hello</p></body></html>"
    with pytest.raises(SourceError, match="malformed feed: no RSS or Atom feed found"):
        parse_payloads(feed(), [Payload("https://x.test/", html, "text/html")])


def test_feed_with_errors_keeps_its_entries(caplog):
    # undefined entity + unclosed <rss>: feedparser flags "bozo" but reads the items
    data = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        b"<item><title>Eins&nbsp;ok</title><link>http://x.test/1</link>"
        b"<description>a</description></item>"
        b"<item><title>Zwei</title><link>http://x.test/2</link><description>b</description>"
        b"</item></channel>"
    )
    with caplog.at_level(logging.WARNING, logger="newsflow.sources"):
        articles = parse_payloads(feed(), [Payload("f.xml", data)])
    assert [a.key for a in articles] == ["http://x.test/1", "http://x.test/2"]
    assert "feed has errors" in caplog.text and "kept 2 entries" in caplog.text


def test_empty_valid_feed_gives_no_articles():
    data = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    assert parse_payloads(feed(), [Payload("f.xml", data)]) == []


def test_gb18030_feed_without_declaration():
    xml = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>新闻</title>'
        "<item><title>国务院举行新闻发布会</title><link>http://x.test/1</link>"
        "<description>北京时间今天上午，国务院新闻办公室举行新闻发布会。</description></item>"
        "</channel></rss>"
    ).encode("gb18030")
    (article,) = parse_payloads(feed(lang="zh"), [Payload("f.xml", xml, "text/xml")])
    assert article.title == "国务院举行新闻发布会"
    assert article.body == "北京时间今天上午，国务院新闻办公室举行新闻发布会。"


def test_feed_declared_latin1_but_utf8():
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>x</title>'
        "<item><title>Grüße aus München</title><link>http://x.test/1</link>"
        "<description>Straße</description></item></channel></rss>"
    ).encode()
    (article,) = parse_payloads(feed(), [Payload("f.xml", xml, "text/xml; charset=iso-8859-1")])
    assert article.title == "Grüße aus München"


# --------------------------------------------------------------------------- folders


def test_folder_loads_sorted_recursive_and_lists_skipped_files():
    payloads = load_source(folder(), DATA)
    assert [(p.key, p.skipped) for p in payloads] == [
        (".hidden", True),
        ("a-article.txt", False),
        ("b-page.html", False),
        ("c-item.json", False),
        ("d-lines.jsonl", False),
        ("notes.md", True),
        ("sub/e-nested.txt", False),
    ]
    notes = next(p for p in payloads if p.key == "notes.md")
    assert notes.error.endswith("notes.md: not one of .txt, .html, .htm, .json, .jsonl")


def test_folder_parses_each_file_type():
    source = folder()
    articles = {a.key: a for a in parse_payloads(source, load_source(source, DATA))}
    assert list(articles) == [
        "a-article.txt",
        "b-page.html",
        "c-item.json#item-7",
        "d-lines.jsonl#n1",
        "d-lines.jsonl#3",
        "d-lines.jsonl#4",
        "d-lines.jsonl#5",
        "sub/e-nested.txt",
    ]
    txt = articles["a-article.txt"]
    assert txt.title == "Bundestag beschließt Haushalt"  # first non-empty line
    assert txt.body.strip().startswith("Der Bundestag hat am Freitag")
    assert not txt.is_html and txt.expected_lang == "de"

    html = articles["b-page.html"]
    assert html.is_html and html.title == "Hochwasser in Bayern"
    assert "<p>Nach tagelangem Regen" in html.body

    item = articles["c-item.json#item-7"]
    assert item.title == "Wahl in Hessen"
    assert item.body.startswith("Die Wahl in Hessen") and not item.is_html
    assert item.url == "https://news.example.de/hessen"

    assert articles["d-lines.jsonl#n1"].body == "Der erste Text."
    second = articles["d-lines.jsonl#3"]  # no id: the line number
    assert second.is_html and second.body == "<p>Der <b>zweite</b> Text.</p>"

    broken = articles["d-lines.jsonl#4"]  # stored as failed, never dropped
    assert broken.error.startswith(f"{DATA / 'folder/d-lines.jsonl'}:4: invalid JSON: ")
    assert broken.body == ""
    assert "expected a JSON object, got list" in articles["d-lines.jsonl#5"].error
    assert articles["sub/e-nested.txt"].title == "Verschachtelte Datei"


def test_missing_folder_names_source_and_path():
    with pytest.raises(SourceError, match=r"^source 'inbox': .*/no-such-dir does not exist$"):
        load_source(folder("no-such-dir"), DATA)


def test_json_file_problems_become_error_articles(tmp_path):
    (tmp_path / "bad.json").write_text('{"title": "x", ', encoding="utf-8")
    (tmp_path / "empty.json").write_text('{"id": 3, "title": "nur Titel"}', encoding="utf-8")
    (tmp_path / "list.json").write_text(
        '[{"text": "eins"}, {"id": "b", "body": "<p>zwei</p>"}]', encoding="utf-8"
    )
    source = folder(str(tmp_path))
    articles = {a.key: a for a in parse_payloads(source, load_source(source, DATA))}
    assert articles["bad.json"].error.startswith(f"{tmp_path / 'bad.json'}:1: invalid JSON")
    assert "no 'text', 'body' or 'html' field" in articles["empty.json#3"].error
    assert articles["empty.json#3"].title == "nur Titel"
    assert articles["list.json#0"].body == "eins"
    assert articles["list.json#b"].is_html


def test_undecodable_file_becomes_error_article(tmp_path):
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    source = folder(str(tmp_path))
    (article,) = parse_payloads(source, load_source(source, DATA))
    assert article.key == "binary.txt"
    assert article.error == f"{tmp_path / 'binary.txt'}: binary data, not text (contains NUL bytes)"


def test_folder_charsets(tmp_path):
    (tmp_path / "gb.txt").write_bytes(
        "国务院新闻\n北京时间今天上午举行新闻发布会。".encode("gb18030")
    )
    (tmp_path / "big5.txt").write_bytes("臺灣新聞\n台北市政府今天宣布新政策。".encode("big5"))
    (tmp_path / "bom.txt").write_bytes(codecs.BOM_UTF8 + "Überschrift\nText".encode())
    (tmp_path / "latin.html").write_bytes(
        '<html><head><meta charset="utf-8"><title>Grüße</title></head><body><p>Straße</p>'
        "</body></html>".encode("latin-1")
    )
    source = folder(str(tmp_path), lang=None)
    articles = {a.key: a for a in parse_payloads(source, load_source(source, DATA))}
    assert articles["gb.txt"].title == "国务院新闻"
    assert articles["big5.txt"].title == "臺灣新聞"
    assert articles["bom.txt"].title == "Überschrift"  # BOM gone
    assert articles["latin.html"].title == "Grüße"
    assert "Straße" in articles["latin.html"].body


# --------------------------------------------------------------------------- pages


def test_pages_from_files():
    source = pages("pages/article.html", "pages/empty.html")
    first, empty = parse_payloads(source, load_source(source, DATA))
    assert first.key == "pages/article.html" and first.url is None
    assert first.is_html and first.body.lstrip().startswith("<!DOCTYPE html>")
    assert first.title == "Neue Regeln für Radfahrer"  # og:title, no site name
    assert first.published == "2024-05-03"
    assert empty.error is None  # "no text" is decided by cleaning


def test_pages_one_failure_is_an_error_article(monkeypatch):
    def fake_fetch(url, timeout):
        if url.endswith("/gone"):
            raise SourceError(f"{url}: HTTP 404 Not Found")
        return Payload(url, (DATA / "pages/article.html").read_bytes(), "text/html; charset=utf-8")

    monkeypatch.setattr(fetch, "fetch_bytes", fake_fetch)
    source = pages("https://x.test/ok", "https://x.test/gone")
    ok, gone = parse_payloads(source, load_source(source, DATA))
    assert ok.key == ok.url == "https://x.test/ok" and ok.error is None
    assert gone.key == "https://x.test/gone"
    assert gone.error == "source 'pages': https://x.test/gone: HTTP 404 Not Found"


def test_pages_all_failing_raises():
    with pytest.raises(SourceError, match=r"does not exist \(and 1 more pages failed\)$"):
        load_source(pages("pages/nope1.html", "pages/nope2.html"), DATA)


# --------------------------------------------------------------------------- decode_text


@pytest.mark.parametrize(
    "data, declared, lang, text, charset",
    [
        (codecs.BOM_UTF8 + "Grüße".encode(), "iso-8859-1", None, "Grüße", "utf-8"),
        ("Grüße".encode("utf-16"), None, None, "Grüße", "utf-16"),
        ("Grüße aus München".encode("latin-1"), "utf-8", "de", "Grüße aus München", "cp1252"),
        ("Grüße aus München".encode("latin-1"), "utf-8", None, "Grüße aus München", "cp1252"),
        ("Grüße".encode(), "iso-8859-1", None, "Grüße", "utf-8"),  # UTF-8 labelled latin-1
        ("“Zitat” – Straße".encode("cp1252"), "iso-8859-1", None, "“Zitat” – Straße", "cp1252"),
        ("中国新闻".encode("gb18030"), None, "zh", "中国新闻", "gb18030"),
        ("中国新闻".encode("gb18030"), None, None, "中国新闻", "gb18030"),
        ("中文新闻".encode("gbk"), "gb2312", None, "中文新闻", "gb18030"),
        (
            "台北市政府今天宣布，將於下週舉行記者會。".encode("big5"),
            None,
            None,
            "台北市政府今天宣布，將於下週舉行記者會。",
            "big5",
        ),
        ("臺灣新聞".encode("big5"), None, "zt", "臺灣新聞", "big5"),
        (b"plain ascii", None, None, "plain ascii", "utf-8"),
        (b"", None, None, "", "utf-8"),
    ],
)
def test_decode_text(data, declared, lang, text, charset):
    assert decode_text(data, declared, lang) == (text, charset)


def test_decode_text_reads_in_document_declarations():
    html = '<html><head><meta charset="gbk"></head><body>中文新闻</body></html>'.encode("gbk")
    assert decode_text(html, None)[1] == "gb18030"
    xml = '<?xml version="1.0" encoding="big5"?><a>臺灣</a>'.encode("big5")
    assert decode_text(xml, None) == ('<?xml version="1.0" encoding="big5"?><a>臺灣</a>', "big5")


def test_decode_text_header_beats_meta():
    html = '<meta charset="utf-8"><p>Grüße</p>'.encode("cp1252")
    assert decode_text(html, "windows-1252") == ('<meta charset="utf-8"><p>Grüße</p>', "cp1252")


def test_decode_text_binary_raises():
    with pytest.raises(DecodeError):
        decode_text(b"\x00\x01\x02\xff\xfe\x00garbage", None)


@given(st.text())
def test_decode_text_round_trips_utf8(text):
    assert decode_text(text.encode("utf-8"), None)[0] == text.removeprefix("\ufeff")


# --------------------------------------------------------------------------- samples


def test_samples_parse():
    feeds = sorted((SAMPLES / "feeds").glob("*.xml"))
    assert [p.name for p in feeds] == ["de-nachrichten.xml", "en-news.xml", "zh-xinwen.xml"]
    for xml in feeds:
        source = SourceConfig(name=xml.stem, kind="feed", url=str(xml))
        articles = parse_payloads(source, load_source(source, SAMPLES))
        assert articles, xml
        assert all(a.body and a.error is None for a in articles), xml
    source = SourceConfig(name="inbox", kind="folder", path=SAMPLES / "inbox")
    assert parse_payloads(source, load_source(source, SAMPLES))
    html_pages = sorted(str(p) for p in (SAMPLES / "html").glob("*.html"))
    assert len(html_pages) >= 4
    source = SourceConfig(name="html", kind="pages", pages=html_pages)
    articles = parse_payloads(source, load_source(source, SAMPLES))
    assert len(articles) == len(html_pages)
    assert all(a.title and a.error is None for a in articles)
