"""Contender (a): Argos Translate's own ``translate()``, once per article.

Runs INSIDE the separate Argos venv that ``bench/throughput.py`` builds (stanza,
spaCy and torch are not in the project venv, by design), never in the project
venv. Standard library + argostranslate only. Usage (``throughput.py`` does this):

    ARGOS_PACKAGES_DIR=... ARGOS_CHUNK_TYPE=SPACY ARGOS_BEAM_SIZE=2 XDG_*_HOME=... \\
        <argos-venv>/bin/python bench/argos_worker.py SPEC.json

SPEC.json: {"texts": [article, ...], "max_decoding_length": 64, "warmup": "..."}.
Prints ONE JSON line on stdout with the timings (everything else goes to stderr).

How the settings are applied (argostranslate 1.11 reads them at import):
* beam size, batch size, threads, compute type: Argos's own env settings
  (``ARGOS_BEAM_SIZE`` etc., set by the caller); only the beam size is changed
  from Argos's defaults, so every contender decodes with the same beam.
* ``max_decoding_length``: Argos has no setting for it (its ``translate_batch``
  call leaves CTranslate2's default, 256), so ``ctranslate2.Translator`` is
  wrapped BEFORE argostranslate is imported: the wrapper adds
  ``max_decoding_length`` to every ``translate_batch`` call and counts the
  sentences and output tokens it decodes; nothing else changes.
* Sentence splitting: see ``prepare_offline_splitter``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from importlib import metadata
from pathlib import Path


def prepare_offline_splitter(packages_dir: Path, cache_home: Path) -> str:
    """Make Argos's sentence splitter work offline; returns a one-line description.

    Argos 1.11 splits with MiniSBD (downloads an ONNX model on first use), Stanza
    (re-downloads resources.json on every pipeline start) or spaCy
    (``ARGOS_CHUNK_TYPE=SPACY``; a package may carry its own ``spacy/`` model,
    otherwise Argos downloads ``xx_sent_ud_sm``). None of those models can be had
    offline, and ``ARGOS_CHUNK_TYPE=NONE`` raises NotImplementedError. The only
    offline path through Argos's own code is SPACY with a package-local
    ``spacy/`` folder: we save a BLANK German spaCy pipeline there, and Argos
    adds its rule-based ``sentencizer`` to it (as it does to every spaCy model).
    Argos also tries to cache ``xx_sent_ud_sm`` when argostranslate.sbd is
    imported with SPACY; an empty marker in its cache stops that doomed download
    (the cached model is never used, the package's own spacy/ wins).
    """
    import spacy

    for pkg in sorted(p for p in packages_dir.iterdir() if (p / "metadata.json").exists()):
        target = pkg / "spacy"
        if not (target / "config.cfg").exists():
            spacy.blank(json.loads((pkg / "metadata.json").read_text())["from_code"]).to_disk(
                target
            )
    marker = cache_home / "argos-translate" / "spacy" / "senter" / "model"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return (
        f"ARGOS_CHUNK_TYPE=SPACY with a blank spaCy {spacy.__version__} pipeline in the "
        "package's spacy/ folder (Argos adds its rule-based sentencizer); MiniSBD, Stanza and "
        "xx_sent_ud_sm need downloads"
    )


def cpu_now() -> tuple[float, float]:
    """(this process's CPU seconds, the machine's busy CPU seconds from /proc/stat)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/stat", encoding="ascii") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    busy = (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] if len(f) > 7 else 0)) / os.sysconf(
        "SC_CLK_TCK"
    )
    return r.ru_utime + r.ru_stime, busy


def main() -> None:
    t_start = time.perf_counter()
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    reply = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything Argos / spaCy prints goes to stderr, not into the reply

    splitter = prepare_offline_splitter(
        Path(os.environ["ARGOS_PACKAGES_DIR"]), Path(os.environ["XDG_CACHE_HOME"])
    )

    import ctranslate2

    cap = int(spec["max_decoding_length"])
    stats = {"calls": 0, "sentences": 0, "output_tokens": 0, "hit_limit": 0}
    original = ctranslate2.Translator

    class CappedTranslator:
        """ctranslate2.Translator with max_decoding_length added to translate_batch."""

        def __init__(self, *args, **kwargs):
            self._inner = original(*args, **kwargs)

        def translate_batch(self, source, *args, **kwargs):
            kwargs.setdefault("max_decoding_length", cap)
            results = self._inner.translate_batch(source, *args, **kwargs)
            stats["calls"] += 1
            stats["sentences"] += len(source)
            for r in results:
                n = len(r.hypotheses[0])
                stats["output_tokens"] += n
                stats["hit_limit"] += n >= cap
            return results

        def __getattr__(self, name):
            return getattr(self._inner, name)

    ctranslate2.Translator = CappedTranslator  # argostranslate calls ctranslate2.Translator(...)

    import argostranslate.settings as settings
    import argostranslate.translate as argos

    import_s = time.perf_counter() - t_start  # spaCy, CTranslate2, argostranslate (+ stanza)

    t0 = time.perf_counter()
    argos.translate(spec["warmup"], "de", "en")  # load model + spaCy, one sentence
    first_call_s = time.perf_counter() - t0
    translation = argos.get_translation_from_codes("de", "en")
    sentencizer = type(
        getattr(getattr(translation, "underlying", translation), "sentencizer", None)
    )

    for key in stats:
        stats[key] = 0
    cpu0, busy0 = cpu_now()
    t0 = time.perf_counter()
    outputs = [argos.translate(text, "de", "en") for text in spec["texts"]]
    seconds = time.perf_counter() - t0
    cpu1, busy1 = cpu_now()

    json.dump(
        {
            "seconds": seconds,
            "cpu_s": cpu1 - cpu0,
            "busy_s": busy1 - busy0,
            "import_s": import_s,
            "first_call_s": first_call_s,
            "articles": len(outputs),
            "empty_outputs": sum(not o.strip() for o in outputs),
            **stats,
            "settings": {
                "beam_size": settings.beam_size,
                "batch_size_tokens": settings.batch_size,
                "inter_threads": settings.inter_threads,
                "intra_threads": settings.intra_threads,
                "compute_type": settings.compute_type,
                "chunk_type": settings.chunk_type.name,
                "sentencizer": sentencizer.__name__,
                "splitter": splitter,
                "max_decoding_length": cap,
            },
            "versions": {
                "argostranslate": metadata.version("argostranslate"),
                "ctranslate2": ctranslate2.__version__,
                "python": sys.version.split()[0],
            },
        },
        reply,
    )
    reply.write("\n")
    reply.flush()


if __name__ == "__main__":
    main()
