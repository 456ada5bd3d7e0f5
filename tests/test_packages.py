"""Argos packages: install from files and folders, replace, refuse bad archives, list."""

import json
import logging
import shutil
import socket
import zipfile
from pathlib import Path

import pytest

from newsflow.errors import ModelError
from tests.support.tiny_package import build_package
from translators import packages as pk
from translators.packages import (
    find_package,
    install_from_index,
    install_from_path,
    list_installed,
    packages_dir,
    scan_installed,
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "argos" / "packages"


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _rezip(source: Path, target: Path, rename=lambda name: name, drop=(), extra=()) -> Path:
    """Copy an archive, renaming or dropping entries, adding (name, bytes) entries."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if any(info.filename.endswith(d) for d in drop):
                continue
            dst.writestr(rename(info.filename), src.read(info.filename))
        for name, data in extra:
            dst.writestr(name, data)
    return target


@pytest.fixture
def de_file(tiny_package_files: Path) -> Path:
    return tiny_package_files / "translate-de_en-1_0.argosmodel"


# --- packages_dir ----------------------------------------------------------------


def test_packages_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert packages_dir(tmp_path / "cfg") == tmp_path / "cfg"
    assert packages_dir(None) == tmp_path / "env"
    monkeypatch.delenv("ARGOS_PACKAGES_DIR")
    assert packages_dir(None) == tmp_path / "xdg" / "argos-translate" / "packages"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert packages_dir() == tmp_path / "home" / ".local/share/argos-translate/packages"
    assert not (tmp_path / "home").exists()  # nothing created


# --- install ---------------------------------------------------------------------


def test_install_file(de_file, home):
    [pkg] = install_from_path(de_file, home)
    assert (pkg.from_code, pkg.to_code, pkg.package_version) == ("de", "en", "1.0")
    assert pkg.path == home / "translate-de_en-1_0"
    assert pkg.tokenizer == "sentencepiece" and pkg.target_prefix == ""
    assert pkg.model_id == "translate-de_en"
    assert pkg.model_version.startswith("1.0+") and len(pkg.model_version) == 4 + 12
    assert list_installed(home) == [pkg]
    assert find_package(home, "de", "en") == pkg
    assert find_package(home, "zh", "en") is None
    # the temporary folders beside the packages dir are gone
    assert sorted(p.name for p in home.parent.iterdir()) == [".newsflow-packages.lock", "packages"]


def test_install_folder(tiny_package_files, home):
    installed = install_from_path(tiny_package_files, home)
    assert sorted((p.from_code, p.to_code) for p in installed) == [("de", "en"), ("zh", "en")]
    assert len(list_installed(home)) == 2


def test_installed_models_dir_fixture(installed_models_dir):
    pairs = sorted((p.from_code, p.to_code) for p in list_installed(installed_models_dir))
    assert pairs == [("de", "en"), ("zh", "en")]


def test_replace_existing_pair(de_file, home, tmp_path):
    [old] = install_from_path(de_file, home)
    old_version = old.model_version
    newer = build_package(tmp_path / "v11", "de", seed=1, version="1.1")
    [new] = install_from_path(newer, home)
    assert new.package_version == "1.1" and new.path.name == "translate-de_en-1_1"
    assert not old.path.exists()  # replaced, not kept beside
    assert [p.path for p in list_installed(home)] == [new.path]
    new_version = new.model_version
    assert new_version != old_version
    # same folder name, retrained model: replaced in place, version changes
    retrained = build_package(tmp_path / "retrained", "de", seed=2, version="1.1")
    [again] = install_from_path(retrained, home)
    assert again.path == new.path
    assert again.model_version.startswith("1.1+") and again.model_version != new_version


def test_model_version_follows_model_bin(de_file, home):
    [pkg] = install_from_path(de_file, home)
    before = pkg.model_version
    assert pkg.model_version == before  # cached, stable
    model_bin = pkg.model_dir / "model.bin"
    data = bytearray(model_bin.read_bytes())
    data[-1] ^= 0xFF
    model_bin.write_bytes(bytes(data))
    assert pkg.model_version != before


# --- refusing bad files ----------------------------------------------------------


def _bad_archives(de_file: Path, tmp: Path) -> dict[str, tuple[Path, str]]:
    top = "translate-de_en-1_0/"
    not_zip = tmp / "not-a-zip.argosmodel"
    not_zip.write_text("hello", encoding="utf-8")
    meta = json.dumps({"from_code": "de", "to_code": "en", "package_version": "1"})
    return {
        "not a zip": (not_zip, "not a zip archive"),
        "two top-level folders": (
            _rezip(de_file, tmp / "two-tops.argosmodel", extra=[("other/README.md", b"x")]),
            "exactly one top-level folder",
        ),
        "no top-level folder": (
            _rezip(de_file, tmp / "flat.argosmodel", rename=lambda n: n[len(top) :] or "x/"),
            "one top-level folder",
        ),
        "missing metadata": (
            _rezip(de_file, tmp / "no-meta.argosmodel", drop=["metadata.json"]),
            "metadata.json",
        ),
        "metadata without from_code": (
            _rezip(
                de_file,
                tmp / "bad-meta.argosmodel",
                drop=["metadata.json"],
                extra=[(top + "metadata.json", b'{"to_code": "en", "package_version": "1"}')],
            ),
            "no 'from_code'",
        ),
        "metadata not JSON": (
            _rezip(
                de_file,
                tmp / "json.argosmodel",
                drop=["metadata.json"],
                extra=[(top + "metadata.json", b"{not json")],
            ),
            "not valid JSON",
        ),
        "missing model.bin": (
            _rezip(de_file, tmp / "no-model.argosmodel", drop=["model.bin"]),
            "model/model.bin",
        ),
        "missing tokenizer": (
            _rezip(de_file, tmp / "no-sp.argosmodel", drop=["sentencepiece.model"]),
            "sentencepiece.model or",
        ),
        "path traversal": (
            _rezip(de_file, tmp / "traversal.argosmodel", extra=[(top + "../../evil.txt", b"x")]),
            "unsafe path",
        ),
        "absolute path": (
            _rezip(de_file, tmp / "absolute.argosmodel", extra=[("/tmp/evil.txt", b"x")]),
            "unsafe path",
        ),
        "wrong type": (
            _rezip(
                de_file,
                tmp / "sbd.argosmodel",
                drop=["metadata.json"],
                extra=[(top + "metadata.json", meta[:-1].encode() + b', "type": "sbd"}')],
            ),
            "not a translation package",
        ),
    }


def test_bad_files_are_refused_and_installed_ones_untouched(
    de_file, home, tmp_path, tiny_package_files
):
    install_from_path(tiny_package_files, home)
    before = _snapshot(home.parent)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    for case, (file, reason) in _bad_archives(de_file, bad_dir).items():
        with pytest.raises(ModelError) as err:
            install_from_path(file, home)
        message = str(err.value)
        assert message.startswith(f"{file}: "), case
        assert reason in message, (case, message)
        assert "\n" not in message
        assert _snapshot(home.parent) == before, case
    assert not (tmp_path / "evil.txt").exists()


def test_folder_install_is_all_or_nothing(home, tmp_path, tiny_package_files):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(tiny_package_files / "translate-zh_en-1_0.argosmodel", folder)
    (folder / "zz-broken.argosmodel").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ModelError, match="zz-broken.argosmodel: "):
        install_from_path(folder, home)
    assert list_installed(home) == []


def test_folder_with_two_packages_for_one_pair(tmp_path, home):
    folder = tmp_path / "dup"
    build_package(folder, "de", version="1.0")
    build_package(folder, "de", version="2.0", seed=3)
    with pytest.raises(ModelError, match="a second package for de->en"):
        install_from_path(folder, home)


def test_empty_folder_and_missing_path(tmp_path, home):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no .argosmodel files"):
        install_from_path(tmp_path / "empty", home)
    with pytest.raises(ModelError, match="no such file"):
        install_from_path(tmp_path / "missing.argosmodel", home)


def test_failed_swap_restores_the_old_package(de_file, home, tmp_path, monkeypatch):
    [old] = install_from_path(de_file, home)
    before = _snapshot(home)
    newer = build_package(tmp_path / "v2", "de", version="2.0", seed=5)
    real_rename = pk.os.rename

    def failing_rename(src, dst):
        if Path(src).parent.name == "0":  # moving the NEW (extracted) package into place
            raise OSError("disk full")
        return real_rename(src, dst)

    monkeypatch.setattr(pk.os, "rename", failing_rename)
    with pytest.raises(ModelError, match="disk full"):
        install_from_path(newer, home)
    monkeypatch.undo()
    assert _snapshot(home) == before
    assert list_installed(home) == [old]


# --- listing -----------------------------------------------------------------------


def test_invalid_subfolder_is_reported_not_hidden(de_file, home, caplog):
    install_from_path(de_file, home)
    (home / "leftover").mkdir()
    (home / "half").mkdir()
    (home / "half" / "metadata.json").write_text('{"from_code": "zh"}', encoding="utf-8")
    (home / "stray.txt").write_text("ignored like Argos does", encoding="utf-8")
    packages, problems = scan_installed(home)
    assert [p.from_code for p in packages] == ["de"]
    assert len(problems) == 2
    assert any("half" in p and "to_code" in p for p in problems)
    assert any("leftover" in p and "no metadata.json" in p for p in problems)
    with caplog.at_level(logging.WARNING, logger="translators.packages"):
        assert len(list_installed(home)) == 1
    assert "leftover" in caplog.text
    assert scan_installed(home / "missing") == ([], [])


# --- the package index ---------------------------------------------------------------


@pytest.fixture
def argos_index(monkeypatch, tmp_path):
    from argostranslate import settings

    monkeypatch.setattr(settings, "local_package_index", tmp_path / "index.json")
    return tmp_path / "index.json"


def test_index_offline_is_one_clear_line(monkeypatch, argos_index, home):
    def refuse(*args, **kwargs):
        raise OSError("network is disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(ModelError) as err:
        install_from_index(["de"], home)
    message = str(err.value)
    assert message.startswith("cannot reach the Argos package index (")
    assert message.endswith("install from files instead: newsflow models install --from PATH")
    assert "\n" not in message
    assert list_installed(home) == []


class _FakeAvailable:
    def __init__(self, file: Path, from_code: str, version="1.0"):
        self.file, self.from_code, self.to_code = file, from_code, "en"
        self.package_version, self.type = version, "translate"

    def download(self) -> Path:
        copy = self.file.with_suffix(".download")
        shutil.copy(self.file, copy)
        return copy


def test_index_installs_zh_and_zt(monkeypatch, argos_index, tmp_path, home):
    from argostranslate import package as argos_package

    files = tmp_path / "index-files"
    available = [
        _FakeAvailable(build_package(files, "zh"), "zh"),
        _FakeAvailable(build_package(files, "zt"), "zt"),
        _FakeAvailable(build_package(files, "de"), "de"),
    ]
    monkeypatch.setattr(
        argos_package,
        "update_package_index",
        lambda: argos_index.write_text("[]", encoding="utf-8"),
    )
    monkeypatch.setattr(argos_package, "get_available_packages", lambda: available)
    installed = install_from_index(["zh"], home)
    assert sorted(p.from_code for p in installed) == ["zh", "zt"]
    assert not list(files.glob("*.download"))  # downloads removed after install
    with pytest.raises(ModelError, match="no fr->en package"):
        install_from_index(["fr"], home)

    def broken_download():
        raise Exception("Download failed for German → English")

    available[2].download = broken_download
    with pytest.raises(ModelError, match=r"cannot reach the Argos package index \(de->en: "):
        install_from_index(["de"], home)
