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
from dataclasses import asdict, dataclass, field
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

    @property
    def state(self) -> str:
        """'failed' only when nothing could be processed; otherwise 'completed'
        (with failures listed) -- one bad source never fails the run."""
        if self.articles_in == 0 and self.source_errors:
            return "failed"
        return "completed"

    def to_dict(self) -> dict:
        return {**asdict(self), "state": self.state}


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
    by_lang: dict[str, Counter] = defaultdict(Counter)
    for row in outcomes:
        by_lang[row.lang][row.status] += 1
    report = RunReport(
        run_id=run_id,
        started_at=started_at,
        finished_at=finished_at,
        articles_in=len(outcomes),
        unchanged=unchanged,
        written=written,
        by_language={lang: dict(c) for lang, c in sorted(by_lang.items())},
        by_status=dict(Counter(r.status for r in outcomes)),
        source_errors=source_errors,
        stage_seconds={k: round(v, 3) for k, v in stage_seconds.items()},
        warnings=list(warnings or []),
    )
    seen_candidates: set[str] = set()
    for row in outcomes:
        entry = {"id": row.id, "source": row.source, "title": row.title, "lang": row.lang,
                 "reason": row.reason or ""}
        if row.status == "pending":
            report.pending.append(entry)
        elif row.status == "failed":
            report.failed.append(entry)
        for f in row.name_findings:
            if f.get("status") in ("wrong", "missing"):
                report.name_problems.append({
                    "article": row.id,
                    "title": row.title_en or row.title,
                    "entity": f["entity"],
                    "status": f["status"],
                    "found": ", ".join(f.get("found") or []),
                    "fixed_to": f["expected"] if f["status"] == "wrong" else "",
                })
        for c in row.name_candidates:
            key = c.get("source_form", "")
            if key not in seen_candidates:
                seen_candidates.add(key)
                report.name_candidates.append({"article": row.id, **c})
    return report


def _table(headers: list[str], rows: list[list], escape: bool = True) -> list[str]:
    def cell(v) -> str:  # escaped: titles, reasons and errors come from sources
        if not escape:  # newsflow's own labels and numbers
            return str(v).replace("|", "\\|").replace("\n", " ")
        return escape_markdown(v, inline=True)
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return out


def report_markdown(report: RunReport) -> str:
    lines = [f"# newsflow run {report.run_id}", "",
             f"State: **{report.state}**. Started {report.started_at}, finished {report.finished_at}.",
             "",
             f"Articles in: **{report.articles_in}** (unchanged since the last run: {report.unchanged}; "
             f"written this run: {report.written}).", ""]
    statuses = ["translated", "passed-through", "pending", "failed"]
    lines += ["## Per language", ""]
    lines += _table(["language", *statuses, "total"], [
        [lang, *(c.get(s, 0) for s in statuses), sum(c.values())]
        for lang, c in report.by_language.items()
    ] + [["all", *(report.by_status.get(s, 0) for s in statuses), report.articles_in]])
    lines.append("")
    if report.source_errors:
        lines += ["## Sources that failed", ""]
        lines += _table(["source", "error"], [[e["source"], e["error"]] for e in report.source_errors])
        lines.append("")
    if report.failed:
        lines += ["## Failed articles", ""]
        lines += _table(["article", "title", "reason"], [[a["id"], a["title"], a["reason"]] for a in report.failed])
        lines.append("")
    if report.pending:
        lines += ["## Pending articles", ""]
        lines += _table(["article", "lang", "title", "reason"],
                        [[a["id"], a["lang"], a["title"], a["reason"]] for a in report.pending])
        lines.append("")
    lines += ["## Name problems", ""]
    if report.name_problems:
        lines += _table(["article", "entity", "status", "found", "fixed to"],
                        [[p["article"], p["entity"], p["status"], p["found"], p["fixed_to"]]
                         for p in report.name_problems])
    else:
        lines.append("None.")
    lines.append("")
    if report.name_candidates:
        lines += ["## Names the glossary does not know yet", ""]
        lines += _table(["source form", "suggested English", "notes", "article"],
                        [[c.get("source_form", ""), c.get("suggested_en", ""),
                          "; ".join(c.get("notes", [])), c["article"]] for c in report.name_candidates])
        lines.append("")
    if report.warnings:
        lines += ["## Warnings", ""] + [f"- {escape_markdown(w, inline=True)}" for w in report.warnings] + [""]
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
