"""Language detection for news text, answering in Argos Translate's codes.

Pure: no Prefect, no network. ``detect_text`` never raises. Stages:

1. **Script check.** langdetect folds Han characters onto a few representatives and then calls
   most Traditional (and some Simplified) Chinese Korean at 0.99999. So text whose letters are
   mostly Han/Kana/Hangul (digits, punctuation and Latin acronyms ignored) is decided here:
   Hangul in significant proportion -> ``ko``, Kana -> ``ja``, else Chinese, split into
   Simplified ``zh`` and Traditional ``zt`` by counting characters only one script uses (OpenCC).
   No such characters, or as many of each -> ``zh``.
2. **Word scores**: langdetect's n-gram profiles, scored word by word without sampling, plus a
   small German/English prior (function words, umlauts, ß; this pipeline reads German and
   English). langdetect itself samples n-grams until one language reaches 0.99999, so on a
   headline it is sure of whatever two names suggest ("Lawrow trifft Wang Yi": Welsh, 1.0).
   Texts of up to 12 words are decided on these scores alone.
3. **langdetect** for longer texts whose word scores are not already ``DECISIVE``, averaged
   with the word scores; seeded (a fresh detector per
   call whose generator is re-seeded with 0: the same input always gives the same answer, from
   any thread).
4. **Confidence and ties.** Below ``MIN_CONFIDENCE`` the answer is ``und`` (confidence 0.0);
   so are texts without letters, with fewer than ``MIN_LETTERS`` letters, one-word texts (may be
   a name), acronyms only. The caller's expected language only breaks ties: it wins when it is
   a plausible reading and the text is too short to be sure, or when it is close to the top.

Articles are the language of the majority of their text (see ``detect_article``). Which
script a character is in, and Simplified vs Traditional, live in :mod:`newsflow.han`.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from newsflow.han import (
    chinese_variant,
    chinese_variant_counts,
    is_han,
    is_hangul,
    is_kana,
    japanese_only_count,
)
from newsflow.jsonl import json_type
from newsflow.langdetect_profiles import load_profiles

UND = "und"

# Below this confidence the answer is 'und'. On tests/data/detect/cases.jsonl accuracy is the
# same for any threshold from 0.2 to 0.35 and drops from 0.4 (right answers on 2-3 word
# headlines go); 0.3 sends the weakest guesses (foreign 3-word headlines) to 'und'.
MIN_CONFIDENCE = 0.3
# Texts with fewer letters than this are never given a language ("OK", "EU", "a").
MIN_LETTERS = 3
# Han characters needed before Chinese is decided without a hint ("中" alone could be Japanese).
MIN_HAN = 2
# Up to this many Han characters without Kana, a source that expects Japanese gets 'ja'.
SHORT_HAN = 10
# Share of Hangul / Kana among the CJK characters that makes a text Korean / Japanese.
# Korean news mixes in a few Hanja; Chinese news almost never contains Kana.
HANGUL_SHARE = 0.2
KANA_SHARE = 0.1
# Japanese-only Kanji forms (総, 経, 円) never occur in Chinese text; one in twenty Han
# characters, or one in a headline, makes a text without Kana Japanese.
JAPANESE_KANJI_SHARE = 0.05
# Weight of one CJK character against one Latin letter when comparing amounts of text.
CJK_WEIGHT = 3.0
# Texts of up to this many words are scored word by word only; longer ones also by langdetect.
SHORT_TEXT_WORDS = 12
# Longer texts whose word scores are already this sure skip langdetect: it is most of
# detection's cost (every paragraph of every article), and on tests/data/detect/cases.jsonl,
# the samples and the benchmark articles skipping it at 0.99 changed no answer.
DECISIVE = 0.99
# Words scored per text, characters scored per word (langdetect itself reads 10,000 characters).
# Evidence caps, for speed (detection runs on every paragraph of every article): more words
# or characters than this changed no answer on tests/data/detect/cases.jsonl but cost 2-3x.
MAX_WORDS = 40
LANGDETECT_CHARS = 400
LANGDETECT_TRIALS = 2
MAX_WORD_LENGTH = 64
# The expected language wins when its probability is within this of the top one, or, for texts
# of at most SHORT_WORDS words or under MIN_CONFIDENCE, when it is at least PLAUSIBLE.
CLOSE_MARGIN = 0.25
SHORT_WORDS = 3
PLAUSIBLE = 0.05
# Prior odds of German and English against any other language for short texts, the odds each
# German/English cue word adds (at most MAX_CUES count), and the posterior's sharpness (chosen so
# the top probability tracks how often the top answer is right on the corpus).
DOMAIN_PRIOR = 2.0
CUE_FACTOR = 4.0
MAX_CUES = 4
SHARPNESS = 3.0
WORD_LEN_EXP = 0.5

# Work is bounded for very long input (a 5 MB dump must not stall a run for minutes: langdetect
# costs ~15 ms per paragraph and the script count ~4 us per character). A text is judged on its
# first MAX_TEXT_CHARS characters; an article's paragraphs are detected one by one until
# ARTICLE_SAMPLE_CHARS characters have been read, and the paragraphs after that take the
# article's answer (so an English quote deep inside a huge German article is translated too).
MAX_TEXT_CHARS = 20_000
ARTICLE_SAMPLE_CHARS = 50_000

_TO_ARGOS = {"zh-cn": "zh", "zh-tw": "zt"}  # langdetect codes that differ from Argos's


@dataclass(frozen=True)
class Detection:
    lang: str  # 'de', 'en', 'zh', 'zt', another ISO 639-1 code, or 'und'
    confidence: float  # 0..1, rounded to 4 places; 0.0 for 'und'


UNDETERMINED = Detection(UND, 0.0)


def _det(lang: str, confidence: float) -> Detection:
    return Detection(lang, round(min(1.0, max(0.0, confidence)), 4))


# --------------------------------------------------------------------------------------------
# Scripts
# --------------------------------------------------------------------------------------------


def _is_latin(cp: int) -> bool:
    return cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF


@dataclass(frozen=True)
class _Scripts:
    han: int
    kana: int
    hangul: int
    latin: int  # Latin letters in words starting lower-case
    names: int  # Latin letters in capitalised words (names, brands, German nouns)
    acronym: int  # Latin letters in acronyms and tokens with digits ("CPI", "GPT-4o")
    other: int  # other letters: Cyrillic, Greek, Arabic, ...

    @property
    def cjk(self) -> int:
        return self.han + self.kana + self.hangul

    @property
    def alphabetic(self) -> int:
        return self.latin + self.names + self.acronym + self.other

    @property
    def weight(self) -> float:
        """Amount of text in Latin-letter equivalents (a CJK character is about a word)."""
        return self.cjk * CJK_WEIGHT + self.alphabetic

    @property
    def mostly_cjk(self) -> bool:
        """Half the text or more is CJK, not counting acronyms and counting capitalised Latin
        words half: Chinese headlines are full of brands ("Apple发布iPhone 15")."""
        cjk = self.cjk * CJK_WEIGHT
        return cjk > 0 and cjk >= 0.5 * (cjk + self.latin + 0.5 * self.names + self.other)


_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
# Bounded repeats: an unbounded "[\w.]+@" rescans to the end from every position (quadratic).
_URL_OR_MAIL = re.compile(
    r"\b(?:https?://|www\.)\S+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.IGNORECASE
)


# Latin letters as _is_latin and str.isalpha define them, as one character class, so the
# counts below run in the regex engine rather than a Python loop per character (detection
# runs on every paragraph of every article). Built from the same predicates: exact.
_LATIN_LETTER = re.compile(
    "["
    + "".join(
        re.escape(chr(cp))
        for cp in (*range(0x250), *range(0x1E00, 0x1F00))
        if chr(cp).isalpha() and _is_latin(cp)
    )
    + "]"
)
_BEYOND_LATIN = re.compile("[^\u0000-\u024f]")  # every character _is_latin does not cover


def _count_scripts(text: str) -> _Scripts:
    han = kana = hangul = other = 0
    for ch in _BEYOND_LATIN.findall(text):  # Latin text (most of it) is skipped here
        cp = ord(ch)
        if is_han(cp):
            han += 1
        elif is_kana(cp):
            kana += 1
        elif is_hangul(cp):
            hangul += 1
        elif ch.isalpha() and not _is_latin(cp):
            other += 1
    latin = names = acronym = 0
    for token in _TOKEN.findall(text):
        n = len(_LATIN_LETTER.findall(token))
        if not n:
            continue
        if (not token.isalpha() and any(ch.isdigit() for ch in token)) or (
            n >= 2 and token.isupper()
        ):
            acronym += n
        elif token[0].isupper():
            names += n
        else:
            latin += n
    return _Scripts(han, kana, hangul, latin, names, acronym, other)


def _prepare(text: str) -> tuple[str, _Scripts]:
    text = _URL_OR_MAIL.sub(" ", unicodedata.normalize("NFKC", text))
    return text, _count_scripts(text)


# --------------------------------------------------------------------------------------------
# Chinese, Japanese, Korean
# --------------------------------------------------------------------------------------------

def _cjk_reliability(n: int) -> float:
    # One CJK character is about a word: 2 -> 0.7, 3 -> 0.9, 4 or more -> 1.0.
    return min(1.0, 0.3 + 0.2 * n)


def _detect_cjk(scripts: _Scripts, text: str, expected: str | None) -> Detection:
    share = scripts.cjk * CJK_WEIGHT / (scripts.weight - scripts.acronym - 0.5 * scripts.names)
    if scripts.hangul >= HANGUL_SHARE * scripts.cjk and scripts.hangul >= scripts.kana:
        return _det("ko", share * _cjk_reliability(scripts.cjk))
    if scripts.kana >= KANA_SHARE * scripts.cjk:
        return _det("ja", share * _cjk_reliability(scripts.cjk))
    japanese_only = japanese_only_count(text)
    if japanese_only >= max(1.0, JAPANESE_KANJI_SHARE * scripts.han):
        return _det(
            "ja", share * _cjk_reliability(scripts.han) * min(1.0, 0.5 + 0.25 * japanese_only)
        )
    if expected == "ja" and scripts.han <= SHORT_HAN:
        return _det("ja", max(MIN_CONFIDENCE, 0.5 * share))  # all-Kanji headline, Japanese source
    if scripts.han < MIN_HAN:
        if expected in ("zh", "zt"):
            return _det(expected, MIN_CONFIDENCE)
        return UNDETERMINED
    simplified, traditional = chinese_variant_counts(text)
    confidence = share * _cjk_reliability(scripts.han)
    if simplified and traditional:  # mixed: as sure as the majority is large
        confidence *= max(simplified, traditional) / (simplified + traditional)
    return _det(chinese_variant(simplified, traditional, expected), confidence)


# --------------------------------------------------------------------------------------------
# langdetect
# --------------------------------------------------------------------------------------------

_factory_lock = threading.Lock()
_factory = None


def _get_factory():
    """langdetect's profiles, loaded once (about 0.2 s) on first use."""
    global _factory
    if _factory is None:
        with _factory_lock:
            if _factory is None:
                from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

                factory = DetectorFactory()
                load_profiles(factory, PROFILES_DIRECTORY)
                # On this instance, so the process-wide DetectorFactory.seed is left alone.
                # Every Detector re-seeds its own random.Random with it before sampling.
                factory.set_seed(0)
                _factory = factory
    return _factory


def _langdetect(text: str) -> dict[str, float]:
    """langdetect's probability per language (its codes); empty when it finds no features."""
    from langdetect.lang_detect_exception import LangDetectException

    factory = _get_factory()
    detector = factory.create()
    detector.n_trial = LANGDETECT_TRIALS
    detector.append(text[:LANGDETECT_CHARS])
    try:
        detector.get_probabilities()
    except LangDetectException:
        return {}
    # langprob holds every language; get_probabilities() drops those under 0.1.
    return dict(zip(factory.langlist, detector.langprob, strict=True))


@functools.lru_cache(maxsize=16384)
def _word_loglik(word: str) -> tuple[float, ...] | None:
    """Mean log-probability of the word's n-grams under each langdetect profile (``langlist``
    order), with langdetect's smoothing; None when no n-gram is known."""
    detector = _ngram_detector()
    detector.text = ""
    detector.append(f" {word} ")
    grams = detector._extract_ngrams()  # langdetect 1.0.9 is pinned: its own n-gram rules
    if not grams:
        return None
    smoothing = detector.alpha / detector.BASE_FREQ
    totals = [0.0] * len(detector.langlist)
    for gram in grams:  # the same sums, in the same order, as one log per gram and language
        totals = list(map(operator.add, totals, _gram_logs(gram, smoothing)))
    return tuple(total / len(grams) for total in totals)


_ngram_detectors = threading.local()


def _ngram_detector():
    """This thread's langdetect Detector for cutting words into n-grams, made once and reused:
    making one seeds a ``random.Random`` from the OS, which was half the cost of a new word.
    Only its text is used (no sampling), so reusing it changes nothing."""
    detector = getattr(_ngram_detectors, "detector", None)
    if detector is None:
        detector = _ngram_detectors.detector = _get_factory().create()
    return detector


@functools.lru_cache(maxsize=65536)
def _gram_logs(gram: str, smoothing: float) -> tuple[float, ...]:
    """log(p + smoothing) of one n-gram under each profile: words share most of their
    n-grams, so each is computed once (it was 55 logs per n-gram of every new word)."""
    return tuple(math.log(p + smoothing) for p in _get_factory().word_lang_prob_map[gram])


# Frequent words that are German and not English, and the reverse; words as common in a
# neighbour language are left out ("des" French, "vor" Danish, "is"/"over" Dutch, "at" Danish,
# "on" French; "will", "was", "an" are German too). Headline verbs are in because headlines are
# where help is needed: "Lawrow trifft Wang Yi" has one German word and three names.
_GERMAN_WORDS = frozenset(
    """
    der die das den dem und ist sind nicht mit von vom zum zur ein eine einen einem einer
    eines auf für über unter bei beim nach aus sich auch dass daß wird werden wurde wurden haben
    sein seine seinen ihre ihren noch nur oder aber gegen keine kein keinen mehr seit durch
    ohne sowie laut heute gestern jahr jahren prozent uhr neue neuen neuer erneut trifft warnt
    droht fordert besucht sagt sagte kritisiert empfängt plant soll sollen muss müssen kann
    können wir sie ich zwischen zwei drei mehrere ins im gibt schon warum wieder ab
    """.split()
)
# Common to German and English headlines, rarer elsewhere: a cue for both.
_SHARED_WORDS = frozenset("in an am so was will".split())
_ENGLISH_WORDS = frozenset(
    """
    the and of to are were with for by from that this its be been has have had would could
    should which who whom their they he she our not but or as into about after than more new
    says said meets warns visits calls urges against amid what when how why there these those
    his it you your
    """.split()
)
_GERMAN_LETTERS = re.compile(r"[äöüßÄÖÜ]")


def _log_prior(words: list[str]) -> dict[str, float]:
    german = english = umlaut_words = 0
    for word in words:
        lower = word.lower()
        german += lower in _GERMAN_WORDS or lower in _SHARED_WORDS
        english += lower in _ENGLISH_WORDS or lower in _SHARED_WORDS
        # Not in capitalised words: English news is full of München, Düsseldorf, Osnabrück.
        umlaut_words += bool(word[0].islower() and _GERMAN_LETTERS.search(word))
    german += min(umlaut_words, 1)  # umlauts are Turkish, Finnish, Swedish too: one cue at most
    return {
        "de": math.log(DOMAIN_PRIOR) + math.log(CUE_FACTOR) * min(german, MAX_CUES),
        "en": math.log(DOMAIN_PRIOR) + math.log(CUE_FACTOR) * min(english, MAX_CUES),
    }


def _word_posterior(words: list[str]) -> dict[str, float]:
    """Posterior per langdetect language: each word adds the mean log-probability of its
    n-grams, so a name counts as one word rather than as many n-grams; the prior is added
    once; no sampling, so nothing random."""
    factory = _get_factory()
    scores = [0.0] * len(factory.langlist)
    for word in words:
        loglik = _word_loglik(word)
        if loglik is not None:
            w = (len(word) / 5) ** WORD_LEN_EXP
            scores = [a + w * b for a, b in zip(scores, loglik, strict=True)]
    by_lang = dict(zip(factory.langlist, scores, strict=True))
    for lang, log_prior in _log_prior(words).items():
        by_lang[lang] += log_prior
    best = max(by_lang.values())
    weights = {lang: math.exp(SHARPNESS * (score - best)) for lang, score in by_lang.items()}
    total = sum(weights.values())
    return {lang: weight / total for lang, weight in weights.items()}


def _words(text: str) -> list[str]:
    """Runs of letters and combining marks (Devanagari vowel signs are marks, not letters)."""
    words, current = [], []
    for ch in text:
        if ch.isalpha() or unicodedata.category(ch).startswith("M"):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _detect_alphabetic(scripts: _Scripts, text: str, expected: str | None) -> Detection:
    if scripts.alphabetic < MIN_LETTERS:
        return UNDETERMINED
    words = _words(text)
    if len(words) >= SHORT_WORDS and all(w.isupper() for w in words):
        words = [w.lower() for w in words]  # a shouted headline, not a row of acronyms
        text = text.lower()
    # Acronyms are no evidence of a language (langdetect skips them too); a "word" longer than
    # MAX_WORD_LENGTH (Thai, Lao... have no spaces) is scored on its start.
    words = [w[:MAX_WORD_LENGTH] for w in words if not (len(w) > 1 and w.isupper())]
    words = [w for w in words if _word_loglik(w) is not None]
    if not words:
        return UNDETERMINED
    probabilities = _word_posterior(words[:MAX_WORDS])
    if len(words) > SHORT_TEXT_WORDS and max(probabilities.values()) < DECISIVE:
        # Long enough for langdetect itself; averaged with the word scores, which keep a
        # sentence of names ("Xi Jinping, Li Qiang, Wang Yi, ... attended") from going Tagalog.
        sampled = _langdetect(text)
        if sampled:
            probabilities = {lang: (p + sampled[lang]) / 2 for lang, p in probabilities.items()}
    top = max(sorted(probabilities), key=probabilities.__getitem__)
    confidence = probabilities[top]
    # One word may be a name ("Berlin"); 15+ letters is a phrase in Thai, Lao... (no spaces).
    unsure = confidence < MIN_CONFIDENCE or (len(words) == 1 and len(words[0]) < 15)

    # The expected language breaks ties; Han/Kana/Hangul were settled before this point.
    wanted = expected if expected not in ("zh", "zt", "ja", "ko") else None
    if wanted in probabilities:
        wanted_p = probabilities[wanted]
        if wanted == top and unsure:  # the text alone does not settle it, but agrees
            return _det(wanted, max(MIN_CONFIDENCE, min(confidence, 0.5)))
        close = wanted_p >= confidence - CLOSE_MARGIN
        short = unsure or len(words) <= SHORT_WORDS
        if wanted != top and (close or (short and wanted_p >= PLAUSIBLE)):
            return _det(wanted, max(MIN_CONFIDENCE, wanted_p))
    if unsure:
        return UNDETERMINED
    return _det(_TO_ARGOS.get(top, top), confidence)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def normalise_code(code: object) -> str | None:
    """An expected language as an Argos code: 'zh-CN'/'zh-Hans' -> 'zh', 'zh-TW'/'zh-Hant' ->
    'zt', 'DE' -> 'de', 'en-GB' -> 'en'; None or blank -> None."""
    if code is None:
        return None
    code = str(code).strip().lower().replace("_", "-")
    if not code:
        return None
    if code == "zt" or code.startswith(("zh-tw", "zh-hk", "zh-mo", "zh-hant")):
        return "zt"
    return code.split("-")[0]


def detect_text(text: str, expected: str | None = None) -> Detection:
    """The language of ``text`` in Argos codes, with a confidence; never raises.

    ``expected`` (the source's language, any case, 'zh-TW' style accepted) only breaks ties.
    """
    if not isinstance(text, str):
        return UNDETERMINED
    return _analyse(text, normalise_code(expected)).detection


@dataclass(frozen=True)
class _Analysis:
    detection: Detection
    prepared: str  # the sample, normalised, URLs and addresses blanked
    weight: float  # amount of text (Latin-letter equivalents) of ALL of it, sample or not


def _analyse(text: object, expected: str | None) -> _Analysis:
    """detect_text's work, keeping what the article vote needs (so nothing is counted twice)."""
    if not isinstance(text, str):
        text = ""  # detected as undetermined, weighs nothing
    sample = _sample(text)
    prepared, scripts = _prepare(sample)
    if scripts.mostly_cjk:
        detection = _detect_cjk(scripts, prepared, expected)
    else:
        detection = _detect_alphabetic(scripts, prepared, expected)
    weight = scripts.weight * (len(text) / len(sample) if sample else 1.0)
    return _Analysis(detection, prepared, weight)


def detect_article(
    title: str, paragraphs: list[str], expected: str | None = None
) -> tuple[Detection, list[Detection]]:
    """(article, one Detection per paragraph in order).

    Title and paragraphs vote for their language with weight = amount of text (letters, a CJK
    character counting ``CJK_WEIGHT``) times confidence; 'und' parts do not vote but count in
    the total. The article's confidence is the winner's votes over that total, so a German
    article with an English quote is 'de', a little less sure. Simplified and Traditional vote
    together as Chinese; the variant is then decided on all the Chinese text at once. A close
    second (within 10 %) that is the expected language wins. No votes, or a confidence under
    ``MIN_CONFIDENCE`` -> 'und'. Very long articles are judged on a sample (see
    ``ARTICLE_SAMPLE_CHARS``): the paragraphs after it get the article's Detection.
    """
    expected = normalise_code(expected)
    sampled, budget = 0, ARTICLE_SAMPLE_CHARS
    for paragraph in paragraphs:
        if budget <= 0:
            break
        budget -= len(paragraph) if isinstance(paragraph, str) else 0
        sampled += 1
    parts = [_analyse(p, expected) for p in paragraphs[:sampled]]
    per_paragraph = [part.detection for part in parts]
    if isinstance(title, str) and title.strip():
        parts.insert(0, _analyse(title, expected))
    article = _vote(parts, expected)
    # Paragraphs past the sample take the article's answer (see ARTICLE_SAMPLE_CHARS).
    return article, per_paragraph + [article] * (len(paragraphs) - sampled)


def _sample(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS]


def _vote(parts: list[_Analysis], expected: str | None) -> Detection:
    votes: dict[str, float] = {}
    chinese_text: list[str] = []
    total = 0.0
    for part in parts:
        detection = part.detection
        total += part.weight
        if detection.lang == UND:
            continue
        lang = detection.lang
        if lang in ("zh", "zt"):
            lang = "zh"
            chinese_text.append(part.prepared)
        votes[lang] = votes.get(lang, 0.0) + part.weight * detection.confidence
    if not votes or not total:
        return UNDETERMINED
    winner = max(sorted(votes), key=votes.__getitem__)
    family = "zh" if expected == "zt" else expected
    if family in votes and family != winner and votes[family] >= 0.9 * votes[winner]:
        winner = family
    confidence = votes[winner] / total
    if confidence < MIN_CONFIDENCE:
        return UNDETERMINED
    if winner == "zh":
        simplified, traditional = chinese_variant_counts("\n".join(chinese_text))
        winner = chinese_variant(simplified, traditional, expected)
    return _det(winner, confidence)


def detect_jsonl(lines: Iterable[str], origin: str = "<stdin>") -> Iterator[dict]:
    """For ``newsflow detect --jsonl FILE``: one ``{"id", "lang", "confidence"}`` dict (keys in
    that order) per input record, in input order, lazily.

    Each line must be a JSON object with "id" (any JSON value, passed through) and "text" (a
    string; "" gives 'und' with 0.0). An optional "expected" or "lang_hint" (string or null)
    breaks ties. Lines are read by :mod:`newsflow.jsonl` (the rules every JSONL command
    shares: blank lines skipped but counted, a BOM dropped, a bad line raises
    ``<origin>:<line>: <what is wrong>`` when it is reached).
    """
    from newsflow.jsonl import iter_records

    for _, record in iter_records(lines, origin, **DETECT_RULES):
        yield detect_record(record)


def _check_hint(record: dict) -> str | None:
    hint_key = "expected" if "expected" in record else "lang_hint"
    hint = record.get(hint_key)
    if hint is not None and not isinstance(hint, str):
        return f"key '{hint_key}' must be a string or null, got {json_type(hint)}"
    return None


DETECT_RULES = {"required": ("id", "text"), "strings": ("text",), "check": _check_hint}


def detect_record(record: dict) -> dict:
    """``{"id", "lang", "confidence"}`` for one validated detect record."""
    hint = record.get("expected" if "expected" in record else "lang_hint")
    detection = detect_text(record["text"], hint)
    return {"id": record["id"], "lang": detection.lang, "confidence": detection.confidence}
