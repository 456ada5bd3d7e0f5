"""One temporary Prefect API for all pytest-xdist workers of a run.

Each worker used to start its own ``prefect_test_harness`` (a uvicorn subprocess that creates
and migrates a fresh SQLite database: the largest fixed CPU cost of the flow tests, paid once
per worker). Now the xdist controller makes a folder and hands its path to the workers
(:data:`FOLDER_ENV`); the first worker that needs an API starts the same server Prefect's
harness starts (``prefect.server.api.server:create_app`` under uvicorn, ephemeral mode, no
UI) under a file lock, writes its URL, and every worker points ``PREFECT_API_URL`` at it. The
controller stops it at the end of the run. A run without xdist (``-n 0``) keeps using
``prefect_test_harness`` in its own process.

The tests already share one API per worker, so none of them may assume an empty API: they
filter by their own flow run, deployment or work pool.

The first worker also keeps a copy of the API's database as it is right after start-up (migrated,
nothing in it yet): :func:`migrated_database` hands it to the tests that start a Prefect server of
their own (a real ``prefect server``, the CLI's temporary API), which then skip the migrations of
a fresh database (~8 of a start's ~19 CPU-seconds). Prefect's migrations of a fresh database are
still run by every session, by this API.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.prefect_server import SERVER_SETTINGS, free_port

FOLDER_ENV = "NEWSFLOW_TEST_SHARED_PREFECT"


def make_folder() -> Path:
    """The controller's side: a folder for the server's database, URL, pid and log."""
    folder = Path(tempfile.mkdtemp(prefix="newsflow-shared-prefect-"))
    os.environ[FOLDER_ENV] = str(folder)  # inherited by the workers xdist starts next
    return folder


def stop(folder: Path) -> None:
    """The controller's side, at the end of the run: stop the server (started by the controller
    itself or by a worker)."""
    pid_file = folder / "pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(100):
                if _exited(pid):
                    break
                time.sleep(0.05)
            else:
                os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


def _exited(pid: int) -> bool:
    """Gone, or (when the controller started it: start_early) exited and now reaped; a zombie
    still answers ``kill(pid, 0)``, which made every run wait the whole 5 s here."""
    try:
        reaped, _status = os.waitpid(pid, os.WNOHANG)
        return reaped == pid
    except ChildProcessError:  # not our child: a worker started it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def start_early(folder: Path) -> None:
    """The controller's side, for a run of whole folders (most of which need the API): start the
    server now, while the workers start and collect (~5 s), instead of in the first test that
    needs it; the first worker to ask waits for it to be healthy."""
    (folder / "starting").write_text(_start(folder))


def _start(folder: Path) -> str:
    import importlib.util

    # the package's folder without importing it (~2.4 CPU-s; the controller needs no Prefect)
    prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent
    port = free_port()
    env = {
        **os.environ,
        **SERVER_SETTINGS,
        # what prefect_test_harness's SubprocessASGIServer sets
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        # The services that turn events into task-run rows and store the events: what the UI
        # shows of a run. No test reads task runs or events from this API (the UI tests start a
        # real `prefect server`, tests/support/prefect_server.py, which keeps both); flow runs,
        # their states, artifacts, deployments and work pools are written by the API itself.
        # They were ~1/4 of this server's CPU over a suite run.
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
        "PREFECT_HOME": str(folder / "home"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
    }
    env.pop("PREFECT_API_URL", None)
    with open(folder / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect_dir.parent),
             "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "error", "--lifespan", "on"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the worker that started it; the controller stops it
        )
    (folder / "pid").write_text(str(proc.pid))
    return f"http://127.0.0.1:{port}/api"


def _snapshot(folder: Path) -> None:
    """The database as start-up left it (SQLite's backup API: a consistent copy of a live file)."""
    import sqlite3

    partial = folder / "migrated.db.partial"
    source = sqlite3.connect(f"file:{folder / 'prefect.db'}?mode=ro", uri=True)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    os.replace(partial, folder / "migrated.db")


def _wait_healthy(url: str, folder: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    log = folder / "server.log"
    raise RuntimeError(f"the shared Prefect API at {url} is not healthy after {timeout:.0f} s; "
                       f"see {log}")


def _started(folder: Path, startup_timeout: float) -> str:
    """The shared API's URL once it is healthy, started (and its database copied) by the first
    worker to ask; the others wait on the lock meanwhile."""
    with open(folder / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            url_file = folder / "url"
            if url_file.exists():
                url = url_file.read_text()
            else:
                starting = folder / "starting"
                url = starting.read_text() if starting.exists() else _start(folder)
                _wait_healthy(url, folder, startup_timeout)
                _snapshot(folder)
                url_file.write_text(url)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _wait_healthy(url, folder, startup_timeout)
    return url


def migrated_database(home: Path, startup_timeout: float = 240) -> bool:
    """Put a migrated, empty Prefect database at ``home/prefect.db`` (where a server whose
    PREFECT_HOME is ``home`` keeps it) when the run has a shared API (pytest-xdist); False without
    one (``-n 0``: the server migrates a fresh database, as on a new machine)."""
    folder = os.environ.get(FOLDER_ENV)
    if not (folder and os.environ.get("PYTEST_XDIST_WORKER")):
        return False
    _started(Path(folder), startup_timeout)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(folder) / "migrated.db", home / "prefect.db")
    return True


@contextmanager
def shared_api(folder: Path, startup_timeout: float = 240):
    """The workers' side: point this process's Prefect settings at the shared API, starting it
    if no worker has yet."""
    from prefect.context import _temporary_global_settings_context, get_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = _started(folder, startup_timeout)
    with temporary_settings(updates={PREFECT_API_URL: url}):
        # as prefect_test_harness does: code in contexts copied earlier sees the API too
        with _temporary_global_settings_context(get_settings_context()):
            yield url
