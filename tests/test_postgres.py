"""The PostgreSQL store: the SQLite store's schema and behaviour, one-line
errors, atomic claims across processes, and two `newsflow run`s at once over
the same articles storing and translating each article exactly once.

Needs a PostgreSQL server: NEWSFLOW_TEST_POSTGRES_URL (.ci/run sets it), else
one started here from the installed binaries, else these tests skip (fail under CI)."""
# ruff: noqa: F811 - the fixtures are imported from tests/support/postgres.py

from __future__ import annotations

import inspect
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from newsflow.errors import NewsflowError
from newsflow.store import Store, StoredArticle
from tests.conftest import REPO, write_config
from tests.support.postgres import pg_database_url, postgres_url  # noqa: F401
from tests.support.services import require_import
from tests.support.stores import (  # noqa: F401
    any_store,
    full_row,
    insert_claim,
    postgres_layout,
    second_store,
    sqlite_layout,
)

psycopg = require_import("psycopg", "uv sync installs it with the dev group")


def row(i: int, **kw) -> StoredArticle:
    base = dict(id=f"src:{i}", source="src", content_hash=f"h{i}", status="pending", reason="no model")
    return StoredArticle(**{**base, **kw})


# -- the same behaviour on both backends ----------------------------------------------


def test_round_trip_is_identical(any_store):
    art = full_row()
    any_store.upsert_many([art])
    assert any_store.get(art.id) == art
    assert any_store.get_many([art.id, "missing"]) == {art.id: art}
    assert any_store.get("missing") is None and any_store.get_many([]) == {}


def test_upsert_is_idempotent_updates_and_keeps_first_run(any_store):
    any_store.upsert_many([row(1, first_run="a", last_run="a"), row(2)])
    any_store.upsert_many([row(1, first_run="b", last_run="b"), row(2)])
    assert any_store.counts() == {"pending": 2}
    any_store.upsert_many([row(1, status="translated", translation="Hello", reason=None,
                                first_run="c", last_run="c")])
    got = any_store.get("src:1")
    assert (got.status, got.translation, got.first_run, got.last_run) == ("translated", "Hello", "a", "c")
    assert any_store.counts() == {"pending": 1, "translated": 1}
    assert any_store.upsert_many([]) == 0


def test_all_filters_and_sorts_like_sqlite(any_store):
    ids = ["b:1", "B:2", "a-x:3", "a:4", "a_y:5", "ä:6"]
    any_store.upsert_many([row(0, id=i, source=i[0], status="failed" if n % 2 else "pending")
                           for n, i in enumerate(ids)])
    assert [a.id for a in any_store.all()] == sorted(ids)  # byte order, whatever the locale
    assert [a.id for a in any_store.all(status="failed")] == sorted(ids[1::2])
    assert [a.id for a in any_store.all(status="pending", source="a")] == ["a-x:3", "a_y:5"]
    assert any_store.get_many(f"x:{i}" for i in range(1000)) == {}


def test_status_is_checked_by_the_database(any_store):
    bad = row(1)
    object.__setattr__(bad, "status", "done")
    with pytest.raises(Exception):  # noqa: B017 - sqlite3 and psycopg raise their own
        any_store.upsert_many([bad])
    assert any_store.counts() == {}  # the transaction rolled back


def test_transaction_rolls_back_on_error(any_store):
    sql = "INSERT INTO claims VALUES (?, ?, ?, ?, ?)"
    if not isinstance(any_store, Store):
        sql = sql.replace("?", "%s")
    with pytest.raises(RuntimeError):
        with any_store.transaction() as conn:
            conn.execute(sql, ("x", "r", "h", 1, 9e12))
            raise RuntimeError("boom")
    assert any_store.claim(["x"], "r2") == {"x"}


def test_runs_are_recorded(any_store):
    any_store.start_run("r1")
    any_store.finish_run("r1", "completed", {"articles_in": 3, "note": "ü"})
    any_store.start_run("r2")
    first, second = any_store.runs()
    assert first["run_id"] == "r1" and first["state"] == "completed"
    assert json.loads(first["summary"]) == {"articles_in": 3, "note": "ü"}
    assert second["state"] == "running" and second["finished_at"] is None
    assert set(first) == {"run_id", "started_at", "finished_at", "state", "summary",
                          "host", "pid", "heartbeat_at", "lease_expires"}
    assert (second["host"], second["pid"]) == (socket.gethostname(), os.getpid())


def test_sentence_cache_round_trip(any_store):
    cache = any_store.sentence_cache()
    cache.put_many("de-en@1", {"Hallo Welt.": "Hello world.", "Berlin (dpa).": "Berlin (dpa)."})
    cache.put_many("de-en@1", {"Hallo Welt.": "Hello, world."})  # replaced, not duplicated
    assert cache.get_many("de-en@1", ["Hallo Welt.", "Neu."]) == {"Hallo Welt.": "Hello, world."}
    assert cache.get_many("de-en@2", ["Hallo Welt."]) == {}
    assert cache.get_many("de-en@1", []) == {}
    cache.put_many("de-en@1", {})


def test_claims_are_exclusive_until_released(any_store, tmp_path):
    with second_store(any_store, tmp_path) as other:
        assert any_store.claim(["x", "y", "x"], "run-a") == {"x", "y"}
        assert other.claim(["x", "y", "z"], "run-b") == {"z"}
        any_store.release("run-a")
        assert other.claim(["x", "y"], "run-b") == {"x", "y"}
        assert any_store.claim([], "run-c") == set()


def test_stale_claims_are_taken_over(any_store):
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    insert_claim(any_store, "x", "old-run", host, dead.pid, 9e12)  # dead process, this host
    insert_claim(any_store, "y", "other-host", "elsewhere", 1, 0)  # lease ran out
    insert_claim(any_store, "z", "live", "elsewhere", 1, 9e12)  # live elsewhere
    insert_claim(any_store, "w", "mine", host, os.getpid(), 9e12)  # live, this process
    assert any_store.claim(["x", "y", "z", "w"], "new-run") == {"x", "y"}


# -- PostgreSQL only ---------------------------------------------------------------------


def test_public_interface_mirrors_the_sqlite_store():
    """Both dialects are BaseStore with hooks: neither adds a public method, and only
    the documented dialect hooks (the transaction, the search queries) are their own,
    with BaseStore's parameters."""
    from newsflow.store import BaseStore
    from newsflow.store.postgres import PostgresStore

    hooks = {"transaction", "search_words", "search_chars"}

    def public(cls):
        return {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}

    assert public(PostgresStore) == public(Store) == public(BaseStore)
    for name in public(BaseStore):
        for cls in (PostgresStore, Store):
            if name in hooks:
                assert (inspect.signature(getattr(cls, name)).parameters.keys()
                        == inspect.signature(getattr(BaseStore, name)).parameters.keys()), (cls, name)
            else:
                assert getattr(cls, name) is getattr(BaseStore, name), (cls, name)


@pytest.mark.postgres
def test_schema_matches_sqlite(pg_database_url, tmp_path):
    """Both dialects' tables, columns (in order), primary keys and indexes are
    the ones newsflow/store/schema.py defines."""
    from newsflow.store.postgres import PostgresStore
    from newsflow.store.schema import ARTICLE_COLUMNS
    from tests.support.stores import expected_layout

    with Store(tmp_path / "db.sqlite") as lite, PostgresStore(pg_database_url) as pg:
        lite_layout, pg_layout = sqlite_layout(lite._conn), postgres_layout(pg._conn)
    expected = expected_layout()
    assert lite_layout == expected
    assert pg_layout == expected
    assert "claims_run" in expected["claims"][2]  # once only in PostgreSQL
    # the upsert writes every column of the table
    assert sorted(ARTICLE_COLUMNS) == sorted(expected["articles"][0])


@pytest.mark.postgres
def test_a_sqlite_store_copies_over_unchanged(pg_database_url, tmp_path):
    """The migration the docs give: PostgresStore.upsert_many(Store.all())."""
    from newsflow.store.postgres import PostgresStore

    rows = [full_row(), row(1), row(2, status="failed", reason="no article text found")]
    with Store(tmp_path / "db.sqlite") as old:
        old.upsert_many(rows)
        with PostgresStore(pg_database_url) as new:
            assert new.upsert_many(old.all()) == 3
            assert new.all() == old.all()
            assert new.counts() == old.counts()


@pytest.mark.postgres
def test_open_store_picks_postgres_from_database_url(pg_database_url, tmp_path):
    from newsflow.config import load_settings
    from newsflow.store import open_store
    from newsflow.store.postgres import PostgresStore

    cfg = write_config(tmp_path, None, extra=f"database_url: '{pg_database_url}'\n")
    with open_store(load_settings(cfg)) as store:
        assert isinstance(store, PostgresStore)
    assert not (tmp_path / "data" / "newsflow.db").exists()


@pytest.mark.postgres
def test_many_stores_open_at_once_on_a_fresh_database(pg_database_url):
    """Workers start together: concurrent schema set-up must not collide."""
    from newsflow.store.postgres import PostgresStore

    errors = []

    def open_one():
        try:
            with PostgresStore(pg_database_url) as store:
                store.upsert_many([row(threading.get_ident() % 1000)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.postgres
def test_claims_from_many_processes_never_overlap(pg_database_url):
    from tests.support.pg_claims import claim_in_process

    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    ids = [f"src:{i}" for i in range(200)]
    orders = [ids, ids[::-1], ids[100:] + ids[:100], sorted(ids, key=hash)]
    procs = [ctx.Process(target=claim_in_process, args=(pg_database_url, f"run-{n}", order, start, out))
             for n, order in enumerate(orders)]
    for p in procs:
        p.start()
    start.set()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    claimed = [i for owned in results.values() for i in owned]
    assert sorted(claimed) == sorted(ids)  # every article once: none lost, none twice


@pytest.mark.postgres
def test_concurrent_cache_writers_do_not_deadlock(pg_database_url):
    from newsflow.store.postgres import PostgresStore

    sentences = {f"Satz {i}.": f"Sentence {i}." for i in range(300)}
    items = list(sentences.items())
    errors = []

    def write(order):
        try:
            with PostgresStore(pg_database_url) as store:
                cache = store.sentence_cache()
                for _ in range(5):
                    cache.put_many("de-en@1", dict(order))
                store.upsert_many([row(i) for i in range(50)][:: 1 if order is items else -1])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(o,)) for o in (items, items[::-1], items, items[::-1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with PostgresStore(pg_database_url) as store:
        assert store.sentence_cache().get_many("de-en@1", list(sentences)) == sentences
        assert store._conn.execute("SELECT COUNT(*) AS n FROM sentence_cache").fetchone()["n"] == 300


# -- one clear line when the database cannot be used ------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("mysql://u:s3cret@127.0.0.1/db", "not a PostgreSQL URL"),
    ("postgresql://u:s3cret@127.0.0.1:notaport/db", "cannot connect"),
    ("postgresql://u:s3cret@127.0.0.1:5432/db?nosuchoption=1", "invalid URL"),
    ("s3cret", "not a PostgreSQL URL"),
])
def test_bad_url_is_one_line_without_the_password(url, expected):
    from newsflow.store.postgres import PostgresStore

    with pytest.raises(NewsflowError) as info:
        PostgresStore(url)
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert "s3cret" not in message


def test_unreachable_server_is_one_line_without_the_password():
    from newsflow.store.postgres import PostgresStore
    from tests.support.postgres import free_port

    url = f"postgresql://newsflow:s3cret@127.0.0.1:{free_port()}/news?connect_timeout=3"
    with pytest.raises(NewsflowError) as info:
        PostgresStore(url)
    message = str(info.value)
    assert "cannot connect" in message and "Connection refused" in message
    assert "s3cret" not in message and "\n" not in message
    assert "postgresql://newsflow:***@127.0.0.1" in message


@pytest.mark.postgres
def test_a_missing_database_is_one_line(postgres_url):
    from newsflow.store.postgres import PostgresStore
    from tests.support.postgres import with_database

    with pytest.raises(NewsflowError, match='database "no_such_db" does not exist') as info:
        PostgresStore(with_database(postgres_url, "no_such_db"))
    assert "\n" not in str(info.value)


def test_redact_url():
    from newsflow.store.postgres import redact_url

    assert redact_url("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://h/db?user=u&password=pw") == "postgresql://h/db?user=u&password=***"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


@pytest.mark.integration
def test_a_run_stops_on_an_unreachable_database_in_one_line(prefect_harness, tmp_path,
                                                            installed_models_dir):
    """The flow fails with the store's NewsflowError, which `newsflow run` prints
    as its one `error:` line."""
    from flows.translate_news import RunParameters, translate_news
    from tests.reliability.faults import fast_retries
    from tests.support.postgres import free_port

    url = f"postgresql://newsflow:s3cret@127.0.0.1:{free_port()}/news?connect_timeout=2"
    cfg = write_config(tmp_path, installed_models_dir, extra=f"database_url: '{url}'\n")
    with fast_retries("start_run"):  # it retries (twice, 2 s apart) before it fails
        state = translate_news(RunParameters(config_path=str(cfg)), return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, NewsflowError), repr(error)
    message = str(error)
    assert message.startswith("database_url 'postgresql://newsflow:***@127.0.0.1:")
    assert "cannot connect" in message and "s3cret" not in message and "\n" not in message


# -- two runs at once over the same articles -----------------------------------------------


def newsflow(cwd: Path, cfg: Path, *args: str, env: dict, timeout: float = 300, wait: bool = True):
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "support" / "offline"), str(REPO)]),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        **env,
    }
    cmd = [sys.executable, "-m", "newsflow.cli", "--config", str(cfg), *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def latest_report(home: Path) -> dict:
    reports = [p for p in (home / "output" / "reports").glob("*.json")]
    return json.loads(max(reports, key=lambda p: p.stat().st_mtime).read_text())


def db_snapshot(url: str) -> tuple[dict, set, list]:
    with psycopg.connect(url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        articles = {r["id"]: r for r in cur.execute("SELECT * FROM articles")}
        cache = set(conn.execute("SELECT model_key, source_hash, translation FROM sentence_cache"))
        claims = conn.execute("SELECT * FROM claims").fetchall()
        runs = conn.execute("SELECT run_id, state FROM runs").fetchall()
    return articles, cache, claims, runs


OUTCOME = ("status", "reason", "lang", "title_en", "translation", "raw_translation", "model_version",
           "name_findings", "content_hash")


GATE_SECONDS = 90


class StartGate:
    """A loopback HTTP server for one feed that holds each request until
    `parties` requests have arrived (at most 90 s, below the source's fetch timeout
    in sample_sources): runs that fetch it leave the fetch stage together, so their
    plan and claim steps really run at the same time. (At 15 s, a run that started
    slowly on a loaded machine could come after the other had left: a round without
    overlap, and another round of two runs.)"""

    def __init__(self, feed: Path):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        gate = self
        self.barrier = threading.Barrier(1)
        body = feed.read_bytes()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                try:
                    gate.barrier.wait(timeout=GATE_SECONDS)
                except threading.BrokenBarrierError:
                    pass
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{feed.name}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def expect(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sample_sources(feed_url: str) -> str:
    """The samples (as write_config has them), the English feed served over loopback."""
    samples = REPO / "samples"
    pages = "\n".join(f"      - {p}" for p in sorted((samples / "html").glob("*.html")))
    return f"""
  - {{name: de-nachrichten, kind: feed, lang: de, url: {samples}/feeds/de-nachrichten.xml}}
  - {{name: zh-xinwen, kind: feed, lang: zh, url: {samples}/feeds/zh-xinwen.xml}}
  - {{name: en-news, kind: feed, lang: en, url: '{feed_url}', timeout_seconds: {GATE_SECONDS + 30}}}
  - name: pages
    kind: pages
    pages:
{pages}
  - {{name: inbox, kind: folder, path: {samples}/inbox}}
"""


@pytest.mark.integration
@pytest.mark.postgres
def test_two_runs_at_once_store_and_translate_each_article_once(
        postgres_url, prefect_harness, installed_models_dir, tmp_path):
    """Two `newsflow run` processes on configs that share one database_url,
    released together by a start gate (rounds on a fresh database each, until one
    round shows the runs overlapping, at most 3): every article is stored once,
    written by exactly one run and translated once (attempts == 1), the claims are
    given back, and the stored result equals what a single run stores.

    Why usually one round: the gate holds both runs' fetch until both have arrived,
    so they leave intake together and claim at the same time; a round where the
    other run's claims show ("left to another run") has exercised the race, and
    each round costs two CLI processes (~10 CPU-seconds). More rounds would only
    sample more interleavings of the claim transactions, which
    test_claims_from_many_processes_never_overlap does far more cheaply. A round
    without overlap (the claim transactions can still fall so that neither run sees
    the other's) is checked all the same, and another round follows."""
    from prefect.settings import PREFECT_API_URL

    from flows.translate_news import RunParameters, translate_news
    from tests.support.postgres import fresh_database

    # The processes report to the session's test API: ~1 s per run instead of
    # ~10 s for a temporary API of their own.
    env = {"PREFECT_API_URL": PREFECT_API_URL.value()}
    gate = StartGate(REPO / "samples" / "feeds" / "en-news.xml")

    def homes(round_dir: Path, url: str, count: int) -> list[Path]:
        out = []
        for n in range(count):
            home = round_dir / f"worker{n}"
            home.mkdir(parents=True)
            write_config(home, installed_models_dir, sources=sample_sources(gate.url),
                         extra=f"database_url: '{url}'\n")
            out.append(home)
        return out

    try:
        with fresh_database(postgres_url) as url:  # the reference: one run alone
            (home,) = homes(tmp_path / "single", url, 1)
            gate.expect(1)
            state = translate_news(RunParameters(config_path=str(home / "config.yaml")), return_state=True)
            assert state.is_completed(), state.message
            expected_articles, expected_cache, _, _ = db_snapshot(url)
        assert len(expected_articles) >= 50

        overlapped = 0
        for round_no in range(3):
            if overlapped:
                break
            with fresh_database(postgres_url) as url:
                workers = homes(tmp_path / f"round{round_no}", url, 2)
                gate.expect(2)
                procs = [newsflow(h, h / "config.yaml", "run", "--no-install-models", env=env, wait=False)
                         for h in workers]
                outs = [p.communicate(timeout=300) for p in procs]
                for p, (_, err) in zip(procs, outs, strict=True):
                    assert p.returncode == 0, err[-3000:]
                articles, cache, claims, runs = db_snapshot(url)
            reports = [latest_report(h) for h in workers]

            assert articles.keys() == expected_articles.keys()  # nothing lost, nothing extra
            assert all(a["attempts"] == 1 for a in articles.values()), "an article was written twice"
            # each article was written by exactly one of the two runs
            assert sum(r["written"] for r in reports) == len(articles)
            by_run = {r["run_id"]: r["written"] for r in reports}
            for a in articles.values():
                assert a["first_run"] == a["last_run"] and a["first_run"] in by_run
            assert by_run == {rid: sum(1 for a in articles.values() if a["first_run"] == rid)
                              for rid in by_run}
            # the same outcome as one run alone; each sentence translated and cached once
            for article_id, a in articles.items():
                assert {k: a[k] for k in OUTCOME} == {k: expected_articles[article_id][k] for k in OUTCOME}
            assert cache == expected_cache
            assert claims == []  # both runs gave their claims back
            assert sorted(state for _, state in runs) == ["completed", "completed"]
            overlapped += any("left to another run" in w for r in reports for w in r["warnings"])
        # the gate makes the runs meet at the claim step; normally in the first round
        assert overlapped >= 1, "the two runs never ran at the same time (3 rounds)"
    finally:
        gate.close()
