"""Fault tooling for the reliability tests and ``tests/reliability_report.py``: loopback
sources that fail, faster retries, a locked database, a killed `newsflow run`, a read-only
output folder, a broken model."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.reliability.harness import REPO
from tests.support.import_hook import hook_path


class FaultHandler(BaseHTTPRequestHandler):
    """Loopback sources: /500 answers 500, /slow answers after `slow_seconds`, /feed.xml
    and /page.html answer 200. Counts hits per path."""

    hits: dict[str, int]
    release: threading.Event
    slow_seconds = 3.0
    feed = b""
    page = b""

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        self.hits[path] = self.hits.get(path, 0) + 1
        try:
            if path.startswith("/500"):
                self._send(500, b"internal error", "text/plain")
            elif path.startswith("/slow"):
                self.release.wait(self.slow_seconds)
                self._send(200, self.feed, "application/rss+xml; charset=utf-8")
            elif path == "/feed.xml":
                self._send(200, self.feed, "application/rss+xml; charset=utf-8")
            elif path == "/page.html":
                self._send(200, self.page, "text/html; charset=utf-8")
            else:
                self._send(404, b"not here", "text/plain")
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass


@contextlib.contextmanager
def fault_server(feed: bytes, page: bytes) -> Iterator[tuple[str, dict[str, int]]]:
    """A loopback HTTP server in a thread: yields (base URL, hits per path)."""
    hits: dict[str, int] = {}
    release = threading.Event()
    handler = type("Handler", (FaultHandler,), {"hits": hits, "release": release,
                                                "feed": feed, "page": page})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def fast_retries(*names: str) -> Iterator[None]:
    """The flow's tasks ``names`` (default: all that retry) keep their retries but lose the
    delay between them. The flow looks its tasks up in its module at call time, so swapping
    the module attribute is enough. Prefect's PREFECT_TASK_DEFAULT_RETRY_DELAY_SECONDS does not
    help: it applies only to tasks that set no retry_delay_seconds, and these set one
    (fetch_source: exponential backoff 2, 4, 8 s + jitter)."""
    import flows.translate_news as flow_module

    # Old task names from before the run core (the fetch is now part of each source's intake;
    # files are written inside each chunk, whose failures are reported, not retried).
    aliases = {"fetch_source": "intake_source", "load_state": "start_run", "record_run": "finish_run"}
    names = names or ("intake_source", "start_run", "finish_run", "abort_run")
    names = [aliases.get(n, n) for n in names]
    originals = {name: getattr(flow_module, name) for name in names if hasattr(flow_module, name)}
    for name, task in originals.items():
        setattr(flow_module, name, task.with_options(retry_delay_seconds=0))
    try:
        yield
    finally:
        for name, task in originals.items():
            setattr(flow_module, name, task)


class Released(threading.Event):
    """Set when the lock has been given back; ``at`` is the monotonic time just before
    the holder's COMMIT (a statement blocked by the lock cannot finish before it)."""

    at: float | None = None


@contextlib.contextmanager
def locked_database(db: Path, seconds: float,
                    until: Callable[[], bool] | None = None) -> Iterator[Released]:
    """Another connection holds BEGIN EXCLUSIVE on ``db`` (from a thread) for ``seconds``,
    or, with ``until``, until ``until()`` is true (at most ``seconds``). Yields once the
    lock is held; the event is set when it has been released."""
    held, released = threading.Event(), Released()
    failure: list[BaseException] = []

    def hold() -> None:
        con = sqlite3.connect(db, timeout=30, isolation_level=None)
        try:
            con.execute("BEGIN EXCLUSIVE")
            con.execute("CREATE TABLE IF NOT EXISTS lock_probe (x)")  # a real write
            held.set()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and not (until is not None and until()):
                time.sleep(0.02)
            released.at = time.monotonic()
            con.execute("COMMIT")
        except BaseException as exc:  # surfaced to the caller
            failure.append(exc)
            held.set()
        finally:
            con.close()
            released.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    held.wait(30)
    if failure:
        raise failure[0]
    try:
        yield released
    finally:
        thread.join(seconds + 30)


class StatementLog:
    """Every statement run on ``db`` through ``sqlite3`` in this process while patched in
    (:meth:`patch`): ``[start, end or None, sql]`` on the monotonic clock."""

    def __init__(self, db: Path):
        self.db = os.path.realpath(db)
        self.entries: list[list] = []
        log = self.entries

        class Timed(sqlite3.Connection):
            def _timed(self, method, sql, *args):
                entry = [time.monotonic(), None, " ".join(str(sql).split())[:80]]
                log.append(entry)
                try:
                    return method(sql, *args)
                finally:
                    entry[1] = time.monotonic()

            def execute(self, sql, *args):
                return self._timed(super().execute, sql, *args)

            def executemany(self, sql, *args):
                return self._timed(super().executemany, sql, *args)

            def executescript(self, sql):
                return self._timed(super().executescript, sql)

        self._factory = Timed

    def patch(self, monkeypatch) -> None:
        real = sqlite3.connect

        def connect(database, *args, **kwargs):
            if os.path.realpath(str(database)) == self.db and "factory" not in kwargs:
                kwargs["factory"] = self._factory
            return real(database, *args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", connect)

    def blocked(self, at_least: float) -> bool:
        """A statement has been running for ``at_least`` seconds (waiting on a lock)."""
        now = time.monotonic()
        return any(end is None and now - start >= at_least for start, end, _ in list(self.entries))

    def spanning(self, moment: float) -> list[list]:
        """Statements that started before ``moment`` and finished after it."""
        return [e for e in self.entries if e[0] < moment and e[1] is not None and e[1] > moment]


class CliRun:
    """``newsflow --config CFG run`` in a subprocess (its own process group), its output
    collected line by line; :meth:`kill_when` SIGKILLs it when a line appears."""

    def __init__(self, cfg: Path, env: dict[str, str], cwd: Path):
        import subprocess
        import sys

        self.lines: list[str] = []
        self._seen = threading.Event()
        self._marker = ""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsflow.cli", "--config", str(cfg), "run", "--no-install-models"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self._marker and self._marker in line:
                self._seen.set()
        self._seen.set()  # the process ended

    def kill_when(self, marker: str, timeout: float = 240) -> bool:
        """SIGKILL the run (and its process group) as soon as ``marker`` is printed; True if
        it was killed that way, False if it ended first."""
        import signal

        self._marker = marker
        if any(marker in line for line in self.lines):
            self._seen.set()
        self._seen.wait(timeout)
        killed = self.proc.poll() is None
        if killed:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)  # reaped: a zombie would still look alive to os.kill(pid, 0)
        self._reader.join(10)
        return killed and any(marker in line for line in self.lines)

    @property
    def output(self) -> str:
        return "".join(self.lines)


def cli_env(tmp: Path, api_url: str | None) -> dict[str, str]:
    """Environment for a `newsflow` subprocess: network blocked but loopback, Prefect logs at
    INFO (the flow's "to translate" line), the given Prefect API (None: a temporary one)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "support" / "offline"), str(REPO)]),
        "PREFECT_HOME": str(tmp / "prefect-home"),
        "ARGOS_PACKAGES_DIR": str(tmp / "argos-default"),
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    env.pop("PREFECT_API_URL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


# Wraps newsflow.pipeline.translate_group in a `newsflow` subprocess (tests/support/import_hook.py):
# the ``hold_at``-th call (one per language per chunk) prints ``marker`` and blocks until the
# process is killed. The chunks before it are committed, its own articles are claimed and not
# stored: a kill at a known point, not after a delay.
_HOLD = '''
import threading


def wrap(real):
    calls, lock = [0], threading.Lock()

    def translate_group(*args, **kwargs):
        with lock:
            calls[0] += 1
            n = calls[0]
        if n == {hold_at}:
            sys.__stdout__.write({marker!r} + "\\n")
            sys.__stdout__.flush()
            threading.Event().wait()  # until SIGKILL
        return real(*args, **kwargs)

    return translate_group
'''

HOLD_MARKER = "newsflow-test: holding a chunk"


def hold_env(tmp: Path, env: dict[str, str], hold_at: int) -> dict[str, str]:
    """``env`` (from :func:`cli_env`) for a run that stops for good in its ``hold_at``-th
    translate_group call (see ``_HOLD``), printing :data:`HOLD_MARKER` first."""
    hook = hook_path(tmp, "newsflow.pipeline", "translate_group",
                     _HOLD.format(hold_at=int(hold_at), marker=HOLD_MARKER), name="hold-hook")
    return {**env, "PYTHONPATH": os.pathsep.join([hook, str(REPO)])}


def make_unwritable(output_dir: Path) -> None:
    """A read-only output folder. chmod alone does not stop root, so the two folders the run
    writes into are also taken by plain files (mkdir then fails for anyone)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in ("articles", "reports"):
        (output_dir / name).write_text("not a folder\n")
    output_dir.chmod(0o555)


def make_writable(output_dir: Path) -> None:
    output_dir.chmod(0o755)
    for name in ("articles", "reports"):
        path = output_dir / name
        if path.is_file():
            path.unlink()


def break_model(packages: Path, lang: str, dest: Path) -> Path:
    """A copy of ``packages`` whose lang->en model.bin is truncated garbage."""
    shutil.copytree(packages, dest)
    model_bin = next(dest.glob(f"translate-{lang}_en*/model/model.bin"))
    model_bin.write_bytes(b"not a CTranslate2 model")
    return dest
