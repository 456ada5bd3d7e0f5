"""Killed-run benchmark: how much of a backlog does the run after a killed one translate again?

    python bench/killed.py [--articles 2000] [--at 0.6] [--keep]

(plain ``python`` works: it re-runs itself in the repo's venv, like bench/throughput.py.)

Generates N German articles of 9 sentences (``tests/reliability/harness.py``), then, with the
tiny verification package and one ``prefect server`` started here on loopback:

1. ``newsflow run`` over them on a fresh database: the whole backlog's time and sentences;
2. ``newsflow run`` on another fresh database, SIGKILLed at ``--at`` (0.6) of that time;
3. ``newsflow run`` again on that database: what the killed run had finished is kept, so this
   run translates only the chunk that was in flight and what came after it.

The last line is the summary:

    killed: articles <n>, full run <s> s, killed at <s> s, next run translated <k> of <total> sentences (<p>%), from cache <c>, stored <m>

What to expect: the next run stores every article (``m`` = ``n``) and translates well under the
whole backlog: the chunks finished before the kill are not translated again, and the sentences of
the chunk in flight are often already in the sentence cache (``from cache``). How much is left
depends on how far the killed run got in its time: its first seconds go to starting and to the
intake of the whole backlog, so a kill at 60 % of the time leaves more than 40 % of the
translation (measured here: 20-40 %, with the machine's speed).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from harness import use_project_environment  # noqa: E402

use_project_environment()  # before anything imports the project's packages

import harness as h  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=2000, help="articles in the backlog (default 2000)")
    p.add_argument("--at", type=float, default=0.6, help="kill at this share of the full run's time (0.6)")
    p.add_argument("--keep", action="store_true", help="keep the temporary work dir")
    args = p.parse_args()
    if not 0 < args.at < 1:
        p.error("--at must be between 0 and 1")
    return args


def newsflow_run(cfg: Path, env: dict, log: Path, kill_after: float | None = None) -> tuple[float, int]:
    """`newsflow run` once, SIGKILLed after ``kill_after`` seconds if given: (seconds, exit status)."""
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "newsflow.cli", "--config", str(cfg), "run",
                                 "--no-install-models"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cfg.parent)
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    return time.perf_counter() - t0, proc.returncode


def last_report(run_dir: Path) -> dict | None:
    reports = sorted((run_dir / "output" / "reports").glob("*.json"), key=os.path.getmtime)
    return json.loads(reports[-1].read_text(encoding="utf-8")) if reports else None


def main() -> int:
    args = parse_args()
    with h.tiny_bench("newsflow-killed-", args.keep, args.articles) as (work, env, packages, _server):
        full_cfg = h.write_config(work / "full", work / "inbox", packages, {})
        full_s, status = newsflow_run(full_cfg, env, work / "full.log")
        full = last_report(work / "full")
        if status != 0 or full is None:
            raise SystemExit(f"bench: the full run failed ({status}); see {work / 'full.log'}")
        h.log(f"full run: {full_s:.1f} s, sentences {full['sentences']}")

        cfg = h.write_config(work / "killed", work / "inbox", packages, {})
        killed_s, status = newsflow_run(cfg, env, work / "killed.log", kill_after=args.at * full_s)
        if status != -signal.SIGKILL:
            raise SystemExit(f"bench: the run to kill ended by itself ({status}) before {args.at * full_s:.1f} s")
        h.log(f"killed after {killed_s:.1f} s")
        next_s, status = newsflow_run(cfg, env, work / "next.log")
        after = last_report(work / "killed")
        if status != 0 or after is None:
            raise SystemExit(f"bench: the run after the killed one failed ({status}); see {work / 'next.log'}")
        h.log(f"next run: {next_s:.1f} s, sentences {after['sentences']}, by status {after['by_status']}")
    total = full["sentences"]["translated"] + full["sentences"]["from_cache"]
    again = after["sentences"]["translated"]
    stored = after["by_status"].get("translated", 0)
    print(f"killed: articles {args.articles}, full run {full_s:.1f} s, killed at {killed_s:.1f} s, next run "
          f"translated {again} of {total} sentences ({again / total:.0%}), from cache "
          f"{after['sentences']['from_cache']}, stored {stored}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
