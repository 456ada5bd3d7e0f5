"""Folder files and HTML pages -> :class:`RawArticle` records (pure: bytes in, articles out).

Split off :mod:`newsflow.sources`, which reads the bytes: a folder's ``.txt``
(first line the title), ``.html``, ``.json`` (an object or a list of them) and
``.jsonl`` files, and the pages of a ``pages`` source. A file that cannot be
decoded or parsed becomes an article with ``error`` set, never an exception.
"""

from __future__ import annotations

import json
from pathlib import Path

from newsflow.article import RawArticle
from newsflow.charset import DecodeError, decode_payload
from newsflow.clean import html_title_and_date, looks_like_html
from newsflow.config import SourceConfig
from newsflow.fetch import Payload, is_url


def failed_article(source: SourceConfig, key: str, error: str, **fields) -> RawArticle:
    """An item the source has but whose content could not be read: stored as failed."""
    return RawArticle(
        source=source.name,
        key=key,
        title=fields.pop("title", ""),
        body="",
        expected_lang=fields.pop("expected_lang", source.lang),
        error=error,
        **fields,
    )


# ---- folders


def parse_folder_file(source: SourceConfig, payload: Payload) -> list[RawArticle]:
    """One file of a folder source -> its articles (one, or one per JSONL line)."""
    rel = payload.key or payload.location
    suffix = Path(rel).suffix.lower()
    try:
        text, _ = decode_payload(payload, source.lang)
    except DecodeError as exc:
        return [failed_article(source, rel, f"{payload.location}: {exc}")]
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
        return [failed_article(source, rel, _json_error(location, exc.lineno, exc))]
    except RecursionError:  # "[[[[..." thousands deep: one bad file, not a failed folder
        return [failed_article(source, rel, f"{location}: invalid JSON: nested too deeply")]
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
            articles.append(failed_article(source, f"{rel}#{lineno}", _json_error(location, lineno, exc)))
            continue
        except RecursionError:
            error = f"{location}:{lineno}: invalid JSON: nested too deeply"
            articles.append(failed_article(source, f"{rel}#{lineno}", error))
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
        return failed_article(source, key, f"{where}: expected a JSON object, got {type(data).__name__}")
    ident = _opt_str(data.get("id")) or fallback_key
    key = f"{rel}#{ident}" if ident else rel
    fields = {
        "url": _opt_str(data.get("url") or data.get("link")),
        "published": _opt_str(data.get("published") or data.get("date")),
        "expected_lang": _opt_str(data.get("lang") or data.get("language")) or source.lang,
    }
    title = data.get("title") or ""
    if not isinstance(title, str):
        return failed_article(source, key, f"{where}: 'title' must be a string", **fields)
    for name in ("html", "text", "body", "content"):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            error = f"{where}: '{name}' must be a string"
            return failed_article(source, key, error, title=title, **fields)
        is_html = name == "html" or (name in ("body", "content") and looks_like_html(value))
        return RawArticle(source.name, key, title, value, is_html=is_html, **fields)
    error = f"{where}: no 'text', 'body' or 'html' field"
    return failed_article(source, key, error, title=title, **fields)


def _opt_str(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# ---- pages and HTML files


def parse_page(source: SourceConfig, payload: Payload) -> RawArticle:
    key = payload.key or payload.location
    try:
        text, _ = decode_payload(payload, source.lang)
    except DecodeError as exc:
        return failed_article(source, key, f"{payload.location}: {exc}")
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
