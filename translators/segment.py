"""Sentence segmentation without models (pure; replaces Argos's MiniSBD/Stanza).

Argos's own splitters download models at run time and fail offline (argos.md),
so newsflow splits sentences with rules. The rules are tuned for news: splitting
inside a sentence hurts a translation more than leaving two sentences together,
so when in doubt (abbreviations, initials, German ordinals) they do NOT split.

Guarantee (tested with Hypothesis): nothing is lost. ``split_sentences`` returns
stripped slices of its input in order, so the segments without whitespace equal
the input without whitespace; ``split_long`` returns pieces whose concatenation
is exactly its input.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# --- German / English -------------------------------------------------------

_CLOSERS = "\"'”“’»«)]›‹"
_OPENERS = "\"'„“‘‚»«([›‹¿¡"
_LATIN_BOUNDARY = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*\s+")

# Compared exactly (case matters: "No." is an abbreviation, "no." ends a sentence).
_ABBREVIATIONS = frozenset(
    """
    Dr Prof Nr Nrn bzw Bzw ca Ca St vgl Vgl Abs Abb Art Bd Hrsg Jh Jhd Mio Mrd Tsd Str
    Tel Hr Hrn Fr Dipl Ing dt ggf Ggf evtl Evtl inkl Inkl exkl zzgl gem lt sog bzgl usw
    etc geb gest Kap Min Std Sek max min Mind mind
    Jan Feb Mär Mrz Apr Jun Jul Aug Sep Sept Okt Oct Nov Dez Dec
    Mr Mrs Ms Mx Sr Jr Mt Ft Gen Gov Sen Rep Rev Lt Col Capt Sgt Cpl Maj Adm Cmdr Hon
    Pres No Nos vs approx est Co Corp Fig fig Vol vol pp Ed ed Bros
    """.split()
)
_MONTHS = frozenset(
    """
    Januar Jänner Februar März April Mai Juni Juli August September Oktober November Dezember
    Jan Feb Mär Mrz Apr Jun Jul Aug Sep Sept Okt Nov Dez
    """.lower().split()
)
# Words after which "<number>." is an ordinal, not the end of a sentence
# ("am 3. Oktober", "zum 100. Geburtstag", "im 19. Jahrhundert", "der 2. Platz").
_ORDINAL_LEAD = frozenset(
    """
    am im vom zum beim bis seit ab an in um der die das den dem des ein eine einer einem
    einen eines sein seine seiner seinem seinen ihr ihre ihrer ihrem ihren jeder jede
    jedes jeden jedem zur von
    """.split()
)
_DOTTED = re.compile(r"^(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}$")  # z.B  u.a  U.S  e.g

# --- Chinese ----------------------------------------------------------------

_CJK_BOUNDARY = re.compile(r"[。！？；…!?]+[」』”’）)】》〉\"'］]*")


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` (one paragraph) into sentences; whitespace-only input gives []."""
    if lang in ("zh", "zt") or lang.startswith("zh"):
        ends = [m.end() for m in _CJK_BOUNDARY.finditer(text)]
    else:
        ends = [
            m.end() for m in _LATIN_BOUNDARY.finditer(text) if _is_latin_boundary(text, m, lang)
        ]
    out: list[str] = []
    start = 0
    for end in [*ends, len(text)]:
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    return out


def _is_latin_boundary(text: str, match: re.Match[str], lang: str) -> bool:
    after = match.end()
    if after >= len(text):
        return False  # trailing whitespace: the end of the text anyway
    nxt = text[after]
    if not (nxt.isupper() or nxt.isdigit() or nxt in _OPENERS):
        return False
    terminal = match.group().rstrip().rstrip(_CLOSERS)
    if terminal != ".":
        return True  # ! ? … and "..." always end a sentence before a capital
    words = _last_words(text, match.start())
    if not words:
        return True
    word = words[-1].lstrip(_OPENERS)
    if not word:
        return True
    if word in _ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():
        return False  # initials: "J. R. R. Tolkien", "z. B.", "S. 5"
    if _DOTTED.match(word):
        return False
    if word.isdigit() and len(word) <= 3 and lang != "en":
        # German ordinal or date ("3. Oktober", "am 12. März 2026"); a year
        # ("im Jahr 2025. Die ...") has four digits and does end the sentence.
        next_word = _first_word(text, after).strip(_OPENERS + ".,;:").lower()
        previous = words[-2].lower() if len(words) > 1 else ""
        if next_word in _MONTHS or previous in _ORDINAL_LEAD:
            return False
        if _NUMBERED.match(text, after):
            return False  # "12. 3. 2026"
    return True


_NUMBERED = re.compile(r"\d{1,4}\.")
_WINDOW = 64


# The words next to a boundary are read from a window around it that grows only when a word
# does not fit: splitting the whole prefix (and copying the rest) at every boundary made the
# 100,000-character corpus paragraph quadratic (~1.3 s).
def _last_words(text: str, end: int) -> list[str]:
    """``text[:end].split()``, except that only the last two words are certain."""
    size = _WINDOW
    while True:
        start = max(0, end - size)
        words = text[start:end].split()
        if start == 0 or len(words) >= 3:  # words[0] may be cut; the last two are whole
            return words
        size *= 2


def _first_word(text: str, start: int) -> str:
    """``text[start:].split(maxsplit=1)[0]`` for a non-space ``text[start]``."""
    size = _WINDOW
    while True:
        end = start + size
        parts = text[start:end].split(maxsplit=1)
        if end >= len(text) or len(parts) == 2:
            return parts[0]
        size *= 2


# --- Splitting over-long segments ---------------------------------------------

_STRONG_BREAKS = "，；：、–—"  # break anywhere after these
_LATIN_BREAKS = ",;:"  # only when followed by whitespace ("3,5" stays whole)


def split_long(segment: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    """Split ``segment`` into pieces of at most ``max_tokens`` tokens each.

    Cuts after a comma / semicolon / colon / dash when one lies in the second half
    of the longest piece that fits, else after a space there, else hard (Chinese
    has no spaces). ``"".join(pieces) == segment`` always. A single character
    that alone exceeds ``max_tokens`` becomes its own piece.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    pieces: list[str] = []
    rest = segment
    while rest:
        fit = _longest_fitting_prefix(rest, count_tokens, max_tokens)
        if fit >= len(rest):
            pieces.append(rest)
            break
        cut = _best_cut(rest, fit)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return pieces


def _longest_fitting_prefix(text: str, count_tokens: Callable[[str], int], limit: int) -> int:
    """Largest n with count_tokens(text[:n]) <= limit (at least 1), or len(text) if all fits.

    Gallops from a small window so a 100,000-character run-on text is never
    tokenised whole for every piece.
    """
    lo, hi = 0, min(len(text), max(16, limit * 4))
    while count_tokens(text[:hi]) <= limit:
        if hi >= len(text):
            return len(text)
        lo, hi = hi, min(len(text), hi * 2)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count_tokens(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid
    return max(lo, 1)


def _best_cut(text: str, fit: int) -> int:
    floor = fit // 2
    for i in range(fit - 1, floor - 1, -1):
        ch = text[i]
        if ch in _STRONG_BREAKS or (
            ch in _LATIN_BREAKS and i + 1 < len(text) and text[i + 1].isspace()
        ):
            return _skip_space(text, i + 1, fit)
    for i in range(fit - 1, max(floor, 1) - 1, -1):
        if text[i].isspace():
            return _skip_space(text, i, fit)
    return fit


def _skip_space(text: str, i: int, limit: int) -> int:
    # Whitespace after the cut goes with the piece, as far as the piece still fits.
    while i < limit and text[i].isspace():
        i += 1
    return i


def segment_paragraphs(
    paragraphs: list[str],
    lang: str,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> list[list[str]]:
    """Sentences of each paragraph, each at most ``max_tokens`` tokens (stripped, non-empty)."""
    out: list[list[str]] = []
    for paragraph in paragraphs:
        sentences: list[str] = []
        for sentence in split_sentences(paragraph, lang):
            for piece in split_long(sentence, count_tokens, max_tokens):
                piece = piece.strip()
                if piece:
                    sentences.append(piece)
        out.append(sentences)
    return out
