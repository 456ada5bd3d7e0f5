"""Against a real `prefect server`: `newsflow serve` serves the deployment, a
run triggered through it completes with its artifacts, scheduled runs happen,
and a restart of everything loses and duplicates nothing."""

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, write_config
from tests.support.prefect_server import prefect_server, server_env
from tests.support.services import require

pytestmark = [pytest.mark.integration, pytest.mark.server]


def start_serve(tmp_path, api):
    env = {**server_env(tmp_path / "prefect-home", api), "PYTHONPATH": str(REPO),
           "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = open(tmp_path / f"serve-{time.monotonic_ns()}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "newsflow.cli", "--config", str(tmp_path / "config.yaml"),
                             "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    return proc, log


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


async def _client_calls(api, fn):
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api) as client:
        return await fn(client)


def call(api, fn):
    return asyncio.run(_client_calls(api, fn))


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_runs_deployment_with_artifacts_and_survives_restart(tmp_path, installed_models_dir):
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterDeploymentId,
    )

    write_config(tmp_path, installed_models_dir, extra="schedule:\n  interval_seconds: 20\n")
    with prefect_server(tmp_path / "prefect-home") as api:
        serve, log = start_serve(tmp_path, api)
        try:
            deployment = wait_for(lambda: call(api, lambda c: c.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["translate-news"])))),
                90, "the deployment to be registered")[0]

            def finished_runs():
                runs = call(api, lambda c: c.read_flow_runs(flow_run_filter=FlowRunFilter(
                    deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id]))))
                return [r for r in runs if r.state and r.state.is_final()]

            first = wait_for(finished_runs, 150, "a scheduled run to finish")[0]
            assert first.state.is_completed(), first.state.message
            artifacts = call(api, lambda c: c.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[first.id]))))
            by_key = {a.key: a for a in artifacts}
            assert {"newsflow-run-summary", "newsflow-name-problems", "newsflow-pending-articles",
                    "newsflow-report"} <= set(by_key)
            assert "Per language" in by_key["newsflow-run-summary"].data
            assert by_key["newsflow-name-problems"].type == "table"
            chromium = shutil.which("chromium")
            if chromium:  # the README's screenshot, taken the same way
                shot = tmp_path / "run.png"
                done = subprocess.run([sys.executable, str(REPO / "scripts" / "screenshot.py"), "--api", api,
                                       "--flow-run", str(first.id), "--out", str(shot)],
                                      capture_output=True, text=True, timeout=180)
                assert done.returncode == 0, done.stderr
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        finally:
            stop(serve)
            log.close()

        db = sqlite3.connect(tmp_path / "data" / "newsflow.db")
        ids_before = [r[0] for r in db.execute("SELECT id FROM articles")]
        assert len(ids_before) >= 50

        # restart serve and trigger a run by hand (as from the UI): it finds everything done
        serve, log = start_serve(tmp_path, api)
        try:
            seen = {r.id for r in finished_runs()}
            wait_for(lambda: call(api, lambda c: c.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["translate-news"])))),
                60, "the deployment after the restart")
            call(api, lambda c: c.create_flow_run_from_deployment(deployment.id))

            def later_runs():
                return [r for r in finished_runs() if r.id not in seen and r.state.is_completed()]
            wait_for(later_runs, 150, "a run after the restart")
        finally:
            stop(serve)
            log.close()
        ids_after = [r[0] for r in db.execute("SELECT id FROM articles")]
        assert sorted(ids_after) == sorted(ids_before)
        assert db.execute("SELECT COUNT(*) FROM articles WHERE attempts != 1").fetchone()[0] == 0
    if not chromium:  # everything else was checked; say what was not
        require("chromium is not installed: the screenshot of the run page was not taken "
                "(apt-get install chromium)")


def test_serve_without_server_says_so(tmp_path):
    write_config(tmp_path, None, extra="schedule:\n  interval_seconds: 60\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    out = subprocess.run([sys.executable, "-m", "newsflow.cli", "--config", str(tmp_path / "config.yaml"),
                          "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: Prefect server at http://127.0.0.1:9/api is not reachable")
    assert len(out.stderr.strip().splitlines()) == 1
