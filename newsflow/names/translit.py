"""Text folding, Pinyin, string similarity and German->English transliteration rules.

Everything here is pure and deterministic. :func:`fold` keeps the length of the text, so a
span found in the folded text is the same span in the original (the report quotes originals).
"""

from __future__ import annotations

import re
import unicodedata

from newsflow.names.tables import COMPOUND_SURNAMES, SINGLE_SURNAMES, SURNAME_READINGS

# Middle-dot variants used between the parts of a transliterated name (谢尔盖·拉夫罗夫).
DOTS = "\u00b7\u2022\u30fb\u2027\uff65\u2219\u22c5\u0387\u2e31\u318d\u16eb"
_APOSTROPHES = "\u2019\u2018\u02bc\u0060\u00b4\u2032"
_HYPHENS = "\u2010\u2011"

_ASCII_TABLE = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\x0b": " ", "\x0c": " ", "`": "'"})
_FOLD_CACHE_LIMIT = 200_000


class _FoldTable(dict):
    """str.translate table: code point -> folded character, computed on first use and kept
    (translate runs the loop in C: a 5 MB article folds in a fraction of a second)."""

    def __missing__(self, code_point: int) -> str:
        folded = _fold_char(chr(code_point))
        if len(self) < _FOLD_CACHE_LIMIT:
            self[code_point] = folded
        return folded


_fold_table = _FoldTable()
_t2s_converter = None


def is_han(ch: str) -> bool:
    """True for a CJK ideograph (Simplified or Traditional)."""
    return (
        "\u3400" <= ch <= "\u9fff"
        or "\uf900" <= ch <= "\ufaff"
        or "\U00020000" <= ch <= "\U0002ffff"
    )


def has_han(text: str) -> bool:
    return any(is_han(ch) for ch in text)


def _t2s(ch: str) -> str:
    global _t2s_converter
    if _t2s_converter is None:
        import opencc  # imported lazily: the converter loads its dictionaries on creation

        _t2s_converter = opencc.OpenCC("t2s")
    return _t2s_converter.convert(ch)


def _fold_char(ch: str) -> str:
    if ch in DOTS:
        return "\u00b7"
    if ch in _APOSTROPHES:
        return "'"
    if ch in _HYPHENS:
        return "-"
    if ch.isspace():
        return " "
    normal = unicodedata.normalize("NFKC", ch)
    if len(normal) == 1:
        ch = normal
    decomposed = unicodedata.normalize("NFD", ch)
    if len(decomposed) > 1 and all(unicodedata.combining(c) for c in decomposed[1:]):
        ch = decomposed[0]
    if is_han(ch):
        simplified = _t2s(ch)
        if len(simplified) == 1:
            ch = simplified
    return ch


def fold(text: str) -> str:
    """Same-length normal form: Traditional->Simplified per character, one middle dot,
    one apostrophe, diacritics and full-width forms removed, every space a plain space.
    Case is kept (the matchers decide about case)."""
    if text.isascii():
        return text.translate(_ASCII_TABLE)
    if len(text) < _LONG_TEXT:
        return text.translate(_fold_table)
    return _MAY_CHANGE.sub(_fold_run, text)


# str.translate with a dict looks up every character from Python objects (~0.28 CPU-s for the
# corpus's 5 MB German article); a long text is translated only in the runs of characters that
# fold can change, the rest of ASCII staying as it is (checked in the tests).
_LONG_TEXT = 1000
_MAY_CHANGE = re.compile(r"[^\x00-\x08\x0e-\x1b\x20-\x5f\x61-\x7f]+")


def _fold_run(match: re.Match[str]) -> str:
    return match.group().translate(_fold_table)


def name_key(text: str) -> str:
    """Lookup key of a name: folded, lower case, without spaces, dots and hyphens."""
    return re.sub(r"[\s\u00b7\-]+", "", fold(text)).lower()


# --- Pinyin -------------------------------------------------------------------------------


def pinyin(text: str, v_to_u: bool = False) -> list[str]:
    """Toneless Pinyin per character (pypinyin, imported on first use: ~1 s that
    ``newsflow --help`` does not pay)."""
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(text, style=Style.NORMAL, v_to_u=v_to_u)


def syllables(han: str) -> list[str]:
    """Toneless Pinyin syllables of a Han string (ü written u, as folding does)."""
    return [s.replace("v", "u") for s in pinyin(han) if s.strip()]


def split_surname(han: str) -> tuple[str, str] | None:
    """(surname, given) when han looks like a Chinese personal name, else None."""
    if len(han) >= 3 and han[:2] in COMPOUND_SURNAMES and len(han) <= 4:
        return han[:2], han[2:]
    if 2 <= len(han) <= 3 and (han[0] in SINGLE_SURNAMES or han[0] in SURNAME_READINGS):
        return han[0], han[1:]
    return None


def surname_syllables(surname: str) -> list[str]:
    """Surname reading, fixing the characters Pinyin libraries read as common words."""
    if surname in SURNAME_READINGS:
        return [SURNAME_READINGS[surname]]
    if len(surname) == 2 and surname in SURNAME_READINGS:
        return [SURNAME_READINGS[surname]]
    return syllables(surname)


def name_readings(han: str, chinese_name: bool) -> list[list[str]]:
    """Syllable lists for a Han form: the library reading and, for a Chinese personal name,
    the reading with the surname fixed (曾 -> zeng, not ceng)."""
    base = syllables(han)
    readings = [base]
    parts = split_surname(han) if chinese_name else None
    if parts:
        surname, given = parts
        fixed = surname_syllables(surname) + syllables(given)
        if fixed != base:
            readings.append(fixed)
    return readings


def format_chinese_name(surname_syls: list[str], given_syls: list[str]) -> str:
    """GB/T 28039 form: 'Zhang Jian'an', 'Zhuge Liang', 'Xi Jinping'."""
    surname = "".join(surname_syls).capitalize()
    if not given_syls:
        return surname
    given = given_syls[0] + "".join(
        ("'" + s) if s[:1] in ("a", "o", "e") else s for s in given_syls[1:]
    )
    return f"{surname} {given.capitalize()}"


# --- similarity ---------------------------------------------------------------------------


def osa_distance(a: str, b: str) -> int:
    """Optimal-string-alignment (restricted Damerau-Levenshtein) distance."""
    if a == b:
        return 0
    if not a or not b:
        return max(len(a), len(b))
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


# fmt: off
_KEY_STEPS = (
    ("schtsch", "shch"), ("tsch", "ch"), ("sch", "sh"), ("zh", "sh"), ("kh", "ch"),
    ("w", "v"), ("ck", "k"), ("tz", "s"), ("ts", "s"), ("z", "s"), ("j", "y"), ("ie", "i"),
    ("y", "i"),
)
# fmt: on


def phonetic_key(text: str) -> str:
    """Coarse key that unifies German and English spellings of Slavic names
    (Lawrow/Lavrov, Selenskyj/Zelensky, Jelzin/Yeltsin, Sacharowa/Zakharova)."""
    key = re.sub(r"[^a-z]", "", fold(text).lower())
    for old, new in _KEY_STEPS:
        key = key.replace(old, new)
    key = re.sub(r"(.)\1+", r"\1", key)
    return re.sub(r"([oe])f$", r"\1v", key)  # Peskoff, Lavrof: old spellings of -ov


# Suffixes that turn a name into a derived word (Russia/Russian, German/Germany, Israel/Israeli).
# fmt: off
DERIVATION_SUFFIXES = frozenset(
    {"s", "n", "an", "ian", "ese", "i", "y", "ns", "ans", "ians", "ic", "ish", "ite", "ites",
     "er", "ers", "es"}
)
# fmt: on


def is_near_miss(candidate: str, reference: str) -> bool:
    """Is candidate a misspelling of reference (both names, any case)?

    Edit distance 1 (5 letters at least), 2 from 8 letters on when the lengths differ by at
    most one, or the
    same phonetic key (4 letters at least), or phonetic keys 1 apart from 7 letters on. A
    candidate that is the reference plus a derivation suffix (or the reverse) is a different
    word, not a misspelling."""
    a = fold(candidate).lower()
    b = fold(reference).lower()
    return near_miss_folded(a, phonetic_key(a), b, phonetic_key(b))


def near_miss_folded(a: str, key_a: str, b: str, key_b: str) -> bool:
    """:func:`is_near_miss` on folded lower-case texts with their phonetic keys."""
    if a == b:
        return True
    len_a, len_b = len(a), len(b)
    close = abs(len_a - len_b) <= 2
    if not close and abs(len(key_a) - len(key_b)) > 1:
        return False
    short, long_ = (a, b) if len_a <= len_b else (b, a)
    if long_.startswith(short) and long_[len(short) :] in DERIVATION_SUFFIXES:
        return False
    longest = len(long_)
    if close and longest >= 5:
        # two edits only for long names of about the same length ("Zelenskij"/"Zelensky"),
        # not for two letters glued to a name ("LavrovLi")
        allowed = 2 if longest >= 8 and abs(len_a - len_b) <= 1 else 1
        if osa_distance(a, b) <= allowed:
            return True
    if len(key_a) >= 4 and key_a == key_b:
        return True
    return len(key_a) >= 7 and abs(len(key_a) - len(key_b)) <= 1 and osa_distance(key_a, key_b) <= 1


# --- German spelling of Russian/Ukrainian names -> English --------------------------------

_VOWELS = "aeiouyäöü"
NOTE_INITIAL_S = "German 's' can stand for з (z) or с (s): check the initial S"
NOTE_SCH = "German 'sch' can stand for ж (zh) or ш (sh)"
NOTE_YO = "German 'o' after sch/tsch can be ё, which English often writes 'e' (Gorbachev)"
NOTE_JO = "German 'jo' can be ё: English writes 'yo' or 'e'"
NOTE_S_BETWEEN_VOWELS = "German single 's' between vowels read as з (z); it can be с (s)"
NOTE_YJ = "ending -yj/-ij: English press varies (-y, -iy, -yy)"


def german_to_english(word: str) -> tuple[str, list[str]]:
    """Suggest the English spelling of a Russian/Ukrainian name in German spelling
    (Lawrow -> Lavrov, Chruschtschow -> Khrushchov) and notes on rules that may be wrong."""
    parts = word.split("-")
    converted = []
    notes: list[str] = []
    for part in parts:
        text, part_notes = _convert_part(part)
        converted.append(text)
        notes.extend(n for n in part_notes if n not in notes)
    return "-".join(converted), notes


def _convert_part(word: str) -> tuple[str, list[str]]:
    low = word.lower()
    out: list[str] = []
    notes: list[str] = []
    i = 0
    multi = (
        ("schtsch", "shch"),
        ("tsch", "ch"),
        ("sch", "sh"),
        ("ch", "kh"),
        ("ss", "s"),
        ("tz", "ts"),
    )
    while i < len(low):
        for german, english in multi:
            if low.startswith(german, i):
                out.append(english)
                if german == "sch":
                    notes.append(NOTE_SCH)
                i += len(german)
                break
        else:
            ch = low[i]
            prev = low[i - 1] if i else ""
            nxt = low[i + 1] if i + 1 < len(low) else ""
            if ch == "w":
                out.append("v")
            elif ch == "z":
                out.append("ts")
            elif ch == "j":
                out.append("y")
                if nxt == "o":
                    notes.append(NOTE_JO)
            elif ch == "s" and i == 0 and nxt in _VOWELS:
                out.append("s")
                notes.append(NOTE_INITIAL_S)
            elif ch == "s" and prev in _VOWELS and nxt in _VOWELS:
                out.append("z")  # a German single s between vowels is з; с would be ss
                notes.append(NOTE_S_BETWEEN_VOWELS)
            elif ch == "o" and nxt == "w" and out and out[-1] in ("sh", "ch", "shch"):
                out.append("o")
                notes.append(NOTE_YO)
            else:
                out.append({"ä": "a", "ö": "o", "ü": "u", "ß": "s"}.get(ch, ch))
            i += 1
    text = "".join(out)
    if re.search(r"(yy|iy)$", text):
        notes.append(NOTE_YJ)
    text = re.sub(r"(sk|tsk)(iy|yy|i)$", r"\1y", text)
    text = re.sub(r"yy$", "y", text)
    deduped = list(dict.fromkeys(notes))
    return text[:1].upper() + text[1:], deduped
