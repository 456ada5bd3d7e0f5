"""`newsflow models install` from the package index, end to end: a loopback HTTP
server serves an ``index.json`` and real (tiny) packages, and the command runs
in its own process with ``ARGOS_PACKAGE_INDEX`` pointing at it (argostranslate
reads it when first imported; nothing of argostranslate is replaced). Each command
is a child forked from a helper that imported only ``newsflow.cli``
(tests/support/cli_processes.py): a process of its own in which argostranslate is
first imported, without ~2 CPU-s of interpreter start and CLI imports per command. Downloads
cut short and packages that fail validation are refused in one line, and the
installed version stays. Also `models list` and `models install --from` on
broken packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import REPO, write_config
from tests.support.cli_processes import CliProcesses
from tests.support.tiny_package import build_package
from translators.packages import install_from_path, list_installed


class PackageIndex:
    """An Argos package index on 127.0.0.1: ``publish`` a package file with a
    delivery mode: ``ok``; ``cut`` (Content-Length says the whole file, a third is
    sent, then the connection closes); ``truncated`` (no Content-Length, a third,
    close: the client cannot tell). Records every request path."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[dict, bytes, str]] = {}
        self.requests: list[str] = []
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                index.requests.append(self.path)
                if self.path == "/index.json":
                    return self._send(json.dumps(index.index_json()).encode(), "application/json")
                name = self.path.removeprefix("/files/")
                if name not in index.entries:
                    self.send_error(404)
                    return
                _, body, mode = index.entries[name]
                if mode == "ok":
                    return self._send(body, "application/zip")
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                if mode == "cut":
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.close_connection = True

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        # polled every 0.01 s (the default is 0.5 s): close() waits for the next poll, once per test
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()

    def publish(self, file: Path, mode: str = "ok") -> None:
        with zipfile.ZipFile(file) as zf:
            meta = json.loads(next(zf.read(n) for n in zf.namelist() if n.endswith("/metadata.json")))
        pair = f"{meta['from_code']}_{meta['to_code']}"
        for name in [n for n, (m, _, _) in self.entries.items() if f"{m['from_code']}_{m['to_code']}" == pair]:
            del self.entries[name]  # one version per pair, as the real index has
        self.entries[file.name] = (meta, file.read_bytes(), mode)

    def index_json(self) -> list[dict]:
        return [{**meta, "links": [f"{self.base}files/{name}"]} for name, (meta, _, _) in self.entries.items()]

    def file_requests(self) -> list[str]:
        return [r for r in self.requests if r.startswith("/files/")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("index-packages")
    files = {
        "de-1.0": build_package(out / "de1", "de", version="1.0"),
        "de-2.0": build_package(out / "de2", "de", version="2.0", seed=5),
        "zh-1.0": build_package(out / "zh", "zh"),
        "zt-1.0": build_package(out / "zt", "zt"),
    }
    cut = out / "cut" / files["de-2.0"].name  # the same name as the good 2.0: only model.bin differs
    cut.parent.mkdir()
    with zipfile.ZipFile(files["de-2.0"]) as src, zipfile.ZipFile(cut, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info.filename, data[: len(data) // 3] if info.filename.endswith("model.bin") else data)
    files["de-2.0-cut-model"] = cut
    return files


@pytest.fixture
def index():
    server = PackageIndex()
    yield server
    server.close()


@pytest.fixture
def home(tmp_path) -> Path:
    """A user's machine: config, models dir, argostranslate's XDG folders."""
    (tmp_path / "user").mkdir()
    write_config(tmp_path / "user", tmp_path / "user" / "models")
    return tmp_path / "user"


def process_env(home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        # loopback only, as every offline test process
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "support" / "offline"), str(REPO)]),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "xdg-data"),
        "XDG_CACHE_HOME": str(home / "xdg-cache"),
        "XDG_CONFIG_HOME": str(home / "xdg-config"),
        **extra,
    }


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    helper_home = tmp_path_factory.mktemp("cli-helper")
    with CliProcesses(process_env(helper_home), cwd=helper_home) as processes:
        yield processes


def newsflow(cli: CliProcesses, home: Path, index: PackageIndex, *args: str) -> subprocess.CompletedProcess:
    """``newsflow --config <home>/config.yaml ARGS`` in a process of its own (see the module doc)."""
    env = process_env(home, ARGOS_PACKAGE_INDEX=index.base)
    return cli.run(["--config", str(home / "config.yaml"), *args], env=env, cwd=home)


def downloads(home: Path) -> list[str]:
    folder = home / "xdg-cache" / "argos-translate" / "downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def installed(home: Path) -> list[tuple[str, str]]:
    return sorted((p.from_code, p.package_version) for p in list_installed(home / "models"))


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr  # the CLI's status for an expected failure
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_index_installs_zh_and_zt(cli, index, built, home):
    for key in ("zh-1.0", "zt-1.0", "de-1.0"):
        index.publish(built[key])
    result = newsflow(cli, home, index, "models", "install", "zh")
    assert result.returncode == 0, result.stderr
    assert "installed zh -> en version 1.0" in result.stdout and "installed zt -> en version 1.0" in result.stdout
    assert installed(home) == [("zh", "1.0"), ("zt", "1.0")]
    assert index.requests[0] == "/index.json"
    assert sorted(index.file_requests()) == ["/files/translate-zh_en-1_0.argosmodel",
                                             "/files/translate-zt_en-1_0.argosmodel"]
    assert downloads(home) == []  # argostranslate's cache is emptied after installing
    result = newsflow(cli, home, index, "models", "install", "fr")
    assert one_error_line(result) == "error: the Argos package index has no fr->en package"


def test_an_upgrade_whose_model_bin_is_cut_is_refused_and_the_installed_version_stays(cli, index, built, home):
    install_from_path(built["de-1.0"], home / "models")
    before = snapshot(home / "models")
    index.publish(built["de-2.0-cut-model"])
    line = one_error_line(newsflow(cli, home, index, "models", "install", "de"))
    link = f"{index.base}files/translate-de_en-2_0.argosmodel"
    assert line.startswith(f"error: de->en 2.0 ({link}): refused, the package does not work: "
                           "model: cannot load the CTranslate2 model: ")
    assert line.endswith("; nothing was replaced")
    assert snapshot(home / "models") == before and installed(home) == [("de", "1.0")]
    assert downloads(home) == []  # the refused file is not left for argostranslate to reuse

    index.publish(built["de-2.0"])  # the fixed package, same file name: installs
    result = newsflow(cli, home, index, "models", "install", "de")
    assert result.returncode == 0, result.stderr
    assert installed(home) == [("de", "2.0")]
    assert [p.path.name for p in list_installed(home / "models")] == ["translate-de_en-2_0"]


def test_a_download_cut_short_is_refused_in_one_line(cli, index, built, home):
    install_from_path(built["de-1.0"], home / "models")
    before = snapshot(home / "models")
    index.publish(built["de-2.0"], mode="cut")
    line = one_error_line(newsflow(cli, home, index, "models", "install", "de"))
    assert line.startswith(f"error: de->en 2.0 ({index.base}files/translate-de_en-2_0.argosmodel): "
                           "download failed (cut short or refused: ")
    assert line.endswith("install from files instead: newsflow models install --from PATH")
    assert len(index.file_requests()) == 4  # argostranslate tried four times
    assert snapshot(home / "models") == before and downloads(home) == []


def test_a_download_truncated_without_a_length_is_refused_and_not_reused(cli, index, built, home):
    install_from_path(built["de-1.0"], home / "models")
    before = snapshot(home / "models")
    index.publish(built["de-2.0"], mode="truncated")  # the client gets a third and cannot tell
    line = one_error_line(newsflow(cli, home, index, "models", "install", "de"))
    assert line.startswith(f"error: de->en 2.0 ({index.base}files/translate-de_en-2_0.argosmodel): not a zip")
    assert snapshot(home / "models") == before and downloads(home) == []
    index.publish(built["de-2.0"])  # served whole now: a fresh download, not the truncated file
    result = newsflow(cli, home, index, "models", "install", "de")
    assert result.returncode == 0, result.stderr
    assert installed(home) == [("de", "2.0")]


def test_a_stale_download_in_argos_cache_is_not_installed(cli, index, built, home):
    """argostranslate names downloads translate-<from>_<to>.argosmodel (no version)
    and reuses an existing file: an old one must not be installed as the new one."""
    cache = home / "xdg-cache" / "argos-translate" / "downloads"
    cache.mkdir(parents=True)
    shutil.copy(built["de-1.0"], cache / "translate-de_en.argosmodel")
    index.publish(built["de-2.0"])
    result = newsflow(cli, home, index, "models", "install", "de")
    assert result.returncode == 0, result.stderr
    assert installed(home) == [("de", "2.0")] and downloads(home) == []
    assert index.file_requests() == ["/files/translate-de_en-2_0.argosmodel"]


# -- the CLI on broken packages (no index involved) -------------------------------------------


def test_models_install_from_a_broken_file_is_one_line(cli, index, built, home):
    result = newsflow(cli, home, index, "models", "install", "--from", str(built["de-2.0-cut-model"]))
    line = one_error_line(result)
    assert line.startswith(f"error: {built['de-2.0-cut-model']}: refused, the package does not work: model: ")
    assert installed(home) == [] and index.requests == []


def test_models_list_marks_broken_and_unused_folders(cli, index, built, home, tmp_path):
    models = home / "models"
    install_from_path(built["zh-1.0"], models)
    for key in ("de-1.0", "de-2.0"):  # two versions of one pair, put there by hand
        [pkg] = install_from_path(built[key], tmp_path / key)
        shutil.copytree(pkg.path, models / pkg.path.name)
    zh_bin = models / "translate-zh_en-1_0" / "model" / "model.bin"
    zh_bin.write_bytes(zh_bin.read_bytes()[: zh_bin.stat().st_size // 3])  # corrupted in place

    result = newsflow(cli, home, index, "models", "list")
    assert result.returncode == 0, result.stderr
    lines = {line.split("  ")[0] + " " + line.split("version ")[1].split()[0]: line
             for line in result.stdout.splitlines() if " -> " in line}
    assert set(lines) == {"de -> en 1.0", "de -> en 2.0", "zh -> en 1.0"}
    assert "[not used: version 2.0 in translate-de_en-2_0 is higher]" in lines["de -> en 1.0"]
    assert "[" not in lines["de -> en 2.0"]
    assert "[BROKEN: model: cannot load the CTranslate2 model" in lines["zh -> en 1.0"]
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("warning: ")]
    assert f"warning: {models / 'translate-zh_en-1_0'}: the model no longer loads" in result.stderr
