"""Publish a run's report to the Prefect UI as keyed artifacts (each key keeps
a history across runs): a Markdown summary, a table of name problems, a table
of pending articles, a table of articles needing review and a link to the report file.

Every table is capped (:data:`ROWS` rows, then "... and M more in the report",
naming the report file): Prefect drops events over 1.5 MB, and a backlog's tables
would pass that.

Everything from sources is escaped (the Prefect UI renders Markdown in the summary
and in table cells): the summary comes escaped from ``report_markdown``, table
cells go through :func:`newsflow.markdown.escape_markdown` here."""

from __future__ import annotations

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from newsflow.markdown import escape_markdown
from newsflow.report import RunReport, report_markdown
from newsflow.web import stories_links_markdown

SUMMARY_KEY = "newsflow-run-summary"
NAME_PROBLEMS_KEY = "newsflow-name-problems"
PENDING_KEY = "newsflow-pending-articles"
REPORT_LINK_KEY = "newsflow-report"
NEEDS_REVIEW_KEY = "newsflow-needs-review"
ROWS = 50


def _more(n: int, report_path: str | None) -> str:
    return f"and {n} more in the report ({report_path or 'not written'})"


def _cells(rows: list[dict]) -> list[dict]:
    """Table rows with every value as escaped one-line Markdown text."""
    return [{k: escape_markdown(v, inline=True) for k, v in row.items()} for row in rows]


def publish(report: RunReport, report_path: str | None, rows: int | None = None,
            base_url: str | None = None) -> None:
    """``base_url`` (config ``web.base_url``): the summary links each story it lists to
    its page in the reader (`newsflow web`)."""
    report = report.capped(rows or ROWS)
    create_markdown_artifact(
        key=SUMMARY_KEY,
        markdown=report_markdown(report, report_path)
        + stories_links_markdown(report.stories_touched, base_url),
        description=f"newsflow run {report.run_id}: {report.articles_in} articles",
    )
    problems = [
        {k: p[k] for k in ("article", "title", "entity", "status", "found", "fixed_to")}
        for p in report.name_problems
    ]
    more = report.omitted.get("name_problems", 0)
    if more:
        problems.append({"article": "...", "title": _more(more, report_path), "entity": "", "status": "",
                         "found": "", "fixed_to": ""})
    create_table_artifact(
        key=NAME_PROBLEMS_KEY,
        table=_cells(problems) or [{"article": "", "title": "", "entity": "", "status": "none", "found": "",
                            "fixed_to": ""}],
        description=f"{len(report.name_problems) + more} name problems (wrong spellings fixed, missing names)",
    )
    pending = [
        {"article": p["id"], "lang": p["lang"], "title": p["title"], "reason": p["reason"]}
        for p in report.pending
    ] + [
        {"article": f["id"], "lang": f["lang"], "title": f["title"], "reason": "FAILED: " + f["reason"]}
        for f in report.failed
    ]
    more = report.omitted.get("pending", 0) + report.omitted.get("failed", 0)
    if more:
        pending.append({"article": "...", "lang": "", "title": _more(more, report_path), "reason": ""})
    n_pending = report.by_status.get("pending", 0)
    n_failed = report.by_status.get("failed", 0)
    create_table_artifact(
        key=PENDING_KEY,
        table=_cells(pending) or [{"article": "", "lang": "", "title": "", "reason": "none pending"}],
        description=f"{n_pending} pending and {n_failed} failed articles",
    )
    review = [{"article": a["id"], "title": a["title"], "kinds": ", ".join(a["kinds"])}
              for a in report.needs_review]
    more = report.omitted.get("needs_review", 0)
    if more:
        review.append({"article": "...", "title": _more(more, report_path), "kinds": ""})
    create_table_artifact(
        key=NEEDS_REVIEW_KEY,
        table=review or [{"article": "", "title": "", "kinds": "none flagged"}],
        description=f"{len(report.needs_review) + more} translated articles need review "
                    "(quality flags; `newsflow review` lists them)",
    )
    if report_path:
        create_link_artifact(
            key=REPORT_LINK_KEY,
            link=f"file://{report_path}",
            link_text=f"Run report ({report_path})",
            description="The run report on disk, next to the per-article output files",
        )
