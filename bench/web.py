"""Reader benchmark: page times of `newsflow web` over a generated store.

    python bench/web.py [--articles 50000] [--repeats 20] [--keep]

(plain ``python`` works: it re-runs itself in the repo's venv, like bench/throughput.py.)

Generates a SQLite store of ``--articles`` articles (German, Chinese and English; 1-6
articles per event, events spread over 60 days, a glossary entity or two each, 1 in 10
flagged for review), stored with the store API and assigned to stories with the real
``newsflow.stories.assign`` in chunks, as runs do. The store is cached in
``$NEWSFLOW_BENCH_CACHE`` (default ``~/.cache/newsflow-bench``) per article count, so a
second run only measures. Then every route is requested ``--repeats`` times in-process
(Starlette's TestClient: the whole ASGI app, templates and queries, without the socket),
with different ids, filters and deep pages, and the median and worst time per route are
printed, one line each, then a summary line:

    web: N articles, S stories; median M ms, worst W ms (route R)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from harness import use_project_environment  # noqa: E402

use_project_environment()

GENERATOR = 3  # bump when the generated store changes (the cache key)
PERSONS = [("lavrov", "Lawrow", "拉夫罗夫", "Lavrov"), ("wang-yi", "Wang Yi", "王毅", "Wang Yi"),
           ("scholz", "Scholz", "朔尔茨", "Scholz"), ("xi-jinping", "Xi Jinping", "习近平", "Xi Jinping"),
           ("zakharova", "Sacharowa", "扎哈罗娃", "Zakharova"), ("li-qiang", "Li Qiang", "李强", "Li Qiang")]
PLACES = [("tunxi", "Tunxi", "屯溪", "Tunxi"), ("beijing", "Peking", "北京", "Beijing"),
          ("berlin", "Berlin", "柏林", "Berlin"), ("shanghai", "Shanghai", "上海", "Shanghai"),
          ("moscow", "Moskau", "莫斯科", "Moscow"), ("kyiv", "Kiew", "基辅", "Kyiv")]
TOPICS = [("Handel", "贸易", "trade"), ("Energie", "能源", "energy"), ("Sicherheit", "安全", "security"),
          ("Klima", "气候", "climate"), ("Technik", "技术", "technology"), ("Landwirtschaft", "农业", "farming")]
SOURCES = {"de": ["de-wire", "de-daily"], "zh": ["zh-xinwen", "zh-ribao"], "en": ["en-news", "en-wire"]}


_SYLLABLES = "ka ro mel dor vin tas lu ber an sto fen gri mo zal ul per na ted kor is".split()


def _event_words(erng: random.Random) -> tuple[str, str]:
    """Two made-up proper names of the event (a company, a project): what sets it apart
    from other events with the same protagonists."""
    def word() -> str:
        return "".join(erng.choice(_SYLLABLES) for _ in range(3)).capitalize()
    return word(), word()


def _article(rng: random.Random, i: int, event: int, lang: str, when: str):
    from newsflow.store import StoredArticle

    erng = random.Random(event)  # the event decides who, where and what
    person, place, topic = erng.choice(PERSONS), erng.choice(PLACES), erng.choice(TOPICS)
    n = erng.randrange(1000)
    firm, project = _event_words(erng)
    if lang == "de":
        title = f"{person[1]} in {place[1]}: Gespräche mit {firm} über {topic[0]} ({n})"
        paras = [f"{person[1]} traf am Montag in {place[1]} Vertreter von {firm} zum Thema {topic[0]}. "
                 f"Das Projekt {project} war Thema der Gespräche." for _ in range(4)]
    elif lang == "zh":
        title = f"{person[2]}在{place[2]}与{firm}就{topic[1]}举行会谈（{n}）"
        paras = [f"{person[2]}周一在{place[2]}就{topic[1]}问题与{firm}代表会谈。双方讨论了{project}项目。"
                 for _ in range(4)]
    else:
        title = title_en = f"{person[3]} in {place[3]}: {firm} talks on {topic[2]} ({n})"
        paras = [f"{person[3]} met officials of {firm} in {place[3]} on Monday about {topic[2]}. "
                 f"The {project} project was discussed." for _ in range(4)]
    english = [f"{person[3]} met representatives of {firm} in {place[3]} on Monday on {topic[2]}. "
               f"The {project} project was the subject of the talks." for _ in range(4)]
    title_en = f"{person[3]} in {place[3]}: {firm} talks on {topic[2]} ({n})"
    if lang == "en":  # passed through: the English is the original
        english = paras
    flagged = rng.random() < 0.1
    row = StoredArticle(
        id=f"{SOURCES[lang][i % 2]}:{i:08d}", source=SOURCES[lang][i % 2], content_hash=f"h{i}",
        status="translated" if lang != "en" else "passed-through", title=title,
        original_text="\n\n".join(paras), url=f"https://example.org/{lang}/{i}", published=when,
        lang=lang, lang_confidence=0.97, title_en=title_en, translation="\n\n".join(english),
        raw_translation="\n\n".join([title_en, *english]),
        model_id=None if lang == "en" else f"translate-{lang}_en", model_version="1.9",
        name_findings=[{"entity": person[0], "status": "ok", "found": [person[3]], "expected": person[3]},
                       {"entity": place[0], "status": "ok", "found": [place[3]], "expected": place[3]}],
        last_run="bench",
    )
    if hasattr(row, "needs_review"):
        row.needs_review = flagged
        row.quality_flags = ([{"paragraph": 1, "sentence": 1, "kind": "low_confidence",
                               "detail": "mean log-probability -1.4"}] if flagged else [])
    return row


def build_store(path: Path, n: int, settings) -> None:
    from datetime import UTC, datetime, timedelta

    from newsflow.store import Store

    rng = random.Random(42)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    rows, i, event = [], 0, 0
    while i < n:
        event += 1
        when = start + timedelta(minutes=rng.randrange(60 * 24 * 60))
        for _ in range(min(rng.randint(1, 6), n - i)):
            lang = rng.choice(["de", "de", "zh", "en"])
            t = when + timedelta(minutes=rng.randrange(600))
            rows.append(_article(rng, i, event, lang, t.isoformat(timespec="seconds")))
            i += 1
    rows.sort(key=lambda r: r.published)  # runs see articles roughly in time order
    try:
        from newsflow.stories import assign
    except ImportError:
        assign = None
        print("bench: newsflow.stories is not in this tree: no stories (story routes are n/a)")
    t0 = time.perf_counter()
    with Store(path) as store:
        for k in range(0, len(rows), 500):
            chunk = rows[k : k + 500]
            store.upsert_many(chunk)
            if assign:  # as the run core does: it sets story_id in the store
                assign(store, chunk, settings)
            if k and k % 10000 == 0:
                print(f"bench: {k} articles stored ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"bench: generated {n} articles in {time.perf_counter() - t0:.1f} s", flush=True)


def routes(rng: random.Random, api, db: Path) -> dict[str, list[str]]:
    """Per route name, the URLs to request (different ids, filters, pages)."""
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    article_ids = [r[0] for r in con.execute("SELECT id FROM articles ORDER BY random() LIMIT 50")]
    con.close()
    stories = api("/api/stories?limit=200").get("stories", [])
    story_ids = [s["id"] for s in stories]
    entities = sorted({e for s in stories for e in s["entities"]}) or ["lavrov"]
    out = {
        "/": ["/"],
        "/ deep page": [f"/?offset={rng.randrange(1, 300) * 30}" for _ in range(5)],
        "/?lang=zh": ["/?lang=zh"],
        "/?source=": [f"/?source={s}" for s in ("de-wire", "zh-ribao", "en-news")],
        "/?entity=": [f"/?entity={e}" for e in entities[:5]],
        "/stories/{id}": [f"/stories/{i}" for i in story_ids[:50]],
        "/articles/{id}": [f"/articles/{i}" for i in article_ids[:50]],
        "/search?q=": [f"/search?q={w}" for w in ("Lavrov", "Handel", "talks energy", "王毅", "Tunxi")],
        "/search deep page": ["/search?q=talks&offset=200"],
        "/review": ["/review", "/review?offset=500"],
        "/healthz": ["/healthz"],
        "/api/stories": ["/api/stories", "/api/stories?lang=de&limit=100"],
        "/api/articles/{id}": [f"/api/articles/{i}" for i in article_ids[:20]],
        "/api/search?q=": ["/api/search?q=Lavrov", "/api/search?q=北京"],
    }
    return {k: [u for u in v if u] for k, v in out.items() if v}


def main(argv: list[str] | None = None) -> None:
    import warnings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the temporary config folder")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from newsflow.config import parse_settings
    from newsflow.web.app import create_app

    cache = Path(os.environ.get("NEWSFLOW_BENCH_CACHE", Path.home() / ".cache" / "newsflow-bench"))
    cache.mkdir(parents=True, exist_ok=True)
    try:
        import newsflow.stories  # noqa: F401
        kind = ""
    except ImportError:
        kind = "-nostories"
    db = cache / f"web-{args.articles}-g{GENERATOR}{kind}.db"
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-web-"))
    sources = "".join(f"  - {{name: {s}, kind: folder, path: .}}\n" for v in SOURCES.values() for s in v)
    settings = parse_settings(f"database: {db}\nglossary: {BENCH.parent / 'glossary.yaml'}\n"
                              f"languages: [de, zh, zt]\nsources:\n{sources}", base_dir=work)
    if not db.exists():
        tmp = db.with_suffix(".tmp.db")
        for p in tmp.parent.glob(tmp.name + "*"):
            p.unlink()
        build_store(tmp, args.articles, settings)
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        tmp.rename(db)
    else:
        print(f"bench: using the cached store {db}")
    client = TestClient(create_app(settings))

    def api(url: str) -> dict:
        r = client.get(url)
        return r.json() if r.status_code == 200 else {}

    rng = random.Random(7)
    table, statuses = {}, {}
    plan = routes(rng, api, db)
    for _ in range(2):  # warm the page cache and the templates
        for urls in plan.values():
            client.get(urls[0])
    for name, urls in plan.items():
        times = []
        for k in range(args.repeats):
            url = urls[k % len(urls)]
            t0 = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            statuses.setdefault(name, set()).add(r.status_code)
        table[name] = (statistics.median(times), max(times))
    n_stories = len(api("/api/stories?limit=200").get("stories", []))
    total = api("/healthz").get("articles", 0)
    print(f"{'route':24} {'median ms':>10} {'worst ms':>10}  status")
    for name, (med, worst) in table.items():
        codes = ",".join(map(str, sorted(statuses[name])))
        if statuses[name] != {200}:
            codes += "  (not measured: the route did not answer 200)"
        print(f"{name:24} {med:10.1f} {worst:10.1f}  {codes}")
    table = {k: v for k, v in table.items() if statuses[k] == {200}} or table
    worst_name = max(table, key=lambda k: table[k][1])
    med_all = statistics.median(m for m, _ in table.values())
    (cache / "web-last-run.json").write_text(json.dumps(
        {"articles": total, "routes": {k: {"median_ms": m, "worst_ms": w} for k, (m, w) in table.items()}},
        indent=2))
    client.app.state.reader.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"web: {total} articles, {'200+' if n_stories >= 200 else n_stories} stories listed; "
          f"median {med_all:.1f} ms, worst {table[worst_name][1]:.1f} ms (route {worst_name})")


if __name__ == "__main__":
    main()
