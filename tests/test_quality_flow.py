"""One run over the samples with the random-weight packages: what a reader is told to
distrust (issue 14). One run (the Prefect-free run core, as the flow wires it), many checks;
the Prefect UI's needs-review table is checked in tests/test_flow.py
(test_flow_publishes_artifacts_capped_and_pointing_to_the_report)."""

from __future__ import annotations

import json
import sqlite3

from tests.conftest import write_config
from tests.support.run_core import run_core

SENSIBLE = {"low-confidence", "repetition", "truncated", "length-ratio", "wrong-language",
            "untranslated", "source-script", "empty"}


def test_sample_run_flags_random_model_output_for_review(installed_models_dir, tmp_path):
    cfg = write_config(tmp_path, installed_models_dir)
    summary = run_core(cfg)
    assert summary["state"] == "completed", summary
    con = sqlite3.connect(tmp_path / "data" / "newsflow.db")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT id, status, needs_review, quality_flags FROM articles")]
    translated = [r for r in rows if r["status"] == "translated"]
    passed = [r for r in rows if r["status"] == "passed-through"]
    assert len(translated) >= 20 and passed
    flagged = [r for r in translated if r["needs_review"]]
    assert len(flagged) >= 0.9 * len(translated)  # (almost) every random-weight translation
    for r in flagged:
        flags = json.loads(r["quality_flags"])
        assert flags and {f["kind"] for f in flags} <= SENSIBLE
        assert all(set(f) == {"paragraph", "sentence", "kind", "detail"} for f in flags)
    assert not any(r["needs_review"] or json.loads(r["quality_flags"]) for r in passed)  # not checked

    # the report counts them, with both decoding attempts
    report = json.loads(max((tmp_path / "output" / "reports").glob("*.json")).read_text(encoding="utf-8"))
    assert len(report["needs_review"]) == len(flagged) or report["omitted"].get("needs_review")
    assert report["sentences"]["redecoded"] >= 1 and report["sentences"]["translated"] >= 100
    assert "nbest_picks" in report["sentences"]
    assert "decoded a second time" in (tmp_path / "output" / "reports" / "latest.md").read_text()

    # the article files say so
    some = next(iter((tmp_path / "output" / "articles").rglob("*.json")))
    data = json.loads(some.read_text(encoding="utf-8"))
    assert "needs_review" in data and "quality_flags" in data and "text_en" in data
    md = [p.read_text(encoding="utf-8") for p in (tmp_path / "output" / "articles").rglob("*.md")]
    assert sum("⚠ needs review" in text for text in md) >= len(flagged)
