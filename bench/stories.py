"""Story assignment benchmark: a day of generated English articles, assigned incrementally.

    python bench/stories.py [--articles 50000] [--store-articles 5000] [--chunk 200] [--seed 1]

(plain ``python`` works: it re-runs itself in the repo's venv.)

Generates ``--articles`` articles over 24 hours: events of 1-8 reports each (different
outlets, different wording), every event with 2 protagonists drawn from a pool of 300 shared
by all events (so many events share protagonists) and a place from a pool of 400, body words
drawn from English's 5,000 most frequent words (``wordfreq``) plus 12 words of the event's
own. Then it times

* ``pure``: :class:`newsflow.story_cluster.Clusterer` over all of them, in run-sized chunks
  (evidence built per chunk, as the run core does), and
* ``store``: :func:`newsflow.stories.assign` on a SQLite store, in chunks of ``--chunk``
  (load candidates, place, write), over the first ``--store-articles`` articles,

and prints one line: articles, stories, seconds and articles per second for both, and the
B-cubed F1 against the generated events (a sanity check of the generator and the rule, not
the quality measure: that is tests/test_stories.py on written articles).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from harness import use_project_environment  # noqa: E402

use_project_environment()  # before anything imports the project's packages

SYLLABLES = ("ka ro vel mi tan dor si lu ben ha zo rik an te vos mar li ope gun shi ya "
             "tor el nak pru dem wel fa jin ost").split()


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def generate(n: int, seed: int):
    """(rows, gold): StoredArticle rows (English, passed through) and article id -> event."""
    from wordfreq import top_n_list

    from newsflow.article import StoredArticle

    rng = random.Random(seed)
    common = [w for w in top_n_list("en", 5000) if w.isalpha()]
    people = [f"{_name(rng)} {_name(rng)}" for _ in range(300)]
    places = [_name(rng) for _ in range(400)]
    start = datetime(2026, 3, 12, tzinfo=UTC)
    rows, gold, event = [], {}, 0
    while len(rows) < n:
        event += 1
        who = rng.sample(people, 2)
        where = rng.choice(places)
        own = [_name(rng).lower() for _ in range(12)]
        t0 = start + timedelta(seconds=rng.uniform(0, 86_400))
        for k in range(min(rng.choice((1, 1, 2, 3, 4, 5, 6, 8)), n - len(rows))):
            words = rng.sample(common, 60) + rng.sample(own, 8)
            rng.shuffle(words)
            body = (f"{who[0]} and {who[1]} met in {where} on Thursday, officials said. "
                    + " ".join(words) + f". {who[1].split()[-1]} spoke to reporters in {where}.")
            title = f"{who[0].split()[-1]} and {who[1].split()[-1]} {own[0]} in {where}"
            aid = f"bench-{event}-{k}"
            published = (t0 + timedelta(minutes=rng.uniform(0, 600))).isoformat(timespec="seconds")
            rows.append(StoredArticle(id=aid, source=f"outlet-{k}", content_hash=aid,
                                      status="passed-through", title=title, original_text=body,
                                      lang="en", published=published, title_en=title,
                                      translation=body))
            gold[aid] = event
    rows.sort(key=lambda r: (r.published, r.id))
    return rows, gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--store-articles", type=int, default=5_000)
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from newsflow import stories
    from newsflow.store import Store
    from newsflow.story_cluster import Clusterer
    from newsflow.story_text import build_evidence, parse_time
    from tests.support.stories import bcubed

    rows, gold = generate(args.articles, args.seed)
    build_evidence(rows[:1], {rows[0].id: parse_time(rows[0].published)}, {})  # load wordfreq

    t = time.perf_counter()
    clusterer = Clusterer([], stories.window_of(None))
    placed: dict[str, str] = {}
    for i in range(0, len(rows), args.chunk):
        chunk = rows[i : i + args.chunk]
        evidence = build_evidence(chunk, {r.id: parse_time(r.published) for r in chunk}, {})
        placed.update(clusterer.place_all(evidence))
    pure = time.perf_counter() - t
    f1 = bcubed(placed, gold)[2]

    m = min(args.store_articles, len(rows))
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-stories-") as tmp:
        with Store(Path(tmp) / "bench.db") as store:
            store.upsert_many(rows[:m])
            t = time.perf_counter()
            for i in range(0, m, args.chunk):
                stories.assign(store, rows[i : min(i + args.chunk, m)], None)
            stored = time.perf_counter() - t
            n_stored = store._query("SELECT COUNT(*) AS n FROM stories")[0]["n"]

    print(f"stories: {len(rows)} articles -> {len(set(placed.values()))} stories "
          f"({max(gold.values())} events, B-cubed F1 {f1:.3f}); pure {pure:.1f} s "
          f"({len(rows) / pure:,.0f} articles/s); SQLite store {m} articles -> {n_stored} stories "
          f"in {stored:.1f} s ({m / stored:,.0f} articles/s, chunks of {args.chunk})")


if __name__ == "__main__":
    main()
