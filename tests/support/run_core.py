"""A whole run through the Prefect-free run core (newsflow/run.py), stage by stage, as
flows/translate_news.py wires it -- in this process, with no Prefect API, no tasks and no
artifacts. Tests about what a run *does* (rows, files, the report, re-checks, sentence
counts) use this; tests about the flow's wiring (artifacts, states, retries, a failing
source not failing the run) run the flow itself (~1 s of Prefect per run plus a shared
temporary API, see tests/conftest.py).

What the flow adds and this does not: task retries, the lease keeper thread, the
``Failed`` state when every source failed, artifacts. The summary dict is the same one
the flow returns (``run.summary_of``).
"""

from __future__ import annotations

import itertools
from pathlib import Path

from newsflow import run
from newsflow.config import load_settings

_ids = itertools.count(1)


def run_core(cfg: Path, run_id: str | None = None, *, sources: list[str] | None = None,
             languages: list[str] | None = None, glossary: str | None = None, dry_run: bool = False,
             engine_for=None) -> dict:
    """One run of ``cfg``; returns the summary dict the flow would return."""
    settings = load_settings(cfg)
    run_id = run_id or f"core-{next(_ids)}"
    ctx = run.make_context(settings, run_id, languages=languages, glossary=glossary, dry_run=dry_run)
    selected = [settings.source(n) for n in sources] if sources else [s for s in settings.sources if s.enabled]
    started = run.now_iso()
    extra = {"engine_for": engine_for} if engine_for else {}
    with run.open_run_store(settings, dry_run) as store:
        if not dry_run:
            run.start(ctx, store)
        installed = run.installed_packages(settings)
        intakes, source_errors = [], []
        for source in selected:
            try:
                intakes.append(run.intake(ctx, source, store, installed))
            except Exception as exc:  # as the flow: a broken source never stops the others
                source_errors.append({"source": source.name, "error": str(exc) or type(exc).__name__})
        if dry_run:
            report = run.finish_dry(ctx, intakes, started_at=started, source_errors=source_errors,
                                    stage_seconds={})
            return run.summary_of(report, None)
        results = [run.process_chunk(ctx, paths, store, **extra)
                   for paths in run.chunks(intakes, ctx.chunk_articles)]
        report, path = run.finish(ctx, store, intakes, results, started_at=started,
                                  source_errors=source_errors, stage_seconds={})
    return run.summary_of(report, path)
