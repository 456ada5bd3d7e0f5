"""`newsflow run` as a user runs it, in a subprocess with the network blocked
(loopback only, for Prefect's temporary API): no models -> pending with a
one-line hint; `newsflow models install --from` (a subprocess too) -> the next
run translates everything; a third run changes nothing (these two in this
process: the CLI's own code, on the session's test API)."""

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import REPO, write_config

pytestmark = pytest.mark.integration

NEWSFLOW = [sys.executable, "-m", "newsflow.cli"]


def newsflow(tmp_path, *args, timeout=300):
    """Run the CLI the README's way: no PREFECT_API_URL, so `run` starts Prefect's temporary API."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "support" / "offline"), str(REPO)]),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": "",
        "ARGOS_PACKAGES_DIR": str(tmp_path / "argos-default"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_API_URL")
    return subprocess.run([*NEWSFLOW, "--config", str(tmp_path / "config.yaml"), *args],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=tmp_path)


def statuses(tmp_path):
    con = sqlite3.connect(tmp_path / "data" / "newsflow.db")
    return dict(con.execute("SELECT id, status FROM articles").fetchall())


def test_run_offline_then_install_then_rerun(tmp_path, tiny_package_files, prefect_harness):
    from prefect.settings import PREFECT_API_URL
    from typer.testing import CliRunner

    from newsflow.cli import app
    from tests.support.shared_api import migrated_database

    models = tmp_path / "models"
    write_config(tmp_path, models)
    # The first run is the README's: Prefect's temporary API, started by the CLI. Its
    # PREFECT_HOME holds the session's migrated, empty Prefect database when there is one
    # (a fresh database's migrations are ~8 CPU-s of the ~19 a start costs; the session's test
    # API runs them). The later runs use the session's test API, as a scheduled deployment would.
    migrated_database(tmp_path / "prefect-home")
    assert PREFECT_API_URL.value().startswith("http://127.0.0.1")  # the session's, for this process

    first = newsflow(tmp_path, "run")
    assert first.returncode == 0, first.stderr[-3000:]
    hint = [line for line in first.stderr.splitlines() if line.startswith("warning: models")]
    assert len(hint) == 1 and "newsflow models install --from PATH" in hint[0]
    before = statuses(tmp_path)
    assert set(before.values()) == {"pending", "passed-through"}

    install = newsflow(tmp_path, "models", "install", "--from", str(tiny_package_files))
    assert install.returncode == 0, install.stderr

    # What the second and the third run must show needs no fresh interpreter, and one costs
    # ~10 CPU-s (imports, the glossary, the dictionaries); the two above are the subprocesses
    # under test.
    config = ["--config", str(tmp_path / "config.yaml")]
    second = CliRunner().invoke(app, [*config, "run"])
    assert second.exit_code == 0, second.output[-3000:]
    after = statuses(tmp_path)
    assert after.keys() == before.keys()  # nothing lost, nothing duplicated
    assert set(after.values()) == {"translated", "passed-through"}
    report = json.loads(max((tmp_path / "output" / "reports").glob("*.json"),
                            key=lambda p: p.stat().st_mtime).read_text())
    assert report["by_status"]["translated"] == sum(1 for s in after.values() if s == "translated")

    files_before = {p: p.stat().st_mtime_ns for p in (tmp_path / "output" / "articles").rglob("*")}
    third = CliRunner().invoke(app, [*config, "run"])
    assert third.exit_code == 0, third.output[-3000:]
    assert "0 written" in third.stdout
    assert statuses(tmp_path) == after
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "output" / "articles").rglob("*")} == files_before


def test_translating_never_imports_argostranslate_translate(installed_models_dir):
    """argostranslate.translate imports stanza/spaCy and downloads sentence models at run
    time; newsflow must translate without it (torch, stanza and spaCy cannot even be
    installed under the lock's overrides, so importing it would fail). Checked in a fresh
    interpreter that imports the flow, the CLI and the names and translates German (one
    interpreter for several files' import checks: tests/support/import_checks.py)."""
    from tests.support.import_checks import run_import_checks

    failure = run_import_checks(installed_models_dir)["translating_never_imports_argostranslate_translate"]
    assert failure is None, failure


def test_the_temporary_api_registers_no_block_types(monkeypatch):
    """`newsflow run` without PREFECT_API_URL starts Prefect's temporary API, which by default
    imports every installed collection (prefect-dask: dask.distributed) and registers their
    block types at each start, ~15% of its start-up CPU; newsflow uses no blocks, so the CLI
    turns that off for the servers it starts (the environment is inherited by the server)."""
    from prefect.settings import Settings

    from newsflow.cli import TEMPORARY_API_DEFAULTS

    for name, value in TEMPORARY_API_DEFAULTS.items():
        assert os.environ[name] == value  # set when newsflow.cli was imported (unless set before)
        monkeypatch.setenv(name, value)  # the values themselves, whatever the environment had
    server = Settings().server
    assert server.register_blocks_on_start is False
    assert server.memoize_block_auto_registration is False
