"""Shared test set-up: no network but loopback, quiet Prefect, temp homes."""

import os
import sys
import tempfile

# pytest caches its assertion-rewritten test modules (and Python the modules they import) as
# .pyc files unless bytecode writing is off; this machine sets PYTHONDONTWRITEBYTECODE=1, so
# every pytest-xdist worker re-parsed and rewrote every test module on every run (collection:
# 14 CPU-s uncached, 5 cached). The caches go to the __pycache__ folders git ignores. Processes
# the tests start keep the variable: they read these .pyc files, they write none.
sys.dont_write_bytecode = False

# Must be set before argostranslate / prefect are imported anywhere: both read
# their settings at import time (argostranslate also creates XDG folders).
_HOME = tempfile.mkdtemp(prefix="newsflow-tests-")
os.environ.setdefault("XDG_DATA_HOME", os.path.join(_HOME, "xdg-data"))
os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(_HOME, "xdg-config"))
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(_HOME, "xdg-cache"))
os.environ.setdefault("ARGOS_PACKAGES_DIR", os.path.join(_HOME, "argos-packages"))
os.environ.setdefault("PREFECT_HOME", os.path.join(_HOME, "prefect"))
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
# Every Prefect server a test starts (the shared test API, test servers, the CLI's temporary API)
# would otherwise import every installed collection (prefect-dask pulls in dask.distributed) and
# register their block types. No test uses blocks.
os.environ.setdefault("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "false")
os.environ.setdefault("PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest_plugins = ["tests.support.model_fixtures"]

REPO = Path(__file__).resolve().parents[1]


def _cost_rank(item: pytest.Item) -> int:
    """Slowest kinds first: a real `prefect server`, then other flow/subprocess tests, then the rest."""
    if item.get_closest_marker("server"):
        return 0
    if item.get_closest_marker("integration"):
        return 1
    return 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long tests start first, so that the short ones fill the workers around them instead
    of a long one starting last (a stable sort: the order inside each rank stays the file order).

    Under pytest-xdist (``--dist loadscope`` in pyproject) each test module goes to one worker
    as a whole, so a module-scoped fixture (the reliability corpus run) is built once; the
    modules are handed out in the order of their first test here (``--no-loadscope-reorder``).
    (``loadgroup`` would group finer, but pytest-xdist 3.8 cannot group under pytest 9: it
    rewrites ``item._nodeid``, which pytest 9 no longer reads.)"""
    items.sort(key=_cost_rank)


def pytest_configure(config: pytest.Config) -> None:
    """The xdist controller makes the folder of the API its workers share (tests/support/shared_api.py),
    and starts the API right away when whole folders run (the suite: most of it needs the API);
    for single files it is started by the first test that needs it."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        from tests.support import shared_api

        folder = config._newsflow_shared_api = shared_api.make_folder()
        if all(Path(arg.split("::")[0]).is_dir() for arg in config.args):
            shared_api.start_early(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_newsflow_shared_api", None)
    if folder is not None:
        from tests.support import shared_api

        shared_api.stop(folder)


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for all flow-running tests: under pytest-xdist one for all
    workers (started by the first that needs it), else Prefect's own test harness (starts in
    ~8 s on an idle machine; over 60 s was seen on a loaded one, hence the generous timeout)."""
    from flows.runners import foreground_run
    from tests.support import shared_api

    # flows run as `newsflow run` runs them: no heartbeat thread to wait for at each run's end
    # (up to 1 s a run); tests of served and deployed runs start their own processes
    folder = os.environ.get(shared_api.FOLDER_ENV)
    if folder and os.environ.get("PYTEST_XDIST_WORKER"):
        with shared_api.shared_api(Path(folder)), foreground_run():
            yield
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240), foreground_run():
        yield


def write_config(tmp_path: Path, models_dir: Path | None, sources: str | None = None, extra: str = "") -> Path:
    """A config.yaml under tmp_path that reads the repo's samples and writes under tmp_path."""
    samples = REPO / "samples"
    if sources is None:
        pages = "\n".join(f"      - {p}" for p in sorted((samples / "html").glob("*.html")))
        sources = f"""
  - {{name: de-nachrichten, kind: feed, lang: de, url: {samples}/feeds/de-nachrichten.xml}}
  - {{name: zh-xinwen, kind: feed, lang: zh, url: {samples}/feeds/zh-xinwen.xml}}
  - {{name: en-news, kind: feed, lang: en, url: {samples}/feeds/en-news.xml}}
  - name: pages
    kind: pages
    pages:
{pages}
  - {{name: inbox, kind: folder, path: {samples}/inbox}}
"""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"sources:{sources}\n"
        f"models_dir: {models_dir if models_dir else 'null'}\n"
        f"glossary: {REPO / 'glossary.yaml'}\n"
        f"database: {tmp_path / 'data' / 'newsflow.db'}\n"
        f"output_dir: {tmp_path / 'output'}\n" + extra
    )
    return cfg
