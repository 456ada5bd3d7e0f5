"""Rows for the stories and search tests: the repo's samples as the pipeline stores them,
and the English evaluation sets under tests/data/stories/.

Sample articles in English pass through; German and Chinese ones that
``tests/data/stories/samples_en.json`` translates are stored as translated (that file stands
in for the models: the tiny test models produce noise); the names step runs for real
(``pipeline.apply_names`` with the repo's glossary), so entity ids come from the source.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from newsflow.article import StoredArticle, stable_id
from newsflow.names import load_glossary
from newsflow.pipeline import apply_names, base_row, passthrough_row

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "stories"
GLOSSARY = REPO / "glossary.yaml"


def settings(window_hours: float = 72):
    """The part of Settings that stories read."""
    return SimpleNamespace(glossary=GLOSSARY, resolve=lambda p: Path(p),
                           stories=SimpleNamespace(window_hours=window_hours))


@cache
def glossary():
    return load_glossary(GLOSSARY)


@cache
def _sample_articles() -> tuple:
    import tempfile

    from newsflow.config import load_settings
    from newsflow.pipeline import prepare_articles
    from newsflow.sources import load_source, parse_payloads
    from tests.conftest import write_config

    tmp = Path(tempfile.mkdtemp(prefix="newsflow-stories-"))
    cfg = load_settings(write_config(tmp, None))
    out = []
    for src in cfg.sources:
        out += prepare_articles(parse_payloads(src, load_source(src, tmp)))
    return tuple(out)


def sample_rows() -> list[StoredArticle]:
    """English samples passed through, translated ones from samples_en.json; the others
    (no translation here) are left out."""
    translations = json.loads((DATA / "samples_en.json").read_text(encoding="utf-8"))
    # page ids hash the configured path (absolute here, so it differs per clone)
    page_keys = {stable_id("pages", str(f)): f"pages/{f.name}"
                 for f in (REPO / "samples" / "html").glob("*.html")}
    rows = []
    for art in _sample_articles():
        if art.error or not art.paragraphs:
            continue
        if art.lang == "en":
            names = apply_names(glossary(), "en", art, art.title, list(art.paragraphs))
            rows.append(passthrough_row(art, names, "run-1"))
        elif art.id in translations or page_keys.get(art.id) in translations:
            t = translations.get(art.id) or translations[page_keys[art.id]]
            paras = t["translation"].split("\n\n")
            names = apply_names(glossary(), art.lang, art, t["title_en"], paras)
            row = base_row(art, "translated", "run-1")
            row.title_en, row.translation = names.title, "\n\n".join(names.paragraphs)
            row.raw_translation = "\n\n".join([t["title_en"], *paras])
            row.name_findings, row.name_candidates = names.findings, names.candidates
            row.model_id, row.model_version = f"translate-{art.lang}_en", "test"
            rows.append(row)
    return rows


def english_rows(name: str) -> tuple[list[StoredArticle], dict[str, str]]:
    """(rows, article id -> event) of tests/data/stories/<name>.jsonl: English articles as
    the pipeline stores them (passed through, names checked against the glossary)."""
    from newsflow.article import Article

    rows, gold = [], {}
    for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        paras = rec["text"].split("\n\n")
        art = Article(id=rec["id"], source=rec["source"], title=rec["title"], paragraphs=paras,
                      published=rec["published"], lang="en", lang_confidence=1.0,
                      paragraph_langs=["en"] * len(paras))
        names = apply_names(glossary(), "en", art, art.title, paras)
        rows.append(passthrough_row(art, names, "run-1"))
        gold[rec["id"]] = rec["event"]
    return rows, gold


def bcubed(pred: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering (item -> cluster) against gold."""
    by_pred, by_gold = defaultdict(set), defaultdict(set)
    for item, c in pred.items():
        by_pred[c].add(item)
    for item, c in gold.items():
        by_gold[c].add(item)
    p = r = 0.0
    for item in gold:
        same = by_pred[pred[item]] & by_gold[gold[item]]
        p += len(same) / len(by_pred[pred[item]])
        r += len(same) / len(by_gold[gold[item]])
    p, r = p / len(gold), r / len(gold)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def merged_events(pred: dict[str, str], gold: dict[str, str]) -> list[list[str]]:
    """Groups of gold events that share a predicted story."""
    events = defaultdict(set)
    for item, c in pred.items():
        events[c].add(gold[item])
    return sorted(sorted(v) for v in events.values() if len(v) > 1)
