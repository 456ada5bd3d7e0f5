"""Judge the names in one translation against the glossary and fix the wrong ones.

Order of work for one record:

1. URLs, e-mail addresses, @handles and #hashtags are blanked out of both texts
   (:mod:`newsflow.names.protect`); detokenisation gaps before an apostrophe are closed in a
   view of the translation ("Xi 'an" -> "Xi'an"), spans are mapped back for the fix.
2. The source names the entities (:meth:`NameIndex.source_entities`, Chinese hits must be
   words of their own, :mod:`newsflow.names.segment`); each hit is one mention.
3. The translation is scanned for accepted forms and wrong candidates of those entities
   (:mod:`newsflow.names.index`): sure ones (avoid forms, source forms left, Pinyin, literal
   renderings, tone marks, gaps) and fuzzy ones (near misses, :mod:`newsflow.names.near`;
   wrong capitals). Candidates inside a fixed expression (``allow``) are dropped.
4. Resolution: an accepted form is never wrong (a candidate overlapping one is dropped, unless
   it strictly contains it: "Sergej Lavrov"); candidates do not overlap (longer first, then
   sure > Pinyin > literal > fuzzy); a near-miss window of several words is dropped when fixing
   a smaller wrong span inside it already gives an accepted form ("Maria Zaharova").
5. Evidence (:mod:`newsflow.names.evidence`): fuzzy spans are kept only for source mentions
   nothing else answers to, and never when they are a known different name.
6. Status ``wrong`` if the entity has a wrong span (even next to accepted ones), else ``ok`` if
   it has an accepted form or an allowed expression, else ``missing``. ``found`` lists the text
   of those spans in order of appearance, each distinct text once.

The correction replaces only the wrong spans (a right-to-left splice, every other character is
kept): capitals stay capitals ("LAWROW" -> "LAVROV"), otherwise the glossary's form is written;
a German genitive left in the English ("Lawrows") becomes a possessive ("Lavrov's").
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from newsflow.names.candidates import find_candidates
from newsflow.names.evidence import KnownNames, budget_filter
from newsflow.names.gloss import literal
from newsflow.names.index import NameIndex
from newsflow.names.lists import COMMON_WORDS
from newsflow.names.lookup import WORD
from newsflow.names.near import FUZZY, find_near
from newsflow.names.protect import Gapless, inside, mask, protected_spans
from newsflow.names.translit import fold, name_key

if TYPE_CHECKING:
    from newsflow.names.glossary import Glossary

_PRIORITY = {
    "exact": 0,
    "script": 0,
    "gap": 0,
    "marks": 0,
    "pinyin": 1,
    "gloss": 2,
    "case": 3,
    "near": 3,
    "zhnear": 3,
    "wide": 4,
}
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
    score: int = 0

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
    view = Gapless(translation, mask(fold(translation), protected_spans(translation)))
    text, folded = view.text, view.folded
    accepted, certain = _lookup_spans(index, text, folded)
    evidence = code != "en"
    counts: Counter = Counter()
    source_hits: list[tuple[int, int, str]] = []
    masked_source = ""
    if not evidence:
        known = KnownNames(index)
        present_order = _english_presence(index, text, folded, accepted, certain, known)
        if source and source != translation:
            other = Gapless(source, mask(fold(source), protected_spans(source)))
            more = _english_presence(
                index,
                other.text,
                other.folded,
                *_lookup_spans(index, other.text, other.folded),
                known,
            )
            present_order += [eid for eid in more if eid not in present_order]
    else:
        source_protected = protected_spans(source)
        masked_source = mask(source, source_protected)
        folded_source = mask(fold(source), source_protected)
        source_hits = index.source_entities(code, folded_source)
        present_order = list(dict.fromkeys(eid for _s, _e, eid in source_hits))
        counts = Counter(eid for _s, _e, eid in source_hits)
        known = KnownNames(index, folded_source if code != "de" else "", source_hits)
    present = set(present_order)
    wrong = [w for w in certain if w.entity in present]
    wrong += _gloss_spans(index, text, folded, present)
    marked, cased = _from_accepted(index, view, translation, accepted, present, evidence)
    if cased:
        good = Counter(
            a.entity for a in _unique(accepted) if (a.start, a.end, a.entity) not in cased
        )
        good.update(
            w.entity
            for w in _unique(wrong + list(marked.values()))
            if not any(w.overlaps(a) and not w.contains(a) for a in accepted)
        )
        keep = budget_filter(list(cased.values()), counts, good, lambda s: text[s.start : s.end])
        marked.update({(s.start, s.end, s.entity): s for s in keep})
    accepted = [a for a in accepted if (a.start, a.end, a.entity) not in marked]
    wrong += marked.values()
    wrong += [
        _Span(n.start, n.end, n.entity, n.kind, n.target, score=n.score)
        for n in find_near(index, text, folded, present, known, evidence)
    ]
    allowed: list[tuple[int, int, str]] = []
    if wrong or not present <= {a.entity for a in accepted}:  # else nothing to allow
        allowed = _allowed_spans(index, folded, accepted + wrong)
    wrong = [w for w in wrong if not inside(allowed_ranges(allowed), w.start, w.end)]
    chosen = _resolve(index, text, accepted, wrong)
    fuzzy = [c for c in chosen if c.kind in FUZZY and c.kind != "case"]
    if fuzzy:
        sure = [c for c in chosen if c not in fuzzy]
        standing = [a for a in _unique(accepted) if not any(w.overlaps(a) for w in chosen)]
        answered = Counter(a.entity for a in standing)
        answered.update(eid for _s, _e, eid in allowed)
        if evidence:
            answered.update(w.entity for w in _unique(sure))
        else:
            # English is its own source: a near miss next to a right form of the same name
            # may be someone else ("Merz met Mertz"); alone, it is the name
            counts = Counter({eid: len(fuzzy) for eid in present})
        kept = budget_filter(fuzzy, counts, answered, lambda s: name_key(text[s.start : s.end]))
        chosen = sorted(sure + kept, key=lambda s: s.start)
    still_accepted = [
        a for a in accepted if a.entity in present and not any(w.overlaps(a) for w in chosen)
    ]
    still_accepted += [_Span(s, e, eid, "allowed", "") for s, e, eid in allowed]
    chosen = [_original(view, s) for s in chosen]
    still_accepted = [_original(view, s) for s in still_accepted]
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
    candidates = find_candidates(code, masked_source, source_hits) if evidence else []
    return NameReport(findings, corrected, candidates)


def _unique(spans: list[_Span]) -> list[_Span]:
    """One span per (start, end, entity)."""
    return list({(s.start, s.end, s.entity): s for s in spans}.values())


def _original(view: Gapless, span: _Span) -> _Span:
    if not view.has_gaps:
        return span
    start, end = view.original(span.start, span.end)
    return replace(span, start=start, end=end)


def allowed_ranges(allowed: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    return sorted({(s, e) for s, e, _eid in allowed})


def _allowed_spans(index: NameIndex, folded: str, spans: list[_Span]) -> list[tuple[int, int, str]]:
    """(start, end, entity) of fixed expressions: the entity that lists the phrase, and every
    entity with a form inside it ("Chicken Kiev" holds Kiev, a form of Kyiv)."""
    found = []
    for start, end, _gen_end, meanings in index.allowed.find(folded):
        entities = {m for m in meanings if m}
        entities.update(s.entity for s in spans if start <= s.start and s.end <= end)
        found.extend((start, end, eid) for eid in sorted(entities))
    return found


_COMBINING = re.compile(r"[\u0300-\u036f]")


def _from_accepted(
    index: NameIndex,
    view: Gapless,
    translation: str,
    accepted: list[_Span],
    present: set[str],
    evidence: bool,
) -> tuple[dict, dict]:
    """Accepted forms written wrong: with a detokenisation gap ("Xi 'an") or with marks no
    glossary spelling has (Pinyin tone marks: "Wáng Yì") -> certain; with a capital of the
    glossary's missing ("lavrov", "Xi jinping", "kremlin") -> ``case``, only with a source to
    give evidence: certain, but fuzzy (counted) when the lower-case form is an English word
    ("china"); a multi-word place or organisation only when it has no capital at all ("hong
    kong", not "eastern Europe")."""
    marked: dict[tuple[int, int, str], _Span] = {}
    cased: dict[tuple[int, int, str], _Span] = {}
    for span in _unique(accepted):
        if span.entity not in present:
            continue
        entry = index.entries[span.entity]
        written = view.text[span.start : span.end]
        key = name_key(written)
        forms = [f for f in entry.en if name_key(f) == key] or [span.target]
        start, end = view.original(span.start, span.end)
        where = (span.start, span.end, span.entity)
        if translation[start:end] != written:
            marked[where] = replace(span, kind="gap", target=forms[0])
            continue
        decomposed = unicodedata.normalize("NFD", written)
        if _COMBINING.search(decomposed):
            lowered = unicodedata.normalize("NFC", written).casefold()
            if not any(unicodedata.normalize("NFC", f).casefold() == lowered for f in forms):
                plain = [f for f in forms if not _COMBINING.search(unicodedata.normalize("NFD", f))]
                marked[where] = replace(span, kind="marks", target=(plain or forms)[0])
                continue
        if not evidence:
            continue
        if entry.type != "person" and len(written.split()) > 1 and not written.islower():
            continue  # "eastern Europe", "Russian foreign ministry": a style, not an error
        if not any(_case_fits(fold(written), fold(f)) for f in forms):
            wrong = replace(span, kind="case", target=forms[0], score=1)
            if fold(written).lower() in COMMON_WORDS:
                cased[where] = wrong  # "china": the porcelain unless a mention is left
            else:
                marked[where] = wrong
    return marked, cased


def _case_fits(written: str, form: str) -> bool:
    """Capitals as the glossary writes them, or more: "LAVROV", "Von Der Leyen" fit,
    "lavrov", "Xi jinping", "LAvrov" do not."""
    written_words, form_words = written.split(), form.split()
    if len(written_words) != len(form_words):
        return written.isupper() or written == form
    for word, glossary_word in zip(written_words, form_words, strict=True):
        letters = [c for c in word if c.isalpha()]
        if word == glossary_word or (len(letters) > 1 and all(c.isupper() for c in letters)):
            continue
        if glossary_word.islower() and word == glossary_word.capitalize():
            continue
        if len(letters) == 1 and word.upper() == glossary_word.upper():
            continue
        return False
    return True


def _distinct(text: str, spans: list[_Span]) -> list[str]:
    """The texts of the spans in order of first appearance, each once."""
    return list(dict.fromkeys(text[s.start : s.end] for s in sorted(spans, key=lambda s: s.start)))


def _english_presence(
    index: NameIndex,
    text: str,
    folded: str,
    accepted: list[_Span],
    wrong: list[_Span],
    known: KnownNames,
) -> list[str]:
    """Entities named in an English text: an accepted or wrong form of theirs is in it."""
    near = [
        _Span(n.start, n.end, n.entity, n.kind, n.target, score=n.score)
        for n in find_near(index, text, folded, None, known, evidence=False)
    ]
    candidates = wrong + near
    allowed = _allowed_spans(index, folded, accepted + candidates)
    ranges = allowed_ranges(allowed)
    candidates = [w for w in candidates if not inside(ranges, w.start, w.end)]
    chosen = _resolve(index, text, accepted, candidates)
    spans = [a for a in accepted if not any(w.overlaps(a) for w in chosen)] + chosen
    spans += [_Span(s, e, eid, "allowed", "") for s, e, eid in allowed]
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
    """Part-literal renderings of Chinese names ("King Yi", "North Capital")."""
    spans = []
    for eid in present:
        for pattern in index.gloss.get(eid, ()):
            for match in pattern.regex.finditer(folded):
                if text[match.start()].isupper() and literal(pattern, match):
                    spans.append(_Span(match.start(), match.end(), eid, "gloss", pattern.target))
    return spans


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
            if span.end < len(result) and _LATIN_WORD.match(result[span.end]):
                replacement += " "
        result = result[: span.start] + replacement + result[span.end :]
    return result


def carry_case(original: str, target: str) -> str:
    """All capitals stay capitals; anything else gets the glossary's spelling."""
    letters = [c for c in original if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return target.upper()
    return target
