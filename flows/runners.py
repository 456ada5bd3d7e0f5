"""Which Prefect task runner a run uses, from config.yaml's ``task_runner``.

``kind: threads`` (default): a ``ThreadPoolTaskRunner`` bounded by
``max_workers`` (Prefect's default pool is unbounded, and each translation
batch loads a model). ``kind: dask``: prefect-dask's ``DaskTaskRunner``,
connecting to the scheduler at ``address`` or starting a ``LocalCluster`` of
``n_workers`` single-threaded worker processes. Each chunk of the backlog is
then a task on some worker, up to ``n_workers`` chunks at a time; each worker
process loads a model once and keeps it (``translators.engine.get_engine``
caches per process).

Tasks run in the worker processes, so everything they receive is pickled
(``tests/test_dask.py`` checks each type) and every task opens the store
itself: with workers on other machines, use PostgreSQL (``database_url``) and
paths that exist on every worker (models, sources, output).

Deployments from ``prefect.yaml`` load the flow from an entrypoint, before any
parameter is known. ``flows/runners.py:translate_news_configured`` is the flow
with the task runner of the config file named by ``NEWSFLOW_CONFIG`` (default
``config.yaml`` in the working directory), resolved when the entrypoint is
loaded.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from newsflow.errors import ConfigError

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.task_runners import TaskRunner

    from newsflow.config import Settings

CONFIG_ENV = "NEWSFLOW_CONFIG"


def task_runner_for(settings: Settings) -> TaskRunner:
    """The task runner the settings ask for (a fresh, unstarted one)."""
    cfg = settings.task_runner
    if cfg.kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=cfg.max_workers)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError("key 'task_runner.kind': 'dask' needs prefect-dask "
                          "(uv sync --extra scale, or pip install prefect-dask)") from None
    if cfg.address:
        return DaskTaskRunner(address=_scheduler_address(cfg.address))
    # One thread per worker process: CTranslate2 uses its own threads inside a
    # worker, and a model is loaded once per process, not once per thread.
    return _local_dask_runner_class()(cluster_kwargs={"n_workers": cfg.n_workers,
                                                      "threads_per_worker": 1, "processes": True,
                                                      "dashboard_address": cfg.dashboard_address})


def _scheduler_address(address: str) -> str:
    """``host:port`` becomes ``tcp://host:port``; other schemes (tls://, ws://) stay."""
    address = address.strip()
    if "://" not in address:
        address = f"tcp://{address}"
    host_port = address.split("://", 1)[1]
    if not host_port or host_port.startswith(":"):
        raise ConfigError(f"key 'task_runner.address': {address!r} is not a Dask scheduler address "
                          "(tcp://host:8786)")
    return address


def _current_api_url() -> str | None:
    """The API this flow run talks to: a real server, a test harness or the
    temporary local API this process started (then not in any setting)."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is not None and ctx.client is not None:
        return str(ctx.client.api_url).rstrip("/")
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


_LOCAL_RUNNER: type | None = None


def _local_dask_runner_class() -> type:
    """DaskTaskRunner whose LocalCluster workers report to this run's Prefect API.

    Measured: without PREFECT_API_URL in their environment, the worker processes
    of a flow run on Prefect's temporary local API (or under a test harness,
    which sets the URL only inside the parent process) each start a temporary
    API of their own: ~10-20 s per worker, and their task runs land in another
    API. The URL goes into the workers' environment when the cluster starts.
    Workers of a remote cluster (``address``) need PREFECT_API_URL set by whoever
    starts them.
    """
    global _LOCAL_RUNNER
    if _LOCAL_RUNNER is None:
        from prefect_dask import DaskTaskRunner

        class LocalDaskTaskRunner(DaskTaskRunner):
            @property
            def client(self):
                # The cluster starts on first use, inside the flow run (its
                # context knows the API); the runner is entered before that.
                if self._client is None and self.address is None and self._cluster is None:
                    # The scheduler and nannies live in this process; their INFO
                    # lines (~40 a run) would bury the run's own log.
                    logging.getLogger("distributed").setLevel(logging.WARNING)
                    url = _current_api_url()
                    if url:
                        env = {**self.cluster_kwargs.get("env", {})}
                        env.setdefault("PREFECT_API_URL", url)
                        self.cluster_kwargs = {**self.cluster_kwargs, "env": env}
                return DaskTaskRunner.client.fget(self)

        _LOCAL_RUNNER = LocalDaskTaskRunner
    return _LOCAL_RUNNER


# Prefect's names for the flow-run heartbeat interval (the second is the older one)
HEARTBEAT_ENV = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


def foreground_run():
    """Prefect settings for a flow run in this process (``newsflow run``): no flow-run heartbeats,
    unless ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` is set (then Prefect's reading of it holds).

    Heartbeats feed Prefect's zombie-flow automation: a run whose machine died is marked
    crashed when they stop. Prefect 3.9 sends them by default, every 180 s, from a thread that
    sleeps in steps of one second and is joined when the run ends, so every run ended at the
    next whole second after its start: up to 1 s more per run (``bench/throughput.py``'s
    flow/engine moved between 0.71 and 0.91 with where the engine's part of the run ended). A
    foreground run reports its own end, and Prefect's environment variable cannot say "off"
    (it takes integers of 30 or more), hence this. Served and deployed runs run in processes
    Prefect starts, with Prefect's own setting: there heartbeats do their job."""
    from contextlib import nullcontext

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if any(os.environ.get(name) for name in HEARTBEAT_ENV):
        return nullcontext()
    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


def configured_flow(settings: Settings, flow: Flow | None = None) -> Flow:
    """`translate_news` (or `flow`) with the task runner the settings ask for."""
    if flow is None:
        from flows.translate_news import translate_news as flow
    return flow.with_options(task_runner=task_runner_for(settings))


def __getattr__(name: str):
    # Resolved lazily so that importing this module (the CLI does) never reads a config.
    if name == "translate_news_configured":
        from newsflow.config import load_settings

        return configured_flow(load_settings(os.environ.get(CONFIG_ENV, "config.yaml")))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
