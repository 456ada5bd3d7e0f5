"""Stories: one event across sources and languages.

After the names step every translated or passed-through article is assigned to a story
(:func:`assign`): it joins the existing story that reports the same event or founds a new
one. The evidence is in :mod:`newsflow.story_text` (glossary entity ids found in the source,
names and words of the English text), the rule in :mod:`newsflow.story_cluster` (score
against stories in the time window, threshold, deterministic order). This module is the
thin store layer and the read functions the CLI and the web reader use.

Tables (``newsflow/store/schema.py``): ``stories`` (one row per story: title, first/last
seen, languages, sources, entities, article count, and the story's word/name vectors and
retrieval keys that assignment needs), ``story_keys`` (retrieval key -> story, so an
assignment loads only the stories that can match) and ``story_members`` (article -> story,
the signature of the evidence it was placed with, and the time used). ``articles.story_id``
mirrors ``story_members``.

Idempotent: an article whose evidence signature is unchanged keeps its story and nothing is
written. An article whose text (or translation, names, date) changed is taken out of its
story (the story is rebuilt from its other members, or deleted when none is left) and
placed again. Concurrent runs serialise on the store's lock for the whole assignment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from newsflow.story_cluster import THRESHOLD, Clusterer, Story
from newsflow.story_text import build_evidence, parse_time, signature

ELIGIBLE = ("translated", "passed-through")
STORIES_LOCK = 0x6E6577_0010
DEFAULT_WINDOW_HOURS = 72
REPORT_CAP = 20
_CHUNK = 400


# -- settings and glossary ---------------------------------------------------------


def window_of(settings) -> timedelta:
    cfg = getattr(settings, "stories", None) if settings is not None else None
    hours = getattr(cfg, "window_hours", None) or DEFAULT_WINDOW_HOURS
    return timedelta(hours=float(hours))


_FORMS: dict[str, dict[str, str]] = {}


def glossary_forms(settings) -> dict[str, str]:
    """English glossary form (lower-cased) -> entity id; {} without a glossary."""
    path = getattr(settings, "glossary", None) if settings is not None else None
    if not path:
        return {}
    path = settings.resolve(path)
    key = str(path)
    if key not in _FORMS:
        try:
            from newsflow.names import load_glossary

            glossary = load_glossary(path)
        except Exception:  # no glossary, or a broken one: names then come from the text only
            return {}
        _FORMS[key] = {f.lower(): e.id for e in glossary for f in e.en}
    return _FORMS[key]


# -- rows <-> stories --------------------------------------------------------------


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def _vec_out(vec: dict[str, float]) -> str:
    return json.dumps(dict(sorted(vec.items())), ensure_ascii=False)


def _vec_in(text: str | None) -> dict[str, float]:
    return {k: float(v) for k, v in json.loads(text or "{}").items()}


def _story_from_row(r) -> Story:
    s = Story(r["id"], parse_time(r["first_seen"]), parse_time(r["last_seen"]),
              words=_vec_in(r["words"]), names=_vec_in(r["names"]),
              article_count=r["article_count"], languages=json.loads(r["languages"]),
              sources=json.loads(r["sources"]), entities=json.loads(r["entity_counts"]),
              title=r["title"], title_rank=tuple(json.loads(r["title_rank"] or "[]")))
    s.refresh()
    return s


def _story_params(s: Story) -> tuple:
    return (s.id, s.title, _iso(s.first_seen), _iso(s.last_seen), json.dumps(s.languages),
            json.dumps(s.sources), json.dumps(entity_list(s), ensure_ascii=False),
            json.dumps(s.entities, ensure_ascii=False, sort_keys=True), s.article_count,
            _vec_out(s.words), _vec_out(s.names), json.dumps(list(s.title_rank), ensure_ascii=False),
            json.dumps(s.keys))


_STORY_COLS = ("id", "title", "first_seen", "last_seen", "languages", "sources", "entities",
               "entity_counts", "article_count", "words", "names", "title_rank", "keys")


def entity_list(s: Story, n: int = 12) -> list[str]:
    """The story's entities, most often named first: glossary ids and other names."""
    return sorted(s.entities, key=lambda e: (-s.entities[e], e))[:n]


# -- assignment --------------------------------------------------------------------


def assign(store, rows: Iterable, settings=None, *, now: datetime | None = None) -> list[dict]:
    """Assign stored rows to stories; returns the stories touched
    (``{"id", "title", "languages", "article_count"}``, newest first)."""
    rows = list({r.id: r for r in rows}.values())
    if not rows:
        return []
    window = window_of(settings)
    forms = glossary_forms(settings)
    now = now or datetime.now(UTC)
    touched: dict[str, Story] = {}
    with store.transaction() as conn:
        store._serialize(conn, STORIES_LOCK)
        members = _members(store, conn, [r.id for r in rows])
        place, moved_from = [], set()
        for r in rows:
            m = members.get(r.id)
            if r.status not in ELIGIBLE:
                if m:
                    moved_from.add(m["story_id"])
                    _drop_member(store, conn, r.id)
                continue
            if m and m["signature"] == signature(r):
                if r.story_id != m["story_id"]:  # a writer that did not carry story_id over
                    store._exec(conn, "UPDATE articles SET story_id = ? WHERE id = ?",
                                (m["story_id"], r.id))
                continue
            if m:
                moved_from.add(m["story_id"])
                _drop_member(store, conn, r.id)
            place.append(r)
        for sid in sorted(moved_from):
            _rebuild(store, conn, sid, window, forms)
        if not place:
            return []
        times = {}
        for r in place:
            m = members.get(r.id)
            t = parse_time(r.published) or (parse_time(m["seen_at"]) if m else None) or now
            times[r.id] = t
        evidence = build_evidence(place, times, forms)
        lo = min(e.time for e in evidence) - window
        hi = max(e.time for e in evidence) + window
        keys = sorted({k for e in evidence for k in e.keys})
        clusterer = Clusterer(_load_candidates(store, conn, keys, lo, hi), window, THRESHOLD)
        placed = clusterer.place_all(evidence)
        for ev in evidence:
            touched[placed[ev.id]] = clusterer.stories[placed[ev.id]]
        _write(store, conn, touched.values(), evidence, placed)
        _prune(store, conn, window)
    return [story_summary(s) for s in sorted(touched.values(), key=lambda s: (s.last_seen, s.id),
                                             reverse=True)]


def _prune(store, conn, window: timedelta) -> None:
    """Drop what only assignment needs (vectors, retrieval keys) from stories that no new
    article can reach any more: last seen more than :func:`prune_after` before the newest
    story. Keeps the tables from growing by ~10 kB a story for ever; the stories themselves
    (title, entities, articles) stay. An article published that long before the newest ones
    founds a story of its own."""
    newest = store._exec(conn, "SELECT max(last_seen) AS t FROM stories").fetchone()["t"]
    if not newest:
        return
    cutoff = _iso(parse_time(newest) - prune_after(window))
    old = [r["id"] for r in store._exec(
        conn, "SELECT id FROM stories WHERE last_seen < ? AND keys <> '[]'", (cutoff,)).fetchall()]
    for i in range(0, len(old), _CHUNK):
        chunk = old[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        store._exec(conn, f"DELETE FROM story_keys WHERE story_id IN ({marks})", chunk)
        store._exec(conn, f"UPDATE stories SET words = '{{}}', names = '{{}}', keys = '[]' "
                          f"WHERE id IN ({marks})", chunk)


def prune_after(window: timedelta) -> timedelta:
    return max(timedelta(days=30), 10 * window)


def story_summary(s: Story) -> dict:
    return {"id": s.id, "title": s.title, "languages": list(s.languages),
            "article_count": s.article_count}


def _members(store, conn, ids: list[str]) -> dict[str, dict]:
    out = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for r in store._exec(conn, f"SELECT article_id, story_id, signature, seen_at FROM story_members "
                                   f"WHERE article_id IN ({marks})", chunk).fetchall():
            out[r["article_id"]] = dict(r)
    return out


def _drop_member(store, conn, article_id: str) -> None:
    store._exec(conn, "DELETE FROM story_members WHERE article_id = ?", (article_id,))
    store._exec(conn, "UPDATE articles SET story_id = NULL WHERE id = ?", (article_id,))


def _rebuild(store, conn, story_id: str, window: timedelta, forms: dict[str, str]) -> None:
    """Recompute a story from its remaining members (after one left); delete it if empty."""
    rows = store._exec(conn, "SELECT article_id, seen_at FROM story_members WHERE story_id = ?",
                       (story_id,)).fetchall()
    store._exec(conn, "DELETE FROM story_keys WHERE story_id = ?", (story_id,))
    if not rows:
        store._exec(conn, "DELETE FROM stories WHERE id = ?", (story_id,))
        return
    seen = {r["article_id"]: r["seen_at"] for r in rows}
    from newsflow.store.schema import row_article

    arts = [row_article(r) for r in
            store._exec(conn, f"SELECT * FROM articles WHERE id IN ({','.join('?' * len(seen))})",
                        list(seen)).fetchall()]
    times = {a.id: parse_time(a.published) or parse_time(seen[a.id]) for a in arts}
    evidence = sorted(build_evidence(arts, times, forms), key=lambda e: (e.time, e.id))
    story = Story(story_id, evidence[0].time, evidence[0].time)
    for ev in evidence:
        story.add(ev)
    _write(store, conn, [story], [], {})


def _load_candidates(store, conn, keys: list[str], lo: datetime, hi: datetime) -> list[Story]:
    ids: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for r in store._exec(conn, f"SELECT DISTINCT k.story_id FROM story_keys k JOIN stories s "
                                   f"ON s.id = k.story_id WHERE k.key IN ({marks}) "
                                   f"AND s.last_seen >= ? AND s.first_seen <= ?",
                             [*chunk, _iso(lo), _iso(hi)]).fetchall():
            ids.add(r["story_id"])
    out = []
    ordered = sorted(ids)
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        cols = ",".join(c for c in _STORY_COLS if c != "entities")
        out += [_story_from_row(r) for r in
                store._exec(conn, f"SELECT {cols} FROM stories WHERE id IN ({marks})", chunk).fetchall()]
    return out


def _write(store, conn, stories: Iterable[Story], evidence, placed: dict[str, str]) -> None:
    cols = ",".join(_STORY_COLS)
    updates = ",".join(f"{c}=excluded.{c}" for c in _STORY_COLS if c != "id")
    for s in sorted(stories, key=lambda s: s.id):
        store._exec(conn, f"INSERT INTO stories ({cols}) VALUES ({','.join('?' * len(_STORY_COLS))}) "
                          f"ON CONFLICT (id) DO UPDATE SET {updates}", _story_params(s))
        store._exec(conn, "DELETE FROM story_keys WHERE story_id = ?", (s.id,))
        for k in s.keys:
            store._exec(conn, "INSERT INTO story_keys (key, story_id) VALUES (?, ?)", (k, s.id))
    for ev in sorted(evidence, key=lambda e: e.id):
        sid = placed[ev.id]
        store._exec(conn, "INSERT INTO story_members (article_id, story_id, signature, seen_at) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET "
                          "story_id = excluded.story_id, signature = excluded.signature, "
                          "seen_at = excluded.seen_at", (ev.id, sid, ev.signature, _iso(ev.time)))
        store._exec(conn, "UPDATE articles SET story_id = ? WHERE id = ?", (sid, ev.id))


def sync(store, settings=None, *, batch: int = 500) -> int:
    """Assign every eligible stored article that has no story yet (articles stored before
    stories existed, or by a run that stopped before assigning). Returns how many."""
    marks = ",".join("?" * len(ELIGIBLE))
    ids = [r["id"] for r in store._query(
        f"SELECT id FROM articles WHERE status IN ({marks}) AND story_id IS NULL "
        f"ORDER BY published IS NULL, published, id {store.BYTE_ORDER}", ELIGIBLE)]
    for i in range(0, len(ids), batch):
        assign(store, store.get_many(ids[i : i + batch]).values(), settings)
    return len(ids)


# -- read functions (CLI, web) -----------------------------------------------------


def parse_since(value: str | None, now: datetime | None = None) -> str | None:
    """``24h``, ``7d``, ``90m`` or an ISO date/time -> an ISO UTC timestamp; None for None."""
    from newsflow.errors import NewsflowError

    if value is None or value == "":
        return None
    now = now or datetime.now(UTC)
    v = value.strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if v[-1:] in units and v[:-1].replace(".", "", 1).isdigit():
        return _iso(now - timedelta(**{units[v[-1]]: float(v[:-1])}))
    t = parse_time(value)
    if t is None:
        raise NewsflowError(f"--since {value!r}: expected an ISO date/time (2026-03-12, "
                            "2026-03-12T08:00) or a duration (24h, 7d)")
    return _iso(t)


def _json_like(value: str, suffix: str = "") -> str:
    """A LIKE pattern for one element of a JSON list (or, with ``suffix=":"``, one key of a
    JSON object) as this module writes them: the quotes delimit the whole element."""
    from newsflow.store.base import like_pattern

    return like_pattern(json.dumps(value, ensure_ascii=False) + suffix)


def list_stories(store, *, since=None, entity=None, lang=None, source=None, limit=50,
                 offset=0, with_articles: bool = True) -> list[dict]:
    """Stories newest first (by last_seen), each with its articles (oldest first; an empty
    list with ``with_articles=False``, for the reader's front page, which shows counts).
    ``entity``: a glossary id (``lavrov``, ``wang_yi``; "Wang Yi" works too) or a name word
    (``klitschko``); ``since``: ISO or ``24h``/``7d``; ``lang``/``source``: one of the story's."""
    sql, args = ("SELECT id, title, languages, sources, entities, first_seen, last_seen, "
                 "article_count FROM stories WHERE 1=1"), []
    if since:
        sql, args = sql + " AND last_seen >= ?", [*args, parse_since(since)]
    if entity:  # any name the story's articles give, not only the listed top ones
        key = "_".join(entity.lower().split())
        sql, args = sql + " AND entity_counts LIKE ? ESCAPE '\\'", [*args, _json_like(key, ":")]
    for col, value in (("languages", lang), ("sources", source)):
        if value:
            sql, args = sql + f" AND {col} LIKE ? ESCAPE '\\'", [*args, _json_like(value)]
    sql += f" ORDER BY last_seen DESC, id {store.BYTE_ORDER} LIMIT ? OFFSET ?"
    rows = store._query(sql, [*args, int(limit), int(offset)])
    stories = [_story_out(r) for r in rows]
    if with_articles:
        _attach_articles(store, stories)
    return stories


def get_story(store, story_id: str) -> dict | None:
    rows = store._query("SELECT id, title, languages, sources, entities, first_seen, last_seen, "
                        "article_count FROM stories WHERE id = ?", (story_id,))
    if not rows:
        return None
    story = _story_out(rows[0])
    _attach_articles(store, [story])
    return story


def _story_out(r) -> dict:
    return {"id": r["id"], "title": r["title"], "languages": json.loads(r["languages"]),
            "sources": json.loads(r["sources"]), "entities": json.loads(r["entities"]),
            "first_seen": r["first_seen"], "last_seen": r["last_seen"],
            "article_count": r["article_count"], "articles": []}


def _attach_articles(store, stories: list[dict]) -> None:
    by_id = {s["id"]: s for s in stories}
    ids = list(by_id)
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = store._query(
            f"SELECT a.id, a.url, a.title, a.title_en, a.lang, a.source, a.published, m.story_id, "
            f"m.seen_at FROM story_members m JOIN articles a ON a.id = m.article_id "
            f"WHERE m.story_id IN ({marks})", chunk)
        for r in rows:
            by_id[r["story_id"]]["articles"].append(
                {"id": r["id"], "url": r["url"], "title": r["title"], "title_en": r["title_en"],
                 "lang": r["lang"], "source": r["source"], "published": r["published"],
                 "_t": r["seen_at"]})
    for s in stories:
        s["articles"].sort(key=lambda a: (a["_t"], a["id"]))
        for a in s["articles"]:
            del a["_t"]
