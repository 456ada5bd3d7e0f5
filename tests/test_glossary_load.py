"""Loading a glossary does less in a fresh process, with the same answers.

Lookups and gloss patterns compile on first use, case ignored in the name only: the same
matches as the eager build with one global IGNORECASE (kept here as the reference), also when
several threads are the first to check at once.
"""

from __future__ import annotations

import array
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path

from newsflow.names import check_names, parse_glossary, translit
from newsflow.names import gloss as gloss_module
from newsflow.names.lookup import LEFT, LEFT_EN, RIGHT, RIGHT_EN, WORD, Lookup, trie_regex

DATA = Path(__file__).parent / "data" / "names"
TEXT = (DATA / "glossary.yaml").read_text("utf-8")
CASES = [json.loads(line) for line in (DATA / "eval.jsonl").read_text("utf-8").splitlines() if line]

SMALL = """\
entries:
  - id: wang_yi
    en: [Wang Yi]
    zh: [王毅]
  - id: zeng
    en: [Zeng Qinghong]
    zh: [曾庆红]
  - id: beijing
    type: place
    en: [Beijing]
    zh: [北京]
    de: [Peking]
"""


def reference_regexes(lookup: Lookup) -> list[re.Pattern]:
    """Lookup.compile as it was before compiling became lazy: one global IGNORECASE."""
    regexes = []
    for forms, flags in ((lookup._folded, re.IGNORECASE), (lookup._exact, 0)):
        if not forms:
            continue
        body = trie_regex(forms.values())
        if lookup._bounded and lookup._english:
            source = f"{LEFT_EN}(?P<name>{body}){lookup._suffix}{RIGHT_EN}"
        elif lookup._bounded:
            source = f"{LEFT}(?P<name>{body}){lookup._suffix}{RIGHT}"
        else:
            source = f"(?P<name>{body})"
        regexes.append(re.compile(source, flags))
    return regexes


def eager_reference(text: str):
    """The glossary as it was built before: everything compiled at once."""
    glossary = parse_glossary(text)
    index = glossary.index
    for lookup in vars(index).values():
        if isinstance(lookup, Lookup):
            lookup._regexes = reference_regexes(lookup)
    for patterns in index.gloss.values():
        for pattern in patterns:
            assert pattern.regex.pattern == pattern.source
    return glossary


def report(glossary, case) -> dict:
    result = check_names(glossary, case["lang"], case["source"], case["translation"])
    return result.to_json(case["id"], with_candidates=True)


def index_state(glossary) -> dict:
    index = glossary.index
    lookups = {
        name: (dict(lookup.meanings), lookup._folded, lookup._exact, lookup._suffix)
        for name, lookup in vars(index).items()
        if isinstance(lookup, Lookup)
    }
    return {
        "lookups": lookups,
        "gloss": dict(index.gloss),
        "near": dict(index.near),
        "zh_near": dict(index.zh_near),
        "short_names": index.short_names,
        "han_forms": index.han_forms,
    }


# --- the same answers ----------------------------------------------------------------------


def test_boundary_classes_are_the_same_with_and_without_ignorecase():
    """Why the scoped flag changes nothing: every class of the boundaries matches the same
    code points under either flag (all 1,114,112 of them)."""
    every = array.array("I", range(0x110000)).tobytes().decode("utf-32-le", "surrogatepass")
    assert len(every) == 0x110000
    for cls in (WORD, r"[^\W\d_]", "'"):
        assert re.findall(cls, every) == re.findall(cls, every, re.IGNORECASE), cls


def test_every_lookup_finds_in_every_eval_text_what_the_eager_build_finds():
    lazy, eager = parse_glossary(TEXT).index, eager_reference(TEXT).index
    texts = [translit.fold(c[key]) for c in CASES for key in ("source", "translation")]
    texts += [translit.fold(c["translation"]).upper() for c in CASES]  # the short forms
    names = [name for name, value in vars(lazy).items() if isinstance(value, Lookup)]
    assert len(names) == 8
    for name in names:
        mine, reference = getattr(lazy, name), getattr(eager, name)
        for text in texts:
            found = list(mine.find(text))
            assert found == list(reference.find(text)), (name, text)
            for start, end, _gen_end, _meanings in found:
                assert mine.match_within(text, start, end - 1) == reference.match_within(
                    text, start, end - 1
                )


def test_the_lazy_build_answers_eval_cases_as_the_eager_build():
    lazy, eager = parse_glossary(TEXT), eager_reference(TEXT)
    assert index_state(lazy) == index_state(eager)
    for case in CASES[::9]:  # every language and status; the lookups above see every case
        assert report(lazy, case) == report(eager, case), case["id"]


def test_nothing_compiles_before_it_is_needed():
    glossary = parse_glossary(TEXT)
    index = glossary.index
    assert all(
        lookup._regexes is None for lookup in vars(index).values() if isinstance(lookup, Lookup)
    )
    assert all("_regex" not in p.__dict__ for ps in index.gloss.values() for p in ps)
    check_names(glossary, "de", "Lawrow traf Wang Yi in Peking.", "Lawrow met Wang Yi in Peking.")
    assert index.source_han._regexes is None  # no Chinese source seen
    compiled = {eid for eid, ps in index.gloss.items() if any("_regex" in p.__dict__ for p in ps)}
    assert compiled <= {"wang_yi", "beijing", "lavrov"}


def test_a_glossary_that_was_used_still_pickles():
    import pickle

    glossary = parse_glossary(SMALL)
    case = {"id": 1, "lang": "zh", "source": "王毅在北京", "translation": "King Yi in Beijing"}
    before = report(glossary, case)
    assert before["corrected"] == "Wang Yi in Beijing"
    assert report(pickle.loads(pickle.dumps(glossary)), case) == before


def test_first_checks_in_several_threads_compile_once_and_agree(monkeypatch):
    cases = [c for c in CASES if c["lang"] in ("zh", "zt")][:6]
    cases += [c for c in CASES if c["lang"] in ("de", "en")][:6]
    expected = [report(eager_reference(TEXT), c) for c in cases]

    builds: Counter = Counter()
    compiles: Counter = Counter()
    real_build = Lookup._build

    def slow_build(self):
        builds[id(self)] += 1
        time.sleep(0.005)  # a window in which another thread would compile too
        return real_build(self)

    class CountingRe:
        def __getattr__(self, name):
            return getattr(re, name)

        def compile(self, source, flags=0):
            compiles[source] += 1
            time.sleep(0.002)
            return re.compile(source, flags)

    monkeypatch.setattr(Lookup, "_build", slow_build)
    monkeypatch.setattr(gloss_module, "re", CountingRe())
    glossary = parse_glossary(TEXT)  # fresh: nothing compiled yet
    threads = 4
    barrier = threading.Barrier(threads)
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            barrier.wait()
            order = cases[number * 5 :] + cases[: number * 5]  # different first cases
            results[number] = sorted(
                (report(glossary, c) for c in order), key=lambda r: cases_index[r["id"]]
            )
        except BaseException as error:  # reported below
            errors.append(error)

    cases_index = {c["id"]: i for i, c in enumerate(cases)}
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors
    assert all(results[n] == expected for n in range(threads))
    assert builds and set(builds.values()) == {1}
    assert compiles and set(compiles.values()) == {1}
