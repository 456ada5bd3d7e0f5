"""The evidence one article gives for story assignment (pure; no store, no Prefect).

Two channels, both hashed sparse vectors made by scikit-learn's ``HashingVectorizer``
(fixed 2^20 features, no vocabulary to fit or persist: a story's centroid stored yesterday
is comparable with today's article, and the result does not depend on what else is in the
batch):

* **words**: the English text (translated, or original for English articles): lower-cased
  content words (scikit-learn's English stop words plus newswire filler such as "said",
  "Monday"), a light plural/possessive stem, title words counted twice; sublinear TF
  (1 + ln tf), L2-normalised.
* **names**: language-independent entity evidence. The glossary entity ids the names step
  found in the *source* (``name_findings``: a German, a Chinese and an English report about
  Lavrov and Wang Yi in Tunxi all give ``lavrov``, ``wang_yi``, ``tunxi``), the English forms
  of the name candidates, and capitalised names and places in the English text (a run of
  capitalised words inside a sentence, mapped to a glossary id when it is a glossary form;
  a sentence-initial or headline word counts only when the text also capitalises it
  mid-sentence). Binary weights, L2-normalised. Unseen English articles have no glossary
  entries for most of their people and places; the capitalised names carry them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

N_FEATURES = 2**20

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

_WORD = re.compile(r"[a-z][a-z'’\-]*[a-z]|\d+(?:[.,]\d+)*")
_CAP_RUN = re.compile(r"[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”'‘’()\[\]–—-]\s*|\n)\s*$")
_POSSESSIVE = re.compile(r"['’]s$")


def _stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | NEWS_STOP


_STOP: frozenset[str] | None = None


def stem(word: str) -> str:
    word = _POSSESSIVE.sub("", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> list[str]:
    global _STOP
    if _STOP is None:
        _STOP = _stopwords()
    out = []
    for w in _WORD.findall(text.lower()):
        w = stem(w.strip("'’-"))
        if len(w) >= 3 and w not in _STOP or (w[:1].isdigit() and len(w) >= 2):
            out.append(w)
    return out


def name_key(form: str) -> str:
    return " ".join(_POSSESSIVE.sub("", w) for w in form.lower().split())


def capitalised_names(title: str, body: str, forms: dict[str, str]) -> list[str]:
    """Name features from English text: glossary ids (``@id``) for glossary forms, else each
    capitalised word (lower-cased) of a name run. See the module docstring for the rules."""
    mid: set[str] = set()
    runs: list[tuple[list[str], bool]] = []
    for part, is_title in ((title, True), (body, False)):
        for m in _CAP_RUN.finditer(part):
            words = [_POSSESSIVE.sub("", w).strip("'’-") for w in m.group().split()]
            initial = is_title or bool(_SENTENCE_START.search(part[: m.start()]))
            if not is_title:
                mid.update(w.lower() for w in words[1 if initial else 0 :])
            runs.append((words, initial))
    out: list[str] = []
    global _STOP
    if _STOP is None:
        _STOP = _stopwords()
    for words, initial in runs:
        i = 0
        while i < len(words):
            # longest glossary form starting here
            for j in range(len(words), i, -1):
                gid = forms.get(" ".join(words[i:j]).lower())
                if gid:
                    out.append("@" + gid)
                    i = j
                    break
            else:
                w = words[i].lower()
                first = initial and i == 0
                if (len(w) >= 2 and w not in CAP_STOP and w not in _STOP
                        and (not first or w in mid)):
                    out.append(w)
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
    words: dict[int, float]
    names: dict[int, float]
    entities: list[str]  # readable: glossary ids first, then the most frequent other names
    keys: list[int] = field(default_factory=list)  # retrieval keys (hashed features)
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
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


RARITY_CEILING = 8.0
RARITY_FLOOR = 0.5
_RARITY: dict[str, float] = {}


def rarity(token: str) -> float:
    """How much a token says: ``8 - zipf`` (wordfreq's Zipf frequency of the word in English,
    ``log10`` of its count per billion words), i.e. an IDF from a fixed general corpus: the
    same for every batch and order. "the" 0.3, "said" 2, "china" 2.9, "lavrov" 5.3, a name
    wordfreq has never seen ("tunxi") 8. Glossary ids (``@id``) weigh like an unseen name."""
    w = _RARITY.get(token)
    if w is None:
        if token.startswith("@"):
            w = RARITY_CEILING
        else:
            from wordfreq import zipf_frequency

            w = max(RARITY_FLOOR, RARITY_CEILING - zipf_frequency(token, "en"))
        _RARITY[token] = w
    return w


def _hash_rows(docs: list[list[str]], *, binary: bool) -> list[dict[int, float]]:
    """Hashed, rarity-weighted, L2-normalised vectors (scikit-learn's FeatureHasher)."""
    import math

    import numpy as np
    from sklearn.feature_extraction import FeatureHasher

    weighted = []
    for doc in docs:
        tf: dict[str, int] = {}
        for t in doc:
            tf[t] = tf.get(t, 0) + 1
        weighted.append({t: (1.0 if binary else 1.0 + math.log(n)) * rarity(t) for t, n in tf.items()})
    m = FeatureHasher(n_features=N_FEATURES, input_type="dict", alternate_sign=False).transform(weighted)
    m = m.tocsr()
    out = []
    for i in range(m.shape[0]):
        lo, hi = m.indptr[i], m.indptr[i + 1]
        idx, val = m.indices[lo:hi], m.data[lo:hi]
        norm = float(np.sqrt((val * val).sum())) or 1.0
        out.append({int(k): float(v) / norm for k, v in zip(idx, val, strict=True)})
    return out


def feature_index(token: str) -> int:
    """The hashed index of one token (as HashingVectorizer computes it)."""
    return _hash_rows([[token]], binary=True)[0].popitem()[0]


N_KEYS = 12
NAMES_OUT_OF_WORDS = False


def build_evidence(rows, times: dict[str, datetime], forms: dict[str, str]) -> list[Evidence]:
    """Evidence for each row (one vectoriser pass for all). ``times`` gives each row's
    time (its publication time, else when the story layer first saw it)."""
    word_docs, name_docs, ents = [], [], []
    for row in rows:
        title, body = english_parts(row)
        names = ["@" + f["entity"] for f in row.name_findings if f.get("entity")]
        for c in row.name_candidates:
            if c.get("suggested_en"):
                names += [w for w in name_key(c["suggested_en"]).split() if len(w) > 1]
        names += capitalised_names(title, body, forms)
        name_docs.append(names)
        drop = set(names) if NAMES_OUT_OF_WORDS else set()
        word_docs.append([w for w in content_words(title) * 2 + content_words(body) if w not in drop])
        ids = sorted({n[1:] for n in names if n.startswith("@")})
        counts: dict[str, int] = {}
        for n in names:
            if not n.startswith("@"):
                counts[n] = counts.get(n, 0) + 1
        others = sorted(counts, key=lambda n: (-counts[n], n))[:8]
        ents.append(ids + others)
    words = _hash_rows(word_docs, binary=False)
    names = _hash_rows(name_docs, binary=True)
    out = []
    for row, w, n, e in zip(rows, words, names, ents, strict=True):
        title, _ = english_parts(row)
        keys = sorted(n) + [k for k, _ in sorted(w.items(), key=lambda kv: (-kv[1], kv[0]))[:N_KEYS]]
        out.append(Evidence(row.id, times[row.id], title, row.lang, row.source, w, n, e,
                            sorted(set(keys)), signature(row)))
    return out
