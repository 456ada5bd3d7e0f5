"""langdetect's language profiles, loaded the way ``DetectorFactory.load_profile`` loads them
(the same files, order and errors) but with each n-gram's probabilities made when first asked
for. newsflow.detect uses it for its one factory per process."""

from __future__ import annotations

import json
import os


class ProfileProbabilities:
    """langdetect's ``word_lang_prob_map`` (an n-gram's probability in each language, in
    ``langlist`` order), made per n-gram on first use. ``DetectorFactory.load_profile`` makes
    it for all ~88,000 n-grams of the 55 profiles at once, ~0.45 of its ~0.65 CPU-s, in every
    process that detects; a run asks for a few thousand. Each value is langdetect's own
    expression in its own order, so detection is unchanged (tests/test_detect.py compares
    them). Only what langdetect's Detector and this module use: ``in`` and ``[]``."""

    def __init__(self, profiles: list[tuple[dict[str, int], list[int]]]):
        self._profiles = profiles  # per language: n-gram counts, words per n-gram length
        self._grams = set().union(*(freq for freq, _n_words in profiles))
        self._made: dict[str, list[float]] = {}

    def __contains__(self, gram: object) -> bool:
        return gram in self._grams

    def __getitem__(self, gram: str) -> list[float]:
        probabilities = self._made.get(gram)
        if probabilities is None:
            if gram not in self._grams:
                raise KeyError(gram)
            length = len(gram)
            if 1 <= length <= 3:
                probabilities = [1.0 * freq[gram] / n_words[length - 1] if gram in freq else 0.0
                                 for freq, n_words in self._profiles]
            else:  # langdetect keeps such an n-gram with no probability anywhere
                probabilities = [0.0] * len(self._profiles)
            self._made[gram] = probabilities  # a race makes the same list twice: harmless
        return probabilities


def load_profiles(factory, directory: str) -> None:
    """``DetectorFactory.load_profile`` (the same files, order and errors) with the
    probabilities made on demand (see ProfileProbabilities)."""
    from langdetect.lang_detect_exception import ErrorCode, LangDetectException

    profiles = []
    for filename in os.listdir(directory):  # langdetect's order, which langlist keeps
        path = os.path.join(directory, filename)
        if filename.startswith(".") or not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            name, freq, n_words = data["name"], data["freq"], data["n_words"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LangDetectException(ErrorCode.FormatError,
                                      f'Profile format error in "{path}": {exc}') from None
        if name in factory.langlist:
            raise LangDetectException(ErrorCode.DuplicateLangError,
                                      "Duplicate the same language profile.")
        factory.langlist.append(name)
        profiles.append((freq, n_words))
    factory.word_lang_prob_map = ProfileProbabilities(profiles)
