"""Against a real `prefect server`: `newsflow serve` serves the deployment, a
run triggered through it completes with its artifacts, scheduled runs happen,
and a restart of everything loses and duplicates nothing."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, write_config
from tests.support.prefect_server import prefect_server, server_env
from tests.support.services import require
from tests.support.shared_api import migrated_database

pytestmark = [pytest.mark.integration, pytest.mark.server]


# The scheduler keeps one future run per schedule (default: up to 100, an hour ahead).
ONE_RUN_AHEAD = {"PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS": "1",
                 "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "1"}


def start_serve(tmp_path, api):
    env = {**server_env(tmp_path / "prefect-home", api), "PYTHONPATH": str(REPO),
           # the runner looks for due runs every second (default 10)
           "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    log = open(tmp_path / f"serve-{time.monotonic_ns()}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "newsflow.cli", "--config", str(tmp_path / "config.yaml"),
                             "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    return proc, log


def idle(proc) -> bool:
    """No flow run process of serve's is still running (a run's state turns final
    before its process has exited; SIGTERM then would cancel the exiting run, and the
    runner would load the flow once more for its cancellation hooks)."""
    try:
        return not any(t.read_text().split() for t in Path(f"/proc/{proc.pid}/task").glob("*/children"))
    except OSError:  # serve has exited (or no /proc: then nothing to wait for)
        return True


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(predicate, timeout, what, every=1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_runs_deployment_with_artifacts_and_survives_restart(tmp_path, installed_models_dir):
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterDeploymentId,
    )

    # The first scheduled run comes one interval after serve registers the deployment (the
    # schedule is anchored then): 6 s is what the scheduler (every 1-2 s here) and the runner
    # (polls every 1 s) need to make and start it; what the test waits for, not what it checks.
    write_config(tmp_path, installed_models_dir, extra="schedule:\n  interval_seconds: 6\n")
    migrated_database(tmp_path / "prefect-home")  # the session's migrated copy, if it has one
    with prefect_server(tmp_path / "prefect-home", extra_env=ONE_RUN_AHEAD) as api, \
            SyncPrefectClient(api) as client:
        def served():
            return client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["translate-news"])))

        def runs(*types):
            found = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])))
            return [r for r in found if r.state and (r.state.type.value in types or not types)]

        def finished_runs():
            return [r for r in runs() if r.state.is_final()]

        def no_more_scheduled_runs():
            """Pause the schedule (from the test, as from the UI): the server drops the
            runs it made ahead and makes no more. Every further run would only repeat
            the check the manual run makes, each a flow run process and a slot of the
            deployment's concurrency limit of 1 to wait for."""
            client.pause_deployment(deployment.id)

        serve, log = start_serve(tmp_path, api)
        try:
            deployment = wait_for(served, 90, "the deployment to be registered", every=0.5)[0]
            wait_for(lambda: runs("PENDING", "RUNNING", "COMPLETED", "FAILED", "CRASHED"), 150,
                     "a scheduled run to start", every=0.5)
            no_more_scheduled_runs()
            first = wait_for(finished_runs, 150, "the scheduled run to finish")[0]
            wait_for(lambda: idle(serve), 30, "the run's process to exit", every=0.2)
        finally:
            stop(serve)
            log.close()
        assert first.state.is_completed(), first.state.message
        assert first.auto_scheduled  # the scheduler made it, not this test
        for leftover in runs("SCHEDULED"):  # one the runner tried while the first held the slot
            client.delete_flow_run(leftover.id)

        db = sqlite3.connect(tmp_path / "data" / "newsflow.db")
        ids_before = [r[0] for r in db.execute("SELECT id FROM articles")]
        assert len(ids_before) >= 50

        # restart serve and trigger a run by hand (as from the UI): it finds everything done
        seen = {r.id for r in finished_runs()}
        serve, log = start_serve(tmp_path, api)
        try:
            # serve paused the deployment when it stopped; registering it again resumes it
            wait_for(lambda: not served()[0].paused, 60, "the deployment after the restart", every=0.5)
            no_more_scheduled_runs()
            manual = client.create_flow_run_from_deployment(deployment.id)
            assert manual.id not in seen

            def manual_finished():
                run = client.read_flow_run(manual.id)
                return run if run.state and run.state.is_final() else None
            again = wait_for(manual_finished, 150, "the manual run after the restart")
            assert again.state.is_completed(), again.state.message
            wait_for(lambda: idle(serve), 30, "the run's process to exit", every=0.2)
        finally:
            stop(serve)
            log.close()
        ids_after = [r[0] for r in db.execute("SELECT id FROM articles")]
        assert sorted(ids_after) == sorted(ids_before)
        assert db.execute("SELECT COUNT(*) FROM articles WHERE attempts != 1").fetchone()[0] == 0

        # the first run's artifacts, and its page in the UI
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[first.id])))
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
