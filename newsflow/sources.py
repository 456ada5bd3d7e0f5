"""Sources: read what a configured source points at and yield :class:`RawArticle` records.

:func:`read_source` is the entry point the run calls: it fetches (conditional
requests, validators kept in the store per source), parses, follows feed items'
links (:mod:`newsflow.feeds`) and yields articles lazily -- a folder is read and
parsed file by file. The older two-step form stays for callers and tests that
want bytes first:

* :func:`load_source` reads files or calls :func:`newsflow.fetch.fetch_bytes`
  and returns :class:`~newsflow.fetch.Payload` objects;
* :func:`parse_payloads` turns payloads into raw articles; it opens nothing
  (feeds: :mod:`newsflow.feeds`; folder files and pages: :mod:`newsflow.documents`).

:func:`newsflow.charset.decode_text` is the one place bytes become text for every
format except feeds (feedparser decodes those, told the charset we settled on).
All HTTP goes through :mod:`newsflow.fetch` (robots.txt, per-host limits).

Failure policy: a whole source that cannot be read raises. Permanent causes (a
missing path, HTTP 404/410, a malformed feed) raise :class:`SourceError` and are
not worth retrying; causes that may pass (timeouts, connection errors, HTTP 5xx,
429) raise :class:`~newsflow.errors.TransientSourceError`, the only kind the flow
retries. A single item that cannot be read or decoded (one page of several, a
bad JSON line, undecodable bytes) becomes a ``RawArticle`` with ``error`` set, so
it is stored as failed instead of vanishing; a feed item whose page cannot be had
keeps the feed's text with a ``fetch_note``. Warnings that do not stop anything
go to the ``newsflow.sources`` logger; Prefect shows them when that logger is
listed in ``PREFECT_LOGGING_EXTRA_LOGGERS``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from newsflow import fetch
from newsflow.article import RawArticle, stable_id
from newsflow.charset import DecodeError, decode_payload, decode_text  # noqa: F401 - re-exported
from newsflow.config import SourceConfig
from newsflow.documents import failed_article, parse_folder_file, parse_page
from newsflow.errors import SourceError, TransientSourceError
from newsflow.feeds import FEED_ACCEPT, PAGE_ACCEPT, complete_items, parse_feed, parse_feed_items
from newsflow.fetch import Payload, is_url

log = logging.getLogger("newsflow.sources")

FOLDER_EXTENSIONS = (".txt", ".html", ".htm", ".json", ".jsonl")
__all__ = ["DecodeError", "decode_text", "load_source", "parse_feed", "parse_folder_file",
           "parse_page", "parse_payloads",
           "read_source"]


# --------------------------------------------------------------------------- read_source


def read_source(source: SourceConfig, base_dir: Path, store=None, *,
                save_state: bool = True) -> Iterator[RawArticle]:
    """Yield the articles of ``source``, fetched, parsed and completed, one at a time.

    ``store`` (optional) is an open store: ``get_many`` tells which feed items are
    already stored (they are not fetched again, see :mod:`newsflow.feeds`) and
    ``get_source_state`` / ``put_source_state`` keep each feed's and page's
    validators for conditional requests. A feed answering 304 yields nothing (what
    is stored stands). The store is used only from the calling thread. A feed's
    validators are saved when the generator is exhausted; they are used next time
    only if every item of that answer is stored with the same updated marker (a run
    that died before storing asks again unconditionally). ``save_state=False``
    (dry runs) reads the state but writes none.

    Raises (on first iteration for a feed) :class:`SourceError` for a source that
    cannot be read for good and :class:`TransientSourceError` for one that may work
    on a later try. Every article is returned with lone surrogates scrubbed.
    """
    if source.kind == "folder":
        assert source.path is not None  # SourceConfig guarantees it
        articles = _read_folder(source, _resolve(source.path, base_dir))
    elif source.kind == "feed":
        articles = _read_feed(source, base_dir, store if save_state else _ReadOnly(store))
    else:
        articles = _read_pages(source, base_dir, store if save_state else _ReadOnly(store))
    for article in articles:
        yield _without_surrogates(article)


def _read_folder(source: SourceConfig, root: Path) -> Iterator[RawArticle]:
    for path, rel, skipped in _folder_entries(source, root):
        if skipped:
            log.warning("source '%s': skipped %s: %s", source.name, path, skipped)
            continue
        payload = _read_file(path, key=rel)
        if payload.error:
            yield failed_article(source, rel, payload.error)
        else:
            yield from parse_folder_file(source, payload)


def _read_feed(source: SourceConfig, base_dir: Path, store) -> Iterator[RawArticle]:
    assert source.url is not None
    remote = is_url(source.url)
    state_key = source.name
    state = _get_state(store, state_key) if remote else None
    if remote:
        validators = {}
        if state and state.get("url") == source.url and _all_stored(store, state.get("items")):
            validators = state.get("validators") or {}
        try:
            payload = fetch.get(source.url, source.fetch_settings, accept=FEED_ACCEPT,
                                etag=validators.get("etag"),
                                last_modified=validators.get("last_modified"))
        except SourceError as exc:
            raise _prefixed(source, exc) from None
        if payload.not_modified:
            log.info("source '%s': %s not modified (304); stored articles stand",
                     source.name, source.url)
            return
    else:
        payload = _load_one(source, source.url, base_dir, source.fetch_settings.timeout_seconds)
    items = parse_feed_items(source, payload)
    ids = [item.article.id for item in items]
    stored = _get_many(store, ids)
    pages = _page_states(store, [item.article.url for item in items
                                 if item.article.id in stored and item.article.url])
    for followed in complete_items(source, items, remote=remote, stored=stored, page_state=pages):
        if followed.page_url and followed.state is not None:
            _put_state(store, followed.page_url, followed.state)
        yield followed.article
    if remote:
        markers = {item.article.id: item.article.source_updated for item in items}
        _put_state(store, state_key, {"url": source.url, "validators": payload.validators,
                                      "items": markers})


def _read_pages(source: SourceConfig, base_dir: Path, store) -> Iterator[RawArticle]:
    """Each page (fetched with its validators when the store holds its article); a page
    answering 304 yields its stored text. Raises when every page failed."""
    pages = source.pages or []
    stored = _get_many(store, [stable_id(source.name, page) for page in pages])
    results: list[RawArticle] = []
    errors: list[SourceError] = []
    for page in pages:
        row = stored.get(stable_id(source.name, page))
        try:
            if is_url(page):
                state = (_get_state(store, page) or {}) if row is not None else {}
                validators = state.get("validators") or {}
                payload = fetch.get(page, source.fetch_settings, accept=PAGE_ACCEPT,
                                    etag=validators.get("etag"),
                                    last_modified=validators.get("last_modified"))
                payload.key = page
                if payload.validators:
                    _put_state(store, page, {"validators": payload.validators})
                if payload.not_modified and row is not None:
                    results.append(_stored_page(source, page, row))
                    continue
            else:
                payload = _load_one(source, page, base_dir, source.fetch_settings.timeout_seconds)
        except SourceError as exc:
            errors.append(exc)
            prefixed = exc if str(exc).startswith(f"source '{source.name}': ") \
                else _prefixed(source, exc)
            results.append(failed_article(source, page, str(prefixed)))
            continue
        results.append(parse_page(source, payload))
    if pages and len(errors) == len(pages):
        more = f" (and {len(errors) - 1} more pages failed)" if len(errors) > 1 else ""
        cls = TransientSourceError if any(isinstance(e, TransientSourceError) for e in errors) \
            else SourceError
        raise cls(f"{results[0].error}{more}")
    yield from results


def _stored_page(source: SourceConfig, page: str, row) -> RawArticle:
    return RawArticle(source=source.name, key=page, title=row.title, body=row.original_text,
                      url=page, published=row.published, expected_lang=source.lang,
                      author=getattr(row, "author", None))


def _prefixed(source: SourceConfig, exc: SourceError) -> SourceError:
    """The same kind of error (transient or not), its message naming the source."""
    message = f"source '{source.name}': {exc}"
    if isinstance(exc, TransientSourceError):
        return TransientSourceError(message, exc.retry_after)
    return type(exc)(message) if type(exc) is not DecodeError else SourceError(message)


# The store is optional and the state methods arrive with the store package: every use
# goes through these, which do nothing without them.


def _get_many(store, ids: list[str]) -> dict:
    if store is None or not ids:
        return {}
    return store.get_many(ids)


def _all_stored(store, markers: dict | None) -> bool:
    """Whether every item of the feed's previous answer is in the store, as that answer
    had it (same updated marker): otherwise (a run that died before storing them, a dry
    run) the feed is asked for unconditionally."""
    if store is None or not isinstance(markers, dict):
        return False
    rows = _get_many(store, list(markers))
    return len(rows) == len(markers) and all(
        (getattr(rows[i], "source_updated", None) or None) == (marker or None)
        for i, marker in markers.items())


class _ReadOnly:
    """A store whose state is read but never written (``save_state=False``)."""

    def __init__(self, store):
        self._store = store

    def get_many(self, ids):
        return self._store.get_many(ids) if self._store is not None else {}

    def get_source_state(self, key):
        getter = getattr(self._store, "get_source_state", None)
        return getter(key) if getter else None

    def put_source_state(self, key, value):
        pass


def _get_state(store, key: str) -> dict | None:
    getter = getattr(store, "get_source_state", None)
    return getter(key) if getter else None


def _put_state(store, key: str, value: dict) -> None:
    putter = getattr(store, "put_source_state", None)
    if putter:
        putter(key, value)


def _page_states(store, urls: list[str]) -> dict[str, dict]:
    states = {}
    for url in urls:
        state = _get_state(store, url)
        if state:
            states[url] = state
    return states


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
    errors: list[SourceError] = []
    for page in pages:
        try:
            payloads.append(_load_one(source, page, base_dir, timeout))
        except SourceError as exc:
            errors.append(exc)
            payloads.append(Payload(location=page, error=str(exc)))
    if payloads and len(errors) == len(payloads):
        more = f" (and {len(errors) - 1} more pages failed)" if len(errors) > 1 else ""
        cls = TransientSourceError if any(isinstance(e, TransientSourceError) for e in errors) \
            else SourceError
        raise cls(f"{errors[0]}{more}")
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
            raise _prefixed(source, exc) from None
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
    payloads = [
        _skipped(path, rel, reason) if reason else _read_file(path, key=rel)
        for path, rel, reason in _folder_entries(source, root)
    ]
    for p in payloads:
        if p.skipped:
            log.warning("source '%s': skipped %s", source.name, p.error)
    return payloads


def _folder_entries(source: SourceConfig, root: Path) -> list[tuple[Path, str, str | None]]:
    """``(path, relative path, reason it is skipped or None)`` for everything under
    ``root``, sorted by relative path; reads no file."""
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise SourceError(f"source '{source.name}': {root} {what}")
    entries: list[tuple[Path, str, str | None]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in list(dirnames):
            if name.startswith("."):
                # Hidden folders (.git, .cache) are listed once, not walked file by file.
                dirnames.remove(name)
                rel = (here / name).relative_to(root).as_posix() + "/"
                entries.append((here / name, rel, "hidden folder"))
        for name in filenames:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if name.startswith("."):
                entries.append((path, rel, "hidden file"))
            elif path.suffix.lower() not in FOLDER_EXTENSIONS:
                entries.append((path, rel, f"not one of {', '.join(FOLDER_EXTENSIONS)}"))
            else:
                entries.append((path, rel, None))
    entries.sort(key=lambda entry: entry[1])
    return entries


def _skipped(path: Path, rel: str, reason: str) -> Payload:
    return Payload(str(path), key=rel, error=f"{path}: {reason}", skipped=True)


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
            articles.append(failed_article(source, payload.key or payload.location, payload.error))
        elif source.kind == "folder":
            articles.extend(parse_folder_file(source, payload))
        else:
            articles.append(parse_page(source, payload))
    return [_without_surrogates(article) for article in articles]


# A lone surrogate ("\ud800" escaped in JSON) cannot be encoded: it would crash hashing the
# id and writing the row, so every text field of a raw article is scrubbed once, here.
_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT_FIELDS = ("key", "title", "body", "url", "published", "expected_lang", "error",
                "fetched_from", "fetch_note", "author", "source_updated")


def _without_surrogates(article: RawArticle) -> RawArticle:
    for name in _TEXT_FIELDS:
        value = getattr(article, name)
        if isinstance(value, str) and _SURROGATE.search(value):
            setattr(article, name, _SURROGATE.sub("\ufffd", value))
    return article
