"""Part-literal renderings of Chinese names: a weak model translates the characters of a
name one by one ("King Yi" for 王毅, "Li Strong" for 李强, "North Capital" for 北京,
"Fragrant Harbour" for 香港).

One regex per name: a slot per character (per surname for a person), each slot the Pinyin
or a literal gloss; the match is wrong when at least one slot is a gloss (all Pinyin is the
Pinyin lookup's business).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsflow.names.lists import PLACE_GLOSSES
from newsflow.names.tables import GLOSSES
from newsflow.names.translit import split_surname, surname_syllables, syllables

SYLLABLE_SEP = r"(?:\s+|[\-'\u00b7])?"
_ADMIN_SUFFIX = "市省区县"
# a word character that is not CJK (Chinese right next to an English name is a boundary)
_WORD = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"


@dataclass(frozen=True)
class GlossPattern:
    entity: str
    regex: re.Pattern
    pinyin_slots: tuple[frozenset[str], ...]  # per slot: the readings that are NOT literal
    target: str


def _compile(entity: str, slots: list[tuple[set[str], tuple[str, ...]]], target: str):
    if not any(glosses for _pinyin, glosses in slots):
        return None
    pieces = []
    for number, (pinyin, glosses) in enumerate(slots):
        alternatives = sorted(
            {re.escape(p) for p in pinyin} | {re.escape(g).replace(r"\ ", r"\s+") for g in glosses},
            key=len,
            reverse=True,
        )
        pieces.append(f"(?P<s{number}>{'|'.join(alternatives)})")
    # Case is ignored in the name only (a scoped flag): the boundary class holds caseless
    # scripts, and under a global IGNORECASE re folds its large ranges, which made each
    # pattern 4x as slow to compile (the glossary compiles them in every process).
    source = f"(?<!{_WORD})(?i:" + SYLLABLE_SEP.join(pieces) + f")(?!{_WORD})"
    return GlossPattern(entity, re.compile(source), tuple(frozenset(p) for p, _g in slots), target)


def person_gloss(entity: str, han: str, target: str) -> GlossPattern | None:
    """ "<surname pinyin|gloss> <given pinyin|gloss>..." (King Yi, Li Strong)."""
    surname, given = split_surname(han)
    given_readings = syllables(given)
    if len(given_readings) != len(given):
        return None
    slots: list[tuple[set[str], tuple[str, ...]]] = []
    surname_pinyin = {"".join(surname_syllables(surname)), "".join(syllables(surname))}
    slots.append((surname_pinyin, GLOSSES.get(surname, ()) if len(surname) == 1 else ()))
    for ch, reading in zip(given, given_readings, strict=True):
        slots.append(({reading}, GLOSSES.get(ch, ())))
    return _compile(entity, slots, target)


def place_gloss(entity: str, han: str, target: str) -> GlossPattern | None:
    """A Chinese place name of 2-4 characters, each slot its Pinyin or a literal gloss
    (North Capital, Western Peace, Tun Creek). A form ending in an administrative suffix
    (黄山市) is left to its shorter form, so "Yellow Mountain City" becomes "Huangshan City"."""
    if not 2 <= len(han) <= 4 or han[-1] in _ADMIN_SUFFIX:
        return None
    readings = syllables(han)
    if len(readings) != len(han):
        return None
    slots = [
        ({reading}, tuple(dict.fromkeys(PLACE_GLOSSES.get(ch, ()) + GLOSSES.get(ch, ()))))
        for ch, reading in zip(han, readings, strict=True)
    ]
    return _compile(entity, slots, target)


def literal(pattern: GlossPattern, match: re.Match) -> bool:
    """Is some slot of the match a gloss rather than the Pinyin?"""
    return any(
        re.sub(r"[^a-z]", "", (match.group(f"s{i}") or "").lower()) not in readings
        for i, readings in enumerate(pattern.pinyin_slots)
    )
