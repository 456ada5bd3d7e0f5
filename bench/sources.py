"""Cost of reading teaser feeds: two runs of read_source over the loopback news site
(tests/support/news_site.py), the first following every teaser item to its page, the
second incremental (304 for the feeds, no page asked for again).

    uv run python bench/sources.py                      # default politeness (1 s between requests)
    uv run python bench/sources.py --min-delay 0 --repeats 3

Prints per run: seconds, requests the server saw, the most it served at once, and the
feed answers; the last line is the summary:

    sources: first run F s (R requests), second run S s (Q requests), max concurrent C
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsflow import fetch, pipeline  # noqa: E402
from newsflow.clean import clean_article  # noqa: E402
from newsflow.config import SourceConfig  # noqa: E402
from newsflow.sources import read_source  # noqa: E402
from newsflow.store import Store  # noqa: E402
from tests.support.news_site import NewsSite  # noqa: E402


def one_run(sources, store, site) -> tuple[float, int, int]:
    site.clear()
    fetch.begin_run()
    start = time.perf_counter()
    for source in sources:
        rows = [pipeline.base_row(clean_article(raw), "passed-through", "bench")
                for raw in read_source(source, None, store)]
        store.upsert_many(rows)
    return time.perf_counter() - start, len(site.requests), site.max_active


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-delay", type=float, default=1.0, help="fetch.min_delay_seconds")
    parser.add_argument("--concurrency", type=int, default=2, help="fetch.per_host_concurrency")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    fetch_options = {"min_delay_seconds": args.min_delay, "per_host_concurrency": args.concurrency,
                     "timeout_seconds": 2, "max_bytes": 200_000}
    firsts, seconds = [], []
    for _ in range(args.repeats):
        with NewsSite(slow_seconds=2.5) as site, tempfile.TemporaryDirectory() as tmp, \
                Store(Path(tmp) / "bench.db") as store:
            sources = [
                SourceConfig(name="zeitung", kind="feed", lang="de", url=f"{site.base}/feed.rss",
                             fetch=fetch_options),
                SourceConfig(name="xinwen", kind="feed", lang="zh", url=f"{site.base}/feed.atom",
                             fetch=fetch_options),
            ]
            first = one_run(sources, store, site)
            print(f"first run: {first[0]:.2f} s, {first[1]} requests, at most {first[2]} at once, "
                  f"feeds {site.statuses('/feed.rss')} {site.statuses('/feed.atom')}")
            second = one_run(sources, store, site)
            print(f"second run: {second[0]:.2f} s, {second[1]} requests, at most {second[2]} at once, "
                  f"feeds {site.statuses('/feed.rss')} {site.statuses('/feed.atom')}")
            firsts.append(first)
            seconds.append(second)
    best_first, best_second = min(firsts), min(seconds)
    print(f"sources: first run {best_first[0]:.2f} s ({best_first[1]} requests), second run "
          f"{best_second[0]:.2f} s ({best_second[1]} requests), max concurrent "
          f"{max(f[2] for f in firsts + seconds)}")


if __name__ == "__main__":
    main()
