"""The sentence cache over a deployment's lifetime: each entry keeps the day it was written,
entries older than `translation.sentence_cache_days` are pruned once a day at the end of a
run, entries from before the day was kept are not pruned at once, and reads never write."""
# ruff: noqa: F811 - the fixtures are imported from tests/support

from __future__ import annotations

import pytest

from newsflow.store import Store
from newsflow.store.base import SentenceCache
from tests.reliability import harness
from tests.support.postgres import pg_database_url, postgres_url  # noqa: F401
from tests.support.stores import any_store  # noqa: F401


class Days:
    """A settable "today" for the cache (ISO dates, as the cache keeps them)."""

    def __init__(self, today: str) -> None:
        self.today = today

    def __call__(self) -> str:
        return self.today


def execute(store, text: str, params=()) -> list:
    with store.transaction() as conn:
        cur = conn.execute(text if isinstance(store, Store) else text.replace("?", "%s"), params)
        return cur.fetchall() if cur.description else []


def written_on(store) -> dict[str, str | None]:
    return {r["translation"]: r["written_on"]
            for r in execute(store, "SELECT translation, written_on FROM sentence_cache")}


def test_an_entry_keeps_the_day_it_was_written_and_reads_write_nothing(any_store):
    day = Days("2026-01-01")
    cache = SentenceCache(any_store, today=day)
    cache.put_many("de-en@1", {"Hallo.": "Hello.", "Tschüss.": "Bye."})
    assert written_on(any_store) == {"Hello.": "2026-01-01", "Bye.": "2026-01-01"}
    day.today = "2026-03-01"
    assert cache.get_many("de-en@1", ["Hallo.", "Neu."]) == {"Hallo.": "Hello."}
    assert written_on(any_store) == {"Hello.": "2026-01-01", "Bye.": "2026-01-01"}  # a hit writes nothing
    cache.put_many("de-en@1", {"Hallo.": "Hello!"})  # written again: the new day
    assert written_on(any_store) == {"Hello!": "2026-03-01", "Bye.": "2026-01-01"}


def test_prune_removes_entries_older_than_the_days_and_keeps_the_rest(any_store):
    day = Days("2026-01-01")
    cache = SentenceCache(any_store, today=day)
    cache.put_many("de-en@1", {"Alt.": "Old."})
    day.today = "2026-05-01"
    cache.put_many("zh-en@1", {"新": "New."})
    day.today = "2026-07-01"  # 181 days after the first write, 61 after the second
    assert cache.prune(180) == 1
    assert sorted(written_on(any_store)) == ["New."]
    assert cache.get_many("de-en@1", ["Alt."]) == {}  # met again: translated again


def test_prune_runs_once_a_day_and_spares_entries_from_before_the_day_was_kept(any_store):
    day = Days("2026-01-01")
    cache = SentenceCache(any_store, today=day)
    # an entry written before schema v3 (no day): counted as written on the day of the first prune
    execute(any_store, "INSERT INTO sentence_cache (model_key, source_hash, translation) VALUES (?, ?, ?)",
            ("de-en@1", "a" * 64, "Before."))
    assert cache.prune(30) == 0
    assert written_on(any_store) == {"Before.": "2026-01-01"}
    execute(any_store, "UPDATE sentence_cache SET written_on = '2020-01-01'")
    assert cache.prune(30) == 0  # already pruned today
    day.today = "2026-01-02"
    assert cache.prune(30) == 1 and written_on(any_store) == {}


@pytest.mark.parametrize(("days", "kept"), [(None, True), (180, False)])
def test_a_run_prunes_the_cache_as_configured(tmp_path, installed_models_dir, days, kept):
    from tests.support.run_core import run_core

    harness.generate_german_inbox(tmp_path / "inbox", 3, sentences=2)
    cfg = harness.write_inbox_config(tmp_path, installed_models_dir, tmp_path / "inbox")
    cfg.write_text(cfg.read_text() + f"translation: {{sentence_cache_days: {'null' if days is None else days}}}\n")
    with Store(tmp_path / "data" / "newsflow.db") as store:
        execute(store, "INSERT INTO sentence_cache VALUES (?, ?, ?, ?)", ("de-en@0", "b" * 64, "Stale.", "2020-01-01"))
    run_core(cfg)
    with Store(tmp_path / "data" / "newsflow.db") as store:
        translations = written_on(store)
    assert ("Stale." in translations) is kept
    assert len(translations) > 1  # the run's own sentences were cached
