import json
import os
import threading

import pytest

from newsflow.article import StoredArticle
from newsflow.report import (
    article_path,
    build_report,
    report_markdown,
    write_article_files,
    write_atomic,
    write_report,
)


def rows():
    return [
        StoredArticle(id="de:1", source="de", content_hash="a", status="translated", lang="de",
                      title="Lawrow in Tunxi", title_en="Lavrov in Tunxi", translation="Lavrov met Wang Yi.",
                      model_id="translate-de_en", model_version="1.0+abc",
                      name_findings=[{"entity": "lavrov", "status": "wrong", "found": ["Lawrow"],
                                      "expected": "Sergei Lavrov"},
                                     {"entity": "wang_yi", "status": "ok", "found": ["Wang Yi"],
                                      "expected": "Wang Yi"}],
                      name_candidates=[{"source_form": "Walentina Matwijenko",
                                        "suggested_en": "Valentina Matviyenko", "notes": ["s may be z"]}]),
        StoredArticle(id="fr:1", source="fr", content_hash="b", status="pending", lang="fr",
                      title="Bonjour", reason="language 'fr' is not enabled"),
        StoredArticle(id="de:2", source="de", content_hash="c", status="failed", lang="und",
                      title="", reason="no article text found"),
        StoredArticle(id="en:1", source="en", content_hash="d", status="passed-through", lang="en",
                      title="Hello", translation="Hello world."),
    ]


def test_report_counts_and_lists():
    report = build_report("run-1", "t0", "t1", rows(), unchanged=1, written=3,
                          source_errors=[{"source": "x", "error": "timed out"}],
                          stage_seconds={"translate de->en": 1.23456})
    assert report.articles_in == 4
    assert report.by_status == {"translated": 1, "pending": 1, "failed": 1, "passed-through": 1}
    assert report.by_language["de"] == {"translated": 1}
    assert [p["id"] for p in report.pending] == ["fr:1"]
    assert [f["reason"] for f in report.failed] == ["no article text found"]
    assert report.name_problems == [{"article": "de:1", "title": "Lavrov in Tunxi", "entity": "lavrov",
                                     "status": "wrong", "found": "Lawrow", "fixed_to": "Sergei Lavrov"}]
    assert report.state == "completed"
    md = report_markdown(report)
    for needle in ("Per language", "language 'fr' is not enabled", "no article text found", "timed out",
                   "| de:1 | lavrov | wrong | Lawrow | Sergei Lavrov |", "Valentina Matviyenko", "| translate de->en | 1.24 |"):
        assert needle in md


def test_run_fails_only_when_nothing_processed():
    report = build_report("r", "t0", "t1", [], 0, 0, [{"source": "x", "error": "500"}], {})
    assert report.state == "failed"
    assert build_report("r", "t0", "t1", [], 0, 0, [], {}).state == "completed"


def test_article_files_are_written_whole(tmp_path):
    write_article_files(tmp_path, rows())
    data = json.loads(article_path(tmp_path, "de:1", ".json").read_text())
    assert data["text_en"] == "Lavrov met Wang Yi." and data["status"] == "translated"
    md = article_path(tmp_path, "de:1", ".md").read_text()
    assert md.startswith("# Lavrov in Tunxi") and "Lawrow in Tunxi" in md
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_reader_never_sees_a_half_written_file(tmp_path):
    """Files are rewritten while other tools read them: a reader sees the old file or the
    new one, whole, never a truncated or half-written one."""
    target = tmp_path / "a.json"
    versions = [json.dumps({"v": i, "text": f"{i}" * (1_000_000 + i * 300_000)}) for i in range(3)]
    write_atomic(target, versions[0])
    stop, seen, torn = threading.Event(), set(), []

    def read():
        while not stop.is_set():
            data = target.read_text()
            if data in versions:
                seen.add(versions.index(data))
            else:
                torn.append(len(data))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(1, 40):
            write_atomic(target, versions[i % 3])
    finally:
        stop.set()
        reader.join()
    assert torn == [], f"{len(torn)} reads saw a partial file (lengths {torn[:5]})"
    assert len(seen) >= 2  # the reader did read while the writes went on


def test_write_atomic_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "a.txt"
    write_atomic(target, "old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]  # fails inside the write
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_write_report(tmp_path):
    report = build_report("run:1", "t0", "t1", rows(), 0, 4, [], {})
    path = write_report(tmp_path, report)
    assert path.exists() and (tmp_path / "reports" / "latest.md").read_text() == path.read_text()
    assert json.loads(path.with_suffix(".json").read_text())["state"] == "completed"
