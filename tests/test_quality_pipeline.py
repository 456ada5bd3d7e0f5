"""Quality in the pipeline: per-sentence flags, needs_review rows, n-best names, files, review CLI."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from newsflow.article import Article, StoredArticle
from newsflow.cli import app
from newsflow.names import load_glossary
from newsflow.nbest import choose_hypothesis
from newsflow.pipeline import NamesResult, Route, passthrough_row, translate_group, translated_row
from newsflow.quality import KINDS, check_document
from newsflow.report import article_json, article_markdown
from tests.conftest import REPO, write_config
from translators.engine import DocResult, Engine, EngineOptions, SentenceResult
from translators.packages import find_package

GLOSSARY = load_glossary(REPO / "glossary.yaml")
SENSIBLE = {"low-confidence", "repetition", "truncated", "length-ratio", "wrong-language", "untranslated"}


def article(i, title, paragraphs, langs=None):
    a = Article(id=f"s:{i}", source="s", title=title, paragraphs=paragraphs)
    a.lang, a.lang_confidence = "de", 0.99
    a.paragraph_langs = langs or ["de"] * len(paragraphs)
    a.paragraph_confidence = [0.99] * len(paragraphs)
    return a


@pytest.fixture(scope="module")
def de_engine(installed_models_dir):
    return Engine(find_package(installed_models_dir, "de", "en"), EngineOptions(redecode=True))


def test_random_weight_model_output_is_flagged_for_review(de_engine):
    arts = [
        article(1, "Lawrow trifft Wang Yi in Tunxi",
                ["Der russische Außenminister Lawrow traf am Dienstag seinen chinesischen Amtskollegen. "
                 "Beide sprachen über den Handel.", "Das Treffen dauerte zwei Stunden."]),
        article(2, "Streik bei der Bahn", ["Die Gewerkschaft ruft zu Warnstreiks auf."]),
        article(3, "Regierung plant Reform",
                ["Die Bundesregierung kündigte neue Regeln an.",
                 "The minister said: we will not accept any preconditions for these talks."],
                langs=["de", "en"]),
    ]
    route = Route("de", package=de_engine.package)
    out = translate_group(route, arts, de_engine, glossary=GLOSSARY)
    for t in out:
        assert t.quality_flags, t.title_en
        assert {f["kind"] for f in t.quality_flags} <= SENSIBLE
        assert t.sentences >= 2
        for f in t.quality_flags:
            assert list(f) == ["paragraph", "sentence", "kind", "detail"]
            assert 0 <= f["paragraph"] <= len(t.article.paragraphs) and f["sentence"] >= -1
        row = translated_row(t, NamesResult(t.title_en, t.paragraphs_en, [], []), "run-1")
        assert row.status == "translated" and row.needs_review is True
        assert row.quality_flags == t.quality_flags
    # every sentence is low-confidence; a quarter of them (the budget) was decoded again
    total = sum(t.sentences for t in out)
    assert 1 <= sum(t.redecoded for t in out) <= -(-total // 4)
    # the English paragraph of article 3 (index 2 in [title, *paragraphs]) is kept and not checked
    assert out[2].paragraphs_en[1] == arts[2].paragraphs[1]
    assert all(f["paragraph"] != 2 for f in out[2].quality_flags)
    # the random model scores far below ln 0.5: low-confidence is among the reasons
    assert all(any(f["kind"] == "low-confidence" for f in t.quality_flags) for t in out)


def test_passed_through_articles_are_not_checked():
    a = article(1, "Lavrov meets Wang Yi", ["The ministers met in Tunxi."])
    a.lang = "en"
    row = passthrough_row(a, NamesResult(a.title, a.paragraphs, [], []), "run-1")
    assert row.needs_review is False and row.quality_flags == []


class FakeEngine:
    """Returns the given (text, score) hypotheses for every sentence."""

    low_confidence = -0.69

    def __init__(self, hypotheses):
        self.hypotheses = hypotheses

    def translate_documents(self, docs, lang, cache=None):
        out = []
        for doc in docs:
            details = [[(p, SentenceResult(self.hypotheses[0][0], score=self.hypotheses[0][1],
                                           hypotheses=tuple(self.hypotheses)))] if p else [] for p in doc]
            out.append(DocResult([self.hypotheses[0][0] if p else "" for p in doc], 0,
                                 sum(1 for p in doc if p), details=details))
        return out


def test_nbest_takes_a_hypothesis_with_the_names_right_within_the_margin():
    a = article(1, "", ["Lawrow traf Wang Yi in Tunxi."])
    route = Route("de", package=SimpleNamespace(from_code="de", model_id="m", model_version="1"))
    near = FakeEngine([("Lawrow met Wang Yi in Tunxi.", -0.30), ("Lavrov met Wang Yi in Tunxi.", -0.45)])
    [t] = translate_group(route, [a], near, glossary=GLOSSARY, quality=SimpleNamespace(nbest_margin=0.5))
    assert t.paragraphs_en == ["Lavrov met Wang Yi in Tunxi."] and t.nbest_picks == 1
    far = FakeEngine([("Lawrow met Wang Yi in Tunxi.", -0.30), ("Lavrov met Wang Yi in Tunxi.", -1.2)])
    [t] = translate_group(route, [a], far, glossary=GLOSSARY, quality=SimpleNamespace(nbest_margin=0.5))
    assert t.paragraphs_en == ["Lawrow met Wang Yi in Tunxi."] and t.nbest_picks == 0
    [t] = translate_group(route, [a], near)  # no glossary: the best is kept
    assert t.nbest_picks == 0


def test_choose_hypothesis():
    src = "Lawrow traf Wang Yi in Tunxi."
    hyps = [("Lavrov met Wang Yi.", -0.2), ("Lawrow met Wang Yi.", -0.25)]
    assert choose_hypothesis(GLOSSARY, "de", src, hyps, 0.5) == 0  # best is right already
    hyps = [("He met him in Tunxi.", -0.2), ("Lawrow met Wang Yi in Tunxi.", -0.3),
            ("Lavrov met Wang Yi in Tunxi.", -0.4)]
    assert choose_hypothesis(GLOSSARY, "de", src, hyps, 0.5) == 2  # fewest problems
    assert choose_hypothesis(GLOSSARY, "de", src, hyps, 0.15) == 1  # -0.4 is beyond the margin
    assert choose_hypothesis(GLOSSARY, "de", src, hyps[:1], 0.5) == 0


def test_check_document_positions_and_same_output_loop():
    parts = [
        [("Streik bei der Bahn", "Strike at Deutsche Bahn", False, -0.2)],
        [("Er kam.", "He came.", False, -0.1),
         ("Die Polizei nahm zwei Verdächtige fest.", "Police arrested two", False, -0.1)],
        [("Eins.", "Yes yes.", False, -0.1), ("Zwei.", "Yes yes.", False, -0.1),
         ("Drei.", "Yes yes.", False, -0.1)],
        [("Die Regierung plant neue Regeln.", "", False, None)],
    ]
    flags = check_document(parts, "de", skip={3})
    assert [(f["paragraph"], f["sentence"], f["kind"]) for f in flags] == [
        (1, 1, "truncated"), (2, -1, "repetition")]
    assert flags[1]["detail"].startswith("the same output for 3 different sentences")
    assert check_document(parts, "de")[-1]["kind"] == "empty"  # not skipped: checked
    low = check_document([[("Hallo.", "Hello.", False, -1.0)]], "de", low_confidence=-0.69)
    assert [(f["kind"], f["detail"]) for f in low] == [("low-confidence", "model score -1.00 below -0.69: “Hello.”")]
    assert all(f["kind"] in KINDS for f in flags)


def flagged_row(i=1):
    return StoredArticle(
        id=f"s:{i}", source="s", content_hash="h", status="translated", title="Streik",
        original_text="Streik.\n\nEr kam. Sie ging.", title_en="Strike", translation="Strike.\n\nHe came. She",
        needs_review=True, quality_flags=[{"paragraph": 2, "sentence": 1, "kind": "truncated",
                                           "detail": "the output stops mid-sentence"}])


def test_files_carry_the_flags():
    row = flagged_row()
    data = article_json(row)
    assert data["needs_review"] is True and data["quality_flags"] == row.quality_flags
    assert "text_en" in data and "name_findings" in data  # existing keys kept
    md = article_markdown(row)
    assert "needs review: truncated" in md
    assert "> ⚠ needs review: sentence 2: **truncated** (the output stops mid-sentence)" in md
    assert md.index("He came. She") < md.index("sentence 2: **truncated**")
    clean = StoredArticle(id="s:2", source="s", content_hash="h", status="translated", title="T",
                          translation="Fine.")
    assert "needs review" not in article_markdown(clean) and article_json(clean)["needs_review"] is False


def test_review_command_lists_the_queue(tmp_path):
    from newsflow.config import load_settings
    from newsflow.store import open_store

    cfg = write_config(tmp_path, tmp_path / "models")
    store = open_store(load_settings(cfg))
    try:
        ok = flagged_row(3)
        ok.needs_review, ok.quality_flags = False, []
        store.upsert_many([flagged_row(1), ok, flagged_row(2)])
    finally:
        store.close()
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(cfg), "review", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["id"] for r in rows) == ["s:1", "s:2"]
    assert rows[0]["kinds"] == ["truncated"] and rows[0]["quality_flags"][0]["paragraph"] == 2
    text = runner.invoke(app, ["--config", str(cfg), "review", "--limit", "1"])
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == 1 and "[truncated]" in text.stdout
