"""The translate-news flow end to end on the bundled samples (temporary Prefect API)."""

import asyncio
import sqlite3
from dataclasses import dataclass

import pytest

from tests.conftest import write_config

pytestmark = pytest.mark.integration


def run_flow(cfg, **kw):
    from flows.translate_news import RunParameters, translate_news

    state = translate_news(RunParameters(config_path=str(cfg), **kw), return_state=True)
    return Run(state, state.result(raise_on_failure=False))


@dataclass
class Run:
    state: object
    summary: dict

    def is_completed(self):
        return self.state.is_completed()

    def is_failed(self):
        return self.state.is_failed()


def db_rows(tmp_path):
    con = sqlite3.connect(tmp_path / "data" / "newsflow.db")
    con.row_factory = sqlite3.Row
    return {r["id"]: dict(r) for r in con.execute("SELECT * FROM articles")}


def test_flow_translates_samples_and_rerun_changes_nothing(
    prefect_harness, installed_models_dir, tmp_path, monkeypatch
):
    cfg = write_config(tmp_path, installed_models_dir)
    state = run_flow(cfg)
    assert state.is_completed(), state.state.message
    summary = state.summary
    rows = db_rows(tmp_path)
    assert summary["articles_in"] == len(rows) >= 50
    by_lang = {}
    for r in rows.values():
        by_lang.setdefault(r["lang"], set()).add(r["status"])
    assert by_lang["de"] == {"translated"}
    assert by_lang["zh"] == {"translated"}
    assert by_lang["zt"] == {"translated"}
    assert by_lang["en"] == {"passed-through"}
    for r in rows.values():
        if r["status"] == "translated":
            assert r["translation"] and r["raw_translation"] and r["model_version"]
            assert r["title_en"] is not None
    # output files and the report
    out = tmp_path / "output"
    assert len(list((out / "articles").rglob("*.json"))) == len(rows)
    assert (out / "reports" / "latest.md").read_text().startswith("# newsflow run")

    before = {k: (v["updated_at"], v["translation"]) for k, v in db_rows(tmp_path).items()}
    import newsflow.pipeline

    detected = []
    detect = newsflow.pipeline.detect_article
    monkeypatch.setattr(newsflow.pipeline, "detect_article",
                        lambda *a, **kw: detected.append(a[0]) or detect(*a, **kw))
    second = run_flow(cfg)
    assert detected == []  # nothing changed: every language comes from the store
    assert second.is_completed()
    assert second.summary["written"] == 0
    assert second.summary["unchanged"] == len(rows)
    assert {k: (v["updated_at"], v["translation"]) for k, v in db_rows(tmp_path).items()} == before


def test_flow_without_models_keeps_articles_pending(prefect_harness, tmp_path):
    empty_models = tmp_path / "no-models"
    empty_models.mkdir()
    cfg = write_config(tmp_path, empty_models)
    state = run_flow(cfg)
    assert state.is_completed()
    rows = db_rows(tmp_path)
    statuses = {r["lang"]: r["status"] for r in rows.values()}
    assert statuses["de"] == "pending" and statuses["zh"] == "pending" and statuses["en"] == "passed-through"
    reasons = {r["reason"] for r in rows.values() if r["status"] == "pending"}
    assert any("no de->en model installed" in r for r in reasons)


def test_flow_publishes_artifacts(prefect_harness, installed_models_dir, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows import artifacts

    cfg = write_config(tmp_path, installed_models_dir)
    state = run_flow(cfg, sources=["de-nachrichten"])
    assert state.is_completed()

    async def latest(key):
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=50)
            return [a for a in found if a.flow_run_id == state.state.state_details.flow_run_id]

    summary = asyncio.run(latest(artifacts.SUMMARY_KEY))
    assert summary and "Per language" in summary[0].data
    problems = asyncio.run(latest(artifacts.NAME_PROBLEMS_KEY))
    assert problems and problems[0].type == "table"
    assert asyncio.run(latest(artifacts.PENDING_KEY))
    assert asyncio.run(latest(artifacts.REPORT_LINK_KEY))


def test_a_failing_source_does_not_fail_the_run(prefect_harness, installed_models_dir, tmp_path):
    from tests.conftest import REPO

    sources = f"""
  - {{name: good, kind: feed, lang: de, url: {REPO}/samples/feeds/de-nachrichten.xml}}
  - {{name: gone, kind: feed, lang: de, url: {tmp_path}/missing.xml}}
"""
    cfg = write_config(tmp_path, installed_models_dir, sources=sources)
    state = run_flow(cfg)
    assert state.is_completed()
    assert [e["source"] for e in state.summary["source_errors"]] == ["gone"]
    assert state.summary["by_status"]["translated"] >= 10

    only_bad = write_config(tmp_path, installed_models_dir, sources=f"""
  - {{name: gone, kind: feed, lang: de, url: {tmp_path}/missing.xml}}
""")
    assert run_flow(only_bad).is_failed()
