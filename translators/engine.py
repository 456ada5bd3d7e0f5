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
  (deduplicated; CTranslate2 sorts them by length and batches by tokens).

Engines hold a loaded ``ctranslate2.Translator``, which is NOT fork-safe: create
engines (``get_engine``) only in the process that uses them, never in a parent
process that later forks workers.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from newsflow.errors import ModelError
from translators.installed import InstalledPackage
from translators.segment import segment_paragraphs, split_long

if TYPE_CHECKING:
    from newsflow.config import TranslationConfig

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
    """

    beam_size: int = 2
    inter_threads: int = 0
    intra_threads: int = 0
    compute_type: str = "int8"
    device: str = "cpu"
    max_batch_tokens: int = 1024
    max_input_tokens: int = 200
    max_decoding_length: int = 512

    @classmethod
    def from_config(cls, config: TranslationConfig) -> EngineOptions:
        return cls(
            beam_size=config.beam_size,
            inter_threads=config.inter_threads,
            intra_threads=config.intra_threads,
            compute_type=config.compute_type,
            device=config.device,
            max_batch_tokens=config.max_batch_tokens,
            max_input_tokens=config.max_input_tokens,
            max_decoding_length=config.max_decoding_length,
        )

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


@dataclass(frozen=True)
class DocResult:
    paragraphs: list[str]
    truncated_sentences: int
    sentences: int


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


# --- Tokenizers ---------------------------------------------------------------


class _SentencePieceTokenizer:
    def __init__(self, model_file: Path) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def encode(self, text: str) -> list[str]:
        return self._sp.encode(text, out_type=str)

    def decode(self, tokens: list[str]) -> str:
        # Like argostranslate: decode_pieces keeps byte-fallback pieces readable;
        # a stray "▁" (a piece the model knows but SentencePiece does not) is a space.
        return self._sp.decode_pieces(tokens).replace("▁", " ")


class _BpeTokenizer:
    """sacremoses + subword-nmt BPE codes, as argostranslate's BPETokenizer does it."""

    def __init__(self, model_file: Path, from_code: str, to_code: str) -> None:
        from argostranslate.apply_bpe import BPE
        from sacremoses.normalize import MosesPunctNormalizer
        from sacremoses.tokenize import MosesDetokenizer, MosesTokenizer

        self._tokenizer = MosesTokenizer(from_code)
        self._detokenizer = MosesDetokenizer(to_code)
        self._normalizer = MosesPunctNormalizer(from_code)
        with open(model_file, encoding="utf-8") as fh:
            self._bpe = BPE(fh)

    def encode(self, text: str) -> list[str]:
        normalized = self._normalizer.normalize(text)
        tokenized = " ".join(self._tokenizer.tokenize(normalized))
        return self._bpe.segment_tokens(tokenized.strip("\r\n ").split(" "))

    def decode(self, tokens: list[str]) -> str:
        return self._detokenizer.detokenize(" ".join(tokens).replace("@@ ", "").split(" "))


def _load_tokenizer(package: InstalledPackage):
    path = package.tokenizer_path
    try:
        if package.tokenizer == "bpe":
            return _BpeTokenizer(path, package.from_code, package.to_code)
        return _SentencePieceTokenizer(path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelError(f"{path}: cannot load the tokenizer: {exc}") from None


# --- Engine -----------------------------------------------------------------


class Engine:
    """One loaded package: tokenizer + CTranslate2 translator. Thread-safe."""

    def __init__(self, package: InstalledPackage, options: EngineOptions | None = None) -> None:
        import ctranslate2

        self.package = package
        self.options = options or EngineOptions()
        self.model_version = package.model_version
        self.model_key = f"{package.model_id}@{self.model_version}@beam{self.options.beam_size}"
        self._tokenizer = _load_tokenizer(package)
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
        self.sentences_decoded = 0

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text))

    # ------------------------------------------------------------------

    def translate_sentences(self, sentences: list[str]) -> list[SentenceResult]:
        """Translate each sentence (one batched model call; empty -> empty, no call).

        A sentence over ``max_input_tokens`` is split (``split_long``) and its
        pieces' translations joined with a space, rather than truncated.
        """
        results = self._translate_unique({s.strip() for s in sentences if s.strip()})
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
            known = {src: SentenceResult(text) for src, text in hits.items() if src in unique}
        fresh = self._translate_unique(unique - known.keys())
        if cache is not None and fresh:
            complete = {src: r.text for src, r in fresh.items() if not r.truncated}
            if complete:
                cache.put_many(self.model_key, complete)
        known.update(fresh)

        out = []
        for doc in segmented:
            paragraphs, truncated, count = [], 0, 0
            for para in doc:
                parts = [known[s] for s in para]
                count += len(parts)
                truncated += sum(r.truncated for r in parts)
                paragraphs.append(" ".join(r.text for r in parts if r.text))
            out.append(
                DocResult(paragraphs=paragraphs, truncated_sentences=truncated, sentences=count)
            )
        return out

    # ------------------------------------------------------------------

    def _translate_unique(self, sources: set[str]) -> dict[str, SentenceResult]:
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
        out = {}
        for source, pieces in pieces_of.items():
            parts = [piece_result.get(p, SentenceResult("")) for p in pieces]
            out[source] = SentenceResult(
                text=" ".join(r.text for r in parts if r.text),
                truncated=any(r.truncated for r in parts),
            )
        return out

    def _decode(self, batch: list[list[str]]) -> list[SentenceResult]:
        if not batch:
            return []
        opts = self.options
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
                beam_size=opts.beam_size,
                max_input_length=0,  # never truncate: inputs were split to fit already
                max_decoding_length=opts.max_decoding_length,
                return_end_token=True,  # to tell "finished" from "hit the limit"
                replace_unknowns=True,
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelError(
                f"{self.package.path}: translation failed: {' '.join(str(exc).split())}"
            ) from None
        return [self._finish(r.hypotheses[0]) for r in results]

    def _finish(self, tokens: list[str]) -> SentenceResult:
        finished = bool(tokens) and tokens[-1] == EOS
        if finished:
            tokens = tokens[:-1]
        if self._prefix_tokens and tokens[: len(self._prefix_tokens)] == self._prefix_tokens:
            tokens = tokens[len(self._prefix_tokens) :]
        text = self._tokenizer.decode(tokens)
        prefix = self.package.target_prefix
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]  # the way argostranslate strips it
        return SentenceResult(text=" ".join(text.split()), truncated=not finished)


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
