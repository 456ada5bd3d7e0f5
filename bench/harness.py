"""Plumbing for ``bench/throughput.py``: worker processes, the Prefect server, the
benchmark package, the folder source and config, and the separate Argos venv.

Everything it creates lives in a temporary work dir or the bench cache
(``$NEWSFLOW_BENCH_CACHE``, default ``~/.cache/newsflow-bench``), never in the repo.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(REPO), str(BENCH)]


ARGOS_PINS = ("torch==2.13.0", "argostranslate==1.11.0")  # torch first: the local CPU wheel


def use_project_environment() -> None:
    """Let plain ``python bench/<script>.py`` work: re-run in the project's venv.

    The benchmark needs the project's packages (ctranslate2, prefect, ...). When
    this interpreter lacks them, re-execute with the repo's ``.venv`` python, or
    through ``uv run`` (which creates it); say so in one line if neither exists.
    """
    try:
        import ctranslate2  # noqa: F401
        import prefect  # noqa: F401
    except ImportError:
        pass
    else:
        return
    if os.environ.get("NEWSFLOW_BENCH_REEXEC"):
        sys.exit("bench: the project's packages are missing; run `uv sync` first")
    os.environ["NEWSFLOW_BENCH_REEXEC"] = "1"
    venv_python = REPO / ".venv" / "bin" / "python"
    if venv_python.exists():
        os.execv(str(venv_python), [str(venv_python), *sys.argv])
    uv = shutil.which("uv")
    if uv:
        os.execv(uv, [uv, "run", "--project", str(REPO), "python", *sys.argv])
    sys.exit("bench: the project's packages are missing; run `uv sync` first")


class Unavailable(Exception):
    """A contender cannot run here; the reason is printed and its result is n/a."""


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------------------


def worker_env(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGOS_", "PREFECT_"))}
    env.update(
        {
            "XDG_DATA_HOME": str(work / "xdg" / "data"),
            "XDG_CONFIG_HOME": str(work / "xdg" / "config"),
            "XDG_CACHE_HOME": str(work / "xdg" / "cache"),
            "ARGOS_PACKAGES_DIR": str(work / "packages"),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run_worker(kind: str, spec: dict, work: Path, env: dict, timeout: float = 900) -> dict:
    fd, name = tempfile.mkstemp(dir=work, prefix=f"{kind}-", suffix=".json")
    os.close(fd)
    spec_file = Path(name)
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(BENCH / "workers.py"), kind, str(spec_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"{kind} worker failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class FlowWorker:
    """The persistent flow process (``workers.py flow``): one JSON command per run."""

    def __init__(self, work: Path, env: dict) -> None:
        spec = work / "flow-spec.json"
        spec.write_text("{}", encoding="utf-8")
        self._stderr = open(work / "flow-worker.log", "w", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH / "workers.py"), "flow", str(spec)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"flow worker died; see {self._stderr.name}")
        return json.loads(line)

    def run(self, config: Path, output_dir: Path) -> dict:
        return self.send({"op": "run", "config": str(config), "output_dir": str(output_dir)})

    def send(self, cmd: dict) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"op": "stop"}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_cpu_s(pgid: int) -> float:
    """CPU seconds used so far by the live processes of process group ``pgid``."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after ")": state ppid pgrp ...
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class PrefectServer:
    """``prefect server start`` on loopback with its own PREFECT_HOME (a fresh database)."""

    def __init__(self, work: Path, env: dict) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        home = work / "prefect-server"
        home.mkdir()
        server_env = {**env, "PREFECT_HOME": str(home)}
        exe = Path(sys.executable).with_name("prefect")
        cmd = [
            str(exe) if exe.exists() else "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self._log = open(work / "prefect-server.log", "w", encoding="utf-8")  # noqa: SIM115
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, env=server_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = t0 + 180
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited early; see {self._log.name}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"prefect server not healthy after 180 s; see {self._log.name}")
            time.sleep(0.2)
        self.startup_s = time.perf_counter() - t0

    def cpu_s(self) -> float:
        return group_cpu_s(self.proc.pid)

    def stop(self) -> None:
        """Stop the server (again: nothing happens)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own session: server + uvicorn
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


# --- setup ---------------------------------------------------------------------------


@contextmanager
def tiny_bench(prefix: str, keep: bool, articles: int | None = None):
    """For the benchmarks that run on the tiny verification package (backlog, longrun,
    killed): a temporary work dir with the package built and installed the users' way under
    ``work/packages``, and, with ``articles``, a folder ``work/inbox`` of that many generated
    German articles of 9 sentences each (a title and 8); a ``prefect server`` on loopback.
    Yields ``(work, env, packages, server)``, ``env`` pointing at the server; on the way out,
    however it ends, the server is stopped and the work dir removed (unless ``keep``)."""
    from tests.reliability.harness import generate_german_inbox
    from tests.support.tiny_package import build_package
    from translators.packages import install_from_path

    work = Path(tempfile.mkdtemp(prefix=prefix))
    env = worker_env(work)
    env["PYTHONPATH"] = str(REPO)
    server = None
    try:
        build_package(work / "argos-files", "de", "en")
        install_from_path(work / "argos-files", work / "packages")
        if articles:
            generate_german_inbox(work / "inbox", articles, sentences=8)
        log("starting prefect server ...")
        server = PrefectServer(work, env)
        env["PREFECT_API_URL"] = server.url
        yield work, env, work / "packages", server
    finally:
        if server is not None:
            server.stop()
        if keep:
            log(f"work dir (kept): {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# How the benchmark package is built. Its SentencePiece model learns 1,200 pieces from
# 300 other articles of the same generator (the rest of its 32,000 pieces are padding), so
# the measured sentences are cut into ~1.25 pieces a word, as a real de->en model cuts
# German news (~1.3), not into the ~3 a word of a tokenizer that never saw their words.
# eos_bias 4.0 makes the random model stop after ~21 tokens, about a source sentence's
# length (~19): what a real translation of these sentences costs to decode.
PACKAGE_OPTIONS = {"size": "base", "learned_pieces": 1200, "eos_bias": 4.0}
TOKENIZER_TRAINING = {"count": 300, "seed": 7}  # sentences_de.articles(...) arguments


def base_package(cache: Path) -> Path:
    """The transformer-base .argosmodel, built once per version of its recipe."""
    from sentences_de import articles

    recipe = hashlib.sha256()
    for part in (REPO / "tests" / "support" / "tiny_package.py", BENCH / "sentences_de.py"):
        recipe.update(part.read_bytes())
    recipe.update(json.dumps([PACKAGE_OPTIONS, TOKENIZER_TRAINING], sort_keys=True).encode())
    folder = cache / f"package-base-{recipe.hexdigest()[:12]}"
    files = sorted(folder.glob("*.argosmodel"))
    if files:
        return files[0]
    from tests.support.tiny_package import build_package

    log("building the transformer-base package (once; ~95 MB) ...")
    training = [s for a in articles(**TOKENIZER_TRAINING) for s in a.sentences]
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".package-"))
    built = build_package(tmp, "de", "en", extra_lines=training, **PACKAGE_OPTIONS)
    tmp.rename(folder)
    return folder / built.name


def write_folder_source(folder: Path, arts) -> None:
    folder.mkdir(parents=True)
    for i, art in enumerate(arts):
        text = art.title + "\n\n" + "\n\n".join(art.paragraphs) + "\n"
        (folder / f"artikel-{i:03d}.txt").write_text(text, encoding="utf-8")


def write_config(run_dir: Path, source: Path, packages: Path, translation: dict,
                 quality: dict | None = None) -> Path:
    run_dir.mkdir(parents=True)
    cfg = {
        "quality": quality or {},
        "sources": [{"name": "bench-de", "kind": "folder", "lang": "de", "path": str(source)}],
        "languages": ["de"],
        "models_dir": str(packages),
        "translation": translation,
        "glossary": str(REPO / "glossary.yaml"),
        "database": str(run_dir / "newsflow.db"),
        "output_dir": str(run_dir / "output"),
    }
    path = run_dir / "config.yaml"
    path.write_text(json.dumps(cfg, indent=2), encoding="utf-8")  # JSON is YAML
    return path


def check_segmentation(arts, max_tokens: int, count_tokens) -> dict:
    """newsflow's segmenter must see exactly the generator's sentences."""
    from translators.segment import split_sentences

    sentences = [s for a in arts for s in a.sentences]
    if len(set(sentences)) != len(sentences):
        raise SystemExit("bench: the benchmark sentences are not distinct")
    for a in arts:
        got = [a.title] + [s for p in a.paragraphs for s in split_sentences(p, "de")]
        if got != a.sentences:
            raise SystemExit(f"bench: newsflow splits {a.title!r} differently: {got}")
    tokens = [count_tokens(s) for s in sentences]
    if max(tokens) > max_tokens:
        raise SystemExit("bench: a sentence exceeds max_input_tokens; it would be split")
    words = sum(len(s.split()) for s in sentences)
    return {
        "sentences": len(sentences),
        "source_tokens_mean": sum(tokens) / len(tokens),
        "tokens_per_word": sum(tokens) / words,
    }


# --- (a) Argos ------------------------------------------------------------------------


def _python311() -> str:
    for cand in (shutil.which("python3.11"), shutil.which("python3"), sys._base_executable):
        if not cand:
            continue
        out = subprocess.run(
            [cand, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"],
            capture_output=True,
            text=True,
        )
        if out.stdout.strip() == "True":
            return cand
    raise Unavailable("no Python 3.11 found to build the Argos venv (the torch wheel is cp311)")


def argos_venv(cache: Path, rebuild: bool) -> Path:
    """``<cache>/argos-venv`` with torch 2.13.0 (CPU) + argostranslate 1.11.0; built once."""
    venv = cache / "argos-venv"
    python = venv / "bin" / "python"
    marker = venv / ".newsflow-bench-ok"
    if marker.exists() and not rebuild:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    build_log = cache / "argos-venv-build.log"
    log(f"building the Argos venv (once; ~1.5 GB, a few minutes; log: {build_log}) ...")
    steps = [[_python311(), "-m", "venv", str(venv)]]
    steps += [
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", pin]
        for pin in ARGOS_PINS
    ]
    steps.append([str(python), "-c", "import argostranslate.translate, spacy"])
    with open(build_log, "w", encoding="utf-8") as fh:
        for step in steps:
            fh.write(f"$ {' '.join(step)}\n")
            fh.flush()
            try:
                rc = subprocess.run(
                    step,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    timeout=1800,
                ).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
            if rc != 0:
                raise Unavailable(
                    f"could not build the Argos venv: `{' '.join(step[-2:])}` "
                    f"failed ({rc}); see {build_log}"
                )
    marker.write_text(" ".join(ARGOS_PINS) + "\n", encoding="utf-8")
    return python


def run_argos(python: Path, package: Path, arts, work: Path, beam: int, cap: int) -> dict:
    home = work / "argos"
    packages = home / "packages"
    shutil.copytree(package, packages / package.name)  # spacy/ is added to this copy only
    texts = [a.title + "\n" + "\n".join(a.paragraphs) for a in arts]
    spec = home / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "texts": texts,
                "max_decoding_length": cap,
                "warmup": "Der Ausschuss tagt am Vormittag im Rathaus.",
            }
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGOS_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        {
            "ARGOS_PACKAGES_DIR": str(packages),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "ARGOS_CHUNK_TYPE": "SPACY",
            "ARGOS_BEAM_SIZE": str(beam),
            "ARGOS_DEVICE_TYPE": "cpu",
        }
    )
    try:
        proc = subprocess.run(
            [str(python), str(BENCH / "argos_worker.py"), str(spec)],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except subprocess.TimeoutExpired:
        raise Unavailable("argos translate() did not finish in 30 min") from None
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise Unavailable(f"argos worker failed ({proc.returncode}): {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
