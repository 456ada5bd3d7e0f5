"""Part-literal renderings of Chinese names: a weak model translates the characters of a
name one by one ("King Yi" for 王毅, "Li Strong" for 李强, "North Capital" for 北京,
"Fragrant Harbour" for 香港).

One regex per name: a slot per character (per surname for a person), each slot the Pinyin
or a literal gloss; the match is wrong when at least one slot is a gloss (all Pinyin is the
Pinyin lookup's business).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from newsflow.names.lists import PLACE_GLOSSES
from newsflow.names.tables import GLOSSES
from newsflow.names.translit import split_surname, surname_syllables, syllables

SYLLABLE_SEP = r"(?:\s+|[\-'\u00b7])?"
_ADMIN_SUFFIX = "市省区县"
# a word character that is not CJK (Chinese right next to an English name is a boundary)
_WORD = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"


# Patterns are compiled on first use, by whichever thread checks first.
_COMPILE_LOCK = threading.Lock()


@dataclass(frozen=True)
class GlossPattern:
    entity: str
    source: str  # the regex, compiled on first use: see :attr:`regex`
    pinyin_slots: tuple[frozenset[str], ...]  # per slot: the readings that are NOT literal
    target: str

    @property
    def regex(self) -> re.Pattern:
        """The compiled pattern. Only the names a source mentions are ever looked for, and
        compiling one costs ~7 ms (its CJK boundary classes): a process compiles the few it
        needs, not the glossary's ~25. Kept in the instance's __dict__ (not a field, so
        equality and the repr stay those of the source)."""
        compiled = self.__dict__.get("_regex")
        if compiled is None:
            with _COMPILE_LOCK:
                compiled = self.__dict__.get("_regex")
                if compiled is None:
                    compiled = self.__dict__["_regex"] = re.compile(self.source)
        return compiled


def _pattern(entity: str, slots: list[tuple[set[str], tuple[str, ...]]], target: str):
    if not any(glosses for _pinyin, glosses in slots):
        return None
    pieces = []
    for number, (pinyin, glosses) in enumerate(slots):
        # longest first, then alphabetical: the same pattern in every process (a set's order
        # follows the hash seed)
        alternatives = sorted(
            {re.escape(p) for p in pinyin} | {re.escape(g).replace(r"\ ", r"\s+") for g in glosses},
            key=lambda alternative: (-len(alternative), alternative),
        )
        pieces.append(f"(?P<s{number}>{'|'.join(alternatives)})")
    # Case is ignored in the name only (a scoped flag): the boundary class holds caseless
    # scripts, and under a global IGNORECASE re folds its large ranges, which made each
    # pattern 4x as slow to compile (every process that checks a Chinese name compiles it).
    source = f"(?<!{_WORD})(?i:" + SYLLABLE_SEP.join(pieces) + f")(?!{_WORD})"
    return GlossPattern(entity, source, tuple(frozenset(p) for p, _g in slots), target)


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
    return _pattern(entity, slots, target)


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
    return _pattern(entity, slots, target)


def literal(pattern: GlossPattern, match: re.Match) -> bool:
    """Is some slot of the match a gloss rather than the Pinyin?"""
    return any(
        re.sub(r"[^a-z]", "", (match.group(f"s{i}") or "").lower()) not in readings
        for i, readings in enumerate(pattern.pinyin_slots)
    )
