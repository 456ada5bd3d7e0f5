"""Bad input through the WHOLE flow: every item of the corpus (tests/reliability/corpus plus
a generated 5 MB article and a 100,000-character paragraph) ends as a stored article with a
clear status and reason; nothing crashes the run, nothing is dropped, nothing is silently
truncated. Bad config and glossary files stop the CLI with one line naming file, line, key.

How items are counted is documented in tests/reliability/harness.py (a malformed feed is one
source error, a repeated guid is one row plus a warning)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.reliability import harness
from tests.reliability.harness import BIG_ARTICLE, RUN_ON, Expect

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus_run(prefect_harness, installed_models_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    cfg = harness.write_corpus_config(tmp, installed_models_dir)
    state, summary = harness.run_flow(cfg)
    return tmp, cfg, state, summary


def _row(tmp, source: str, key: str) -> dict:
    return harness.db_rows(tmp / "data" / "newsflow.db")[Expect(source, key, "").id]


def test_the_run_completes_and_names_the_broken_feeds(corpus_run):
    _tmp, _cfg, state, summary = corpus_run
    assert state.is_completed(), summary
    errors = {e["source"]: e["error"] for e in summary["source_errors"]}
    assert errors.keys() == harness.EXPECTED_SOURCE_ERRORS.keys()
    for source, text in harness.EXPECTED_SOURCE_ERRORS.items():
        assert text in errors[source] and source in errors[source]  # one line naming the source


def test_every_bad_input_ends_with_a_clear_status(corpus_run):
    tmp, _cfg, _state, summary = corpus_run
    assert harness.check_corpus_run(tmp, summary) == []


def test_nothing_is_dropped(corpus_run):
    tmp, _cfg, _state, summary = corpus_run
    expected = harness.expected_for(tmp)
    rows = harness.db_rows(tmp / "data" / "newsflow.db")
    duplicates = sum(e.copies - 1 for e in expected)
    assert harness.items_in(expected) == len(rows) + duplicates
    assert harness.lost_items(tmp, expected) == []
    assert summary["articles_in"] == len(rows)
    assert sum(summary["by_status"].values()) == len(rows)
    reported = {a["id"] for a in summary["pending"] + summary["failed"]}
    assert reported == {i for i, r in rows.items() if r["status"] in ("pending", "failed")}


def test_the_100k_character_paragraph_is_translated_whole(corpus_run, installed_models_dir):
    from newsflow.config import load_settings
    from newsflow.pipeline import route_for
    from translators.engine import EngineOptions
    from translators.packages import list_installed

    tmp, cfg, _state, _summary = corpus_run
    row = _row(tmp, "generated", RUN_ON)
    assert len(row["original_text"]) == harness.RUN_ON_CHARS
    assert row["truncated_sentences"] == 0, row["reason"]
    package = route_for("de", list_installed(installed_models_dir), ["de"]).package
    options = EngineOptions.from_config(load_settings(cfg).translation, load_settings(cfg).quality)
    assert harness.run_on_check(row, package, options) == []


def test_the_5mb_article_is_stored_and_translated_whole(corpus_run):
    tmp, _cfg, _state, _summary = corpus_run
    row = _row(tmp, "generated", BIG_ARTICLE)
    source = (tmp / "generated" / BIG_ARTICLE).read_text(encoding="utf-8")
    title, body = source.split("\n\n", 1)
    assert row["title"] == title and row["original_text"] == body.strip()
    assert len(row["original_text"].encode()) >= harness.BIG_BYTES - 100
    assert row["truncated_sentences"] == 0
    assert harness.translation_problems(row) == []  # one non-empty paragraph per paragraph
    from newsflow.report import article_path

    markdown = article_path(tmp / "output", row["id"], ".md").read_text(encoding="utf-8")
    # whole, both (source text is escaped in Markdown; flagged paragraphs get a review note
    # between them, so the translation is found paragraph by paragraph)
    from newsflow.markdown import escape_markdown

    assert escape_markdown(row["original_text"]) in markdown
    # Every paragraph, in order: each search starts where the previous paragraph ended, so the
    # check reads the file once (searching the whole 10 MB file for each of ~4,000 paragraphs
    # cost ~25 s). The earliest match never passes a paragraph's real place, so a correct
    # file is never refused; a missing or reordered paragraph is.
    at = 0
    for i, paragraph in enumerate(row["translation"].split("\n\n")):
        escaped = escape_markdown(paragraph)
        found = markdown.find(escaped, at)
        assert found >= 0, f"translation paragraph {i} is not in the Markdown (in order): {paragraph[:80]!r}"
        at = found + len(escaped)


def test_wrong_and_missing_charsets_are_decoded(corpus_run):
    tmp, *_ = corpus_run
    assert "Grüße aus München" in _row(tmp, "junk", "latin1-declared-utf8.html")["title"]
    assert "Köln" in _row(tmp, "junk", "latin1-declared-utf8.html")["original_text"]
    assert "住房政策" in _row(tmp, "junk", "gb18030-no-charset.txt")["original_text"]
    assert "住房政策" in _row(tmp, "junk", "gb18030-declared-utf8.html")["original_text"]
    assert "貿易談判" in _row(tmp, "junk", "big5-no-charset.txt")["original_text"]
    assert _row(tmp, "feed-gb18030-declared-latin1", "gbk-1")["title"] == "新的住房政策"


def test_invisible_characters_go_and_the_text_stays(corpus_run):
    tmp, *_ = corpus_run
    row = _row(tmp, "junk", "zero-width-control.txt")
    assert "Die Bundesregierung kündigte am 3. März neue Regeln für den Wohnungsbau an." in row["original_text"]
    assert "Der Finanzminister verteidigte den Haushalt." in row["original_text"]
    emoji = _row(tmp, "junk", "emoji.txt")
    assert "🚇🚌" in emoji["original_text"] and "🇩🇪" in emoji["original_text"]
    # Every zero-width joiner goes (clean.normalize_unicode), so a ZWJ emoji sequence comes
    # out as its parts: the family is four people. Kept as is: the text is intact.
    assert "👩👩👧👦" in emoji["original_text"]
    assert "مرحبا" in _row(tmp, "junk", "rtl-mixed-german.txt")["original_text"]


def test_lone_surrogates_are_replaced_not_fatal(corpus_run):
    tmp, *_ = corpus_run
    row = _row(tmp, "junk", "surrogates.jsonl#lone-\ufffd")
    assert row["url"] == "https://example.invalid/\ufffd" and row["published"] == "\ufffd"
    assert row["title"] == "Neue Regeln \ufffd"
    feed = _row(tmp, "feed-surrogate-refs", "ref-1")
    assert feed["title"] == "Neue Regeln \ufffd" and "\ufffd" in feed["original_text"]


def test_a_rerun_over_bad_input_writes_nothing(corpus_run):
    tmp, cfg, _state, _summary = corpus_run
    before = harness.db_rows(tmp / "data" / "newsflow.db")
    # every source but the generated one (the 5 MB article costs seconds to re-read)
    sources = ["junk", "pages", *(f"feed-{p.stem}" for p in (harness.CORPUS / "feeds").glob("*.xml"))]
    state, summary = harness.run_flow(cfg, sources=sources)
    assert state.is_completed()
    assert summary["written"] == 0
    after = harness.db_rows(tmp / "data" / "newsflow.db")
    assert {k: (r["updated_at"], r["attempts"]) for k, r in after.items()} == {
        k: (r["updated_at"], r["attempts"]) for k, r in before.items()
    }


# --------------------------------------------------------------------------- decoding (unit)


def test_a_chinese_feed_labelled_latin1_is_not_read_as_mojibake():
    from newsflow.sources import decode_text

    data = (harness.CORPUS / "feeds" / "gb18030-declared-latin1.xml").read_bytes()
    text, charset = decode_text(data, None)
    assert charset == "gb18030" and "国务院宣布了新的住房政策" in text
    # a Western label on Western text is still believed, short or long
    for sample in ("Öl", "Grüße aus München, Straße", "ÄÖÜ äöü " * 5):
        assert decode_text(sample.encode("latin-1"), "iso-8859-1") == (sample, "cp1252")
    big5 = "臺灣新聞，台北市政府今天宣布將於下週舉行記者會".encode("big5")
    assert decode_text(big5, "iso-8859-1")[1] == "big5"


# --------------------------------------------------------------------------- config and glossary

GOOD_GLOSSARY = "entries:\n  - id: lavrov\n    en: [Sergei Lavrov, Lavrov]\n    de: [Lawrow]\n"

CONFIG_CASES = [
    # (case, config text, expected line, text the message must contain)
    ("invalid YAML", "sources: [\n  {name: a, kind: feed\n", 3, "invalid YAML"),
    ("tab in YAML", "sources: []\n\tlanguages: [de]\n", 2, "invalid YAML"),
    ("unknown key", "sources: []\ncolour: red\n", 2, "key 'colour': unknown key"),
    ("unknown nested key", "sources:\n  - name: a\n    kind: folder\n    path: x\n    colour: red\n", 5,
     "key 'sources[0].colour': unknown key"),
    ("wrong type", "sources: []\ntranslation:\n  beam_size: many\n", 3,
     "key 'translation.beam_size': Input should be a valid integer"),
    ("wrong type in a source", "sources:\n  - name: a\n    kind: feed\n    url: x\n    timeout_seconds: soon\n",
     5, "key 'sources[0].timeout_seconds'"),
    ("list expected", "languages: de\n", 1, "key 'languages': Input should be a valid list"),
    ("missing key", "sources:\n  - name: a\n    kind: folder\n", 2, "a 'folder' source needs 'path'"),
    ("unknown kind", "sources:\n  - {name: a, kind: ftp, url: x}\n", 2, "key 'sources[0].kind'"),
]

GLOSSARY_CASES = [
    ("empty glossary", "", 1, "glossary is empty"),
    ("no entries", "entries: []\n", 1, "glossary has no entries"),
    ("entry without English forms", "entries:\n  - id: lavrov\n    de: [Lawrow]\n", 2,
     "entry 'lavrov': key 'en' must be a non-empty list of strings"),
    ("empty English forms", "entries:\n  - id: lavrov\n    en: []\n", 3, "entry 'lavrov': key 'en'"),
    ("duplicate ids", GOOD_GLOSSARY + "  - id: wang\n    en: [Wang Yi]\n  - id: lavrov\n    en: [Lavrov]\n",
     7, "entry 'lavrov': duplicate id (first defined on line 2)"),
    ("unknown entry key", "entries:\n  - id: lavrov\n    en: [Lavrov]\n    colour: red\n", 4,
     "entry 'lavrov': unknown key 'colour'"),
    ("invalid YAML", "entries:\n  - id: [lavrov\n", 3, "invalid YAML"),
]


def _cli_run(config):
    from newsflow.cli import app

    result = CliRunner().invoke(app, ["--config", str(config), "run", "--no-install-models"])
    return result.exit_code, result.stdout, result.stderr


def _assert_one_line(code, stdout, stderr, path, line, text):
    assert code == 2, (stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {path}:{line}: "), lines[0]
    assert text in lines[0], lines[0]
    assert "Traceback" not in stdout + stderr


@pytest.mark.parametrize("case, text, line, message", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_is_one_line_naming_file_line_and_key(tmp_path, case, text, line, message):
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    _assert_one_line(*_cli_run(config), config, line, message)


@pytest.mark.parametrize("case, text, line, message", GLOSSARY_CASES, ids=[c[0] for c in GLOSSARY_CASES])
def test_bad_glossary_is_one_line_naming_file_line_and_key(tmp_path, case, text, line, message):
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text(text, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"sources: []\nglossary: {glossary}\n", encoding="utf-8")
    _assert_one_line(*_cli_run(config), glossary, line, message)


def test_duplicate_source_names_point_at_the_duplicate(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("sources:\n  - {name: a, kind: folder, path: x}\n  - {name: a, kind: folder, path: y}\n")
    code, stdout, stderr = _cli_run(config)
    # was: "config.yaml:1: key 'sources': Value error, duplicate source name 'a'"
    _assert_one_line(code, stdout, stderr, config, 3, "key 'sources[1].name': duplicate source name 'a' "
                     "(first on line 2)")
    assert "Value error" not in stderr


def test_a_config_that_is_not_a_mapping_names_its_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("- a\n- b\n")
    _assert_one_line(*_cli_run(config), config, 1, "the top level must be a mapping")


# zh and zt once shared the batch 'zh->en': the first article decided for both whether the
# text was converted to Simplified (found by this corpus, fixed in plan_work).
def test_simplified_and_traditional_articles_each_keep_their_route(installed_models_dir):
    from newsflow.article import RawArticle
    from newsflow.pipeline import plan_work, prepare_articles
    from translators.packages import list_installed

    raws = [RawArticle("inbox", "a-zh.txt", "新的住房政策", "国务院宣布了新的住房政策。外交部发言人表示，中国愿与德国加强贸易谈判。"),
            RawArticle("inbox", "b-zt.txt", "貿易談判取得進展", "國務院宣布了新的住房政策。外交部發言人表示，中國願與德國加強貿易談判。")]
    articles = prepare_articles(raws)
    assert [a.lang for a in articles] == ["zh", "zt"]
    plan = plan_work(articles, {}, list_installed(installed_models_dir), ["de", "zh", "zt"])
    routes = {a.lang: route for route, group in plan.translate.values() for a in group}
    assert routes["zt"].simplify, "Traditional text would reach the zh->en model unconverted"
    assert not routes["zh"].simplify


# --------------------------------------------------------------------------- big articles: repeated work

# The 5 MB article is 24,000 sentences drawn from 150 distinct ones. Checking every sentence
# again (quality checks run the language detector; the n-best names check runs check_names)
# made its run most of this file's time. A pair seen before in the same document is decided
# once: counted here, so a change that re-checks every occurrence shows up as a count.


def test_a_sentence_repeated_through_a_document_is_quality_checked_once(monkeypatch):
    import newsflow.quality as quality

    calls = []
    real = quality.check_pair

    def check_pair(source, translation, *args, **kwargs):
        calls.append((source, translation))
        return real(source, translation, *args, **kwargs)

    monkeypatch.setattr(quality, "check_pair", check_pair)
    pairs = [("Die Bundesregierung kündigte neue Regeln an.", "The government announced new rules.", False, -0.2),
             ("Der Verband kritisierte die Pläne.", "Der Verband kritisierte die Pläne.", False, -0.3),
             ("Die Polizei meldete einen Einbruch.", "", False, None)]
    parts = [[pairs[0]], *([pairs[i % 3], pairs[(i + 1) % 3]] for i in range(300))]
    flags = quality.check_document(parts, "de")
    assert len(calls) == len(set(pairs))  # each distinct pair checked once
    # ... and every occurrence still gets its flags, at its own place
    flagged = {(f["paragraph"], f["sentence"]) for f in flags if f["kind"] in ("untranslated", "empty")}
    expected = {(p, s) for p, part in enumerate(parts) for s, pair in enumerate(part) if pair is not pairs[0]}
    assert flagged == expected
    monkeypatch.setattr(quality, "check_pair", real)
    assert flags == quality.check_document(parts, "de")  # the same flags as checking each


def test_a_sentence_repeated_through_a_document_has_its_hypothesis_chosen_once(monkeypatch):
    import newsflow.nbest as nbest
    from newsflow.pipeline import _sentence_texts
    from translators.engine import DocResult, SentenceResult

    calls = []

    def choose_hypothesis(glossary, lang, source, hypotheses, margin):
        calls.append(source)
        return 1 if "Lawrow" in source else 0

    monkeypatch.setattr(nbest, "choose_hypothesis", choose_hypothesis)
    lavrov = ("Lawrow traf Wang Yi.", SentenceResult("Lavrov met Wang.", hypotheses=(
        ("Lavrov met Wang.", -0.3), ("Lavrov met Wang Yi.", -0.4))))
    other = ("Der Bundestag tagte.", SentenceResult("The Bundestag met.", hypotheses=(
        ("The Bundestag met.", -0.2), ("The parliament met.", -0.5))))
    details = [[lavrov, other] for _ in range(500)]
    res = DocResult(paragraphs=[], truncated_sentences=0, sentences=1000, details=details)
    parts, picks = _sentence_texts(res, object(), "de", 0.5)
    assert sorted(calls) == sorted([lavrov[0], other[0]])
    assert picks == 500  # every occurrence takes the chosen hypothesis
    assert all(part[0][1] == "Lavrov met Wang Yi." and part[1][1] == "The Bundestag met." for part in parts)
