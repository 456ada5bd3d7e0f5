"""The `translate-news` flow: wiring only. Each task does one thing so it can
retry on its own; all logic lives in `newsflow` and `translators`.

Work is batched into a few tasks per run (one per source to fetch and parse,
one per language batch to translate): Prefect costs ~7 ms per task and ~1 s
per flow run, so per-sentence or per-article tasks would eat the engine's
speed. Tasks take settings (picklable) and open the store themselves, so the
same flow runs on threads or on Dask workers in other processes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from newsflow import pipeline
from newsflow.article import Article, RawArticle
from newsflow.config import Settings, SourceConfig, load_settings
from newsflow.errors import NewsflowError, TransientSourceError
from newsflow.report import build_report, missing_article_files, write_article_files, write_report
from newsflow.sources import Payload, load_source, parse_payloads
from newsflow.store import StoredArticle, open_store
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


# -- tasks ------------------------------------------------------------------


def only_transient(task, task_run, state) -> bool:
    """Retry a source only for failures that may pass (timeouts, 5xx, 429: a
    TransientSourceError); a missing file, a 404 or a broken feed fails at once."""
    try:
        state.result()
    except TransientSourceError:
        return True
    except BaseException:
        return False
    return False


@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_jitter_factor=0.5,
      retry_condition_fn=only_transient, cache_policy=NO_CACHE, task_run_name="fetch-{source.name}")
def fetch_source(source: SourceConfig, base_dir: Path) -> list[Payload]:
    return load_source(source, base_dir)


@task(cache_policy=NO_CACHE, task_run_name="parse-{source.name}")
def parse_source(source: SourceConfig, payloads: list[Payload]) -> list[RawArticle]:
    return parse_payloads(source, payloads)


@task(cache_policy=NO_CACHE)
def clean_articles(raws: list[RawArticle]) -> list[Article]:
    return pipeline.clean_articles(raws)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def load_state(settings: Settings, articles: list[Article]):
    """What the store holds for these articles, and the installed models."""
    models = packages_dir(settings.resolve(settings.models_dir) if settings.models_dir else None)
    with open_store(settings) as store:
        stored = store.get_many(a.id for a in articles)
    return stored, list_installed(models)


@task(cache_policy=NO_CACHE)
def detect_languages(articles: list[Article], stored, installed, languages: list[str]):
    return pipeline.detect_languages(articles, stored, installed, languages)


@task(cache_policy=NO_CACHE)
def plan_work(articles: list[Article], stored, installed, languages: list[str]):
    return pipeline.plan_work(articles, stored, installed, languages)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def claim_work(settings: Settings, plan: pipeline.WorkPlan, run_id: str):
    """Take the planned articles no other live run is processing (atomic in the store)."""
    with open_store(settings) as store:
        owned = store.claim(plan.article_ids(), run_id)
    return plan.only(owned), [i for i in plan.article_ids() if i not in owned]


@task(retries=1, cache_policy=NO_CACHE, task_run_name="translate-{route.key}-{batch}")
def translate_batch(settings: Settings, route: pipeline.Route, articles: list[Article], batch: int,
                    use_cache: bool) -> list[pipeline.Translated]:
    # The engine is loaded once per process (per Dask worker) and kept.
    engine = get_engine(route.package, EngineOptions.from_config(settings.translation))
    if not use_cache:
        return pipeline.translate_group(route, articles, engine)
    with open_store(settings) as store:
        return pipeline.translate_group(route, articles, engine, cache=store.sentence_cache())


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


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def store_results(settings: Settings, rows: list[StoredArticle],
                  stored: dict[str, StoredArticle]) -> list[StoredArticle]:
    """Write only rows whose outcome changed (one transaction); returns them."""
    to_write = [pipeline.merge_for_write(r, stored.get(r.id))
                for r in rows if pipeline.changed(r, stored.get(r.id))]
    with open_store(settings) as store:
        store.upsert_many(to_write)
    return to_write


@task(retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def write_outputs(output_dir: Path, rows: list[StoredArticle]) -> int:
    return write_article_files(output_dir, rows)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def record_run(settings: Settings, run_id: str, state: str | None = None, summary: dict | None = None,
               release: bool = False) -> None:
    with open_store(settings) as store:
        if release:
            store.release(run_id)
        if state is None:
            store.start_run(run_id)
        else:
            store.finish_run(run_id, state, summary or {})


# -- the flow ---------------------------------------------------------------


class _Stages:
    """Wall time per stage, for the report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, stage: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0


def _selected_sources(settings: Settings, names: list[str] | None) -> list[SourceConfig]:
    if names:
        return [settings.source(n) for n in names]
    return [s for s in settings.sources if s.enabled]


def _batches(articles: list[Article], count: int) -> list[list[Article]]:
    count = max(1, min(count, len(articles)))
    return [articles[i::count] for i in range(count)]


# The runner a deployment loaded from this entrypoint uses (prefect.yaml's process
# pool): config.yaml's default; Prefect's own pool is unbounded. `newsflow run` and
# `newsflow serve` replace it with the config's (flows/runners.py).
@flow(name="translate-news", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=4))
def translate_news(params: RunParameters = RunParameters()):  # noqa: B008 - the UI form's defaults
    """Ingest the configured sources, translate German and Chinese news into
    English offline, check names against the glossary, store and report."""
    from prefect.runtime import flow_run

    from flows.artifacts import publish
    from newsflow.names import load_glossary

    logger = get_run_logger()
    started = datetime.now(UTC)
    run_id = str(flow_run.id or started.strftime("%Y%m%dT%H%M%SZ"))
    settings = load_settings(params.config_path)
    glossary_path = params.glossary or settings.glossary
    glossary = load_glossary(settings.resolve(glossary_path)) if glossary_path else None
    write = not params.dry_run
    timed = _Stages()
    # Collections of articles go to tasks inside quote(): otherwise Prefect walks every
    # element of every parameter looking for futures (~0.7 s a run for 56 articles, measured
    # with bench/throughput.py). Tasks get the plain values; nothing here passes futures.

    # Fetch all sources concurrently; a source that still fails after its
    # retries is reported and the run goes on with the others.
    t0 = time.perf_counter()
    fetches = [(s, fetch_source.submit(s, settings.base_dir)) for s in _selected_sources(settings, params.sources)]
    raws: list[RawArticle] = []
    source_errors: list[dict] = []
    for source, future in fetches:
        future.wait()
        try:
            raws.extend(parse_source(source, quote(future.result())))
        except Exception as exc:  # a broken source never stops the others
            logger.warning("source %s failed: %s", source.name, exc)
            source_errors.append({"source": source.name, "error": str(exc) or type(exc).__name__})
    timed.seconds["fetch+parse"] = time.perf_counter() - t0

    languages = params.languages or settings.languages
    articles = timed("clean", clean_articles, quote(raws))
    report = None
    if write:
        record_run(settings, run_id)
    try:
        stored, installed = timed("plan", load_state, settings, quote(articles))
        articles = timed("detect", detect_languages, quote(articles), quote(stored), installed, languages)
        plan = timed("plan", plan_work, quote(articles), quote(stored), installed, languages)
        in_progress: list[str] = []
        if write:
            plan, in_progress = timed("claim", claim_work, settings, quote(plan), run_id)
        logger.info("%d articles: %d unchanged, %d to translate, %d to pass through, %d pending, %d failed, "
                    "%d left to another run", len(articles), len(plan.unchanged), plan.to_translate,
                    len(plan.passthrough), len(plan.pending), len(plan.failed), len(in_progress))

        rows: list[StoredArticle] = []
        translated: list[pipeline.Translated] = []
        use_cache = write and settings.translation.sentence_cache
        fan_out = settings.task_runner.n_workers if settings.task_runner.kind == "dask" else 1
        local = settings.task_runner.kind == "threads"  # a quote() reaches Dask workers as a tuple
        t0 = time.perf_counter()
        jobs = [(route, part, translate_batch.submit(settings, route, quote(part) if local else part, i, use_cache))
                for route, group in plan.translate.values()
                for i, part in enumerate(_batches(group, fan_out))]
        for route, part, future in jobs:
            try:
                translated += future.result()
            except Exception as exc:  # a broken model: keep the articles, retry next run
                logger.error("translation %s failed: %s", route.key, exc)
                rows += [pipeline.base_row(a, "failed", run_id, f"translation failed: {exc}") for a in part]
        timed.seconds["translate"] = time.perf_counter() - t0

        rows += timed("names", check_names, glossary, quote(translated), quote(plan.passthrough), run_id)
        rows += [pipeline.base_row(a, "pending", run_id, reason) for a, reason in plan.pending]
        rows += [pipeline.base_row(a, "failed", run_id, reason) for a, reason in plan.failed]
        written: list[StoredArticle] = []
        output_warnings: list[str] = []
        output_dir = settings.resolve(settings.output_dir)
        if write:
            written = timed("store", store_results, settings, quote(rows), quote(stored))
            # The store is the source of truth: files an earlier run could not write (killed,
            # read-only folder) are written now, and a folder that refuses them is reported
            # without failing the run (the next run writes them).
            done = {r.id for r in written} | set(in_progress)
            repair = missing_article_files(output_dir, [r for i, r in stored.items() if i not in done])
            try:
                timed("outputs", write_outputs, output_dir, quote(written + repair))
            except Exception as exc:
                logger.error("output files not written: %s", exc)
                output_warnings.append(f"output files not written: {exc} (the next run writes them)")
        report = build_report(run_id, started.isoformat(timespec="seconds"),
                              datetime.now(UTC).isoformat(timespec="seconds"),
                              rows + [stored[a.id] for a in plan.unchanged], len(plan.unchanged),
                              len(written), source_errors, timed.seconds,
                              _warnings(plan, in_progress) + output_warnings)
        report_path = None
        if write:
            try:
                report_path = write_report(output_dir, report)
            except NewsflowError as exc:
                logger.error("%s", exc)
                report.warnings.append(str(exc))
        publish(report, str(report_path.resolve()) if report_path else None)
    finally:
        if write:  # always give the claims back, even when the run crashed
            record_run(settings, run_id, report.state if report else "crashed",
                       quote(report.to_dict() if report else {}), release=True)

    summary = report.to_dict()
    if report.state == "failed":
        return Failed(message=f"nothing could be processed: {len(source_errors)} sources failed", data=summary)
    return Completed(message=f"{report.articles_in} articles, {len(report.failed)} failed, "
                             f"{len(source_errors)} sources failed", data=summary)


def _warnings(plan: pipeline.WorkPlan, in_progress: list[str]) -> list[str]:
    out = [f"{a.id} ({a.title!r}) appeared more than once in its source; the first copy was used"
           for a in plan.duplicates]
    if in_progress:
        out.append(f"{len(in_progress)} articles left to another run that is processing them")
    return out
