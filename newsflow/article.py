"""The article record that moves through the pipeline.

Ingestion produces :class:`RawArticle`; cleaning turns its body into plain
paragraphs; detection and translation fill the rest. Kept free of Prefect and
of storage so every stage is a plain function over these objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def stable_id(source: str, key: str) -> str:
    """Id that survives re-runs: the source name plus a hash of the item's own key
    (feed guid or link, file path, JSON id)."""
    digest = hashlib.sha256(f"{source}\x1f{key}".encode()).hexdigest()[:16]
    return f"{source}:{digest}"


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()


@dataclass
class RawArticle:
    """One item as a source delivered it, before cleaning.

    ``body`` is HTML when ``is_html`` is true, else plain text. ``key`` is what
    identifies the item inside its source (guid, link, relative path, JSON id).
    """

    source: str
    key: str
    title: str
    body: str
    is_html: bool = False
    url: str | None = None
    published: str | None = None
    expected_lang: str | None = None
    # Set when the source could deliver the item but not its content (no article
    # text found, undecodable bytes...): the item is stored as failed with this reason.
    error: str | None = None
    # Where the text came from when a feed item's link was followed (the page URL), and
    # why the feed's own text was kept instead ("full text unavailable: HTTP 404").
    fetched_from: str | None = None
    fetch_note: str | None = None
    author: str | None = None
    # The feed item's updated (else published) marker: a stored item is fetched again
    # only when this changes.
    source_updated: str | None = None

    @property
    def id(self) -> str:
        return stable_id(self.source, self.key)


@dataclass
class Article:
    """A cleaned article: title plus paragraphs of plain NFC text."""

    id: str
    source: str
    title: str
    paragraphs: list[str]
    url: str | None = None
    published: str | None = None
    expected_lang: str | None = None
    error: str | None = None
    fetched_from: str | None = None
    fetch_note: str | None = None
    author: str | None = None
    source_updated: str | None = None
    lang: str = "und"
    lang_confidence: float = 0.0
    paragraph_langs: list[str] = field(default_factory=list)
    paragraph_confidence: list[float] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)
