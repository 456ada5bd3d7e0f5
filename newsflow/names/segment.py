"""Word boundaries for glossary names found in Chinese sources.

A glossary form found inside a longer word is no mention of the entity: 基辅 in 基辅罗斯 (Kievan
Rus'), 俄罗斯 in 白俄罗斯 (Belarus), 普京 in 普京娜 (Putina) or 拉斯普京 (Rasputin), 李强 in 李强调
("Li stressed"). The rules, for one source hit:

1. **Segmentation.** The run of Han characters around the hit (up to 6 either side) is cut into
   words by the maximum-probability route over jieba's dictionary (the same computation as
   ``jieba.cut(HMM=False)``) with the glossary forms found in the text added as words. The hit
   must start and end at word boundaries, with two exceptions for a dictionary word that
   contains it: the hit followed by more (北京市, 德国总理, 北京人民大会堂: the place and what is
   there) still names the place, unless the rest continues a transliteration; something
   before it only when that is a generic affix (全中国, 驻北京), not in 白俄罗斯 (Belarus). A word
   that crosses the hit's edge (李/强调) rejects it. Fixed expressions whose English keeps an old
   form (北京大学 "Peking University", 北京烤鸭 "Peking duck") are the `allow` lists' business.
2. **Transliterations.** A transliterated foreign name (any form that is not a Chinese personal
   name) followed or preceded by a character typical of transliterations (娜 斯 罗 夫 ...) is
   part of a longer foreign name unless that character starts/ends an ordinary dictionary word
   (普京特别强调) or another glossary name (莫斯科克里姆林宫).
3. **Chinese given names.** A two-character Chinese name (王毅) directly followed by a single
   character common in given names (王毅军) is a three-character name of someone else.

jieba's dictionary is opened once per process, lazily, at the first Chinese hit (``newsflow
--help`` and German-only work never open it). It is not loaded: loading it costs 1.5 CPU-s, and
a hit needs a few dozen of its 500,000 entries. It is an on-disk index built once per machine
(:mod:`newsflow.names.jieba_index`: a SQLite file, about 3 CPU-s to build), queried fragment
by fragment: opening it costs milliseconds, the answers are jieba's. The file goes to
``$NEWSFLOW_CACHE_DIR/jieba`` or, by default, ``<temp dir>/newsflow-<uid>/jieba``
(:mod:`newsflow.cache`; jieba's own default is a shared file in the temp dir). When that folder
cannot be written, the dictionary is loaded into memory as before (slower, same results).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from newsflow.cache import cache_folder
from newsflow.names.lists import (
    GENERIC_AFFIXES_AFTER,
    GENERIC_AFFIXES_BEFORE,
    TRANSLIT_CONTINUATION,
    ZH_GIVEN_CHARS,
)
from newsflow.names.translit import is_han

WINDOW = 6  # Han characters either side of a hit that take part in the segmentation
_OVERLAY_FREQ = 2000  # glossary forms as dictionary words: a common name, not a function word
_lock = threading.Lock()
_dictionary: tuple[Mapping[str, int], float] | None = None


def cache_dir() -> Path:
    """The folder of the dictionary's index (see :mod:`newsflow.cache`)."""
    return cache_folder("jieba")


def dictionary() -> tuple[Mapping[str, int], float]:
    """(word -> frequency, log of the total) of jieba's default dictionary, opened once: an
    on-disk index answering like ``jieba.Tokenizer().FREQ`` (a dict only when the index
    cannot be built)."""
    global _dictionary
    if _dictionary is None:
        with _lock:
            if _dictionary is None:
                from newsflow.names.jieba_index import open_dictionary  # lazily: sqlite3

                freq, total = open_dictionary(cache_dir())
                _dictionary = (freq, math.log(total))
    return _dictionary


def _boundaries(
    run: str, offset: int, overlay: dict[str, int], freq: Mapping[str, int], log_total: float
):
    """Word (start, end) pairs of one Han run by the maximum-probability route."""
    n = len(run)
    dag: list[set[int]] = [set() for _ in range(n)]
    for k in range(n):
        i = k
        fragment = run[k]
        while i < n and fragment in freq:
            if freq[fragment]:
                dag[k].add(i)
            i += 1
            fragment = run[k : i + 1]
        dag[k].add(k)
    for word in overlay:
        at = run.find(word)
        while at >= 0:
            dag[at].add(at + len(word) - 1)
            at = run.find(word, at + 1)
    route: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
    for idx in range(n - 1, -1, -1):
        best = None
        for x in dag[idx]:
            word = run[idx : x + 1]
            count = overlay.get(word) or freq.get(word) or 1
            score = math.log(count) - log_total + route[x + 1][0]
            if best is None or score > best[0]:
                best = (score, x)
        route[idx] = best
    words = []
    idx = 0
    while idx < n:
        end = route[idx][1] + 1
        words.append((offset + idx, offset + end))
        idx = end
    return words


def _words(text: str, start: int, end: int, overlay: dict[str, int]) -> list[tuple[int, int]]:
    """Words of the Han runs of text[start:end]; other characters are words of their own."""
    freq, log_total = dictionary()
    words: list[tuple[int, int]] = []
    i = start
    while i < end:
        if not is_han(text[i]):
            words.append((i, i + 1))
            i += 1
            continue
        j = i
        while j < end and is_han(text[j]):
            j += 1
        words.extend(_boundaries(text[i:j], i, overlay, freq, log_total))
        i = j
    return words


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    a = start
    while a > 0 and start - a < WINDOW and is_han(text[a - 1]):
        a -= 1
    b = end
    while b < len(text) and b - end < WINDOW and is_han(text[b]):
        b += 1
    return a, b


def is_word(
    text: str,
    start: int,
    end: int,
    other_hits: Iterable[tuple[int, int]],
    chinese_name: bool,
    forms: frozenset[str] | set[str] = frozenset(),
    cache: dict | None = None,
) -> bool:
    """Is the hit text[start:end] (a folded Chinese source) a word of its own?

    ``other_hits`` are the spans of all glossary hits in the text (used as dictionary words and
    as neighbours that end a transliteration); ``chinese_name``: the hit is a Chinese personal
    name (rule 3 instead of rule 2); ``forms``: all Han glossary forms (a dictionary word that
    starts with one inside the hit, 联合国/安理会常任理事国, does not break it); ``cache``: verdicts
    per context, kept by the caller per glossary (the same contexts come back: 王毅表示)."""
    a, b = _window(text, start, end)
    if a == start and b == end:
        return True  # nothing Han around it
    overlay: dict[str, int] = {}
    neighbours: set[int] = set()
    for s, e in other_hits:
        if s < b and a < e:
            word = "".join(ch for ch in text[max(s, a) : min(e, b)] if is_han(ch))
            if len(word) > 1:
                overlay[word] = _OVERLAY_FREQ
            if (s, e) != (start, end):
                neighbours.update((s, e))
    hit = text[start:end]
    if all(is_han(ch) for ch in hit):
        overlay[hit] = max(overlay.get(hit, 0), _OVERLAY_FREQ)
    key = (
        text[a:b],
        start - a,
        end - a,
        chinese_name,
        tuple(sorted(n - a for n in neighbours)),
        tuple(sorted(overlay)),
    )
    if cache is None:
        return _is_word(text, start, end, a, b, overlay, neighbours, chinese_name, forms)
    verdict = cache.get(key)
    if verdict is None:
        verdict = _is_word(text, start, end, a, b, overlay, neighbours, chinese_name, forms)
        if len(cache) < 100_000:
            cache[key] = verdict
    return verdict


def _is_word(text, start, end, a, b, overlay, neighbours, chinese_name, forms) -> bool:
    words = _words(text, a, b, overlay)
    starts = {s for s, _e in words}
    ends = {e for _s, e in words}
    for s, e in words:
        if s < end < e and start < s and text[s:end] in forms:
            ends.add(end)  # the word after starts with a glossary name: 安理会常任理事国
            starts.add(s)
    if start not in starts or end not in ends:
        return _inside_generic(text, start, end, words, neighbours)
    if chinese_name:
        return not _given_name_follows(text, end, words, neighbours)
    return _ends_foreign_name(text, start, end, words, neighbours)


def _inside_generic(
    text: str, start: int, end: int, words: list[tuple[int, int]], neighbours: set[int]
) -> bool:
    """The hit is inside one word: allowed when what comes before is a generic affix (全中国)
    or another glossary name (北京人民大会堂), and what follows does not continue a
    transliteration."""
    for s, e in words:
        if s <= start and end <= e:
            before, after = text[s:start], text[end:e]
            another = s in neighbours and start in neighbours  # 北京 in 北京人民大会堂
            if not another and not _generic(before, GENERIC_AFFIXES_BEFORE):
                return False  # 白俄罗斯 (Belarus) is not 俄罗斯
            if _generic(after, GENERIC_AFFIXES_AFTER):
                return True
            # the place and what is there (北京人民大会堂, 柏林电影节): still the place, unless
            # the rest continues a transliteration (基辅罗斯)
            return not (after[0] in TRANSLIT_CONTINUATION and not _ordinary_word(after))
    return False  # a word crosses its edge


def _generic(rest: str, affixes: frozenset[str]) -> bool:
    """rest is empty or made of generic affixes (市政府 = 市 + 政府)."""
    if not rest or rest in affixes:
        return True
    return any(
        rest[:n] in affixes and _generic(rest[n:], affixes) for n in range(1, min(len(rest), 4))
    )


def _ends_foreign_name(text, start, end, words, neighbours) -> bool:
    for s, e in words:
        if s == end and end not in neighbours:  # the word after the hit
            if text[s] in TRANSLIT_CONTINUATION and not _ordinary_word(text[s:e]):
                return False
        if e == start and start not in neighbours:  # the word before it
            if text[e - 1] in TRANSLIT_CONTINUATION and not _ordinary_word(text[s:e]):
                return False
    return True


def _ordinary_word(word: str) -> bool:
    """A dictionary word of two or more characters that is not itself a transliteration."""
    return len(word) > 1 and not all(ch in TRANSLIT_CONTINUATION for ch in word)


def _given_name_follows(text, end, words, neighbours) -> bool:
    if end in neighbours:
        return False
    for s, e in words:
        if s == end:
            return e - s == 1 and text[s] in ZH_GIVEN_CHARS
    return False
