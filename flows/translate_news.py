"""The `translate-news` flow: wiring only. Each task does one thing so it can
retry on its own; all logic lives in `newsflow` and `translators`.

Work is batched into a few tasks per run (one per source to fetch and parse,
one per language to translate): Prefect costs ~7 ms per task and ~1 s per flow
run, so per-sentence or per-article tasks would eat the engine's speed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed
from prefect.tasks import exponential_backoff
from pydantic import BaseModel, Field

from newsflow import pipeline
from newsflow.article import Article, RawArticle
from newsflow.config import Settings, SourceConfig, load_settings
from newsflow.report import build_report, write_article_files, write_report
from newsflow.sources import Payload, load_source, parse_payloads
from newsflow.store import SqliteSentenceCache, Store, StoredArticle
from translators.engine import EngineOptions, get_engine
from translators.packages import list_installed, packages_dir


class RunParameters(BaseModel):
    """What a run does; shown as a validated form in the Prefect UI."""

    config_path: str = Field(default="config.yaml", description="Path of config.yaml on the worker")
    sources: list[str] | None = Field(default=None, description="Source names to run (default: all enabled)")
    languages: list[str] | None = Field(
        default=None, description="Languages to translate (default: config 'languages')"
    )
    glossary: str | None = Field(default=None, description="Glossary file (default: config 'glossary')")
    dry_run: bool = Field(default=False, description="Fetch, detect and plan, but store and write nothing")


@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_jitter_factor=0.5,
      cache_policy=NO_CACHE, task_run_name="fetch-{source.name}")
def fetch_source(source: SourceConfig, base_dir: Path) -> list[Payload]:
    return load_source(source, base_dir)


@task(cache_policy=NO_CACHE, task_run_name="parse-{source.name}")
def parse_source(source: SourceConfig, payloads: list[Payload]) -> list[RawArticle]:
    return parse_payloads(source, payloads)


@task(cache_policy=NO_CACHE)
def clean_and_detect(raws: list[RawArticle]) -> list[Article]:
    return pipeline.prepare_articles(raws)


@task(cache_policy=NO_CACHE)
def plan_work(articles: list[Article], store: Store, settings: Settings, languages: list[str]):
    installed = list_installed(packages_dir(settings.resolve(settings.models_dir) if settings.models_dir else None))
    stored = store.get_many(a.id for a in articles)
    return pipeline.plan_work(articles, stored, installed, languages), stored


@task(cache_policy=NO_CACHE)
def claim_work(store: Store, plan: pipeline.WorkPlan, run_id: str) -> tuple[pipeline.WorkPlan, list[str]]:
    """Take the planned articles no other live run is processing (atomic in the store)."""
    owned = store.claim(plan.article_ids(), run_id)
    return plan.only(owned), [i for i in plan.article_ids() if i not in owned]


@task(retries=1, cache_policy=NO_CACHE, task_run_name="translate-{route.key}")
def translate_language(route: pipeline.Route, articles: list[Article], options: EngineOptions,
                       store: Store | None) -> list[pipeline.Translated]:
    engine = get_engine(route.package, options)
    cache = SqliteSentenceCache(store) if store is not None else None
    return pipeline.translate_group(route, articles, engine, cache=cache)


@task(cache_policy=NO_CACHE)
def check_names(glossary, translated: list[pipeline.Translated], passthrough: list[Article],
                run_id: str) -> list[StoredArticle]:
    rows = []
    for t in translated:
        names = pipeline.apply_names(glossary, t.article.lang, t.article, t.title_en, t.paragraphs_en)
        rows.append(pipeline.translated_row(t, names, run_id))
    for art in passthrough:
        names = pipeline.apply_names(glossary, "en", art, art.title, art.paragraphs)
        rows.append(pipeline.passthrough_row(art, names, run_id))
    return rows


@task(cache_policy=NO_CACHE)
def store_results(store: Store, rows: list[StoredArticle], stored: dict[str, StoredArticle]) -> list[StoredArticle]:
    """Write only rows whose outcome changed; returns the rows written."""
    to_write = [pipeline.merge_for_write(r, stored.get(r.id)) for r in rows if pipeline.changed(r, stored.get(r.id))]
    store.upsert_many(to_write)
    return to_write


@task(retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def write_outputs(output_dir: Path, rows: list[StoredArticle]) -> int:
    return write_article_files(output_dir, rows)


def _selected_sources(settings: Settings, names: list[str] | None) -> list[SourceConfig]:
    if names:
        return [settings.source(n) for n in names]
    return [s for s in settings.sources if s.enabled]


@flow(name="translate-news", log_prints=True, retries=0)
def translate_news(params: RunParameters = RunParameters()):
    """Ingest the configured sources, translate German and Chinese news into
    English offline, check names against the glossary, store and report."""
    from flows.artifacts import publish
    from newsflow.names import load_glossary
    from prefect.runtime import flow_run

    logger = get_run_logger()
    started = datetime.now(UTC)
    run_id = str(flow_run.id or started.strftime("%Y%m%dT%H%M%SZ"))
    settings = load_settings(params.config_path)
    glossary_path = params.glossary or settings.glossary
    glossary = load_glossary(settings.resolve(glossary_path)) if glossary_path else None
    languages = params.languages or settings.languages
    options = EngineOptions.from_config(settings.translation)
    output_dir = settings.resolve(settings.output_dir)
    timings: dict[str, float] = {}

    def timed(stage: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0

    # Fetch all sources concurrently; a source that fails after its retries is
    # reported and the run goes on with the others.
    sources = _selected_sources(settings, params.sources)
    t0 = time.perf_counter()
    fetches = {s.name: (s, fetch_source.submit(s, settings.base_dir)) for s in sources}
    raws: list[RawArticle] = []
    source_errors: list[dict] = []
    for name, (source, future) in fetches.items():
        future.wait()
        if not future.state.is_completed():
            err = _error_text(future)
            logger.warning("source %s failed: %s", name, err)
            source_errors.append({"source": name, "error": err})
            continue
        try:
            raws.extend(parse_source(source, future.result()))
        except Exception as exc:  # a malformed source never stops the others
            logger.warning("source %s could not be parsed: %s", name, exc)
            source_errors.append({"source": name, "error": str(exc)})
    timings["fetch+parse"] = time.perf_counter() - t0

    articles = timed("clean+detect", clean_and_detect, raws)
    store = Store(settings.resolve(settings.database))
    if not params.dry_run:
        store.start_run(run_id)
    try:
        plan, stored = timed("plan", plan_work, articles, store, settings, languages)
        in_progress: list[str] = []
        if not params.dry_run:
            plan, in_progress = timed("claim", claim_work, store, plan, run_id)
            if in_progress:
                logger.info("%d articles are being processed by another run; left to it", len(in_progress))
        logger.info(
            "%d articles: %d unchanged, %d to translate, %d to pass through, %d pending, %d failed",
            len(articles), len(plan.unchanged), plan.to_translate, len(plan.passthrough),
            len(plan.pending), len(plan.failed),
        )
        translated: list[pipeline.Translated] = []
        rows: list[StoredArticle] = []
        for route, group in plan.translate.values():
            try:
                translated += timed(f"translate {route.key}", translate_language, route, group, options,
                                    None if params.dry_run or not settings.translation.sentence_cache else store)
            except Exception as exc:  # the model is broken: keep the articles, retry next run
                logger.error("translation %s failed: %s", route.key, exc)
                rows += [pipeline.base_row(a, "failed", run_id, f"translation failed: {exc}") for a in group]
        rows += timed("names", check_names, glossary, translated, plan.passthrough, run_id)
        rows += [pipeline.base_row(a, "pending", run_id, reason) for a, reason in plan.pending]
        rows += [pipeline.base_row(a, "failed", run_id, reason) for a, reason in plan.failed]
        written: list[StoredArticle] = []
        if not params.dry_run:
            written = timed("store", store_results, store, rows, stored)
            timed("outputs", write_outputs, output_dir, written)
        outcomes = rows + [stored[a.id] for a in plan.unchanged]
        report = build_report(run_id, started.isoformat(timespec="seconds"),
                              datetime.now(UTC).isoformat(timespec="seconds"), outcomes,
                              len(plan.unchanged), len(written), source_errors, timings,
                              warnings=_warnings(plan, in_progress))
        report_path = None if params.dry_run else write_report(output_dir, report)
        if not params.dry_run:
            store.finish_run(run_id, report.state, report.to_dict())
        publish(report, str(report_path.resolve()) if report_path else None)
    finally:
        if not params.dry_run:
            store.release(run_id)
        store.close()
    summary = report.to_dict()
    if report.state == "failed":
        return Failed(message=f"nothing could be processed: {len(source_errors)} sources failed", data=summary)
    problems = len(report.failed) + len(source_errors)
    return Completed(message=f"{report.articles_in} articles, {problems} failures", data=summary)


def _warnings(plan: pipeline.WorkPlan, in_progress: list[str]) -> list[str]:
    out = [f"{a.id} ({a.title!r}) appeared more than once in its source; the first copy was used"
           for a in plan.duplicates]
    if in_progress:
        out.append(f"{len(in_progress)} articles left to another run that is processing them")
    return out


def _error_text(future) -> str:
    try:
        future.result(raise_on_failure=True)
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return future.state.message or "failed"
