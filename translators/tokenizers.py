"""Tokenizers of Argos packages: SentencePiece, or sacremoses + subword-nmt BPE codes."""

from __future__ import annotations

from pathlib import Path

from newsflow.errors import ModelError
from translators.installed import InstalledPackage


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


def load_tokenizer(package: InstalledPackage):
    path = package.tokenizer_path
    try:
        if package.tokenizer == "bpe":
            return _BpeTokenizer(path, package.from_code, package.to_code)
        return _SentencePieceTokenizer(path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelError(f"{path}: cannot load the tokenizer: {exc}") from None
