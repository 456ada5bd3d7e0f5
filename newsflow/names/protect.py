"""Spans the names check never searches nor rewrites, and detokenisation gaps.

Protected (in the source and in the translation): URLs (``https://...``, ``www....`` and bare
domains with a common top-level domain such as ``kremlin.ru``), e-mail addresses, @handles and
#hashtags (also the Weibo form ``#话题#``). :func:`mask` blanks them out with spaces, so the
text keeps its length and every span found in the masked text is the same span in the original.

Detokenisation gaps: weak detokenisers leave a space before an apostrophe ("Xi 'an",
"Lavrov 's"). :class:`Gapless` is a view of a text without those spaces plus the map back to
the original positions; matching runs on the view, corrections are spliced into the original.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right

# fmt: off
_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|ai|app|dev|tv|me|co|news|online|site|"
    "ru|de|cn|ua|uk|eu|fr|it|es|pl|nl|be|at|ch|se|no|fi|dk|cz|sk|hu|ro|bg|gr|pt|by|kz|"
    "us|ca|au|nz|jp|kr|tw|hk|sg|in|tr|il|ir|br|ar|mx|za|su"
)
# fmt: on
# a word character that is not CJK: Chinese text runs into links and handles without a space
_W = r"[^\W\u2e80-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]"
_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u30ff\uac00-\ud7af\uff00-\uffef"
_URL = (
    rf"(?:(?<!{_W})(?:https?|ftp)://|(?<!{_W})www\.)[^\s<>\"'`“”‘’«»{_CJK}]+"
    rf"|(?-i:(?<![a-z0-9.-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    rf"\.(?:{_TLDS})(?![A-Za-z0-9_-]))(?:/[^\s<>\"'`“”‘’«»{_CJK}]*)?"
)
_EMAIL = r"(?<![A-Za-z0-9.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_LATIN_TAG = r"[A-Za-z0-9_\u00c0-\u024f]+"
_HANDLE = rf"(?<![A-Za-z0-9_@])@(?:{_LATIN_TAG}(?:[.\-]{_LATIN_TAG})*|\w+)"
_HASHTAG = rf"#(?=[^#\s]*[\u3400-\u9fff])[^#\s]{{1,40}}#|(?<![A-Za-z0-9_#&])#(?:{_LATIN_TAG}|\w+)"
_TRAILING = ".,;:!?)]}>"


@functools.cache
def _protected() -> re.Pattern:
    """URLs, e-mail addresses, handles and hashtags. Compiled on first use: ~50 ms (its CJK
    classes under IGNORECASE), in every process that imports the names check, while most
    texts have no hint of one (two threads may both compile it once: the same pattern)."""
    return re.compile(f"{_EMAIL}|{_URL}|{_HANDLE}|{_HASHTAG}", re.IGNORECASE)


_HINT = re.compile(rf"[@#]|://|www\.|\.(?:{_TLDS})(?![A-Za-z0-9_-])", re.IGNORECASE)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every URL, e-mail address, handle and hashtag, in order."""
    if not text or not _HINT.search(text):
        return []
    spans = []
    for match in _protected().finditer(text):
        start, end = match.span()
        while end > start + 1 and text[end - 1] in _TRAILING:
            end -= 1  # "see kremlin.ru." and "(www.x.org)": the punctuation is the sentence's
        spans.append((start, end))
    return spans


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with every span replaced by spaces (same length)."""
    if not spans:
        return text
    parts = []
    last = 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(" " * (end - start))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Does [start, end) overlap any of the (sorted, disjoint) spans?"""
    if not spans:
        return False
    at = bisect_right(spans, (start, float("inf"))) - 1
    for s, e in spans[max(at, 0) : at + 2]:
        if s < end and start < e:
            return True
    return False


# A space (or several) between a letter and an apostrophe that is followed by a letter
# ("Xi 'an", "Lavrov 's"), or after such an apostrophe before a Pinyin syllable that starts
# with a vowel, the only place Pinyin writes an apostrophe ("Xi' an", "Xi ' an").
_GAP = re.compile(
    r"(?<=[^\W\d_])[ \t]+(?='[^\W\d_])"
    r"|(?<=[^\W\d_])[ \t]+(?=' +(?:a|ai|an|ang|ao|e|ei|en|eng|er|o|ou)\b)"
    r"|(?:(?<=[^\W\d_]')|(?<=[^\W\d_] '))[ \t]+(?=(?:a|ai|an|ang|ao|e|ei|en|eng|er|o|ou)\b)"
)


class Gapless:
    """A folded text without detokenisation gaps, and the way back to the original.

    ``text``/``folded`` are the original and the folded text with the gaps removed;
    :meth:`original` maps a span of the view to the span of the original text."""

    def __init__(self, text: str, folded: str):
        gaps = [m.span() for m in _GAP.finditer(folded)] if "'" in folded else []
        self.has_gaps = bool(gaps)
        if not gaps:
            self.text, self.folded = text, folded
            self._starts: list[int] = []
            return
        keep_text, keep_folded = [], []
        self._starts = []  # view positions where a gap was removed
        self._shift: list[int] = []  # total characters removed up to that view position
        last = removed = 0
        for start, end in gaps:
            keep_text.append(text[last:start])
            keep_folded.append(folded[last:start])
            removed += end - start
            self._starts.append(start - (removed - (end - start)))
            self._shift.append(removed)
            last = end
        keep_text.append(text[last:])
        keep_folded.append(folded[last:])
        self.text = "".join(keep_text)
        self.folded = "".join(keep_folded)

    def position(self, pos: int, end: bool = False) -> int:
        """Original position of a view position (an end position stays before a gap)."""
        if not self._starts:
            return pos
        at = bisect_right(self._starts, pos - 1 if end else pos) - 1
        return pos + (self._shift[at] if at >= 0 else 0)

    def original(self, start: int, end: int) -> tuple[int, int]:
        return self.position(start), self.position(end, end=True)
