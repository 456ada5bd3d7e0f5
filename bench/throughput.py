"""Throughput benchmark: newsflow's engine and flow against Argos and the CTranslate2 limit.

    python bench/throughput.py [--skip-argos] [--skip-flow] [--repeats 3]

(plain ``python`` works: it re-runs itself in the repo's venv, see below.)

Builds a random-weight transformer-base Argos package (6+6 layers, d_model 512,
8 heads, FFN 2048, 32,000 pieces, int8: ``tests/support/tiny_package.py``,
``size="base"``) OUTSIDE the repo, and translates the same 504 distinct German
sentences (56 articles of 9: ``bench/sentences_de.py``) with every contender, at
the same beam size and ``max_decoding_length`` (random weights must not decide
how long decoding runs), with no sentence cache anywhere:

(a) argos   -- Argos Translate 1.11 ``translate()`` once per article, its defaults
               except the beam; in a separate venv (``bench/argos_worker.py``).
(b) limit   -- one raw CTranslate2 ``translate_batch`` over all sentences (already
               tokenised): the best setting of a short sweep, and the engine's own
               thread / batch setting; the faster of the two is the limit.
(c) engine  -- ``get_engine(package, options).translate_documents(docs, "de",
               cache=None)``, docs = [title, *paragraphs] per article, as the flow
               calls it.
(d) flow    -- the whole ``translate-news`` flow over the articles as a folder
               source, against a ``prefect server`` started here.

(b), (c), (d) run ``--repeats`` interleaved rounds, each run in its own process
(the flows in one long-lived process), once the server is up; medians are
reported. Argos runs once (it is slow). The last line is the summary; details go
to ``<cache>/last-run.json``. Cache (package, Argos venv): ``$NEWSFLOW_BENCH_CACHE``
or ``~/.cache/newsflow-bench``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from harness import use_project_environment  # noqa: E402

use_project_environment()  # before anything imports the project's packages

import harness as h  # noqa: E402
from report import TARGETS, rate, report  # noqa: E402
from sentences_de import articles  # noqa: E402

ARTICLES = 56  # x 9 sentences = 504 distinct sentences
SWEEP_EVERY = 4  # the limit sweep uses every 4th article (126 sentences)
# (inter_threads, intra_threads, batch_type, max_batch_size, presorted)
SWEEP = [
    (2, 1, "tokens", 4096, False),
    (2, 1, "tokens", 2048, False),
    (2, 1, "tokens", 1024, False),
    (2, 1, "tokens", 512, False),
    (2, 1, "examples", 32, False),
    (2, 1, "examples", 16, False),
    (2, 1, "examples", 32, True),
    (1, 2, "tokens", 2048, False),
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (3)")
    p.add_argument("--beam", type=int, default=2, help="beam size for every contender (2)")
    p.add_argument("--max-decoding-length", type=int, default=64, help="decoding cap for all (64)")
    p.add_argument(
        "--redecode",
        action="store_true",
        help="engine and flow with the quality second pass on (config 'quality' defaults); "
        "off by default, so every contender does the same decoding",
    )
    p.add_argument("--skip-argos", action="store_true", help="do not run (a); print argos n/a")
    p.add_argument("--skip-flow", action="store_true", help="do not run (d); print flow n/a")
    p.add_argument("--skip-sweep", action="store_true", help="limit: the engine's setting only")
    p.add_argument(
        "--diagnose",
        choices=["auto", "always", "never"],
        default="auto",
        help="also time the engine inside the flow's process (auto: when flow/engine "
        "misses its target)",
    )
    p.add_argument("--rebuild-argos-venv", action="store_true")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("NEWSFLOW_BENCH_CACHE", "~/.cache/newsflow-bench")),
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary work dir")
    return p.parse_args()


def label(cfg) -> str:
    inter, intra, batch_type, size, presorted = cfg
    return f"{inter}x{intra} threads, {size} {batch_type}" + (", presorted" if presorted else "")


@dataclasses.dataclass
class Live:
    """Processes to stop however the run ends."""

    server: h.PrefectServer | None = None
    flow: h.FlowWorker | None = None


def main() -> int:
    args = parse_args()
    cache = args.cache_dir.expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    if args.keep:
        h.log(f"work dir (kept): {work}")
    live = Live()
    try:
        out = run(args, cache, work, live)
    finally:
        if live.flow is not None:
            live.flow.close()
        if live.server is not None:
            live.server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    out["details_path"] = str(cache / "last-run.json")
    summary_line = report(out)
    (cache / "last-run.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(summary_line, flush=True)  # the last line, whatever else was printed
    return 0


def run(args, cache: Path, work: Path, live: Live) -> dict:
    import ctranslate2
    import sentencepiece

    from newsflow.config import QualityConfig, TranslationConfig
    from translators.engine import EngineOptions
    from translators.packages import install_from_path

    t_start = time.perf_counter()
    beam, cap = args.beam, args.max_decoding_length
    translation = {"beam_size": beam, "max_decoding_length": cap, "sentence_cache": False}
    quality = {"redecode": bool(args.redecode)}
    options = EngineOptions.from_config(TranslationConfig(**translation), QualityConfig(**quality))
    engine_spec_options = dataclasses.asdict(options)

    package_file = h.base_package(cache)
    packages = work / "packages"
    pkg = install_from_path(package_file, packages)[0]
    arts = articles(ARTICLES)
    sp = sentencepiece.SentencePieceProcessor(model_file=str(pkg.tokenizer_path))
    data = h.check_segmentation(arts, options.max_input_tokens, lambda s: len(sp.encode(s)))
    n = data["sentences"]
    env = h.worker_env(work)
    out: dict = {
        "sentences": n,
        "articles": len(arts),
        "beam": beam,
        "redecode": bool(args.redecode),
        "max_decoding_length": cap,
        "cores": len(os.sched_getaffinity(0)),
        "load_start": os.getloadavg()[0],
        "data": data,
        "versions": {"ctranslate2": ctranslate2.__version__, "python": sys.version.split()[0]},
    }
    limit_spec = {
        "tokenizer": str(pkg.tokenizer_path),
        "model_dir": str(pkg.model_dir),
        "articles": ARTICLES,
        "beam_size": beam,
        "max_decoding_length": cap,
        "compute_type": options.compute_type,
    }

    def limit_run(cfg, every: int) -> dict:
        inter, intra, batch_type, size, presorted = cfg
        spec = {
            **limit_spec,
            "every": every,
            "inter_threads": inter,
            "intra_threads": intra,
            "batch_type": batch_type,
            "max_batch_size": size,
            "presort": presorted,
        }
        return h.run_worker("limit", spec, work, env)

    def engine_run() -> dict:
        spec = {"package": str(pkg.path), "articles": ARTICLES, "options": engine_spec_options}
        return h.run_worker("engine", spec, work, env)

    # (b) the sweep, on a subset, before anything else runs (one run each: on a shared
    # machine its pick may be off, so the engine's own setting is measured as well)
    inter, intra = options.resolved_threads()
    engine_like = (inter, intra, "tokens", options.max_batch_tokens, False)
    limit_cfgs = [engine_like]
    out["sweep"] = []
    if not args.skip_sweep:
        for cfg in SWEEP:
            r = limit_run(cfg, SWEEP_EVERY)
            out["sweep"].append({"config": label(cfg), "sent_s": rate(r), **r})
            h.log(f"sweep {label(cfg)}: {rate(r):.2f} sent/s")
        best = max(
            SWEEP, key=lambda c: next(s["sent_s"] for s in out["sweep"] if s["config"] == label(c))
        )
        if best != engine_like:
            limit_cfgs.insert(0, best)
    out["limit_configs"] = [label(c) for c in limit_cfgs]
    out["engine_like_config"] = label(engine_like)

    # (a) Argos, once
    out["argos"], out["argos_na"] = None, None
    if args.skip_argos:
        out["argos_na"] = "skipped (--skip-argos)"
    else:
        try:
            python = h.argos_venv(cache, args.rebuild_argos_venv)
            h.log("running Argos translate() over every article (several minutes) ...")
            out["argos"] = h.run_argos(python, pkg.path, arts, work, beam, cap)
        except h.Unavailable as exc:
            out["argos_na"] = str(exc)
            h.log(f"argos: n/a -- {exc}")

    # (d) set-up: the Prefect server, the flow process, one warm-up flow
    server_info: dict = {}
    if not args.skip_flow:
        h.log("starting prefect server ...")
        live.server = h.PrefectServer(work, env)
        server_info["startup_s"] = live.server.startup_s
        flow_env = {
            **env,
            "PREFECT_API_URL": live.server.url,
            "PREFECT_HOME": str(work / "prefect-client"),
        }
        live.flow = h.FlowWorker(work, flow_env)
        server_info["flow_import_s"] = live.flow.ready["import_s"]
        main_source, warm_source = work / "sources" / "main", work / "sources" / "warmup"
        h.write_folder_source(main_source, arts)
        h.write_folder_source(warm_source, articles(2, seed=99))
        warm_dir = work / "flow" / "warmup"
        config = h.write_config(warm_dir, warm_source, packages, translation, quality)
        server_info["warmup"] = live.flow.run(config, warm_dir / "output")
        # the same small flow again (fresh database): what every run costs besides translating
        small_dir = work / "flow" / "small"
        config = h.write_config(small_dir, warm_source, packages, translation, quality)
        server_info["small"] = live.flow.run(config, small_dir / "output")
        h.log(
            f"prefect server up in {live.server.startup_s:.1f} s; warm-up flow "
            f"{server_info['warmup']['seconds']:.1f} s"
        )

    # the rounds
    rounds = []
    for i in range(args.repeats):
        limits = {label(c): limit_run(c, 1) for c in limit_cfgs}
        eng = engine_run()
        fl = None
        if live.flow is not None:
            run_dir = work / "flow" / f"run-{i}"
            config = h.write_config(run_dir, main_source, packages, translation, quality)
            server_cpu0 = live.server.cpu_s()
            fl = live.flow.run(config, run_dir / "output")
            fl["server_cpu_s"] = live.server.cpu_s() - server_cpu0
        rounds.append({"limits": limits, "engine": eng, "flow": fl})
        h.log(
            f"round {i + 1}: limit "
            + ", ".join(f"{rate(r):.2f}" for r in limits.values())
            + f"; engine {rate(eng):.2f}"
            + (f"; flow {rate(fl, n):.2f}" if fl else "")
            + " sent/s"
        )
    out["rounds"], out["server"] = rounds, server_info

    flows = [r["flow"] for r in rounds if r["flow"]]
    if flows and args.diagnose != "never":
        flow_rate = sorted(rate(f, n) for f in flows)[len(flows) // 2]
        engine_rate = sorted(rate(r["engine"]) for r in rounds)[len(rounds) // 2]
        if args.diagnose == "always" or flow_rate / engine_rate < TARGETS["flow/engine"]:
            # The flow, or the process it runs in? The same engine call in the flow's
            # process (Prefect's threads alive) outside any flow, then in a fresh one.
            h.log("diagnosis: the engine alone inside the flow's process, then a fresh one ...")
            cmd = {
                "op": "engine",
                "package": str(pkg.path),
                "articles": ARTICLES,
                "options": engine_spec_options,
            }
            out["diagnosis"] = {
                "engine_in_flow_process": live.flow.send(cmd),
                "engine_fresh": engine_run(),
            }
    out["total_s"] = time.perf_counter() - t_start
    return out


if __name__ == "__main__":
    sys.exit(main())
