"""Stories: the samples' Lavrov-Wang Yi reports in four scripts form one story, unrelated
samples stay out, same protagonists a week apart stay apart, B-cubed F1 on English clusters,
incremental = one big run, idempotent re-runs, moved articles, the CLI contract; on SQLite
and PostgreSQL."""
# ruff: noqa: F811 - the fixtures are imported from tests/support/postgres.py

from __future__ import annotations

import dataclasses
import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsflow import stories, story_text
from newsflow.article import stable_id
from newsflow.store import Store
from newsflow.story_cluster import Clusterer
from newsflow.story_text import build_evidence, capitalised_names, parse_time
from tests.conftest import REPO, write_config
from tests.support.postgres import pg_database_url, postgres_url  # noqa: F401
from tests.support.stories import bcubed, english_rows, merged_events, sample_rows, settings

# The samples' reports of the Lavrov-Wang Yi talks in Tunxi (ids as newsflow reads them).
TUNXI = {
    "de-nachrichten:5db395cf31909a13",  # de feed: Lawrow und Wang Yi beraten in Tunxi
    "de-nachrichten:2274d45a16b1caa7",  # de feed: EILMELDUNG: LAWROW NENNT GESPRÄCHE ...
    # page ids hash the configured path, which is the clone's absolute path in these tests
    stable_id("pages", str(REPO / "samples/html/de-lawrow-tunxi.html")),  # de page: Lawrow wirbt in Tunxi
    "zh-xinwen:c3a80a8216e4fd6b",  # zh: 王毅同俄罗斯外长拉夫罗夫在安徽屯溪举行会谈
    stable_id("pages", str(REPO / "samples/html/zh-wangyi-lafuluofu.html")),  # zh page: 中俄外长屯溪会谈
    "zh-xinwen:3c1276ff2ecceee2",  # zt: 王毅與拉夫羅夫屯溪會談
    "en-news:f0569ddab5942f99",  # en feed: Lavrov, Wang Yi hold talks in ... Tunxi
    stable_id("pages", str(REPO / "samples/html/en-lavrov-wang-tunxi.html")),  # en page: Why Lavrov and Wang Yi met in Tunxi
}
# Samples about other events (other places, other people).
UNRELATED = {
    "de-nachrichten:a190e2323f7fa037", "zh-xinwen:efb1f3876ecccb6f", "zh-xinwen:681a1509ed4ecf58",
    "en-news:13ffcaaa1f4ee9ff",  # Zelensky in Berlin (de, zh, zt, en)
    "de-nachrichten:4490069209c8379c", "en-news:9f5c863c94727bb3",  # drones on Kyiv
    "de-nachrichten:f603800bb80d8323", "en-news:355edc6e947441a3",  # Li Qiang in Shanghai
    "de-nachrichten:2bc25b3c3d62db8f", "en-news:49bbb02fbfffad7f",  # von der Leyen on tariffs
    "en-news:5d8022829668adc9",  # NATO ministers in Brussels
    "en-news:9d272002681a6544",  # UN Security Council veto
    "en-news:83db75d841e721db",  # Blinken in Berlin
}
# Events of the evaluation sets that share protagonists (a week apart, or days apart
# at another place): never one story.
SAME_PROTAGONISTS = [
    ("lavrov-wang-tunxi", "lavrov-wang-un"), ("lavrov-wang-tunxi", "lavrov-wang-iran-call"),
    ("lavrov-wang-tunxi", "xi-lavrov-beijing"), ("lavrov-wang-un", "lavrov-wang-iran-call"),
    ("xi-lavrov-beijing", "putin-beijing-visit"), ("zelensky-berlin", "zelensky-strasbourg"),
    ("lavrov-fidan-ankara", "lavrov-fidan-antalya"), ("merz-macron-paris", "eu-summit-defence"),
    ("zelensky-warsaw", "odesa-strike"), ("macron-xi-beijing", "lula-xi-beijing"),
    ("macron-xi-beijing", "eu-summit-china-tariffs"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        with Store(tmp_path / "db.sqlite") as s:
            yield s
    else:
        from newsflow.store.postgres import PostgresStore

        with PostgresStore(request.getfixturevalue("pg_database_url")) as s:
            yield s


def story_of(store) -> dict[str, str]:
    """article id -> story id, from the stored stories (each article exactly once)."""
    out: dict[str, str] = {}
    for s in stories.list_stories(store, limit=10_000):
        assert s["article_count"] == len(s["articles"])
        for a in s["articles"]:
            assert a["id"] not in out, f"{a['id']} is in two stories"
            out[a["id"]] = s["id"]
    return out


def pure_clusters(rows, window_hours=72) -> dict[str, str]:
    forms = stories.glossary_forms(settings())
    evidence = build_evidence(rows, {r.id: parse_time(r.published) for r in rows}, forms)
    return Clusterer([], timedelta(hours=window_hours)).place_all(evidence)


# -- the samples -----------------------------------------------------------------------


def test_samples_lavrov_wang_yi_reports_in_four_scripts_are_one_story(store):
    rows = sample_rows()
    assert TUNXI | UNRELATED <= {r.id for r in rows}
    store.upsert_many(rows)
    touched = stories.assign(store, rows, settings())
    placed = story_of(store)
    assert set(placed) == {r.id for r in rows}  # every article in exactly one story
    tunxi = {placed[i] for i in TUNXI}
    assert len(tunxi) == 1, "the Tunxi reports are split"
    (sid,) = tunxi
    assert not [i for i in UNRELATED if placed[i] == sid], "an unrelated sample joined the Tunxi story"
    story = stories.get_story(store, sid)
    assert {"de", "zh", "zt", "en"} <= set(story["languages"])
    assert {"lavrov", "wang_yi", "tunxi"} <= set(story["entities"])
    assert "Tunxi" in story["title"]
    # Zelensky's Berlin visit: its own story, in four scripts too
    berlin = {placed[i] for i in ("de-nachrichten:a190e2323f7fa037", "zh-xinwen:efb1f3876ecccb6f",
                                  "zh-xinwen:681a1509ed4ecf58", "en-news:13ffcaaa1f4ee9ff")}
    assert len(berlin) == 1 and berlin != tunxi
    assert sid in {t["id"] for t in touched}
    assert all(set(t) == {"id", "title", "languages", "article_count"} for t in touched)


# -- evaluation on English clusters ----------------------------------------------------


@pytest.mark.parametrize("name", ["dev", "heldout", "long"])
def test_bcubed_f1_on_english_clusters(name):
    rows, gold = english_rows(name)
    pred = pure_clusters(rows)
    p, r, f1 = bcubed(pred, gold)
    assert f1 >= 0.9, f"B-cubed P={p:.3f} R={r:.3f} F1={f1:.3f}"
    merged = merged_events(pred, gold)
    for a, b in SAME_PROTAGONISTS:
        assert not any(a in m and b in m for m in merged), f"{a} and {b} merged"


def test_same_ministers_by_phone_two_days_after_their_meeting_is_another_story():
    """The first report of the call recaps the meeting (same ministers, same capital); its
    headline names North Korea, which the meeting's story never did."""
    rows, gold = english_rows("heldout")
    pred = pure_clusters(rows)
    merged = merged_events(pred, gold)
    assert not any({"blinken-wang-beijing", "blinken-wang-call-nk"} <= set(m) for m in merged)


def test_bcubed_is_computed_right():
    gold = {"a": 1, "b": 1, "c": 2}
    assert bcubed({"a": "x", "b": "x", "c": "y"}, gold) == (1.0, 1.0, 1.0)
    p, r, f = bcubed({"a": "x", "b": "x", "c": "x"}, gold)
    assert (round(p, 3), r) == (round((2 / 3 * 2 + 1 / 3) / 3, 3), 1.0)


def test_same_event_a_week_later_is_another_story_and_the_window_is_configurable(store):
    rows, _ = english_rows("dev")
    tunxi = [r for r in rows if r.id == "wire-a-001"][0]
    later = dataclasses.replace(tunxi, id="wire-a-001-later", content_hash="later",
                                published="2026-03-19T11:40:00+00:00")
    store.upsert_many([tunxi, later])
    stories.assign(store, [tunxi, later], settings())
    placed = story_of(store)
    assert placed[tunxi.id] != placed[later.id]  # identical text, a week apart
    wide = [r for r in rows if r.id == "daily-b-002"][0]
    assert pure_clusters([tunxi, later], window_hours=24 * 8)[later.id] == \
        pure_clusters([tunxi, later], window_hours=24 * 8)[tunxi.id]
    assert stories.window_of(settings(200)) == timedelta(hours=200)
    assert wide.published  # the dev set is dated


# -- incremental, deterministic, idempotent --------------------------------------------


def test_incremental_assignment_equals_one_big_run(tmp_path):
    rows, _ = english_rows("dev")
    rows += english_rows("heldout")[0]
    rows.sort(key=lambda r: (r.published, r.id))
    with Store(tmp_path / "big.sqlite") as big, Store(tmp_path / "inc.sqlite") as inc:
        big.upsert_many(rows)
        inc.upsert_many(rows)
        shuffled = rows[:]
        random.Random(7).shuffle(shuffled)
        stories.assign(big, shuffled, settings())  # one call: order inside it does not matter
        for i in range(0, len(rows), 5):  # runs that each bring the next few articles
            stories.assign(inc, rows[i : i + 5], settings())
        a, b = story_of(big), story_of(inc)
    assert a == b
    assert len(set(a.values())) > 10


def test_rerun_is_idempotent_and_a_changed_article_moves(store):
    rows, gold = english_rows("dev")
    store.upsert_many(rows)
    stories.assign(store, rows, settings())
    before = stories.list_stories(store, limit=1000)
    assert stories.assign(store, rows, settings()) == []  # nothing changed: nothing touched
    assert stories.list_stories(store, limit=1000) == before
    # a writer that stored a row without its story_id: the same story, the column repaired
    store.upsert_many([rows[0]])
    assert store.get(rows[0].id).story_id is None
    assert stories.assign(store, [rows[0]], settings()) == []
    assert store.get(rows[0].id).story_id == story_of(store)[rows[0].id]
    # one Tunxi report is rewritten into a Sichuan earthquake report: it moves
    placed = story_of(store)
    quake = [r for r in rows if r.id == "daily-b-024"][0]
    moved = dataclasses.replace([r for r in rows if r.id == "daily-b-002"][0], content_hash="new",
                                title="Luding quake: rescuers search for survivors",
                                title_en="Luding quake: rescuers search for survivors",
                                translation=quake.translation, name_findings=quake.name_findings,
                                published="2026-03-15T12:00:00+00:00")
    old_story = placed[moved.id]
    store.upsert_many([moved])
    touched = stories.assign(store, [moved], settings())
    after = story_of(store)
    assert after[moved.id] == placed[quake.id] and after[moved.id] != old_story
    assert [t["id"] for t in touched] == [after[moved.id]]
    old = stories.get_story(store, old_story)
    assert old["article_count"] == 3 and moved.id not in {a["id"] for a in old["articles"]}
    assert store.get(moved.id).story_id == after[moved.id]
    # an article that is no longer translated leaves its story; a story left empty goes
    single = [r for r in rows if r.id == "tech-f-042"][0]
    gone = dataclasses.replace(single, status="pending", reason="no model")
    store.upsert_many([gone])
    stories.assign(store, [gone], settings())
    assert stories.get_story(store, placed[single.id]) is None
    assert single.id not in story_of(store)


def test_undated_articles_use_the_time_they_were_first_placed(tmp_path):
    rows, _ = english_rows("dev")
    a, b = (dataclasses.replace(r, published=None) for r in rows[:2])
    now = datetime(2026, 5, 1, tzinfo=UTC)
    with Store(tmp_path / "db.sqlite") as store:
        store.upsert_many([a, b])
        stories.assign(store, [a], settings(), now=now)
        stories.assign(store, [a, b], settings(), now=now + timedelta(days=30))
        s = stories.get_story(store, story_of(store)[a.id])
        assert s["first_seen"].startswith("2026-05-01")  # kept, not moved to the second run
        assert story_of(store)[b.id] != story_of(store)[a.id]  # a month apart


# -- read functions and CLI ------------------------------------------------------------


def test_list_stories_filters_newest_first(store):
    rows = sample_rows()
    store.upsert_many(rows)
    stories.assign(store, rows, settings())
    found = stories.list_stories(store, limit=1000)
    assert [s["last_seen"] for s in found] == sorted((s["last_seen"] for s in found), reverse=True)
    keys = {"id", "title", "languages", "sources", "entities", "first_seen", "last_seen",
            "article_count", "articles"}
    assert all(keys <= set(s) for s in found)
    assert all({"id", "url", "title", "lang", "source", "published"} <= set(a)
               for s in found for a in s["articles"])
    lavrov = stories.list_stories(store, entity="lavrov")
    assert lavrov and all("lavrov" in s["entities"] for s in lavrov)
    assert [s["id"] for s in stories.list_stories(store, entity="Wang Yi")] == \
        [s["id"] for s in stories.list_stories(store, entity="wang_yi")] != []
    assert stories.list_stories(store, entity="lavro") == []  # whole names, not parts
    assert stories.list_stories(store, entity="lavrov_%") == []
    assert all("zt" in s["languages"] for s in stories.list_stories(store, lang="zt"))
    assert stories.list_stories(store, since="2026-03-12T00:00:00+00:00")
    assert stories.list_stories(store, since="2099-01-01") == []
    page = stories.list_stories(store, limit=2, offset=1)
    assert [s["id"] for s in page] == [s["id"] for s in found[1:3]]
    assert stories.get_story(store, "st-nope") is None


def test_parse_since():
    now = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)
    assert stories.parse_since("24h", now) == "2026-03-12T12:00:00+00:00"
    assert stories.parse_since("7d", now) == "2026-03-06T12:00:00+00:00"
    assert stories.parse_since("2026-03-12", now) == "2026-03-12T00:00:00+00:00"
    from newsflow.errors import NewsflowError

    with pytest.raises(NewsflowError, match="--since 'yesterday'"):
        stories.parse_since("yesterday", now)


def test_parse_time_reads_iso_and_rfc2822():
    want = datetime(2026, 3, 12, 10, 40, tzinfo=UTC)
    for text in ("2026-03-12T11:40:00+01:00", "2026-03-12T10:40:00Z", "2026-03-12 10:40",
                 "Thu, 12 Mar 2026 11:40:00 +0100", "Thu, 12 Mar 2026 10:40:00 GMT"):
        assert parse_time(text) == want, text
    assert parse_time("2026-03-12") == datetime(2026, 3, 12, tzinfo=UTC)
    assert parse_time("last Thursday") is None and parse_time(None) is None and parse_time(" ") is None


def test_capitalised_names_skip_sentence_starts_and_map_glossary_forms():
    forms = {"sergei lavrov": "lavrov", "lavrov": "lavrov", "new york": "new_york"}
    names = capitalised_names("Rescuers Reach Villages", "Rescuers reached Luding on Sunday. "
                              "Sergei Lavrov flew to New York. Officials in Luding said so.", forms)
    assert "@lavrov" in names and "@new_york" in names and "luding" in names
    assert "rescuers" not in names and "officials" not in names and "sunday" not in names
    assert "villages" not in names


def test_cli_stories_json_contract_and_catch_up(tmp_path):
    """`newsflow stories --json`: every stored translated/passed-through article in exactly
    one story, even those stored without assignment (the command assigns them first).
    The CLI runs in this process (typer's runner: the same command code, exit status, stdout
    and stderr; a subprocess would add only ~2 s of imports per call)."""
    from typer.testing import CliRunner

    from newsflow.cli import app

    cfg = write_config(tmp_path, None)
    rows = sample_rows()
    pending = dataclasses.replace(rows[0], id="x:pending", status="pending", reason="no model")
    with Store(tmp_path / "data" / "newsflow.db") as store:
        store.upsert_many([*rows, pending])

    def newsflow(*args):
        return CliRunner().invoke(app, ["--config", str(cfg), "stories", *args])

    proc = newsflow("--json")
    assert proc.exit_code == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"stories"}
    ids = [a["id"] for s in data["stories"] for a in s["articles"]]
    assert sorted(ids) == sorted(r.id for r in rows)  # exactly once each; pending left out
    for s in data["stories"]:
        assert {"id", "title", "languages", "entities", "articles"} <= set(s)
        for a in s["articles"]:
            assert {"id", "url", "title", "lang", "source", "published"} <= set(a)
    lavrov = newsflow("--entity", "lavrov", "--since", "2026-03-12", "--json")
    found = json.loads(lavrov.stdout)["stories"]
    assert found and all("lavrov" in s["entities"] for s in found)
    human = newsflow()
    assert "Tunxi" in human.stdout
    bad = newsflow("--since", "soon")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --since 'soon'")


def test_a_run_assigns_stories_and_reports_them(tmp_path):
    """The run core's hook (newsflow/run.py) calls assign after the names step: the English
    samples (no models here: German and Chinese stay pending) are in stories, the report lists
    the stories the run touched, and a second run over the same input touches none."""
    from newsflow import run
    from newsflow.config import load_settings
    from newsflow.store import open_store

    cfg = write_config(tmp_path, None)

    def run_once(run_id):
        ctx = run.make_context(load_settings(cfg), run_id)
        with open_store(ctx.settings) as store:
            run.start(ctx, store)
            installed = run.installed_packages(ctx.settings)
            intakes = [run.intake(ctx, s, store, installed) for s in ctx.settings.sources]
            results = [run.process_chunk(ctx, paths, store)
                       for paths in run.chunks(intakes, ctx.chunk_articles)]
            report, _ = run.finish(ctx, store, intakes, results, started_at=run.now_iso(),
                                   source_errors=[], stage_seconds={})
            return report, story_of(store), store.all()

    report, placed, rows = run_once("run-1")
    english = {r.id for r in rows if r.status == "passed-through"}
    assert english and set(placed) == english
    assert report.stories_touched and all(
        {"id", "title", "languages", "article_count"} <= set(s) for s in report.stories_touched)
    assert {s["id"] for s in report.stories_touched} == set(placed.values())
    assert all(r.story_id == placed[r.id] for r in rows if r.id in english)
    again, placed2, _ = run_once("run-2")
    assert again.stories_touched == [] and placed2 == placed


def test_stories_out_of_reach_drop_their_vectors_but_stay_listed(store):
    rows, _ = english_rows("dev")
    first = rows[:3]
    late = dataclasses.replace(rows[3], id="late", content_hash="late",
                               published="2026-06-01T00:00:00+00:00")
    store.upsert_many([*first, late])
    stories.assign(store, first, settings())
    before = stories.list_stories(store, limit=100)
    assert all(r["keys"] != "[]" for r in store._query("SELECT keys FROM stories"))
    stories.assign(store, [late], settings())  # the newest story is now 2+ months later
    rows_after = {r["id"]: r for r in store._query("SELECT id, keys, words FROM stories")}
    old = [s["id"] for s in before]
    assert all(rows_after[i]["keys"] == "[]" and rows_after[i]["words"] == "{}" for i in old)
    marks = ",".join("?" * len(old))
    assert store._query(f"SELECT story_id FROM story_keys WHERE story_id IN ({marks})", old) == []
    listed = {s["id"]: s for s in stories.list_stories(store, limit=100)}
    assert all(listed[s["id"]]["articles"] == s["articles"] for s in before)
    assert stories.prune_after(timedelta(hours=72)) == timedelta(days=30)


# The sentence-start rule looks at a short window before each name (a search over the whole
# prefix made a 5 MB article quadratic); it must agree with the plain regex over the prefix.
_OLD_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”'‘’()\[\]–—-]\s*|\n)\s*$")


@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\t:;\"'()-—")), max_size=80),
       st.sampled_from(["", " ", "  ", "\n", " \n "]))
def test_sentence_start_window_agrees_with_the_prefix_regex(prefix, gap):
    from newsflow.story_text import _starts_sentence

    text = prefix + gap + "Name"
    pos = len(prefix + gap)
    assert _starts_sentence(text, pos) == bool(_OLD_SENTENCE_START.search(text[:pos]))


# --- content words and capitalised names: cached per token / run, the same lists ---------


def _old_content_words(text):
    """content_words before the per-token cache."""
    from wordfreq import tokenize

    out = []
    for w in tokenize(text, "en"):
        w = story_text.stem(w.strip("'’-."))
        if w[:1].isdigit():
            if len(w) >= 2:
                out.append(w)
        elif (len(w) >= 3 and w not in story_text.NEWS_STOP
              and story_text.rarity(w) > story_text.RARITY_CEILING - story_text.COMMON_ZIPF):
            out.append(w)
    return out


def _old_names(title, body, forms):
    """_names before the per-run caches."""
    t = story_text
    mid, runs = set(), []
    for part, is_title in ((title, True), (body, False)):
        for m in t._CAP_RUN.finditer(part):
            words = [t._POSSESSIVE.sub("", w).strip("'’-") for w in m.group().split()]
            initial = is_title or t._starts_sentence(part, m.start())
            if not is_title:
                mid.update(w.lower() for w in words[1 if initial else 0 :])
            runs.append((words, initial, is_title))
    out = []
    for words, initial, is_title in runs:
        i = 0
        while i < len(words):
            for j in range(len(words), i, -1):
                gid = forms.get(" ".join(words[i:j]).lower())
                if gid:
                    out.append(("@" + gid, is_title))
                    i = j
                    break
            else:
                w = words[i].lower()
                first = is_title or (initial and i == 0)
                if (len(w) >= 2 and w not in t.CAP_STOP and w not in t.NEWS_STOP
                        and t.rarity(w) > t.RARITY_CEILING - t.COMMON_ZIPF
                        and (not first or w in mid)):
                    out.append((w, is_title))
                i += 1
    return out


_FORMS = {"emmanuel macron": "macron", "macron": "macron", "xi jinping": "xi_jinping",
          "xi": "xi_jinping", "new york": "new_york", "great hall": "great_hall"}


def test_words_and_names_as_before_on_real_articles():
    for line in (REPO / "tests" / "data" / "stories" / "long.jsonl").read_text().splitlines()[:40]:
        rec = json.loads(line)
        for text in (rec["title"], rec["text"]):
            assert story_text.content_words(text) == _old_content_words(text)
        assert story_text._names(rec["title"], rec["text"], _FORMS) == _old_names(
            rec["title"], rec["text"], _FORMS)


_story_pieces = st.sampled_from(
    ["Macron", "Emmanuel", "Xi", "Jinping", "New", "York", "Luding", "Officials", "President",
     "Sunday", "Lavrov's", "Lavrov’s", "'Tunxi'", "-Great", "Hall", "the", "said", "reached",
     "rescuers", "villages", "3", "2026", "12th", "e.g.", "U.S.", " ", "  ", ". ", "! ", "\n",
     "\n\n", ", ", "\"", "“", "(", ") ", "—", ": "]
)
_story_texts = st.lists(_story_pieces, max_size=40).map("".join)


@hypothesis_settings(max_examples=100, deadline=None)
@given(title=_story_texts, body=_story_texts)
@example(title="Luding Luding", body="Luding said. Luding Luding. Officials in Luding said so.")
def test_words_and_names_as_before(title, body):
    assert story_text.content_words(body) == _old_content_words(body)
    assert story_text._names(title, body, _FORMS) == _old_names(title, body, _FORMS)
