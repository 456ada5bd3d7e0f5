"""Quality checks for one (source, translation) pair: pure functions, no Prefect, no I/O.

Each check returns flags ``{"kind", "detail"}``; :func:`check_pair` runs them all and returns
the flags in the order of :data:`KINDS` (the most basic cause first), without the flags that
the same cause already explains (an output equal to its German source is ``untranslated``, not
also ``wrong-language``; a loop that makes the output too long is ``repetition``, not also
``length-ratio``; an empty output is only ``empty``).

Kinds:

- ``empty``: no text for a source with letters or digits.
- ``untranslated``: the output is essentially the source (most source words, or Han
  characters, come back verbatim). Names, numbers and acronyms alone never count: an output
  "Bundesliga: Bayern - Dortmund 2:1" for the same German headline is a good translation.
- ``source-script``: Han characters left in the English of a Chinese source.
- ``wrong-language``: the output is not English: German function words outnumber English
  ones, or :func:`newsflow.detect.detect_text` is sure of another language (run only when the
  output has few English function words, so it costs little).
- ``repetition``: a looping word or phrase (a unit repeated back to back, or a phrase that
  covers much of the output) that the source does not repeat itself.
- ``length-ratio``: far too short or too long for the source, against a per-pair expected
  ratio (:data:`EXPECTED_RATIO`: English words per German word, per Chinese character).
- ``truncated``: the decoder hit ``max_decoding_length`` (``hit_limit``), or the output stops
  mid-sentence (the source ends a sentence, the output ends without one, or on "the"/"of").
- ``low-confidence``: the model's length-normalised log-probability (CTranslate2
  ``return_scores``) is below the model's threshold (config ``quality.low_confidence``;
  default ln 0.5 = -0.69, Firefox Translations' cut-off). Only the pipeline has scores.

Every threshold here is a default chosen on ``tests/data/quality/eval.jsonl`` (hand-written
pairs), to be tuned per model: they are heuristics until calibrated on a real model's output.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from newsflow.detect import detect_text

KINDS = (
    "empty",
    "untranslated",
    "source-script",
    "wrong-language",
    "repetition",
    "truncated",
    "length-ratio",
    "low-confidence",
)
# Kinds worth a second decoding with a wider beam and repetition penalties (the engine).
REDECODE_KINDS = frozenset({"low-confidence", "repetition", "truncated"})

# English words per source unit: per German word, per Chinese (Han) character. Latin words and
# numbers inside a Chinese source count one English word each.
EXPECTED_RATIO = {"de": 1.15, "zh": 0.7, "zt": 0.7}
DEFAULT_LOW_CONFIDENCE = -0.69


@dataclass(frozen=True)
class Thresholds:
    """Defaults, to be tuned per model (see the module docstring)."""

    # length-ratio: flag below expected / ratio_factor or above expected * ratio_factor, and
    # only when the difference is at least ratio_slack words (short texts vary a lot).
    ratio_factor: float = 2.5
    ratio_slack: float = 4.0
    # untranslated: share of source words (or Han characters) that come back verbatim.
    untranslated_share: float = 0.7
    untranslated_similarity: float = 0.85  # difflib ratio of source and output (lower-cased)
    # source-script: Han characters left in the English (a gloss in brackets after the English passes).
    han_min: int = 2
    han_share: float = 0.3
    # repetition: a unit of n words repeated back to back k times: k >= 3, or k >= 2 when n >= 4;
    # or one phrase of 3 words occurring >= phrase_min times covering >= phrase_cover of the words.
    tandem_min: int = 3
    long_unit: int = 4
    phrase_min: int = 4
    phrase_cover: float = 0.4
    char_run: int = 8  # one character (or a 2-3 character unit) repeated this often: "!!!!!!!!"
    # wrong-language: detection confidence needed, and the English-word share that skips detection.
    detect_confidence: float = 0.7
    detect_confidence_no_english: float = 0.3
    english_share: float = 0.2


DEFAULTS = Thresholds()

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_HAN_GLOSS = re.compile(r"[(（]\s*[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·・\s]{1,12}[)）]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff]")
_OTHER_SCRIPT = re.compile(r"[\u0400-\u04ff\u0600-\u06ff\u0590-\u05ff\u0e00-\u0e7f\u0370-\u03ff]")
_SENTENCE_END = re.compile(r"[.!?。！？…;；]$")
_CLOSERS = "\"'”’»«“‘」』）)]】>*_ \u00a0"
_OPENERS_END = re.compile(r"[,:，：、–—(\[„“‚/]$")

ENGLISH_CUES = frozenset(
    "the a of to and is are was were for on with by at from that this it he she they we has "
    "have had will would said says not be been as its their his her after over more than who "
    "which but or about into there been could should can".split())
GERMAN_CUES = frozenset(
    "der die das und ist nicht mit von den dem des ein eine einen einer sich auf für zu im "
    "auch wird werden wurde hat haben sind war nach bei aus dass wie oder aber noch nur vor "
    "zum zur über sagte sei seine ihre dieser diese mehr wir ich sie er es".split()) - {"war"}
_NAME_PARTICLES = frozenset({"von", "der", "zu", "vom", "den"})  # Ursula von der Leyen
# An output that ends on one of these stopped mid-sentence.
_DANGLING = frozenset(
    "the a an of and or but with from by its their his our your my than into between whose "
    "for to at that about is are was were has have had been this these those which who if "
    "because while as against without among toward towards despite via".split())


def flag(kind: str, detail: str) -> dict:
    return {"kind": kind, "detail": detail}


def words(text: str) -> list[str]:
    """Latin/digit words; Han characters are not words (see :func:`han_count`)."""
    return list(_words(text))


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:  # every check asks for the same texts' words
    return tuple(_WORD.findall(_HAN.sub(" ", text)))


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def source_units(source: str, lang: str) -> float:
    """The source's length in the unit of EXPECTED_RATIO (words, or Han characters)."""
    if lang in ("zh", "zt"):
        return han_count(source) + len(words(source)) / EXPECTED_RATIO["zh"]
    return float(len(words(source)))


# --- the checks ------------------------------------------------------------------


def check_empty(source: str, translation: str) -> list[dict]:
    if not any(c.isalnum() for c in translation) and any(c.isalnum() for c in source):
        detail = "no translation" if not translation.strip() else f"no words in the output: {translation.strip()[:20]!r}"
        return [flag("empty", f"{detail} for a non-empty source")]
    return []


def check_untranslated(source: str, translation: str, lang: str, t: Thresholds = DEFAULTS) -> list[dict]:
    if lang in ("zh", "zt"):
        src = Counter(_HAN.findall(source))
        total = sum(src.values())
        if total < 2:
            return []
        kept = sum((src & Counter(_HAN.findall(translation))).values())
        if kept / total >= t.untranslated_share:
            return [flag("untranslated", f"{kept} of {total} Chinese characters of the source "
                         "are in the output")]
        return []
    src_words = [w for w in words(source) if len(w) > 1 and not w.isdigit()]
    if len(src_words) < 2:
        return []
    out = Counter(w.lower() for w in words(translation))
    kept = [w for w in src_words if out[w.lower()] > 0]
    share = len(kept) / len(src_words)
    if share < t.untranslated_share:
        return []
    # Names, acronyms and numbers come back verbatim in good translations; ordinary words do
    # not. Lower-case words are never names in German (nouns are capitalised, so they need
    # the detector to say the output is still the source language).
    ordinary = sum(1 for w in kept if w[0].islower() and w.lower() not in ENGLISH_CUES
                   and w not in _NAME_PARTICLES)
    if ordinary == 0:
        return []
    similarity = SequenceMatcher(None, source.lower(), translation.lower()).ratio()
    if similarity < t.untranslated_similarity:
        return []  # a rewording in the source language: wrong-language says so
    if ordinary < 2:
        detected = detect_text(translation)
        if detected.lang != lang or detected.confidence < t.detect_confidence:
            return []
    if _is_english(source):  # an English quote inside a German text is kept as written
        return []
    return [flag("untranslated", f"{len(kept)} of {len(src_words)} source words are in the output "
                 f"verbatim (similarity {similarity:.2f})")]


def check_source_script(translation: str, lang: str, t: Thresholds = DEFAULTS) -> list[dict]:
    if lang not in ("zh", "zt"):
        return []
    if han_count(translation) == 0 or len(_KANA_HANGUL.findall(translation)) * 5 >= han_count(translation):
        return []  # none, or Japanese / Korean: wrong-language
    # a gloss in brackets after the English ("involution (内卷)", "Wang Yi (王毅)") is on purpose
    text = _HAN_GLOSS.sub(" ", translation)
    han = han_count(text)
    latin = sum(len(w) for w in words(text))
    share = han / (han + latin / 4) if han else 0.0  # a Han character against a 4-letter word
    if han >= t.han_min or share >= t.han_share:
        sample = "".join(_HAN.findall(text))[:12]
        return [flag("source-script", f"{han} Han character(s) left in the English: {sample}")]
    return []


_QUOTED = re.compile(r'"([^"]+)"|„([^“”"]+)[“”"]|“([^”]+)”|«([^»]+)»|»([^«]+)«|‚([^‘’]+)[‘’]')


def _without_kept_quotes(source: str, translation: str) -> str:
    """The translation without quotations kept as written in the source (a slogan, a title)."""
    folded = source.lower()

    def drop(match: re.Match) -> str:
        inner = next(g for g in match.groups() if g is not None)
        return " " if inner.strip().lower() in folded else match.group(0)

    return _QUOTED.sub(drop, translation)


def check_wrong_language(translation: str, lang: str, t: Thresholds = DEFAULTS,
                         source: str = "") -> list[dict]:
    text = _without_kept_quotes(source, translation).strip() if source else translation.strip()
    if not text:
        return []
    foreign = len(_KANA_HANGUL.findall(text)) + len(_OTHER_SCRIPT.findall(text))
    letters = sum(1 for c in text if c.isalpha())
    if letters and foreign / letters >= 0.3:
        return [flag("wrong-language", f"{foreign} of {letters} letters are in a non-Latin script")]
    if lang not in ("zh", "zt") and han_count(text) / max(1, letters) >= 0.3:
        return [flag("wrong-language", "the output is Chinese")]
    raw = words(text)
    ws = [w.lower() for w in raw]
    if len(ws) < 3:
        return []
    english = sum(w in ENGLISH_CUES for w in ws)
    german = _german_cues(raw, source)
    if german >= 2 and german >= english:
        return [flag("wrong-language", f"German words left in the output ({german} German, "
                     f"{english} English function words)")]
    if english / len(ws) >= t.english_share or len(ws) < 5:
        return []
    # Names, places and numbers alone ("Bundesliga: Bayern - Dortmund 2:1") say nothing about
    # the language: the detector is asked only about text with ordinary (lower-case) words.
    if sum(1 for w in words(text) if w[0].islower() and len(w) > 1 and w not in _NAME_PARTICLES) < 3:
        return []
    detected = detect_text(text)
    # without a single English function word in 5+ words, a weaker answer is enough
    needed = t.detect_confidence if english else t.detect_confidence_no_english
    if detected.lang not in ("en", "und") and detected.confidence >= needed:
        return [flag("wrong-language", f"the output reads as '{detected.lang}' "
                     f"(confidence {detected.confidence:.2f}), not English")]
    return []


def _german_cues(raw: list[str], source: str) -> int:
    """German function words in the output, except where names use them: the article of a name
    kept as the source writes it ("Die Zeit", "Der Spiegel": a capitalised article and word,
    both in the source), particles inside a name ("Ursula von der Leyen"), and the English verb
    "die" (German "die" comes before a capitalised noun)."""
    folded = source.lower()
    count = 0
    for i, w in enumerate(raw):
        low = w.lower()
        if low not in GERMAN_CUES:
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if w[0].isupper() and nxt[:1].isupper() and f"{w} {nxt}".lower() in folded:
            continue
        if low in _NAME_PARTICLES and w[0].islower() and i > 0 and raw[i - 1][0].isupper():
            j = i + 1
            while j < len(raw) and raw[j] in _NAME_PARTICLES:
                j += 1
            if j < len(raw) and raw[j][0].isupper() and raw[i - 1].lower() not in GERMAN_CUES:
                continue
        if w == "die" and not nxt[:1].isupper():
            continue
        count += 1
    return count


def _is_english(text: str) -> bool:
    ws = [w.lower() for w in words(text)]
    if len(ws) >= 4 and sum(w in ENGLISH_CUES for w in ws) / len(ws) >= 0.2:
        return sum(w in GERMAN_CUES for w in ws) == 0
    return detect_text(text).lang == "en"


def _tandem(tokens: list[str], max_unit: int = 24) -> tuple[int, int, int]:
    """The longest back-to-back repeat: (unit length n, repeats k, start), by n*k."""
    best = (0, 0, 0)
    size = len(tokens)
    for n in range(1, min(max_unit, size // 2) + 1):
        i = 0
        while i + 2 * n <= size:
            k = 1
            while i + (k + 1) * n <= size and tokens[i + k * n: i + (k + 1) * n] == tokens[i: i + n]:
                k += 1
            if k > 1 and n * k > best[0] * best[1]:
                best = (n, k, i)
            i += (k - 1) * n + 1 if k > 1 else 1
    return best


def _loops(tokens: list[str], t: Thresholds) -> tuple[str, int] | None:
    n, k, start = _tandem(tokens)
    if k >= t.tandem_min or (k >= 2 and n >= t.long_unit):
        return " ".join(tokens[start: start + n]), k
    if len(tokens) >= 3 * t.phrase_min:
        grams = Counter(tuple(tokens[i: i + 3]) for i in range(len(tokens) - 2))
        gram, count = grams.most_common(1)[0]
        if count >= t.phrase_min and count * 3 / len(tokens) >= t.phrase_cover:
            return " ".join(gram), count
    return None


def _source_tokens(source: str, lang: str) -> list[str]:
    if lang in ("zh", "zt"):
        return [c for c in source if c.isalnum() and not c.isdigit()]
    return [w.lower() for w in words(source)]


def check_repetition(source: str, translation: str, lang: str, t: Thresholds = DEFAULTS) -> list[dict]:
    tokens = [w.lower() for w in words(translation)] + _HAN.findall(translation)
    found = _loops(tokens, t) if len(tokens) >= 3 else None
    if found:
        src_tokens = _source_tokens(source, lang)
        src = _loops(src_tokens, t)
        # the source repeats itself ("Tor! Tor! Tor!", "加油！加油！加油！"): so may the English
        if src and src[1] >= found[1] - 1 and len(src[0].split() if lang == "de" else src[0]) * \
                src[1] >= 0.3 * len(src_tokens):
            return []
        unit, times = found
        return [flag("repetition", f"'{unit}' repeated {times} times")]
    run = re.search(rf"(\D{{1,3}}?)\1{{{t.char_run - 1},}}", re.sub(r"\s+", "", translation))
    if run and not re.search(re.escape(run.group(1)) * t.char_run, re.sub(r"\s+", "", source)):
        return [flag("repetition", f"'{run.group(1)}' repeated {len(run.group(0)) // len(run.group(1))} times")]
    return []


def check_truncated(source: str, translation: str, hit_limit: bool = False) -> list[dict]:
    if hit_limit:
        return [flag("truncated", "decoding stopped at max_decoding_length")]
    out = translation.rstrip(_CLOSERS)
    if not out:
        return []
    last = words(out)[-1].lower() if words(out) else ""
    tail = out[-30:]
    if _OPENERS_END.search(out) and not _OPENERS_END.search(source.rstrip(_CLOSERS)):
        return [flag("truncated", f"the output stops mid-sentence: '...{tail}'")]
    if last in _DANGLING and out.endswith(last[-1:]) and len(words(out)) > 2:
        return [flag("truncated", f"the output ends on '{last}': '...{tail}'")]
    src = source.rstrip(_CLOSERS)
    if _SENTENCE_END.search(src) and not _SENTENCE_END.search(out) and \
            len(words(source)) + han_count(source) > 3:
        return [flag("truncated", f"the source ends a sentence, the output does not: '...{tail}'")]
    return []


def check_length(source: str, translation: str, lang: str, t: Thresholds = DEFAULTS) -> list[dict]:
    ratio = EXPECTED_RATIO.get(lang)
    if ratio is None:
        return []
    expected = source_units(source, lang) * ratio
    got = len(words(translation))
    unit = "Chinese characters" if lang in ("zh", "zt") else "source words"
    if got < expected / t.ratio_factor and expected - got >= t.ratio_slack:
        return [flag("length-ratio", f"too short: {got} English words for {source_units(source, lang):.0f} "
                     f"{unit} (about {expected:.0f} expected)")]
    if got > expected * t.ratio_factor and got - expected >= t.ratio_slack:
        return [flag("length-ratio", f"too long: {got} English words for {source_units(source, lang):.0f} "
                     f"{unit} (about {expected:.0f} expected)")]
    return []


def check_low_confidence(score: float | None, threshold: float = DEFAULT_LOW_CONFIDENCE) -> list[dict]:
    if score is None or score >= threshold:
        return []
    return [flag("low-confidence", f"model score {score:.2f} below {threshold:.2f}")]


def check_pair(
    source: str,
    translation: str,
    lang: str,
    *,
    hit_limit: bool = False,
    score: float | None = None,
    low_confidence: float = DEFAULT_LOW_CONFIDENCE,
    thresholds: Thresholds = DEFAULTS,
) -> list[dict]:
    """Every flag for one pair (``lang``: de, zh or zt), in :data:`KINDS` order.

    ``hit_limit``: the decoder stopped at its length limit; ``score``: the model's
    length-normalised log-probability, checked against ``low_confidence``."""
    t = thresholds
    source, translation = source or "", translation or ""
    if not source.strip():
        return []
    empty = check_empty(source, translation)
    if empty:
        return empty
    # An output equal to its source is also "not English" (and, for Chinese, Han characters
    # left): all are said, untranslated first, so a reader or a tool matching either kind sees it.
    flags = check_untranslated(source, translation, lang, t)
    flags += check_source_script(translation, lang, t)
    flags += check_wrong_language(translation, lang, t, source)
    repetition = check_repetition(source, translation, lang, t)
    flags += repetition
    truncated = check_truncated(source, translation, hit_limit)
    flags += truncated
    if not flags:  # any other flag explains a wrong length already
        flags += check_length(source, translation, lang, t)
    flags += check_low_confidence(score, low_confidence)
    return sorted(flags, key=lambda f: KINDS.index(f["kind"]))


def needs_review(flags: list[dict]) -> bool:
    return bool(flags)


def low_confidence_threshold(config: dict[str, float] | None, model_id: str | None) -> float:
    """The threshold for a model from ``quality.low_confidence`` ({default, <model_id>: ...})."""
    config = config or {}
    if model_id and model_id in config:
        return float(config[model_id])
    return float(config.get("default", DEFAULT_LOW_CONFIDENCE))


# --- whole documents (the pipeline) ---------------------------------------------------

# The same output for this many different source sentences of one part is a loop of the model.
SAME_OUTPUT_MIN = 3


def check_document(
    parts: list[list[tuple[str, str, bool, float | None]]],
    lang: str,
    *,
    low_confidence: float = DEFAULT_LOW_CONFIDENCE,
    skip: frozenset[int] | set[int] = frozenset(),
    thresholds: Thresholds = DEFAULTS,
) -> list[dict]:
    """Flags of one article: ``parts`` = [title, *paragraphs], each a list of
    ``(source sentence, translation, hit_limit, score)``. Each flag is
    ``{"paragraph", "sentence", "kind", "detail"}`` (``paragraph`` indexes the parts, 0 = the
    title; ``sentence`` -1 = the whole part). Parts in ``skip`` (kept as written) are not
    checked.

    A pair that recurs in the document (agency boilerplate, a long article repeating its
    sentences) is checked once: :func:`check_pair` is pure, and the language detector it may
    call costs milliseconds per sentence (a 5 MB article of 24,000 sentences drawn from 150
    distinct ones spent most of its run re-checking the same pairs)."""
    out = []
    checked: dict[tuple[str, str, bool, float | None], list[dict]] = {}
    for p, sentences in enumerate(parts):
        if p in skip:
            continue
        for s, (source, translation, hit_limit, score) in enumerate(sentences):
            key = (source, translation, bool(hit_limit), score)
            flags = checked.get(key)
            if flags is None:
                flags = checked[key] = check_pair(source, translation, lang, hit_limit=hit_limit, score=score,
                                                  low_confidence=low_confidence, thresholds=thresholds)
            for f in flags:
                excerpt = translation if len(translation) <= 80 else translation[:77] + "..."
                detail = f"{f['detail']}: “{excerpt}”" if excerpt.strip() else f["detail"]
                out.append({"paragraph": p, "sentence": s, "kind": f["kind"], "detail": detail})
        sources_of: dict[str, set[str]] = {}
        for source, translation, _hit, _score in sentences:
            if translation.strip():
                sources_of.setdefault(translation.strip(), set()).add(source.strip())
        same = [(t, len(srcs)) for t, srcs in sources_of.items() if len(srcs) >= SAME_OUTPUT_MIN]
        if same:
            text, count = max(same, key=lambda x: x[1])
            out.append({"paragraph": p, "sentence": -1, "kind": "repetition",
                        "detail": f"the same output for {count} different sentences: '{text[:60]}'"})
    return out


def flag_kinds(flags: list[dict]) -> list[str]:
    """The distinct kinds of a list of flags, in KINDS order."""
    present = {f["kind"] for f in flags}
    return [k for k in KINDS if k in present]
