import sqlite3
import threading

import pytest

from newsflow.store import Store, StoredArticle


def row(i: int, **kw) -> StoredArticle:
    base = dict(id=f"src:{i}", source="src", content_hash=f"h{i}", status="pending", reason="no model")
    return StoredArticle(**{**base, **kw})


def test_upsert_is_idempotent_and_updates(tmp_path):
    with Store(tmp_path / "db.sqlite") as store:
        store.upsert_many([row(1), row(2)])
        store.upsert_many([row(1), row(2)])
        assert store.counts() == {"pending": 2}
        store.upsert_many([row(1, status="translated", translation="Hello", reason=None,
                               name_findings=[{"entity": "lavrov", "status": "ok"}])])
        got = store.get("src:1")
        assert got.status == "translated"
        assert got.name_findings == [{"entity": "lavrov", "status": "ok"}]
        assert store.counts() == {"pending": 1, "translated": 1}


def test_first_run_is_kept(tmp_path):
    with Store(tmp_path / "db.sqlite") as store:
        store.upsert_many([row(1, first_run="run-a", last_run="run-a")])
        store.upsert_many([row(1, first_run="run-b", last_run="run-b")])
        got = store.get("src:1")
        assert (got.first_run, got.last_run) == ("run-a", "run-b")


def test_unknown_status_refused():
    with pytest.raises(ValueError):
        row(1, status="done")


def test_wal_and_concurrent_writers(tmp_path):
    path = tmp_path / "db.sqlite"
    stores = [Store(path), Store(path)]
    assert stores[0]._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def write(store, offset):
        for i in range(50):
            store.upsert_many([row(offset + i)])

    threads = [threading.Thread(target=write, args=(s, k * 1000)) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].counts() == {"pending": 100}
    for s in stores:
        s.close()


def test_get_many_chunks(tmp_path):
    with Store(tmp_path / "db.sqlite") as store:
        # the old SQLite default (999 parameters per statement): one IN (...) of 1300 ids fails
        store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        store.upsert_many([row(i) for i in range(1200)])
        got = store.get_many(f"src:{i}" for i in range(0, 1300))
        assert sorted(got) == sorted(f"src:{i}" for i in range(1200))
        assert all(got[k].id == k and got[k].content_hash == f"h{k[4:]}" for k in got)


def test_sentence_cache_round_trip():
    with Store(":memory:") as store:
        cache = store.sentence_cache()
        cache.put_many("de-en@1", {"Hallo Welt.": "Hello world.", "Berlin (dpa).": "Berlin (dpa)."})
        assert cache.get_many("de-en@1", ["Hallo Welt.", "Neu."]) == {"Hallo Welt.": "Hello world."}
        assert cache.get_many("de-en@2", ["Hallo Welt."]) == {}


def test_unopenable_database_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    from newsflow.errors import NewsflowError

    with pytest.raises(NewsflowError, match="cannot open the database"):
        Store(blocker / "db.sqlite")


def test_runs_recorded(tmp_path):
    with Store(tmp_path / "db.sqlite") as store:
        store.start_run("r1")
        store.finish_run("r1", "completed", {"articles_in": 3})
        (run,) = store.runs()
        assert run["state"] == "completed" and '"articles_in": 3' in run["summary"]
    assert sqlite3.connect(tmp_path / "db.sqlite").execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_claims_are_exclusive_until_released(tmp_path):
    path = tmp_path / "db.sqlite"
    with Store(path) as a, Store(path) as b:
        assert a.claim(["x", "y"], "run-a") == {"x", "y"}
        assert b.claim(["x", "y", "z"], "run-b") == {"z"}
        a.release("run-a")
        assert b.claim(["x", "y"], "run-b") == {"x", "y"}


def test_claims_of_a_dead_process_or_past_lease_are_taken_over(tmp_path):
    import subprocess

    path = tmp_path / "db.sqlite"
    dead = subprocess.Popen(["true"])
    dead.wait()
    with Store(path) as store:
        store._conn.execute(
            "INSERT INTO claims VALUES ('x', 'old-run', ?, ?, ?)",
            (__import__("socket").gethostname(), dead.pid, 9e12),
        )
        store._conn.execute("INSERT INTO claims VALUES ('y', 'other-host', 'elsewhere', 1, 0)")
        store._conn.execute("INSERT INTO claims VALUES ('z', 'live', 'elsewhere', 1, 9e12)")
        assert store.claim(["x", "y", "z"], "new-run") == {"x", "y"}
