"""A PostgreSQL server for tests, and a fresh database per test.

``postgres_url`` (session): ``NEWSFLOW_TEST_POSTGRES_URL`` when set (``.ci/run``
sets it after starting a server); otherwise a throwaway server started here
from the PostgreSQL binaries (``initdb``/``pg_ctl`` on PATH or under
/usr/lib/postgresql/<version>/bin), on a free loopback port with a temporary
data directory, stopped at the end of the session; otherwise the test is
skipped with the reason, or fails with it under CI (``tests.support.services.require``).
As root the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).

``pg_database_url`` (function): a new, empty database on that server, dropped
after the test. Use it as ``database_url`` in a config.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.services import require

ENV_URL = "NEWSFLOW_TEST_POSTGRES_URL"


class ServerUnavailable(Exception):
    """No PostgreSQL server can be used or started here (the message says why)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    if user is None:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user, "--", *cmd]
    return ["su", user, "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]


@contextmanager
def throwaway_server(base: Path | None = None) -> Iterator[str]:
    """Start a PostgreSQL server on 127.0.0.1:<free port>; yield its URL (trust auth,
    user ``postgres``, database ``postgres``); stop it and remove its files after."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise ServerUnavailable("PostgreSQL binaries (initdb, pg_ctl) not found; install Debian's "
                                f"'postgresql' package or set {ENV_URL}")
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            raise ServerUnavailable("running as root and there is no 'postgres' user to run the "
                                    f"server as; set {ENV_URL}") from None
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="newsflow-pg-", dir=base))
    data = root / "data"
    if user:
        shutil.chown(root, user)
    port = free_port()
    log = root / "server.log"
    try:
        init = subprocess.run(
            _as_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync"], user),
            capture_output=True, text=True, timeout=120)
        if init.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {(init.stderr or init.stdout).strip()[-500:]}")
        start = subprocess.run(
            _as_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                      "-o", f"-k {root} -p {port} -h 127.0.0.1 -c fsync=off "
                            "-c synchronous_commit=off -c full_page_writes=off",
                      "start"], user),
            capture_output=True, text=True, timeout=120)
        if start.returncode != 0:
            tail = log.read_text()[-500:] if log.exists() else start.stderr
            raise ServerUnavailable(f"pg_ctl start failed: {tail.strip()}")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(_as_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                     "stop"], user), capture_output=True, timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server; yield its URL; drop it after."""
    import psycopg

    name = f"newsflow_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reachable(url: str) -> str | None:
    """None when a connection works, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (uv sync --all-extras)"
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(url, connect_timeout=5):
                return None
        except psycopg.Error as exc:
            if time.monotonic() > deadline:
                return " ".join(str(exc).split())
            time.sleep(0.5)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get(ENV_URL)
    if url:
        problem = _reachable(url)
        if problem:
            pytest.fail(f"{ENV_URL} is set but the server is not usable: {problem}")
        yield url
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        require("psycopg is not installed (uv sync --all-extras)")
    try:
        with throwaway_server() as started:
            problem = _reachable(started)
            if problem:
                require(f"started PostgreSQL but cannot connect: {problem}")
            yield started
    except ServerUnavailable as exc:
        require(f"no PostgreSQL server: {exc}")


@pytest.fixture
def pg_database_url(postgres_url: str) -> Iterator[str]:
    with fresh_database(postgres_url) as url:
        yield url
