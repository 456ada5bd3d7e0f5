"""Translate with an Argos package through CTranslate2 directly (no argostranslate.translate).

Why not argostranslate's ``translate()``: it imports stanza/spaCy, downloads
sentence-splitting models at run time (fails offline), decodes each sentence
alone by default, and lets CTranslate2 truncate input (1024 tokens) and output
(256 tokens) silently (argos.md). Here:

* sentences come from :mod:`translators.segment`; every input is split to at
  most ``max_input_tokens`` tokens BEFORE decoding and CTranslate2's own input
  truncation is switched off (``max_input_length=0``), so no input is cut;
* an output that reaches ``max_decoding_length`` without ``</s>`` is flagged
  ``truncated`` (counted per document), never passed off as complete;
* all sentences of all documents of a call go to ONE ``translate_batch`` call
  (deduplicated; CTranslate2 sorts them by length and batches by tokens);
* every sentence gets its model score (``return_scores``: the length-normalised
  log-probability) and its n-best list (``num_hypotheses`` up to the beam size: the
  same beam search, no extra decoding; the pipeline picks names from it);
* with ``redecode`` on, sentences that come back low-confidence, looping or
  truncated (:data:`newsflow.quality.REDECODE_KINDS`) are decoded once more, in
  one more batched call, with a wider beam and ``repetition_penalty`` /
  ``no_repeat_ngram_size``; the better attempt is kept (fewer repetition /
  truncation flags first, then the higher score). At most ``redecode_max_share``
  of a call's sentences (the lowest-scoring first) are re-decoded, so a bad model
  cannot multiply a run's time.

Engines hold a loaded ``ctranslate2.Translator``, which is NOT fork-safe: create
engines (``get_engine``) only in the process that uses them, never in a parent
process that later forks workers.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from newsflow.errors import ModelError
from translators.installed import InstalledPackage
from translators.segment import segment_paragraphs, split_long
from translators.tokenizers import load_tokenizer

if TYPE_CHECKING:
    from newsflow.config import QualityConfig, TranslationConfig

EOS = "</s>"


@dataclass(frozen=True)
class EngineOptions:
    """Decoding settings (see ``newsflow.config.TranslationConfig``).

    Threads 0 = choose: on CPU ``inter_threads`` = usable cores and
    ``intra_threads`` = 1 (measured on 2 cores: 2 inter x 1 intra beats 1 x 2).
    ``max_batch_tokens`` bounds a sub-batch (source tokens); a call is also cut
    into at least ``inter_threads`` sub-batches so every worker has work. 1024:
    each worker holds its batch's decoder state, so peak memory grows with batch
    tokens x beam; on transformer-base, 2 cores, 1024 tokens was as fast as 2048
    and 4096 (within 1-2 %, 4096 slower) at half the memory or less: ~480 MB peak
    at beam 2, and beam 4 stays under 1 GB (``bench/settings.py``, README
    "Performance").
    ``max_input_tokens``: longer segments are split before decoding.
    ``max_decoding_length``: an output that reaches it is flagged truncated.
    ``num_hypotheses``: n-best list per sentence (0 = the beam size).
    ``redecode`` and the fields after it: the second pass (config ``quality``, see
    :class:`newsflow.config.QualityConfig`); ``low_confidence`` is
    ``((model_id or "default", threshold), ...)``.
    """

    beam_size: int = 2
    inter_threads: int = 0
    intra_threads: int = 0
    compute_type: str = "int8"
    device: str = "cpu"
    max_batch_tokens: int = 1024
    max_input_tokens: int = 200
    max_decoding_length: int = 512
    num_hypotheses: int = 0
    redecode: bool = False
    redecode_beam: int = 4
    repetition_penalty: float = 1.2
    no_repeat_ngram_size: int = 3
    redecode_max_share: float = 0.25
    low_confidence: tuple[tuple[str, float], ...] = (("default", -0.69),)

    @classmethod
    def from_config(cls, config: TranslationConfig, quality: QualityConfig | None = None) -> EngineOptions:
        """Decoding settings; with ``quality`` (config ``quality``) the second pass as configured."""
        extra = {}
        if quality is not None:
            extra = {
                "redecode": quality.redecode,
                "redecode_beam": quality.redecode_beam,
                "repetition_penalty": quality.repetition_penalty,
                "no_repeat_ngram_size": quality.no_repeat_ngram_size,
                "redecode_max_share": quality.redecode_max_share,
                "low_confidence": tuple(sorted(quality.low_confidence.items())),
            }
        return cls(
            beam_size=config.beam_size,
            inter_threads=config.inter_threads,
            intra_threads=config.intra_threads,
            compute_type=config.compute_type,
            device=config.device,
            max_batch_tokens=config.max_batch_tokens,
            max_input_tokens=config.max_input_tokens,
            max_decoding_length=config.max_decoding_length,
            **extra,
        )

    def __post_init__(self) -> None:
        # hashable and comparable however it was given (a dict, or JSON lists from a worker spec)
        table = self.low_confidence.items() if isinstance(self.low_confidence, dict) else self.low_confidence
        object.__setattr__(self, "low_confidence",
                           tuple(sorted((str(k), float(v)) for k, v in table)))

    def threshold_for(self, model_id: str) -> float:
        """The low-confidence threshold of this model (its own, else ``default``)."""
        table = dict(self.low_confidence)
        return float(table.get(model_id, table.get("default", -0.69)))

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def resolved_threads(self) -> tuple[int, int]:
        """(inter_threads, intra_threads) actually passed to CTranslate2."""
        inter, intra = self.inter_threads, self.intra_threads
        if self.resolved_device() != "cpu":
            return (inter or 1, intra)  # one GPU: one replica; intra 0 = CT2's default
        cores = _usable_cores()
        if inter == 0 and intra == 0:
            return cores, 1
        if inter == 0:
            return max(1, cores // intra), intra
        if intra == 0:
            return inter, max(1, cores // inter)
        return inter, intra


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class SentenceResult:
    text: str
    truncated: bool = False  # decoding hit max_decoding_length without </s>
    score: float | None = None  # length-normalised log-probability (None: not known)
    hypotheses: tuple[tuple[str, float], ...] = ()  # n-best (text, score), best first
    redecoded: bool = False  # a second attempt was made (the better one is this)

    def to_cache(self) -> str:
        return json.dumps({"t": self.text, "s": self.score, "h": [list(h) for h in self.hypotheses],
                           "r": self.redecoded}, ensure_ascii=False)

    @classmethod
    def from_cache(cls, value: str) -> SentenceResult:
        """A cached value: this class's JSON, or a plain translation (older caches)."""
        if value.startswith("{"):
            try:
                data = json.loads(value)
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("t"), str):
                return cls(text=data["t"], score=data.get("s"),
                           hypotheses=tuple((str(t), float(sc)) for t, sc in data.get("h") or ()),
                           redecoded=bool(data.get("r")))
        return cls(text=value)


@dataclass(frozen=True)
class DocResult:
    paragraphs: list[str]
    truncated_sentences: int
    sentences: int
    # per paragraph: (source sentence, its result), in order (the pipeline's quality checks)
    details: list[list[tuple[str, SentenceResult]]] = field(default_factory=list, compare=False)
    from_cache: int = field(default=0, compare=False)
    redecoded: int = field(default=0, compare=False)  # sentences decoded a second time


class SentenceCache(Protocol):
    """Stores finished sentence translations per model (the lead's SQLite store implements it)."""

    def get_many(self, model_key: str, sources: list[str]) -> dict[str, str]: ...

    def put_many(self, model_key: str, pairs: dict[str, str]) -> None: ...


class MemorySentenceCache:
    """In-memory :class:`SentenceCache` (tests, one-off runs)."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_many(self, model_key: str, sources: list[str]) -> dict[str, str]:
        with self._lock:
            return {s: self._data[(model_key, s)] for s in sources if (model_key, s) in self._data}

    def put_many(self, model_key: str, pairs: dict[str, str]) -> None:
        with self._lock:
            for source, target in pairs.items():
                self._data[(model_key, source)] = target

    def __len__(self) -> int:
        return len(self._data)


# --- Engine -----------------------------------------------------------------


class Engine:
    """One loaded package: tokenizer + CTranslate2 translator. Thread-safe."""

    def __init__(self, package: InstalledPackage, options: EngineOptions | None = None) -> None:
        import ctranslate2

        self.package = package
        self.options = options or EngineOptions()
        self.model_version = package.model_version
        opts = self.options
        # Everything that changes a sentence's output is in the cache key (never mixed).
        self.model_key = f"{package.model_id}@{self.model_version}@beam{opts.beam_size}"
        self.low_confidence = opts.threshold_for(package.model_id)
        if opts.redecode:
            self.model_key += (f"@re{opts.redecode_beam}-rp{opts.repetition_penalty:g}"
                               f"-nr{opts.no_repeat_ngram_size}-lc{self.low_confidence:g}"
                               f"-max{opts.redecode_max_share:g}")
        self._tokenizer = load_tokenizer(package)
        inter, intra = self.options.resolved_threads()
        self._workers = inter
        try:
            self._translator = ctranslate2.Translator(
                str(package.model_dir),
                device=self.options.resolved_device(),
                compute_type=self.options.compute_type,
                inter_threads=inter,
                intra_threads=intra,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(
                f"{package.model_dir}: cannot load the CTranslate2 model: "
                f"{' '.join(str(exc).split())}"
            ) from None
        # Like argostranslate: target_prefix is ONE target token (e.g. a language tag).
        self._prefix_tokens = [package.target_prefix] if package.target_prefix else None
        self._stats_lock = threading.Lock()
        self.model_calls = 0  # translate_batch calls (tests, metrics)
        self.sentences_decoded = 0  # every attempt: first passes and re-decodes
        self.sentences_redecoded = 0  # second attempts
        self.redecode_kept = 0  # ... whose output was kept (better than the first)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text))

    # ------------------------------------------------------------------

    def translate_sentences(self, sentences: list[str]) -> list[SentenceResult]:
        """Translate each sentence (one batched model call; empty -> empty, no call).

        A sentence over ``max_input_tokens`` is split (``split_long``) and its
        pieces' translations joined with a space, rather than truncated.
        """
        results = self._translate_unique({s.strip() for s in sentences if s.strip()}, None)
        return [results[s.strip()] if s.strip() else SentenceResult("") for s in sentences]

    def translate_documents(
        self,
        docs: list[list[str]],
        lang: str,
        cache: SentenceCache | None = None,
    ) -> list[DocResult]:
        """Translate documents (each a list of paragraphs) in one batched model call.

        Paragraphs are kept (one output paragraph per input paragraph, "" for
        an empty one); the sentences of a paragraph are joined with a space.
        ``lang`` picks the segmentation rules (de/en: Latin, zh/zt: Chinese).
        Sentences found in ``cache`` skip the model; new complete translations
        are stored (truncated ones are not, so they stay counted as truncated).
        """
        limit = self.options.max_input_tokens
        segmented = [
            segment_paragraphs(paragraphs, lang, self.count_tokens, limit) for paragraphs in docs
        ]
        unique = {s for doc in segmented for para in doc for s in para}
        known: dict[str, SentenceResult] = {}
        if cache is not None and unique:
            hits = cache.get_many(self.model_key, sorted(unique))
            known = {src: SentenceResult.from_cache(v) for src, v in hits.items() if src in unique}
        cached = set(known)
        fresh = self._translate_unique(unique - known.keys(), lang)
        if cache is not None and fresh:
            complete = {src: r.to_cache() for src, r in fresh.items() if not r.truncated}
            if complete:
                cache.put_many(self.model_key, complete)
        known.update(fresh)

        out = []
        for doc in segmented:
            paragraphs, details, truncated, count, hits, again = [], [], 0, 0, 0, 0
            for para in doc:
                parts = [known[s] for s in para]
                count += len(parts)
                truncated += sum(r.truncated for r in parts)
                hits += sum(s in cached for s in para)
                again += sum(r.redecoded for s, r in zip(para, parts, strict=True) if s not in cached)
                paragraphs.append(" ".join(r.text for r in parts if r.text))
                details.append(list(zip(para, parts, strict=True)))
            out.append(DocResult(paragraphs=paragraphs, truncated_sentences=truncated, sentences=count,
                                 details=details, from_cache=hits, redecoded=again))
        return out

    # ------------------------------------------------------------------

    def _translate_unique(self, sources: set[str], lang: str | None) -> dict[str, SentenceResult]:
        if not sources:
            return {}
        limit = self.options.max_input_tokens
        # Every model input fits max_input_tokens; sources that do not are split.
        pieces_of: dict[str, list[str]] = {}
        tokens_of: dict[str, list[str]] = {}
        for source in sorted(sources):
            tokens = self._tokenizer.encode(source)
            if len(tokens) <= limit:
                pieces_of[source] = [source]
                tokens_of[source] = tokens
                continue
            pieces = [p.strip() for p in split_long(source, self.count_tokens, limit)]
            pieces_of[source] = [p for p in pieces if p]
            for piece in pieces_of[source]:
                tokens_of.setdefault(piece, self._tokenizer.encode(piece))
        inputs = [p for p in tokens_of if tokens_of[p]]
        decoded = self._decode([tokens_of[p] for p in inputs])
        piece_result = dict(zip(inputs, decoded, strict=True))
        if self.options.redecode:
            self._redecode(piece_result, tokens_of, lang)
        out = {}
        for source, pieces in pieces_of.items():
            parts = [piece_result.get(p, SentenceResult("")) for p in pieces]
            out[source] = parts[0] if len(parts) == 1 else _joined(parts)
        return out

    def _needs_redecode(self, source: str, result: SentenceResult, lang: str | None) -> bool:
        from newsflow.quality import check_repetition, check_truncated

        if result.truncated or (result.score is not None and result.score < self.low_confidence):
            return True
        lang = lang or "de"
        return bool(check_repetition(source, result.text, lang) or check_truncated(source, result.text))

    def _redecode(self, results: dict[str, SentenceResult], tokens_of: dict[str, list[str]],
                  lang: str | None) -> None:
        """Decode the flagged pieces once more (wider beam, repetition penalties), in place."""
        opts = self.options
        flagged = [p for p, r in results.items() if self._needs_redecode(p, r, lang)]
        budget = math.ceil(opts.redecode_max_share * len(results))
        flagged.sort(key=lambda p: (results[p].score if results[p].score is not None else 0.0, p))
        flagged = flagged[:budget]
        if not flagged:
            return
        second = self._decode([tokens_of[p] for p in flagged], beam=max(opts.redecode_beam, 1),
                              repetition_penalty=opts.repetition_penalty,
                              no_repeat_ngram_size=opts.no_repeat_ngram_size)
        kept = 0
        for piece, again in zip(flagged, second, strict=True):
            first = results[piece]
            better = again if self._rank(piece, again, lang) > self._rank(piece, first, lang) else first
            kept += better is again
            results[piece] = SentenceResult(better.text, better.truncated, better.score,
                                            better.hypotheses, redecoded=True)
        with self._stats_lock:
            self.sentences_redecoded += len(flagged)
            self.redecode_kept += kept

    def _rank(self, source: str, result: SentenceResult, lang: str | None) -> tuple:
        """Better attempts rank higher: not truncated, not looping, then the higher score."""
        from newsflow.quality import check_repetition, check_truncated

        problems = int(result.truncated) + len(check_repetition(source, result.text, lang or "de"))
        problems += len(check_truncated(source, result.text))
        return (-problems, result.score if result.score is not None else -math.inf)

    def _decode(self, batch: list[list[str]], beam: int | None = None, **extra) -> list[SentenceResult]:
        if not batch:
            return []
        opts = self.options
        beam = beam or opts.beam_size
        prefix = [self._prefix_tokens] * len(batch) if self._prefix_tokens else None
        # Each sub-batch runs on ONE CTranslate2 worker (inter_threads), and with
        # intra_threads 1 a worker is one core: a single 1024-token batch would
        # leave the other cores idle. So cut the call into at least one sub-batch
        # per worker; max_batch_tokens stays the upper bound.
        total = sum(len(tokens) for tokens in batch)
        max_batch = max(1, min(opts.max_batch_tokens, -(-total // self._workers)))
        with self._stats_lock:
            self.model_calls += 1
            self.sentences_decoded += len(batch)
        try:
            results = self._translator.translate_batch(
                batch,
                target_prefix=prefix,
                max_batch_size=max_batch,
                batch_type="tokens",  # CTranslate2 sorts by length, batches by tokens
                beam_size=beam,
                num_hypotheses=min(opts.num_hypotheses or beam, beam),
                return_scores=True,
                max_input_length=0,  # never truncate: inputs were split to fit already
                max_decoding_length=opts.max_decoding_length,
                return_end_token=True,  # to tell "finished" from "hit the limit"
                replace_unknowns=True,
                **extra,
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelError(
                f"{self.package.path}: translation failed: {' '.join(str(exc).split())}"
            ) from None
        return [self._result(r) for r in results]

    def _result(self, result) -> SentenceResult:
        scores = list(getattr(result, "scores", None) or [])
        hyps = []
        for i, tokens in enumerate(result.hypotheses):
            text, finished = self._finish(tokens)
            hyps.append((text, finished, float(scores[i]) if i < len(scores) else None))
        text, finished, score = hyps[0]
        nbest = tuple((t, sc) for t, _f, sc in hyps if sc is not None)
        return SentenceResult(text=text, truncated=not finished, score=score, hypotheses=nbest)

    def _finish(self, tokens: list[str]) -> tuple[str, bool]:
        finished = bool(tokens) and tokens[-1] == EOS
        if finished:
            tokens = tokens[:-1]
        if self._prefix_tokens and tokens[: len(self._prefix_tokens)] == self._prefix_tokens:
            tokens = tokens[len(self._prefix_tokens) :]
        text = self._tokenizer.decode(tokens)
        prefix = self.package.target_prefix
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]  # the way argostranslate strips it
        return " ".join(text.split()), finished


def _joined(parts: list[SentenceResult]) -> SentenceResult:
    """A split sentence: its pieces' best outputs joined; score = mean over the pieces."""
    scores = [r.score for r in parts if r.score is not None]
    text = " ".join(r.text for r in parts if r.text)
    score = sum(scores) / len(scores) if scores else None
    return SentenceResult(text=text, truncated=any(r.truncated for r in parts), score=score,
                          hypotheses=((text, score),) if score is not None else (),
                          redecoded=any(r.redecoded for r in parts))


# --- Process-wide engine cache -------------------------------------------------

_engines: dict[tuple[str, str, EngineOptions], Engine] = {}
_engines_lock = threading.Lock()


def get_engine(package: InstalledPackage, options: EngineOptions | None = None) -> Engine:
    """The loaded :class:`Engine` for this package and options, shared in this process.

    Keyed on (path, model_version, options): a replaced package (new model.bin)
    gets a new engine. Thread-safe. Do not call it in a parent process that
    forks workers: a CTranslate2 translator does not survive ``fork``.
    """
    options = options or EngineOptions()
    key = (str(Path(package.path).resolve()), package.model_version, options)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = Engine(package, options)
            _engines[key] = engine
        return engine


def clear_engines() -> None:
    """Drop every cached engine (tests; freeing memory after a package change)."""
    with _engines_lock:
        _engines.clear()
