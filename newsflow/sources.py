"""Sources: load bytes (I/O), then parse them into :class:`RawArticle` records (pure).

The two steps are separate so a Prefect task can retry a flaky download
without re-parsing, and so parsing is tested from bytes alone:

* :func:`load_source` reads files or calls :func:`newsflow.fetch.fetch_bytes`
  (the only network access) and returns :class:`~newsflow.fetch.Payload` objects.
* :func:`parse_payloads` turns payloads into raw articles; it opens nothing.
* :func:`newsflow.charset.decode_text` is the one place bytes become text for every format
  except feeds (feedparser decodes those, told the charset we settled on).

Failure policy: a whole source that cannot be read (missing path, feed down,
malformed feed) raises :class:`SourceError`. A single item that cannot be read
or decoded (one page of several, a bad JSON line, undecodable bytes) becomes a
``RawArticle`` with ``error`` set, so it is stored as failed instead of vanishing.
Warnings that do not stop anything (a feed with XML errors whose entries were
still read, a guessed charset, skipped files) go to the ``newsflow.sources``
logger; Prefect shows them when that logger is listed in
``PREFECT_LOGGING_EXTRA_LOGGERS``.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import feedparser

from newsflow import fetch
from newsflow.article import RawArticle
from newsflow.charset import SUPERSETS, DecodeError, codec_name, declared_charsets, decode_text
from newsflow.clean import html_title_and_date, html_to_plain_line, looks_like_html
from newsflow.config import SourceConfig
from newsflow.errors import SourceError
from newsflow.fetch import Payload, is_url

log = logging.getLogger("newsflow.sources")

FOLDER_EXTENSIONS = (".txt", ".html", ".htm", ".json", ".jsonl")
HTML_TYPES = ("text/html", "application/xhtml+xml")


# --------------------------------------------------------------------------- loading (I/O)


def load_source(source: SourceConfig, base_dir: Path) -> list[Payload]:
    """Read everything ``source`` points at, without interpreting it.

    feed: one payload. folder: one per file, sorted by relative path, recursive;
    unsupported and hidden files come back with ``skipped=True`` and a reason.
    pages: one per page; a page that cannot be fetched comes back with ``error``
    set, unless every page failed, which raises (so the load task retries).
    """
    timeout = source.timeout_seconds
    if source.kind == "feed":
        assert source.url is not None  # SourceConfig guarantees it
        return [_load_one(source, source.url, base_dir, timeout)]
    if source.kind == "folder":
        assert source.path is not None
        return _load_folder(source, _resolve(source.path, base_dir))
    pages = source.pages or []
    payloads: list[Payload] = []
    for page in pages:
        try:
            payloads.append(_load_one(source, page, base_dir, timeout))
        except SourceError as exc:
            payloads.append(Payload(location=page, error=str(exc)))
    failed = [p for p in payloads if p.error]
    if payloads and len(failed) == len(payloads):
        more = f" (and {len(failed) - 1} more pages failed)" if len(failed) > 1 else ""
        raise SourceError(f"{failed[0].error}{more}")
    return payloads


def _resolve(path: Path | str, base_dir: Path) -> Path:
    text = str(path)
    if text.lower().startswith("file://"):
        text = unquote(urlparse(text).path)
    p = Path(os.path.expanduser(text))
    return p if p.is_absolute() else base_dir / p


def _load_one(source: SourceConfig, location: str, base_dir: Path, timeout: float) -> Payload:
    if is_url(location):
        try:
            payload = fetch.fetch_bytes(location, timeout)
        except SourceError as exc:
            raise SourceError(f"source '{source.name}': {exc}") from None
        payload.key = location
        return payload
    path = _resolve(location, base_dir)
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise SourceError(f"source '{source.name}': {path} {what}")
    payload = _read_file(path, key=location)
    if payload.error:
        raise SourceError(f"source '{source.name}': {payload.error}")
    return payload


def _read_file(path: Path, key: str) -> Payload:
    try:
        if not path.is_file():  # a FIFO or device named *.txt would block the read forever
            return Payload(str(path), key=key, error=f"{path}: not a regular file")
        size = path.stat().st_size
        if size > fetch.MAX_BYTES:
            return Payload(
                str(path),
                key=key,
                error=f"{path}: file too large ({size} bytes, limit {fetch.MAX_BYTES})",
            )
        return Payload(str(path), data=path.read_bytes(), key=key)
    except OSError as exc:
        return Payload(str(path), key=key, error=f"{path}: cannot read: {exc.strerror or exc}")


def _load_folder(source: SourceConfig, root: Path) -> list[Payload]:
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise SourceError(f"source '{source.name}': {root} {what}")
    payloads: list[Payload] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in list(dirnames):
            if name.startswith("."):
                # Hidden folders (.git, .cache) are listed once, not walked file by file.
                dirnames.remove(name)
                rel = (here / name).relative_to(root).as_posix() + "/"
                payloads.append(_skipped(here / name, rel, "hidden folder"))
        for name in filenames:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if name.startswith("."):
                payloads.append(_skipped(path, rel, "hidden file"))
            elif path.suffix.lower() not in FOLDER_EXTENSIONS:
                kinds = ", ".join(FOLDER_EXTENSIONS)
                payloads.append(_skipped(path, rel, f"not one of {kinds}"))
            else:
                payloads.append(_read_file(path, key=rel))
    payloads.sort(key=lambda p: p.key or "")
    for p in payloads:
        if p.skipped:
            log.warning("source '%s': skipped %s", source.name, p.error)
    return payloads


def _skipped(path: Path, rel: str, reason: str) -> Payload:
    return Payload(str(path), key=rel, error=f"{path}: {reason}", skipped=True)


def _decode_payload(payload: Payload, lang: str | None) -> tuple[str, str]:
    """decode_text for a payload, logging the charset used and any wrong declaration."""
    text, charset = decode_text(payload.data, payload.charset, lang)
    declared = codec_name(payload.charset) or next(iter(declared_charsets(payload.data)), None)
    used = codec_name(charset)
    if declared and used != declared and used not in SUPERSETS.get(declared, ()):
        log.warning(
            "%s: declared charset %s does not fit the bytes; decoded as %s",
            payload.location,
            codecs.lookup(declared).name,
            charset,
        )
    else:
        log.debug("%s: decoded as %s", payload.location, charset)
    return text, charset


# --------------------------------------------------------------------------- parsing (pure)


def parse_payloads(source: SourceConfig, payloads: list[Payload]) -> list[RawArticle]:
    """Turn loaded payloads into raw articles; opens no file and no connection.

    Raises :class:`SourceError` only for a feed that cannot be read at all.
    Skipped payloads produce no article (see :func:`load_source`).
    """
    articles: list[RawArticle] = []
    for payload in payloads:
        if payload.skipped:
            continue
        if source.kind == "feed":
            if payload.error:
                raise SourceError(f"source '{source.name}': {payload.error}")
            articles.extend(parse_feed(source, payload))
        elif payload.error:
            articles.append(_failed(source, payload.key or payload.location, payload.error))
        elif source.kind == "folder":
            articles.extend(parse_folder_file(source, payload))
        else:
            articles.append(parse_page(source, payload))
    return [_without_surrogates(article) for article in articles]


# A lone surrogate ("\ud800" escaped in JSON) cannot be encoded: it would crash hashing the
# id and writing the row, so every text field of a raw article is scrubbed once, here.
_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT_FIELDS = ("key", "title", "body", "url", "published", "expected_lang", "error")


def _without_surrogates(article: RawArticle) -> RawArticle:
    for name in _TEXT_FIELDS:
        value = getattr(article, name)
        if isinstance(value, str) and _SURROGATE.search(value):
            setattr(article, name, _SURROGATE.sub("\ufffd", value))
    return article


def _failed(source: SourceConfig, key: str, error: str, **fields) -> RawArticle:
    return RawArticle(
        source=source.name,
        key=key,
        title=fields.pop("title", ""),
        body="",
        expected_lang=fields.pop("expected_lang", source.lang),
        error=error,
        **fields,
    )


# ---- feeds


def parse_feed(source: SourceConfig, payload: Payload) -> list[RawArticle]:
    """RSS / Atom bytes -> one raw article per entry.

    The charset is settled by :func:`decode_text` and handed to feedparser as an
    ``application/xml`` header, which feedparser lets override the XML
    declaration (so a GB18030 feed without a declaration is not read as
    windows-1252). A feed with XML errors but entries keeps its entries (logged);
    one with no entries that is not a well-formed feed raises.
    """
    where = f"source '{source.name}': {payload.location}"
    try:
        _, charset = _decode_payload(payload, source.lang)
    except DecodeError as exc:
        raise SourceError(f"{where}: {exc}") from None
    try:
        parsed = feedparser.parse(
            _CHAR_REF.sub(_valid_char_ref, payload.data),
            response_headers={"content-type": f"application/xml; charset={charset}"},
            resolve_relative_uris=True,
            sanitize_html=True,
        )
    except Exception as exc:  # feedparser's loose parser raises on odd input
        raise SourceError(
            f"{where}: malformed feed: {type(exc).__name__}: {_one_line(exc)}"
        ) from None
    entries = parsed.get("entries", [])
    problem = parsed.get("bozo_exception")
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        reason = _one_line(problem) if problem else "no RSS or Atom feed found"
        raise SourceError(f"{where}: malformed feed: {reason}")
    articles = [_entry_article(source, entry) for entry in entries]
    if parsed.get("bozo") and problem:
        log.warning(
            "%s: feed has errors (%s); kept %d entries", where, _one_line(problem), len(entries)
        )
        # An entry the broken XML left empty (a feed cut off inside an <item>) is stored as
        # failed with the feed's error, not as a mysterious "no article text found".
        for article, entry in zip(articles, entries, strict=True):
            if not entry:
                article.error = (
                    f"{where}: entry could not be read: feed has errors ({_one_line(problem)})"
                )
    return articles


# feedparser's loose parser turns "&#xD800;" into a lone surrogate and then fails to encode
# it (UnicodeEncodeError: the whole feed lost); such references become U+FFFD first.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,16})|([0-9]{1,20}));")


def _valid_char_ref(match: re.Match[bytes]) -> bytes:
    code = int(match[1], 16) if match[1] else int(match[2])
    return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match[0]


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _entry_article(source: SourceConfig, entry) -> RawArticle:
    title_detail = entry.get("title_detail") or {}
    title = entry.get("title") or ""
    if title_detail.get("type") in HTML_TYPES:
        title = html_to_plain_line(title)
    body, is_html = "", False
    for content in entry.get("content") or []:
        if (content.get("value") or "").strip():
            body, is_html = content["value"], content.get("type") in HTML_TYPES
            break
    if not body.strip():
        detail = entry.get("summary_detail") or {}
        body = entry.get("summary") or ""
        is_html = detail.get("type", "text/html") in HTML_TYPES
    link = entry.get("link") or None
    key = entry.get("id") or link or _hash_key(title, body)
    lang = entry.get("language") or None
    return RawArticle(
        source=source.name,
        key=key,
        title=title,
        body=body,
        is_html=is_html,
        url=link,
        published=_entry_date(entry),
        expected_lang=source.lang or lang,
    )


def _hash_key(title: str, body: str) -> str:
    basis = title.strip() or body.strip()
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:16]


def _entry_date(entry) -> str | None:
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(field)
        if parsed:
            # feedparser normalises to UTC
            return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", parsed)
    raw = entry.get("published") or entry.get("updated")
    if raw:
        log.warning(
            "entry %s: unreadable date %r ignored", entry.get("id") or entry.get("link"), raw
        )
    return None


# ---- folders


def parse_folder_file(source: SourceConfig, payload: Payload) -> list[RawArticle]:
    """One file of a folder source -> its articles (one, or one per JSONL line)."""
    rel = payload.key or payload.location
    suffix = Path(rel).suffix.lower()
    try:
        text, _ = _decode_payload(payload, source.lang)
    except DecodeError as exc:
        return [_failed(source, rel, f"{payload.location}: {exc}")]
    if suffix == ".txt":
        return [_text_article(source, rel, text)]
    if suffix in (".html", ".htm"):
        return [_html_article(source, rel, text, url=None)]
    if suffix == ".json":
        return _json_articles(source, payload.location, rel, text)
    return _jsonl_articles(source, payload.location, rel, text)


def _text_article(source: SourceConfig, rel: str, text: str) -> RawArticle:
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return RawArticle(source=source.name, key=rel, title="", body="", expected_lang=source.lang)
    return RawArticle(
        source=source.name,
        key=rel,
        title=lines[first].strip(),
        body="\n".join(lines[first + 1 :]),
        expected_lang=source.lang,
    )


def _json_articles(source: SourceConfig, location: str, rel: str, text: str) -> list[RawArticle]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [_failed(source, rel, _json_error(location, exc.lineno, exc))]
    except RecursionError:  # "[[[[..." thousands deep: one bad file, not a failed folder
        return [_failed(source, rel, f"{location}: invalid JSON: nested too deeply")]
    if isinstance(data, list):  # a list of article objects is accepted too
        return [
            _json_article(source, f"{location}[{i}]", rel, item, fallback_key=str(i))
            for i, item in enumerate(data)
        ]
    return [_json_article(source, location, rel, data, fallback_key=None)]


def _json_error(location: str, lineno: int, exc: json.JSONDecodeError) -> str:
    return f"{location}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})"


def _jsonl_articles(source: SourceConfig, location: str, rel: str, text: str) -> list[RawArticle]:
    articles = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            articles.append(_failed(source, f"{rel}#{lineno}", _json_error(location, lineno, exc)))
            continue
        except RecursionError:
            error = f"{location}:{lineno}: invalid JSON: nested too deeply"
            articles.append(_failed(source, f"{rel}#{lineno}", error))
            continue
        articles.append(
            _json_article(source, f"{location}:{lineno}", rel, data, fallback_key=str(lineno))
        )
    return articles


def _json_article(
    source: SourceConfig, where: str, rel: str, data: object, fallback_key: str | None
) -> RawArticle:
    """One JSON object {"id"?, "title"?, "text" | "body" | "html", "url"?, "lang"?,
    "published"?}. "text" is plain text, "html" is HTML, "body" is HTML when it
    looks like HTML. Key: ``rel#id``, else ``rel#<line or index>``, else ``rel``."""
    if not isinstance(data, dict):
        key = f"{rel}#{fallback_key}" if fallback_key else rel
        return _failed(source, key, f"{where}: expected a JSON object, got {type(data).__name__}")
    ident = _opt_str(data.get("id")) or fallback_key
    key = f"{rel}#{ident}" if ident else rel
    fields = {
        "url": _opt_str(data.get("url") or data.get("link")),
        "published": _opt_str(data.get("published") or data.get("date")),
        "expected_lang": _opt_str(data.get("lang") or data.get("language")) or source.lang,
    }
    title = data.get("title") or ""
    if not isinstance(title, str):
        return _failed(source, key, f"{where}: 'title' must be a string", **fields)
    for name in ("html", "text", "body", "content"):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            error = f"{where}: '{name}' must be a string"
            return _failed(source, key, error, title=title, **fields)
        is_html = name == "html" or (name in ("body", "content") and looks_like_html(value))
        return RawArticle(source.name, key, title, value, is_html=is_html, **fields)
    error = f"{where}: no 'text', 'body' or 'html' field"
    return _failed(source, key, error, title=title, **fields)


def _opt_str(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# ---- pages and HTML files


def parse_page(source: SourceConfig, payload: Payload) -> RawArticle:
    key = payload.key or payload.location
    try:
        text, _ = _decode_payload(payload, source.lang)
    except DecodeError as exc:
        return _failed(source, key, f"{payload.location}: {exc}")
    return _html_article(source, key, text, url=key if is_url(key) else None)


def _html_article(source: SourceConfig, key: str, text: str, url: str | None) -> RawArticle:
    title, published = html_title_and_date(text)
    return RawArticle(
        source=source.name,
        key=key,
        title=title,
        body=text,
        is_html=True,
        url=url,
        published=published,
        expected_lang=source.lang,
    )
