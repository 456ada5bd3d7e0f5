"""The one module that opens network connections, and does so politely.

Everything else (feed parsing, HTML extraction, cleaning) works on bytes and
strings. :func:`get` is the entry point; :func:`fetch_bytes` is the older
two-argument form (tests replace it with ``monkeypatch.setattr(fetch,
"fetch_bytes", ...)`` for :func:`newsflow.sources.load_source`).

Politeness, per host (scheme, host and port), shared by every source and thread
of the process:

* robots.txt is read once per host per run (:func:`begin_run` starts a run; the
  copy also expires after :data:`ROBOTS_TTL` seconds for processes that never
  call it) and obeyed for every request, redirects included (RFC 9309 rules,
  :mod:`newsflow.robots`). A robots.txt answering 4xx allows everything; one
  that cannot be fetched (timeout, 5xx) disallows everything for now, a
  transient error, as the RFC asks.
* at most ``per_host_concurrency`` requests at once; none starts sooner than
  ``min_delay_seconds`` (the robots.txt ``Crawl-delay`` if larger, capped) after the
  previous one to the host started, nor after the previous answer arrived. A
  request that timed out keeps its slot for :data:`TIMEOUT_HOLD_FACTOR` timeouts
  more: the server is probably still busy with it; after
  :data:`MAX_TIMEOUTS_IN_A_ROW` timeouts in a row a host is not asked again this run.
* ``Retry-After`` on 429/503: no request to that host before then. A wait up to
  the request timeout is waited out and the request made once more; a longer one
  raises :class:`TransientSourceError` carrying ``retry_after``.
* each request has one deadline for connect, headers and body together
  (``timeout_seconds``), at most ``max_redirects`` hops, and a body over
  ``max_bytes`` is refused (decompressed size, so gzip bombs stop too).

Errors are one line ``"<url>: <reason>"``: :class:`TransientSourceError` for what
may pass (timeouts, connection errors, 408/429/5xx), :class:`SourceError` for the
rest (404/410 and other 4xx, too large, too many redirects, disallowed by robots.txt).
"""

from __future__ import annotations

import email.utils
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin, urlsplit

import httpx

from newsflow.config import FetchConfig
from newsflow.errors import SourceError, TransientSourceError
from newsflow.robots import ALLOW_ALL, DISALLOW_ALL, Robots, parse_robots

log = logging.getLogger("newsflow.fetch")

DEFAULTS = FetchConfig()
USER_AGENT = DEFAULTS.agent
# A news page or feed is well under a megabyte; 20 MB means something is wrong
# (a video, an endless stream), and we refuse rather than keep a truncated copy.
MAX_BYTES = DEFAULTS.max_bytes
ROBOTS_TTL = 3600.0  # seconds a robots.txt is kept when no run boundary says otherwise
ROBOTS_UNREACHABLE_TTL = 60.0  # a robots.txt that could not be read is tried again after this
MAX_CRAWL_DELAY = 30.0
TIMEOUT_HOLD_FACTOR = 2.0  # a timed-out request's slot stays taken this many timeouts longer
# After this many timeouts in a row, a host is not asked again in this run: a site that has
# stopped answering would otherwise cost every item of its feed a timeout (and a held slot).
MAX_TIMEOUTS_IN_A_ROW = 3
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: at least 500 KiB must be read
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})


class Disallowed(SourceError):
    """robots.txt of the host disallows the URL for our user agent."""


@dataclass
class Payload:
    """Bytes as a source delivered them, before any decoding.

    ``location`` is the URL or file path read. ``key`` identifies the item inside
    its source (relative path for folder files, the configured URL/path for
    pages); it defaults to ``location``. ``content_type`` is the HTTP header
    (its charset is the declared encoding) or None for files.

    ``error`` is set when the item exists but could not be read (too large,
    unreadable, one page of a ``pages`` source unreachable): parsing turns it
    into a failed article. ``skipped`` marks files a folder source does not
    handle (wrong extension, hidden); they carry their reason in ``error`` and
    produce no article, but are returned so callers can list them.

    HTTP answers also carry ``final_url`` (after redirects), the validators
    ``etag`` / ``last_modified`` for the next conditional request, and
    ``not_modified`` (a 304: ``data`` is empty, what was stored stands).
    """

    location: str
    data: bytes = b""
    content_type: str | None = None
    key: str | None = None
    error: str | None = None
    skipped: bool = False
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False

    def __post_init__(self) -> None:
        if self.key is None:
            self.key = self.location

    @property
    def charset(self) -> str | None:
        """The charset parameter of ``content_type`` (lower case), if any."""
        if not self.content_type:
            return None
        msg = Message()
        msg["content-type"] = self.content_type
        charset = msg.get_param("charset")
        if not isinstance(charset, str):  # absent, or an RFC 2231 tuple nobody sends
            return None
        return charset.strip().strip("'\"").lower() or None

    @property
    def validators(self) -> dict[str, str]:
        """``{"etag": ..., "last_modified": ...}`` as far as the server sent them."""
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def _one_line(text: object) -> str:
    return " ".join(str(text).split()) or "unknown error"


# --------------------------------------------------------------------------- per-host state


@dataclass
class _Host:
    cond: threading.Condition = field(default_factory=threading.Condition)
    active: int = 0
    next_start: float = 0.0  # monotonic time before which no request may start (our own pacing)
    paused_until: float = 0.0  # monotonic time the host itself asked us to wait for (Retry-After)
    last_timeout: str = ""  # what the last timed-out request said, for the refusal message
    robots: Robots | None = None
    robots_until: float = 0.0
    robots_lock: threading.Lock = field(default_factory=threading.Lock)
    timeouts: int = 0  # in a row, this run


_hosts: dict[str, _Host] = {}
_hosts_lock = threading.Lock()


def begin_run() -> None:
    """Start a new run: every host's robots.txt is read again on first use."""
    with _hosts_lock:
        for host in _hosts.values():
            host.robots_until = 0.0
            host.timeouts = 0


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def _host(url: str) -> _Host:
    key = _host_key(url)
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None:
            host = _hosts[key] = _Host()
        return host


@contextmanager
def _slot(host: _Host, config: FetchConfig, url: str) -> Iterator[None]:
    """Hold one of the host's concurrent-request slots, started no sooner than the
    minimum delay after the previous request to the host. A host that asked for a
    longer pause (Retry-After) than one request may take is not waited for."""
    crawl_delay = host.robots.crawl_delay if host.robots and host.robots.crawl_delay else 0.0
    delay = max(config.min_delay_seconds, min(crawl_delay, MAX_CRAWL_DELAY))
    with host.cond:
        while host.active >= config.per_host_concurrency:
            host.cond.wait()
        if host.timeouts >= MAX_TIMEOUTS_IN_A_ROW:
            raise TransientSourceError(f"{url}: not asked: the host timed out {host.timeouts} "
                                       f"times in a row in this run (last: {host.last_timeout})")
        now = time.monotonic()
        # Only a pause the host asked for (Retry-After) longer than one request may take is
        # refused; our own pacing (min delay between requests) is a queue: wait for the turn.
        paused = host.paused_until - now
        if paused > max(config.timeout_seconds, delay):
            raise TransientSourceError(f"{url}: the host asked for a pause (Retry-After): "
                                       f"{paused:.0f} s left", retry_after=paused)
        start = max(now, host.next_start, host.paused_until)
        host.active += 1
        host.next_start = start + delay
    timed_out = False
    try:
        wait = start - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        yield
    except httpx.TimeoutException:
        timed_out = True
        with host.cond:
            host.timeouts += 1
            host.last_timeout = f"timed out after {config.timeout_seconds:g} s"  # as the error says
        raise
    else:
        with host.cond:
            host.timeouts = 0
    finally:
        if timed_out:
            # A server that did not answer in time is most likely still working on the
            # request we gave up on: its slot stays taken a while longer, so the host
            # does not see one request more than the limit.
            timer = threading.Timer(TIMEOUT_HOLD_FACTOR * config.timeout_seconds, _release,
                                    (host, delay))
            timer.daemon = True
            timer.start()
        else:
            _release(host, delay)


def _release(host: _Host, delay: float) -> None:
    with host.cond:
        host.active -= 1
        # The request may have reached the server later than it started here (a new
        # connection): the delay also counts from when its answer came.
        host.next_start = max(host.next_start, time.monotonic() + delay)
        host.cond.notify_all()


def _hold_off(host: _Host, seconds: float) -> None:
    """Retry-After: no request to the host starts in the next ``seconds``."""
    with host.cond:
        host.paused_until = max(host.paused_until, time.monotonic() + seconds)


# --------------------------------------------------------------------------- HTTP client

_client: httpx.Client | None = None
_client_pid = 0
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    """One connection pool per process (keep-alive is politer than a new connection
    per request); made again after a fork."""
    global _client, _client_pid
    with _client_lock:
        if _client is None or _client_pid != os.getpid():
            _client = httpx.Client(follow_redirects=False,  # proxies from the environment honoured
                                   limits=httpx.Limits(max_connections=64))
            _client_pid = os.getpid()
        return _client


@dataclass
class _Answer:
    status: int
    reason: str
    headers: httpx.Headers
    data: bytes
    url: str = ""  # the URL that answered (after redirects)


def _request(url: str, headers: dict[str, str], config: FetchConfig, max_bytes: int) -> _Answer:
    """One GET inside the host's slot, bounded by ``timeout_seconds`` as a whole
    (connect, headers and body), counted from when the slot is taken."""
    host = _host(url)
    client = _http()  # made on first use (loading CA certificates takes a while): not timed
    with _slot(host, config, url):
        deadline = time.monotonic() + config.timeout_seconds
        timeout = httpx.Timeout(config.timeout_seconds)
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            data = b""
            if response.status_code == 200:
                data = _read_body(response, url, deadline, max_bytes)
            return _Answer(response.status_code, response.reason_phrase or "", response.headers,
                           data, url)


def _read_body(response: httpx.Response, url: str, deadline: float, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(f"{url}: response too large ({int(declared)} bytes, limit {max_bytes})")
    chunks: list[bytes] = []
    size = 0
    # iter_bytes yields decompressed data, so the cap also stops gzip bombs.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(f"{url}: response too large (over {max_bytes} bytes, refused)")
        if time.monotonic() > deadline:  # a server trickling bytes slower than the timeout
            raise httpx.ReadTimeout("body not complete before the deadline")
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


# --------------------------------------------------------------------------- robots.txt


def _robots(url: str, config: FetchConfig) -> Robots:
    host = _host(url)
    with host.robots_lock:  # one read per host, however many threads ask at once
        if host.robots is not None and time.monotonic() < host.robots_until:
            return host.robots
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        headers = {"User-Agent": config.agent, "Accept": "text/plain, */*"}
        try:
            answer = _follow(robots_url, headers, config, ROBOTS_MAX_BYTES, check=False)
        except TransientSourceError as exc:
            # RFC 9309 2.3.1.4: unreachable means "assume complete disallow"; tried again soon.
            host.robots, host.robots_until = DISALLOW_ALL, time.monotonic() + ROBOTS_UNREACHABLE_TTL
            reason = str(exc).removeprefix(f"{robots_url}: ")
            raise TransientSourceError(f"{url}: {reason} (reading robots.txt)",
                                       retry_after=exc.retry_after) from None
        except SourceError as exc:  # a redirect loop, too large: no usable robots.txt
            log.warning("%s: %s; treated as no robots.txt", robots_url, exc)
            answer = _Answer(404, "", httpx.Headers(), b"")
        ttl = ROBOTS_TTL
        if answer.status == 200:
            rules = parse_robots(answer.data.decode("utf-8", "replace"), _product(config))
        elif 400 <= answer.status < 500 and answer.status not in (408, 429):
            rules = ALLOW_ALL  # RFC 9309 2.3.1.3: "unavailable" means no rules
        else:
            rules, ttl = DISALLOW_ALL, ROBOTS_UNREACHABLE_TTL
            host.robots, host.robots_until = rules, time.monotonic() + ttl
            raise TransientSourceError(f"{url}: robots.txt of the host unreachable: "
                                       f"HTTP {answer.status}")
        host.robots, host.robots_until = rules, time.monotonic() + ttl
        return rules


def _product(config: FetchConfig) -> str:
    """The product token robots.txt groups are matched against ("newsflow")."""
    return config.user_agent.split("/")[0].split()[0].lower() or "newsflow"


# --------------------------------------------------------------------------- GET


def _follow(url: str, headers: dict[str, str], config: FetchConfig, max_bytes: int,
            check: bool = True) -> _Answer:
    """GET with redirects followed by hand: each hop counted, checked against robots.txt
    and a loop detected. Raises SourceError / TransientSourceError."""
    seen = {url}
    current = url
    for _ in range(config.max_redirects + 1):
        if check and not _robots(current, config).allowed(current):
            where = "" if current == url else f" (redirected to {current})"
            raise Disallowed(f"{url}: disallowed by robots.txt{where}")
        try:
            answer = _request(current, headers, config, max_bytes)
        except SourceError:
            raise
        except httpx.TimeoutException:
            raise TransientSourceError(f"{url}: timed out after {config.timeout_seconds:g} s") from None
        except httpx.ConnectError as exc:
            raise TransientSourceError(f"{url}: cannot connect: {_one_line(exc)}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise SourceError(f"{url}: invalid URL: {_one_line(exc)}") from None
        except httpx.TransportError as exc:  # reset, protocol error, proxy...
            raise TransientSourceError(f"{url}: {type(exc).__name__}: {_one_line(exc)}") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: {type(exc).__name__}: {_one_line(exc)}") from None
        location = answer.headers.get("location")
        if answer.status not in REDIRECT_STATUS or not location:
            return answer
        nxt = urljoin(current, location)
        if not is_url(nxt):
            raise SourceError(f"{url}: redirected to a non-HTTP location {nxt}")
        if nxt in seen:
            raise SourceError(f"{url}: redirect loop ({current} -> {nxt})")
        seen.add(nxt)
        current = nxt
    raise SourceError(f"{url}: too many redirects (limit {config.max_redirects})")


def get(url: str, config: FetchConfig | None = None, *, etag: str | None = None,
        last_modified: str | None = None, max_bytes: int | None = None,
        accept: str = "*/*") -> Payload:
    """GET ``url`` politely (module docstring); a conditional request when ``etag`` or
    ``last_modified`` (the previous answer's validators) are given.

    Returns the body as bytes with its Content-Type, the final URL and the new
    validators; a 304 comes back as ``not_modified=True`` with no data. Raises
    :class:`TransientSourceError` or :class:`SourceError` (one line naming ``url``).
    """
    if not is_url(url):
        raise SourceError(f"{url}: invalid URL: only http and https are fetched")
    config = config or DEFAULTS
    limit = max_bytes if max_bytes is not None else config.max_bytes
    headers = {"User-Agent": config.agent, "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for attempt in (1, 2):
        answer = _follow(url, headers, config, limit)
        status = answer.status
        if status in (200, 304):
            return Payload(
                location=url,
                data=answer.data,
                content_type=answer.headers.get("content-type"),
                final_url=answer.url,
                etag=answer.headers.get("etag"),
                last_modified=answer.headers.get("last-modified"),
                not_modified=status == 304,
            )
        message = f"{url}: HTTP {status} {answer.reason}".rstrip()
        wait = _retry_after(answer.headers) if status in (429, 503) else None
        if wait is not None:
            _hold_off(_host(answer.url), wait)
            if attempt == 1 and wait <= config.timeout_seconds:
                log.info("%s: HTTP %d, Retry-After %.0f s: waiting, then once more", url, status, wait)
                continue
            raise TransientSourceError(f"{message} (Retry-After {wait:.0f} s)", retry_after=wait)
        if status in TRANSIENT_STATUS:
            raise TransientSourceError(message)
        if 200 < status < 300:
            raise SourceError(f"{message}: not a document")
        raise SourceError(message)
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_bytes(url: str, timeout: float, max_bytes: int = MAX_BYTES) -> Payload:
    """:func:`get` with the default settings but this ``timeout`` and ``max_bytes``."""
    config = DEFAULTS.model_copy(update={"timeout_seconds": timeout})
    return get(url, config, max_bytes=max_bytes)
