"""The `translate-news` flow: wiring only. The stages are plain functions in
:mod:`newsflow.run` (tested without Prefect); here they become tasks with retries,
artifacts and the run's state.

Tasks get a small context, source configs and spool paths, and return counts:
no parameter, result, state message or artifact grows with the backlog (articles
wait on disk in the run's spool between intake and their chunk). Chunks run one
after the other (each is committed before the next); with Dask, up to
``task_runner.n_workers`` at a time, each worker keeping its model loaded.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from newsflow import run
from newsflow.config import Settings, SourceConfig, load_settings
from newsflow.errors import TransientSourceError
from newsflow.report import RunReport
from newsflow.store import open_store
from newsflow.work import LeaseKeeper


class RunParameters(BaseModel):
    """What a run does; shown as a validated form in the Prefect UI."""

    config_path: str = Field(default="config.yaml", description="Path of config.yaml on the worker")
    sources: list[str] | None = Field(default=None, description="Source names to run (default: all enabled)")
    languages: list[str] | None = Field(
        default=None, description="Languages to translate (default: config 'languages')"
    )
    glossary: str | None = Field(default=None, description="Glossary file (default: config 'glossary')")
    dry_run: bool = Field(default=False, description="Fetch, detect and plan; load no model, store and write nothing")


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


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def start_run(ctx: run.RunContext) -> list[str]:
    with open_store(ctx.settings) as store:
        return run.start(ctx, store)


@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_jitter_factor=0.5,
      retry_condition_fn=only_transient, cache_policy=NO_CACHE, task_run_name="intake-{source.name}")
def intake_source(ctx: run.RunContext, source: SourceConfig) -> run.Intake:
    with run.open_run_store(ctx.settings, ctx.dry_run) as store:
        return run.intake(ctx, source, store, run.installed_packages(ctx.settings))


@task(cache_policy=NO_CACHE, task_run_name="chunk-{index}")
def process_chunk(ctx: run.RunContext, paths: list[str], index: int) -> run.ChunkResult:
    with open_store(ctx.settings) as store:
        return run.process_chunk(ctx, paths, store)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def finish_run(ctx: run.RunContext, intakes, results, started_at: str, source_errors: list[dict],
               stage_seconds: dict[str, float], warnings: list[str]) -> dict:
    with open_store(ctx.settings) as store:
        report, path = run.finish(ctx, store, intakes, results, started_at=started_at,
                                  source_errors=source_errors, stage_seconds=stage_seconds, warnings=warnings)
    return run.summary_of(report, path)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def abort_run(ctx: run.RunContext) -> None:
    with open_store(ctx.settings) as store:
        run.abort(ctx, store)


def _selected_sources(settings: Settings, names: list[str] | None) -> list[SourceConfig]:
    if names:
        return [settings.source(n) for n in names]
    return [s for s in settings.sources if s.enabled]


def _chunk_results(ctx: run.RunContext, work: list[list[str]], intakes, logger) -> list[run.ChunkResult]:
    """Chunks in order, ``window`` at a time (1 on threads: one chunk committed before the next).
    A chunk that raises is not retried (the next run does its articles) and fails the run."""
    cfg = ctx.settings.task_runner
    window = cfg.n_workers if cfg.kind == "dask" else 1
    results, pending = [], []
    for index, paths in enumerate(work, 1):
        pending.append((index, process_chunk.submit(ctx, paths, index)))
        while len(pending) >= window or (index == len(work) and pending):
            i, future = pending.pop(0)
            try:
                res = future.result()
            except Exception as exc:  # its articles stay as they were; the next run does them
                logger.error("chunk %d/%d failed: %s", i, len(work), exc)
                results.append(run.failed_chunk(i, len(work), work[i - 1], intakes, exc))
                continue
            results.append(res)
            logger.info("chunk %d/%d done: %d articles, %d written, %d sentences translated, %d from cache",
                        i, len(work), res.articles, res.written, res.translated_sentences, res.cached_sentences)
    return results


# The runner a deployment loaded from this entrypoint uses (prefect.yaml's process
# pool): config.yaml's default; Prefect's own pool is unbounded. `newsflow run` and
# `newsflow serve` replace it with the config's (flows/runners.py).
@flow(name="translate-news", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=4))
def translate_news(params: RunParameters = RunParameters()):  # noqa: B008 - the UI form's defaults
    """Ingest the configured sources, translate German and Chinese news into
    English offline, check names against the glossary, store and report."""
    from prefect.runtime import flow_run

    from flows.artifacts import publish

    logger = get_run_logger()
    started = datetime.now(UTC)
    run_id = str(flow_run.id or started.strftime("%Y%m%dT%H%M%SZ"))
    settings = load_settings(params.config_path)
    ctx = run.make_context(settings, run_id, languages=params.languages, glossary=params.glossary,
                           dry_run=params.dry_run)
    seconds: dict[str, float] = {}
    warnings: list[str] = []
    summary = None
    if not ctx.dry_run:
        crashed = start_run(ctx)
        if crashed:
            warnings.append(f"{len(crashed)} earlier runs had died while running; marked crashed")
    try:
        keeper = nullcontext() if ctx.dry_run else LeaseKeeper(lambda: open_store(settings), run_id,
                                                               settings.run.lease_seconds)
        with keeper:
            t0 = datetime.now(UTC)
            futures = [(s, intake_source.submit(ctx, s)) for s in _selected_sources(settings, params.sources)]
            intakes, source_errors = [], []
            for source, future in futures:
                try:
                    intakes.append(future.result())
                except Exception as exc:  # a broken source never stops the others
                    logger.warning("source %s failed: %s", source.name, exc)
                    source_errors.append({"source": source.name, "error": str(exc) or type(exc).__name__})
            seconds["intake"] = (datetime.now(UTC) - t0).total_seconds()
            if ctx.dry_run:
                report = run.finish_dry(ctx, intakes, started_at=started.isoformat(timespec="seconds"),
                                        source_errors=source_errors, stage_seconds=seconds)
                summary = run.summary_of(report, None)
            else:
                work = run.chunks(intakes, ctx.chunk_articles)
                logger.info("%d articles: %d unchanged, %d to process in %d chunks",
                            sum(i.articles for i in intakes),
                            sum(n for i in intakes for by in i.unchanged.values() for n in by.values()),
                            sum(n for i in intakes for _, n in i.files), len(work))
                results = _chunk_results(ctx, work, intakes, logger)
                summary = finish_run(ctx, quote(intakes), quote(results), started.isoformat(timespec="seconds"),
                                     source_errors, seconds, warnings)
        publish(RunReport.from_dict(summary), summary.get("report_path"),
                base_url=settings.web.base_url)
    finally:
        if summary is None and not ctx.dry_run:  # crashed: the row says so, the claims go back
            abort_run(ctx)

    report = RunReport.from_dict(summary)
    if report.failure:
        return Failed(message=report.failure, data=summary)
    return Completed(message=f"{report.articles_in} articles, {report.by_status.get('failed', 0)} failed, "
                             f"{len(report.source_errors)} sources failed", data=summary)

