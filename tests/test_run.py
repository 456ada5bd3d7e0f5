"""The run core (newsflow/run.py) without Prefect: chunks, skipping done work, sentence
counts, claims read after claiming, never losing a translation, the dry run, bounded
payloads, lease renewal."""

from __future__ import annotations

import pickle
import time

import pytest

from newsflow import run
from newsflow.config import load_settings
from newsflow.store import open_store
from newsflow.work import CountingCache, LeaseKeeper
from tests.reliability import faults, harness


def make_ctx(cfg, run_id, **kw):
    return run.make_context(load_settings(cfg), run_id, **kw)


def do_intake(ctx, store):
    installed = run.installed_packages(ctx.settings)
    return [run.intake(ctx, s, store, installed) for s in ctx.settings.sources]


def run_once(cfg, run_id, engine_for=None, **kw):
    """What the flow does, stage by stage, in this process and without Prefect."""
    ctx = make_ctx(cfg, run_id, **kw)
    extra = {"engine_for": engine_for} if engine_for else {}
    with open_store(ctx.settings) as store:
        run.start(ctx, store)
        intakes = do_intake(ctx, store)
        results = [run.process_chunk(ctx, paths, store, **extra)
                   for paths in run.chunks(intakes, ctx.chunk_articles)]
        report, path = run.finish(ctx, store, intakes, results, started_at=run.now_iso(),
                                  source_errors=[], stage_seconds={})
    return report, results


@pytest.fixture
def inbox(tmp_path, installed_models_dir):
    harness.generate_german_inbox(tmp_path / "inbox", 25, sentences=6)
    cfg = harness.write_inbox_config(tmp_path, installed_models_dir, tmp_path / "inbox")
    cfg.write_text(cfg.read_text() + "run: {chunk_articles: 10}\n")
    return cfg


def test_the_run_core_imports_no_prefect(installed_models_dir):
    """In a fresh interpreter, before anything else there imports Prefect (one interpreter
    for several files' import checks: tests/support/import_checks.py)."""
    from tests.support.import_checks import run_import_checks

    failure = run_import_checks(installed_models_dir)["run_core_imports_no_prefect"]
    assert failure is None, failure


def test_chunks_group_partial_spool_files():
    it = [run.Intake("a", files=[("a0", 10), ("a1", 3)]), run.Intake("b", files=[("b0", 4)]),
          run.Intake("c", files=[("c0", 5)])]
    assert run.chunks(it, 10) == [["a0"], ["a1", "b0"], ["c0"]]
    assert run.chunks([], 10) == []


def test_a_backlog_in_chunks_then_a_rerun_that_loads_nothing(tmp_path, inbox):
    calls = []

    def engine_for(settings, route):
        calls.append(route.key)
        return run._engine_for(settings, route)

    report, results = run_once(inbox, "r1", engine_for)
    assert len(results) == 3 and [r.articles for r in results] == [10, 10, 5]
    assert calls == ["de->en"] * 3  # one engine call per language and chunk
    assert report.by_status == {"translated": 25} and report.written == 25
    assert report.sentences["translated"] > 0
    assert report.sentences["translated"] + report.sentences["from_cache"] <= 25 * 7
    rows = harness.db_rows(tmp_path / "data" / "newsflow.db")
    assert len(rows) == 25 and harness.output_problems(tmp_path / "output", rows) == []
    assert not (tmp_path / "data" / "spool" / "r1").exists()  # the spool is gone

    def no_engine(settings, route):
        raise AssertionError("nothing to translate")

    again, results = run_once(inbox, "r2", no_engine)
    assert results == [] and again.unchanged == 25 and again.written == 0
    assert again.sentences == {"translated": 0, "from_cache": 0, "redecoded": 0, "nbest_picks": 0}
    assert again.by_status == {"translated": 25}


def test_a_chunk_that_raises_fails_the_run_and_the_next_run_does_its_articles(tmp_path, inbox):
    """The store refuses chunk 2 of 3 (a full disk): the other chunks are kept, the run is
    failed and says which chunk, how many articles and why; the next run does those 10."""
    import sqlite3

    ctx = make_ctx(inbox, "r1")
    with open_store(ctx.settings) as store:
        run.start(ctx, store)
        intakes = do_intake(ctx, store)
        work = run.chunks(intakes, ctx.chunk_articles)
        results = []
        for index, paths in enumerate(work, 1):  # what the flow does with a chunk task that raises
            store_upsert = store.upsert_many
            if index == 2:
                def full(rows):
                    raise sqlite3.OperationalError("database or disk is full")
                store.upsert_many = full
            try:
                results.append(run.process_chunk(ctx, paths, store))
            except Exception as exc:
                results.append(run.failed_chunk(index, len(work), paths, intakes, exc))
            finally:
                store.upsert_many = store_upsert
        report, path = run.finish(ctx, store, intakes, results, started_at=run.now_iso(),
                                  source_errors=[], stage_seconds={})
        assert {r["run_id"]: r["state"] for r in store.runs()}["r1"] == "failed"
    assert report.chunk_errors == [{"chunk": 2, "of": 3, "articles": 10,
                                    "error": "OperationalError: database or disk is full"}]
    assert report.state == "failed"
    assert report.failure.startswith("1 of 3 chunks failed (10 articles; the next run does them): chunk 2: ")
    assert report.by_status == {"translated": 15} and report.written == 15
    text = path.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Chunks that failed" in text and "database or disk is full" in text
    assert len(harness.db_rows(tmp_path / "data" / "newsflow.db")) == 15

    again, _ = run_once(inbox, "r2")
    assert again.state == "completed" and again.chunk_errors == []
    assert again.unchanged == 15 and again.written == 10 and again.by_status == {"translated": 25}
    rows = harness.db_rows(tmp_path / "data" / "newsflow.db")
    assert len(rows) == 25 and harness.output_problems(tmp_path / "output", rows) == []


def test_counting_cache_counts_model_and_cache_sentences(installed_models_dir):
    from translators.engine import MemorySentenceCache, get_engine
    from translators.packages import list_installed

    pkg = next(p for p in list_installed(installed_models_dir) if p.from_code == "de")
    engine = get_engine(pkg)
    docs = [["Der Bundestag tagte. Die Polizei kam."], ["Die Polizei kam. Es regnete."]]
    memory = MemorySentenceCache()
    first = CountingCache(memory)
    engine.translate_documents(docs, "de", cache=first)
    assert (first.translated, first.hits) == (3, 0)  # distinct sentences, each once
    second = CountingCache(memory)
    engine.translate_documents(docs + [["Neu hier."]], "de", cache=second)
    assert (second.translated, second.hits) == (1, 3)
    none = CountingCache(None)  # no sentence cache configured: everything goes to the model
    engine.translate_documents(docs, "de", cache=none)
    assert (none.translated, none.hits) == (3, 0)


def test_plan_is_made_from_rows_read_after_claiming(tmp_path, inbox):
    """Run A plans (intake) before run B has run; B translates and stores everything; A's
    chunks then claim, read the rows B wrote and do nothing."""
    a = make_ctx(inbox, "run-a")
    with open_store(a.settings) as store:
        run.start(a, store)
        a_intakes = do_intake(a, store)
    assert sum(n for it in a_intakes for _, n in it.files) == 25
    run_once(inbox, "run-b")

    def no_engine(settings, route):
        raise AssertionError("run A must not translate what run B finished")

    with open_store(a.settings) as store:
        results = [run.process_chunk(a, p, store, engine_for=no_engine) for p in run.chunks(a_intakes, 10)]
        report, _ = run.finish(a, store, a_intakes, results, started_at=run.now_iso(), source_errors=[],
                               stage_seconds={})
    assert sum(r.written for r in results) == 0
    assert report.unchanged == 25 and report.sentences["translated"] == 0
    rows = harness.db_rows(tmp_path / "data" / "newsflow.db")
    assert {r["last_run"] for r in rows.values()} == {"run-b"} and {r["attempts"] for r in rows.values()} == {1}


def test_a_failed_retranslation_keeps_the_previous_one(tmp_path, inbox, installed_models_dir):
    report, _ = run_once(inbox, "r1")
    db = tmp_path / "data" / "newsflow.db"
    before = harness.db_rows(db)
    files = {p: p.read_bytes() for p in (tmp_path / "output" / "articles").rglob("*.*")}
    # an upgrade whose model.bin cannot be loaded (a new model version), and one new article
    broken = faults.break_model(installed_models_dir, "de", tmp_path / "broken")
    inbox.write_text(inbox.read_text().replace(str(installed_models_dir), str(broken)))
    (tmp_path / "inbox" / "neu.txt").write_text("Neue Meldung\n\nDer Bundestag tagte am Montag lange.\n")

    report, _ = run_once(inbox, "r2")
    rows = harness.db_rows(db)
    assert len(report.retranslate_failed) == 25
    assert report.by_status == {"translated": 25, "failed": 1}
    for article_id, row in before.items():
        assert rows[article_id]["status"] == "translated"
        assert rows[article_id]["translation"] == row["translation"]
        assert rows[article_id]["model_version"] == row["model_version"]
        if "retranslate_error" in rows[article_id]:  # the store's columns (issue 12)
            assert rows[article_id]["retranslate_error"] and rows[article_id]["retranslate_failed_at"]
    new = next(r for i, r in rows.items() if i not in before)
    assert new["status"] == "failed" and "translation failed" in new["reason"]
    for path, data in files.items():  # the previous files are untouched
        assert path.read_bytes() == data
    md = (tmp_path / "output" / "reports" / "latest.md").read_text()
    assert "Re-translation failed, previous kept: **25**" in md


def test_dry_run_loads_no_model_and_writes_nothing(tmp_path, inbox, installed_models_dir, monkeypatch):
    import translators.engine

    broken = faults.break_model(installed_models_dir, "de", tmp_path / "broken")
    inbox.write_text(inbox.read_text().replace(str(installed_models_dir), str(broken)))
    monkeypatch.setattr(translators.engine, "Engine", lambda *a, **k: pytest.fail("a model was loaded"))
    before = sorted(p.name for p in tmp_path.iterdir())
    ctx = make_ctx(inbox, "dry", dry_run=True)
    intakes = [run.intake(ctx, s, None, run.installed_packages(ctx.settings)) for s in ctx.settings.sources]
    report = run.finish_dry(ctx, intakes, started_at=run.now_iso(), source_errors=[], stage_seconds={})
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no database, output or spool
    work = {w["action"]: w for w in report.plan["work"]}
    assert work["translate (de->en)"]["articles"] == 25
    assert work["translate (de->en)"]["sentences"] == 25 * 7  # a title and 6 sentences each
    assert report.dry_run and report.articles_in == 25


def test_payloads_do_not_grow_with_the_backlog(tmp_path, installed_models_dir):
    """What Prefect would carry (intake results, chunk results, the flow's summary) is about
    the same size for 10 and for 60 articles. (Six times the backlog in chunks of 10, the
    summary's lists capped at 5 entries, half the small backlog, so both fill them: the
    ratios and the caps are what matter, not the size; 2 sentences an article keep the
    translating short.)"""
    sizes = {}
    for n in (10, 60):
        d = tmp_path / str(n)
        harness.generate_german_inbox(d / "inbox", n, sentences=2)
        cfg = harness.write_inbox_config(d, installed_models_dir, d / "inbox")
        cfg.write_text(cfg.read_text() + "run: {chunk_articles: 10}\n")
        ctx = make_ctx(cfg, f"p{n}")
        with open_store(ctx.settings) as store:
            run.start(ctx, store)
            intakes = do_intake(ctx, store)
            results = [run.process_chunk(ctx, p, store) for p in run.chunks(intakes, 10)]
            report, path = run.finish(ctx, store, intakes, results, started_at=run.now_iso(),
                                      source_errors=[], stage_seconds={})
        assert len(results) == n // 10 and report.written == n
        # less the spool references, which are paths: their length is the temp folder's
        # (longer under pytest-xdist), and there is one per spool file, not per article
        sizes[n] = (len(pickle.dumps(intakes[0])) - sum(len(pickle.dumps(f)) for f in intakes[0].files),
                    max(len(pickle.dumps(r)) for r in results), len(pickle.dumps(run.summary_of(report, path, 5))))
    assert sizes[60][0] < sizes[10][0] * 1.5
    assert sizes[60][1] < sizes[10][1] * 1.5
    assert sizes[60][2] < sizes[10][2] * 1.5


def test_the_lease_is_renewed_while_the_run_is_alive():
    renewed = []

    class FakeStore:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def renew(self, run_id, lease_seconds=3600):
            renewed.append((run_id, lease_seconds))
            return 1

    with LeaseKeeper(FakeStore, "run-x", 30, every=0.05):
        time.sleep(0.4)
    count = len(renewed)
    assert count >= 3 and set(renewed) == {("run-x", 30)}
    time.sleep(0.2)
    assert len(renewed) == count  # stopped with the run


def test_leases_of_the_real_store_are_extended(tmp_path, inbox):
    ctx = make_ctx(inbox, "long-run")
    with open_store(ctx.settings) as store:
        run.start(ctx, store)
        store.claim(["inbox:a", "inbox:b"], "long-run", lease_seconds=5)
        before = {c["article_id"]: c["expires_at"] for c in harness.db_claims(tmp_path / "data" / "newsflow.db")}
    with LeaseKeeper(lambda: open_store(ctx.settings), "long-run", 600, every=0.05) as keeper:
        time.sleep(0.5)
    assert keeper.renewals >= 2
    after = {c["article_id"]: c["expires_at"] for c in harness.db_claims(tmp_path / "data" / "newsflow.db")}
    assert after.keys() == before.keys() and all(after[i] > before[i] + 500 for i in before)


def test_a_dead_runs_row_is_marked_crashed_when_the_next_run_starts(tmp_path, inbox):
    import sqlite3
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    db = tmp_path / "data" / "newsflow.db"
    ctx = make_ctx(inbox, "dead")
    with open_store(ctx.settings) as store:
        store.start_run("dead")
    con = sqlite3.connect(db)
    con.execute("UPDATE runs SET pid = ? WHERE run_id = 'dead'", (child.pid,))  # its process is gone
    con.commit()
    con.close()
    with open_store(ctx.settings) as store:
        assert run.start(make_ctx(inbox, "next"), store) == ["dead"]
        states = {r["run_id"]: r["state"] for r in store.runs()}
    assert states == {"dead": "crashed", "next": "running"}


def test_report_copies_for_prefect_are_capped_and_say_how_many_more():
    from newsflow.report import RunReport, report_markdown

    report = RunReport("r", "t", pending=[{"id": f"a{i}", "source": "s", "title": "T", "lang": "fr",
                                          "reason": "not enabled"} for i in range(30)],
                       by_status={"pending": 30}, articles_in=30)
    short = report.capped(10)
    assert len(short.pending) == 10 and short.omitted == {"pending": 20}
    shorter = short.capped(4)
    assert len(shorter.pending) == 4 and shorter.omitted == {"pending": 26}
    assert "... and 26 more in the report (/x/r.md)." in report_markdown(shorter, "/x/r.md")
    assert len(report.pending) == 30 and report.omitted == {}


def test_done_articles_are_skipped_without_loading_their_stored_rows(tmp_path, inbox):
    """The intake of a re-run asks the store only for the light state of each article
    (get_states), never for full rows with their texts (get_many)."""
    run_once(inbox, "r1")
    ctx = make_ctx(inbox, "r2")
    calls = []
    with open_store(ctx.settings) as store:
        real_get_many, real_states = store.get_many, store.get_states
        store.get_many = lambda ids: calls.append(("get_many", len(list(ids)))) or real_get_many(ids)
        store.get_states = lambda ids: calls.append(("get_states", len(list(ids)))) or real_states(ids)
        run.start(ctx, store)
        intakes = do_intake(ctx, store)
    assert intakes[0].files == [] and sum(intakes[0].unchanged["de"].values()) == 25
    assert ("get_states", 10) in calls and not any(name == "get_many" for name, _ in calls)
