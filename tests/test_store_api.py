"""The store API of the team contract, on both dialects: renew, mark_crashed_runs,
source state, iter_articles, review_queue, and the new StoredArticle fields."""
# ruff: noqa: F811 - the fixtures are imported from tests/support

from __future__ import annotations

import dataclasses
import inspect
import os
import socket
import subprocess
import time

import pytest

from newsflow.store import Store, StoredArticle
from tests.support.postgres import pg_database_url, postgres_url  # noqa: F401
from tests.support.stores import any_store, full_row, insert_claim, second_store  # noqa: F401


def row(i: int, **kw) -> StoredArticle:
    base = dict(id=f"src:{i:05d}", source="src", content_hash=f"h{i}", status="pending", reason="no model")
    return StoredArticle(**{**base, **kw})


def sql(store, text: str) -> str:
    return text if isinstance(store, Store) else text.replace("?", "%s")


def execute(store, text: str, params=()) -> list:
    with store.transaction() as conn:
        cur = conn.execute(sql(store, text), params)
        return cur.fetchall() if cur.description else []


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_full_row_sets_every_field():
    art, default = full_row(), StoredArticle(id="x", source="s", content_hash="h", status="pending")
    unset = [f.name for f in dataclasses.fields(StoredArticle)
             if f.name not in ("id", "source", "content_hash", "status", "reason")  # translated: no reason
             and getattr(art, f.name) == getattr(default, f.name)]
    assert unset == []


def test_new_fields_round_trip_and_are_cleared(any_store):
    art = full_row()
    any_store.upsert_many([art])
    assert any_store.get(art.id) == art
    cleared = dataclasses.replace(art, retranslate_error=None, retranslate_failed_at=None, needs_review=False,
                                  quality_flags=[])
    any_store.upsert_many([cleared])
    assert any_store.get(art.id) == cleared
    assert any_store.get(art.id).needs_review is False


# -- leases: renew and crashed runs ----------------------------------------------------


def test_renew_extends_the_claims_and_the_run_lease(any_store, tmp_path):
    any_store.start_run("run-a")
    # a lease that already ran out: another worker could take these over
    assert any_store.claim(["x", "y"], "run-a", lease_seconds=-10) == {"x", "y"}
    before = {r["run_id"]: r for r in any_store.runs()}["run-a"]
    assert any_store.renew("run-a", lease_seconds=600) == 2
    assert any_store.claim(["z"], "run-b") == {"z"}
    expires = dict((r["article_id"], r["expires_at"]) for r in execute(
        any_store, "SELECT article_id, expires_at FROM claims WHERE run_id = ?", ("run-a",)))
    after = {r["run_id"]: r for r in any_store.runs()}["run-a"]
    assert after["lease_expires"] == expires["x"] == expires["y"]
    assert 0 <= after["lease_expires"] - (before["lease_expires"] - 3000) < 5  # now + 600, not + 3600
    with second_store(any_store, tmp_path) as other:
        assert other.claim(["x", "y", "z", "w"], "run-c") == {"w"}  # renewed: still held
    assert any_store.renew("no-such-run") == 0


def test_a_run_claiming_again_gets_back_what_it_holds(any_store, tmp_path):
    """A chunk run again inside its run (its Dask worker lost mid-chunk, the task rescheduled)
    finds its articles claimed by its own run: they are still its, with the new lease."""
    assert any_store.claim(["x", "y"], "run-a", lease_seconds=60) == {"x", "y"}  # live
    assert any_store.claim(["x", "y", "z"], "run-a", lease_seconds=600) == {"x", "y", "z"}
    expires = [r["expires_at"] for r in execute(any_store, "SELECT expires_at FROM claims")]
    assert len(expires) == 3 and min(expires) > time.time() + 500
    with second_store(any_store, tmp_path) as other:
        assert other.claim(["x", "y", "z"], "run-b") == set()


def test_renew_does_not_touch_claims_another_run_took_over(any_store):
    insert_claim(any_store, "x", "run-a", "elsewhere", 1, 0)  # run-a's lease ran out
    assert any_store.claim(["x"], "run-b") == {"x"}
    assert any_store.renew("run-a") == 0
    assert [r["run_id"] for r in execute(any_store, "SELECT run_id FROM claims")] == ["run-b"]


def insert_run(store, run_id, host, pid, lease_expires, state="running", started="2025-03-01T09:00:00+00:00"):
    execute(store, "INSERT INTO runs (run_id, started_at, state, host, pid, lease_expires) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (run_id, started, state, host, pid, lease_expires))


def test_mark_crashed_runs(any_store):
    host = socket.gethostname()
    insert_run(any_store, "dead-here", host, dead_pid(), 9e12)  # killed on this host
    insert_run(any_store, "expired", "elsewhere", 1, 1.0)  # lease ran out elsewhere
    insert_run(any_store, "alive-elsewhere", "elsewhere", 1, 9e12)
    insert_run(any_store, "mine", host, os.getpid(), 9e12)
    insert_run(any_store, "dead-but-done", host, dead_pid(), 1.0, state="completed")
    insert_run(any_store, "legacy-old", None, None, None)  # before schema v2, started long ago
    insert_claim(any_store, "a", "dead-here", host, 1, 9e12)
    insert_claim(any_store, "b", "alive-elsewhere", "elsewhere", 1, 9e12)
    any_store.start_run("fresh")  # this process, lease from now

    assert any_store.mark_crashed_runs() == ["dead-here", "expired", "legacy-old"]
    runs = {r["run_id"]: r for r in any_store.runs()}
    assert {k: r["state"] for k, r in runs.items()} == {
        "dead-here": "crashed", "expired": "crashed", "legacy-old": "crashed", "alive-elsewhere": "running",
        "mine": "running", "dead-but-done": "completed", "fresh": "running"}
    assert runs["dead-here"]["finished_at"] and runs["alive-elsewhere"]["finished_at"] is None
    # the crashed run's claims are given back, the live one's kept
    assert [r["article_id"] for r in execute(any_store, "SELECT article_id FROM claims")] == ["b"]
    assert any_store.mark_crashed_runs() == []
    # a crashed run that was only slow can still record how it ended
    any_store.finish_run("expired", "completed", {"written": 1})
    assert {r["run_id"]: r["state"] for r in any_store.runs()}["expired"] == "completed"


def test_a_legacy_running_row_that_just_started_is_not_crashed(any_store):
    from newsflow.store.schema import now_iso

    insert_run(any_store, "legacy-new", None, None, None, started=now_iso())
    assert any_store.mark_crashed_runs() == []


def test_start_run_records_host_pid_and_lease(any_store):
    any_store.start_run("r", lease_seconds=120)
    (run,) = any_store.runs()
    assert (run["host"], run["pid"], run["state"]) == (socket.gethostname(), os.getpid(), "running")
    assert run["heartbeat_at"] == run["started_at"]
    # on the lease clock (this machine's, or the PostgreSQL server's: the same machine here)
    assert abs(run["lease_expires"] - (time.time() + 120)) < 5


# -- source state ------------------------------------------------------------------------


def test_source_state_round_trip(any_store):
    assert any_store.get_source_state("de-nachrichten") is None
    state = {"etag": '"abc"', "last_modified": "Sat, 01 Mar 2025 08:00:00 GMT", "note": "ü 王"}
    any_store.put_source_state("de-nachrichten", state)
    any_store.put_source_state("https://example.org/feed.xml", {"etag": "W/\"1\""})
    assert any_store.get_source_state("de-nachrichten") == state
    any_store.put_source_state("de-nachrichten", {"etag": '"def"'})  # replaced, not merged
    assert any_store.get_source_state("de-nachrichten") == {"etag": '"def"'}
    assert any_store.get_source_state("https://example.org/feed.xml") == {"etag": "W/\"1\""}
    with pytest.raises(TypeError, match="must be a dict"):
        any_store.put_source_state("x", ["not", "a", "dict"])


# -- iterating and the review queue ------------------------------------------------------


def test_iter_articles_pages_through_everything_in_batches(any_store, monkeypatch):
    any_store.upsert_many([row(i, status="failed" if i % 3 == 0 else "pending", source=f"s{i % 2}")
                           for i in range(1234)])
    it = any_store.iter_articles(batch=100)
    assert inspect.isgenerator(it)
    sizes = []
    real = any_store._query

    def counting(text, params=()):
        rows = real(text, params)
        sizes.append(len(rows))
        return rows

    monkeypatch.setattr(any_store, "_query", counting)
    got = [a.id for a in it]
    assert got == [a.id for a in any_store.all()]  # every row once, in id order
    assert max(sizes[:-1]) == 100 and sizes[:13] == [100] * 12 + [34]  # never more than a batch
    monkeypatch.undo()
    assert [a.id for a in any_store.iter_articles(status="failed", source="s1", batch=7)] == [
        a.id for a in any_store.all(status="failed", source="s1")]
    assert list(any_store.iter_articles(status="translated")) == []
    with pytest.raises(ValueError):
        next(any_store.iter_articles(batch=0))


def test_iter_articles_sees_each_row_once_while_rows_are_written(any_store):
    any_store.upsert_many([row(i) for i in range(10)])
    seen = []
    for art in any_store.iter_articles(batch=3):
        seen.append(art.id)
        if art.id == "src:00004":  # rewrite rows behind and ahead of the cursor
            any_store.upsert_many([row(1, status="failed"), row(8, status="failed"), row(99)])
    assert seen == [f"src:{i:05d}" for i in [*range(10), 99]]


def test_review_queue_is_newest_first_and_pages(any_store):
    any_store.upsert_many([row(i, needs_review=i % 2 == 0) for i in range(10)])
    for i in range(10):  # distinct write times: row 0 oldest
        execute(any_store, "UPDATE articles SET updated_at = ? WHERE id = ?",
                (f"2025-03-01T09:00:{i:02d}+00:00", f"src:{i:05d}"))
    queue = any_store.review_queue()
    assert [a.id for a in queue] == [f"src:{i:05d}" for i in (8, 6, 4, 2, 0)]
    assert all(a.needs_review for a in queue)
    assert [a.id for a in any_store.review_queue(limit=2, offset=1)] == ["src:00006", "src:00004"]
    assert any_store.review_queue(offset=5) == []


def test_review_queue_uses_its_index(any_store):
    if isinstance(any_store, Store):
        plan = " ".join(str(tuple(r)) for r in any_store._conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM articles WHERE needs_review ORDER BY updated_at DESC, id "
            "LIMIT 50 OFFSET 0"))
        assert "articles_review" in plan
    else:
        any_store._conn.execute("SET enable_seqscan = off")
        plan = " ".join(r["QUERY PLAN"] for r in any_store._conn.execute(
            'EXPLAIN SELECT * FROM articles WHERE needs_review ORDER BY updated_at DESC, id COLLATE "C" '
            "LIMIT 50 OFFSET 0"))
        assert "articles_review" in plan
