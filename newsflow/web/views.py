"""What the reader's pages show, computed from stored rows (pure: no FastAPI, no SQL).

An article page pairs ``[title, *paragraphs]`` of the original with the same parts of the
English (the pipeline translates title and paragraphs one to one and keeps the breaks).
Each part is split into sentences with the segmenter the translator uses
(:func:`translators.segment.split_sentences`), so a quality flag
``{"paragraph": p, "sentence": s}`` marks sentence ``s`` of part ``p``: in the original
always, in the English when it splits into as many sentences (the engine translates
sentence by sentence and joins them with a space); otherwise the whole English part is
marked and the flag is listed with its reason. ``sentence == -1`` marks the whole part.

Names fixed by the names check are found by diffing the model's raw output
(``raw_translation``) against the corrected English word by word: every replaced span is
marked "the model wrote X" in place, and the findings with status ``wrong`` are listed as
"X -> Y". Findings with status ``missing`` are listed as names the English lacks.

Everything here stays plain text; the templates escape it (autoescape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from translators.segment import split_sentences

_TOKENS = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
SAFE_SCHEMES = ("http://", "https://")


@dataclass
class Sentence:
    segments: list[tuple[str, str | None]]  # (text, "model wrote ..." when the span was fixed)
    flags: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.segments)


@dataclass
class Part:
    index: int  # 0 = title, i = paragraph i
    original: list[Sentence]
    english: list[Sentence] | None  # None: no English (pending, failed)
    lang: str
    part_flags: list[dict] = field(default_factory=list)  # sentence -1, or not placeable
    english_unaligned: bool = False  # English split differently: the part is marked as a whole

    @property
    def label(self) -> str:
        return "Title" if self.index == 0 else f"¶ {self.index}"

    @property
    def flagged(self) -> bool:
        return bool(self.part_flags) or any(s.flags for s in self.original)


# Fields of StoredArticle that newer stores add (CONTRACT.md): read with a default, so the
# reader also shows rows of a store package that does not have them yet.
OPTIONAL_FIELDS = {"author": None, "fetched_from": None, "fetch_note": None, "story_id": None,
                   "needs_review": False, "quality_flags": [], "source_updated": None}


class RowView:
    """A stored row for the templates: its fields, plus the optional ones with defaults."""

    def __init__(self, row):
        self._row = row

    def __getattr__(self, name):
        if name in OPTIONAL_FIELDS:
            return getattr(self._row, name, OPTIONAL_FIELDS[name])
        return getattr(self._row, name)


def safe_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL (a feed may carry ``javascript:``), else None."""
    if url and url.strip().lower().startswith(SAFE_SCHEMES):
        return url.strip()
    return None


def _sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text`` (split_sentences returns stripped slices)."""
    spans, pos = [], 0
    for sentence in split_sentences(text, lang):
        start = text.find(sentence, pos)
        if start < 0:  # cannot happen (slices of the input); keep the rest as one sentence
            return [*spans, (pos, len(text))] if text[pos:].strip() else spans
        spans.append((start, start + len(sentence)))
        pos = start + len(sentence)
    return spans


def fix_spans(raw: str, fixed: str) -> list[tuple[int, int, str]]:
    """Spans of ``fixed`` that differ from ``raw``, each with the text ``raw`` had there."""
    if raw == fixed:
        return []
    a, b = _TOKENS.findall(raw), _TOKENS.findall(fixed)
    offsets = [0]
    for tok in b:
        offsets.append(offsets[-1] + len(tok))
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "insert") and "".join(b[j1:j2]).strip():
            start, end = offsets[j1], offsets[j2]
            while start < end and fixed[start].isspace():
                start += 1
            while end > start and fixed[end - 1].isspace():
                end -= 1
            was = "".join(a[i1:i2]).strip()
            if out and not fixed[out[-1][1]:start].strip():  # "Sergei Lavrov": one span
                prev = out.pop()
                gap = fixed[prev[1]:start]
                start, was = prev[0], f"{prev[2]}{gap}{was}".strip()
            out.append((start, end, was))
    return out


def _segments(text: str, start: int, end: int, spans: list[tuple[int, int, str]]):
    segs: list[tuple[str, str | None]] = []
    pos = start
    for s, e, was in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > pos:
            segs.append((text[pos:s], None))
        segs.append((text[s:e], f"the model wrote: {was}" if was else "added by the names check"))
        pos = e
    if pos < end:
        segs.append((text[pos:end], None))
    return segs


def sentences(text: str, lang: str, spans=()) -> list[Sentence]:
    found = _sentence_spans(text, lang)
    return [Sentence(_segments(text, s, e, list(spans))) for s, e in found]


def _split_parts(first: str, body: str | None) -> list[str]:
    return [first or "", *((body or "").split("\n\n") if body else [])]


def article_parts(row) -> list[Part]:
    """The article as aligned parts (title, paragraphs) with names and flags placed."""
    original = _split_parts(row.title, row.original_text)
    english = (_split_parts(row.title_en or "", row.translation)
               if row.translation is not None or row.title_en else None)
    raw = None
    if english is not None and row.raw_translation is not None:
        raw = row.raw_translation.split("\n\n")
        if len(raw) == len(english) - 1:  # passed-through rows keep the body only
            raw = [row.title, *raw]
        if len(raw) != len(english):
            raw = None
    langs = list(getattr(row, "paragraph_langs", None) or [])
    flags = [f for f in (getattr(row, "quality_flags", None) or []) if isinstance(f, dict)]
    parts = []
    for i in range(max(len(original), len(english or []))):
        lang = (langs[i - 1] if 0 < i <= len(langs) else row.lang) or row.lang or "en"
        orig = sentences(original[i] if i < len(original) else "", lang)
        en = None
        if english is not None:
            text = english[i] if i < len(english) else ""
            spans = fix_spans(raw[i], text) if raw is not None else []
            en = sentences(text, "en", spans)
        parts.append(Part(i, orig, en, lang))
    for flag in flags:
        _place(parts, flag)
    return parts


def _place(parts: list[Part], flag: dict) -> None:
    try:
        p, s = int(flag.get("paragraph", -1)), int(flag.get("sentence", -1))
    except (TypeError, ValueError):
        p, s = -1, -1
    if not 0 <= p < len(parts):
        p, s = 0, -1  # an article-level flag: shown with the title
    part = parts[p]
    if s < 0 or s >= len(part.original):
        part.part_flags.append(flag)
        return
    part.original[s].flags.append(flag)
    if part.english is not None:
        if len(part.english) == len(part.original):
            part.english[s].flags.append(flag)
        else:
            part.english_unaligned = True


def names(row) -> dict:
    """{"fixed": [{entity, found, expected}], "missing": [...], "ok": [...]} from name_findings."""
    out: dict[str, list] = {"fixed": [], "missing": [], "ok": []}
    for f in row.name_findings or []:
        status = f.get("status")
        entry = {"entity": f.get("entity", ""), "found": list(f.get("found") or []),
                 "expected": f.get("expected", "")}
        key = {"wrong": "fixed", "missing": "missing", "ok": "ok"}.get(status)
        if key:
            out[key].append(entry)
    return out


def flag_list(parts: list[Part]) -> list[dict]:
    """The quality flags in reading order, one entry per flagged sentence (or part):
    ``{"where", "anchor", "flags": [{"kind", "detail"}, ...]}``."""
    out = []
    for part in parts:
        groups = [(-1, part.part_flags)] if part.part_flags else []
        groups += [(i, s.flags) for i, s in enumerate(part.original) if s.flags]
        for i, flags in groups:
            where = part.label + (f", sentence {i + 1}" if i >= 0 else "")
            out.append({"where": where, "anchor": f"p{part.index}",
                        "flags": [{"kind": f.get("kind", ""), "detail": f.get("detail", "")}
                                  for f in flags]})
    return out


_MATCH = re.compile(r"\[([^\[\]]+)\]")


def snippet_segments(snippet: str | None) -> list[tuple[str, bool]]:
    """A search snippet as (text, is_match) pieces: newsflow.search puts the match in
    ``[...]``; the template marks those pieces (and escapes all of them)."""
    out, pos = [], 0
    for m in _MATCH.finditer(snippet or ""):
        if m.start() > pos:
            out.append((snippet[pos : m.start()], False))
        out.append((m.group(1), True))
        pos = m.end()
    if pos < len(snippet or ""):
        out.append((snippet[pos:], False))
    return out


def article_api(row) -> dict:
    """The article as JSON: the per-article file's fields (report.article_json) plus the
    reader's (review state, flags, story, fetch details)."""
    from newsflow.report import article_json

    data = article_json(row)
    for key, attr in (("needs_review", "needs_review"), ("quality_flags", "quality_flags"),
                      ("story", "story_id"), ("fetched_from", "fetched_from"),
                      ("fetch_note", "fetch_note"), ("author", "author")):
        if key not in data and hasattr(row, attr):
            data[key] = getattr(row, attr)
    return data


def review_item(row) -> dict:
    flags = getattr(row, "quality_flags", None) or []
    return {"id": row.id, "title": row.title, "title_en": row.title_en, "lang": row.lang,
            "source": row.source, "url": row.url, "published": row.published,
            "status": row.status, "story": getattr(row, "story_id", None),
            "kinds": sorted({f.get("kind", "") for f in flags if isinstance(f, dict)}),
            "quality_flags": flags}
