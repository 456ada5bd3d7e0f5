"""Evidence from the source: when is a near miss the entity, and when someone else?

Two checks, applied to every fuzzy span (near misses and wrong capitalisation):

- **Known different names** (:class:`KnownNames`): a window that is itself a name the project
  knows is that name, never a misspelling: a form of another glossary entry; a first name of
  the candidate machinery's lists or the shipped list; a well-known name close to glossary
  names (Metz, Merkel, Scholl, Sakharov, Gutierrez, ... in :mod:`newsflow.names.lists`); the
  other gender's form of the entity's surname (Putina, Peskova, Zelenska: relatives); a
  surname right after a first name that is not the entity's own ("Sophie Scholl", "Hans
  Mertz"); a name right before a prize or an institution ("Sakharov Prize", "Metz
  Cathedral"); for a Chinese source, the Pinyin of another Chinese name in it (王宇 "Wang Yu").
- **Counting** (:func:`budget_filter`): each source mention of an entity is answered by at
  most one span of the translation. Accepted forms, allowed fixed expressions and certain
  wrong forms (avoid list, source form left, Pinyin, literal renderings) answer first; only the
  mentions left over may be answered by fuzzy spans, the closest spelling first (all spans
  with the same text together). When the accepted forms already account for every mention,
  every other near miss is someone or something else and stays as it is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

from newsflow.names.lists import FIRST_NAMES, GENDER_ENDINGS, INSTITUTION_NOUNS, WELL_KNOWN_NAMES
from newsflow.names.tables import COMPOUND_SURNAMES, SINGLE_SURNAMES, SURNAME_READINGS, ZH_NOT_GIVEN
from newsflow.names.translit import is_han, name_key, surname_syllables, syllables

_WORD_BEFORE = re.compile(r"([^\W\d_]+)[ \u00a0]+$")
_WORD_AFTER = re.compile(r"[ \u00a0]+([^\W\d_]+)")


class SpanLike(Protocol):
    start: int
    end: int
    entity: str
    kind: str
    score: int


def gender_pair(a: str, b: str) -> bool:
    """Are a and b the two gender forms of one Russian/Ukrainian surname (putin/putina)?"""
    for masculine, feminine in GENDER_ENDINGS:
        for x, y in ((a, b), (b, a)):
            if (
                x.endswith(masculine)
                and y.endswith(feminine)
                and x[: -len(masculine)] == y[: -len(feminine)]
                and len(x) - len(masculine) >= 2
            ):
                return True
    return False


class KnownNames:
    """The names a near-miss window must not be (see the module docstring)."""

    def __init__(self, index, source_folded: str = "", source_hits: Iterable = ()):
        self._index = index
        self._source = source_folded
        self._hits = [(s, e) for s, e, _eid in source_hits]
        self._zh_names: set[str] | None = None

    def other(self, window: str, entity: str, folded: str, start: int, end: int) -> bool:
        """Is the (lower-case) window at folded[start:end] of the translation a name other
        than ``entity``'s?"""
        own_first = self._index.first_names.get(entity, ())
        words = window.split()
        before = _WORD_BEFORE.search(folded, max(0, start - 40), start)
        word_before = before.group(1) if before and before.end() == start else ""
        if word_before.lower() in own_first or (len(words) > 1 and words[0] in own_first):
            # the entity's own first name: "Olaf Scholl" is Olaf Scholz misspelled
            return any(eid != entity for eid in self._index.form_keys.get(name_key(window), ()))
        cache = self._index.known_cache
        static = cache.get((window, entity))
        if static is None:
            static = self._static(window, entity)
            if len(cache) < 200_000:
                cache[(window, entity)] = static
        if static:
            return True
        if word_before[:1].isupper() and word_before.lower() in FIRST_NAMES:
            return True  # someone else's first name: "Sophie Scholl"
        after = _WORD_AFTER.match(folded, end)
        if after and after.group(1).lower() in INSTITUTION_NOUNS:
            return True  # "Sakharov Prize", "Metz Cathedral"
        return bool(self._source) and window in self.zh_names()

    def _static(self, window: str, entity: str) -> bool:
        """The part that depends on the window and the entity only."""
        words = window.split()
        last = words[-1]
        if window in WELL_KNOWN_NAMES or last in WELL_KNOWN_NAMES:
            return True
        if len(words) == 1 and window in FIRST_NAMES:
            return True
        if any(eid != entity for eid in self._index.form_keys.get(name_key(window), ())):
            return True
        own_first = self._index.first_names.get(entity, set())
        if len(words) > 1 and words[0] in FIRST_NAMES and words[0] not in own_first:
            return True
        return any(
            gender_pair(last, ref.low.split()[-1]) for ref in self._index.near.get(entity, ())
        )

    def zh_names(self) -> set[str]:
        """Pinyin (lower case, "wang yu") of every surname + 1-2 characters in a Chinese
        source that is not a glossary name."""
        if self._zh_names is None:
            self._zh_names = _chinese_names(self._source, self._hits)
        return self._zh_names


def _chinese_names(text: str, hits: list[tuple[int, int]]) -> set[str]:
    names: set[str] = set()
    if not any(is_han(ch) for ch in text):
        return names
    for i in range(len(text)):
        surname = None
        if text[i : i + 2] in COMPOUND_SURNAMES:
            surname = text[i : i + 2]
        elif text[i] in SINGLE_SURNAMES or text[i] in SURNAME_READINGS:
            surname = text[i]
        if surname is None:
            continue
        for length in (1, 2):
            end = i + len(surname) + length
            given = text[i + len(surname) : end]
            if len(given) != length or not all(is_han(c) and c not in ZH_NOT_GIVEN for c in given):
                break
            if any(s < end and i < e for s, e in hits):
                continue
            readings = [surname_syllables(surname), syllables(surname)]
            for reading in readings:
                names.add(" ".join(["".join(reading), "".join(syllables(given))]))
    return names


def budget_filter(
    fuzzy: list[SpanLike],
    counts: Counter,
    answered: Counter,
    text_key,
) -> list[SpanLike]:
    """The fuzzy spans that answer to source mentions nothing else answers to.

    ``counts``: source mentions per entity; ``answered``: spans per entity that already answer
    (accepted, allowed, certain wrong); ``text_key(span)``: what makes two spans the same
    spelling. Spans with the same text go together; the closest
    spelling (lowest score), then the earliest, first."""
    kept: list[SpanLike] = []
    by_entity: dict[str, dict[str, list[SpanLike]]] = {}
    for span in fuzzy:
        by_entity.setdefault(span.entity, {}).setdefault(text_key(span), []).append(span)
    for entity, groups in by_entity.items():
        budget = counts.get(entity, 0) - answered.get(entity, 0)
        if budget <= 0:
            continue
        ranked = sorted(
            groups.values(), key=lambda g: (min(s.score for s in g), min(s.start for s in g))
        )
        for group in ranked[:budget]:
            kept.extend(group)
    return kept
