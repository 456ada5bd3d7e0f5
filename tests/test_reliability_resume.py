"""Kill and resume: `newsflow run` is SIGKILLed in the middle of a backlog of 6 chunks;
every chunk it finished stays stored, and the next run translates only the rest (counted by
its report's ``sentences``), storing every article exactly once. The dead run's claims do not
block it (a claim of a dead pid on this host is stale), and no half-written file is left."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

from tests.reliability import faults, harness

pytestmark = pytest.mark.integration

# Six chunks of 5: what is exercised is chunking, a kill between committed chunks and a
# claimed one, and the resume; 100-article chunks only made each step slower (600 articles
# cost ~48 s). The kill comes at a known point: the run blocks in the translation of chunk
# HOLD (faults.hold_env) after chunks 1..HOLD-1 are committed and chunk HOLD is claimed.
ARTICLES = 30
CHUNK = 5
HOLD = 3
SENTENCES = 9  # a title and 8 sentences per article


@pytest.fixture
def inbox_config(tmp_path, installed_models_dir):
    harness.generate_german_inbox(tmp_path / "inbox", ARTICLES, sentences=SENTENCES - 1)
    cfg = harness.write_inbox_config(tmp_path, installed_models_dir, tmp_path / "inbox")
    cfg.write_text(cfg.read_text() + f"run: {{chunk_articles: {CHUNK}}}\n")
    return cfg


def test_a_run_killed_mid_backlog_keeps_its_chunks_and_the_next_does_the_rest(
        prefect_harness, tmp_path, inbox_config):
    import prefect.settings

    from newsflow.store import Store

    env = faults.cli_env(tmp_path, prefect.settings.PREFECT_API_URL.value())
    run = faults.CliRun(inbox_config, faults.hold_env(tmp_path, env, HOLD), cwd=tmp_path)
    killed = run.kill_when(faults.HOLD_MARKER)
    assert killed, run.output[-3000:]
    assert f"chunk {HOLD - 1}/{ARTICLES // CHUNK} done" in run.output, run.output[-3000:]
    db = tmp_path / "data" / "newsflow.db"
    kept = harness.db_rows(db)
    # every finished chunk is stored (whole chunks: one transaction each), the rest is not
    assert 2 * CHUNK <= len(kept) < ARTICLES and len(kept) % CHUNK == 0
    assert len(kept) == (HOLD - 1) * CHUNK
    assert {c["pid"] for c in harness.db_claims(db)} <= {run.proc.pid}
    # the chunk in flight: claimed by the dead run, not stored
    assert len({c["article_id"] for c in harness.db_claims(db)} - kept.keys()) == CHUNK

    state, summary = harness.run_flow(inbox_config)  # this process: another pid, same host
    assert state.is_completed(), summary
    assert not any("left to another run" in w for w in summary["warnings"])
    assert summary["unchanged"] == len(kept)
    sentences = summary["sentences"]
    # only the unfinished articles reached the model (or the cache the killed chunk filled)
    assert 0 < sentences["translated"] + sentences["from_cache"] <= SENTENCES * (ARTICLES - len(kept))
    rows = harness.db_rows(db)
    assert len(rows) == ARTICLES
    assert {r["status"] for r in rows.values()} == {"translated"}
    assert {r["attempts"] for r in rows.values()} == {1}  # each article stored exactly once
    assert all(rows[i]["updated_at"] == r["updated_at"] for i, r in kept.items())
    assert all(r["translation"] and not r["truncated_sentences"] for r in rows.values())
    assert harness.db_claims(db) == []
    assert harness.output_problems(tmp_path / "output", rows) == []
    assert len(list((tmp_path / "output" / "articles").rglob("*.json"))) == ARTICLES
    con = sqlite3.connect(db)
    states = sorted(s for (s,) in con.execute("SELECT state FROM runs"))
    # the killed run never finished; a store that can tell marks it crashed at the next start
    assert states == (["completed", "crashed"] if hasattr(Store, "mark_crashed_runs") else ["completed", "running"])


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_temp_files_of_a_killed_writer_are_removed(tmp_path):
    from newsflow.article import StoredArticle
    from newsflow.report import _HOST, write_article_files

    folder = tmp_path / "articles" / "inbox"
    folder.mkdir(parents=True)
    dead = folder / f".abc.json.{_HOST}-{_dead_pid()}.x1y2z3.tmp"
    live = folder / f".abc.md.{_HOST}-{os.getppid()}.q9w8e7.tmp"  # a writer that is still running
    other_host = folder / ".abc.md.elsewhere-1.k2k2k2.tmp"  # recent, on another machine
    for path in (dead, live, other_host):
        path.write_text('{"half": ')
    row = StoredArticle(id="inbox:abc", source="inbox", content_hash="h", status="failed", reason="x")
    write_article_files(tmp_path, [row])
    assert not dead.exists()
    assert live.exists() and other_host.exists()
    assert (folder / "abc.json").is_file() and (folder / "abc.md").is_file()


def test_files_a_killed_run_did_not_write_are_written_by_the_next(prefect_harness, tmp_path,
                                                                  installed_models_dir):
    """A kill between storing the rows and writing their files leaves rows without files and
    a temp file; the rows are unchanged for the next run, which must still write the files."""
    from newsflow.report import _HOST

    harness.generate_german_inbox(tmp_path / "inbox", 5)
    cfg = harness.write_inbox_config(tmp_path, installed_models_dir, tmp_path / "inbox")
    state, _ = harness.run_flow(cfg)
    assert state.is_completed()
    folder = tmp_path / "output" / "articles" / "inbox"
    for path in sorted(folder.glob("*.json"))[:3]:  # the files the killed run never wrote
        path.unlink()
    (folder / f".x.json.{_HOST}-{_dead_pid()}.a1b2c3.tmp").write_text('{"half": ')

    state, summary = harness.run_flow(cfg)
    assert state.is_completed()
    assert harness.output_problems(tmp_path / "output", harness.db_rows(tmp_path / "data" / "newsflow.db")) == []
