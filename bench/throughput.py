"""Throughput benchmark: newsflow's engine and flow against Argos and the CTranslate2 limit.

    uv run python bench/throughput.py [--skip-argos] [--skip-flow] [--repeats 3]

Builds a random-weight transformer-base Argos package (6+6 layers, d_model 512,
8 heads, FFN 2048, 32,000 pieces, int8: ``tests/support/tiny_package.py``,
``size="base"``) OUTSIDE the repo, and translates the same 504 distinct German
sentences (56 articles of 9: ``bench/sentences_de.py``) with every contender, at
the same beam size and ``max_decoding_length`` (random weights must not decide
how long decoding runs), with no sentence cache anywhere:

(a) argos   -- Argos Translate 1.11 ``translate()`` once per article, its defaults
               except the beam; in a separate venv (``bench/argos_worker.py``).
(b) limit   -- one raw CTranslate2 ``translate_batch`` over all sentences (already
               tokenised), with the best thread / batch settings of a short sweep.
(c) engine  -- ``get_engine(package, options).translate_documents(docs, "de",
               cache=None)``, docs = [title, *paragraphs] per article, as the flow
               calls it.
(d) flow    -- the whole ``translate-news`` flow over the articles as a folder
               source, against a ``prefect server`` started here.

(b), (c), (d) run ``--repeats`` interleaved rounds (limit, engine, flow), each in
its own process, once the server is up; medians are reported. Argos runs once
(it is slow, and far from its target). The last line is the summary; details
go to ``<cache>/last-run.json``. Cache (package, Argos venv):
``$NEWSFLOW_BENCH_CACHE`` or ``~/.cache/newsflow-bench``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import harness as h  # noqa: E402
from sentences_de import articles  # noqa: E402

ARTICLES = 56  # x 9 sentences = 504 distinct sentences
SWEEP_EVERY = 4  # the limit sweep uses every 4th article (126 sentences)
# (inter_threads, intra_threads, batch_type, max_batch_size, presorted)
SWEEP = [
    (2, 1, "tokens", 4096, False),
    (2, 1, "tokens", 1024, False),
    (2, 1, "examples", 64, False),
    (2, 1, "examples", 32, False),
    (2, 1, "examples", 16, False),
    (2, 1, "examples", 32, True),
    (1, 2, "tokens", 4096, False),
]
TARGETS = {"engine/limit": 0.9, "engine/argos": 6.0, "flow/engine": 0.85}
PEAK_RSS_TARGET_MB = 1024


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="rounds of limit/engine/flow (3)")
    p.add_argument("--beam", type=int, default=2, help="beam size for every contender (2)")
    p.add_argument("--max-decoding-length", type=int, default=64, help="decoding cap for all (64)")
    p.add_argument("--skip-argos", action="store_true", help="do not run (a); print argos n/a")
    p.add_argument("--skip-flow", action="store_true", help="do not run (d); print flow n/a")
    p.add_argument("--skip-sweep", action="store_true", help="limit = 2x1 threads, 1024 tokens")
    p.add_argument("--rebuild-argos-venv", action="store_true")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("NEWSFLOW_BENCH_CACHE", "~/.cache/newsflow-bench")),
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary work dir")
    return p.parse_args()


def rate(result: dict, sentences: int | None = None) -> float:
    return (sentences or result["sentences"]) / result["seconds"]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def others_load(result: dict, cores: int) -> float:
    """Share of the machine other processes used while ``result`` was timed."""
    return max(0.0, result["busy_s"] - result["cpu_s"]) / (result["seconds"] * cores)


def sweep_label(cfg) -> str:
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
    live = Live()
    try:
        return run(args, cache, work, live)
    finally:
        if live.flow is not None:
            live.flow.close()
        if live.server is not None:
            live.server.stop()
        if args.keep:
            h.log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, cache: Path, work: Path, live: Live) -> int:
    import ctranslate2
    import sentencepiece

    from newsflow.config import TranslationConfig
    from translators.engine import EngineOptions
    from translators.packages import install_from_path

    t_start = time.perf_counter()
    cores = len(os.sched_getaffinity(0))
    load_start = os.getloadavg()[0]
    beam, cap = args.beam, args.max_decoding_length
    translation = {"beam_size": beam, "max_decoding_length": cap, "sentence_cache": False}
    options = EngineOptions.from_config(TranslationConfig(**translation))

    package_file = h.base_package(cache)
    pkg = install_from_path(package_file, work / "packages")[0]
    arts = articles(ARTICLES)
    sp = sentencepiece.SentencePieceProcessor(model_file=str(pkg.tokenizer_path))
    data = h.check_segmentation(arts, options.max_input_tokens, lambda s: len(sp.encode(s)))
    n = data["sentences"]
    env = h.worker_env(work)
    out: dict = {
        "sentences": n,
        "articles": len(arts),
        "beam": beam,
        "max_decoding_length": cap,
        "cores": cores,
        "load_start": load_start,
        "data": data,
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
        return h.run_worker(
            "limit",
            {
                **limit_spec,
                "every": every,
                "inter_threads": inter,
                "intra_threads": intra,
                "batch_type": batch_type,
                "max_batch_size": size,
                "presort": presorted,
            },
            work,
            env,
        )

    # (b) sweep, on a subset, before anything else runs
    best = (2, 1, "tokens", 1024, False)
    sweep = []
    if not args.skip_sweep:
        for cfg in SWEEP:
            r = limit_run(cfg, SWEEP_EVERY)
            sweep.append((cfg, r))
            h.log(f"sweep {sweep_label(cfg)}: {rate(r):.2f} sent/s")
        best = max(sweep, key=lambda item: rate(item[1]))[0]
    out["sweep"] = [{"config": sweep_label(c), "sent_s": rate(r), **r} for c, r in sweep]
    out["limit_config"] = sweep_label(best)

    # (a) Argos, once
    argos, argos_na = None, None
    if args.skip_argos:
        argos_na = "skipped (--skip-argos)"
    else:
        try:
            python = h.argos_venv(cache, args.rebuild_argos_venv)
            h.log("running Argos translate() over every article ...")
            argos = h.run_argos(python, pkg.path, arts, work, beam, cap)
            if argos["sentences"] != n:
                h.log(f"note: Argos decoded {argos['sentences']} sentences, not {n}")
        except h.Unavailable as exc:
            argos_na = str(exc)
            h.log(f"argos: n/a -- {argos_na}")
    out["argos"], out["argos_na"] = argos, argos_na

    # (d) set-up: the Prefect server, the flow process, one warm-up flow
    server_info: dict = {}
    flow = None
    if not args.skip_flow:
        h.log("starting prefect server ...")
        server = live.server = h.PrefectServer(work, env)
        server_info["startup_s"] = server.startup_s
        flow_env = {
            **env,
            "PREFECT_API_URL": server.url,
            "PREFECT_HOME": str(work / "prefect-client"),
        }
        flow = live.flow = h.FlowWorker(work, flow_env)
        server_info["flow_import_s"] = flow.ready["import_s"]
        main_source, warm_source = work / "sources" / "main", work / "sources" / "warmup"
        h.write_folder_source(main_source, arts)
        warm_arts = articles(2, seed=99)
        h.write_folder_source(warm_source, warm_arts)
        warm_dir = work / "flow" / "warmup"
        warm = flow.run(
            h.write_config(warm_dir, warm_source, work / "packages", translation),
            warm_dir / "output",
        )
        server_info["warmup"] = warm
        h.log(
            f"prefect server up in {server.startup_s:.1f} s; warm-up flow {warm['seconds']:.1f} s"
        )

    # rounds: limit, engine, flow
    rounds = []
    server_cpu0, wall0 = (live.server.cpu_s() if live.server else 0.0), time.perf_counter()
    for i in range(args.repeats):
        lim = limit_run(best, 1)
        eng = h.run_worker(
            "engine",
            {
                "package": str(pkg.path),
                "articles": ARTICLES,
                "options": dataclasses.asdict(options),
            },
            work,
            env,
        )
        fl = None
        if flow is not None:
            run_dir = work / "flow" / f"run-{i}"
            fl = flow.run(
                h.write_config(run_dir, main_source, work / "packages", translation),
                run_dir / "output",
            )
        rounds.append({"limit": lim, "engine": eng, "flow": fl})
        h.log(
            f"round {i + 1}: limit {rate(lim):.2f}, engine {rate(eng):.2f}, flow "
            f"{fmt(rate(fl, n) if fl else None)} sent/s"
        )
    if live.server is not None:
        server_info["cpu_during_rounds_s"] = live.server.cpu_s() - server_cpu0
        server_info["rounds_wall_s"] = time.perf_counter() - wall0
    out["rounds"], out["server"] = rounds, server_info
    out["versions"] = {"ctranslate2": ctranslate2.__version__, "python": sys.version.split()[0]}
    out["total_s"] = time.perf_counter() - t_start
    report(out, cores, n)
    (cache / "last-run.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


def flow_problem(fl: dict, n: int, articles_count: int) -> str | None:
    if fl["error"] or fl["state"] != "COMPLETED":
        return f"state {fl['state']}: {fl['error']}"
    if fl["by_status"].get("translated") != articles_count:
        return f"statuses {fl['by_status']}"
    if fl["sentences_decoded"] != n:
        return f"{fl['sentences_decoded']} sentences decoded, not {n}"
    return None


def report(out: dict, cores: int, n: int) -> None:
    rounds = out["rounds"]
    lims = [r["limit"] for r in rounds]
    engs = [r["engine"] for r in rounds]
    flows = [r["flow"] for r in rounds if r["flow"]]
    problems = [p for p in (flow_problem(f, n, out["articles"]) for f in flows) if p]
    for e in engs:
        if e["sentences"] != n:
            problems.append(f"engine decoded {e['sentences']} sentences, not {n}")
    argos = out["argos"]
    L = median([rate(r) for r in lims])
    E = median([rate(r) for r in engs])
    F = median([rate(f, n) for f in flows]) if flows and not problems else None
    A = rate(argos) if argos else None
    ratio = {
        "engine/limit": E / L if E and L else None,
        "engine/argos": E / A if E and A else None,
        "flow/engine": F / E if F and E else None,
    }
    out["summary"] = {"engine": E, "limit": L, "argos": A, "flow": F, **ratio, "problems": problems}
    d = out["data"]
    lim0 = lims[0]
    print(
        f"newsflow throughput benchmark: {cores} cores, load average {out['load_start']:.2f} "
        f"at start, CTranslate2 {out['versions']['ctranslate2']}, total {out['total_s']:.0f} s"
    )
    print(
        f"data: {n} distinct German sentences in {out['articles']} articles (headline + 4 "
        f"paragraphs of 2 sentences), {d['source_tokens_mean']:.1f} source tokens a sentence "
        f"({d['tokens_per_word']:.1f} a word)"
    )
    print(
        "model: random-weight transformer-base (6+6 layers, d_model 512, 8 heads, FFN 2048, "
        "32,000 pieces), int8, CPU"
    )
    print(
        f"every contender: beam {out['beam']}, max_decoding_length {out['max_decoding_length']}, "
        f"no sentence cache; outputs {lim0['output_tokens_mean']:.1f} tokens on average, "
        f"{lim0['hit_limit']} reached the cap"
    )
    if out["sweep"]:
        print(
            f"\nlimit sweep: one translate_batch over {out['sweep'][0]['sentences']} sentences "
            "(every 4th article), one run each"
        )
        for s in out["sweep"]:
            print(
                f"  {s['config']:<38} {s['sent_s']:7.2f} sent/s   others' load "
                f"{others_load(s, cores):4.0%}"
            )
        print(f"  best: {out['limit_config']} (CTranslate2 sorts by length itself)")

    def row(name: str, value, runs: list[dict], sentences: int | None = None) -> None:
        if value is None:
            print(f"{name:<44} {'n/a':>7}")
            return
        rates = " ".join(f"{rate(r, sentences):.2f}" for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs) / n
        load = statistics.median(others_load(r, cores) for r in runs)
        print(f"{name:<44} {value:7.2f}   {len(runs)}: {rates:<20} {cpu:8.3f}   {load:4.0%}")

    print(f"\n{'contender':<44} {'sent/s':>7}   runs{'':<19} CPU s/sent  others' load")
    row("(a) argos translate() per article", A, [argos] if argos else [])
    row(f"(b) limit translate_batch {out['limit_config']}", L, lims)
    row("(c) engine translate_documents", E, engs)
    row("(d) flow translate-news", F, flows, n)
    if flows:
        print(
            "per round: engine/limit "
            + " ".join(f"{rate(r['engine']) / rate(r['limit']):.2f}" for r in rounds)
            + "; flow/engine "
            + " ".join(f"{rate(r['flow'], n) / rate(r['engine']):.2f}" for r in rounds if r["flow"])
        )
    else:
        print(
            "per round: engine/limit "
            + " ".join(f"{rate(r['engine']) / rate(r['limit']):.2f}" for r in rounds)
        )

    if argos:
        s = argos["settings"]
        print(
            f"\n(a) argos {argos['versions']['argostranslate']}: splitter {s['splitter']}; "
            f"Argos settings beam {s['beam_size']} (ARGOS_BEAM_SIZE), batch "
            f"{s['batch_size_tokens']} tokens, inter {s['inter_threads']} / intra "
            f"{s['intra_threads']}, compute {s['compute_type']} (defaults); "
            f"max_decoding_length {s['max_decoding_length']} added by wrapping "
            f"ctranslate2.Translator.translate_batch; {argos['sentences']} sentences in "
            f"{argos['calls']} translate_batch calls, {argos['hit_limit']} hit the cap; "
            f"import {argos['import_s']:.1f} s, first call {argos['first_call_s']:.2f} s"
        )
    else:
        print(f"\n(a) argos: n/a -- {out['argos_na']}")
    peak = max(e["peak_rss_mb"] for e in engs)
    model_share = statistics.median(e["model_s"] / e["seconds"] for e in engs)
    print(
        f"(c) engine: first call (load + one sentence) "
        f"{statistics.median(e['first_call_s'] for e in engs):.2f} s (median; imports "
        f"{statistics.median(e['import_s'] for e in engs):.2f} s before it); peak RSS "
        f"{peak:.0f} MB (max of {len(engs)} runs, {engs[0]['rss_after_load_mb']:.0f} MB after "
        f"load); threads {engs[0]['threads'][0]}x{engs[0]['threads'][1]}; model calls "
        f"{model_share:.0%} of its time"
    )
    srv = out["server"]
    if srv:
        warm = srv["warmup"]
        print(
            f"(d) flow: prefect server healthy after {srv['startup_s']:.1f} s (fresh database); "
            f"flow process imports {srv['flow_import_s']:.1f} s; warm-up flow over 2 other "
            f"articles (first run in the process: engine load, Prefect's first-run costs) "
            f"{warm['seconds']:.1f} s, not counted; server CPU during the rounds "
            f"{srv['cpu_during_rounds_s']:.1f} s in {srv['rounds_wall_s']:.0f} s"
        )
        if flows:
            mid = sorted(flows, key=lambda f: f["seconds"])[len(flows) // 2]
            stages = mid["stage_seconds"]
            outside = mid["seconds"] - sum(stages.values())
            print(
                "    median flow run: "
                + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
                + f"; outside the stages {outside:.2f}; total {mid['seconds']:.2f} s "
                f"(engine alone, median: {n / E:.2f} s)"
            )
        for p in problems:
            print(f"    PROBLEM: {p}")
    else:
        print("(d) flow: n/a -- skipped (--skip-flow)")
    checks = [
        f"{k} {fmt(v)} {'ok' if v is not None and v >= TARGETS[k] else 'MISSED'} (>= {TARGETS[k]})"
        if v is not None
        else f"{k} n/a"
        for k, v in ratio.items()
    ]
    checks.append(
        f"engine peak RSS {peak:.0f} MB {'ok' if peak < PEAK_RSS_TARGET_MB else 'MISSED'} (< 1 GB)"
    )
    print("targets: " + "; ".join(checks))
    print(
        "throughput: "
        + ", ".join(
            [
                f"engine {fmt(E)} sent/s",
                f"limit {fmt(L)} sent/s",
                f"argos {fmt(A)} sent/s",
                f"flow {fmt(F)} sent/s",
                f"engine/limit {fmt(ratio['engine/limit'])}",
                f"engine/argos {fmt(ratio['engine/argos'])}",
                f"flow/engine {fmt(ratio['flow/engine'])}",
            ]
        )
    )


if __name__ == "__main__":
    sys.exit(main())
