"""read_source: the one entry point (lazy, faults by kind)."""

from __future__ import annotations

import inspect
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsflow import sources
from newsflow.config import SourceConfig
from newsflow.errors import SourceError, TransientSourceError
from newsflow.sources import load_source, parse_payloads, read_source

DATA = Path(__file__).parent / "data" / "sources"


def test_folder_is_read_file_by_file(monkeypatch):
    reads = []
    real = sources._read_file

    def counting(path, key):
        reads.append(key)
        return real(path, key)

    monkeypatch.setattr(sources, "_read_file", counting)
    source = SourceConfig(name="inbox", kind="folder", path="folder", lang="de")
    articles = read_source(source, DATA)
    assert inspect.isgenerator(articles)
    assert reads == []  # nothing read before the first article is asked for
    first = next(articles)
    assert reads == ["a-article.txt"] and first.key == "a-article.txt"
    rest = list(articles)
    # the same articles as the two-step form, skipped files left out
    expected = parse_payloads(source, load_source(source, DATA))
    assert [a.key for a in [first, *rest]] == [a.key for a in expected]
    assert [a.body for a in [first, *rest]] == [a.body for a in expected]


def test_feed_file_same_as_two_step_form():
    source = SourceConfig(name="feed", kind="feed", url="feeds/rss_content.xml", lang="de")
    got = list(read_source(source, DATA))
    expected = parse_payloads(source, load_source(source, DATA))
    assert [(a.key, a.title, a.body, a.published) for a in got] == [
        (a.key, a.title, a.body, a.published) for a in expected
    ]
    # a feed read from a file is a snapshot: auto does not follow its links
    assert all(a.fetched_from is None and a.fetch_note is None for a in got)
    assert got[0].source_updated == "2024-05-06T08:00:00+00:00"


@pytest.mark.parametrize(
    "config, message",
    [
        ({"kind": "feed", "url": "feeds/nope.xml"}, "does not exist"),
        ({"kind": "feed", "url": "feeds/malformed.xml"}, "malformed feed"),
        ({"kind": "folder", "path": "nope"}, "does not exist"),
        ({"kind": "pages", "pages": ["pages/nope.html"]}, "does not exist"),
    ],
)
def test_permanent_file_errors_are_not_transient(config, message):
    with pytest.raises(SourceError, match=message) as err:
        list(read_source(SourceConfig(name="s", **config), DATA))
    assert not isinstance(err.value, TransientSourceError)
    assert str(err.value).startswith("source 's': ") and "\n" not in str(err.value)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        status = {"/gone": 410, "/missing": 404, "/down": 503, "/busy": 429,
                  "/robots.txt": 404}.get(self.path, 200)
        body = b"<html><body>not a feed</body></html>" if status == 200 else b"no"
        self.send_response(status)
        if self.path == "/busy":
            self.send_header("Retry-After", "120")
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def base():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    "path, transient, retry_after",
    [("/gone", False, None), ("/missing", False, None), ("/page", False, None),
     ("/down", True, None), ("/busy", True, 120.0)],
)
def test_http_feed_errors_by_kind(base, path, transient, retry_after):
    source = SourceConfig(name="remote", kind="feed", url=f"{base}{path}",
                          fetch={"min_delay_seconds": 0, "timeout_seconds": 5})
    with pytest.raises(SourceError) as err:
        list(read_source(source, DATA))
    assert isinstance(err.value, TransientSourceError) == transient
    assert str(err.value).startswith(f"source 'remote': {base}{path}: ")
    if transient:
        assert err.value.retry_after == retry_after
    if path == "/page":
        assert "malformed feed" in str(err.value)


def test_transient_error_survives_pickling():
    import pickle

    err = pickle.loads(pickle.dumps(TransientSourceError("x: HTTP 429", retry_after=3.0)))
    assert isinstance(err, TransientSourceError) and err.retry_after == 3.0 and str(err) == "x: HTTP 429"


def test_flow_retries_only_transient_source_errors():
    from prefect.states import Failed

    from flows.translate_news import intake_source, only_transient

    assert intake_source.retry_condition_fn is only_transient and intake_source.retries == 3
    assert only_transient(None, None, Failed(data=TransientSourceError("x: timed out after 5 s")))
    assert not only_transient(None, None, Failed(data=SourceError("x: HTTP 404 Not Found")))
    assert not only_transient(None, None, Failed(data=ValueError("a bug")))
