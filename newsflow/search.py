"""Search stored articles by words in the English text, the original text or the title.

The query logic is here; what differs between SQLite and PostgreSQL is one store hook per
difference (``newsflow/store/sqlite.py``, ``newsflow/store/postgres.py``):

* **words** (``store.search_words``): SQLite FTS5 (``articles_fts``, porter-stemmed unicode61
  over title, English title, English text and original text; ranked by bm25 with titles
  weighing 3x; kept in step with ``articles`` by triggers). PostgreSQL full text: an English
  ``tsvector`` of the English title and text and a ``simple`` one of the original title and
  text (German words as written), ``websearch_to_tsquery``, ranked by ``ts_rank``; expression
  GIN indexes, so nothing can fall out of step. All words must occur (AND); PostgreSQL also
  understands its web-search syntax (``OR``, ``-word``).
* **Chinese characters** (``store.search_chars``): a query with Han characters searches the
  title and original text for each space-separated term as a substring, in Simplified or
  Traditional script (OpenCC; 拉夫罗夫 finds 拉夫羅夫). SQLite uses its trigram index
  (``articles_trgm``) when every term has 3+ characters and LIKE when one is shorter (trigrams
  cannot match 2 characters); PostgreSQL uses LIKE, indexed by ``pg_trgm`` where the
  extension can be created. LIKE results come newest first.

Every result has a snippet: the matched passage with the match in ``[...]``.
"""

from __future__ import annotations

import functools
import re
import threading

from newsflow.stories import parse_since

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_EDGE_PUNCT = re.compile(r"^[^\w]+|[^\w]+$")
SNIPPET_CHARS = 80
_lock = threading.Lock()


@functools.cache
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


def script_variants(term: str) -> tuple[str, ...]:
    """``term`` in Simplified and in Traditional characters (each once)."""
    with _lock:
        forms = [term, _opencc("t2s").convert(term), _opencc("s2t").convert(term)]
    return tuple(dict.fromkeys(forms))


def parse_terms(query: str) -> list[str]:
    """Words and "quoted phrases" of a query, edge punctuation dropped."""
    terms = []
    for phrase, word in _TERM.findall(query):
        t = " ".join(phrase.split()) if phrase else _EDGE_PUNCT.sub("", word)
        if t:
            terms.append(t)
    return terms


def _filters(lang, source, since) -> tuple[str, list]:
    where, args = "", []
    if lang:
        where, args = where + " AND a.lang = ?", [*args, lang]
    if source:
        where, args = where + " AND a.source = ?", [*args, source]
    if since:
        where, args = where + " AND coalesce(a.published, a.created_at) >= ?", [*args, parse_since(since)]
    return where, args


def make_snippet(text: str, terms, width: int = SNIPPET_CHARS) -> str:
    """The passage around the first occurrence of a term, the term in [...]."""
    text = " ".join((text or "").split())
    found = None
    for t in terms:
        for v in (t if isinstance(t, tuple) else (t,)):
            i = text.lower().find(v.lower())
            if i >= 0 and (found is None or i < found[0]):
                found = (i, len(v))
    if found is None:
        return text[:width] + ("…" if len(text) > width else "")
    i, n = found
    lo = max(0, i - width // 2)
    hi = min(len(text), i + n + width // 2)
    return (("…" if lo else "") + text[lo:i] + "[" + text[i : i + n] + "]" + text[i + n : hi]
            + ("…" if hi < len(text) else ""))


def search(store, query: str, *, lang=None, source=None, since=None, limit=20,
           offset=0) -> list[dict]:
    """Articles matching ``query``, best first: ``{id, title, title_en, lang, source, url,
    published, story, snippet}`` each."""
    query = " ".join((query or "").split())
    where, args = _filters(lang, source, since)
    limit, offset = max(0, int(limit)), max(0, int(offset))
    if not query or not limit:
        return []
    if _HAN.search(query):
        terms = [script_variants(t) for t in parse_terms(query)]
        rows = store.search_chars(terms, where, args, limit, offset) if terms else []
    else:
        terms = parse_terms(query)
        rows = store.search_words(query, terms, where, args, limit, offset)
    need_text = [r["id"] for r in rows if not r["snippet"]]
    texts = store.get_many(need_text) if need_text else {}
    out = []
    for r in rows:
        snippet = r["snippet"]
        if not snippet:
            art = texts.get(r["id"])
            body = f"{art.title} {art.original_text}" if art else (r["title"] or "")
            snippet = make_snippet(body, terms)
        out.append({"id": r["id"], "title": r["title"], "title_en": r["title_en"],
                    "lang": r["lang"], "source": r["source"], "url": r["url"],
                    "published": r["published"], "story": r["story_id"],
                    "snippet": " ".join(snippet.split())})
    return out
