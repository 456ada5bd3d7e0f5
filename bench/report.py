"""The printed report of ``bench/throughput.py`` (from the run's result dict)."""

from __future__ import annotations

import statistics

TARGETS = {"engine/limit": 0.9, "engine/argos": 6.0, "flow/engine": 0.85}
PEAK_RSS_TARGET_MB = 1024
SHARED_WARNING = 0.15  # others used more than this share of the machine: say so


def rate(result: dict, sentences: int | None = None) -> float:
    return (sentences or result["sentences"]) / result["seconds"]


def others(result: dict, cores: int) -> float:
    """Share of the machine other processes used while ``result`` was timed."""
    return max(0.0, result["busy_s"] - result["cpu_s"]) / (result["seconds"] * cores)


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def flow_problem(fl: dict, n: int, articles: int) -> str | None:
    if fl["error"] or fl["state"] != "COMPLETED":
        return f"flow state {fl['state']}: {fl['error']}"
    if fl["by_status"].get("translated") != articles:
        return f"flow statuses {fl['by_status']}, expected {articles} translated"
    first = fl["sentences_decoded"] - fl.get("sentences_redecoded", 0)  # a second pass is extra
    if first != n:
        return f"the flow decoded {first} sentences, not {n}"
    return None


def report(out: dict) -> str:
    """Print the report; return the summary line (the caller prints it last)."""
    n, cores, rounds = out["sentences"], out["cores"], out["rounds"]
    by_label = {lab: [r["limits"][lab] for r in rounds] for lab in out["limit_configs"]}
    limit_label = max(by_label, key=lambda lab: _median([rate(r) for r in by_label[lab]]))
    lims = by_label[limit_label]
    engs = [r["engine"] for r in rounds]
    flows = [r["flow"] for r in rounds if r["flow"]]
    argos = out["argos"]
    problems = [p for p in (flow_problem(f, n, out["articles"]) for f in flows) if p]
    problems += [
        f"the engine decoded {e['sentences']} sentences, not {n}"
        for e in engs
        if e["sentences"] != n
    ]
    if argos and argos["sentences"] != n:
        problems.append(f"Argos decoded {argos['sentences']} sentences, not {n}")

    medians = {
        "engine": _median([rate(r) for r in engs]),
        "limit": _median([rate(r) for r in lims]),
        "argos": rate(argos) if argos else None,
        "flow": _median([rate(f, n) for f in flows]) if flows and not problems else None,
    }
    fastest = {
        "engine": max(rate(r) for r in engs),
        "limit": max(rate(r) for r in lims),
        "argos": medians["argos"],
        "flow": max((rate(f, n) for f in flows), default=None) if medians["flow"] else None,
    }
    # CPU seconds a sentence (the flow: its process + the Prefect server during the run)
    cpu = {
        "engine": _median([r["cpu_s"] / n for r in engs]),
        "limit": _median([r["cpu_s"] / n for r in lims]),
        "flow": _median([(f["cpu_s"] + f["server_cpu_s"]) / n for f in flows]),
    }

    def ratios(v: dict) -> dict:
        return {
            "engine/limit": _div(v["engine"], v["limit"]),
            "engine/argos": _div(v["engine"], v["argos"]),
            "flow/engine": _div(v["flow"], v["engine"]),
        }

    ratio = ratios(medians)
    peak = max(e["peak_rss_mb"] for e in engs)
    out["summary"] = {
        **medians,
        **ratio,
        "limit_config": limit_label,
        "fastest": fastest,
        "ratios_fastest": ratios(fastest),
        "cpu_s_per_sentence": cpu,
        "engine_peak_rss_mb": peak,
        "problems": problems,
    }

    _print_setup(out)
    print(
        f"\n{'contender':<40} {'median':>7} {'fastest':>8}   {'sent/s of each run':<22} "
        f"{'CPU s/sent':>10} {'others':>7}"
    )

    def row(name: str, key: str, runs: list[dict], sentences: int | None = None) -> None:
        if medians[key] is None:
            print(f"{name:<40} {'n/a':>7}")
            return
        each = " ".join(f"{rate(r, sentences):.2f}" for r in runs)
        cpu_s = _median([r["cpu_s"] / n for r in runs])
        load = _median([others(r, cores) for r in runs])
        print(
            f"{name:<40} {medians[key]:7.2f} {fastest[key]:8.2f}   {each:<22} {cpu_s:10.3f} "
            f"{load:7.0%}"
        )

    row("(a) argos translate() per article", "argos", [argos] if argos else [])
    row("(b) limit: CTranslate2 translate_batch", "limit", lims)
    row("(c) engine translate_documents", "engine", engs)
    row("(d) flow translate-news", "flow", flows, n)
    for lab, runs in by_label.items():
        if lab != limit_label:
            each = " ".join(f"{rate(r):.2f}" for r in runs)
            print(f"    (limit, other setting: {lab}: {each})")
    cpu_ratio = {
        "engine/limit": _div(cpu["limit"], cpu["engine"]),
        "flow/engine": _div(cpu["engine"], cpu["flow"]),
    }
    print(
        "ratios   "
        + "   ".join(
            f"{k}: median {fmt(ratio[k])}, fastest {fmt(ratios(fastest)[k])}"
            + (f", by CPU time {fmt(cpu_ratio[k])}" if k in cpu_ratio else "")
            for k in TARGETS
        )
    )
    per_round = "; ".join(
        f"round {i + 1}: engine/limit {rate(r['engine']) / rate(r['limits'][limit_label]):.2f}"
        + (f", flow/engine {rate(r['flow'], n) / rate(r['engine']):.2f}" if r["flow"] else "")
        for i, r in enumerate(rounds)
    )
    print(f"per round: {per_round}")
    timed = [*lims, *engs, *flows, *([argos] if argos else [])]
    shared = _median([others(r, cores) for r in timed])
    if shared is not None and shared > SHARED_WARNING:
        print(
            f"WARNING: other processes used {shared:.0%} of the machine during the timed runs "
            "(median): wall-clock rates are slowed and noisy; the CPU-time ratios and the "
            "fastest runs are steadier. Rerun on an idle machine for the README."
        )

    print()
    _print_details(out, limit_label, lims, engs, peak)
    _print_flow(out, flows, medians["engine"])
    for p in problems:
        print(f"PROBLEM: {p}")
    checks = [
        f"{k} n/a"
        if v is None
        else f"{k} {v:.2f} {'ok' if v >= TARGETS[k] else 'MISSED'} (>= {TARGETS[k]:g})"
        for k, v in ratio.items()
    ]
    checks.append(
        f"engine peak RSS {peak:.0f} MB {'ok' if peak < PEAK_RSS_TARGET_MB else 'MISSED'} (< 1 GB)"
    )
    if out.get("redecode"):
        again = [e.get("redecoded", 0) for e in engs]
        print(f"quality second pass on: the engine re-decoded {_median(again):.0f} of {n} sentences "
              f"({_median(again) / n:.0%}) at beam 4 with repetition penalties (config 'quality')")
    print("targets (medians): " + "; ".join(checks))
    print(f"details: {out['details_path']}; {out['total_s']:.0f} s in all")
    return (
        f"throughput: engine {fmt(medians['engine'])} sent/s, limit {fmt(medians['limit'])} "
        f"sent/s, argos {fmt(medians['argos'])} sent/s, flow {fmt(medians['flow'])} sent/s, "
        f"engine/limit {fmt(ratio['engine/limit'])}, engine/argos {fmt(ratio['engine/argos'])}, "
        f"flow/engine {fmt(ratio['flow/engine'])}"
    )


def _print_setup(out: dict) -> None:
    d, lim0 = out["data"], next(iter(out["rounds"][0]["limits"].values()))
    print(
        f"newsflow throughput benchmark: {out['cores']} cores, load average "
        f"{out['load_start']:.2f} at start, CTranslate2 {out['versions']['ctranslate2']}"
    )
    print(
        f"data: {out['sentences']} distinct German sentences in {out['articles']} articles "
        f"(headline + 4 paragraphs of 2 sentences), {d['source_tokens_mean']:.1f} source "
        f"tokens a sentence ({d['tokens_per_word']:.1f} a word)"
    )
    print(
        "model: random-weight transformer-base (6+6 layers, d_model 512, 8 heads, FFN 2048, "
        "32,000 pieces), int8, CPU"
    )
    print(
        f"every contender: beam {out['beam']}, max_decoding_length {out['max_decoding_length']}"
        f", no sentence cache; outputs {lim0['output_tokens_mean']:.1f} tokens on average, "
        f"{lim0['hit_limit']} reached the cap"
    )
    if out["sweep"]:
        print(
            f"\nlimit sweep: one translate_batch over {out['sweep'][0]['sentences']} sentences "
            "(every 4th article), one run each"
        )
        for s in out["sweep"]:
            print(
                f"  {s['config']:<36} {s['sent_s']:6.2f} sent/s   CPU "
                f"{s['cpu_s'] / s['sentences']:.3f} s/sent   peak RSS {s['peak_rss_mb']:4.0f} MB"
                f"   others {others(s, out['cores']):4.0%}"
            )
        print(
            f"  measured in the rounds: {', '.join(out['limit_configs'])} (the sweep's best "
            "and the engine's own setting; CTranslate2 sorts by length itself)"
        )


def _print_details(out: dict, limit_label: str, lims, engs, peak: float) -> None:
    argos = out["argos"]
    if argos:
        s = argos["settings"]
        print(
            f"(a) argos {argos['versions']['argostranslate']}: {s['splitter']}; beam "
            f"{s['beam_size']} (ARGOS_BEAM_SIZE), otherwise Argos's defaults (batch "
            f"{s['batch_size_tokens']} tokens, inter {s['inter_threads']} / intra "
            f"{s['intra_threads']}, compute {s['compute_type']}); max_decoding_length "
            f"{s['max_decoding_length']} added by wrapping ctranslate2.Translator; "
            f"{argos['sentences']} sentences in {argos['calls']} translate_batch calls, "
            f"{argos['hit_limit']} hit the cap; import {argos['import_s']:.1f} s and first "
            f"call {argos['first_call_s']:.2f} s not counted"
        )
    else:
        print(f"(a) argos: n/a -- {out['argos_na']}")
    print(
        f"(b) limit: {limit_label}, tokenised beforehand, the model call only; peak RSS "
        f"{max(r['peak_rss_mb'] for r in lims):.0f} MB"
    )
    e0 = engs[0]
    print(
        f"(c) engine: first call (load + one sentence) "
        f"{statistics.median(e['first_call_s'] for e in engs):.2f} s (median; imports "
        f"{statistics.median(e['import_s'] for e in engs):.2f} s before it); peak RSS "
        f"{peak:.0f} MB (max of {len(engs)} runs; {e0['rss_after_load_mb']:.0f} MB after "
        f"load); {out['engine_like_config']}; {e0['model_calls']} translate_batch call, "
        f"{statistics.median(e['model_s'] / e['seconds'] for e in engs):.0%} of its time"
    )


def _print_flow(out: dict, flows: list[dict], engine_rate: float | None) -> None:
    srv, n, cores = out["server"], out["sentences"], out["cores"]
    if not srv:
        print("(d) flow: n/a -- skipped (--skip-flow)")
        return
    print(
        f"(d) flow: prefect server healthy after {srv['startup_s']:.1f} s (fresh database); "
        f"flow process imports {srv['flow_import_s']:.1f} s; a warm-up flow over 2 other "
        f"articles (first run in the process: engine load, Prefect's first-run costs) took "
        f"{srv['warmup']['seconds']:.1f} s, not counted"
    )
    small = srv["small"]
    translate_s = small["stage_seconds"].get("translate", 0.0)
    print(
        f"    the same small flow again (fresh database, {small['sentences_decoded']} sentences): "
        f"{small['seconds']:.2f} s, of which translate {translate_s:.2f} s: about "
        f"{small['seconds'] - translate_s:.1f} s of every run is not translation"
    )
    if flows:
        mid = sorted(flows, key=lambda f: f["seconds"])[len(flows) // 2]
        stages = mid["stage_seconds"]
        outside = mid["seconds"] - sum(stages.values())
        print(
            "    median flow run (s): "
            + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
            + f"; outside the stages {outside:.2f}; total {mid['seconds']:.2f}"
            + (f"; the engine alone (median) {n / engine_rate:.2f}" if engine_rate else "")
            + f"; server CPU {mid['server_cpu_s']:.1f} s"
        )
    diag = out.get("diagnosis")
    if diag:
        parts = [
            f"{name}: {rate(r):.2f} sent/s (CPU {r['cpu_s'] / n:.3f} s/sent, others "
            f"{others(r, cores):.0%})"
            for name, r in (
                ("inside the flow's process, no flow", diag["engine_in_flow_process"]),
                ("a fresh process", diag["engine_fresh"]),
            )
        ]
        print("    diagnosis, the same engine call: " + "; ".join(parts))
