"""Why the engine's defaults: its speed and peak memory over beam sizes and batch sizes.

    python bench/settings.py [--repeats 2] [--articles 56]

Same package (random-weight transformer-base), sentences and worker as
``bench/throughput.py`` (c): each setting runs ``Engine.translate_documents`` in a
fresh process, ``--repeats`` interleaved rounds, medians reported. Speeds are also
given as a ratio to the default setting measured in the same rounds (the machine is
shared: ratios, not absolute times). Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import harness as h  # noqa: E402

h.use_project_environment()  # plain `python` re-runs itself in the repo's venv

# (beam_size, max_batch_tokens); the first is the default every ratio is against.
SETTINGS = [(2, 1024), (1, 1024), (4, 1024), (2, 512), (2, 2048), (2, 4096), (4, 2048)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--articles", type=int, default=56, help="x 9 sentences (56: 504)")
    p.add_argument("--max-decoding-length", type=int, default=64)
    p.add_argument(
        "--settings",
        help="BEAM:TOKENS,... to measure instead (the first is the baseline), e.g. 2:1024,2:512",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("NEWSFLOW_BENCH_CACHE", "~/.cache/newsflow-bench")),
    )
    args = p.parse_args()
    settings = SETTINGS
    if args.settings:
        try:
            settings = [
                (int(b), int(t)) for b, t in (item.split(":") for item in args.settings.split(","))
            ]
        except ValueError:
            p.error(f"--settings: expected BEAM:TOKENS,... such as 2:1024,2:512, not {args.settings!r}")

    from translators.engine import EngineOptions
    from translators.packages import install_from_path

    cache = args.cache_dir.expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-settings-"))
    try:
        pkg = install_from_path(h.base_package(cache), work / "packages")[0]
        env = h.worker_env(work)
        runs: dict[tuple[int, int], list[dict]] = {s: [] for s in settings}
        for i in range(args.repeats):
            for beam, batch in settings:
                options = EngineOptions(
                    beam_size=beam,
                    max_batch_tokens=batch,
                    max_decoding_length=args.max_decoding_length,
                )
                spec = {
                    "package": str(pkg.path),
                    "articles": args.articles,
                    "options": dataclasses.asdict(options),
                }
                r = h.run_worker("engine", spec, work, env)
                runs[(beam, batch)].append(r)
                h.log(
                    f"round {i + 1}: beam {beam}, {batch} tokens: "
                    f"{r['sentences'] / r['seconds']:.2f} sent/s, peak {r['peak_rss_mb']:.0f} MB"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def speed(setting):
        return statistics.median(r["sentences"] / r["seconds"] for r in runs[setting])

    base = speed(settings[0])
    print("| beam | batch (tokens) | sent/s | vs default | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for setting in settings:
        beam, batch = setting
        peak = max(r["peak_rss_mb"] for r in runs[setting])
        mark = " (default)" if setting == SETTINGS[0] else ""
        print(
            f"| {beam}{mark} | {batch} | {speed(setting):.1f} | {speed(setting) / base:.2f} "
            f"| {peak:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
