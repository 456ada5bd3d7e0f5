"""`newsflow ...` commands, each in a process of its own, without paying the CLI's imports
(~1.5-2 CPU-s: typer, rich, pydantic, the names package) for every command.

A helper process imports ``newsflow.cli`` once -- and nothing else: no argostranslate, no
Prefect, no model -- and then forks a child per command. The child gets the command's
environment and working directory, runs the CLI's ``main`` exactly as ``python -m
newsflow.cli`` does, with its own stdout and stderr, and exits with the command's status.
Whatever a command reads when first imported (argostranslate reads ``ARGOS_PACKAGE_INDEX``
and the XDG folders in ``argostranslate.settings``) is first imported in that child, from
that child's environment, as in a fresh process. The helper itself is single-threaded (fork
is safe there) and is started with the first command's environment (PYTHONPATH: the loopback
only ``sitecustomize`` of tests/support/offline is active in it and in every child).

    with CliProcesses(env) as cli:
        result = cli.run(["--config", cfg, "models", "list"], env=env, cwd=home)
        result.returncode, result.stdout, result.stderr

Use it where the command needs a process of its own and no real interpreter start is what is
tested; a test about start-up (imports, ``--help`` speed) runs ``python -m newsflow.cli``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_SERVER = r"""
import json, os, sys
replies = os.fdopen(os.dup(1), "w")  # the answers; whatever else the helper prints is dropped
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
import newsflow.cli
assert "argostranslate" not in sys.modules and "prefect" not in sys.modules, sorted(
    m for m in sys.modules if m.split(".")[0] in ("argostranslate", "prefect"))
print("ready", file=replies, flush=True)
for line in sys.stdin:
    job = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(job["cwd"])
            os.environ.clear()
            os.environ.update(job["env"])
            for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(out, fd)
                os.close(out)
            sys.stdin.close()
            sys.argv = ["newsflow", *job["args"]]
            try:
                newsflow.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if not isinstance(exc.code, (int, type(None))):
                    print(exc.code, file=sys.stderr)
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush(); sys.stderr.flush()
            finally:
                os._exit(code)
    print(json.dumps(pid), file=replies, flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps(os.waitstatus_to_exitcode(status)), file=replies, flush=True)
"""


class CliProcesses:
    def __init__(self, env: dict[str, str], cwd: Path | str | None = None, timeout: float = 120) -> None:
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="newsflow-cli-")
        self._buffer = b""
        self._n = 0
        self._proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=env, cwd=cwd)
        try:
            ready = self._reply(timeout)
        except (RuntimeError, subprocess.TimeoutExpired):
            ready = None
        if ready != "ready":
            self.close()
            raise RuntimeError(f"the CLI helper process did not start: {ready!r}")

    def run(self, args: list[str], *, env: dict[str, str], cwd: Path | str) -> subprocess.CompletedProcess:
        """One command in a forked child; like ``subprocess.run(..., capture_output=True, text=True)``."""
        self._n += 1
        out, err = (Path(self._tmp.name) / f"{self._n}.{k}" for k in ("out", "err"))
        job = {"args": [str(a) for a in args], "env": dict(env), "cwd": str(cwd),
               "stdout": str(out), "stderr": str(err)}
        self._proc.stdin.write(json.dumps(job) + "\n")
        self._proc.stdin.flush()
        pid = json.loads(self._reply(self.timeout))
        try:
            code = json.loads(self._reply(self.timeout))
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)  # the helper reaps it and answers
            self._reply(10)
            raise
        return subprocess.CompletedProcess(["newsflow", *job["args"]], code,
                                           out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))

    def _reply(self, timeout: float) -> str:
        """The helper's next line (read from the pipe itself: two lines may come at once)."""
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise subprocess.TimeoutExpired("newsflow (forked)", timeout)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("the CLI helper process died")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc.stdout.close()
        self._tmp.cleanup()

    def __enter__(self) -> CliProcesses:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
