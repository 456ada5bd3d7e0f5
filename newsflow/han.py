"""Han, Kana and Hangul: which script a character is, and which Chinese a text is written in.

Split out of :mod:`newsflow.detect` (which decides languages) because this part is about
characters, not languages: Simplified vs Traditional vs Japanese-only Kanji forms, told
apart with OpenCC's conversion tables. Pure; OpenCC converters are built once per process.
"""

from __future__ import annotations

import threading


def is_han(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3134F
    )


def is_kana(cp: int) -> bool:
    # Not U+30FB (middle dot) nor U+30FC (long vowel mark): Chinese text uses them too.
    return 0x3040 <= cp <= 0x30FA or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9D


def is_hangul(cp: int) -> bool:
    return (
        0xAC00 <= cp <= 0xD7A3
        or 0x1100 <= cp <= 0x11FF
        or 0x3130 <= cp <= 0x318F
        or 0xA960 <= cp <= 0xA97F
        or 0xD7B0 <= cp <= 0xD7FF
    )


_opencc_lock = threading.Lock()
_opencc: dict[str, object] = {}


def _convert(config: str, text: str) -> str:
    # Converters are built once; OpenCC's binding promises no thread safety, so conversions
    # are serialised (microseconds each).
    with _opencc_lock:
        converter = _opencc.get(config)
        if converter is None:
            import opencc

            converter = _opencc[config] = opencc.OpenCC(config)
        return converter.convert(text)  # type: ignore[attr-defined]


def _changed_positions(config: str, text: str) -> set[int]:
    """Positions of ``text`` that the OpenCC conversion changes. The whole text is converted
    so OpenCC's phrase tables apply (皇后 stays 皇后 under s2t); these configs map character to
    character, but should the length ever change, fall back to one character at a time."""
    converted = _convert(config, text)
    if len(converted) == len(text):
        return {i for i, (a, b) in enumerate(zip(text, converted, strict=True)) if a != b}
    return {i for i, ch in enumerate(text) if ch != " " and _convert(config, ch) != ch}


def _han_only(text: str) -> str:
    # Only Han characters go to OpenCC (which would also choke on lone surrogates).
    return "".join(ch if is_han(ord(ch)) else " " for ch in text)


def japanese_only_count(text: str) -> int:
    """Kanji in Japanese-only forms (総 経 円 広 気, changed by OpenCC jp2t and by neither
    t2s nor s2t): they tell an all-Kanji Japanese headline from Chinese."""
    han_only = _han_only(text)
    chinese = _changed_positions("t2s", han_only) | _changed_positions("s2t", han_only)
    return len(_changed_positions("jp2t", han_only) - chinese)


def chinese_variant_counts(text: str) -> tuple[int, int]:
    """(Simplified-only, Traditional-only) character counts of ``text``.

    Traditional-only: changed by t2s. Simplified-only: changed by s2t for BOTH Taiwan and Hong
    Kong (s2tw and s2hk). Plain s2t also rewrites characters that Traditional texts use every
    day (台 -> 臺, 群 -> 羣, 床 -> 牀), which would make any Taiwanese text look half Simplified.
    """
    han_only = _han_only(text)
    traditional = _changed_positions("t2s", han_only)
    simplified = _changed_positions("s2tw", han_only) & _changed_positions("s2hk", han_only)
    return len(simplified - traditional), len(traditional - simplified)


def chinese_variant(simplified: int, traditional: int, expected: str | None) -> str:
    if traditional > simplified:
        return "zt"
    if simplified > traditional:
        return "zh"
    return "zt" if expected == "zt" else "zh"  # nothing to tell them apart: zh, or the hint
