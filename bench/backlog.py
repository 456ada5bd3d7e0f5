"""Backlog benchmark: does a run's memory and time per article stay flat as the backlog grows?

    python bench/backlog.py [--small] [--sizes 500,5000] [--keep]

(plain ``python`` works: it re-runs itself in the repo's venv, like bench/throughput.py.)

For each N (default 500 and 5,000; ``--small``: 50 and 200, a quick check that it works),
generates a folder of N German articles of 9 sentences each (a title and 8 sentences,
``tests/reliability/harness.py:generate_german_inbox``), and runs ``newsflow run`` once over
it, in a fresh database, with the tiny verification package
(``tests/support/tiny_package.py``: translation is cheap, so the rest of the run shows),
against one ``prefect server`` started here on loopback. Measured per N: the run's peak RSS
(``wait4`` of the ``newsflow`` process) and wall seconds per article; at the end, how many
times the server logged ``Refusing to publish event`` (an event over Prefect's 1.5 MB
limit, dropped). The last line is the summary:

    backlog: rss500 <MB>, rss5000 <MB>, rss ratio <r>, s/article 500 <s>, s/article 5000 <s>, oversized events <n>

Targets (issue 13): rss ratio <= 1.3, s/article at 5,000 no more than at 500, 0 oversized events.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from harness import use_project_environment  # noqa: E402

use_project_environment()  # before anything imports the project's packages

import harness as h  # noqa: E402

OVERSIZED = "Refusing to publish event"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small", action="store_true", help="N = 50 and 200 (a check that it works)")
    p.add_argument("--sizes", default=None, help="comma-separated N, smallest first (default 500,5000)")
    p.add_argument("--keep", action="store_true", help="keep the temporary work dir")
    return p.parse_args()


def run_newsflow(cfg: Path, env: dict, log: Path) -> tuple[float, float, int]:
    """`newsflow run` once: (wall seconds, peak RSS in MB, exit status)."""
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "newsflow.cli", "--config", str(cfg), "run",
                                 "--no-install-models"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cfg.parent)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    args = parse_args()
    sizes = [int(n) for n in (args.sizes or ("50,200" if args.small else "500,5000")).split(",")]
    results = {}
    with h.tiny_bench("newsflow-backlog-", args.keep) as (work, env, packages, server):
        from tests.reliability.harness import generate_german_inbox

        try:
            for n in sizes:
                run_dir = work / f"n{n}"
                generate_german_inbox(run_dir / "inbox", n, sentences=8)
                cfg = h.write_config(run_dir / "run", run_dir / "inbox", packages, {})
                h.log(f"N={n}: newsflow run ...")
                wall, rss, status = run_newsflow(cfg, env, run_dir / "run.log")
                if status != 0:
                    raise SystemExit(f"bench: newsflow run failed ({status}); see {run_dir / 'run.log'}")
                reports = sorted((run_dir / "run" / "output" / "reports").glob("*.json"))
                report = json.loads(reports[-1].read_text(encoding="utf-8")) if reports else {}
                if report.get("by_status", {}).get("translated") != n:
                    raise SystemExit(f"bench: N={n}: expected {n} translated, report says {report.get('by_status')}")
                results[n] = (rss, wall / n)
                h.log(f"N={n}: {wall:.1f} s, {wall / n:.4f} s/article, peak RSS {rss:.0f} MB, "
                      f"sentences {report.get('sentences')}")
        finally:  # the server's log, complete once it has stopped
            server.stop()
            log = work / "prefect-server.log"
            oversized = log.read_text(encoding="utf-8", errors="replace").count(OVERSIZED) if log.exists() else 0
    small, big = sizes[0], sizes[-1]
    (rss_s, spa_s), (rss_b, spa_b) = results[small], results[big]
    print(f"backlog: rss{small} {rss_s:.0f}, rss{big} {rss_b:.0f}, rss ratio {rss_b / rss_s:.2f}, "
          f"s/article {small} {spa_s:.4f}, s/article {big} {spa_b:.4f}, oversized events {oversized}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
