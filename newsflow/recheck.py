"""Glossary edits reach stored articles: re-check names on the stored model output.

Every translated or passed-through row records ``glossary_digest``, the sha256 of the
glossary file it was checked against (:func:`glossary_digest`). When the glossary
changes, :func:`recheck_stored` re-runs the names check (:func:`newsflow.pipeline.apply_names`)
on each affected row's stored ``raw_translation`` (the model's output before any name
fix), so no model is loaded and nothing is re-translated, and stores the new English
(``title_en``, ``translation``), ``name_findings``, ``name_candidates`` and digest.

Decisions:
* the digest is of the file's bytes: any edit (even a comment) re-checks, which costs
  only the names check (milliseconds per article), never a translation;
* rows stored before digests existed (``glossary_digest`` None) are re-checked once;
* with no glossary configured (``glossary`` None, ``digest`` None) rows checked against
  one are re-checked to "no names checked", as a fresh run would store them;
* a row without ``raw_translation`` (cannot happen for rows this version writes) is left
  as it is: there is nothing to re-check it from;
* ``skip_ids``: the articles this run has just processed (they carry the new digest).

Pure: no Prefect, no model. The run core writes each batch's files as it comes and
counts the rows in the report (``rechecked``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from newsflow.article import Article
from newsflow.pipeline import apply_names
from newsflow.store import StoredArticle

RECHECKED_STATUSES = ("translated", "passed-through")
NAMES_ERROR_PREFIX = "names not checked:"
_WRITE_CHUNK = 500


def glossary_digest(path: Path | str) -> str:
    """sha256 (hex) of the glossary file's content."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def iter_rechecked(store, glossary, digest: str | None, *, skip_ids: Iterable[str] = (),
                   batch: int | None = None) -> Iterator[list[StoredArticle]]:
    """Re-check names on every stored translated / passed-through article whose
    ``glossary_digest`` is not ``digest``; write the updated rows to ``store`` and yield
    them, ``batch`` rows at a time, once written. A caller that lets each batch go (the
    run core writes its files, keeps ids and titles) holds at most ``batch`` rows however
    large the store: a glossary edit re-checks every stored article."""
    batch = batch or _WRITE_CHUNK
    skip = set(skip_ids)
    pending: list[StoredArticle] = []
    for status in RECHECKED_STATUSES:
        for row in store.iter_articles(status=status):
            if row.id in skip or row.glossary_digest == digest:
                continue
            if recheck_row(row, glossary, digest):
                pending.append(row)
            if len(pending) >= batch:
                store.upsert_many(pending)
                yield pending
                pending = []
    if pending:
        store.upsert_many(pending)
        yield pending


def recheck_stored(store, glossary, digest: str | None, *,
                   skip_ids: Iterable[str] = ()) -> list[StoredArticle]:
    """:func:`iter_rechecked`, all re-checked rows in one list (for small stores and tests)."""
    return [row for rows in iter_rechecked(store, glossary, digest, skip_ids=skip_ids) for row in rows]


def recheck_row(row: StoredArticle, glossary, digest: str | None) -> bool:
    """Re-check one row in place from its stored text; False when it has no stored
    model output to re-check."""
    source = row.original_text.split("\n\n") if row.original_text else []
    if row.status == "passed-through":  # English as written: the "raw output" is the source
        title_raw, paragraphs_raw = row.title or "", source
    elif row.raw_translation is None:
        return False
    else:  # translated_row stores title + paragraphs joined by blank lines
        title_raw, *paragraphs_raw = row.raw_translation.split("\n\n")
    lang = "en" if row.status == "passed-through" else (row.lang or "und")
    article = Article(id=row.id, source=row.source, title=row.title or "", paragraphs=source,
                      lang=lang)
    names = apply_names(glossary, lang, article, title_raw, paragraphs_raw)
    row.title_en = names.title
    row.translation = "\n\n".join(names.paragraphs)
    row.name_findings = names.findings
    row.name_candidates = names.candidates
    row.glossary_digest = digest
    row.reason = _with_names_error(row.reason, names.error)
    return True


def _with_names_error(reason: str | None, error: str | None) -> str | None:
    """``reason`` with its "names not checked" part replaced by ``error`` (or dropped)."""
    parts = [p for p in (reason or "").split("; ") if p and not p.startswith(NAMES_ERROR_PREFIX)]
    if error:
        parts.append(error)
    return "; ".join(parts) or None
