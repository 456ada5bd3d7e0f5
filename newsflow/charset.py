"""Bytes to text: the charset rules every source format except feeds goes through.

Kept apart from :mod:`newsflow.sources` because it is its own problem (BOMs,
declarations that lie, mojibake behind Western labels, detection limited to the
charsets a language plausibly uses) with its own tests (``tests/test_sources.py``,
``tests/test_properties.py``). Pure: bytes in, text out.
"""

from __future__ import annotations

import codecs
import logging
import re

import charset_normalizer

from newsflow.errors import SourceError

log = logging.getLogger("newsflow.sources")


class DecodeError(SourceError):
    """Bytes that no plausible charset decodes."""


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
# Declared labels that real pages use for a superset: decode with the superset
# (WHATWG does the same: latin-1 means windows-1252, gb2312 means gb18030).
SUPERSETS = {
    "iso8859_1": ("cp1252", "latin_1"),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "big5": ("big5", "cp950", "big5hkscs"),
}
# Charsets a source in this language plausibly uses, in the order to try when
# detection is unsure (short texts): the candidates charset_normalizer ranks
# are filtered by this first, so "Grüße" is not read as Polish cp1250.
_LANG_CHARSETS = {
    "de": ("utf_8", "cp1252", "iso8859_15", "iso8859_1"),
    "en": ("utf_8", "cp1252", "iso8859_1"),
    "zh": ("utf_8", "gb18030", "gbk", "gb2312", "big5", "cp950", "big5hkscs", "utf_16"),
    "zt": ("utf_8", "big5", "cp950", "big5hkscs", "gb18030", "gbk", "utf_16"),
}


def codec_name(label: str | bytes | None) -> str | None:
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    try:
        return codecs.lookup(label.strip().lower()).name.replace("-", "_")
    except LookupError:
        return None


def _try(data: bytes, codec: str) -> tuple[str, str] | None:
    """Decode with ``codec`` (or the superset real pages mean by it); None if it fails."""
    for name in SUPERSETS.get(codec, (codec,)):
        try:
            return data.decode(name), codecs.lookup(name).name
        except (UnicodeDecodeError, LookupError):
            continue
    return None


_MULTI_BYTE = (
    "utf",
    "gb",
    "big5",
    "cp950",
    "cp949",
    "cp932",
    "euc",
    "shift_jis",
    "johab",
    "iso2022",
    "hz",
)


def _single_byte(codec: str) -> bool:
    return not codec.startswith(_MULTI_BYTE)


def declared_charsets(data: bytes) -> list[str]:
    """Charsets the document declares about itself (XML declaration, ``<meta>``)."""
    head = data[:4096]
    found = []
    for pattern in (_XML_DECL, _META_CHARSET):
        m = pattern.search(head)
        if m and (codec := codec_name(m.group(1))):
            found.append(codec)
    return found


def decode_text(data: bytes, declared: str | None, lang: str | None = None) -> tuple[str, str]:
    """Bytes -> (text, charset used, as Python names it: "utf-8", "gb18030", "cp1252").

    Order: byte-order mark; the declared charset (HTTP header); the document's
    own declaration (XML declaration, ``<meta charset>``); UTF-8; detection with
    charset_normalizer, limited to the charsets ``lang`` plausibly uses (else
    to those of de/en/zh), any single-byte guess read as windows-1252.
    A declared charset is believed only if it decodes the bytes without error,
    and a declared single-byte charset loses to valid non-ASCII UTF-8 (the usual
    "UTF-8 page labelled iso-8859-1" mistake). Labels mean their supersets
    (latin-1 -> windows-1252, gb2312/gbk -> gb18030), as browsers read them.
    Raises :class:`DecodeError` when nothing decodes the bytes.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name.removesuffix("-sig")
            except UnicodeDecodeError:
                break  # a BOM followed by garbage: let the other rules decide
    if not data:
        return "", "utf-8"
    is_ascii = data.isascii()
    for label in [declared, *declared_charsets(data)]:
        codec = codec_name(label)
        if codec is None:
            continue
        if _single_byte(codec) and not is_ascii and (utf8 := _try(data, "utf_8")):
            return utf8
        if codec in _WESTERN and not is_ascii and (cjk := _cjk_behind_western_label(data, lang)):
            return cjk
        if decoded := _try(data, codec):
            return decoded
    if decoded := _try(data, "utf_8"):
        return decoded
    if b"\x00" in data:
        raise DecodeError("binary data, not text (contains NUL bytes)")
    decoded = _detect(data, lang)
    if decoded is None:
        raise DecodeError("cannot decode the bytes with any known charset")
    return decoded


# Labels of Western single-byte charsets. They decode ANY bytes, so a Chinese page that
# wrongly declares one would silently become mojibake ("ÐÂµÄ×¡·¿") detected as Hungarian.
_WESTERN = frozenset({"ascii", "iso8859_1", "cp1252", "iso8859_15"})
# Share of non-ASCII bytes among the letters of a text (markup left out) above which a
# "Western" label is not believed: German and French stay under 10 %, CJK text is ~100 %.
# Short texts ("Öl") are always believed.
_MOJIBAKE_SHARE = 0.6
_MOJIBAKE_MIN_LETTERS = 20
_MARKUP = re.compile(rb"<[^>]*>|&[#A-Za-z0-9]+;")
_CHINESE_CHARSETS = frozenset({"gb18030", "gbk", "gb2312", "big5", "cp950", "big5hkscs"})
_CHINESE_CHARS = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2026\u00b7]")


def _cjk_behind_western_label(data: bytes, lang: str | None) -> tuple[str, str] | None:
    """The bytes read as Chinese when a Western label cannot be right (mostly high bytes
    that decode cleanly as a Chinese multi-byte charset); None keeps the label."""
    text = _MARKUP.sub(b" ", data)
    high = sum(1 for b in text if b >= 0x80)
    letters = high + sum(1 for b in text if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A)
    if letters < _MOJIBAKE_MIN_LETTERS or high / letters < _MOJIBAKE_SHARE:
        return None
    decoded = _detect(data, lang if _lang_key(lang) in ("zh", "zt") else "zh")
    if decoded is None or codec_name(decoded[1]) not in _CHINESE_CHARSETS:
        return None
    # Only a reading that is Chinese text (common Han characters and CJK punctuation) wins;
    # Latin text misread as a CJK charset gives Hangul, rare and private-use characters.
    wide = [ch for ch in decoded[0] if ord(ch) >= 0x80]
    chinese = sum(1 for ch in wide if _CHINESE_CHARS.match(ch))
    return decoded if wide and chinese >= 0.9 * len(wide) else None


# Without a language, prefer any charset this pipeline's languages use: on short
# texts charset_normalizer ranks e.g. Korean cp949 above gb18030.
_ANY_LANG_CHARSETS = frozenset(c for charsets in _LANG_CHARSETS.values() for c in charsets)


def _lang_key(lang: str | None) -> str:
    lang = (lang or "").lower().replace("_", "-")
    if lang.startswith(("zh-tw", "zh-hk", "zh-mo", "zh-hant")):
        return "zt"
    return lang.split("-")[0]


def _detect(data: bytes, lang: str | None) -> tuple[str, str] | None:
    results = charset_normalizer.from_bytes(data)
    candidates = [codec_name(r.encoding) for r in results]
    plausible = _LANG_CHARSETS.get(_lang_key(lang)) or _ANY_LANG_CHARSETS
    # Candidates come best first. A single-byte one (cp1250, mac_iceland...) means
    # "Latin text" to us: read it as windows-1252, which is what German and
    # English pages use, unless the language rules single-byte charsets out (zh).
    western = [c for c in ("cp1252", "iso8859_15", "iso8859_1") if c in plausible]
    for codec in candidates:
        if codec is None:
            continue
        if codec in plausible and (decoded := _try(data, codec)):
            return decoded
        if _single_byte(codec):
            for latin in western:
                if decoded := _try(data, latin):
                    return decoded
    for codec in _LANG_CHARSETS.get(_lang_key(lang), ()):
        if decoded := _try(data, codec):
            return decoded
    best = results.best()
    return _try(data, codec_name(best.encoding) or best.encoding) if best else None


def decode_payload(payload, lang: str | None) -> tuple[str, str]:
    """:func:`decode_text` for a :class:`newsflow.fetch.Payload` (its header charset
    declared), logging the charset used and any declaration the bytes contradict."""
    text, charset = decode_text(payload.data, payload.charset, lang)
    declared = codec_name(payload.charset) or next(iter(declared_charsets(payload.data)), None)
    used = codec_name(charset)
    if declared and used != declared and used not in SUPERSETS.get(declared, ()):
        log.warning(
            "%s: declared charset %s does not fit the bytes; decoded as %s",
            payload.location,
            codecs.lookup(declared).name,
            charset,
        )
    else:
        log.debug("%s: decoded as %s", payload.location, charset)
    return text, charset
