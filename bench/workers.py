"""Benchmark contenders, each run in a fresh process by ``bench/throughput.py``.

    python bench/workers.py limit  SPEC.json   # (b) raw CTranslate2 translate_batch
    python bench/workers.py engine SPEC.json   # (c) newsflow's Engine.translate_documents
    python bench/workers.py flow   SPEC.json   # (d) the translate-news flow (persistent)

Each prints its result as ONE JSON line on the real stdout; anything else that
writes to stdout (Prefect, CTranslate2) is sent to stderr. The ``flow`` worker
stays up and reads one JSON command per line on stdin (``{"op": "run",
"config": ..., "output_dir": ...}`` or ``{"op": "stop"}``), so the flows run in
one process like a long-running ``newsflow serve`` worker, while the engine and
the limit get a fresh process each (no other model or thread pool in them).

Every timed region reports ``seconds`` (wall), ``cpu_s`` (this process, user +
system) and ``busy_s`` (CPU seconds the whole machine was busy, from
/proc/stat): ``busy_s - cpu_s`` is what other processes took meanwhile.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from sentences_de import articles  # noqa: E402

WARMUP_SENTENCE = "Der Ausschuss tagt am Vormittag im Rathaus."


def machine_busy_s() -> float:
    with open("/proc/stat", encoding="ascii") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is already in user)
    return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] if len(f) > 7 else 0)) / os.sysconf(
        "SC_CLK_TCK"
    )


def own_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Meter:
    """Wall, own CPU and machine-wide busy CPU over a ``with`` block."""

    def __enter__(self) -> Meter:
        self._t, self._c, self._b = time.perf_counter(), own_cpu_s(), machine_busy_s()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._t
        self.cpu_s = own_cpu_s() - self._c
        self.busy_s = machine_busy_s() - self._b

    def as_dict(self) -> dict:
        return {"seconds": self.seconds, "cpu_s": self.cpu_s, "busy_s": self.busy_s}


def reply_channel():
    """The real stdout for the JSON reply; fd 1 is pointed at stderr from now on."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    return channel


def send(channel, obj: dict) -> None:
    channel.write(json.dumps(obj) + "\n")
    channel.flush()


def all_sentences(count: int, every: int = 1) -> list[str]:
    """The distinct sentences (titles included) of the articles, in order; ``every``
    keeps every n-th article (the limit sweep's subset)."""
    return [s for i, a in enumerate(articles(count)) if i % every == 0 for s in a.sentences]


# --- (b) the limit: CTranslate2 alone ---------------------------------------------


def run_limit(spec: dict, channel) -> None:
    import ctranslate2
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=spec["tokenizer"])
    tokens = [sp.encode(s, out_type=str) for s in all_sentences(spec["articles"], spec["every"])]
    if spec.get("presort"):
        tokens.sort(key=len)  # CTranslate2 sorts by length itself; shown for completeness
    translator = ctranslate2.Translator(
        spec["model_dir"],
        device="cpu",
        compute_type=spec["compute_type"],
        inter_threads=spec["inter_threads"],
        intra_threads=spec["intra_threads"],
    )
    kwargs = {"beam_size": spec["beam_size"], "max_decoding_length": spec["max_decoding_length"]}
    translator.translate_batch(tokens[:2], **kwargs)  # warm-up, like the engine's first call
    with Meter() as m:
        results = translator.translate_batch(
            tokens, max_batch_size=spec["max_batch_size"], batch_type=spec["batch_type"], **kwargs
        )
    lengths = [len(r.hypotheses[0]) for r in results]
    send(
        channel,
        {
            **m.as_dict(),
            "sentences": len(tokens),
            "source_tokens_mean": sum(map(len, tokens)) / len(tokens),
            "output_tokens_mean": sum(lengths) / len(lengths),
            "hit_limit": sum(n >= spec["max_decoding_length"] for n in lengths),
            "peak_rss_mb": proc_status_mb("VmHWM"),
        },
    )


# --- (c) the engine, as the pipeline calls it --------------------------------------


class _TimedTranslator:
    """Wraps the engine's ctranslate2.Translator to time the model calls (diagnosis)."""

    def __init__(self, inner) -> None:
        self._inner, self.seconds, self.calls = inner, 0.0, 0

    def translate_batch(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self._inner.translate_batch(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0
            self.calls += 1

    def __getattr__(self, name):
        return getattr(self._inner, name)


def run_engine(spec: dict, channel) -> None:
    t0 = time.perf_counter()
    from translators.engine import EngineOptions, get_engine
    from translators.packages import load_package

    import_s = time.perf_counter() - t0
    docs = [[a.title, *a.paragraphs] for a in articles(spec["articles"])]
    options = EngineOptions(**spec["options"])

    t0 = time.perf_counter()
    engine = get_engine(load_package(Path(spec["package"])), options)
    engine.translate_documents([[WARMUP_SENTENCE]], "de", cache=None)
    first_call_s = time.perf_counter() - t0
    rss_after_load = proc_status_mb("VmRSS")

    timed = _TimedTranslator(engine._translator)  # private on purpose: bench diagnosis only
    engine._translator = timed
    with Meter() as m:
        results = engine.translate_documents(docs, "de", cache=None)
    send(
        channel,
        {
            **m.as_dict(),
            "sentences": sum(r.sentences for r in results),
            "redecoded": engine.sentences_redecoded,
            "truncated": sum(r.truncated_sentences for r in results),
            "model_s": timed.seconds,
            "model_calls": timed.calls,
            "import_s": import_s,
            "first_call_s": first_call_s,
            "rss_after_load_mb": rss_after_load,
            "peak_rss_mb": proc_status_mb("VmHWM"),
            "threads": list(options.resolved_threads()),
        },
    )


# --- (d) the flow -------------------------------------------------------------------


def _engine_sentences() -> int:
    import translators.engine as engine_module

    return sum(e.sentences_decoded for e in engine_module._engines.values())


def _engine_redecoded() -> int:
    import translators.engine as engine_module

    return sum(e.sentences_redecoded for e in engine_module._engines.values())


def _engine_in_flow_process(cmd: dict) -> dict:
    from translators.engine import EngineOptions, get_engine
    from translators.packages import load_package

    docs = [[a.title, *a.paragraphs] for a in articles(cmd["articles"])]
    engine = get_engine(load_package(Path(cmd["package"])), EngineOptions(**cmd["options"]))
    with Meter() as m:
        results = engine.translate_documents(docs, "de", cache=None)
    return {**m.as_dict(), "sentences": sum(r.sentences for r in results)}


def run_flow(spec: dict, channel) -> None:
    t0 = time.perf_counter()
    from flows.runners import foreground_run
    from flows.translate_news import RunParameters, translate_news

    send(channel, {"ready": True, "import_s": time.perf_counter() - t0})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("op") == "engine":  # diagnosis: the same engine, in this process, no flow
            send(channel, _engine_in_flow_process(cmd))
            continue
        if cmd.get("op") != "run":
            break
        before, redecoded_before = _engine_sentences(), _engine_redecoded()
        error = None
        with Meter() as m:
            try:  # as `newsflow run` runs it (flows/runners.py: foreground_run)
                with foreground_run():
                    state = translate_news(RunParameters(config_path=cmd["config"]), return_state=True)
                summary = state.result(raise_on_failure=False)
            except Exception as exc:  # reported, never hidden
                state, summary, error = None, None, f"{type(exc).__name__}: {exc}"
        reports = sorted(Path(cmd["output_dir"], "reports").glob("*.json"))
        report = json.loads(reports[-1].read_text(encoding="utf-8")) if reports else {}
        if isinstance(summary, BaseException):
            error = f"{type(summary).__name__}: {summary}"
        send(
            channel,
            {
                **m.as_dict(),
                "state": state.type.value if state is not None else "CRASHED",
                "error": error,
                "by_status": report.get("by_status", {}),
                "articles_in": report.get("articles_in", 0),
                "stage_seconds": report.get("stage_seconds", {}),
                "sentences_decoded": _engine_sentences() - before,
                "sentences_redecoded": _engine_redecoded() - redecoded_before,
            },
        )


def main() -> None:
    kind, spec_path = sys.argv[1], sys.argv[2]
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    channel = reply_channel()
    {"limit": run_limit, "engine": run_engine, "flow": run_flow}[kind](spec, channel)


if __name__ == "__main__":
    main()
