"""A run's stages as plain functions over streams of work (no Prefect here).

``flows/translate_news.py`` wires these into tasks; tests call them directly.

1. :func:`start` -- runs left ``running`` by a dead process become ``crashed``
   (``store.mark_crashed_runs``), this run's row is written, its spool folder made.
2. :func:`intake` (per source) -- the source is read as a stream (:func:`read_source`),
   cleaned, and compared with a light store query (:func:`light_states`: id, content
   hash, status, language, model version; never the stored text): articles already done
   are only counted. The rest is detected and planned, then spooled to disk in files of
   ``run.chunk_articles`` articles. A dry run spools nothing: it counts (:class:`DryPlan`).
3. :func:`chunks` -- the spool files grouped into chunks of at most ``chunk_articles``.
4. :func:`process_chunk` (per chunk, one after the other) -- claim, read the rows
   *after* claiming, plan, translate (ONE engine call per language in the chunk), names,
   hooks (stories), store, files, a ledger line per outcome. Everything of a chunk is
   committed (rows, sentence cache, files) before the next starts: a killed run keeps
   every finished chunk and the next run redoes at most the one in flight.
5. :func:`finish` -- files an earlier run did not write, the glossary re-check, the
   report (built from the ledger, never from all rows at once), the run row; claims
   released and spool removed (:func:`abort` does the last two when a run crashes).

Memory depends on ``chunk_articles``, not on the backlog: the flow holds counts and
spool paths only, and a chunk's articles and results leave memory once stored.

Never lose a translation: when a chunk's model cannot be loaded or the engine fails,
an article that already had a translation keeps its English, status and files; the
failure goes to ``retranslate_error`` / ``retranslate_failed_at`` and the report
("re-translation failed, previous kept"). The next run tries again (the plan still
sees the new model version or text). An article never translated is ``failed``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from newsflow import fetch, pipeline
from newsflow.article import RawArticle
from newsflow.config import Settings, SourceConfig
from newsflow.report import (
    ReportBuilder,
    RunReport,
    article_path,
    outcome_entry,
    write_article_files,
    write_report,
)
from newsflow.store import StoredArticle, open_store
from newsflow.work import (
    CountingCache,
    DryPlan,
    SpoolWriter,
    Timer,
    light_states,
    load_spool,
    read_source,
    remove_stale_spools,
)

log = logging.getLogger("newsflow.run")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunContext:
    """What every stage of one run needs; small and picklable (it goes to Dask workers)."""

    settings: Settings
    run_id: str
    languages: tuple[str, ...]
    glossary_path: str | None
    glossary_digest: str | None
    dry_run: bool
    spool: str

    @property
    def chunk_articles(self) -> int:
        return self.settings.run.chunk_articles

    @property
    def output_dir(self) -> Path:
        return self.settings.resolve(self.settings.output_dir)


def open_run_store(settings: Settings, dry_run: bool):
    """The run's store; a dry run on a database that does not exist yet opens none (it
    creates nothing), so its intake sees every article as new."""
    if dry_run and not settings.database_url and not settings.resolve(settings.database).exists():
        return nullcontext(None)
    return open_store(settings)


def make_context(settings: Settings, run_id: str, *, languages: list[str] | None = None,
                 glossary: str | None = None, dry_run: bool = False) -> RunContext:
    fetch.begin_run()  # robots.txt is read again, once per host, in every run (sources helper)
    gpath = glossary or settings.glossary
    resolved = str(settings.resolve(gpath)) if gpath else None
    root = settings.resolve(settings.run.spool_dir) if settings.run.spool_dir else (
        settings.resolve(settings.database).parent / "spool")
    return RunContext(settings, run_id, tuple(languages or settings.languages), resolved,
                      glossary_digest(resolved) if resolved else None, dry_run,
                      str(root / run_id.replace(":", "-").replace("/", "-")))


def glossary_digest(path: str) -> str:
    """sha256 of the glossary file's content (what each stored article was checked against)."""
    from newsflow.recheck import glossary_digest as digest

    return digest(path)


def installed_packages(settings: Settings):
    from translators.packages import list_installed, packages_dir

    return list_installed(packages_dir(settings.resolve(settings.models_dir) if settings.models_dir else None))


# -- start --------------------------------------------------------------------------------


def start(ctx: RunContext, store) -> list[str]:
    """Mark dead runs crashed, record this run, make the spool. Returns the crashed runs."""
    crashed = list(store.mark_crashed_runs())
    store.start_run(ctx.run_id, ctx.settings.run.lease_seconds)
    spool = Path(ctx.spool)
    remove_stale_spools(spool.parent)
    spool.mkdir(parents=True, exist_ok=True)
    (spool / "owner").write_text(f"{socket.gethostname()} {os.getpid()}\n", encoding="utf-8")
    return crashed


# -- intake -------------------------------------------------------------------------------


DUPLICATES_KEPT = 20


@dataclass
class Intake:
    """One source's intake: counts and spool file paths (never articles)."""

    source: str
    articles: int = 0
    unchanged: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[tuple[str, int]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    duplicate_count: int = 0
    repair: str | None = None  # spool file listing unchanged ids whose files are missing
    repair_count: int = 0
    plan: DryPlan | None = None


def intake(ctx: RunContext, source: SourceConfig, store, installed) -> Intake:
    """Read, clean, skip what is done, detect and plan one source (see the module doc)."""
    result = Intake(source.name, plan=DryPlan() if ctx.dry_run else None)
    writer = None if ctx.dry_run else SpoolWriter(Path(ctx.spool), source.name, ctx.chunk_articles)
    seen: set[str] = set()
    batch: list[RawArticle] = []
    try:
        # a dry run keeps no feed validators: the real run after it must not get a 304
        for raw in read_source(source, ctx.settings.base_dir, store, save_state=not ctx.dry_run):
            if raw.id in seen:  # e.g. a feed that repeats a guid: one article, reported
                result.duplicate_count += 1
                if len(result.duplicates) < DUPLICATES_KEPT:
                    result.duplicates.append((raw.id, raw.title or ""))
                continue
            seen.add(raw.id)
            batch.append(raw)
            if len(batch) >= ctx.chunk_articles:
                _intake_batch(ctx, batch, store, installed, result, writer)
                batch = []
        if batch:
            _intake_batch(ctx, batch, store, installed, result, writer)
        if writer is not None:
            writer.flush()
            result.files = writer.files
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    return result


def _intake_batch(ctx, raws, store, installed, result: Intake, writer: SpoolWriter | None) -> None:
    articles = pipeline.clean_articles(raws)
    states = light_states(store, [a.id for a in articles])
    articles = pipeline.detect_languages(articles, states, installed, list(ctx.languages))
    plan = pipeline.plan_work(articles, states, installed, list(ctx.languages))
    result.articles += len(articles)
    for art in plan.unchanged:
        prev = states[art.id]
        by = result.unchanged.setdefault(prev.lang, {})
        by[prev.status] = by.get(prev.status, 0) + 1
        if not ctx.dry_run and not _files_present(ctx.output_dir, art.id):
            result.repair = result.repair or str(Path(ctx.spool) / f"repair-{result.source}.txt")
            with open(result.repair, "a", encoding="utf-8") as fh:
                fh.write(art.id + "\n")
            result.repair_count += 1
    if writer is not None:
        done = {a.id for a in plan.unchanged}
        for art in articles:
            if art.id not in done:
                writer.add(art)
        return
    dry = result.plan
    for key, (_route, group) in plan.translate.items():
        for art in group:
            dry.add(art.lang, f"translate ({key})", art, count_sentences=True)
    for art in plan.passthrough:
        dry.add(art.lang, "pass through", art)
    for art, reason in plan.pending:
        dry.add(art.lang, "pending", art)
        dry.pending_reasons[reason] += 1
    for art, reason in plan.failed:
        dry.add(art.lang, "failed", art)
        dry.failed_reasons[reason] += 1
    for art in plan.unchanged:
        dry.add(states[art.id].lang, "unchanged", art)


def _files_present(output_dir: Path, article_id: str) -> bool:
    return (article_path(output_dir, article_id, ".json").is_file()
            and article_path(output_dir, article_id, ".md").is_file())


def chunks(intakes: Iterable[Intake], size: int) -> list[list[str]]:
    """Spool files grouped into chunks of at most ``size`` articles (a source's last,
    partial file shares a chunk with other sources' partial files)."""
    out: list[list[str]] = []
    partial: list[str] = []
    partial_n = 0
    for it in intakes:
        for path, n in it.files:
            if n >= size:
                out.append([path])
                continue
            if partial_n + n > size:
                out.append(partial)
                partial, partial_n = [], 0
            partial.append(path)
            partial_n += n
    if partial:
        out.append(partial)
    return out


# -- a chunk ------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    """What a chunk did, in counts (the outcomes are in its ledger file)."""

    articles: int = 0
    written: int = 0
    unchanged: dict[str, dict[str, int]] = field(default_factory=dict)  # finished by another run meanwhile
    in_progress: int = 0  # claimed by another live run
    translated_sentences: int = 0
    cached_sentences: int = 0
    redecoded_sentences: int = 0  # decoded a second time (quality: wider beam, repetition penalties)
    nbest_picks: int = 0  # sentences whose names came from a lower hypothesis of the beam
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ledger: str | None = None
    error: dict | None = None  # the chunk raised: see :func:`failed_chunk`


def failed_chunk(index: int, total: int, paths: list[str], intakes: Iterable[Intake],
                 exc: BaseException) -> ChunkResult:
    """The result of chunk ``index`` (1-based, of ``total``) that raised: no counts, the
    error with how many articles it held (from the intakes' spool listing, so an unreadable
    spool file is still counted). Its claims go back when the run finishes."""
    sizes = {path: n for it in intakes for path, n in it.files}
    reason = " ".join((f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__).split())
    return ChunkResult(error={"chunk": index, "of": total, "articles": sum(sizes.get(p, 0) for p in paths),
                              "error": reason})


def _engine_for(settings: Settings, route: pipeline.Route):
    from translators.engine import EngineOptions, get_engine

    return get_engine(route.package, EngineOptions.from_config(settings.translation, settings.quality))


def _load_glossary(path: str | None):
    if not path:
        return None
    from newsflow.names import load_glossary

    return load_glossary(path)


def process_chunk(ctx: RunContext, paths: list[str], store, engine_for=_engine_for) -> ChunkResult:
    """Claim, plan (from rows read after claiming), translate, check names, run the hooks,
    store, write files and the ledger for one chunk; then delete its spool files."""
    res = ChunkResult()
    timed = Timer(res.stage_seconds)
    settings = ctx.settings
    with timed("claim"):
        articles = load_spool(paths)
        res.articles = len(articles)
        store.renew(ctx.run_id, settings.run.lease_seconds)
        owned = store.claim([a.id for a in articles], ctx.run_id, lease_seconds=settings.run.lease_seconds)
        mine = [a for a in articles if a.id in owned]
        res.in_progress = len(articles) - len(mine)
        del articles
        stored = store.get_many([a.id for a in mine])  # read after claiming: what others finished counts
        installed = installed_packages(settings)
        plan = pipeline.plan_work(mine, stored, installed, list(ctx.languages))
    for art in plan.unchanged:
        by = res.unchanged.setdefault(stored[art.id].lang, {})
        by[stored[art.id].status] = by.get(stored[art.id].status, 0) + 1
    glossary = _load_glossary(ctx.glossary_path)
    cache = CountingCache(store.sentence_cache() if settings.translation.sentence_cache else None)
    rows: list[StoredArticle] = []
    kept: list[StoredArticle] = []  # failed re-translations: the previous row, error noted
    translated: list[pipeline.Translated] = []
    with timed("translate"):
        for key, (route, group) in plan.translate.items():
            try:
                translated += pipeline.translate_group(route, group, engine_for(settings, route), cache=cache,
                                                       glossary=glossary, quality=settings.quality)
            except Exception as exc:  # a broken model or engine: keep what was there, retry next run
                reason = " ".join(f"{type(exc).__name__}: {exc}".split())
                log.error("translation %s failed: %s", key, reason)
                res.warnings.append(f"translation {key} failed: {reason}")
                for art in group:
                    prev = stored.get(art.id)
                    if prev is not None and prev.status == "translated" and prev.translation:
                        prev.retranslate_error = reason
                        prev.retranslate_failed_at = now_iso()
                        kept.append(prev)
                    else:
                        rows.append(pipeline.base_row(art, "failed", ctx.run_id, f"translation failed: {reason}"))
    res.translated_sentences, res.cached_sentences = cache.translated, cache.hits
    res.redecoded_sentences = sum(t.redecoded for t in translated)
    res.nbest_picks = sum(t.nbest_picks for t in translated)
    with timed("names"):
        for t in translated:
            names = pipeline.apply_names(glossary, t.article.lang, t.article, t.title_en, t.paragraphs_en)
            rows.append(pipeline.translated_row(t, names, ctx.run_id, ctx.glossary_digest))
        del translated
        for art in plan.passthrough:
            names = pipeline.apply_names(glossary, "en", art, art.title, art.paragraphs)
            rows.append(pipeline.passthrough_row(art, names, ctx.run_id, ctx.glossary_digest))
        rows += [pipeline.base_row(a, "pending", ctx.run_id, reason) for a, reason in plan.pending]
        rows += [pipeline.base_row(a, "failed", ctx.run_id, reason) for a, reason in plan.failed]
    to_write = [pipeline.merge_for_write(r, stored.get(r.id)) for r in rows if pipeline.changed(r, stored.get(r.id))]
    with timed("store"):
        store.upsert_many(to_write + kept)
    res.written = len(to_write) + len(kept)
    with timed("stories"):
        stories = _stories_hook(store, to_write, settings, res)
    with timed("outputs"):
        try:
            write_article_files(ctx.output_dir, to_write)
        except Exception as exc:  # the store has them: the next run writes the files
            res.warnings.append(f"output files not written: {exc} (the next run writes them)")
    ledger = Path(ctx.spool) / f"ledger-{Path(paths[0]).stem}.jsonl"
    with open(ledger, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(outcome_entry(row), ensure_ascii=False) + "\n")
        for row in kept:
            fh.write(json.dumps(outcome_entry(row, row.retranslate_error), ensure_ascii=False) + "\n")
        for story in stories:
            fh.write(json.dumps({"story": story}, ensure_ascii=False) + "\n")
    res.ledger = str(ledger)
    for path in paths:
        Path(path).unlink(missing_ok=True)
    return res


def _stories_hook(store, rows: list[StoredArticle], settings: Settings, res: ChunkResult) -> list[dict]:
    """``newsflow.stories.assign(store, rows, settings)`` on the rows just stored (it sets
    their ``story_id`` in the store); returns the stories it touched."""
    try:
        from newsflow.stories import assign
    except ImportError:
        return []
    try:
        return [dict(s) for s in (assign(store, rows, settings) or [])]
    except Exception as exc:  # stories are extra: never cost the chunk
        res.warnings.append(f"stories not assigned: {type(exc).__name__}: {exc}")
        return []


# -- finish -------------------------------------------------------------------------------


def _unchanged_into(builder: ReportBuilder, unchanged: dict[str, dict[str, int]]) -> None:
    for lang, by in unchanged.items():
        for status, n in by.items():
            builder.add_unchanged(lang, status, n)


def _intake_warnings(intakes: list[Intake]) -> list[str]:
    out = []
    for it in intakes:
        out += [f"{i} ({t!r}) appeared more than once in its source; the first copy was used"
                for i, t in it.duplicates]
        if it.duplicate_count > len(it.duplicates):
            out.append(f"{it.duplicate_count - len(it.duplicates)} more duplicates in source {it.source}")
    return out


def finish(ctx: RunContext, store, intakes: list[Intake], results: list[ChunkResult], *,
           started_at: str, source_errors: list[dict], stage_seconds: dict[str, float],
           warnings: list[str] = ()) -> tuple[RunReport, Path | None]:
    """Write missing files, re-check names after a glossary edit, build and write the report
    from the ledgers, close the run row; returns (report, report path or None)."""
    builder = ReportBuilder(ctx.run_id, started_at)
    timed = Timer(dict(stage_seconds))
    out_warnings = list(warnings) + _intake_warnings(intakes)
    for it in intakes:
        _unchanged_into(builder, it.unchanged)
    in_progress = 0
    stories: dict[str, dict] = {}
    chunk_errors = []
    for res in results:
        if res.error:
            chunk_errors.append(res.error)
        _unchanged_into(builder, res.unchanged)
        in_progress += res.in_progress
        out_warnings += res.warnings
        for stage, secs in res.stage_seconds.items():
            timed.into[stage] = timed.into.get(stage, 0.0) + secs
        if res.ledger and Path(res.ledger).is_file():
            with open(res.ledger, encoding="utf-8") as fh:
                for line in fh:
                    entry = json.loads(line)
                    if "story" in entry:  # a later chunk's count of the same story is newer
                        stories[entry["story"]["id"]] = entry["story"]
                    else:
                        builder.add(entry)
    if in_progress:
        out_warnings.append(f"{in_progress} articles left to another run that is processing them")
    with timed("outputs"):
        repaired = _repair_files(ctx, store, [it.repair for it in intakes if it.repair], out_warnings)
    with timed("recheck"):
        rechecked = _recheck(ctx, store, out_warnings)
    _prune_sentence_cache(ctx.settings, store, out_warnings)
    builder.report.rechecked = rechecked
    builder.report.stories_touched = list(reversed(stories.values()))
    report = builder.finish(
        now_iso(), written=sum(r.written for r in results), source_errors=source_errors, chunk_errors=chunk_errors,
        stage_seconds=timed.into, warnings=out_warnings,
        sentences={"translated": sum(r.translated_sentences for r in results),
                   "from_cache": sum(r.cached_sentences for r in results),
                   "redecoded": sum(r.redecoded_sentences for r in results),
                   "nbest_picks": sum(r.nbest_picks for r in results)})
    if repaired:
        log.info("wrote the missing files of %d stored articles", repaired)
    path = None
    try:
        path = write_report(ctx.output_dir, report)
    except Exception as exc:
        report.warnings.append(str(exc))
    store.finish_run(ctx.run_id, report.state, summary_of(report, path))
    store.release(ctx.run_id)
    shutil.rmtree(ctx.spool, ignore_errors=True)
    return report, path


def finish_dry(ctx: RunContext, intakes: list[Intake], *, started_at: str, source_errors: list[dict],
               stage_seconds: dict[str, float]) -> RunReport:
    """A dry run's report: what a run would do, per language and action. Writes nothing."""
    builder = ReportBuilder(ctx.run_id, started_at)
    plan = DryPlan()
    for it in intakes:
        plan.merge(it.plan)
    status_of = {"pass through": "passed-through", "pending": "pending", "failed": "failed"}
    for (lang, action), (n, _) in plan.work.items():
        if action == "unchanged":
            continue
        builder._by_lang[lang][status_of.get(action, "translated")] += n
    for it in intakes:
        _unchanged_into(builder, it.unchanged)
    return builder.finish(now_iso(), source_errors=source_errors, stage_seconds=dict(stage_seconds),
                          warnings=_intake_warnings(intakes), dry_run=True, plan=plan.to_dict())


def abort(ctx: RunContext, store) -> None:
    """A run that crashed: its row says so, its claims go back, its spool is removed."""
    store.finish_run(ctx.run_id, "crashed", {})
    store.release(ctx.run_id)
    shutil.rmtree(ctx.spool, ignore_errors=True)


def summary_of(report: RunReport, path: Path | None, limit: int = 200) -> dict:
    """The report as the flow returns it and the runs table keeps it: lists capped."""
    out = report.capped(limit).to_dict()
    out["report_path"] = str(path) if path else None
    return out


def _prune_sentence_cache(settings: Settings, store, warnings: list[str]) -> None:
    """Entries older than ``translation.sentence_cache_days`` go (once a day per database)."""
    days = settings.translation.sentence_cache_days
    if not settings.translation.sentence_cache or days is None:
        return
    try:
        pruned = store.sentence_cache().prune(days)
    except Exception as exc:  # the cache only saves time: a failed prune never costs the run
        warnings.append(f"sentence cache not pruned: {type(exc).__name__}: {exc}")
        return
    if pruned:
        log.info("sentence cache: %d entries older than %d days removed", pruned, days)


def _repair_files(ctx: RunContext, store, lists: list[str], warnings: list[str]) -> int:
    """Files of unchanged stored articles that are missing (a run killed or refused while
    writing them) are written again, a batch at a time."""
    done = 0
    for listing in lists:
        ids = Path(listing).read_text(encoding="utf-8").split()
        for at in range(0, len(ids), ctx.chunk_articles):
            rows = list(store.get_many(ids[at:at + ctx.chunk_articles]).values())
            try:
                done += write_article_files(ctx.output_dir, rows)
            except Exception as exc:
                warnings.append(f"output files not written: {exc} (the next run writes them)")
                return done
    return done


def _recheck(ctx: RunContext, store, warnings: list[str]) -> list[dict]:
    """Glossary edits reach stored articles (``newsflow.recheck.recheck_stored``): names are
    re-checked on the stored raw model output, no re-translation; their files are rewritten.
    Rows this run wrote carry the current digest and are not re-checked."""
    from newsflow.recheck import iter_rechecked

    done: list[dict] = []
    unwritten = None
    for rows in iter_rechecked(store, _load_glossary(ctx.glossary_path), ctx.glossary_digest):
        try:  # batch by batch: a re-check of the whole store never holds it in memory
            write_article_files(ctx.output_dir, rows)
        except Exception as exc:
            unwritten = exc
        done += ({"id": r.id, "title": r.title} for r in rows)
    if unwritten is not None:
        warnings.append(f"output files not written: {unwritten} (the next run writes them)")
    return done
