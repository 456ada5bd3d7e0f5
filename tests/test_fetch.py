"""fetch_bytes against a loopback HTTP server: bodies, headers and one-line errors.

Politeness (robots.txt, per-host limits, Retry-After, conditional requests) is in
tests/test_fetch_polite.py."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsflow import fetch
from newsflow.errors import SourceError, TransientSourceError
from newsflow.fetch import USER_AGENT, Payload, fetch_bytes

GERMAN = "Grüße aus München".encode("latin-1")


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event  # set by the fixture so a "slow" handler ends at teardown
    seen_agents: list[str]
    seen_paths: list[str]

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str | None = None, length=True):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.seen_agents.append(self.headers.get("User-Agent", ""))
        self.seen_paths.append(self.path)
        if self.path == "/ok":
            self._send(200, GERMAN, "text/html; charset=ISO-8859-1")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/fail":
            self._send(500, b"boom", "text/plain")
        elif self.path == "/slow":
            self.release.wait(10)
            self._send(200, b"late")
        elif self.path == "/big-declared":
            self._send(200, b"x" * 5000, "text/plain")
        elif self.path == "/big-stream":
            # HTTP/1.0 without Content-Length: the size is only known while reading
            self._send(200, b"y" * 5000, "text/plain", length=False)
        else:
            self._send(404, b"not here", "text/plain")


@pytest.fixture(autouse=True)
def no_delay(monkeypatch):
    """fetch_bytes uses the default settings; without the 1 s between requests here."""
    monkeypatch.setattr(fetch, "DEFAULTS", fetch.DEFAULTS.model_copy(update={"min_delay_seconds": 0}))


@pytest.fixture
def server():
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"release": release, "seen_agents": [], "seen_paths": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    # polled every 0.01 s: shutdown() at teardown waits for the next poll, once per test
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_ok_returns_bytes_and_content_type(server):
    base, handler = server
    payload = fetch_bytes(f"{base}/ok", timeout=5)
    assert isinstance(payload, Payload)
    assert payload.data == GERMAN  # bytes untouched; decoding is the parser's job
    assert payload.content_type == "text/html; charset=ISO-8859-1"
    assert payload.charset == "iso-8859-1"
    assert payload.location == payload.key == f"{base}/ok"
    # robots.txt first (a 404 here: no rules), then the page; both name newsflow
    assert handler.seen_paths == ["/robots.txt", "/ok"]
    assert handler.seen_agents == [USER_AGENT, USER_AGENT]
    assert "newsflow" in USER_AGENT


def test_redirects_are_followed(server):
    base, _ = server
    assert fetch_bytes(f"{base}/redirect", timeout=5).data == GERMAN


@pytest.mark.parametrize("path, status", [("/fail", "HTTP 500"), ("/missing", "HTTP 404")])
def test_http_error_names_url_and_status(server, path, status):
    base, _ = server
    with pytest.raises(SourceError) as err:
        fetch_bytes(f"{base}{path}", timeout=5)
    message = str(err.value)
    assert message.startswith(f"{base}{path}: {status}")
    assert "\n" not in message
    # a 5xx may pass (retried by the flow), a 404 will not
    assert isinstance(err.value, TransientSourceError) == (status == "HTTP 500")


def test_timeout(server):
    base, _ = server
    with pytest.raises(TransientSourceError, match=r"/slow: timed out after 0\.3 s$"):
        fetch_bytes(f"{base}/slow", timeout=0.3)


def test_connection_refused():
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed.xml"
    with pytest.raises(TransientSourceError) as err:
        fetch_bytes(url, timeout=5)
    assert str(err.value).startswith(f"{url}: cannot connect")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("path", ["/big-declared", "/big-stream"])
def test_too_large_is_refused_not_truncated(server, path):
    base, _ = server
    with pytest.raises(SourceError, match=rf"^{base}{path}: response too large"):
        fetch_bytes(f"{base}{path}", timeout=5, max_bytes=1000)
    # at the limit it is fine
    assert len(fetch_bytes(f"{base}{path}", timeout=5, max_bytes=5000).data) == 5000


def test_invalid_url():
    with pytest.raises(SourceError, match=r"^ftp://example\.org/x: invalid URL"):
        fetch_bytes("ftp://example.org/x", timeout=1)


def test_payload_charset_parsing():
    assert Payload("x", content_type='application/rss+xml; charset="GB2312"').charset == "gb2312"
    assert Payload("x", content_type="text/html").charset is None
    assert Payload("x").charset is None
