"""Shared helpers for the reliability tests and ``tests/reliability_report.py``.

The corpus (``corpus/``) holds small bad inputs as files; the two big ones (a 5 MB article,
a 100,000-character paragraph without punctuation) are generated at run time by
:func:`generate_large_inputs`. :data:`EXPECTED` says, for every item the sources deliver,
the status it must end with and what its reason must say; :func:`check_corpus_run` compares a
finished run against it and returns the problems (an empty list when all is well).

How inputs are counted ("items in" vs "rows stored"):

* a folder file is one item (a JSONL file is one item per non-blank line), a page is one
  item, a feed entry is one item;
* an entry that repeats another entry's guid is the SAME article: one row, and the run
  report names it in ``warnings`` (``appeared more than once``);
* a feed that cannot be read as a feed at all (not XML, binary, no entries and an XML
  error) is ONE source error in the run report's ``source_errors`` and no row: nothing in it
  can be counted. A feed with XML errors whose entries could still be read keeps them; an
  entry the broken XML left empty is stored as failed with the feed's error.

Fault tooling (loopback servers, a locked database, a killed run...) is in ``faults.py``.
Nothing here imports Prefect at import time, so the report script can set up its environment
first (:func:`isolate_environment`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import sqlite3
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from newsflow.article import stable_id

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "corpus"
LANGUAGES = ["de", "zh", "zt", "fr", "ru"]  # fr, ru enabled but no model: pending with a hint

BIG_ARTICLE = "big-5mb.txt"
BIG_BYTES = 5 * 1024 * 1024
RUN_ON = "run-on-100k.txt"
RUN_ON_CHARS = 100_000
PIPE = "named-pipe.txt"


# --------------------------------------------------------------------------- environment


def isolate_environment() -> Path:
    """What tests/conftest.py does, for a plain script: temp homes, quiet Prefect, no
    telemetry. Call before Prefect or argostranslate is imported. Returns the temp home."""
    home = Path(tempfile.mkdtemp(prefix="newsflow-reliability-"))
    for key, sub in (("XDG_DATA_HOME", "xdg-data"), ("XDG_CONFIG_HOME", "xdg-config"),
                     ("XDG_CACHE_HOME", "xdg-cache"), ("ARGOS_PACKAGES_DIR", "argos-packages"),
                     ("PREFECT_HOME", "prefect")):
        os.environ[key] = str(home / sub)
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    os.environ.pop("PREFECT_API_URL", None)
    return home


def build_models(root: Path, langs: tuple[str, ...] = ("de", "zh")) -> tuple[Path, Path]:
    """(folder of .argosmodel files, installed packages dir) with tiny random-weight models."""
    from tests.support.tiny_package import build_package
    from translators.packages import install_from_path

    files = root / "argos-files"
    for lang in langs:
        build_package(files, lang, "en")
    packages = root / "argos-packages"
    install_from_path(files, packages)
    return files, packages


# --------------------------------------------------------------------------- generated inputs

_DE_SUBJECTS = ["Die Bundesregierung", "Der Bundestag", "Die Kanzlerin", "Der Finanzminister",
                "Die Polizei in Hamburg", "Das Verfassungsgericht", "Die Stadt München",
                "Der Verband", "Die Opposition", "Die Gewerkschaft", "Die Deutsche Bahn"]
_DE_VERBS = ["kündigte", "beschloss", "kritisierte", "meldete", "plante", "verschob", "prüfte",
             "begrüßte", "forderte", "verteidigte"]
_DE_OBJECTS = ["neue Regeln für den Wohnungsbau", "eine Reform der Rente", "höhere Zinsen",
               "den Haushalt für das kommende Jahr", "Gespräche mit China", "die Energiewende",
               "Hilfen für kleine Unternehmen", "strengere Kontrollen an der Grenze",
               "einen Streik im Nahverkehr", "Investitionen in Schulen"]
_DE_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
              "September", "Oktober", "November", "Dezember"]


def german_sentences(rng: random.Random, count: int) -> list[str]:
    return [
        f"{rng.choice(_DE_SUBJECTS)} {rng.choice(_DE_VERBS)} am {rng.randint(1, 28)}. "
        f"{rng.choice(_DE_MONTHS)} {rng.randint(2020, 2026)} {rng.choice(_DE_OBJECTS)} "
        f"{rng.choice(['an.', 'vor.', 'ab.', 'fest.'])}"
        for _ in range(count)
    ]


def generate_large_inputs(folder: Path, seed: int = 6) -> dict[str, Path]:
    """Write the 5 MB article and the 100,000-character run-on paragraph into ``folder``.

    The 5 MB article is ~4,000 paragraphs drawn from 150 distinct sentences: every byte goes
    through fetch, cleaning, detection, segmentation, the store and the output files, while
    the (deduplicating) engine decodes only the distinct sentences, so it stays fast."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    # long sentences (three clauses, ~200 characters), as in agency copy
    clauses = [s.removesuffix(".") for s in german_sentences(rng, 450)]
    pool = [f"{a}, {b.replace('Die ', 'die ', 1)} und {c.replace('Die ', 'die ', 1)}."
            for a, b, c in zip(clauses[::3], clauses[1::3], clauses[2::3], strict=True)]
    paragraphs, size = [], 0
    while size < BIG_BYTES:
        paragraph = " ".join(rng.choice(pool) for _ in range(6))
        paragraphs.append(paragraph)
        size += len(paragraph.encode()) + 2
    big = folder / BIG_ARTICLE
    big.write_text("Ein sehr langer Bericht\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")

    words = " ".join(german_sentences(rng, 3000))
    words = "".join(ch for ch in words if ch.isalpha() or ch == " ")  # no punctuation at all
    words = " ".join(words.split())[:RUN_ON_CHARS].rstrip()
    while len(words) < RUN_ON_CHARS:  # exactly 100,000 characters, ending in a letter
        words += "a"
    run_on = folder / RUN_ON
    run_on.write_text("Ein Absatz ohne Ende\n\n" + words + "\n", encoding="utf-8")
    return {"big": big, "run_on": run_on}


def generate_german_inbox(folder: Path, count: int = 200, sentences: int = 5,
                          seed: int = 7) -> list[Path]:
    """``count`` German articles (.txt, title + 2 paragraphs) of mostly distinct sentences:
    with tiny models 200 of them take a few seconds to translate."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        body = german_sentences(rng, sentences)
        half = len(body) // 2
        path = folder / f"artikel-{i:04d}.txt"
        path.write_text(f"Meldung {i}: {rng.choice(_DE_OBJECTS)}\n\n" + " ".join(body[:half])
                        + "\n\n" + " ".join(body[half:]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def run_on_paragraph(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n\n", 1)[1].strip()


# --------------------------------------------------------------------------- the corpus config


def corpus_sources(generated: Path, missing_page: Path) -> str:
    """YAML `sources:` entries: the corpus folder, every corpus feed, the pages, the
    generated folder, and the binary junk read as a feed."""
    feeds = sorted((CORPUS / "feeds").glob("*.xml"))
    lines = [f"  - {{name: junk, kind: folder, path: {CORPUS / 'folder'}}}",
             f"  - {{name: generated, kind: folder, lang: de, path: {generated}}}"]
    lines += [f"  - {{name: feed-{f.stem}, kind: feed, url: {f}}}" for f in feeds]
    lines.append(f"  - {{name: feed-binary, kind: feed, url: {CORPUS / 'folder' / 'binary-junk.txt'}}}")
    pages = [*sorted((CORPUS / "pages").glob("*.html")), missing_page]
    lines.append("  - name: pages\n    kind: pages\n    lang: de\n    pages:")
    lines += [f"      - {p}" for p in pages]
    return "\n" + "\n".join(lines) + "\n"


def write_corpus_config(tmp: Path, models_dir: Path, extra: str = "") -> Path:
    """config.yaml for a run over the whole corpus, writing under ``tmp``."""
    generated = tmp / "generated"
    generate_large_inputs(generated)
    os.mkfifo(generated / PIPE)  # reading it would block forever
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"sources:{corpus_sources(generated, tmp / 'no-such-page.html')}"
        f"languages: [{', '.join(LANGUAGES)}]\n"
        f"models_dir: {models_dir}\n"
        f"glossary: {REPO / 'glossary.yaml'}\n"
        f"database: {tmp / 'data' / 'newsflow.db'}\n"
        f"output_dir: {tmp / 'output'}\n" + extra,
        encoding="utf-8",
    )
    return cfg


@dataclass(frozen=True)
class Expect:
    """One item a corpus source delivers and how it must end."""

    source: str
    key: str
    status: str
    reason: str | None = None  # a substring the stored reason must contain
    lang: str | None = None
    copies: int = 1  # >1: the source delivers it that many times (same guid): one row
    what: str = ""  # the kind of bad input, for the summary

    @property
    def id(self) -> str:
        return stable_id(self.source, self.key)


_EMPTY_KEY = "sha256:e3b0c44298fc1c14"  # an entry with neither title nor body (sha256 of "")
_NO_TEXT = "no article text found"
_NOT_ENABLED = "is not enabled"
_UND = "could not be detected"

EXPECTED: list[Expect] = [
    # --- folder files
    Expect("junk", "arabic.txt", "pending", "language 'ar' is not enabled", "ar", what="right-to-left (Arabic)"),
    Expect("junk", "hebrew.txt", "pending", "language 'he' is not enabled", "he", what="right-to-left (Hebrew)"),
    Expect("junk", "rtl-mixed-german.txt", "translated", None, "de", what="German with RTL marks and words"),
    Expect("junk", "french.txt", "pending", "no fr->en model installed", "fr", what="language without a model (French)"),
    Expect("junk", "russian.txt", "pending", "no ru->en model installed", "ru", what="language without a model (Russian)"),
    Expect("junk", "big5-no-charset.txt", "translated", "via Simplified", "zt", what="Big5 without a charset"),
    Expect("junk", "gb18030-no-charset.txt", "translated", None, "zh", what="GB18030 without a charset"),
    Expect("junk", "gb18030-declared-utf8.html", "translated", None, "zh", what="GB18030 declared as UTF-8"),
    Expect("junk", "latin1-declared-utf8.html", "translated", None, "de", what="Latin-1 declared as UTF-8"),
    Expect("junk", "binary-junk.txt", "failed", "binary data", what="binary junk"),
    Expect("junk", "high-bytes-junk.html", "failed", "cannot decode", what="undecodable bytes"),
    Expect("junk", "broken.json", "failed", "invalid JSON", what="broken JSON"),
    Expect("junk", "empty.txt", "failed", _NO_TEXT, what="empty file"),
    Expect("junk", "whitespace-only.txt", "failed", _NO_TEXT, what="whitespace-only file"),
    Expect("junk", "control-only.txt", "failed", _NO_TEXT, what="control characters only"),
    Expect("junk", "zero-width-control.txt", "translated", None, "de", what="zero-width and control characters"),
    Expect("junk", "emoji.txt", "translated", None, "de", what="emoji"),
    Expect("junk", "emoji-only.txt", "pending", _UND, "und", what="emoji only"),
    Expect("junk", "mixed-lines.jsonl#ok-de", "translated", None, "de", what="JSONL: good line"),
    Expect("junk", "mixed-lines.jsonl#2", "failed", "invalid JSON", what="JSONL: broken line"),
    Expect("junk", "mixed-lines.jsonl#3", "failed", "expected a JSON object", what="JSONL: not an object"),
    Expect("junk", "mixed-lines.jsonl#no-text", "failed", "no 'text', 'body' or 'html' field", what="JSONL: no text"),
    Expect("junk", "mixed-lines.jsonl#text-not-string", "failed", "'text' must be a string", what="JSONL: text not a string"),
    Expect("junk", "mixed-lines.jsonl#empty-text", "failed", _NO_TEXT, what="JSONL: empty article"),
    Expect("junk", "mixed-lines.jsonl#ws-text", "failed", _NO_TEXT, what="JSONL: whitespace-only article"),
    Expect("junk", "mixed-lines.jsonl#ok-zh", "translated", None, "zh", what="JSONL: good Chinese line"),
    Expect("junk", "deeply-nested.json", "failed", "nested too deeply", what="JSON nested 5000 deep"),
    # libxml2 stops at 256 levels: the text inside is not reached (failed, not a crash)
    Expect("junk", "deeply-nested.html", "failed", _NO_TEXT, what="HTML nested 2000 deep"),
    Expect("junk", "surrogates.jsonl#2", "failed", "nested too deeply", what="JSONL: line nested 5000 deep"),
    Expect("junk", "surrogates.jsonl#lone-\ufffd", "translated", None, "de",
           what="JSON with lone surrogates (\\ud800) in id, title, text, url"),
    # --- generated
    Expect("generated", BIG_ARTICLE, "translated", None, "de", what="5 MB article"),
    Expect("generated", RUN_ON, "translated", None, "de", what="100,000-character paragraph without punctuation"),
    Expect("generated", PIPE, "failed", "not a regular file", what="a named pipe called *.txt"),
    # --- feeds
    Expect("feed-edge-entries", "edge-empty", "failed", _NO_TEXT, what="feed: empty entry"),
    Expect("feed-edge-entries", "edge-whitespace", "failed", _NO_TEXT, what="feed: whitespace-only entry"),
    Expect("feed-edge-entries", "edge-no-title", "translated", None, "de", what="feed: entry without title"),
    Expect("feed-edge-entries", "edge-nothing", "failed", _NO_TEXT, what="feed: entry with nothing"),
    Expect("feed-edge-entries", "edge-emoji", "translated", None, "de", what="feed: emoji"),
    Expect("feed-edge-entries", "edge-zero-width", "translated", None, "de", what="feed: zero-width characters"),
    Expect("feed-edge-entries", "edge-arabic", "pending", _NOT_ENABLED, "ar", what="feed: Arabic entry"),
    Expect("feed-edge-entries", "edge-hebrew", "pending", _NOT_ENABLED, "he", what="feed: Hebrew entry"),
    Expect("feed-edge-entries", "edge-dup", "translated", None, "de", copies=2, what="feed: repeated guid"),
    Expect("feed-garbage-tail", "tail-1", "translated", None, "de", what="feed with garbage tail: entry 1"),
    Expect("feed-garbage-tail", "tail-2", "translated", None, "de", what="feed with garbage tail: entry 2"),
    Expect("feed-garbage-tail", _EMPTY_KEY, "failed", "entry could not be read: feed has errors",
           what="feed with garbage tail: unreadable entry"),
    Expect("feed-truncated", _EMPTY_KEY, "failed", "entry could not be read: feed has errors",
           what="feed cut off inside an entry"),
    Expect("feed-gb18030-declared-latin1", "gbk-1", "translated", None, "zh", what="GB18030 feed declared Latin-1"),
    Expect("feed-surrogate-refs", "ref-1", "translated", None, "de", what="feed with &#xD800; references"),
    # --- pages
    Expect("pages", str(CORPUS / "pages" / "good-page.html"), "translated", None, "de", what="page: good"),
    Expect("pages", str(CORPUS / "pages" / "no-article.html"), "failed", _NO_TEXT, what="page without article text"),
    Expect("pages", str(CORPUS / "pages" / "script-only.html"), "failed", _NO_TEXT, what="page with only a script"),
]

# Feeds that are one source error each (no rows), and what the error must say.
EXPECTED_SOURCE_ERRORS = {
    "feed-not-a-feed": "malformed feed: no RSS or Atom feed found",
    "feed-binary": "binary data",
}


def expected_for(tmp: Path) -> list[Expect]:
    """EXPECTED plus the items whose keys depend on the run's temp folder."""
    missing = str(tmp / "no-such-page.html")
    return [*EXPECTED, Expect("pages", missing, "failed", "does not exist", what="page that does not exist")]


def items_in(expected: list[Expect]) -> int:
    return sum(e.copies for e in expected)


# --------------------------------------------------------------------------- running and reading


def run_flow(cfg: Path, **params) -> tuple[object, dict]:
    """Run translate-news in this process; (final state, summary dict)."""
    from flows.translate_news import RunParameters, translate_news

    state = translate_news(RunParameters(config_path=str(cfg), **params), return_state=True)
    result = state.result(raise_on_failure=False)
    return state, result if isinstance(result, dict) else {"error": repr(result)}


def db_rows(db: Path) -> dict[str, dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in con.execute("SELECT * FROM articles")}
    finally:
        con.close()


def db_claims(db: Path) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM claims")]
    finally:
        con.close()


def output_problems(output_dir: Path, rows: dict[str, dict]) -> list[str]:
    """Half-written or missing output: *.tmp files left, .json files that do not parse, rows
    without their .json/.md."""
    from newsflow.report import article_path

    problems = [f"temp file left: {p}" for p in output_dir.rglob("*.tmp")]
    for path in output_dir.rglob("*.json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: does not parse: {exc}")
    for article_id in rows:
        for suffix in (".json", ".md"):
            if not article_path(output_dir, article_id, suffix).is_file():
                problems.append(f"{article_id}: no {suffix} output file")
    return problems


_INVISIBLE = {"Cc", "Cf", "Cs", "Co"}


def translation_problems(row: dict) -> list[str]:
    """A translated row whose translation is empty, has fewer paragraphs than the original,
    or hit max_decoding_length without the reason saying so."""
    out = []
    where = f"{row['id']} ({row['title'][:30]!r})"
    paragraphs_in = row["original_text"].split("\n\n")
    paragraphs_out = (row["translation"] or "").split("\n\n")
    if not (row["translation"] or "").strip():
        out.append(f"{where}: empty translation")
    elif len(paragraphs_out) != len(paragraphs_in):
        out.append(f"{where}: {len(paragraphs_in)} paragraphs in, {len(paragraphs_out)} out")
    elif any(p.strip() and not q.strip() for p, q in zip(paragraphs_in, paragraphs_out, strict=True)):
        out.append(f"{where}: a paragraph came out empty")
    if row["truncated_sentences"] and "max_decoding_length" not in (row["reason"] or ""):
        out.append(f"{where}: {row['truncated_sentences']} truncated sentences, not in the reason")
    return out


def check_corpus_run(tmp: Path, summary: dict, expected: list[Expect] | None = None) -> list[str]:
    """Everything the corpus run must satisfy; returns the problems found (empty: all good)."""
    expected = expected if expected is not None else expected_for(tmp)
    rows = db_rows(tmp / "data" / "newsflow.db")
    problems: list[str] = []
    want = {e.id: e for e in expected}
    for e in expected:
        row = rows.get(e.id)
        if row is None:
            problems.append(f"LOST: {e.what}: {e.source} {e.key} has no row")
            continue
        if row["status"] != e.status:
            problems.append(f"{e.what}: status {row['status']!r} ({row['reason']}), expected {e.status!r}")
        if e.reason and e.reason not in (row["reason"] or ""):
            problems.append(f"{e.what}: reason {row['reason']!r} does not mention {e.reason!r}")
        if row["status"] in ("pending", "failed") and not (row["reason"] or "").strip():
            problems.append(f"{e.what}: {row['status']} without a reason")
        if e.lang and row["lang"] != e.lang:
            problems.append(f"{e.what}: language {row['lang']!r}, expected {e.lang!r}")
        if row["status"] == "translated":
            problems += [f"{e.what}: {p}" for p in translation_problems(row)]
        # each distinct character once (the 5 MB article has a few hundred)
        bad = {f"U+{ord(c):04X}" for c in set(row["original_text"]) | set(row["title"])
               if c != "\n" and unicodedata.category(c) in _INVISIBLE}
        if bad:
            problems.append(f"{e.what}: control/format characters kept: {sorted(bad)}")
    problems += [f"unexpected row {i} ({rows[i]['source']}, {rows[i]['status']})"
                 for i in rows.keys() - want.keys()]
    # the duplicate is reported, not silently merged
    for e in expected:
        if e.copies > 1 and not any(e.id in w and "more than once" in w for w in summary.get("warnings", [])):
            problems.append(f"{e.what}: the repeated item is not named in the report's warnings")
    errors = {s["source"]: s["error"] for s in summary.get("source_errors", [])}
    for source, text in EXPECTED_SOURCE_ERRORS.items():
        if text not in errors.get(source, ""):
            problems.append(f"source {source}: expected a source error with {text!r}, got {errors.get(source)!r}")
    problems += [f"unexpected source error {s}: {errors[s]}" for s in errors.keys() - EXPECTED_SOURCE_ERRORS.keys()]
    if summary.get("articles_in") != len(want):
        problems.append(f"report says {summary.get('articles_in')} articles in, expected {len(want)}")
    problems += output_problems(tmp / "output", rows)
    return problems


def lost_items(tmp: Path, expected: list[Expect]) -> list[Expect]:
    rows = db_rows(tmp / "data" / "newsflow.db")
    return [e for e in expected if e.id not in rows]


# --------------------------------------------------------------------------- the big inputs


def run_on_check(row: dict, package, options) -> list[str]:
    """The 100,000-character paragraph must come out whole: its translation is the
    translations of ALL the pieces the engine split it into (none dropped, none cut)."""
    from translators.engine import get_engine
    from translators.segment import segment_paragraphs

    # first-pass outputs from an engine without the second pass; the second pass by hand below
    engine = get_engine(package, dataclasses.replace(options, redecode=False))
    paragraph = row["original_text"]
    pieces = segment_paragraphs([paragraph], "de", engine.count_tokens, options.max_input_tokens)[0]
    problems = []
    if "".join(pieces).replace(" ", "") != paragraph.replace(" ", ""):
        problems.append("run-on paragraph: segmentation lost text")
    if len(pieces) < len(paragraph) // 2000:
        problems.append(f"run-on paragraph: only {len(pieces)} pieces for {len(paragraph)} characters")
    if row["truncated_sentences"] and "max_decoding_length" not in (row["reason"] or ""):
        problems.append("run-on paragraph: truncated without saying so")
    raw = row["raw_translation"].split("\n\n", 1)[1]
    # The stored translation is the translation of every piece, in order (CTranslate2 on CPU
    # gives a piece the same output whatever batch it is decoded in). A piece may have been
    # decoded a second time (quality.redecode: wider beam, repetition penalties; which pieces
    # depends on the scores of the whole engine call) or swapped for another hypothesis of its
    # beam (n-best names): any of those outputs counts as that piece's translation.
    first = engine.translate_sentences(pieces)
    accepted = [{r.text, *(h for h, _ in r.hypotheses)} - {""} for r in first]
    if options.redecode:
        tokens = [engine._tokenizer.encode(p) for p in pieces]
        second = engine._decode(tokens, beam=max(options.redecode_beam, 1),
                                repetition_penalty=options.repetition_penalty,
                                no_repeat_ngram_size=options.no_repeat_ngram_size)
        for texts, again in zip(accepted, second, strict=True):
            texts.add(again.text)
    if raw != " ".join(r.text for r in first if r.text):
        found, at = 0, 0
        for texts in accepted:
            hits = [(raw.find(t, at), t) for t in texts]
            hits = [(w, t) for w, t in hits if w >= 0]
            if hits:  # the earliest match, so a later piece cannot be skipped past
                where, text = min(hits)
                found, at = found + 1, where + len(text)
            elif not texts:
                found += 1  # a piece that translates to nothing
        if found != len(pieces):
            problems.append(f"run-on paragraph: the translations of {found} of {len(pieces)} "
                            "pieces are in the stored translation")
    words = len(raw.split())
    if words <= 256:
        problems.append(f"run-on paragraph: translation cut ({words} words)")
    return problems


def write_inbox_config(tmp: Path, models: Path, inbox: Path) -> Path:
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"sources:\n  - {{name: inbox, kind: folder, lang: de, path: {inbox}}}\n"
        f"models_dir: {models}\n"
        f"glossary: {REPO / 'glossary.yaml'}\n"
        f"database: {tmp / 'data' / 'newsflow.db'}\n"
        f"output_dir: {tmp / 'output'}\n",
        encoding="utf-8",
    )
    return cfg
