"""Self-evaluation on tests/data/names/eval.jsonl (hand-labelled cases, one per line:
id, lang, source, translation, expected {findings, corrected}).

Metrics, each required to be at least 0.95:
- status accuracy: over every (case, entity) in the expected or reported findings, the share
  reported with the expected status (an entity reported but not expected, or the reverse,
  counts as wrong);
- precision / recall of reported problems: (case, entity, status) with status wrong or missing;
- corrected exact match: the share of cases whose corrected text is exactly the expected one.
The share of findings whose `found` list matches exactly is checked too.
"""

import json
from pathlib import Path

import pytest

from newsflow.names import check_names, load_glossary

DATA = Path(__file__).parent / "data" / "names"
CASES = [json.loads(line) for line in (DATA / "eval.jsonl").read_text("utf-8").splitlines() if line]


def evaluate(cases):
    glossary = load_glossary(DATA / "glossary.yaml")
    pairs = right = found_right = found_total = corrected_right = 0
    expected_problems: set = set()
    reported_problems: set = set()
    misses = []
    for case in cases:
        report = check_names(glossary, case["lang"], case["source"], case["translation"])
        got = {f["entity"]: f for f in report.to_json(case["id"])["findings"]}
        want = {f["entity"]: f for f in case["expected"]["findings"]}
        for entity in set(got) | set(want):
            pairs += 1
            if entity in got and entity in want and got[entity]["status"] == want[entity]["status"]:
                right += 1
                found_total += 1
                found_right += got[entity]["found"] == want[entity]["found"]
            else:
                misses.append((case["id"], entity, got.get(entity), want.get(entity)))
        for findings, problems in ((got, reported_problems), (want, expected_problems)):
            problems.update(
                (case["id"], e, f["status"]) for e, f in findings.items() if f["status"] != "ok"
            )
        if report.corrected == case["expected"]["corrected"]:
            corrected_right += 1
        else:
            misses.append(
                (case["id"], "corrected", report.corrected, case["expected"]["corrected"])
            )
    hits = len(expected_problems & reported_problems)
    return {
        "cases": len(cases),
        "status_accuracy": right / pairs,
        "problem_precision": hits / len(reported_problems) if reported_problems else 1.0,
        "problem_recall": hits / len(expected_problems) if expected_problems else 1.0,
        "corrected_exact": corrected_right / len(cases),
        "found_exact": found_right / found_total if found_total else 1.0,
        "misses": misses,
    }


def test_eval_set_is_broad():
    assert len(CASES) >= 60
    langs = {case["lang"] for case in CASES}
    assert langs == {"de", "zh", "zt", "en"}
    statuses = {f["status"] for case in CASES for f in case["expected"]["findings"]}
    assert statuses == {"ok", "wrong", "missing"}


@pytest.fixture(scope="module")
def result():
    return evaluate(CASES)


@pytest.mark.parametrize(
    "metric",
    ["status_accuracy", "problem_precision", "problem_recall", "corrected_exact", "found_exact"],
)
def test_eval_metrics(result, metric):
    assert result[metric] >= 0.95, (metric, result[metric], result["misses"])
