"""Judge the names in one translation against the glossary and fix the wrong ones.

For each glossary entity named in the source, the translation is scanned for accepted forms
and for wrong ones (see :mod:`newsflow.names.index`). Resolution rules:

- an accepted form is never wrong: a wrong candidate overlapping an accepted form is dropped,
  unless it strictly contains it ("Sergej Lavrov" is a wrong full name around an accepted
  surname);
- wrong candidates do not overlap: longer first, then exact > Pinyin > literal > near miss;
- a near-miss window of several words is dropped when fixing a smaller wrong span inside it
  already gives an accepted form ("Maria Zaharova": only "Zaharova" is wrong);
- status ``wrong`` if the entity has a wrong span (even next to accepted ones), else ``ok`` if
  it has an accepted one, else ``missing``. ``found`` lists the text of those spans (wrong ones
  for ``wrong``, accepted ones for ``ok``) in order of appearance, each distinct text once.

Near misses (:func:`newsflow.names.translit.is_near_miss`) are tried only for capitalised
windows of 1-3 words, only against persons and single-word places of entities named in the
source, never for Chinese personal names (Wang Li is not a misspelling of Wang Yi), never for an
accepted form of any entity or an English word derived from one (Russian, Germans).

The correction replaces only the wrong spans (a right-to-left splice, every other character is
kept): capitals stay capitals ("LAWROW" -> "LAVROV"), otherwise the glossary's form is written;
a German genitive left in the English ("Lawrows") becomes a possessive ("Lavrov's").
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from newsflow.names.candidates import find_candidates
from newsflow.names.index import WORD, NameIndex, NearRef
from newsflow.names.translit import (
    DERIVATION_SUFFIXES,
    fold,
    name_key,
    near_miss_folded,
    phonetic_key,
)

if TYPE_CHECKING:
    from newsflow.names.glossary import Glossary

_PRIORITY = {"exact": 0, "script": 0, "pinyin": 1, "gloss": 2, "near": 3}
_TOKEN = re.compile(r"[^\W\d_\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_LATIN_WORD = re.compile(WORD)
_LANG_ALIASES = {
    "de": "de",
    "zh": "zh",
    "zt": "zt",
    "en": "en",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh-tw": "zt",
    "zh-hant": "zt",
    "zh-hk": "zt",
    "cmn": "zh",
}


@dataclass(frozen=True)
class Finding:
    entity: str
    status: str  # ok | wrong | missing
    found: list[str]
    expected: str

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "status": self.status,
            "found": list(self.found),
            "expected": self.expected,
        }


@dataclass
class NameReport:
    findings: list[Finding]
    corrected: str
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def wrong(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "wrong"]

    def to_json(self, id: Any, with_candidates: bool = False) -> dict[str, Any]:  # noqa: A002
        """The CLI contract: exactly id, findings, corrected (+ candidates when asked)."""
        data: dict[str, Any] = {
            "id": id,
            "findings": [f.to_json() for f in self.findings],
            "corrected": self.corrected,
        }
        if with_candidates:
            data["candidates"] = [dict(c) for c in self.candidates]
        return data


@dataclass(frozen=True)
class _Span:
    start: int
    end: int  # end of the replaced text (includes a German genitive s)
    entity: str
    kind: str
    target: str
    genitive: bool = False

    def overlaps(self, other: _Span) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: _Span) -> bool:
        return (
            self.start <= other.start
            and other.end <= self.end
            and (self.end - self.start) > (other.end - other.start)
        )


def normalize_lang(lang: str) -> str:
    """de / zh / zt / en; anything else is 'any' (both source matchers are tried)."""
    return _LANG_ALIASES.get(str(lang).strip().lower().replace("_", "-"), "any")


def check_names(glossary: Glossary, lang: str, source: str, translation: str) -> NameReport:
    """Report every glossary entity named in ``source`` and fix wrong spellings in
    ``translation``. For lang ``en`` the text is its own source."""
    index = glossary.index
    source = source if isinstance(source, str) else ""
    translation = translation if isinstance(translation, str) else ""
    code = normalize_lang(lang)
    folded = fold(translation)
    accepted, fixed_wrong = _lookup_spans(index, translation, folded)
    if code == "en":
        present_order = _english_presence(index, translation, folded, accepted, fixed_wrong)
        if source and source != translation:
            folded_source = fold(source)
            more = _english_presence(
                index, source, folded_source, *_lookup_spans(index, source, folded_source)
            )
            present_order += [eid for eid in more if eid not in present_order]
        source_hits: list[tuple[int, int, str]] = []
    else:
        source_hits = index.source_entities(code, fold(source))
        present_order = list(dict.fromkeys(eid for _s, _e, eid in source_hits))
    present = set(present_order)
    wrong = [w for w in fixed_wrong if w.entity in present]
    wrong += _gloss_spans(index, translation, folded, present)
    wrong += _near_misses(index, translation, folded, present)
    chosen = _resolve(index, translation, accepted, wrong)
    still_accepted = [
        a for a in accepted if a.entity in present and not any(w.overlaps(a) for w in chosen)
    ]
    findings = []
    for eid in present_order:
        entry = index.entries[eid]
        wrong_spans = [s for s in chosen if s.entity == eid]
        ok_spans = [a for a in still_accepted if a.entity == eid]
        if wrong_spans:
            findings.append(
                Finding(eid, "wrong", _distinct(translation, wrong_spans), entry.expected)
            )
        elif ok_spans:
            findings.append(Finding(eid, "ok", _distinct(translation, ok_spans), entry.expected))
        else:
            findings.append(Finding(eid, "missing", [], entry.expected))
    corrected = _apply(translation, chosen)
    candidates = find_candidates(code, source, source_hits) if code != "en" else []
    return NameReport(findings, corrected, candidates)


def _distinct(text: str, spans: list[_Span]) -> list[str]:
    """The texts of the spans in order of first appearance, each once."""
    return list(dict.fromkeys(text[s.start : s.end] for s in sorted(spans, key=lambda s: s.start)))


def _english_presence(
    index: NameIndex, text: str, folded: str, accepted: list[_Span], wrong: list[_Span]
) -> list[str]:
    """Entities named in an English text: an accepted or wrong form of theirs is in it."""
    near = _near_misses(index, text, folded, None)
    chosen = _resolve(index, text, accepted, wrong + near)
    spans = [a for a in accepted if not any(w.overlaps(a) for w in chosen)] + chosen
    return list(dict.fromkeys(s.entity for s in sorted(spans, key=lambda s: s.start)))


def _lookup_spans(index: NameIndex, text: str, folded: str) -> tuple[list[_Span], list[_Span]]:
    """Accepted spans and the wrong spans the lookups find, for all entities."""
    accepted = [
        _Span(start, end, m.entity, "accepted", m.target)
        for start, end, _gen_end, meanings in index.accepted.find(folded)
        for m in meanings
    ]
    wrong: list[_Span] = []
    for start, end, gen_end, meanings in index.exact.find(folded):
        wrong.extend(
            _Span(start, gen_end, m.entity, "exact", m.target, gen_end > end) for m in meanings
        )
    for start, end, _gen_end, meanings in index.script.find(folded):
        wrong.extend(_Span(start, end, m.entity, "script", m.target) for m in meanings)
    for start, end, _gen_end, meanings in index.pinyin.find(folded):
        if text[start].isupper():  # Pinyin names are capitalised; "la fu" is not a name
            wrong.extend(_Span(start, end, m.entity, "pinyin", m.target) for m in meanings)
    return accepted, wrong


def _gloss_spans(index: NameIndex, text: str, folded: str, present: set[str]) -> list[_Span]:
    """Part-literal renderings of Chinese names ("King Yi"): some slot is not its Pinyin."""
    spans = []
    for eid in present:
        for pattern in index.gloss.get(eid, ()):
            for match in pattern.regex.finditer(folded):
                if not text[match.start()].isupper():
                    continue
                literal = any(
                    re.sub(r"[^a-z]", "", (match.group(f"s{i}") or "").lower()) not in readings
                    for i, readings in enumerate(pattern.pinyin_slots)
                )
                if literal:
                    spans.append(_Span(match.start(), match.end(), eid, "gloss", pattern.target))
    return spans


_key_cache: dict[str, str] = {}


def _key_of(window: str) -> str:
    key = _key_cache.get(window)
    if key is None:
        key = phonetic_key(window)
        if len(_key_cache) < 100_000:
            _key_cache[window] = key
    return key


def _near_misses(index: NameIndex, text: str, folded: str, present: set[str] | None) -> list[_Span]:
    """Capitalised 1-3 word windows close to an accepted or source form of an entity."""
    by_key: dict[tuple[int, str], list[NearRef]] = {}
    if present is None:
        by_key = index.near_by_key
    else:
        for eid in present:
            for ref in index.near.get(eid, ()):
                by_key.setdefault((ref.parts, ref.key[:1]), []).append(ref)
        if not by_key:
            return []
    tokens = list(_TOKEN.finditer(folded))
    lowered = [t.group().lower() for t in tokens]
    spans = []
    verdicts: dict[tuple[str, int], bool] = {}
    for i, first in enumerate(tokens):
        if not text[first.start()].isupper():
            continue
        for size in (1, 2, 3):
            last_index = i + size - 1
            if last_index >= len(tokens):
                break
            if size > 1:
                previous, last = tokens[last_index - 1], tokens[last_index]
                gap = folded[previous.end() : last.start()]
                if not gap or gap.strip() or not text[last.start()].isupper():
                    break
            window = " ".join(lowered[i : last_index + 1])
            refs = by_key.get((size, _key_of(window)[:1]))
            if not refs:
                continue
            length = len(window)
            for ref in refs:
                if window == ref.low or abs(len(ref.low) - length) > 3:
                    continue  # same text: the exact lookup decides; far longer: no misspelling
                verdict = verdicts.get((window, id(ref)))
                if verdict is None:
                    if _accepted_or_derived(window.replace(" ", ""), index.accepted_keys):
                        verdict = False
                    else:
                        window_key = _key_of(window)
                        verdict = near_miss_folded(window, window_key, ref.low, ref.key)
                    verdicts[(window, id(ref))] = verdict
                if verdict:
                    start, end = first.start(), tokens[last_index].end()
                    spans.append(_Span(start, end, ref.entity, "near", ref.target))
    return spans


def _accepted_or_derived(word: str, accepted_keys: set[str]) -> bool:
    """An accepted form, or an English word made from one (Russian, Germans, Chinese)."""
    if word in accepted_keys:
        return True
    for suffix in DERIVATION_SUFFIXES:
        if word.endswith(suffix) and word[: -len(suffix)] in accepted_keys:
            return True
    return False


def _resolve(index: NameIndex, text: str, accepted: list[_Span], wrong: list[_Span]) -> list[_Span]:
    accepted = sorted(accepted, key=lambda a: a.start)
    starts = [a.start for a in accepted]
    longest = max((a.end - a.start for a in accepted), default=0)

    def allowed(w: _Span) -> bool:
        low = bisect_left(starts, w.start - longest)
        high = bisect_left(starts, w.end)
        return all(not w.overlaps(a) or w.contains(a) for a in accepted[low:high])

    kept = [w for w in dict.fromkeys(wrong) if allowed(w)]
    kept = [w for w in kept if not _smaller_fix_suffices(index, text, w, kept)]
    kept.sort(key=lambda s: (s.start - s.end, _PRIORITY[s.kind], s.start))
    chosen: list[_Span] = []
    for span in kept:
        same = [c for c in chosen if (c.start, c.end) == (span.start, span.end)]
        if same:
            if all(c.entity != span.entity for c in same) and span.kind == same[0].kind:
                chosen.append(span)  # one misspelling that fits two named entities
            continue
        if not any(span.overlaps(c) for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _smaller_fix_suffices(index: NameIndex, text: str, window: _Span, spans: list[_Span]) -> bool:
    """A near-miss window of several words is not the error when fixing the smaller wrong
    spans inside it gives an accepted form: in "Maria Zaharova" only "Zaharova" is wrong,
    while in "Sergej Lavrow" fixing "Lavrow" leaves "Sergej Lavrov", so the window is."""
    if window.kind != "near":
        return False
    inner = [
        s for s in spans if s is not window and s.entity == window.entity and window.contains(s)
    ]
    if not inner:
        return False
    fixed = _apply(
        text[window.start : window.end],
        [
            _Span(
                s.start - window.start, s.end - window.start, s.entity, s.kind, s.target, s.genitive
            )
            for s in _non_overlapping(inner)
        ],
    )
    return name_key(fixed) in index.accepted_keys


def _non_overlapping(spans: list[_Span]) -> list[_Span]:
    chosen: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start - s.end, _PRIORITY[s.kind], s.start)):
        if not any(span.overlaps(c) for c in chosen):
            chosen.append(span)
    return chosen


def _apply(translation: str, chosen: list[_Span]) -> str:
    result = translation
    done: set[tuple[int, int]] = set()
    for span in sorted(chosen, key=lambda s: s.start, reverse=True):
        if (span.start, span.end) in done:
            continue
        done.add((span.start, span.end))
        original = translation[span.start : span.end]
        replacement = carry_case(original, span.target)
        if span.genitive:
            replacement += "'S" if replacement.isupper() and len(replacement) > 1 else "'s"
        if span.kind == "script":
            # Chinese characters need no spaces around them; the English name does
            if span.start > 0 and _LATIN_WORD.match(translation[span.start - 1]):
                replacement = " " + replacement
            if span.end < len(translation) and _LATIN_WORD.match(translation[span.end]):
                replacement += " "
        result = result[: span.start] + replacement + result[span.end :]
    return result


def carry_case(original: str, target: str) -> str:
    """All capitals stay capitals; anything else gets the glossary's spelling."""
    letters = [c for c in original if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return target.upper()
    return target
