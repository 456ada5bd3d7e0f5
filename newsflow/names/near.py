"""Near misses: capitalised windows of 1-3 words that look like a misspelling of a name.

Three kinds, all only for entities named in the source:

- ``near``: :func:`newsflow.names.translit.near_miss_folded` against persons and single-word
  places (not Chinese personal names): edit distance 1-2 or the same phonetic key;
- ``wide``: when the source mention is certain (checked later: a mention the accepted forms do
  not account for), long transliterations may be further off: edit distance up to a quarter
  of the name (Zelenskyi, Blinkenn), phonetic keys one apart, any first letter (Choigu); for
  a short name two neighbouring letters swapped (Kiyv);
- ``zhnear``: a Chinese personal name in Pinyin with one letter changed, added, dropped or
  two swapped (Wang Yii, Xi Jinpin, Li Qaing, Mao Ming).

A window that is a known different name (:mod:`newsflow.names.evidence`) is none of these.
Whether a near miss is rewritten is decided by the evidence from the source
(:func:`newsflow.names.evidence.budget_filter`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsflow.names.evidence import KnownNames
from newsflow.names.index import NameIndex, NearRef
from newsflow.names.translit import (
    DERIVATION_SUFFIXES,
    name_key,
    near_miss_folded,
    osa_distance,
    phonetic_key,
)

TOKEN = re.compile(r"[^\W\d_\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
FUZZY = frozenset({"near", "wide", "zhnear", "case"})


@dataclass(frozen=True)
class Near:
    start: int
    end: int
    entity: str
    kind: str
    target: str
    score: int  # edit distance: lower is closer


_key_cache: dict[str, str] = {}


def key_of(window: str) -> str:
    key = _key_cache.get(window)
    if key is None:
        key = phonetic_key(window)
        if len(_key_cache) < 100_000:
            _key_cache[window] = key
    return key


def derived(word: str, keys: set[str], person_keys: set[str], wide: bool) -> bool:
    """An accepted form, or an English word made from one (Russian, Germans, Chinese). For the
    wide tier a letter added to a person's name is a misspelling (Blinkenn), not a word."""
    if word in keys:
        return True
    for suffix in DERIVATION_SUFFIXES:
        if word.endswith(suffix) and word[: -len(suffix)] in keys:
            if wide and len(suffix) == 1 and word[: -len(suffix)] in person_keys:
                continue
            return True
    return False


def wide_miss(a: str, key_a: str, b: str, key_b: str) -> bool:
    """Further-off misspellings of a long name (both folded lower case); for a short one
    (4-5 letters) only two neighbouring letters swapped ("Kiyv")."""
    if len(b) < 6:
        return len(b) >= 4 and sorted(a) == sorted(b) and osa_distance(a, b) == 1
    if abs(len(a) - len(b)) > 2:
        return False
    allowed = 1 if len(b) < 8 else 2 if len(b) < 12 else 3
    if osa_distance(a, b) <= allowed:
        return True
    return len(key_b) >= 5 and abs(len(key_a) - len(key_b)) <= 1 and osa_distance(key_a, key_b) <= 1


def find_near(
    index: NameIndex,
    text: str,
    folded: str,
    present: set[str] | None,
    known: KnownNames,
    evidence: bool,
) -> list[Near]:
    """Near-miss spans of ``present`` entities (all entities when None). Without evidence
    from a source (``lang en``) only the ``near`` kind is tried."""
    entities = tuple(sorted(index.near.keys() if present is None else present))
    with_refs = tuple(eid for eid in entities if eid in index.near)
    pools: dict[tuple[int, int, str], list[NearRef]] = {}
    zh_refs = []
    if evidence:
        zh_refs = [r for eid in entities for r in index.zh_near.get(eid, ())]
    if not with_refs and not zh_refs:
        return []
    pool_cache = index.pool_cache
    spans: list[Near] = []
    for start, end, size, window in capitalised_windows(text, folded):
        window_key = key_of(window)
        length = len(window)
        pool_key = (size, length, window_key[:1])
        pool = pools.get(pool_key)
        if pool is None:
            pool = []
            for eid in with_refs:  # per entity, kept on the index: the same every record
                entity_key = (eid, *pool_key, evidence)
                part = pool_cache.get(entity_key)
                if part is None:
                    refs = [r for r in index.near[eid] if r.parts == size]
                    part = pool_cache[entity_key] = _pool(
                        refs, length, window_key[:1], evidence
                    )
                pool.extend(part)
            pools[pool_key] = pool
        for ref in pool:
            low = ref.low
            if window == low:
                continue  # the same text: the exact lookup decides
            if (
                ref.key[:1] != window_key[:1]
                and window[:2] != low[:2]
                and window[-2:] != low[-2:]
            ):
                continue  # the wide kind keeps the start or the end of a name
            verdict = _cached_judge(index, window, ref, evidence)
            if verdict and not known.other(window, ref.entity, folded, start, end):
                kind, score = verdict
                spans.append(Near(start, end, ref.entity, kind, ref.target, score))
        for ref in zh_refs:
            if ref.low.count(" ") + 1 != size or window == ref.low:
                continue
            if window[0] != ref.low[0] or abs(len(ref.low) - length) > 1:
                continue
            if osa_distance(window, ref.low) != 1:
                continue
            if window.replace(" ", "") in index.accepted_keys:
                continue
            if not known.other(window, ref.entity, folded, start, end):
                spans.append(Near(start, end, ref.entity, "zhnear", ref.target, 1))
    return spans


# Where a token can start with a capital: A-Z and any other character but the scripts without
# case (kana, CJK, Hangul; checked in the tests). Looking only there, not at every token of the
# text (a match object and a lower-case copy each), cut find_near on the translation of the
# corpus's 5 MB article (~0.85 -> ~0.25 CPU-s).
_MAYBE_UPPER = re.compile(r"[^\x00-@\[-\x7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WHOLE_TOKEN = re.compile(f"(?<!{TOKEN.pattern[:-1]}){TOKEN.pattern}")  # from its first character


def capitalised_windows(text: str, folded: str):
    """(start, end, number of words, lower-case window) for each window of 1-3 tokens of
    ``folded`` that each start with a capital in ``text``, separated by whitespace only;
    in text order, shorter windows first."""
    for chain in _capitalised_chains(text, folded):
        count = len(chain)
        for i, (start, end, word) in enumerate(chain):
            yield start, end, 1, word
            if i + 1 < count:
                _, end, second = chain[i + 1]
                word = f"{word} {second}"
                yield start, end, 2, word
                if i + 2 < count:
                    _, end, third = chain[i + 2]
                    yield start, end, 3, f"{word} {third}"


def _capitalised_chains(text: str, folded: str) -> list[list[tuple[int, int, str]]]:
    """Runs of capitalised tokens (start, end, lower case) with only whitespace between."""
    chains: list[list[tuple[int, int, str]]] = []
    chain: list[tuple[int, int, str]] = []
    for candidate in _MAYBE_UPPER.finditer(text):
        start = candidate.start()
        if not text[start].isupper():
            continue
        token = _WHOLE_TOKEN.match(folded, start)
        if token is None:
            continue  # no token, or inside one
        end = token.end()
        if not (chain and folded[chain[-1][1] : start].isspace()):
            chain = []
            chains.append(chain)
        chain.append((start, end, folded[start:end].lower()))
    return chains


_CACHE_LIMIT = 200_000


def _pool(refs, length: int, first: str, evidence: bool) -> list[NearRef]:
    """The references a window of this length and phonetic first letter can be near."""
    pool = []
    for ref in refs:
        difference = abs(len(ref.low) - length)
        if difference > 3:
            continue  # far longer or shorter: no misspelling
        if ref.key[:1] == first or (evidence and len(ref.low) >= 6 and difference <= 2):
            pool.append(ref)
    return pool


def _cached_judge(index: NameIndex, window: str, ref: NearRef, evidence: bool):
    """Verdicts per glossary: the same windows come back in every article."""
    cache = index.near_cache
    key = (window, ref, evidence)
    verdict = cache.get(key, False)
    if verdict is False:
        verdict = _judge(index, window, ref, evidence)
        if len(cache) < _CACHE_LIMIT:
            cache[key] = verdict
    return verdict


def _judge(index: NameIndex, window: str, ref: NearRef, evidence: bool) -> tuple[str, int] | None:
    words = window.split()
    if len(words) > 1 and " ".join(words[:-1]) in index.en_given.get(ref.entity, ()):
        if name_key(words[-1]) in index.accepted_keys:
            return None  # accepted parts combined: "Volodymyr Zelenskyy"
    joined = window.replace(" ", "")
    window_key = key_of(window)
    if not derived(joined, index.accepted_keys, index.person_keys, wide=False):
        if ref.key[:1] == window_key[:1] and near_miss_folded(window, window_key, ref.low, ref.key):
            return "near", osa_distance(window, ref.low)
    if not evidence or len(ref.low) < 4 or abs(len(ref.low) - len(window)) > 2:
        return None
    if window[:2] != ref.low[:2] and window[-2:] != ref.low[-2:] and window_key[:1] != ref.key[:1]:
        return None  # nothing in common where misspellings keep a name recognisable
    if derived(joined, index.accepted_keys, index.person_keys, wide=True):
        return None
    short, long_ = sorted((window, ref.low), key=len)
    if long_.startswith(short) and long_[len(short) :] in DERIVATION_SUFFIXES:
        if not (len(long_) - len(short) == 1 and ref.entity in index.persons):
            return None  # German/Germany, Russian/Russia: another word
    if wide_miss(window, window_key, ref.low, ref.key):
        return "wide", osa_distance(window, ref.low)
    return None
