"""Names from the n-best list: pure (no Prefect, no I/O).

CTranslate2 returns several hypotheses of the same beam search (``num_hypotheses`` up to the
beam size, no extra decoding). When the best hypothesis of a sentence has a glossary name
wrong or missing (:func:`newsflow.names.check_names` on that sentence), the other hypotheses
are checked in order of score; the first with fewer name problems whose score is within
``margin`` of the best (config ``quality.nbest_margin``, in the model's length-normalised
log-probability) is taken instead. The names step still runs on the whole article afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsflow.names.glossary import Glossary


def names_in(glossary: Glossary, lang: str, source: str) -> bool:
    """Whether ``source`` names any glossary entity (a cheap look-up, ~6x faster than a full
    check: most sentences name nobody, and they skip the check)."""
    from newsflow.names.check import normalize_lang
    from newsflow.names.translit import fold

    return bool(glossary.index.source_entities(normalize_lang(lang), fold(source)))


def name_problems(glossary: Glossary, lang: str, source: str, translation: str) -> int:
    """How many glossary names of ``source`` are wrong or missing in ``translation``."""
    from newsflow.names import check_names

    report = check_names(glossary, lang, source, translation)
    return sum(1 for f in report.findings if f.status != "ok")


def choose_hypothesis(
    glossary: Glossary,
    lang: str,
    source: str,
    hypotheses: list[tuple[str, float]] | tuple[tuple[str, float], ...],
    margin: float,
) -> int:
    """Index of the hypothesis to use (0 = the best). A lower one is chosen only when it has
    fewer name problems than the best and its score is within ``margin`` of the best's."""
    if len(hypotheses) < 2 or not names_in(glossary, lang, source):
        return 0
    best_text, best_score = hypotheses[0]
    problems = name_problems(glossary, lang, source, best_text)
    if problems == 0:
        return 0
    choice, fewest = 0, problems
    for i, (text, score) in enumerate(hypotheses[1:], 1):
        if best_score - score > margin:
            break  # hypotheses come best first: the rest are further away
        found = name_problems(glossary, lang, source, text)
        if found < fewest:
            choice, fewest = i, found
            if found == 0:
                break
    return choice
