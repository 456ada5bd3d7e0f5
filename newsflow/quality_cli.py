"""`newsflow quality check --jsonl FILE` (mounted by the main CLI as `quality`) and the body of
`newsflow review`.

``quality check`` reads ``{"id", "lang", "source", "translation"}`` lines (lang de, zh or zt)
through the shared reader (:mod:`newsflow.jsonl`: the whole input is validated first, a bad
line is ``error: FILE:LINE: ...`` and exit 2 with nothing written) and writes
``{"id", "flags": [{"kind", "detail"}], "needs_review": <bool>}`` per line, in order.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

quality_app = typer.Typer(help="Check translations for output a reader should not rely on.",
                          no_args_is_help=True)


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


@quality_app.callback()
def _quality() -> None:
    """Check translations for output a reader should not rely on."""


@quality_app.command("check")
def quality_check(
    jsonl: Annotated[Path, typer.Option("--jsonl", help='File of {"id", "lang", "source", "translation"} '
                                        'lines, lang de, zh or zt ("-" for stdin).')],
) -> None:
    """Flag each pair: writes {"id", "flags": [{"kind", "detail"}], "needs_review"} lines, in order.

    The checks are heuristics (README "Quality flags"); the model score check needs the
    pipeline, so low-confidence never appears here."""
    from newsflow.jsonl import read_jsonl
    from newsflow.quality import check_pair, needs_review

    records = read_jsonl(jsonl, required=("id", "lang", "source", "translation"),
                         strings=("lang", "source", "translation"),
                         choices={"lang": ("de", "zh", "zt")})
    for rec in records:
        flags = check_pair(rec["source"], rec["translation"], rec["lang"])
        _emit({"id": rec["id"], "flags": flags, "needs_review": needs_review(flags)})


def print_review(settings, *, as_json: bool, limit: int, offset: int) -> None:
    """`newsflow review`: the store's review queue (needs_review articles, newest first)."""
    from rich.console import Console

    from newsflow.store import open_store

    store = open_store(settings)
    try:
        rows = store.review_queue(limit=limit, offset=offset)
    finally:
        store.close()
    out = Console(soft_wrap=True)
    for row in rows:
        flags = list(row.quality_flags or [])
        if as_json:
            _emit({"id": row.id, "title": row.title, "title_en": row.title_en, "lang": row.lang,
                   "source": row.source, "url": row.url, "published": row.published,
                   "kinds": sorted({f["kind"] for f in flags}), "quality_flags": flags})
            continue
        kinds = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in
                          sorted(Counter(f["kind"] for f in flags).items()))
        out.print(f"{row.id}  [{kinds or 'flagged'}]  {row.title_en or row.title}",
                  highlight=False, markup=False)
    if not rows and not as_json:
        out.print("no articles need review")
