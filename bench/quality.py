"""Quality checks: how well (tests/data/quality/eval.jsonl, or --eval FILE) and how fast.

    uv run python bench/quality.py [--eval FILE] [--rounds 5]

FILE holds lines {"id", "lang", "source", "translation", "expected"} (expected: null for a good
translation, else the kind it must get). Prints the false-positive rate on the good pairs, the
catch rate and the right-kind rate on the degenerate ones (the kind among the flags, and as the
first flag), the misses, and the speed of newsflow.quality.check_pair (pairs/s, one core; the
first call, which loads langdetect's profiles, is not timed). A few seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsflow.quality import _words, check_pair  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--eval", type=Path, default=REPO / "tests" / "data" / "quality" / "eval.jsonl")
    p.add_argument("--rounds", type=int, default=5, help="timing rounds over the whole set (5)")
    args = p.parse_args()
    rows = [json.loads(line) for line in args.eval.read_text(encoding="utf-8").splitlines() if line.strip()]
    good = [r for r in rows if r.get("expected") is None]
    bad = [r for r in rows if r.get("expected") is not None]
    check_pair("Hallo Welt, wie geht es dir heute?", "Hello world, how are you today?", "de")  # warm-up

    flagged, missed, wrong, first = [], [], [], 0
    for r in good:
        flags = check_pair(r["source"], r["translation"], r["lang"])
        if flags:
            flagged.append((r["id"], [f["kind"] for f in flags]))
    for r in bad:
        kinds = [f["kind"] for f in check_pair(r["source"], r["translation"], r["lang"])]
        if not kinds:
            missed.append(r["id"])
        elif r["expected"] not in kinds:
            wrong.append((r["id"], r["expected"], kinds))
        first += bool(kinds) and kinds[0] == r["expected"]

    seconds = 0.0
    for _ in range(args.rounds):
        _words.cache_clear()  # every pair as new, as in a run
        t0 = time.perf_counter()
        for r in rows:
            check_pair(r["source"], r["translation"], r["lang"])
        seconds += time.perf_counter() - t0
    rate = args.rounds * len(rows) / seconds

    n_good, n_bad = max(1, len(good)), max(1, len(bad))
    for item in flagged:
        print(f"flagged good: {item}")
    for item in missed:
        print(f"missed: {item}")
    for item in wrong:
        print(f"wrong kind: {item}")
    print(f"quality: {len(good)} good, {len(bad)} degenerate; "
          f"false positives {len(flagged) / n_good:.1%} (<= 5%), "
          f"caught {1 - len(missed) / n_bad:.1%} (>= 95%), "
          f"right kind {1 - (len(missed) + len(wrong)) / n_bad:.1%} (>= 90%), "
          f"right kind first {first / n_bad:.1%}; {rate:.0f} pairs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
