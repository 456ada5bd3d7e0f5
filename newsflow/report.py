"""Run report and per-article output files.

The report is built from what the run stored (plus sources that failed to
load) so it says exactly what happened: counts per language and status,
pending and failed articles with reasons, name problems, time per stage.
Files are written atomically (temp file + rename): a killed run never leaves a
half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from newsflow.article import StoredArticle
from newsflow.errors import NewsflowError
from newsflow.markdown import escape_markdown
from newsflow.store.schema import process_alive

# Temp files carry their writer (host and pid) so a later run can tell the leftovers of a
# killed writer (removed) from a file another live run is writing right now (kept).
_HOST = socket.gethostname().replace(".", "_")
_TEMP_NAME = re.compile(r"^\..+\.(?P<host>[^.]+)-(?P<pid>\d+)\.[^.]+\.tmp$")
# Leftovers of writers on other hosts (a shared folder) are removed after this long.
STALE_TEMP_SECONDS = 24 * 3600


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_HOST}-{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the temp files that killed writers left in ``folder`` (a run killed while it
    wrote a file); returns them. Temp files of live writers stay."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        pid = int(match["pid"])
        if match["host"] == _HOST:
            stale = pid != os.getpid() and not process_alive(pid)
        else:
            try:
                stale = now - entry.stat().st_mtime > STALE_TEMP_SECONDS
            except OSError:
                continue
        if stale:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def missing_article_files(output_dir: Path, rows: list[StoredArticle]) -> list[StoredArticle]:
    """The rows whose .json or .md file is not there (a run killed or refused while writing
    them): write them again with :func:`write_article_files`."""
    return [row for row in rows
            if not (article_path(output_dir, row.id, ".json").is_file()
                    and article_path(output_dir, row.id, ".md").is_file())]


def article_path(output_dir: Path, article_id: str, suffix: str) -> Path:
    source, _, digest = article_id.partition(":")
    return output_dir / "articles" / source / f"{digest or source}{suffix}"


def article_json(row: StoredArticle) -> dict:
    return {
        "id": row.id,
        "source": row.source,
        "url": row.url,
        "published": row.published,
        "lang": row.lang,
        "lang_confidence": row.lang_confidence,
        "status": row.status,
        "reason": row.reason,
        "title": row.title,
        "title_en": row.title_en,
        "text": row.original_text,  # the cleaned original, paragraphs separated by blank lines
        "text_en": row.translation,
        "raw_translation": row.raw_translation,
        "model": {"id": row.model_id, "version": row.model_version} if row.model_id else None,
        "name_findings": row.name_findings,
        "name_candidates": row.name_candidates,
        "run": row.last_run,
        "needs_review": bool(row.needs_review),
        "quality_flags": [dict(f) for f in row.quality_flags or []],
        # where the text came from when a feed item's link was followed, and why not
        "fetched_from": getattr(row, "fetched_from", None),
        "fetch_note": getattr(row, "fetch_note", None),
        "author": getattr(row, "author", None),
    }


def article_markdown(row: StoredArticle) -> str:
    """The article as Markdown; everything from the source (titles, texts, URLs, notes,
    the translation of them) is escaped, so markup in a source stays text."""
    md, line = escape_markdown, (lambda value: escape_markdown(value, inline=True))
    title = row.title_en or row.title or row.id
    lines = [f"# {line(title)}", ""]
    meta = [f"source: {line(row.source)}", f"language: {line(row.lang)} ({row.lang_confidence:.2f})",
            f"status: {row.status}"]
    if row.url:
        meta.append(f"url: {line(row.url)}")
    if getattr(row, "fetched_from", None):
        meta.append(f"full text from: {line(row.fetched_from)}")
    if getattr(row, "fetch_note", None):
        meta.append(f"fetch note: {line(row.fetch_note)}")
    if row.model_id:
        meta.append(f"model: {line(row.model_id)} {line(row.model_version)}")
    if row.reason:
        meta.append(f"note: {line(row.reason)}")
    flags = list(row.quality_flags or [])
    if row.needs_review or flags:
        meta.append(f"needs review: {line(', '.join(sorted({f['kind'] for f in flags})) or 'yes')}")
    lines += [f"- {m}" for m in meta] + [""]
    if flags and row.translation:
        lines += _marked_translation(row.translation, flags)
    elif row.translation:
        lines += [md(row.translation), ""]
    problems = [f for f in row.name_findings if f.get("status") != "ok"]
    if problems:
        lines += ["## Names", ""]
        lines += [f"- {line(f['entity'])}: {line(f['status'])} {line(', '.join(f['found'])) or '-'} -> "
                  f"{line(f['expected'])}" for f in problems]
        lines.append("")
    lines += ["## Original", "", f"**{line(row.title)}**", "", md(row.original_text), ""]
    return "\n".join(lines)


def _flag_line(flags: list[dict]) -> str:
    """One quoted line naming each flagged sentence of a part (1-based, as a reader counts)."""
    items = []
    for f in flags:
        where = "whole paragraph" if f.get("sentence", -1) < 0 else f"sentence {f['sentence'] + 1}"
        items.append(f"{where}: **{escape_markdown(f['kind'], inline=True)}** "
                     f"({escape_markdown(f['detail'], inline=True)})")
    return "> ⚠ needs review: " + "; ".join(items)


def _marked_translation(translation: str, flags: list[dict]) -> list[str]:
    """The translation, each flagged paragraph followed by a note naming its flagged sentences
    (flag ``paragraph`` 0 is the title, 1.. the paragraphs)."""
    by_part: dict[int, list[dict]] = {}
    for f in flags:
        by_part.setdefault(int(f.get("paragraph", 0)), []).append(f)
    lines = []
    if 0 in by_part:
        lines += ["**Title:** " + _flag_line(by_part[0])[2:], ""]
    for i, paragraph in enumerate(translation.split("\n\n"), 1):
        lines += [escape_markdown(paragraph), ""]  # model output of source text: escaped
        if i in by_part:
            lines += [_flag_line(by_part[i]), ""]
    return lines


def write_article_files(output_dir: Path, rows: list[StoredArticle]) -> int:
    """Write <output>/articles/<source>/<id>.json and .md for each row (and clear the temp
    files killed writers left in those folders)."""
    try:
        for folder in {article_path(output_dir, row.id, ".json").parent for row in rows}:
            remove_stale_temp_files(folder)
        for row in rows:
            write_atomic(article_path(output_dir, row.id, ".json"),
                         json.dumps(article_json(row), ensure_ascii=False, indent=2) + "\n")
            write_atomic(article_path(output_dir, row.id, ".md"), article_markdown(row))
    except OSError as exc:
        raise NewsflowError(f"{output_dir}: cannot write article files: {exc}") from None
    return len(rows)


@dataclass
class RunReport:
    run_id: str
    started_at: str
    finished_at: str = ""
    articles_in: int = 0
    unchanged: int = 0
    written: int = 0
    by_language: dict[str, dict[str, int]] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    pending: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    source_errors: list[dict] = field(default_factory=list)
    name_problems: list[dict] = field(default_factory=list)
    name_candidates: list[dict] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # sentences sent to the model in this run / taken from the sentence cache
    sentences: dict[str, int] = field(default_factory=lambda: {"translated": 0, "from_cache": 0})
    # re-translations that failed; the previous translation, status and files were kept
    retranslate_failed: list[dict] = field(default_factory=list)
    rechecked: list[dict] = field(default_factory=list)  # glossary re-check: {"id", "title"}
    stories_touched: list[dict] = field(default_factory=list)  # {"id","title","languages","article_count"}
    needs_review: list[dict] = field(default_factory=list)  # {"id","title","kinds"}
    # chunks that raised (the store refused their rows, a spool file could not be read):
    # {"chunk", "of", "articles", "error"}; their articles are not in the counts above, and the
    # next run does them. Output files that fail are a warning (the next run writes them)
    chunk_errors: list[dict] = field(default_factory=list)
    dry_run: bool = False
    plan: dict | None = None  # a dry run: what a run would do (see newsflow.run.DryPlan)
    # In a shortened copy (the Prefect artifact, the flow's result): how many entries of each
    # list were left out; the report file has them all.
    omitted: dict[str, int] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """'failed' when nothing could be processed, or when a chunk could not be (see
        :attr:`failure`); otherwise 'completed', with failures listed: one bad source or one
        untranslatable article never fails the run."""
        return "failed" if self.failure else "completed"

    @property
    def failure(self) -> str | None:
        """Why the run failed, in one line, or None. A chunk that raised is a fault of the
        deployment (the database, the disk), not of the news: the run is failed so that it is
        seen (red in the Prefect UI, exit status 1), though the other chunks' work is kept."""
        if self.chunk_errors:
            n = len(self.chunk_errors) + self.omitted.get("chunk_errors", 0)
            articles = sum(e.get("articles", 0) for e in self.chunk_errors)
            first = self.chunk_errors[0]
            return (f"{n} of {first.get('of', n)} chunks failed ({articles} articles; the next run does "
                    f"them): chunk {first['chunk']}: {first['error']}")
        if self.articles_in == 0 and self.source_errors:
            return f"nothing could be processed: {len(self.source_errors)} sources failed"
        return None

    def to_dict(self) -> dict:
        """The fields (and ``state``) for JSON. Shallow: the lists and dicts are the report's own,
        not copies (``asdict`` deep-copied every entry, most of the cost of a big report)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["state"] = self.state
        return out

    @classmethod
    def from_dict(cls, data: dict) -> RunReport:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def capped(self, limit: int = 50) -> RunReport:
        """A copy whose lists hold at most ``limit`` entries (``omitted`` counts the rest):
        what goes to Prefect, whose events must not grow with the backlog."""
        omitted = dict(self.omitted)
        lists = {}
        for name in CAPPED_LISTS:
            items = getattr(self, name)
            lists[name] = list(items[:limit])
            if len(items) > limit:
                omitted[name] = omitted.get(name, 0) + len(items) - limit
        # new lists, the same entries: a copy of the whole backlog's entries would be thrown away
        return replace(self, omitted=omitted, **lists)


CAPPED_LISTS = ("pending", "failed", "source_errors", "name_problems", "name_candidates", "warnings",
                "retranslate_failed", "rechecked", "stories_touched", "needs_review", "chunk_errors")


def outcome_entry(row: StoredArticle, retranslate_error: str | None = None) -> dict:
    """What the report keeps of one stored outcome (no article text): one ledger line."""
    entry = {"id": row.id, "source": row.source, "title": row.title, "title_en": row.title_en,
             "lang": row.lang, "status": row.status, "reason": row.reason or ""}
    problems = [f for f in row.name_findings if f.get("status") in ("wrong", "missing")]
    if problems:
        entry["name_problems"] = [{"entity": f["entity"], "status": f["status"],
                                   "found": f.get("found") or [], "expected": f.get("expected", "")}
                                  for f in problems]
    if row.name_candidates:
        entry["name_candidates"] = row.name_candidates
    if getattr(row, "needs_review", False):
        kinds = sorted({f.get("kind", "") for f in getattr(row, "quality_flags", None) or []})
        entry["needs_review"] = kinds
    if retranslate_error:
        entry["retranslate_error"] = retranslate_error
    return entry


class ReportBuilder:
    """Builds a :class:`RunReport` from outcome entries one at a time (a backlog's rows are
    never all in memory): :meth:`add` per stored outcome, :meth:`add_unchanged` for counts."""

    def __init__(self, run_id: str, started_at: str) -> None:
        self.report = RunReport(run_id=run_id, started_at=started_at)
        self._by_lang: dict[str, Counter] = defaultdict(Counter)
        self._candidates: set[str] = set()

    def add_unchanged(self, lang: str, status: str, n: int = 1) -> None:
        self._by_lang[lang][status] += n
        self.report.unchanged += n

    def add(self, entry: dict) -> None:
        r = self.report
        if entry.get("retranslate_error"):
            r.retranslate_failed.append({"id": entry["id"], "title": entry["title"], "lang": entry["lang"],
                                         "error": entry["retranslate_error"]})
        self._by_lang[entry["lang"]][entry["status"]] += 1
        brief = {k: entry[k] for k in ("id", "source", "title", "lang", "reason")}
        if entry["status"] == "pending":
            r.pending.append(brief)
        elif entry["status"] == "failed":
            r.failed.append(brief)
        for p in entry.get("name_problems", []):
            r.name_problems.append({
                "article": entry["id"], "title": entry.get("title_en") or entry["title"],
                "entity": p["entity"], "status": p["status"], "found": ", ".join(p["found"]),
                "fixed_to": p["expected"] if p["status"] == "wrong" else "",
            })
        for c in entry.get("name_candidates", []):
            key = c.get("source_form", "")
            if key not in self._candidates:
                self._candidates.add(key)
                r.name_candidates.append({"article": entry["id"], **c})
        if "needs_review" in entry:
            r.needs_review.append({"id": entry["id"], "title": entry["title"], "kinds": entry["needs_review"]})

    def finish(self, finished_at: str, **extra) -> RunReport:
        r = self.report
        r.finished_at = finished_at
        r.by_language = {lang: dict(c) for lang, c in sorted(self._by_lang.items())}
        total: Counter = Counter()
        for c in self._by_lang.values():
            total.update(c)
        r.by_status = dict(total)
        r.articles_in = sum(total.values())
        for key, value in extra.items():
            setattr(r, key, value)
        r.stage_seconds = {k: round(v, 3) for k, v in r.stage_seconds.items()}
        return r


def build_report(
    run_id: str,
    started_at: str,
    finished_at: str,
    outcomes: list[StoredArticle],
    unchanged: int,
    written: int,
    source_errors: list[dict],
    stage_seconds: dict[str, float],
    warnings: list[str] | None = None,
) -> RunReport:
    """`outcomes`: this run's result for every article it saw (unchanged ones
    included, as stored), so the counts cover the whole input."""
    builder = ReportBuilder(run_id, started_at)
    for row in outcomes:
        builder.add(outcome_entry(row))
    return builder.finish(finished_at, unchanged=unchanged, written=written, source_errors=source_errors,
                          stage_seconds=dict(stage_seconds), warnings=list(warnings or []))


def _table(headers: list[str], rows: list[list], escape: bool = True) -> list[str]:
    def cell(v) -> str:  # escaped: titles, reasons and errors come from sources
        if not escape:  # newsflow's own labels and numbers
            return str(v).replace("|", "\\|").replace("\n", " ")
        return escape_markdown(v, inline=True)
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return out


def report_markdown(report: RunReport, report_path: str | None = None) -> str:
    """The report as Markdown. A shortened copy (:meth:`RunReport.capped`) says under each
    cut table how many rows more the report file (``report_path``) holds."""
    where = f" in the report ({report_path})" if report_path else " in the run report"

    def more(name: str) -> list[str]:
        n = report.omitted.get(name, 0)
        return [f"... and {n} more{where}."] if n else []

    title = "newsflow dry run" if report.dry_run else "newsflow run"
    lines = [f"# {title} {report.run_id}", "",
             f"State: **{report.state}**. Started {report.started_at}, finished {report.finished_at}.",
             "",
             f"Articles in: **{report.articles_in}** (unchanged since the last run: {report.unchanged}; "
             f"written this run: {report.written}).", "",
             f"Sentences: **{report.sentences.get('translated', 0)}** translated by the model, "
             f"{report.sentences.get('from_cache', 0)} from the sentence cache"
             + (f"; {report.sentences.get('redecoded', 0)} decoded a second time (flagged low-confidence, "
                f"repetition or truncated), {report.sentences.get('nbest_picks', 0)} with their names "
                "taken from a lower hypothesis" if report.sentences.get("redecoded")
                or report.sentences.get("nbest_picks") else "") + ".", ""]
    if report.dry_run:
        lines += ["Dry run: nothing was translated, stored or written.", ""]
    if report.retranslate_failed or report.omitted.get("retranslate_failed"):
        n = len(report.retranslate_failed) + report.omitted.get("retranslate_failed", 0)
        lines += [f"Re-translation failed, previous kept: **{n}**.", ""]
    if report.rechecked or report.omitted.get("rechecked"):
        n = len(report.rechecked) + report.omitted.get("rechecked", 0)
        lines += [f"Re-checked against the edited glossary (not re-translated): **{n}**.", ""]
    statuses = ["translated", "passed-through", "pending", "failed"]
    lines += ["## Per language", ""]
    lines += _table(["language", *statuses, "total"], [
        [lang, *(c.get(s, 0) for s in statuses), sum(c.values())]
        for lang, c in report.by_language.items()
    ] + [["all", *(report.by_status.get(s, 0) for s in statuses), report.articles_in]])
    lines.append("")
    if report.plan:
        lines += ["## What a run would do", ""]
        lines += _table(["language", "articles", "sentences", "action"],
                        [[p["lang"], p["articles"], p["sentences"], p["action"]] for p in report.plan["work"]])
        lines.append("")
        if report.plan.get("pending_reasons"):
            lines += _table(["pending", "reason"], [[n, r] for r, n in report.plan["pending_reasons"].items()])
            lines.append("")
    if report.chunk_errors:
        lines += ["## Chunks that failed", "",
                  "Their articles are not counted above; what they had not stored or written, the next "
                  "run does.", ""]
        lines += _table(["chunk", "articles", "error"],
                        [[f"{e['chunk']} of {e['of']}", e["articles"], e["error"]] for e in report.chunk_errors])
        lines += more("chunk_errors") + [""]
    if report.source_errors:
        lines += ["## Sources that failed", ""]
        lines += _table(["source", "error"], [[e["source"], e["error"]] for e in report.source_errors])
        lines += more("source_errors") + [""]
    if report.retranslate_failed:
        lines += ["## Re-translation failed, previous kept", ""]
        lines += _table(["article", "title", "error"],
                        [[a["id"], a["title"], a["error"]] for a in report.retranslate_failed])
        lines += more("retranslate_failed") + [""]
    if report.failed:
        lines += ["## Failed articles", ""]
        lines += _table(["article", "title", "reason"], [[a["id"], a["title"], a["reason"]] for a in report.failed])
        lines += more("failed") + [""]
    if report.pending:
        lines += ["## Pending articles", ""]
        lines += _table(["article", "lang", "title", "reason"],
                        [[a["id"], a["lang"], a["title"], a["reason"]] for a in report.pending])
        lines += more("pending") + [""]
    lines += ["## Name problems", ""]
    if report.name_problems:
        lines += _table(["article", "entity", "status", "found", "fixed to"],
                        [[p["article"], p["entity"], p["status"], p["found"], p["fixed_to"]]
                         for p in report.name_problems])
        lines += more("name_problems")
    else:
        lines.append("None.")
    lines.append("")
    if report.name_candidates:
        lines += ["## Names the glossary does not know yet", ""]
        lines += _table(["source form", "suggested English", "notes", "article"],
                        [[c.get("source_form", ""), c.get("suggested_en", ""),
                          "; ".join(c.get("notes", [])), c["article"]] for c in report.name_candidates])
        lines += more("name_candidates") + [""]
    if report.needs_review:
        lines += ["## Needs review", ""]
        lines += _table(["article", "title", "kinds"],
                        [[a["id"], a["title"], ", ".join(a["kinds"])] for a in report.needs_review])
        lines += more("needs_review") + [""]
    if report.stories_touched:
        lines += ["## Stories touched", ""]
        lines += _table(["story", "title", "languages", "articles"],
                        [[s["id"], s.get("title", ""), ", ".join(s.get("languages", [])),
                          s.get("article_count", "")] for s in report.stories_touched])
        lines += more("stories_touched") + [""]
    if report.rechecked:
        lines += ["## Re-checked against the glossary", ""]
        lines += _table(["article", "title"], [[a["id"], a.get("title", "")] for a in report.rechecked])
        lines += more("rechecked") + [""]
    if report.warnings:
        lines += (["## Warnings", ""] + [f"- {escape_markdown(w, inline=True)}" for w in report.warnings]
                  + more("warnings") + [""])
    lines += ["## Time per stage", ""]
    lines += _table(["stage", "seconds"], [[k, f"{v:.2f}"] for k, v in report.stage_seconds.items()],
                    escape=False)
    lines.append("")
    return "\n".join(lines)


def write_report(output_dir: Path, report: RunReport) -> Path:
    """Write reports/<run>.md and .json plus reports/latest.md; returns the .md path."""
    reports = output_dir / "reports"
    md = report_markdown(report)
    safe = report.run_id.replace(":", "-")
    try:
        remove_stale_temp_files(reports)
        write_atomic(reports / f"{safe}.json", json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        write_atomic(reports / f"{safe}.md", md)
        write_atomic(reports / "latest.md", md)
    except OSError as exc:
        raise NewsflowError(f"{reports}: cannot write the run report: {exc}") from None
    return reports / f"{safe}.md"
