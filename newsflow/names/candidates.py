"""Names the glossary does not know: suggestions for a person to confirm.

The finders are conservative on purpose (a false candidate costs a reviewer's time):

Chinese (lang zh/zt): a Chinese personal name is a surname from the table (compound surnames
first: 欧阳 诸葛 司马 上官 ...) plus a 1-2 character given name, and it must stand in a context
that marks a person:

- a title right before it (外长王毅, 发言人毛宁) and, right after it, a verb, another title,
  punctuation, a particle or the end of the text; or
- the start of the text, punctuation or a particle (的 和 与 ...) right before it and a speech or
  action verb (表示 说 指出 会见 ...) or a title right after it.

Given names never contain function words (的 了 是 ...) or characters typical of transliterated
foreign names (克 尔 斯 夫 ..., so 马克龙 is not read as "Ma Kelong"). Of the two given-name
lengths the one followed by a verb/title wins, then the longer one. The English form follows
GB/T 28039 (Zhang Jian'an), with the surname readings pypinyin gets wrong fixed (单 Shan,
曾 Zeng, ...).

German (lang de): a Russian/Ukrainian first name in German spelling (Sergej, Wladimir, ...),
an optional patronymic (-owitsch, -ewna ...), then a capitalised surname with a typical ending
(-ow, -owa, -ew, -in, -ski, -skij, -enko, -uk ...); after a first name that is not also a German
one (Sergej, not Maria), a surname with a Slavic spelling (sch, tsch, w) is enough. The English
form is made by rules (w->v, sch->sh, tsch->ch, schtsch->shch, ch->kh, j->y, -ski->-sky) with
notes where a rule may be wrong.

Spans that overlap a glossary name are never candidates.
"""

from __future__ import annotations

import re
from typing import Any

from newsflow.names.tables import (
    AMBIGUOUS_NAME_CHARS,
    COMPOUND_SURNAMES,
    RUSSIAN_FIRST_NAMES_DISTINCT,
    RUSSIAN_FIRST_NAMES_SHARED,
    SINGLE_SURNAMES,
    SURNAME_READINGS,
    ZH_LEFT_PARTICLES,
    ZH_NOT_GIVEN,
    ZH_TITLES,
    ZH_TRANSLIT_CHARS,
    ZH_VERBS,
)
from newsflow.names.translit import fold, format_chinese_name, german_to_english, is_han, pinyin

_TITLES = tuple(sorted(ZH_TITLES, key=len, reverse=True))
_VERBS = tuple(sorted(ZH_VERBS, key=len, reverse=True))


def find_candidates(
    lang: str, source: str, glossary_hits: list[tuple[int, int, str]]
) -> list[dict[str, Any]]:
    """Candidate dicts {source_form, suggested_en, type, lang, notes} for a source text."""
    if not source:
        return []
    taken = [(start, end) for start, end, _eid in glossary_hits]
    found: list[dict[str, Any]] = []
    if lang in ("zh", "zt", "any"):
        found.extend(_chinese_candidates(source, taken, "zt" if lang == "zt" else "zh"))
    if lang in ("de", "any"):
        found.extend(_german_candidates(source, taken))
    unique: dict[str, dict[str, Any]] = {}
    for candidate in found:
        unique.setdefault(candidate["source_form"], candidate)
    return list(unique.values())


def _free(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return all(end <= t_start or t_end <= start for t_start, t_end in taken)


# --- Chinese ------------------------------------------------------------------------------


_TITLE_SET = frozenset(ZH_TITLES)
_TITLE_LENGTHS = sorted({len(t) for t in ZH_TITLES})


def _title_before(text: str, pos: int) -> bool:
    return any(pos >= n and text[pos - n : pos] in _TITLE_SET for n in _TITLE_LENGTHS)


def _right_context(text: str, pos: int) -> int:
    """2: a verb or title follows; 1: punctuation, a particle or the end; 0: anything else."""
    rest = text[pos : pos + 8]
    if any(rest.startswith(w) for w in _VERBS) or any(rest.startswith(t) for t in _TITLES):
        return 2
    if not rest or not is_han(rest[0]) or rest[0] in ZH_LEFT_PARTICLES or rest[0] in "在也都就曾已":
        return 1
    return 0


def _left_boundary(text: str, pos: int) -> bool:
    if pos == 0:
        return True
    before = text[pos - 1]
    return not is_han(before) or before in ZH_LEFT_PARTICLES


def _chinese_candidates(
    source: str, taken: list[tuple[int, int]], lang: str
) -> list[dict[str, Any]]:
    text = fold(source)  # simplified, same length: spans map back to the original
    results = []
    i = 0
    while i < len(text):
        surname = None
        if text[i : i + 2] in COMPOUND_SURNAMES:
            surname = text[i : i + 2]
        elif text[i] in SINGLE_SURNAMES or text[i] in SURNAME_READINGS:
            surname = text[i]
        if surname is None:
            i += 1
            continue
        best = _best_given(text, i, surname)
        if best is None or not _free(i, best, taken):
            i += 1
            continue
        results.append(
            _chinese_candidate(source[i:best], surname, text[i + len(surname) : best], lang)
        )
        i = best
    return results


def _best_given(text: str, start: int, surname: str) -> int | None:
    """End of the name starting at start, or None when the context does not mark a person."""
    title_left = _title_before(text, start)
    if not title_left and not _left_boundary(text, start):
        return None
    given_start = start + len(surname)
    options = []
    for length in (2, 1):
        given = text[given_start : given_start + length]
        if len(given) != length or not all(is_han(c) for c in given):
            continue
        if any(c in ZH_NOT_GIVEN or c in ZH_TRANSLIT_CHARS for c in given):
            continue
        end = given_start + length
        score = _right_context(text, end)
        if score == 2 or (score == 1 and title_left):
            options.append((score, length, end))
    if not options:
        return None
    return max(options)[2]


def _chinese_candidate(source_form: str, surname: str, given: str, lang: str) -> dict[str, Any]:
    notes = []
    if surname in SURNAME_READINGS:
        library = "".join(pinyin(surname))
        notes.append(
            f"surname {surname} read as {SURNAME_READINGS[surname].capitalize()} "
            f"(Pinyin libraries give '{library}')"
        )
    surname_syls = (
        [SURNAME_READINGS[surname]] if surname in SURNAME_READINGS else pinyin(surname, v_to_u=True)
    )
    given_syls = pinyin(given, v_to_u=True)
    several = [c for c in given if c in AMBIGUOUS_NAME_CHARS]
    if several:
        notes.append("given-name character with several readings: " + ", ".join(several))
    return {
        "source_form": source_form,
        "suggested_en": format_chinese_name(surname_syls, given_syls),
        "type": "person",
        "lang": lang,
        "notes": notes,
    }


# --- German spelling of Russian / Ukrainian names -------------------------------------------

_FIRST_NAMES = {**RUSSIAN_FIRST_NAMES_SHARED, **RUSSIAN_FIRST_NAMES_DISTINCT}
_UPPER = "A-ZÄÖÜ"
_LOWER = "a-zäöüß"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
_GERMAN_NAME = re.compile(
    r"(?<![\w-])(?P<first>" + "|".join(sorted(_FIRST_NAMES, key=len, reverse=True)) + r")"
    rf"\s+(?:(?P<patronymic>[{_UPPER}][{_LOWER}]+(?:owitsch|ewitsch|jewitsch|itsch|owna|ewna|jewna))\s+)?"
    rf"(?P<surname>{_NAME_WORD})(?![\w-])"
)
_TYPICAL_ENDING = re.compile(
    r"(?:ow|owa|ew|ewa|jew|jewa|in|ina|yn|yna|ski|skij|skyj|skaja|aja|zki|zkij|enko|uk|juk|ko|"
    r"itsch|witsch|ow-\w+)$"
)
_SLAVIC_SPELLING = re.compile(r"tsch|sch|w|^J[aeou]|ij$|yj$", re.IGNORECASE)


def _is_russian_surname(surname: str, first: str) -> bool:
    if _TYPICAL_ENDING.search(surname):
        return True
    return first in RUSSIAN_FIRST_NAMES_DISTINCT and bool(_SLAVIC_SPELLING.search(surname))


def _german_candidates(source: str, taken: list[tuple[int, int]]) -> list[dict[str, Any]]:
    results = []
    for match in _GERMAN_NAME.finditer(source):
        first, surname = match.group("first"), match.group("surname")
        end = match.end()
        # German genitive: "Sergej Lawrows" names Lawrow
        if surname.endswith("s") and _is_russian_surname(surname[:-1], first):
            surname = surname[:-1]
            end -= 1
        if not _is_russian_surname(surname, first) or not _free(match.start(), end, taken):
            continue
        notes: list[str] = []
        parts = [_FIRST_NAMES[first]]
        if match.group("patronymic"):
            patronymic, patronymic_notes = german_to_english(match.group("patronymic"))
            parts.append(patronymic)
            notes.extend(patronymic_notes)
        english, surname_notes = german_to_english(surname)
        parts.append(english)
        notes.extend(n for n in surname_notes if n not in notes)
        results.append(
            {
                "source_form": source[match.start() : end],
                "suggested_en": " ".join(parts),
                "type": "person",
                "lang": "de",
                "notes": notes,
            }
        )
    return results
