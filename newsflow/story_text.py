"""The evidence one article gives for story assignment (pure; no store, no Prefect).

Two channels, both sparse vectors of readable features (token -> weight), weighted by how
rare the token is in English (:func:`rarity`, from the ``wordfreq`` library: a fixed IDF, so
the weights do not depend on what else is in the batch or the store, and an incremental run
weighs an article exactly as one big run does):

* **words**: the English text (translated, or original for English articles), tokenised by
  ``wordfreq.tokenize``; words more frequent than 1 in 1,000 English words (Zipf >= 6: "the",
  "said", "year") and newswire filler ("Monday", "March") dropped; a light plural/possessive
  stem; title words counted twice; sublinear TF (1 + ln tf) times rarity, L2-normalised.
* **names**: language-independent entity evidence. The glossary entity ids the names step
  found in the *source* (``name_findings``: a German, a Chinese and an English report about
  Lavrov and Wang Yi in Tunxi all give ``@lavrov``, ``@wang_yi``, ``@tunxi``), the English forms
  of the name candidates, and capitalised names and places in the English text (a run of
  capitalised words, mapped to a glossary id when it is a glossary form; a sentence-initial or
  headline word counts only when the text also capitalises it mid-sentence). Binary times
  rarity, L2-normalised. Unseen English articles have no glossary entries for most of their
  people and places; the capitalised names carry them.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Newswire words that say nothing about which event it is.
NEWS_STOP = frozenset("""
said says say told tell according reported report reports reporting week weeks year years
month months day days today yesterday tomorrow monday tuesday wednesday thursday friday
saturday sunday january february march april may june july august september october november
december morning evening night afternoon time times new news statement statements added
including people percent cent official officials government told spokesman spokeswoman
would could might also just like make made take took told asked ask says saying according
first second third last next early late later earlier million billion thousand hundred
""".split())
# Capitalised words that are not names: roles and titles written before names, and
# words that start sentences.
CAP_STOP = frozenset("""
president prime minister foreign chancellor governor mayor secretary general chief chairman
spokesman spokeswoman ministry minister's director deputy ambassador king queen prince mr mrs
ms dr sir state news agency office officials official analysts residents
""".split())

_CAP_RUN = re.compile(r"\b[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)*")
_SENTENCE_END_CHARS = ".!?:;\"“”'‘’()[]–—-"


def _starts_sentence(text: str, pos: int) -> bool:
    """Whether ``pos`` starts a sentence: only whitespace before it back to the start of
    the text, a line break, or sentence punctuation. Looks at a short window only: a
    search over the whole prefix per name made a 5 MB article quadratic."""
    window = text[max(0, pos - 64):pos]
    stripped = window.rstrip()
    if not stripped:
        return "\n" in window or pos <= 64 or text[:pos].isspace()  # (rare: a long blank run)
    return stripped[-1] in _SENTENCE_END_CHARS or "\n" in window[len(stripped):]


_POSSESSIVE = re.compile(r"['’]s$")


COMMON_ZIPF = 5.8  # words at least this frequent in English are dropped


def stem(word: str) -> str:
    word = _POSSESSIVE.sub("", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# Per distinct token or run, not per occurrence (the caches below): stemming and the rarity
# test of every token took ~1.3 CPU-s on the corpus's 5 MB article, whose tokens are a few
# hundred distinct words.
_CACHE_SIZE = 200_000


def content_words(text: str) -> list[str]:
    from wordfreq import tokenize

    return [word for word in map(_content_word, tokenize(text, "en")) if word]


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _content_word(token: str) -> str:
    """The stemmed token if it is a content word, else ''."""
    w = stem(token.strip("'’-."))
    if w[:1].isdigit():
        return w if len(w) >= 2 else ""
    if len(w) >= 3 and w not in NEWS_STOP and rarity(w) > RARITY_CEILING - COMMON_ZIPF:
        return w
    return ""


def name_key(form: str) -> str:
    return " ".join(_POSSESSIVE.sub("", w) for w in form.lower().split())


def capitalised_names(title: str, body: str, forms: dict[str, str]) -> list[str]:
    """Name features from English text: glossary ids (``@id``) for glossary forms, else each
    capitalised word (lower-cased) of a name run. See the module docstring for the rules."""
    return [n for n, _ in _names(title, body, forms)]


# Names repeat: the words of each distinct run are made once (kept across articles), and the
# names of each distinct (run, sentence start?, title?) once per article (they depend on the
# article's mid-sentence words). Per run occurrence this took ~0.8 CPU-s on the 5 MB article.

def _names(title: str, body: str, forms: dict[str, str]) -> list[tuple[str, bool]]:
    """(name, from the title?) pairs, in order (see :func:`capitalised_names`)."""
    mid: set[str] = set()
    runs: list[tuple[tuple[str, ...], bool, bool]] = []
    for part, is_title in ((title, True), (body, False)):
        for m in _CAP_RUN.finditer(part):
            words, lowered = _run_words(m.group())
            initial = is_title or _starts_sentence(part, m.start())
            if not is_title:
                mid.update(lowered[1 if initial else 0 :])
            runs.append((words, initial, is_title))
    out: list[tuple[str, bool]] = []
    done: dict[tuple[tuple[str, ...], bool, bool], list[tuple[str, bool]]] = {}
    for run in runs:
        names = done.get(run)
        if names is None:
            names = done[run] = _run_names(*run, forms, mid)
        out.extend(names)
    return out


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _run_words(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of a capitalised run without possessives and edge quotes, and lower-cased."""
    words = tuple(_POSSESSIVE.sub("", w).strip("'’-") for w in run.split())
    return words, tuple(w.lower() for w in words)


def _run_names(words: tuple[str, ...], initial: bool, is_title: bool, forms: dict[str, str],
               mid: set[str]) -> list[tuple[str, bool]]:
    """The names of one run: glossary ids for the longest glossary forms, else its words."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(words):
        # longest glossary form starting here
        for j in range(len(words), i, -1):
            gid = forms.get(" ".join(words[i:j]).lower())
            if gid:
                out.append(("@" + gid, is_title))
                i = j
                break
        else:
            w = words[i].lower()
            first = is_title or (initial and i == 0)  # needs a mid-sentence witness
            if (len(w) >= 2 and w not in CAP_STOP and w not in NEWS_STOP
                    and rarity(w) > RARITY_CEILING - COMMON_ZIPF and (not first or w in mid)):
                out.append((w, is_title))
            i += 1
    return out


@dataclass
class Evidence:
    """What one article says about its event."""

    id: str
    time: datetime
    title: str
    lang: str
    source: str
    words: dict[str, float]
    names: dict[str, float]
    headline: frozenset[str] = frozenset()  # the names in the title
    entities: list[str] = field(default_factory=list)  # readable: glossary ids first, then the most frequent other names
    keys: list[str] = field(default_factory=list)  # retrieval keys (names, strongest words)
    signature: str = ""


def english_parts(row) -> tuple[str, str]:
    """(title, body) in English: the translation, or the original for English articles."""
    if row.lang == "en" and not row.translation:
        return row.title or "", row.original_text or ""
    return (row.title_en or row.title or ""), (row.translation or "")


def signature(row) -> str:
    """Changes when anything the evidence is made of changes (then the article may move)."""
    title, body = english_parts(row)
    ids = sorted({f.get("entity", "") for f in row.name_findings})
    cands = sorted({c.get("suggested_en") or "" for c in row.name_candidates})
    raw = "\x1f".join([row.content_hash, title, body, row.published or "", *ids, "|", *cands])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 or RFC 2822 date/time (as feeds and JSON files give them) in UTC; a time
    without a zone is taken as UTC; None when there is none or it cannot be read."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            t = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


RARITY_CEILING = 8.0
RARITY_FLOOR = 0.5
_RARITY: dict[str, float] = {}


def rarity(token: str) -> float:
    """How much a token says: ``8 - zipf`` (wordfreq's Zipf frequency of the word in English,
    ``log10`` of its count per billion words), i.e. an IDF from a fixed general corpus: the
    same for every batch and order. "the" 0.3, "said" 2, "china" 2.9, "lavrov" 5.3, a name
    wordfreq has never seen ("tunxi") 8. A glossary id (``@wang_yi``) weighs as its words
    ("wang yi"): ``@russia`` is as common as "russia"."""
    w = _RARITY.get(token)
    if w is None:
        from wordfreq import zipf_frequency

        word = token[1:].replace("_", " ") if token.startswith("@") else token
        w = max(RARITY_FLOOR, RARITY_CEILING - zipf_frequency(word, "en"))
        _RARITY[token] = w
    return w


def vectorise(doc: list[str], *, binary: bool) -> dict[str, float]:
    """Rarity-weighted, L2-normalised vector of a token list."""
    tf: dict[str, int] = {}
    for t in doc:
        tf[t] = tf.get(t, 0) + 1
    vec = {t: (1.0 if binary else 1.0 + math.log(n)) * rarity(t) for t, n in tf.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


N_KEYS = 12


def build_evidence(rows, times: dict[str, datetime], forms: dict[str, str]) -> list[Evidence]:
    """Evidence for each row (one vectoriser pass for all). ``times`` gives each row's
    time (its publication time, else when the story layer first saw it)."""
    word_docs, name_docs, heads, ents = [], [], [], []
    for row in rows:
        title, body = english_parts(row)
        names = ["@" + f["entity"] for f in row.name_findings if f.get("entity")]
        for c in row.name_candidates:
            if c.get("suggested_en"):
                names += [w for w in name_key(c["suggested_en"]).split() if len(w) > 1]
        found = _names(title, body, forms)
        names += [n for n, _ in found]
        name_docs.append(names)
        heads.append(frozenset(n for n, t in found if t))
        word_docs.append(content_words(title) * 2 + content_words(body))
        ids = sorted({n[1:] for n in names if n.startswith("@")})
        counts: dict[str, int] = {}
        for n in names:
            if not n.startswith("@"):
                counts[n] = counts.get(n, 0) + 1
        others = sorted(counts, key=lambda n: (-counts[n], n))[:8]
        ents.append(ids + others)
    words = [vectorise(d, binary=False) for d in word_docs]
    names = [vectorise(d, binary=True) for d in name_docs]
    out = []
    for row, w, n, h, e in zip(rows, words, names, heads, ents, strict=True):
        title, _ = english_parts(row)
        keys = sorted(n) + [k for k, _ in sorted(w.items(), key=lambda kv: (-kv[1], kv[0]))[:N_KEYS]]
        out.append(Evidence(row.id, times[row.id], title, row.lang, row.source, w, n, h, e,
                            sorted(set(keys)), signature(row)))
    return out
