"""A small news site on loopback for the sources tests: teaser feeds (RSS and Atom),
article pages with boilerplate (German, Chinese in GBK without a declared charset,
GB18030 declared in the header, Big5 in a <meta>), AMP and print versions, a
robots.txt that disallows /private/, ETag/Last-Modified with 304s, a 404, a slow
page, a redirect loop, an oversized page and a 503 with Retry-After.

The server records every request (path, headers, start time) and the highest
number of requests it was serving at once, so tests can check what newsflow asked
for, how often, and how politely.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).parent.parent / "data" / "site"

ROBOTS = b"""# test site
User-agent: *
Disallow: /private/
Crawl-delay: 0

User-agent: otherbot
Disallow: /
"""

# path -> (file in tests/data/site, encoding served, Content-Type header)
ARTICLES = {
    "/de/radwege.html": ("de-radwege.html", "utf-8", "text/html; charset=utf-8"),
    "/amp/hafen.html": ("de-amp.html", "utf-8", "text/html; charset=utf-8"),
    "/print/museum.html": ("de-print.html", "utf-8", "text/html"),
    "/de/kurz.html": ("de-short.html", "utf-8", "text/html; charset=utf-8"),
    "/de/uebersicht.html": ("no-article.html", "utf-8", "text/html; charset=utf-8"),
    "/zh/gbk.html": ("zh-gbk-undeclared.html", "gbk", "text/html"),
    "/zh/gb18030.html": ("zh-gb18030-header.html", "gb18030", "text/html; charset=GB18030"),
    "/zh/big5.html": ("zh-big5-meta.html", "big5", "text/html"),
    "/private/geheim.html": ("de-radwege.html", "utf-8", "text/html; charset=utf-8"),
    "/blog/bahn.html": ("de-inside.html", "utf-8", "text/html; charset=utf-8"),
}

LAST_MODIFIED = formatdate(1773300000, usegmt=True)


def teaser(text: str) -> str:
    return f"<p>{text}</p>"


def rss_items(base: str, version: int) -> list[dict]:
    """The German teaser feed's items; version 2 marks one updated and adds one."""
    items = [
        {"guid": "de-1", "link": f"{base}/de/radwege.html", "title": "Stadtrat beschließt neue Radwege",
         "date": "Thu, 12 Mar 2026 09:00:00 +0100",
         "description": teaser("Zwölf Kilometer neue Radwege: der Stadtrat hat entschieden.")},
        {"guid": "de-2", "link": f"{base}/amp/hafen.html", "title": "Hafen meldet Rekordumschlag",
         "date": "Thu, 12 Mar 2026 08:00:00 +0100",
         "description": teaser("So viele Container wie nie zuvor.")},
        {"guid": "de-3", "link": f"{base}/print/museum.html", "title": "Museum zeigt verschollene Gemälde",
         "date": "Thu, 12 Mar 2026 07:00:00 +0100",
         "description": teaser("Zwölf verschollene Gemälde sind wieder aufgetaucht.")},
        {"guid": "de-4", "link": f"{base}/private/geheim.html", "title": "Interne Meldung",
         "date": "Thu, 12 Mar 2026 06:00:00 +0100",
         "description": teaser("Nur der Anreißer darf gelesen werden.")},
        {"guid": "de-5", "link": f"{base}/weg.html", "title": "Gelöschter Artikel",
         "date": "Thu, 12 Mar 2026 05:00:00 +0100",
         "description": teaser("Dieser Artikel wurde entfernt.")},
        {"guid": "de-6", "link": f"{base}/langsam.html", "title": "Langsame Seite",
         "date": "Thu, 12 Mar 2026 04:00:00 +0100",
         "description": teaser("Die Seite antwortet zu spät.")},
        {"guid": "de-7", "link": f"{base}/schleife-a", "title": "Weiterleitung im Kreis",
         "date": "Thu, 12 Mar 2026 03:00:00 +0100",
         "description": teaser("Die Seite leitet sich selbst weiter.")},
        {"guid": "de-8", "link": f"{base}/riesig.html", "title": "Riesige Seite",
         "date": "Thu, 12 Mar 2026 02:00:00 +0100",
         "description": teaser("Die Seite ist zu groß.")},
        {"guid": "de-9", "link": f"{base}/de/uebersicht.html", "title": "Übersichtsseite",
         "date": "Thu, 12 Mar 2026 01:00:00 +0100",
         "description": teaser("Der Link führt auf eine Übersicht ohne Artikel.")},
        {"guid": "de-10", "link": f"{base}/de/kurz.html", "title": "Kurzmeldung",
         "date": "Thu, 12 Mar 2026 00:30:00 +0100",
         "description": teaser("Die Sitzung des Ausschusses wurde am Abend auf unbestimmte Zeit vertagt, "
                               "nachdem mehrere Mitglieder krank gemeldet waren.")},
        {"guid": "de-11", "link": f"{base}/umgezogen.html", "title": "Umgezogene Seite",
         "date": "Thu, 12 Mar 2026 00:20:00 +0100",
         "description": teaser("Die Seite ist in einen gesperrten Bereich umgezogen.")},
    ]
    if version >= 2:
        items[0]["date"] = "Fri, 13 Mar 2026 10:00:00 +0100"  # the Radwege article was updated
        items.insert(0, {"guid": "de-12", "link": f"{base}/de/radwege-2.html",
                         "title": "Radwege: erster Abschnitt fertig",
                         "date": "Fri, 13 Mar 2026 12:00:00 +0100",
                         "description": teaser("Der erste Abschnitt ist fertig.")})
    return items


def rss(base: str, version: int) -> bytes:
    entries = "".join(
        f"<item><title>{i['title']}</title><link>{i['link']}</link>"
        f"<guid isPermaLink=\"false\">{i['guid']}</guid><pubDate>{i['date']}</pubDate>"
        f"<description><![CDATA[{i['description']}]]></description></item>\n"
        for i in rss_items(base, version)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Beispiel-Zeitung</title><link>{base}/</link><description>Nachrichten</description>"
        f"<language>de</language>\n{entries}</channel></rss>\n"
    ).encode()


def atom(base: str) -> bytes:
    entries = [
        ("zh-1", "/zh/gbk.html", "上海发布新的住房保障政策", "上海将新增保障性租赁住房。"),
        ("zh-2", "/zh/gb18030.html", "深圳港集装箱吞吐量创新高", "深圳港吞吐量再创新高。"),
        ("zh-3", "/zh/big5.html", "台北捷運新路線通車", "環狀線北段今日通車。"),
    ]
    body = "".join(
        f"<entry><id>urn:{ident}</id><title>{title}</title><link href=\"{base}{path}\"/>"
        f"<updated>2026-03-12T02:00:00Z</updated><summary>{summary}</summary></entry>\n"
        for ident, path, title, summary in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>新闻中心</title><id>urn:zh-feed</id><updated>2026-03-12T02:00:00Z</updated>\n"
        f"{body}</feed>\n"
    ).encode()


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    started: float
    status: int = 0
    answered: bool = False  # no longer counted in Site.active


@dataclass
class Site:
    base: str = ""
    feed_version: int = 1
    page_delay: float = 0.0  # seconds every article page takes (to make requests overlap)
    # 0.6 s: past the tests' 0.3 s timeout with a clear margin, and over before the slot the
    # timed-out request keeps is free (0.3 s + 2 x 0.3 s held = 0.9 s), so the host never
    # serves more requests than the limit
    slow_seconds: float = 0.6
    big_bytes: int = 300_000
    requests: list[Request] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    busy_left: int = 0  # how many more times /busy answers 503 with Retry-After
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def statuses(self, path: str) -> list[int]:
        return [r.status for r in self.requests if r.path == path]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.max_active = 0


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: the headers and the body go out in two writes; with Nagle the body waits
    # for the client's delayed ACK of the headers (40 ms on Linux), on every request
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: C901 - one branch per route is the clearest here
        site = self.site
        record = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
        self._record = record
        with site.lock:
            site.requests.append(record)
            site.active += 1
            site.max_active = max(site.max_active, site.active)
        try:
            self._route(site, record)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout, too large)
            record.status = -1
            self.close_connection = True
        finally:
            self._answered()

    def _answered(self) -> None:
        """The request stops counting as active just before the last write of its answer: the
        client cannot have the whole answer (and give its slot back) before that write. Counted
        after it, the client could read the answer, send its next request and have that counted
        before this thread was scheduled again (seen as 3 active under a limit of 2, under load)."""
        if self._record.answered:
            return
        self._record.answered = True
        with self.site.lock:
            self.site.active -= 1

    def _send(self, status: int, body: bytes = b"", content_type: str | None = "text/plain",
              headers: dict[str, str] | None = None, length: bool = True) -> int:
        self._record.status = status  # before the client can see the answer
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        if not body:
            self._answered()
        self.end_headers()
        if body:
            self._answered()
            self.wfile.write(body)
        return status

    def _conditional(self, body: bytes, content_type: str, etag: str | None) -> int:
        """ETag and Last-Modified; or, with ``etag`` None, Last-Modified alone (then
        If-Modified-Since decides)."""
        headers = {"Last-Modified": LAST_MODIFIED}
        if etag:
            headers["ETag"] = etag
            fresh = self.headers.get("If-None-Match") == etag
        else:
            fresh = self.headers.get("If-Modified-Since") == LAST_MODIFIED
        if fresh:
            return self._send(304, content_type=None, headers=headers)
        return self._send(200, body, content_type, headers)

    def _route(self, site: Site, record: Request) -> int:
        path = self.path
        if path == "/robots.txt":
            return self._send(200, ROBOTS)
        if path == "/feed.rss":
            return self._conditional(rss(site.base, site.feed_version), "application/rss+xml",
                                     f'"rss-v{site.feed_version}"')
        if path == "/feed-full.rss":  # whole articles in the feed: nothing to follow
            text = "Der ganze Artikel steht schon im Feed, mit allen Absätzen. " * 12
            item = (f"<item><guid>full-1</guid><title>Ganz</title><link>{site.base}/de/radwege.html</link>"
                    f"<description>Kurz.</description><content:encoded><![CDATA[<p>{text}</p>]]>"
                    "</content:encoded></item>")
            body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
                    'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
                    f"{item}</channel></rss>").encode()
            return self._send(200, body, "application/rss+xml")
        if path == "/feed-blog.rss":  # a blog whose boilerplate sits inside <article>
            item = ("<item><guid>blog-1</guid><title>Bahn kündigt neue Verbindungen an</title>"
                    "<link>/blog/bahn.html</link>"  # relative: resolved against the feed's URL
                    "<description>Mehr Direktzüge ab Dezember [&#8230;]</description></item>")
            body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>b</title>'
                    f"{item}</channel></rss>").encode()
            return self._send(200, body, "application/rss+xml")
        if path == "/feed.atom":
            return self._conditional(atom(site.base), "application/atom+xml", None)  # no ETag
        if path in ARTICLES or path == "/de/radwege-2.html":
            time.sleep(site.page_delay)
            name, encoding, content_type = ARTICLES.get(path, ARTICLES["/de/radwege.html"])
            body = (PAGES / name).read_text(encoding="utf-8").encode(encoding)
            return self._conditional(body, content_type, f'"{name}-v1"')
        if path in ("/schleife-a", "/schleife-b"):
            other = "/schleife-b" if path == "/schleife-a" else "/schleife-a"
            return self._send(302, headers={"Location": other})
        if path == "/umgezogen.html":
            return self._send(301, headers={"Location": "/private/umgezogen.html"})
        if path == "/langsam.html":
            site.release.wait(site.slow_seconds)
            return self._send(200, b"<html><body><p>zu spaet</p></body></html>", "text/html")
        if path == "/riesig.html":
            chunk = b"<p>" + b"Sehr viel Text. " * 64 + b"</p>\n"
            body = b"<html><body>" + chunk * (site.big_bytes // len(chunk) + 1) + b"</body></html>"
            return self._send(200, body, "text/html", length=False)  # size unknown until read
        if path == "/busy":
            if site.busy_left > 0:
                site.busy_left -= 1
                return self._send(503, b"busy", headers={"Retry-After": "1"})
            return self._send(200, b"ok now")
        if path.startswith("/slowpage/"):
            time.sleep(site.page_delay)
            return self._send(200, b"<html><body><p>ok</p></body></html>", "text/html")
        return self._send(404, b"not found")


class NewsSite:
    """Context manager: ``with NewsSite() as site: ... site.base ...``."""

    def __init__(self, **options):
        self.site = Site(**options)

    def __enter__(self) -> Site:
        handler = type("Handler", (_Handler,), {"site": self.site})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        # polled every 0.01 s: shutdown() waits for the next poll, once per test
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()
        self.site.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self.site

    def __exit__(self, *exc) -> None:
        self.site.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
