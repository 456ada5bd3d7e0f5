"""A real `prefect server` on a free loopback port with its own PREFECT_HOME."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

# What the tests need from the server: the API, the UI (the run page screenshot), the
# scheduler (serve's schedules) and what fills the run page (task runs from events,
# events, logs). The other services only cost CPU here. Names checked against the
# installed Prefect's settings models (prefect/settings/models/server/services.py).
SERVER_SETTINGS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # schedule new runs within seconds rather than the default minute; a new or updated
    # deployment is scheduled by the "recent deployments" loop (default every 5 s)
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
    "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "1",
    # no automations, no workers whose heartbeats matter, no pauses, no cancellations
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    # the ~100 block types are registered on every start of a fresh database; nothing
    # here uses a block
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        **SERVER_SETTINGS,
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    return env


@contextmanager
def prefect_server(home: Path, startup_timeout: float = 120, extra_env: dict[str, str] | None = None):
    """Yield the API URL of a fresh server (``extra_env``: more settings); stop it afterwards."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    log = open(home.parent / f"prefect-server-{port}.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**server_env(home), "PREFECT_UI_API_URL": api, **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server not healthy after {startup_timeout} s; see {log.name}")
            time.sleep(0.5)
        yield api
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
