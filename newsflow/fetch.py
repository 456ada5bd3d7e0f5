"""The one module that opens network connections.

Everything else (feed parsing, HTML extraction, cleaning) works on bytes and
strings, so tests replace :func:`fetch_bytes` (``monkeypatch.setattr(fetch,
"fetch_bytes", ...)``) or point it at a loopback server, and Prefect can retry
"load" (this module) separately from "parse".
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

import httpx

from newsflow.errors import SourceError

USER_AGENT = "newsflow/0.1"
# A news page or feed is well under a megabyte; 20 MB means something is wrong
# (a video, an endless stream), and we refuse rather than keep a truncated copy.
MAX_BYTES = 20 * 1024 * 1024


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
    """

    location: str
    data: bytes = b""
    content_type: str | None = None
    key: str | None = None
    error: str | None = None
    skipped: bool = False

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


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) or "unknown error"


def fetch_bytes(url: str, timeout: float, max_bytes: int = MAX_BYTES) -> Payload:
    """GET ``url`` (redirects followed) and return its body and Content-Type.

    Raises :class:`SourceError` ``"<url>: <reason>"`` on a timeout, a refused or
    failed connection, an HTTP error status, or a body over ``max_bytes``.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout, headers=headers) as client:
            with client.stream("GET", url) as response:
                if response.status_code >= 400:
                    reason = response.reason_phrase or ""
                    raise SourceError(f"{url}: HTTP {response.status_code} {reason}".rstrip())
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise SourceError(
                        f"{url}: response too large ({int(declared)} bytes, limit {max_bytes})"
                    )
                chunks: list[bytes] = []
                size = 0
                # iter_bytes yields decompressed data, so the cap also stops gzip bombs.
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise SourceError(
                            f"{url}: response too large (over {max_bytes} bytes, refused)"
                        )
                    chunks.append(chunk)
                return Payload(
                    location=url,
                    data=b"".join(chunks),
                    content_type=response.headers.get("content-type"),
                )
    except SourceError:
        raise
    except httpx.TimeoutException:
        raise SourceError(f"{url}: timed out after {timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise SourceError(f"{url}: cannot connect: {_one_line(exc)}") from None
    except httpx.TooManyRedirects:
        raise SourceError(f"{url}: too many redirects") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise SourceError(f"{url}: invalid URL: {_one_line(exc)}") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {_one_line(exc)}") from None
