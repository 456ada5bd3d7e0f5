"""A run over the bundled samples: what it stores and writes (through the Prefect-free run
core, tests/support/run_core.py), and the translate-news flow's wiring (temporary Prefect
API): artifacts, capped tables, a failing source that does not fail the run, the dry run."""

import asyncio
import sqlite3
from dataclasses import dataclass

import pytest

from tests.conftest import write_config
from tests.support.run_core import run_core

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


def test_a_run_translates_samples_and_rerun_changes_nothing(installed_models_dir, tmp_path, monkeypatch):
    """The run core, stage by stage as the flow wires it (no Prefect: nothing here is wiring)."""
    cfg = write_config(tmp_path, installed_models_dir)
    summary = run_core(cfg)
    assert summary["state"] == "completed", summary
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
    second = run_core(cfg)
    assert detected == []  # nothing changed: every language comes from the store
    assert second["state"] == "completed"
    assert second["written"] == 0
    assert second["unchanged"] == len(rows)
    assert {k: (v["updated_at"], v["translation"]) for k, v in db_rows(tmp_path).items()} == before


def test_a_run_without_models_keeps_articles_pending(tmp_path):
    empty_models = tmp_path / "no-models"
    empty_models.mkdir()
    cfg = write_config(tmp_path, empty_models)
    summary = run_core(cfg)
    assert summary["state"] == "completed"
    rows = db_rows(tmp_path)
    statuses = {r["lang"]: r["status"] for r in rows.values()}
    assert statuses["de"] == "pending" and statuses["zh"] == "pending" and statuses["en"] == "passed-through"
    reasons = {r["reason"] for r in rows.values() if r["status"] == "pending"}
    assert any("no de->en model installed" in r for r in reasons)


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


def test_a_chunk_that_raises_fails_the_flow_run_and_says_why(prefect_harness, installed_models_dir, tmp_path,
                                                              monkeypatch):
    """The database refuses chunk 2's rows (a full disk): the run is Failed (red in the UI,
    exit 1) with the chunk, its articles and the error; the other chunks are stored."""
    from newsflow.store import Store

    cfg = write_config(tmp_path, installed_models_dir)
    cfg.write_text(cfg.read_text() + "run: {chunk_articles: 5}\n")
    real, calls = Store.upsert_many, []

    def refuse(rows):
        raise sqlite3.OperationalError("database or disk is full")

    def refuse_second(self, rows):
        calls.append(len(rows))
        return refuse(rows) if len(calls) == 2 else real(self, rows)

    monkeypatch.setattr(Store, "upsert_many", refuse_second)
    result = run_flow(cfg)
    assert result.is_failed()
    [error] = result.summary["chunk_errors"]
    assert error == {"chunk": 2, "of": error["of"], "articles": 5,
                     "error": "OperationalError: database or disk is full"}
    assert result.state.message.startswith(f"1 of {error['of']} chunks failed (5 articles; the next run")
    assert result.summary["state"] == "failed" and len(calls) >= error["of"]  # the later chunks ran
    assert sum(result.summary["by_status"].values()) == len(db_rows(tmp_path))

    # `newsflow run` on the same store, refused again: only chunk 2's 5 articles are left to
    # do; it exits 1 and says which chunk failed and why, in one line
    from typer.testing import CliRunner

    from newsflow.cli import app

    monkeypatch.setattr(Store, "upsert_many", lambda self, rows: calls.append(len(rows)) or refuse(rows))
    calls.clear()
    cli = CliRunner().invoke(app, ["--config", str(cfg), "run", "--no-install-models"], catch_exceptions=False)
    assert cli.exit_code == 1, cli.output
    assert calls == [5]
    assert "error: chunk 1 of 1 (5 articles) failed: OperationalError: database or disk is full" in cli.output


@pytest.mark.parametrize("env", [None, "60"])
def test_newsflow_run_waits_for_no_heartbeat_thread_unless_asked(prefect_harness, installed_models_dir,
                                                                tmp_path, monkeypatch, env):
    """Prefect's heartbeat thread, joined at the end of every run, held each run to the next
    whole second (flows/runners.py: foreground_run): `newsflow run` starts none, unless
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY asks for heartbeats."""
    import prefect.flow_engine
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from typer.testing import CliRunner

    from newsflow.cli import app
    from tests.reliability import harness

    real, seen = prefect.flow_engine._send_heartbeats, []
    monkeypatch.setattr(prefect.flow_engine, "_send_heartbeats",
                        lambda engine, *a, **k: seen.append(engine.heartbeat_seconds) or real(engine, *a, **k))
    for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    if env:
        monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", env)
    harness.generate_german_inbox(tmp_path / "inbox", 1, sentences=2)
    cfg = harness.write_inbox_config(tmp_path, installed_models_dir, tmp_path / "inbox")
    # Prefect's default, not the test API's (tests/conftest.py: prefect_harness runs without)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 180}):
        result = CliRunner().invoke(app, ["--config", str(cfg), "run", "--no-install-models"],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and (seen[0] is None) is (env is None)


def test_dry_run_with_a_model_that_cannot_load(prefect_harness, installed_models_dir, tmp_path, monkeypatch):
    """`newsflow run --dry-run`: fetches, cleans, detects and plans, says what a run would
    do, exits 0; no model loaded, nothing stored or written (no database, no output)."""
    from typer.testing import CliRunner

    import translators.engine
    from newsflow.cli import app
    from tests.reliability import faults

    broken = faults.break_model(installed_models_dir, "de", tmp_path / "broken")
    cfg = write_config(tmp_path, broken)
    loaded = []
    monkeypatch.setattr(translators.engine, "Engine", lambda *a, **k: loaded.append(a) or 1 / 0)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(app, ["--config", str(cfg), "run", "--dry-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert loaded == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no data/, no output/
    assert "dry run:" in result.output and "nothing was translated, stored or written" in result.output
    assert "de: " in result.output and "sentences: translate (de->en)" in result.output


def test_flow_publishes_artifacts_capped_and_pointing_to_the_report(prefect_harness, installed_models_dir,
                                                                   tmp_path):
    """The flow publishes its artifacts (summary, name problems, pending, needs review, the
    report link). A backlog in chunks with 2-row artifact tables: the tables end with "and N
    more in the report (<path>)"; the summary says the sentences. 12 articles in chunks of 5
    (three chunks, the last partial) are a backlog as far as the wiring goes: the caps are
    ROWS=2, not sizes. (One flow run for all of it: each costs ~1 s of Prefect plus API work.)"""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows import artifacts
    from tests.reliability import harness

    harness.generate_german_inbox(tmp_path / "inbox", 12, sentences=3)
    (tmp_path / "inbox" / "fr.txt").write_text("Un titre\n\n" + "Le gouvernement a annoncé une réforme. " * 5)
    (tmp_path / "inbox" / "ru.txt").write_text("Заголовок\n\n" + "Правительство объявило о реформе. " * 5)
    (tmp_path / "inbox" / "it.txt").write_text("Un titolo\n\n" + "Il governo ha annunciato una riforma. " * 5)
    cfg = harness.write_inbox_config(tmp_path, installed_models_dir, tmp_path / "inbox")
    cfg.write_text(cfg.read_text() + "run: {chunk_articles: 5}\n")
    rows = artifacts.ROWS
    artifacts.ROWS = 2
    try:
        state = run_flow(cfg)
    finally:
        artifacts.ROWS = rows
    assert state.is_completed()
    assert state.summary["sentences"]["translated"] > 0 and state.summary["written"] == 15

    async def latest(key):
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=50)
            return [a for a in found if a.flow_run_id == state.state.state_details.flow_run_id]

    pending = asyncio.run(latest(artifacts.PENDING_KEY))[0]
    table = pending.data if isinstance(pending.data, list) else __import__("json").loads(pending.data)
    assert len(table) == 3 and "and 1 more in the report" in table[-1]["title"]
    assert "reports" in table[-1]["title"] and state.summary["report_path"]
    summary = asyncio.run(latest(artifacts.SUMMARY_KEY))[0].data
    assert "Sentences: **" in summary and "more in the report" in summary
    assert "Per language" in summary
    problems = asyncio.run(latest(artifacts.NAME_PROBLEMS_KEY))
    assert problems and problems[0].type == "table"
    assert asyncio.run(latest(artifacts.REPORT_LINK_KEY))
    # the Prefect UI has the table of what a reader is told to distrust (issue 14; the
    # quality checks themselves are in tests/test_quality_flow.py, on the run core); its
    # description counts every flagged article, the rows are capped
    flagged = [r for r in db_rows(tmp_path).values() if r["status"] == "translated" and r["needs_review"]]
    assert flagged  # the random-weight models' output is flagged
    [review] = asyncio.run(latest(artifacts.NEEDS_REVIEW_KEY))
    assert review.type == "table" and f"{len(flagged)} translated articles need review" in review.description
