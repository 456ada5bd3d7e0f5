"""Planning and routing: which article gets translated, skipped, or left pending."""

from dataclasses import dataclass

from newsflow.article import Article, StoredArticle
from newsflow.pipeline import changed, plan_work, route_for


@dataclass(frozen=True)
class Pkg:  # the fields of translators.packages.InstalledPackage that routing reads
    from_code: str
    to_code: str
    model_version: str = "1.0+aaa"
    model_id: str = "m"


DE, ZH, ZT = Pkg("de", "en"), Pkg("zh", "en"), Pkg("zt", "en")
ENABLED = ["de", "zh", "zt"]


def art(i, lang="de", text="Lawrow traf Wang Yi.", error=None):
    a = Article(id=f"s:{i}", source="s", title=f"T{i}", paragraphs=[text] if text else [], error=error)
    a.lang, a.lang_confidence = lang, 0.99
    return a


def test_routes():
    assert route_for("en", [], ENABLED).passthrough
    assert route_for("de", [DE], ENABLED).package == DE
    zt = route_for("zt", [ZH], ENABLED)
    assert zt.package == ZH and zt.simplify
    assert route_for("zt", [ZH, ZT], ENABLED).package == ZT
    assert "no de->en model installed" in route_for("de", [ZH], ENABLED).reason
    assert "not enabled" in route_for("fr", [DE], ENABLED).reason
    assert "could not be detected" in route_for("und", [DE], ENABLED).reason


def test_plan_sorts_every_article_somewhere():
    articles = [art(1), art(2, "zh"), art(3, "en"), art(4, "fr"), art(5, text=None, error="no article text found"),
                art(6, "zt")]
    plan = plan_work(articles, {}, [DE, ZH], ENABLED)
    assert [a.id for a in plan.translate["de->en"][1]] == ["s:1"]
    assert [a.id for a in plan.translate["zh->en"][1]] == ["s:2"]
    route, group = plan.translate["zt->en"]  # simplified first, then the zh model
    assert [a.id for a in group] == ["s:6"] and route.simplify and route.package == ZH
    assert [a.id for a in plan.passthrough] == ["s:3"]
    assert [(a.id, r) for a, r in plan.pending][0][0] == "s:4"
    assert [(a.id, r) for a, r in plan.failed] == [("s:5", "no article text found")]
    total = plan.to_translate + len(plan.passthrough) + len(plan.pending) + len(plan.failed) + len(plan.unchanged)
    assert total == len(articles)


def stored(a, status, version="1.0+aaa"):
    return StoredArticle(id=a.id, source=a.source, content_hash=a.content_hash, status=status,
                         model_version=version)


def test_done_work_is_skipped_and_changes_are_redone():
    a = art(1)
    assert plan_work([a], {a.id: stored(a, "translated")}, [DE], ENABLED).unchanged == [a]
    # the model changed -> re-translate
    assert plan_work([a], {a.id: stored(a, "translated", "2.0+bbb")}, [DE], ENABLED).to_translate == 1
    # the text changed -> re-translate
    b = art(1, text="Neuer Text.")
    assert plan_work([b], {b.id: stored(a, "translated")}, [DE], ENABLED).to_translate == 1
    # pending before, model installed now -> translate
    assert plan_work([a], {a.id: stored(a, "pending")}, [DE], ENABLED).to_translate == 1
    # translated before, model removed since -> keep the work
    assert plan_work([a], {a.id: stored(a, "translated")}, [], ENABLED).unchanged == [a]
    e = art(2, "en")
    assert plan_work([e], {e.id: stored(e, "passed-through")}, [], ENABLED).unchanged == [e]


def test_same_outcome_is_not_rewritten():
    a = art(1)
    prev = stored(a, "pending")
    prev.reason = "no de->en model installed"
    new = stored(a, "pending")
    new.reason = "no de->en model installed"
    new.lang = prev.lang = "de"
    assert not changed(new, prev)
    new.reason = "other"
    assert changed(new, prev)
    assert changed(new, None)


def test_plan_restricted_to_claimed_ids():
    articles = [art(1), art(2, "zh"), art(3, "en"), art(4, "fr")]
    plan = plan_work(articles, {}, [DE, ZH], ENABLED)
    assert sorted(plan.article_ids()) == ["s:1", "s:2", "s:3", "s:4"]
    mine = plan.only({"s:2", "s:4"})
    assert list(mine.translate) == ["zh->en"] and mine.passthrough == []
    assert [a.id for a, _ in mine.pending] == ["s:4"]


def test_duplicate_ids_in_one_run_are_reported_not_processed_twice():
    plan = plan_work([art(1), art(1)], {}, [DE], ENABLED)
    assert plan.to_translate == 1 and len(plan.duplicates) == 1


def test_english_quote_paragraph_in_german_article_is_kept_as_written():
    from newsflow.pipeline import Route, translate_group

    a = art(1)
    a.paragraphs = ["Lawrow traf Wang Yi in Tunxi.", "We will not accept any preconditions for the talks."]
    a.paragraph_langs, a.paragraph_confidence = ["de", "en"], [0.99, 0.98]

    class Echo:  # records what the engine is asked to translate
        def translate_documents(self, docs, lang, cache=None):
            self.docs = docs
            from types import SimpleNamespace
            return [SimpleNamespace(paragraphs=[f"EN({p})" if p else "" for p in d], truncated_sentences=0)
                    for d in docs]

    engine = Echo()
    (out,) = translate_group(Route("de", package=DE), [a], engine)
    assert engine.docs == [["T1", "Lawrow traf Wang Yi in Tunxi.", ""]]
    assert out.paragraphs_en == ["EN(Lawrow traf Wang Yi in Tunxi.)", a.paragraphs[1]]
    assert out.title_en == "EN(T1)"


def test_detection_is_reused_only_for_finished_identical_articles(monkeypatch):
    import newsflow.pipeline as pipeline
    from newsflow.detect import Detection

    detected = []

    def fake_detect(title, paragraphs, expected=None):
        detected.append(title)
        return Detection("de", 0.9), [Detection("de", 0.9) for _ in paragraphs]

    monkeypatch.setattr(pipeline, "detect_article", fake_detect)

    def fresh(i, text="Lawrow traf Wang Yi."):
        return Article(id=f"s:{i}", source="s", title=f"T{i}", paragraphs=[text])

    done, edited, old_model, pending, new = fresh(1), fresh(2, "Neu."), fresh(3), fresh(4), fresh(5)
    rows = {
        "s:1": stored(done, "translated"),
        "s:2": stored(fresh(2), "translated"),  # the text has changed since
        "s:3": stored(old_model, "translated", "0.9+old"),  # the model has changed since
        "s:4": stored(pending, "pending"),
    }
    for row in rows.values():
        row.lang, row.lang_confidence, row.paragraph_langs = "de", 0.97, ["de"]
    articles = pipeline.detect_languages([done, edited, old_model, pending, new], rows, [DE], ENABLED)
    assert detected == ["T2", "T3", "T4", "T5"]  # all but the finished, identical one
    assert (done.lang, done.lang_confidence, done.paragraph_langs) == ("de", 0.97, ["de"])
    plan = plan_work(articles, rows, [DE], ENABLED)
    assert [a.id for a in plan.unchanged] == ["s:1"] and plan.to_translate == 4


def test_detection_failure_on_one_article_keeps_it_as_failed(monkeypatch):
    import newsflow.pipeline as pipeline

    real = pipeline.detect_article

    def broken_on_one(title, paragraphs, expected=None):
        if title == "T":
            raise RuntimeError("boom")
        return real(title, paragraphs, expected)

    monkeypatch.setattr(pipeline, "detect_article", broken_on_one)
    german = "Die Gewerkschaft kündigte am Montag einen Streik im Nahverkehr an."
    bad, good = pipeline.detect_languages([
        Article(id="s:1", source="s", title="T", paragraphs=["x"]),
        Article(id="s:2", source="s", title="Streik im Nahverkehr", paragraphs=[german]),
    ])
    # the reason names the step that failed (detection), not cleaning
    assert bad.id == "s:1" and bad.paragraphs == []
    assert bad.error == "language detection failed: RuntimeError: boom"
    assert good.error is None and good.lang == "de" and good.paragraphs == [german]
    plan = plan_work([bad, good], {}, [DE], ENABLED)
    assert [(a.id, r) for a, r in plan.failed] == [("s:1", bad.error)]
    assert [a.id for a in plan.translate["de->en"][1]] == ["s:2"]
