"""`newsflow run --dry-run` end to end: on a fresh machine it creates no database and no file
(the CLI in this process); after a real run (the flow, in this process), with a model
corrupted in place (a new model version: everything would be re-translated) and new and
changed articles waiting, `newsflow run --dry-run` as a user runs it (a subprocess, network
blocked but loopback) exits 0, reports what a run would translate, loads no model (a hook
records every CTranslate2 model constructed), and leaves the database rows, the article
files, the reports and the models as they were."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.reliability import harness
from tests.support.import_hook import hook_path

pytestmark = pytest.mark.integration

# Wraps ctranslate2.Translator in the subprocess (tests/support/import_hook.py): a line in
# $NEWSFLOW_TEST_MODEL_LOG for every model constructed.
WRAP_TRANSLATOR = '''
import os


def wrap(real):
    def Translator(*args, **kwargs):
        with open(os.environ["NEWSFLOW_TEST_MODEL_LOG"], "a") as log:
            log.write(f"{args[0] if args else kwargs.get('model_path')}\\n")
        return real(*args, **kwargs)

    return Translator
'''


def hooked_env(tmp: Path, api_url: str) -> dict:
    """The environment of a subprocess with the offline guard and the model-load hook."""
    hook = hook_path(tmp, "ctranslate2", "Translator", WRAP_TRANSLATOR)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([hook, str(REPO)]),
            "PREFECT_HOME": str(tmp / "prefect-home"), "ARGOS_PACKAGES_DIR": str(tmp / "argos-default"),
            "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_API_URL": api_url,
            "NEWSFLOW_TEST_MODEL_LOG": str(tmp / "models-loaded.log")}


def newsflow(tmp: Path, cfg: Path, *args: str, api_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsflow.cli", "--config", str(cfg), *args],
                          capture_output=True, text=True, env=hooked_env(tmp, api_url), timeout=300, cwd=tmp)


# What a run does to translate German, with the hook: it must log the model it loads.
LOAD_A_MODEL = """
import pathlib, sys
from translators.engine import EngineOptions, get_engine
from translators.packages import find_package
package = find_package(pathlib.Path(sys.argv[1]), "de", "en")
[doc] = get_engine(package, EngineOptions()).translate_documents([["Die Polizei meldete einen Streik."]], "de")
assert doc.sentences == 1, doc
"""


def models_loaded(tmp: Path) -> list[str]:
    log = tmp / "models-loaded.log"
    lines = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder``: relative path -> sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def database(db: Path) -> tuple[dict, list]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        articles = {r["id"]: dict(r) for r in con.execute("SELECT * FROM articles")}
        runs = [dict(r) for r in con.execute("SELECT * FROM runs ORDER BY run_id")]
        claims = [dict(r) for r in con.execute("SELECT * FROM claims")]
        return articles, runs + claims
    finally:
        con.close()


def test_dry_run_loads_no_model_and_writes_nothing(prefect_harness, tmp_path, installed_models_dir,
                                                    monkeypatch):
    import shutil

    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    models = tmp_path / "models"
    shutil.copytree(installed_models_dir, models)
    inbox = tmp_path / "inbox"
    harness.generate_german_inbox(inbox, 4, sentences=4)
    cfg = harness.write_inbox_config(tmp_path, models, inbox)
    data, output = tmp_path / "data", tmp_path / "output"

    # a fresh machine: nothing is created, no model is loaded. The CLI in this process (with
    # ctranslate2.Translator recording what it is asked to load, like the hook): a CLI process
    # costs ~5 CPU-seconds, and the dry run as its own process is the one after the real run.
    import ctranslate2
    from typer.testing import CliRunner

    from newsflow.cli import app

    loaded: list = []
    real_translator = ctranslate2.Translator

    def recording_translator(*args, **kwargs):
        loaded.append(args[0] if args else kwargs.get("model_path"))
        return real_translator(*args, **kwargs)

    monkeypatch.setattr(ctranslate2, "Translator", recording_translator)
    fresh = CliRunner().invoke(app, ["--config", str(cfg), "run", "--dry-run", "--no-install-models"])
    monkeypatch.undo()
    assert fresh.exit_code == 0, fresh.output[-3000:]
    assert fresh.stdout.startswith("dry run: 4 articles"), fresh.stdout
    assert "de: 4 articles" in fresh.stdout and "translate (de->en)" in fresh.stdout, fresh.stdout
    assert not data.exists() and not output.exists()
    assert loaded == []

    # the hook sees a model load: the engine a run translates with, in a subprocess
    # (~1 CPU-second; a `newsflow run` subprocess costs ~5, mostly Prefect's imports)
    probe = subprocess.run([sys.executable, "-c", LOAD_A_MODEL, str(models)], capture_output=True,
                           text=True, env=hooked_env(tmp_path, api), timeout=120, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert models_loaded(tmp_path), "the hook must see the engine load its model"

    # a real run, in this process (it only sets the stage for the dry run): everything translated
    from flows.translate_news import RunParameters, translate_news

    state = translate_news(RunParameters(config_path=str(cfg)), return_state=True)
    assert state.is_completed(), state.message
    rows, runs = database(data / "newsflow.db")
    assert len(rows) == 4 and {r["status"] for r in rows.values()} == {"translated"}

    # then: the de model corrupted in place, two new articles, one changed
    model_bin = next(models.glob("translate-de_en*/model/model.bin"))
    model_bin.write_bytes(b"not a CTranslate2 model")
    harness.generate_german_inbox(tmp_path / "more", 2, sentences=4, seed=11)
    for i, path in enumerate(sorted((tmp_path / "more").glob("*.txt"))):
        path.rename(inbox / f"neu-{i}.txt")
    changed = sorted(inbox.glob("artikel-*.txt"))[0]
    changed.write_text(changed.read_text() + "\nDie Regierung widersprach am Abend.\n")
    files, model_files = tree(output), tree(models)

    dry = newsflow(tmp_path, cfg, "run", "--dry-run", "--no-install-models", api_url=api)
    assert dry.returncode == 0, dry.stderr[-3000:]
    # model.bin changed, so its model version did: a run would re-translate all six
    assert dry.stdout.startswith("dry run: 6 articles (0 unchanged)"), dry.stdout
    assert "de: 6 articles" in dry.stdout and "translate (de->en)" in dry.stdout, dry.stdout
    assert models_loaded(tmp_path) == []  # the corrupt model was not even opened
    assert database(data / "newsflow.db") == (rows, runs)  # no article, claim or run row
    assert tree(output) == files  # no article file, no report
    assert tree(models) == model_files
