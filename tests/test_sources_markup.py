"""Untrusted markup stays text: every Markdown newsflow writes escapes what sources sent."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from newsflow import pipeline
from newsflow.clean import clean_article
from newsflow.config import SourceConfig
from newsflow.markdown import escape_html, escape_markdown
from newsflow.report import RunReport, article_json, article_markdown, report_markdown
from newsflow.sources import read_source

TITLE = "<script>alert(1)</script> Neue Regeln für Radfahrer"
BODY = (
    "Der Stadtrat hat neue Regeln beschlossen. <img src=x onerror=alert(2)> Sie gelten ab Mai.\n\n"
    "Mehr dazu [hier](javascript:alert(3)) und <a href=\"javascript:alert(4)\">dort</a>.\n\n"
    "# Keine Überschrift\n\n"
    "1. keine Liste, sondern ein Satz | mit Strich *und* _Unterstrich_ `Code`."
)
# CommonMark with raw HTML passed through, as most viewers do
RENDER = MarkdownIt("commonmark", {"html": True}).render


def live_html(rendered: str) -> list[str]:
    """Markup of the source's making in rendered HTML: tags, links, images."""
    lowered = rendered.lower()
    return [tag for tag in ("<script", "<img", "<a ", "<iframe", "<b>", "javascript:alert(3)\"")
            if tag in lowered]


@pytest.fixture
def row(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "evil.txt").write_text(f"{TITLE}\n{BODY}\n", encoding="utf-8")
    source = SourceConfig(name="inbox", kind="folder", path="inbox", lang="de")
    (raw,) = read_source(source, tmp_path)
    article = clean_article(raw)
    assert article.title == TITLE  # stored as it came: text, not sanitised away
    row = pipeline.base_row(article, "passed-through", "run-1")
    row.title_en = TITLE
    row.translation = article.text
    return row


def test_article_markdown_has_no_live_html(row):
    md = article_markdown(row)
    assert "<script" not in md and "<img" not in md
    rendered = RENDER(md)
    assert live_html(rendered) == []
    # the reader still sees exactly what the source wrote
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Neue Regeln für Radfahrer" in rendered
    assert "[hier](javascript:alert(3))" in rendered


def test_article_json_keeps_the_text_as_text(row):
    data = article_json(row)
    assert data["title"] == TITLE and "<img src=x onerror=alert(2)>" in data["text"]
    assert data["text"] == row.original_text and "\n\n" in data["text"]
    assert data["fetched_from"] is None
    for key in ("id", "status", "text_en", "name_findings", "raw_translation", "title_en", "run"):
        assert key in data


def test_run_report_and_artifact_tables_escape_source_text():
    report = RunReport(run_id="run-1", started_at="t0", finished_at="t1", articles_in=1)
    report.failed.append({"id": "inbox:1", "source": "inbox", "title": TITLE, "lang": "de",
                          "reason": "<b>bold</b> | pipe"})
    report.source_errors.append({"source": "evil", "error": "<iframe src=x>"})
    report.warnings.append("<script>w()</script>")
    rendered = RENDER(report_markdown(report))
    assert live_html(rendered) == [] and "<iframe" not in rendered and "<b>" not in rendered
    assert "&lt;b&gt;bold&lt;/b&gt; | pipe" in rendered  # the pipe stays in its cell

    from flows.artifacts import _cells

    (cell,) = _cells([{"title": TITLE, "reason": "a\nb"}])
    assert "<" not in cell["title"] and cell["reason"] == "a b"


@pytest.mark.parametrize(
    "text",
    ["<script>x</script>", "a & b < c > d", "[x](y)", "![t](http://tracker.example/p.gif)",
     "<http://x.example>", "\\[x](y)", "[a]: javascript:alert(1)\n\n[a]"],
)
def test_escape_markdown_leaves_no_markup_and_the_same_text(text):
    rendered = RENDER(escape_markdown(text))
    assert live_html(rendered) == [] and "<a" not in rendered and "<img" not in rendered
    visible = rendered.replace("<p>", "").replace("</p>", "")
    visible = visible.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert "".join(visible.split()) == "".join(text.split())


def test_escape_markdown_inline_keeps_a_table_cell_one_cell():
    assert escape_markdown("a | b\nc", inline=True) == "a \\| b c"
    tables = MarkdownIt("commonmark", {"html": True}).enable("table")
    rendered = tables.render("| h |\n|---|\n| " + escape_markdown("x | <b>y</b>", inline=True) + " |\n")
    assert rendered.count("<td>") == 1 and "<b>" not in rendered
    assert "x | &lt;b&gt;y&lt;/b&gt;" in rendered


def test_escape_html_only_touches_markup_characters():
    assert escape_html("R&D <b>") == "R&amp;D &lt;b&gt;"
    assert escape_html(None) == ""
