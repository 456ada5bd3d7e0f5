"""Feeds: RSS / Atom bytes -> items, and the pages behind teaser items.

:func:`parse_feed_items` is pure (bytes in, items out). :func:`complete_items`
follows items' links where the feed carries only a teaser (``follow_links``),
fetching the pages through :mod:`newsflow.fetch` (several at once, within the
per-host limits) and extracting their article (:mod:`newsflow.extract`).

What is fetched when (also in README "Sources"):

* an item is followed when ``follow_links`` is ``always``, or ``auto`` and the
  feed came over http(s) and the item's own text is short (under
  :data:`FOLLOW_BELOW_CHARS` characters) or only a summary (no content element)
  under :data:`SUMMARY_BELOW_CHARS` characters;
* an item already stored is not fetched again: its stored text is used (it does
  not fall back to the teaser), unless the feed marks it updated (its
  updated/published marker differs from the stored ``source_updated``) or the
  last attempt failed for a reason that may pass (a timeout, HTTP 5xx: the note
  ends with :data:`RETRY_NOTE`) at least :data:`RETRY_PAGE_AFTER_SECONDS` ago (or
  the server's Retry-After); an updated item is asked for with the page's
  validators (If-None-Match / If-Modified-Since) and a 304 keeps the stored text;
* a page that cannot be fetched, is disallowed by robots.txt, or yields less text
  than the feed leaves the item with the feed's text (or its stored full text) and
  a ``fetch_note`` saying why; an item never fails its source.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from urllib.parse import urljoin

import feedparser

from newsflow import fetch
from newsflow.article import RawArticle
from newsflow.charset import DecodeError, decode_payload, decode_text
from newsflow.clean import html_fragment_to_text, html_to_plain_line
from newsflow.config import SourceConfig
from newsflow.errors import SourceError, TransientSourceError
from newsflow.extract import extract_article, plain_length_text
from newsflow.fetch import Payload

log = logging.getLogger("newsflow.sources")

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, "
               "text/xml;q=0.9, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
FOLLOW_BELOW_CHARS = 400
SUMMARY_BELOW_CHARS = 1500
RETRY_NOTE = "; tried again on a later run"
# A page that failed for a reason that may pass is asked for again no sooner than this
# (or the server's Retry-After, if longer): runs every ten minutes do not hammer it.
RETRY_PAGE_AFTER_SECONDS = 3600.0


@dataclass
class FeedItem:
    """One feed entry as a raw article, plus what deciding to follow it needs."""

    article: RawArticle
    summary_only: bool = False  # the entry had no content element, only a summary


def parse_feed(source: SourceConfig, payload: Payload) -> list[RawArticle]:
    """RSS / Atom bytes -> one raw article per entry (see :func:`parse_feed_items`)."""
    return [item.article for item in parse_feed_items(source, payload)]


def parse_feed_items(source: SourceConfig, payload: Payload) -> list[FeedItem]:
    """RSS / Atom bytes -> one :class:`FeedItem` per entry.

    The charset is settled by :func:`decode_text` and handed to feedparser as an
    ``application/xml`` header, which feedparser lets override the XML
    declaration (so a GB18030 feed without a declaration is not read as
    windows-1252). A feed with XML errors but entries keeps its entries (logged);
    one with no entries that is not a well-formed feed raises.
    """
    where = f"source '{source.name}': {payload.location}"
    try:
        _, charset = decode_payload(payload, source.lang)
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
    # Relative item links ("/politik/artikel.html") are made absolute against the feed's
    # URL here, not by telling feedparser the URL: it would rewrite relative guids too,
    # and with them the ids of stored articles.
    base = payload.final_url or payload.location
    base = base if fetch.is_url(base) else None
    feed_lang = (parsed.get("feed") or {}).get("language") or None
    items = [_entry_item(source, entry, base, feed_lang) for entry in entries]
    articles = [item.article for item in items]
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
    return items


# feedparser's loose parser turns "&#xD800;" into a lone surrogate and then fails to encode
# it (UnicodeEncodeError: the whole feed lost); such references become U+FFFD first.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,16})|([0-9]{1,20}));")


def _valid_char_ref(match: re.Match[bytes]) -> bytes:
    code = int(match[1], 16) if match[1] else int(match[2])
    return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match[0]


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _entry_item(source: SourceConfig, entry, base: str | None = None,
                feed_lang: str | None = None) -> FeedItem:
    title_detail = entry.get("title_detail") or {}
    title = entry.get("title") or ""
    if title_detail.get("type") in HTML_TYPES:
        title = html_to_plain_line(title)
    body, is_html, summary_only = "", False, False
    for content in entry.get("content") or []:
        if (content.get("value") or "").strip():
            body, is_html = content["value"], content.get("type") in HTML_TYPES
            break
    if not body.strip():
        summary_only = True
        detail = entry.get("summary_detail") or {}
        body = entry.get("summary") or ""
        is_html = detail.get("type", "text/html") in HTML_TYPES
    link = entry.get("link") or None
    key = entry.get("id") or link or _hash_key(title, body)
    if link and base and not fetch.is_url(link):
        link = urljoin(base, link)
    # the item's, else the feed's <language>: a hint for detection and for guessing the
    # charset of a linked page that declares none (source.lang wins over both)
    lang = entry.get("language") or feed_lang
    published = _entry_date(entry)
    updated = _entry_date(entry, ("updated_parsed",), warn=False)
    article = RawArticle(
        source=source.name,
        key=key,
        title=title,
        body=body,
        is_html=is_html,
        url=link,
        published=published,
        expected_lang=source.lang or lang,
        author=" ".join((entry.get("author") or "").split()) or None,
        source_updated=updated or published or dict.get(entry, "updated") or dict.get(entry, "published"),
    )
    return FeedItem(article, summary_only=summary_only)


def _hash_key(title: str, body: str) -> str:
    basis = title.strip() or body.strip()
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:16]


def _entry_date(entry, fields=("published_parsed", "updated_parsed", "created_parsed"),
                warn: bool = True) -> str | None:
    for field in fields:
        # dict.get: feedparser's own get maps a missing updated_parsed to published_parsed
        parsed = dict.get(entry, field)
        if parsed:
            # feedparser normalises to UTC
            return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", parsed)
    raw = dict.get(entry, "published") or dict.get(entry, "updated")
    if raw and warn:
        log.warning(
            "entry %s: unreadable date %r ignored", entry.get("id") or entry.get("link"), raw
        )
    return None


# --------------------------------------------------------------------------- following links


def feed_text_length(article: RawArticle) -> int:
    """Characters of text the feed itself carries for an item (markup and
    boilerplate left out, whitespace not counted)."""
    text = html_fragment_to_text(article.body) if article.is_html else article.body
    return len(plain_length_text(text))


def wants_follow(source: SourceConfig, item: FeedItem, remote: bool) -> bool:
    """Whether the page behind ``item`` is worth fetching (module docstring)."""
    article = item.article
    if article.error or not article.url or not fetch.is_url(article.url):
        return False
    if source.follow_links == "never":
        return False
    if source.follow_links == "always":
        return True
    if not remote:
        return False
    length = feed_text_length(article)
    return length < FOLLOW_BELOW_CHARS or (item.summary_only and length < SUMMARY_BELOW_CHARS)


@dataclass
class _Job:
    article: RawArticle
    stored: object | None  # the StoredArticle of the same id, when there is one
    validators: dict  # the page's etag / last_modified from its previous answer


@dataclass
class Followed:
    """The outcome of following one item: the article to yield, and the page's state
    to keep (None: keep what was kept): ``{"validators": {etag, last_modified}}``,
    plus ``"retry_at"`` (epoch seconds) after a failure that may pass."""

    article: RawArticle
    page_url: str | None = None
    state: dict | None = None


def complete_items(source: SourceConfig, items: Iterable[FeedItem], *, remote: bool,
                   stored: dict, page_state: dict[str, dict] | None = None) -> Iterator[Followed]:
    """Every item as the article to store, in feed order: the feed's text, the stored
    text (already fetched, not updated), or the article of the page behind the link.

    ``stored`` maps ids to the store's rows; ``page_state`` maps page URLs to their
    saved state (see :class:`Followed`). Pages are fetched in threads, at most
    ``fetch.per_host_concurrency`` at once (the per-host limits in
    :mod:`newsflow.fetch` hold across sources too). Opens no store: the caller
    reads and writes state in its own thread (SQLite connections are per thread).
    """
    page_state = page_state or {}
    config = source.fetch_settings
    with ThreadPoolExecutor(max_workers=config.per_host_concurrency,
                            thread_name_prefix=f"follow-{source.name}") as pool:
        pending = []
        for item in items:
            article = item.article
            if not wants_follow(source, item, remote):
                pending.append(Followed(article))
                continue
            row = stored.get(article.id)
            state = page_state.get(article.url or "", {}) if row is not None else {}
            if row is not None and not _needs_fetch(row, article, state):
                pending.append(Followed(stored_article(article, row)))
                continue
            # validators are good only for the version the store holds (not for one a dry
            # run or a crashed run fetched and never stored)
            same = (state.get("source_updated") or None) == (getattr(row, "source_updated", None) or None)
            validators = (state.get("validators") or {}) if same else {}
            pending.append(pool.submit(_follow_item, source, _Job(article, row, validators)))
        try:
            for entry in pending:
                yield entry if isinstance(entry, Followed) else entry.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _needs_fetch(row, article: RawArticle, state: dict) -> bool:
    """A stored item is fetched again only when the feed marks it updated, when it was
    never followed (stored before, or with follow_links: never), or when the last
    attempt failed for a reason that may pass and its retry time has come."""
    fetched_from = getattr(row, "fetched_from", None)
    note = getattr(row, "fetch_note", None)
    if not fetched_from and not note:
        return True
    if note and note.endswith(RETRY_NOTE) and time.time() >= float(state.get("retry_at") or 0):
        return True
    return (getattr(row, "source_updated", None) or None) != (article.source_updated or None)


def stored_article(article: RawArticle, row) -> RawArticle:
    """The feed item with the text the store holds for it (not the teaser)."""
    return replace(
        article,
        title=getattr(row, "title", "") or article.title,
        body=getattr(row, "original_text", "") or "",
        is_html=False,
        published=article.published or getattr(row, "published", None),
        fetched_from=getattr(row, "fetched_from", None),
        fetch_note=getattr(row, "fetch_note", None),
        author=getattr(row, "author", None) or article.author,
    )


def _follow_item(source: SourceConfig, job: _Job) -> Followed:
    """:func:`_follow`, its page state marked with the item version it belongs to. An
    unexpected error (a bug, a library failing on odd markup) costs the item its full
    text, never the source its other items."""
    try:
        followed = _follow(source, job)
    except Exception as exc:
        log.exception("%s: following the link failed", job.article.url)
        return _fallback(job.article, job.stored,
                         f"full text unavailable: {type(exc).__name__}: {_one_line(exc)}")
    if followed.state is not None:
        followed.state = {**followed.state, "source_updated": job.article.source_updated}
    return followed


def _follow(source: SourceConfig, job: _Job) -> Followed:
    """Fetch and extract one item's page; never raises for the page's failures."""
    article, row = job.article, job.stored
    url = article.url or ""
    try:
        payload = fetch.get(url, source.fetch_settings, accept=PAGE_ACCEPT,
                            etag=job.validators.get("etag"),
                            last_modified=job.validators.get("last_modified"))
    except fetch.Disallowed as exc:
        return _fallback(article, row, f"full text not fetched: {_reason(exc, url)}")
    except TransientSourceError as exc:
        wait = max(RETRY_PAGE_AFTER_SECONDS, exc.retry_after or 0.0)
        return _fallback(article, row, f"full text unavailable: {_reason(exc, url)}{RETRY_NOTE}",
                         url, {"validators": job.validators, "retry_at": time.time() + wait})
    except SourceError as exc:
        return _fallback(article, row, f"full text unavailable: {_reason(exc, url)}")
    if payload.not_modified and row is not None:
        log.debug("%s: not modified (304); stored text kept", url)
        kept = replace(stored_article(article, row), fetch_note=getattr(row, "fetch_note", None))
        return Followed(kept, url, {"validators": payload.validators or job.validators})
    page = payload.final_url or url
    if payload.not_modified:  # a 304 to a request without validators: a broken server
        return _fallback(article, row, "full text unavailable: HTTP 304 without a stored copy")
    content_type = (payload.content_type or "").split(";")[0].strip().lower()
    if content_type and not (content_type in HTML_TYPES or content_type.startswith("text/")):
        return _fallback(article, row, f"full text unavailable: not a web page ({content_type})")
    try:
        text, _ = decode_text(payload.data, payload.charset, article.expected_lang or source.lang)
    except DecodeError as exc:
        return _fallback(article, row, f"full text unavailable: {exc}")
    extracted = extract_article(text, url=page)
    if extracted is None or extracted.length == 0:
        return _fallback(article, row, "extraction found no article", url,
                         {"validators": payload.validators})
    if extracted.length < feed_text_length(article):
        return _fallback(article, row, "extraction found less text than the feed", url,
                         {"validators": payload.validators})
    full = replace(
        article,
        title=article.title or extracted.title,
        body=extracted.text,
        is_html=False,
        published=article.published or extracted.date,
        expected_lang=article.expected_lang or extracted.lang,
        author=article.author or extracted.author,
        fetched_from=page,
        fetch_note=None,
    )
    return Followed(full, url, {"validators": payload.validators})


def _fallback(article: RawArticle, row, note: str, page_url: str | None = None,
              state: dict | None = None) -> Followed:
    """The feed's own text with the reason; or the stored full text, when a re-fetch
    of an updated item fails (it must not regress to the teaser)."""
    if row is not None and getattr(row, "fetched_from", None) and getattr(row, "original_text", ""):
        kept = stored_article(article, row)
        return Followed(replace(kept, fetch_note=f"update not fetched: {note}"), page_url, state)
    log.info("%s: %s; the feed's text is kept", article.url, note)
    return Followed(replace(article, fetch_note=note, fetched_from=None), page_url, state)


def _reason(exc: Exception, url: str) -> str:
    return str(exc).removeprefix(f"{url}: ")
