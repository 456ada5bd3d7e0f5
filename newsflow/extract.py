"""An article page (HTML text) -> its article: text, title, date, author, language hint.

Pure: no I/O. Used for the pages behind feed items (:mod:`newsflow.feeds`).
trafilatura does the work (precision mode, comments left out, tables kept); the
page's navigation, sidebars, footers and forms are removed before it looks, as
:func:`newsflow.clean.page_to_text` does, so a page without an article gives
nothing instead of its menu. Paragraphs are kept: one per line in trafilatura's
output, separated by blank lines here. Boilerplate lines that survive ("Show
More", "Related Articles", "%d bloggers like this:") are removed later by
:func:`newsflow.clean.text_to_paragraphs`, like for every other source.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trafilatura

from newsflow.clean import TRAFILATURA_OPTIONS, is_boilerplate, parse_document, strip_page_chrome

log = logging.getLogger("newsflow.extract")

# Dates only from what the page declares (meta tags, <time>), never guessed from the
# text, which holds copyright years and dates of other stories.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}


@dataclass
class Extracted:
    title: str
    text: str  # paragraphs separated by blank lines
    date: str | None = None
    author: str | None = None
    lang: str | None = None  # from <html lang> / Content-Language meta, e.g. "de", "zh-cn"

    @property
    def length(self) -> int:
        return len(plain_length_text(self.text))


def plain_length_text(text: str) -> str:
    """The text without whitespace and boilerplate lines: what lengths are compared on."""
    lines = [line for line in text.splitlines() if not is_boilerplate(line)]
    return "".join("".join(lines).split())


def extract_article(html: str, url: str | None = None) -> Extracted | None:
    """The article of a page, or None when the page has none trafilatura can find."""
    tree = parse_document(html)
    if tree is None:
        return None
    lang = _page_lang(tree)
    strip_page_chrome(tree)
    try:
        doc = trafilatura.bare_extraction(tree, url=url, with_metadata=True,
                                          date_extraction_params=_DATE_PARAMS, **TRAFILATURA_OPTIONS)
    except Exception as exc:  # trafilatura raises assorted errors on odd markup
        log.debug("%s: trafilatura failed: %s", url, exc)
        return None
    if doc is None:
        return None
    text = (getattr(doc, "text", None) or "").strip()
    if not text:
        return None
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    return Extracted(
        title=" ".join((getattr(doc, "title", None) or "").split()),
        text="\n\n".join(paragraphs),
        date=getattr(doc, "date", None) or None,
        author=" ".join((getattr(doc, "author", None) or "").split()) or None,
        lang=lang,
    )


def _page_lang(tree) -> str | None:
    value = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not value:
        for meta in tree.iter("meta"):
            if (meta.get("http-equiv") or "").lower() == "content-language":
                value = meta.get("content")
                break
    value = (value or "").strip().split(",")[0].strip().lower()
    return value or None
