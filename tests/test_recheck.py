"""Glossary edits reach stored articles (newsflow/recheck.py): names re-checked on the
stored model output, no model loaded, nothing re-translated, nothing re-checked twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from newsflow import pipeline
from newsflow.article import Article
from newsflow.names import load_glossary
from newsflow.recheck import glossary_digest, iter_rechecked, recheck_stored
from newsflow.store import Store

WANG_YI = """entries:
  - id: wang_yi
    type: person
    en: [Wang Yi]
    de: [Wang Yi]
    zh: [王毅]
    avoid: [Wangyi, King Yi]
"""
LAVROV = """  - id: lavrov
    type: person
    en: [Sergei Lavrov, Sergey Lavrov, Lavrov]
    de: [Sergej Lawrow, Lawrow]
    zh: [谢尔盖·拉夫罗夫, 拉夫罗夫]
    avoid: [Lavrow, Lawrow, Sergej Lawrow]
"""


@dataclass(frozen=True)
class Pkg:  # what translated_row reads of an InstalledPackage
    from_code: str = "de"
    to_code: str = "en"
    model_id: str = "translate-de_en"
    model_version: str = "1.0+abc"


def german() -> pipeline.Translated:
    art = Article(id="de:1", source="de", title="Lawrow in Berlin",
                  paragraphs=["Lawrow traf Wang Yi in Berlin.", "Das Treffen dauerte zwei Stunden."],
                  lang="de", lang_confidence=0.99, paragraph_langs=["de", "de"])
    # the model's output as it came: the German spelling and a literal "King Yi"
    return pipeline.Translated(art, pipeline.Route("de", package=Pkg()), "Lawrow in Berlin",
                               ["Lawrow met King Yi in Berlin.", "The meeting lasted two hours."], 0)


def english() -> Article:
    return Article(id="en:1", source="en", title="Lavrow in Beijing", paragraphs=["Lavrow met Wang Yi."],
                   lang="en", lang_confidence=0.99, paragraph_langs=["en"])


def store_rows(store, glossary_path):
    """Rows as a run stores them: names checked against the glossary at ``glossary_path``."""
    glossary, digest = load_glossary(glossary_path), glossary_digest(glossary_path)
    t, en = german(), english()
    rows = [
        pipeline.translated_row(t, pipeline.apply_names(glossary, "de", t.article, t.title_en,
                                                        t.paragraphs_en), "run-1", digest),
        pipeline.passthrough_row(en, pipeline.apply_names(glossary, "en", en, en.title, en.paragraphs),
                                 "run-1", digest),
        pipeline.base_row(Article(id="zh:1", source="zh", title="拉夫罗夫", paragraphs=["拉夫罗夫说。"],
                                  lang="zh"), "pending", "run-1", "no zh->en model installed"),
    ]
    store.upsert_many(rows)
    return rows


@pytest.fixture
def no_model(monkeypatch):
    """Loading or running a model during a re-check fails the test."""
    from translators import engine

    def refuse(*args, **kwargs):
        raise AssertionError("a re-check must not load or run a model")

    monkeypatch.setattr(engine.Engine, "__init__", refuse)
    monkeypatch.setattr(engine.Engine, "translate_documents", refuse)


def test_digest_is_sha256_of_the_file_content(tmp_path):
    path = tmp_path / "glossary.yaml"
    path.write_text(WANG_YI, encoding="utf-8")
    assert glossary_digest(path) == hashlib.sha256(WANG_YI.encode()).hexdigest()
    path.write_text(WANG_YI + "# a comment\n", encoding="utf-8")
    assert glossary_digest(path) != hashlib.sha256(WANG_YI.encode()).hexdigest()


def test_a_new_glossary_entity_reaches_stored_articles(tmp_path, no_model):
    path = tmp_path / "glossary.yaml"
    path.write_text(WANG_YI, encoding="utf-8")
    with Store(tmp_path / "db.sqlite") as store:
        de, en, _ = store_rows(store, path)
        assert de.translation == "Lawrow met Wang Yi in Berlin.\n\nThe meeting lasted two hours."
        assert "lavrov" not in {f["entity"] for f in de.name_findings + en.name_findings}

        path.write_text(WANG_YI + LAVROV, encoding="utf-8")  # the edit: a new entity
        digest = glossary_digest(path)
        rechecked = recheck_stored(store, load_glossary(path), digest)

        assert sorted(r.id for r in rechecked) == ["de:1", "en:1"]  # the pending row has no names
        new_de, new_en, new_zh = store.get("de:1"), store.get("en:1"), store.get("zh:1")
        lavrov = {"entity": "lavrov", "status": "wrong", "found": ["Lawrow"], "expected": "Sergei Lavrov"}
        assert lavrov in new_de.name_findings
        assert {"entity": "wang_yi", "status": "wrong", "found": ["King Yi"],
                "expected": "Wang Yi"} in new_de.name_findings
        assert new_de.title_en == "Lavrov in Berlin"
        assert new_de.translation == "Lavrov met Wang Yi in Berlin.\n\nThe meeting lasted two hours."
        assert {**lavrov, "found": ["Lavrow"]} in new_en.name_findings
        assert new_en.title_en == "Lavrov in Beijing" and new_en.translation == "Lavrov met Wang Yi."
        # the model's output, the model and the run bookkeeping are as they were
        for old, new in ((de, new_de), (en, new_en)):
            assert new.raw_translation == old.raw_translation
            assert (new.status, new.model_version, new.content_hash, new.first_run, new.attempts) == (
                old.status, old.model_version, old.content_hash, old.first_run, old.attempts)
            assert new.glossary_digest == digest != old.glossary_digest
        assert (new_zh.status, new_zh.reason, new_zh.glossary_digest) == (
            "pending", "no zh->en model installed", None)
        assert [(r.id, r.translation) for r in rechecked] == [
            (r.id, r.translation) for r in (store.get(r.id) for r in rechecked)]

        # the same glossary again: nothing to re-check
        assert recheck_stored(store, load_glossary(path), digest) == []


def test_the_run_own_articles_and_current_rows_are_skipped(tmp_path, no_model):
    path = tmp_path / "glossary.yaml"
    path.write_text(WANG_YI, encoding="utf-8")
    with Store(tmp_path / "db.sqlite") as store:
        store_rows(store, path)
        path.write_text(WANG_YI + LAVROV, encoding="utf-8")
        rechecked = recheck_stored(store, load_glossary(path), glossary_digest(path), skip_ids={"de:1"})
        assert [r.id for r in rechecked] == ["en:1"]
        assert store.get("de:1").translation.startswith("Lawrow met")


def test_rows_without_a_digest_are_rechecked_once_and_no_glossary_clears_findings(tmp_path, no_model,
                                                                                  monkeypatch):
    import newsflow.recheck

    monkeypatch.setattr(newsflow.recheck, "_WRITE_CHUNK", 1)  # written chunk by chunk
    path = tmp_path / "glossary.yaml"
    path.write_text(WANG_YI + LAVROV, encoding="utf-8")
    with Store(tmp_path / "db.sqlite") as store:
        de, en, _ = store_rows(store, path)
        for row in (de, en):  # as stored before digests existed
            row.glossary_digest = None
        store.upsert_many([de, en])
        digest = glossary_digest(path)
        assert sorted(r.id for r in recheck_stored(store, load_glossary(path), digest)) == ["de:1", "en:1"]
        assert store.get("de:1").name_findings == de.name_findings  # same glossary, same findings
        assert recheck_stored(store, load_glossary(path), digest) == []

        # the glossary is taken out of the config: rows are stored as a run without one would
        rechecked = recheck_stored(store, None, None)
        assert sorted(r.id for r in rechecked) == ["de:1", "en:1"]
        assert store.get("de:1").name_findings == []
        assert store.get("de:1").translation == store.get("de:1").raw_translation.split("\n\n", 1)[1]


def test_a_names_check_that_breaks_keeps_the_text_and_says_so(tmp_path, no_model):
    import newsflow.names

    path = tmp_path / "glossary.yaml"
    path.write_text(WANG_YI, encoding="utf-8")
    with Store(tmp_path / "db.sqlite") as store:
        de, _, _ = store_rows(store, path)
        path.write_text(WANG_YI + LAVROV, encoding="utf-8")

        def broken(*args, **kwargs):
            raise RuntimeError("index out of range")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(newsflow.names, "check_names", broken)
            recheck_stored(store, load_glossary(path), glossary_digest(path))
        row = store.get("de:1")
        assert row.reason == "names not checked: RuntimeError: index out of range"
        assert row.translation == "Lawrow met King Yi in Berlin.\n\nThe meeting lasted two hours."
        path.write_text(WANG_YI + LAVROV + "# fixed\n", encoding="utf-8")
        recheck_stored(store, load_glossary(path), glossary_digest(path))
        assert store.get("de:1").reason is None


def test_a_whole_store_recheck_holds_one_batch_at_a_time(tmp_path, no_model, monkeypatch):
    """A glossary edit re-checks every stored article: rows come, are stored and leave in
    batches; the run core writes each batch's files and keeps only ids and titles."""
    from newsflow import run

    path = tmp_path / "glossary.yaml"
    path.write_text(WANG_YI, encoding="utf-8")
    glossary, digest = load_glossary(path), glossary_digest(path)
    with Store(tmp_path / "db.sqlite") as store:
        rows = []
        for n in range(7):
            t = german()
            t.article.id = f"de:{n}"
            rows.append(pipeline.translated_row(t, pipeline.apply_names(glossary, "de", t.article, t.title_en,
                                                                        t.paragraphs_en), "run-1", digest))
        store.upsert_many(rows)
        path.write_text(WANG_YI + LAVROV, encoding="utf-8")
        new_glossary, new_digest = load_glossary(path), glossary_digest(path)

        batches = []
        for batch in iter_rechecked(store, new_glossary, new_digest, batch=3):
            # each batch is stored before it is handed over
            assert all(store.get(r.id).glossary_digest == new_digest for r in batch)
            batches.append([r.id for r in batch])
        assert [len(b) for b in batches] == [3, 3, 1]
        assert sorted(i for b in batches for i in b) == sorted(r.id for r in rows)

        path.write_text(WANG_YI + LAVROV + "# edited again\n", encoding="utf-8")
        monkeypatch.setattr("newsflow.recheck._WRITE_CHUNK", 2)
        written = []
        monkeypatch.setattr(run, "write_article_files", lambda out, rows: written.append(len(rows)))
        ctx = type("Ctx", (), {"glossary_path": path, "glossary_digest": glossary_digest(path),
                               "output_dir": tmp_path / "out"})()
        warnings: list[str] = []
        done = run._recheck(ctx, store, warnings)
        assert written == [2, 2, 2, 1] and warnings == []
        assert sorted(d["id"] for d in done) == sorted(r.id for r in rows)
        assert all(set(d) == {"id", "title"} for d in done)
