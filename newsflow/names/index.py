"""Matchers compiled once per glossary.

Each family of forms becomes ONE regex built from a character trie (fast even with hundreds of
entries) plus a dict from a normalised key to what the match means:

- source forms per source script (German/Latin, Chinese) -> entity ids;
- accepted English forms of all entities (used to mask: an accepted form is never wrong);
- wrong forms that can be looked up exactly: ``avoid`` spellings and source forms in Latin or
  Cyrillic script left in the translation ("Lawrow", "Selenskyj"), and an accepted multi-word
  name written as one word ("Hongkong");
- untranslated Chinese forms (拉夫罗夫 left in the English);
- Pinyin of the Chinese forms, split or joined ("Lafuluofu", "La Fu Luo Fu", "Xi Jin Ping");
- per Chinese personal or place name, a regex for part-literal renderings ("King Yi", "Li
  Strong", "North Capital"; :mod:`newsflow.names.gloss`);
- fixed expressions never fixed: every entry's ``allow`` list and the built-in ones;
- per entity, references for near misses (compared by edit distance / phonetic key), and per
  Chinese personal name its Pinyin for one-letter misses ("Wang Yii").

On the English side a name is a whole token (``LEFT_EN``/``RIGHT_EN``): an apostrophe followed
by letters continues it ("Wang Yi'an"), a possessive or a hyphen does not.

Every wrong pattern carries the accepted form that replaces it, chosen by shape: a surname
is replaced by the surname form, a full name by the full form.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass

from newsflow.names.entry import Entry
from newsflow.names.gloss import GlossPattern, person_gloss, place_gloss
from newsflow.names.lists import FIXED_EXPRESSIONS
from newsflow.names.lookup import SYLLABLE_SEP, Lookup, german_key
from newsflow.names.translit import (
    fold,
    has_han,
    is_han,
    name_key,
    name_readings,
    phonetic_key,
    split_surname,
)


@dataclass(frozen=True)
class Meaning:
    """What a match means for one entity."""

    entity: str
    kind: str  # accepted | exact | script | pinyin | gloss | near
    target: str  # the accepted form to write instead (the form itself when accepted)


@dataclass(frozen=True)
class NearRef:
    entity: str
    text: str  # the reference form, folded
    parts: int
    target: str
    low: str = ""  # folded, lower case, single spaces
    key: str = ""  # phonetic key


@dataclass(frozen=True)
class ZhNearRef:
    """A Chinese personal name in Pinyin, for near misses of one letter ("Wang Yii")."""

    entity: str
    low: str  # the accepted form, lower case ("wang yi")
    target: str


def _pinyin_key(text: str) -> str:
    return re.sub(r"[^a-z]", "", fold(text).lower())


def parts_count(form: str) -> int:
    folded = fold(form)
    if "\u00b7" in folded:
        return len([p for p in folded.split("\u00b7") if p.strip()])
    return len(folded.split())


def _target_for_parts(entry: Entry, parts: int) -> str:
    for form in entry.en:
        if parts_count(form) == parts:
            return form
    if parts == 1:
        return min(entry.en, key=parts_count)
    return entry.en[0]


def _chinese_name_target(entry: Entry, han: str) -> str | None:
    """The en form that is the Pinyin of han (Xi Jinping for 习近平), if han is a Chinese name."""
    if entry.type != "person" or split_surname(han) is None:
        return None
    readings = {"".join(r) for r in name_readings(han, chinese_name=True)}
    for form in entry.en:
        if _pinyin_key(form) in readings:
            return form
    return None


class NameIndex:
    """All matchers of one glossary."""

    def __init__(self, entries: tuple[Entry, ...]):
        self.entries = {e.id: e for e in entries}
        self.source_latin = Lookup(bounded=True, key=german_key)  # German source: de + en forms
        # Chinese source: en forms in Latin script
        self.source_latin_en = Lookup(bounded=True, english=True)
        self.source_han = Lookup(bounded=False)
        self.accepted = Lookup(bounded=True, english=True)
        self.exact = Lookup(bounded=True, english=True)
        self.script = Lookup(bounded=False)
        self.pinyin = Lookup(bounded=True, key=_pinyin_key, english=True)
        self.allowed = Lookup(bounded=True, english=True)  # fixed expressions, never fixed
        self.gloss: dict[str, list[GlossPattern]] = defaultdict(list)
        self.near: dict[str, list[NearRef]] = defaultdict(list)
        self.near_by_key: dict[tuple[int, str], list[NearRef]] = defaultdict(list)
        self.zh_near: dict[str, list[ZhNearRef]] = defaultdict(list)
        self.accepted_keys: set[str] = set()  # name_key of every accepted form
        self.person_keys: set[str] = set()  # ... of persons (their derived words are rare)
        self.form_keys: dict[str, set[str]] = defaultdict(set)  # any Latin form -> entities
        self.first_names: dict[str, set[str]] = defaultdict(set)  # entity -> its first names
        self.en_given: dict[str, set[str]] = defaultdict(set)  # ... in accepted forms
        self.short_names: set[str] = set()  # Han forms of two-character Chinese names (王毅)
        self.han_forms: set[str] = set()  # every Han form, folded, without dots
        self.persons = {e.id for e in entries if e.type == "person"}
        # caches of pure verdicts per (window, reference): see near.py and evidence.py
        self.near_cache: dict = {}
        self.known_cache: dict = {}
        self.segment_cache: dict = {}
        self.pool_cache: dict = {}
        self.accepted_plain = {  # accepted forms as written, case and spacing aside
            " ".join(fold(f).casefold().split()) for e in entries for f in e.en
        }
        for entry in entries:
            self.accepted_keys.update(name_key(f) for f in entry.en)
            if entry.type == "person":
                self.person_keys.update(name_key(f) for f in entry.en)
            latin = [*entry.en, *entry.avoid]
            latin += [f for forms in entry.forms.values() for f in forms if not has_han(f)]
            for form in latin:
                self.form_keys[name_key(form)].add(entry.id)
                words = fold(form).split()
                if entry.type == "person" and len(words) > 1:
                    self.first_names[entry.id].add(words[0].lower())
            for form in entry.en:
                words = fold(form).lower().split()
                if entry.type == "person" and len(words) > 1:
                    self.en_given[entry.id].add(" ".join(words[:-1]))
        for entry in entries:
            self._add_entry(entry)
        for phrase in FIXED_EXPRESSIONS:
            self.allowed.add(phrase, None)
        self.allowed.compile()
        self.source_latin.compile(german=True)
        for lookup in (self.source_latin_en, self.source_han, self.accepted):
            lookup.compile(genitive=lookup is not self.source_han)
        self.exact.compile(genitive=True)
        self.script.compile()
        self.pinyin.compile()
        for refs in self.near.values():
            for ref in refs:
                self.near_by_key[(ref.parts, ref.key[:1])].append(ref)

    def _add_entry(self, entry: Entry) -> None:
        eid = entry.id
        han_forms = [f for forms in entry.forms.values() for f in forms if has_han(f)]
        # Chinese names are short and alike (Wang Yi / Wang Li): no near misses for them;
        # their wrong renderings are Pinyin variants and literal glosses.
        chinese_name = any(
            _chinese_name_target(entry, re.sub(r"\s", "", fold(f))) for f in han_forms
        )
        near = (lambda *args: None) if chinese_name else self._add_near
        for phrase in entry.allow:
            self.allowed.add(phrase, eid)
        for form in entry.en:
            self.accepted.add(form, Meaning(eid, "accepted", form))
            self.source_latin.add(form, eid, german=True)
            self.source_latin_en.add(form, eid)
            near(entry, form, _target_for_parts(entry, parts_count(form)))
        for form in entry.avoid:
            target = _target_for_parts(entry, parts_count(form))
            if self._wrong_form(form):
                self.exact.add(form, Meaning(eid, "exact", target))
            near(entry, form, target)
        has_dotted = any("\u00b7" in fold(f) for f in han_forms)
        for lang, forms in entry.forms.items():
            for form in forms:
                if has_han(form):
                    self._add_han_form(entry, form, has_dotted)
                    continue
                if re.split(r"[-_]", lang)[0] == "de":
                    self.source_latin.add(form, eid, german=True)
                target = _target_for_parts(entry, parts_count(form))
                if self._wrong_form(form):
                    self.exact.add(form, Meaning(eid, "exact", target))
                if name_key(form) not in self.accepted_keys:
                    near(entry, form, target)

    def _wrong_form(self, form: str) -> bool:
        """A form that is no accepted form of any entity: another key, or an accepted
        multi-word name written as one word ("Hongkong" for Hong Kong)."""
        if name_key(form) not in self.accepted_keys:
            return True
        words = fold(form).split()
        return len(words) == 1 and words[0].casefold() not in self.accepted_plain

    def _add_near(self, entry: Entry, form: str, target: str) -> None:
        """Near-miss references: persons (any form) and single-word places. Organisation
        names and multi-word place names are made of common words ("Foreign Minister" is one
        letter from "Foreign Ministry"), so only their exact wrong forms count."""
        folded = fold(form)
        if len(re.sub(r"\W", "", folded)) < 4 or has_han(folded):
            return
        if entry.type == "org" or (entry.type == "place" and parts_count(folded) > 1):
            return
        low = " ".join(folded.lower().split())
        ref = NearRef(entry.id, folded, parts_count(folded), target, low, phonetic_key(low))
        if ref not in self.near[entry.id]:
            self.near[entry.id].append(ref)

    def _add_han_form(self, entry: Entry, form: str, has_dotted: bool) -> None:
        eid = entry.id
        folded = fold(form)
        han = re.sub(r"[\u00b7\s]", "", folded)
        self.source_han.add(form, eid)
        self.han_forms.add(han)
        chinese_target = None if "\u00b7" in folded else _chinese_name_target(entry, han)
        if "\u00b7" in folded:
            target = _target_for_parts(entry, parts_count(folded))
        elif chinese_target:
            target = chinese_target
        elif entry.type == "person":
            target = _target_for_parts(entry, 1)
        else:
            target = entry.en[0]
        self.script.add(form, Meaning(eid, "script", target))
        # Pinyin of every part; the parts of a dotted name may be joined or split freely.
        parts = [p for p in folded.split("\u00b7") if p.strip()]
        if not all(re.fullmatch(r"[\u3400-\u9fff\uf900-\ufaff]+", p.strip()) for p in parts):
            return
        readings = name_readings(han, chinese_name=chinese_target is not None)
        for reading in readings:
            if len(reading) < 2 or len("".join(reading)) < 4:
                continue
            tokens: list[str] = []
            for syllable in reading:
                if tokens:
                    tokens.append(SYLLABLE_SEP)
                tokens.append(re.escape(syllable))
            self.pinyin.add("".join(reading), Meaning(eid, "pinyin", target), tokens=tokens)
        if chinese_target:
            pattern = person_gloss(eid, han, chinese_target)
            ref = ZhNearRef(eid, " ".join(fold(chinese_target).lower().split()), chinese_target)
            if ref not in self.zh_near[eid]:
                self.zh_near[eid].append(ref)
            if len(han) == 2:
                self.short_names.add(han)
        elif entry.type == "place":
            pattern = place_gloss(eid, han, entry.en[0])
        else:
            pattern = None
        if pattern is not None and pattern not in self.gloss[eid]:
            self.gloss[eid].append(pattern)

    def source_entities(self, lang: str, folded: str) -> list[tuple[int, int, str]]:
        """(start, end, entity) of glossary names in a folded source text, overlaps resolved
        (the longest match wins: a full name over the surname inside it). Chinese hits must
        be words of their own (:mod:`newsflow.names.segment`)."""
        lookups = []
        if lang in ("zh", "zt"):
            lookups = [self.source_han, self.source_latin_en]
        elif lang == "de":
            lookups = [self.source_latin]
        else:
            lookups = [self.source_han, self.source_latin]
        hits = []
        han_hits = []
        for lookup in lookups:
            for start, end, _gen_end, entity_ids in lookup.find(folded):
                if lookup is self.source_han:
                    if _office_title(folded, end):
                        shorter = lookup.match_within(folded, start, end - 1)
                        if shorter is None:
                            continue
                        end, entity_ids = shorter
                    han_hits.append((start, end, entity_ids))
                    continue
                for eid in entity_ids:
                    hits.append((start, end, eid))
        if han_hits:
            hits.extend(self._word_hits(folded, han_hits))
        return longest_first(hits)

    def _word_hits(self, folded: str, han_hits: list) -> list[tuple[int, int, str]]:
        """The Chinese hits that are words of their own; a rejected hit may leave a shorter
        form at the same start (外交部长: 外交部 is not the ministry, 俄罗斯 still Russia)."""
        from newsflow.names.segment import is_word  # lazily: loads jieba's dictionary

        spans = [(s, e) for s, e, _ids in han_hits]
        kept = []
        for start, end, entity_ids in han_hits:
            while True:
                han = "".join(ch for ch in folded[start:end] if is_han(ch))
                if is_word(folded, start, end, spans, han in self.short_names, self.han_forms):
                    kept.extend((start, end, eid) for eid in entity_ids)
                    break
                shorter = self.source_han.match_within(folded, start, end - 1)
                if shorter is None:
                    break
                end, entity_ids = shorter
        return kept


_OFFICE_ENDINGS = frozenset("部局院厅委会署处所室组队团")


def _office_title(folded: str, end: int) -> bool:
    """外交部长 is the foreign minister, not the foreign ministry (外交部): an office name
    followed by 长 is a title."""
    return 0 < end < len(folded) and folded[end] == "长" and folded[end - 1] in _OFFICE_ENDINGS


def longest_first(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping hits, longer ones first; the same span may serve several entities.

    The chosen spans never overlap one another, so they are kept sorted and a new hit is
    checked against its two neighbours only (a long article has thousands of hits)."""
    chosen: set[tuple[int, int, str]] = set()
    spans: list[tuple[int, int]] = []  # distinct chosen spans, disjoint, sorted
    for start, end, eid in sorted(hits, key=lambda h: (h[0] - h[1], h[0])):
        at = bisect.bisect_left(spans, (start, end))
        if at < len(spans) and spans[at] == (start, end):
            chosen.add((start, end, eid))  # the same span, another entity
            continue
        if (at > 0 and spans[at - 1][1] > start) or (at < len(spans) and spans[at][0] < end):
            continue
        spans.insert(at, (start, end))
        chosen.add((start, end, eid))
    return sorted(chosen)
