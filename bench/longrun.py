"""Long-run benchmark: does a process that runs the flow again and again (as `newsflow serve`
does, every 10 minutes for months) keep its memory flat?

    python bench/longrun.py [--runs 30] [--articles 200] [--keep]

(plain ``python`` works: it re-runs itself in the repo's venv, like bench/throughput.py.)

Generates a folder of German articles (``tests/reliability/harness.py:generate_german_inbox``)
and runs the ``translate-news`` flow ``--runs`` times in this one process, each run on a fresh
database and output folder (so every run does the whole work: intake, translation with the tiny
verification package, names, store, stories, files, report, artifacts), against one
``prefect server`` started here on loopback; the runs happen in a child process started with
the server's URL (Prefect reads its settings when it is imported). After each run the child
reads its RSS. The first runs load what a process keeps (the model, the glossary's matchers,
the detector's profiles, Prefect's clients) and fill the allocator's arenas (measured here: a
plateau from about run 8), so growth is the least-squares slope of RSS from run 10 to the last.
The last line is the summary:

    longrun: runs <n>, rss after run 1 <MB>, after run 10 <MB>, after the last <MB>, growth per run <MB>

Target: growth per run after run 10 at most 0.5 MB (keeping one run's 200 articles, their
translations and findings would be a few MB a run; RSS moves by a few MB either way from run to
run, which the slope over 20 runs averages out).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from harness import use_project_environment  # noqa: E402

use_project_environment()  # before anything imports the project's packages

import harness as h  # noqa: E402

WARM_RUNS = 10
TARGET_MB_PER_RUN = 0.5


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=30, help=f"flow runs in the process (default 30, at least {WARM_RUNS + 2})")
    p.add_argument("--articles", type=int, default=200, help="articles per run (default 200)")
    p.add_argument("--keep", action="store_true", help="keep the temporary work dir")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)  # the work dir: the process measured
    args = p.parse_args()
    if args.runs < WARM_RUNS + 2:
        p.error(f"--runs must be at least {WARM_RUNS + 2}")
    return args


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def slope(values: list[float]) -> float:
    """Least-squares MB per run: the end points alone move with the allocator by a few MB."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    return (sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
            / sum((x - mean_x) ** 2 for x in range(n)))


def child(work: Path, runs: int) -> int:
    """The measured process: the flow ``runs`` times; one line per run on stdout (run, s, RSS)."""
    from flows.translate_news import RunParameters, translate_news

    for i in range(1, runs + 1):
        cfg = h.write_config(work / f"run{i}", work / "inbox", work / "packages", {})
        t0 = time.perf_counter()
        state = translate_news(RunParameters(config_path=str(cfg)), return_state=True)
        if not state.is_completed():
            print(f"bench: run {i} ended {state.type.value}: {state.message}", file=sys.stderr)
            return 1
        print(json.dumps({"run": i, "seconds": time.perf_counter() - t0, "rss_mb": rss_mb()}), flush=True)
        shutil.rmtree(work / f"run{i}", ignore_errors=True)
    return 0


def main() -> int:
    args = parse_args()
    if args.child:
        return child(Path(args.child), args.runs)
    rss: list[float] = []
    # the child finds work/packages and work/inbox
    with h.tiny_bench("newsflow-longrun-", args.keep, args.articles) as (work, env, _packages, _server):
        # Prefect reads its settings when it is imported: the measured process starts with them
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(work), "--runs", str(args.runs)],
                                env=env, stdout=subprocess.PIPE, text=True, cwd=work)
        for line in proc.stdout:
            row = json.loads(line)
            rss.append(row["rss_mb"])
            h.log(f"run {row['run']}: {row['seconds']:.1f} s, RSS {row['rss_mb']:.0f} MB")
        if proc.wait() != 0 or len(rss) != args.runs:
            raise SystemExit(f"bench: the measured process failed (exit {proc.returncode}) after {len(rss)} runs")
    growth = slope(rss[WARM_RUNS - 1:])
    verdict = "ok" if growth <= TARGET_MB_PER_RUN else "FAIL"
    h.log(f"target: growth per run after run {WARM_RUNS} <= {TARGET_MB_PER_RUN} MB: {verdict}")
    print(f"longrun: runs {len(rss)}, rss after run 1 {rss[0]:.0f}, after run {WARM_RUNS} "
          f"{rss[WARM_RUNS - 1]:.0f}, after the last {rss[-1]:.0f}, growth per run {growth:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
