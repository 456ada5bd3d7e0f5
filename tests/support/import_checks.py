"""The import checks of several test files, in one fresh interpreter.

Each check needs a Python process whose imports are known: the run core imports no
Prefect (tests/test_run.py), each store module imports when it is the first newsflow
module loaded (tests/test_store_imports.py: an import cycle shows only then), `--help`
and a German name check load no Chinese segmenter (tests/test_names_round2.py), and
translating loads no ``argostranslate.translate`` (tests/test_end_to_end.py). A fresh
interpreter costs ~2 CPU-seconds of imports (~4 with Prefect), so one interpreter runs
them all, in an order where no check's imports can hide another's failure:

1. ``newsflow.run`` and ``newsflow.work`` first: then nothing else has imported Prefect.
2. Each store module after removing every ``newsflow``, ``translators`` and ``flows``
   module from ``sys.modules``: for the project's own import cycles that is a fresh
   interpreter (third-party modules stay loaded, and cannot take part in such a cycle).
3. ``--help`` and the name checks, with ``jieba`` not yet imported (checked, so a
   module of steps 1-2 importing it is reported as such); a Chinese check then opens the
   segmenter's dictionary.
4. Prefect's flow, the CLI, the names and a German translation, then no
   ``argostranslate.translate``.

Every check is caught and reported on its own: ``run_import_checks()`` returns
``{check: None (passed) or the failure as text}``, and each test asserts its entry.
The result is cached per process, and shared by the pytest-xdist workers of a run through the
run's shared folder (tests/support/shared_api.py): one interpreter per run, not per worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

STORE_MODULES = ("newsflow.store", "newsflow.store.schema", "newsflow.store.base",
                 "newsflow.store.sqlite", "newsflow.store.postgres", "newsflow.article")

SCRIPT = r'''
import importlib, json, sys, traceback

checks = {}


def check(name):
    def run(fn):
        try:
            fn()
            checks[name] = None
        except BaseException:  # noqa: BLE001 - reported, then the next check runs
            checks[name] = traceback.format_exc()[-3000:]
    return run


def loaded(prefix):
    return sorted(m for m in sys.modules if m == prefix or m.startswith(prefix + "."))


@check("run_core_imports_no_prefect")
def _():
    import newsflow.run, newsflow.work  # noqa: E401,F401
    assert not loaded("prefect"), "newsflow.run/newsflow.work imported prefect"


for module in STORE_MODULES:
    @check("store_import:" + module)
    def _():
        for name in loaded("newsflow") + loaded("translators") + loaded("flows"):
            del sys.modules[name]
        importlib.import_module(module)


@check("help_does_not_import_the_segmenter")
def _():
    assert "jieba" not in sys.modules, "jieba was imported before --help (by the steps before)"
    from typer.testing import CliRunner
    from newsflow.cli import app
    assert CliRunner().invoke(app, ["--help"]).exit_code == 0
    assert "jieba" not in sys.modules, "newsflow --help imported jieba"
    from newsflow.names import load_glossary, check_names
    g = load_glossary(NAMES_GLOSSARY)
    check_names(g, "de", "Lawrow", "Lawrow")
    assert "jieba" not in sys.modules, "a German name check imported jieba"
    assert "newsflow.names.segment" not in sys.modules, "a German name check loaded the segmenter"
    check_names(g, "zh", "拉夫罗夫说", "Lavrov said")
    # jieba itself is imported only to build the dictionary's index (once per machine)
    segment = sys.modules.get("newsflow.names.segment")
    assert segment is not None and segment._dictionary is not None, (
        "a Chinese name check did not open the segmenter's dictionary")


@check("translating_never_imports_argostranslate_translate")
def _():
    import pathlib
    import flows.translate_news, newsflow.cli, newsflow.names  # noqa: E401,F401
    from translators.engine import Engine
    from translators.packages import find_package
    package = find_package(pathlib.Path(MODELS), "de", "en")
    [doc] = Engine(package).translate_documents([["Die Polizei meldete einen Streik."]], "de")
    assert doc.sentences == 1 and doc.paragraphs[0], doc
    assert not loaded("argostranslate.translate"), loaded("argostranslate.translate")


print("IMPORT-CHECKS " + json.dumps(checks))
'''

_cache: dict[str, dict[str, str | None]] = {}


def run_import_checks(models_dir: Path) -> dict[str, str | None]:
    """Run the checks once per run; ``models_dir`` holds an installed de->en package (any
    worker's: the outcome does not depend on which copy)."""
    if "result" not in _cache:
        _cache["result"] = _shared(lambda: _run(models_dir))
    return _cache["result"]


def _shared(compute) -> dict:
    """``compute()``, or what another worker of this run computed (under a file lock)."""
    import fcntl

    from tests.support.shared_api import FOLDER_ENV

    folder = os.environ.get(FOLDER_ENV)
    if not (folder and os.environ.get("PYTEST_XDIST_WORKER")):
        return compute()
    stored = Path(folder) / "import-checks.json"
    with open(Path(folder) / "import-checks.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stored.exists():
            return json.loads(stored.read_text())
        result = compute()
        stored.write_text(json.dumps(result))
        return result


def _run(models_dir: Path) -> dict[str, str | None]:
    code = (f"STORE_MODULES = {STORE_MODULES!r}\n"
            f"NAMES_GLOSSARY = {str(REPO / 'tests' / 'data' / 'names' / 'glossary.yaml')!r}\n"
            f"MODELS = {str(models_dir)!r}\n" + SCRIPT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=180)
    lines = [line for line in done.stdout.splitlines() if line.startswith("IMPORT-CHECKS ")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"the import-check interpreter failed ({done.returncode}): "
                             f"{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("IMPORT-CHECKS "))
