"""The pipeline's steps as plain functions (no Prefect): the flow in
``flows/translate_news.py`` only wires these into tasks.

Order: parse -> clean (:func:`clean_articles`) -> detect, reusing what the store
already knows (:func:`detect_languages`) -> decide what needs work against the
store (:func:`plan_work`) -> translate one language batch
(:func:`translate_group`) -> names check (:func:`apply_names`) -> rows for the
store (:func:`outcome_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from newsflow.article import Article, RawArticle, StoredArticle
from newsflow.clean import clean_article
from newsflow.detect import detect_article
from translators.installed import InstalledPackage, best_by_pair

TARGET = "en"
# A paragraph inside a foreign-language article that is itself confidently
# English (a quote, a statement) is kept as written rather than "translated"
# from German, which garbles it.
ENGLISH_PARAGRAPH_MIN_CHARS = 40
ENGLISH_PARAGRAPH_MIN_CONFIDENCE = 0.9


@dataclass(frozen=True)
class Route:
    """How articles of one detected language reach English."""

    lang: str
    package: InstalledPackage | None = None
    simplify: bool = False  # zt text converted to Simplified for a zh->en model
    passthrough: bool = False
    reason: str | None = None  # why there is no way (article stays pending)

    @property
    def key(self) -> str:
        return f"{self.package.from_code}->{self.package.to_code}" if self.package else self.lang


def route_for(lang: str, installed: list[InstalledPackage], enabled: list[str]) -> Route:
    if lang == TARGET:
        return Route(lang, passthrough=True)
    if lang == "und":
        return Route(lang, reason="language could not be detected reliably")
    if lang not in enabled:
        return Route(lang, reason=f"language '{lang}' is not enabled (config 'languages': {', '.join(enabled)})")
    by_pair = best_by_pair(installed)  # several versions of a pair: the highest
    if (lang, TARGET) in by_pair:
        return Route(lang, package=by_pair[(lang, TARGET)])
    if lang == "zt" and ("zh", TARGET) in by_pair:
        return Route(lang, package=by_pair[("zh", TARGET)], simplify=True)
    hint = "zt->en or zh->en" if lang == "zt" else f"{lang}->{TARGET}"
    return Route(
        lang,
        reason=f"no {hint} model installed (newsflow models install {'zh' if lang == 'zt' else lang}"
        " or --from PATH)",
    )


def clean_articles(raws: list[RawArticle]) -> list[Article]:
    """Clean every raw article. Never drops one: an article that cannot be
    cleaned keeps its error and is stored as failed later."""
    out = []
    for raw in raws:
        try:
            article = clean_article(raw)
        except Exception as exc:  # a bug on one odd input must not fail the whole run
            article = _uncleanable(raw, exc)
        out.append(article)
    return out


def detect_languages(
    articles: list[Article],
    stored: dict[str, StoredArticle] | None = None,
    installed: list[InstalledPackage] | None = None,
    enabled: list[str] | None = None,
) -> list[Article]:
    """Detect each article's language and its paragraphs' (in place; returns the list).

    An article whose text is exactly what a finished row in ``stored`` holds, and which
    that row's language would leave unchanged (:func:`plan_work`), takes the stored
    language instead: a scheduled run re-reads the same feed items all day, and
    detection is most of what they would cost. Everything else is detected.
    """
    stored = stored or {}
    for i, article in enumerate(articles):
        try:
            if article.error is not None or not article.paragraphs:
                continue
            prev = stored.get(article.id)
            if prev is not None and _done(article, prev, installed or [], enabled or []):
                article.lang, article.lang_confidence = prev.lang, prev.lang_confidence
                article.paragraph_langs = list(prev.paragraph_langs)
                article.paragraph_confidence = [prev.lang_confidence] * len(prev.paragraph_langs)
                continue
            det, per_par = detect_article(article.title, article.paragraphs, article.expected_lang)
            article.lang, article.lang_confidence = det.lang, det.confidence
            article.paragraph_langs = [d.lang for d in per_par]
            article.paragraph_confidence = [d.confidence for d in per_par]
        except Exception as exc:  # a bug on one odd input must not fail the whole run
            articles[i] = _uncleanable(article, exc, "language detection failed")
    return articles


def prepare_articles(raws: list[RawArticle]) -> list[Article]:
    """Clean and detect every raw article, with no stored state (tests, one-off use)."""
    return detect_languages(clean_articles(raws))


def _uncleanable(item: RawArticle | Article, exc: Exception,
                 step: str = "could not be cleaned") -> Article:
    """The article kept, without text, failed with ``step`` and the exception as its reason."""
    return Article(
        id=item.id,
        source=item.source,
        title=item.title or "",
        paragraphs=[],
        url=item.url,
        published=item.published,
        expected_lang=item.expected_lang,
        error=f"{step}: {type(exc).__name__}: {' '.join(str(exc).split())}",
    )


def _done(article: Article, prev: StoredArticle, installed, enabled) -> bool:
    """True when ``prev`` already holds this exact text, finished for its language's route."""
    if prev.content_hash != article.content_hash:
        return False
    return _unchanged(prev, route_for(prev.lang, installed, enabled))


def _unchanged(prev: StoredArticle, route: Route) -> bool:
    if prev.status == "passed-through":
        return route.passthrough
    # Done with this model (or the model was removed since: keep the work).
    return prev.status == "translated" and (
        route.package is None or prev.model_version == route.package.model_version
    )


@dataclass
class WorkPlan:
    unchanged: list[Article] = field(default_factory=list)
    passthrough: list[Article] = field(default_factory=list)
    translate: dict[str, tuple[Route, list[Article]]] = field(default_factory=dict)
    pending: list[tuple[Article, str]] = field(default_factory=list)
    failed: list[tuple[Article, str]] = field(default_factory=list)
    duplicates: list[Article] = field(default_factory=list)

    @property
    def to_translate(self) -> int:
        return sum(len(arts) for _, arts in self.translate.values())

    def article_ids(self) -> list[str]:
        """Every article this plan would write (all but the unchanged)."""
        ids = [a.id for _, arts in self.translate.values() for a in arts]
        ids += [a.id for a in self.passthrough]
        ids += [a.id for a, _ in self.pending] + [a.id for a, _ in self.failed]
        return ids

    def only(self, ids: set[str]) -> WorkPlan:
        """The part of this plan whose articles are in `ids` (claimed by this run)."""
        translate = {}
        for key, (route, arts) in self.translate.items():
            mine = [a for a in arts if a.id in ids]
            if mine:
                translate[key] = (route, mine)
        return WorkPlan(
            unchanged=self.unchanged,
            passthrough=[a for a in self.passthrough if a.id in ids],
            translate=translate,
            pending=[(a, r) for a, r in self.pending if a.id in ids],
            failed=[(a, r) for a, r in self.failed if a.id in ids],
            duplicates=self.duplicates,
        )


def plan_work(
    articles: list[Article],
    stored: dict[str, StoredArticle],
    installed: list[InstalledPackage],
    enabled: list[str],
) -> WorkPlan:
    """Decide per article: unchanged (skip), pass through, translate with which
    model, pending (no model / unknown language) or failed (no text)."""
    plan = WorkPlan()
    seen: set[str] = set()
    for art in articles:
        if art.id in seen:  # e.g. a feed that repeats a guid: one article, reported
            plan.duplicates.append(art)
            continue
        seen.add(art.id)
        prev = stored.get(art.id)
        same_text = prev is not None and prev.content_hash == art.content_hash
        if art.error or not art.paragraphs:
            plan.failed.append((art, art.error or "no article text found"))
            continue
        route = route_for(art.lang, installed, enabled)
        if same_text and _unchanged(prev, route):
            plan.unchanged.append(art)
            continue
        if route.passthrough:
            plan.passthrough.append(art)
        elif route.package is not None:
            # zt through the zh model is its own group: it must be simplified first
            key = f"{route.lang}->{route.package.to_code}" if route.simplify else route.key
            plan.translate.setdefault(key, (route, []))[1].append(art)
        else:
            plan.pending.append((art, route.reason or "no route to English"))
    return plan


@dataclass
class Translated:
    article: Article
    route: Route
    title_en: str
    paragraphs_en: list[str]
    truncated_sentences: int = 0
    # quality (issue 14): flags {"paragraph", "sentence", "kind", "detail"} (paragraph indexes
    # [title, *paragraphs]); counts for the run report
    quality_flags: list[dict] = field(default_factory=list)
    sentences: int = 0
    from_cache: int = 0
    redecoded: int = 0  # sentences decoded a second time (wider beam, repetition penalties)
    nbest_picks: int = 0  # sentences whose names were taken from a lower hypothesis


def _keep_english(article: Article, index: int) -> bool:
    return (
        article.lang != TARGET
        and index < len(article.paragraph_langs)
        and article.paragraph_langs[index] == TARGET
        and article.paragraph_confidence[index] >= ENGLISH_PARAGRAPH_MIN_CONFIDENCE
        and len(article.paragraphs[index]) >= ENGLISH_PARAGRAPH_MIN_CHARS
    )


def translate_group(route: Route, articles: list[Article], engine, cache=None, *,
                    glossary=None, quality=None) -> list[Translated]:
    """Translate all articles of one route in ONE batched engine call.

    Each document is the title followed by the paragraphs; English paragraphs
    inside a foreign article are kept as written (and not checked). Every
    translated sentence is checked (:func:`newsflow.quality.check_document`, with
    the model score against the engine's ``low_confidence`` threshold); with a
    ``glossary``, a sentence whose best hypothesis has a name wrong or missing may
    take a lower one of the same beam (:mod:`newsflow.nbest`, margin
    ``quality.nbest_margin``; ``quality`` is the config's ``QualityConfig``).
    """
    from translators.chinese import to_simplified

    docs: list[list[str]] = []
    for art in articles:
        parts = [art.title, *("" if _keep_english(art, i) else p for i, p in enumerate(art.paragraphs))]
        if route.simplify:
            parts = [to_simplified(p) for p in parts]
        docs.append(parts)
    lang = route.package.from_code
    results = engine.translate_documents(docs, lang, cache=cache)
    margin = quality.nbest_margin if quality is not None else 0.5
    out = []
    for art, res in zip(articles, results, strict=True):
        parts, picks = _sentence_texts(res, glossary, lang, margin)
        title_en, *paras = [" ".join(t for _src, t, _r in part if t) for part in parts] or res.paragraphs
        paras = [art.paragraphs[i] if _keep_english(art, i) else p for i, p in enumerate(paras)]
        kept = {i + 1 for i in range(len(art.paragraphs)) if _keep_english(art, i)}
        flags = _quality_flags(parts, lang, engine, kept)
        out.append(Translated(art, route, title_en, paras, res.truncated_sentences, flags,
                              sentences=getattr(res, "sentences", 0),
                              from_cache=getattr(res, "from_cache", 0),
                              redecoded=getattr(res, "redecoded", 0), nbest_picks=picks))
    return out


def _sentence_texts(res, glossary, lang: str, margin: float):
    """Per part, (source sentence, chosen text, result); and how many came from the n-best list."""
    from newsflow.nbest import choose_hypothesis

    parts, picks = [], 0
    # The same sentence with the same n-best list gets the same choice: decided once per
    # document (a sentence repeated through a long article is not re-checked each time).
    chosen_of: dict[tuple[str, tuple], int] = {}
    for part in getattr(res, "details", None) or []:  # an engine without details: no checks
        chosen = []
        for source, r in part:
            text = r.text
            if glossary is not None and len(r.hypotheses) > 1:
                key = (source, tuple(r.hypotheses))
                i = chosen_of.get(key)
                if i is None:
                    try:
                        i = choose_hypothesis(glossary, lang, source, r.hypotheses, margin)
                    except Exception:  # a names bug must not cost the translation
                        i = 0
                    chosen_of[key] = i
                if i:
                    text, picks = r.hypotheses[i][0], picks + 1
            chosen.append((source, text, r))
        parts.append(chosen)
    return parts, picks


def _quality_flags(parts, lang: str, engine, kept: set[int]) -> list[dict]:
    from newsflow.quality import DEFAULT_LOW_CONFIDENCE, check_document

    threshold = getattr(engine, "low_confidence", DEFAULT_LOW_CONFIDENCE)
    doc = [[(src, text, r.truncated, r.score) for src, text, r in part] for part in parts]
    try:
        return check_document(doc, lang, low_confidence=threshold, skip=kept)
    except Exception as exc:  # a check must never cost the translation
        return [{"paragraph": 0, "sentence": -1, "kind": "check-failed",
                 "detail": f"quality not checked: {type(exc).__name__}: {exc}"}]


@dataclass
class NamesResult:
    title: str
    paragraphs: list[str]
    findings: list[dict]
    candidates: list[dict]
    error: str | None = None  # the names check failed: the translation is kept unchecked


def apply_names(glossary, lang: str, article: Article, title_en: str, paragraphs_en: list[str]) -> NamesResult:
    """Check names over the whole article and apply the fixes. Title and
    paragraphs are checked as one text so an entity is judged once."""
    from newsflow.names import check_names

    if glossary is None:
        return NamesResult(title_en, paragraphs_en, [], [])
    source = "\n\n".join([article.title, *article.paragraphs])
    translation = "\n\n".join([title_en, *paragraphs_en])
    try:
        report = check_names(glossary, lang, source, translation)
    except Exception as exc:  # a check must never cost the translation (or the run)
        error = f"names not checked: {type(exc).__name__}: {' '.join(str(exc).split())}"
        return NamesResult(title_en, paragraphs_en, [], [], error)
    parts = report.corrected.split("\n\n")
    if len(parts) != len(paragraphs_en) + 1:  # a fix never adds or removes breaks; be safe
        parts = [title_en, *paragraphs_en]
    findings = report.to_json(article.id)["findings"]
    return NamesResult(parts[0], parts[1:], findings, list(report.candidates))


def base_row(article: Article, status: str, run_id: str, reason: str | None = None) -> StoredArticle:
    return StoredArticle(
        id=article.id,
        source=article.source,
        content_hash=article.content_hash,
        status=status,
        reason=reason,
        title=article.title,
        original_text=article.text,
        url=article.url,
        published=article.published,
        lang=article.lang,
        lang_confidence=article.lang_confidence,
        paragraph_langs=list(article.paragraph_langs),
        last_run=run_id,
        first_run=run_id,
        fetched_from=article.fetched_from,
        fetch_note=article.fetch_note,
        author=article.author,
        source_updated=article.source_updated,
    )


def translated_row(t: Translated, names: NamesResult, run_id: str,
                   glossary_digest: str | None = None) -> StoredArticle:
    """``glossary_digest``: the digest of the glossary ``names`` was checked against
    (:func:`newsflow.recheck.glossary_digest`; None without a glossary)."""
    row = base_row(t.article, "translated", run_id)
    row.glossary_digest = glossary_digest
    row.title_en = names.title
    row.translation = "\n\n".join(names.paragraphs)
    row.raw_translation = "\n\n".join([t.title_en, *t.paragraphs_en])
    row.model_id = t.route.package.model_id
    row.model_version = t.route.package.model_version
    row.name_findings = names.findings
    row.name_candidates = names.candidates
    row.truncated_sentences = t.truncated_sentences
    row.quality_flags = [dict(f) for f in t.quality_flags]
    row.needs_review = bool(t.quality_flags)
    if t.truncated_sentences:
        row.reason = (
            f"{t.truncated_sentences} sentence(s) reached max_decoding_length; "
            "their translation may be incomplete"
        )
    if t.route.simplify:
        row.reason = ((row.reason + "; ") if row.reason else "") + "translated via Simplified (zh->en)"
    if names.error:
        row.reason = ((row.reason + "; ") if row.reason else "") + names.error
    return row


def passthrough_row(article: Article, names: NamesResult, run_id: str,
                    glossary_digest: str | None = None) -> StoredArticle:
    row = base_row(article, "passed-through", run_id)
    row.glossary_digest = glossary_digest
    row.title_en = names.title
    row.translation = "\n\n".join(names.paragraphs)
    row.raw_translation = article.text
    row.name_findings = names.findings
    row.name_candidates = names.candidates
    row.reason = names.error
    return row


_COMPARED = ("status", "reason", "content_hash", "lang", "title_en", "translation", "model_version",
             "name_findings")


def changed(new: StoredArticle, prev: StoredArticle | None) -> bool:
    """Whether writing `new` changes anything a user would see (a re-run that
    reaches the same outcome, e.g. still pending for the same reason, writes nothing)."""
    return prev is None or any(getattr(new, f) != getattr(prev, f) for f in _COMPARED)


def merge_for_write(new: StoredArticle, prev: StoredArticle | None) -> StoredArticle:
    if prev is not None:
        new.first_run = prev.first_run
        new.attempts = prev.attempts + 1
        new.story_id = prev.story_id  # stories.assign moves it if the article changed
    else:
        new.attempts = 1
    return new


ProgressFn = Callable[[str, int], None]
