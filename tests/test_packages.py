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
    with caplog.at_level(logging.WARNING, logger="translators.installed"):
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


# --- validated installs -------------------------------------------------------------


def _cut_model_bin(source: Path, target: Path, keep: float = 1 / 3) -> Path:
    """A copy of the archive whose model/model.bin is cut to ``keep`` of its size."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("model/model.bin"):
                data = data[: int(len(data) * keep)]
            dst.writestr(info.filename, data)
    return target


def _replace_member(source: Path, target: Path, suffix: str, data: bytes) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename.endswith(suffix) else src.read(info.filename))
    return target


def test_a_package_with_model_bin_cut_to_a_third_is_refused(de_file, home, tmp_path):
    [old] = install_from_path(de_file, home)
    before = _snapshot(home.parent)
    newer = build_package(tmp_path / "v2", "de", version="2.0", seed=5)
    cut = _cut_model_bin(newer, tmp_path / "translate-de_en-2_0.argosmodel")
    with pytest.raises(ModelError) as err:
        install_from_path(cut, home)
    message = str(err.value)
    assert message.startswith(f"{cut}: refused, the package does not work: model: cannot load the CTranslate2 model")
    assert message.endswith("nothing was replaced") and "\n" not in message
    assert ".newsflow-install-" not in message  # reasons name files inside the package, not the staging folder
    assert _snapshot(home.parent) == before  # the installed version stays, byte for byte
    assert list_installed(home) == [old]


def test_a_package_whose_tokenizer_does_not_load_is_refused(de_file, home, tmp_path):
    bad = _replace_member(de_file, tmp_path / "bad-sp.argosmodel", "sentencepiece.model", b"not a model")
    with pytest.raises(ModelError, match=r"bad-sp.argosmodel: refused, the package does not work: "
                                         r"sentencepiece.model: cannot load the tokenizer"):
        install_from_path(bad, home)
    assert list_installed(home) == []


def test_a_package_that_translates_to_nothing_is_refused(home, tmp_path):
    # </s> wins right after the forced target prefix, which is stripped: no text at all
    mute = build_package(tmp_path, "de", eos_bias=60.0, target_prefix="▁Die")
    with pytest.raises(ModelError, match="translated to nothing"):
        install_from_path(mute, home)
    assert list_installed(home) == []


def test_a_broken_package_in_a_folder_install_installs_nothing(tiny_package_files, home, tmp_path):
    folder = tmp_path / "both"
    folder.mkdir()
    shutil.copy(tiny_package_files / "translate-zh_en-1_0.argosmodel", folder)
    _cut_model_bin(tiny_package_files / "translate-de_en-1_0.argosmodel", folder / "translate-de_en-1_0.argosmodel")
    with pytest.raises(ModelError, match="translate-de_en-1_0.argosmodel: refused"):
        install_from_path(folder, home)
    assert list_installed(home) == []


def test_an_upgrade_keeps_the_previous_folder_until_the_new_one_works(de_file, home, tmp_path, monkeypatch):
    [old] = install_from_path(de_file, home)
    newer = build_package(tmp_path / "v2", "de", version="2.0", seed=5)
    seen = []
    real_probe = pk.probe_package

    def watching(package):
        # while the new package is validated, the old one is installed and works
        seen.append((package.package_version, [p.package_version for p in list_installed(home)],
                     real_probe(old)))
        return real_probe(package)

    monkeypatch.setattr(pk, "probe_package", watching)
    [new] = install_from_path(newer, home)
    assert seen == [("2.0", ["1.0"], None)]
    assert [p.package_version for p in list_installed(home)] == ["2.0"] and not old.path.exists()
    assert new.path.parent == home


# --- zip bombs -------------------------------------------------------------------------


def test_an_archive_with_too_many_members_is_refused(de_file, home, tmp_path):
    top = "translate-de_en-1_0/"
    many = _rezip(de_file, tmp_path / "many.argosmodel",
                  extra=[(f"{top}filler/{i}.txt", b"") for i in range(pk.MAX_MEMBERS)])
    with pytest.raises(ModelError) as err:
        install_from_path(many, home)
    members = len(zipfile.ZipFile(de_file).infolist()) + pk.MAX_MEMBERS
    assert str(err.value) == (f"{many}: refused: {members} members in the archive "
                              f"(at most {pk.MAX_MEMBERS})")
    assert not home.exists()  # refused before anything was written


def test_an_archive_too_large_uncompressed_is_refused_before_extracting(de_file, home, tmp_path, monkeypatch):
    """A real bomb: 64 MB of zeros in ~64 KB; with the limit at 32 MB it is refused
    without extracting a byte."""
    top = "translate-de_en-1_0/"
    bomb = tmp_path / "bomb.argosmodel"
    with zipfile.ZipFile(de_file) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr(f"{top}zeros.bin", bytes(64 * 1024**2))
    assert bomb.stat().st_size < 1024**2
    monkeypatch.setattr(pk, "MAX_UNCOMPRESSED_BYTES", 32 * 1024**2)
    with pytest.raises(ModelError, match=r"bomb.argosmodel: refused: 6[45] MB uncompressed \(at most 32 MB\)"):
        install_from_path(bomb, home)
    assert not home.exists()
    assert not list(tmp_path.glob("**/.newsflow-install-*"))


def test_an_archive_that_claims_gigabytes_is_refused_at_the_default_limit(de_file, home, tmp_path):
    """Sizes as a bomb declares them (the central directory says 3.75 GB for one
    member); zipfile would stop that member at its declared size, so the
    declared sizes are what the limit counts."""
    top = "translate-de_en-1_0/"
    lying = _rezip(de_file, tmp_path / "lying.argosmodel", extra=[(f"{top}big.bin", b"x")])
    data = bytearray(lying.read_bytes())
    name = f"{top}big.bin".encode()
    entry = data.rindex(name) - 46  # its central directory record (46 fixed bytes, then the name)
    assert data[entry:entry + 4] == b"PK\x01\x02"
    data[entry + 24:entry + 28] = (0xF0000000).to_bytes(4, "little")  # uncompressed size
    lying.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"lying.argosmodel: refused: 3,84[01] MB uncompressed \(at most 2,048 MB\)"):
        install_from_path(lying, home)
    assert not home.exists()


# --- several versions of one pair ------------------------------------------------------


def _copy_in(file: Path, home: Path, folder_name: str, tmp_path: Path) -> None:
    """Put a package into ``home`` under ``folder_name`` behind the installer's back."""
    staging = tmp_path / f"staging-{folder_name}"
    [pkg] = install_from_path(file, staging)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(pkg.path, home / folder_name)


def test_the_highest_version_is_used_across_folders(home, tmp_path):
    from newsflow.pipeline import route_for

    for version, folder in [("9.0", "z-old"), ("10.0", "a-new"), ("1.5", "m-older")]:
        _copy_in(build_package(tmp_path / version, "de", version=version, seed=int(float(version))),
                 home, folder, tmp_path)
    installed = list_installed(home)
    assert [p.path.name for p in installed] == ["a-new", "m-older", "z-old"]
    assert find_package(home, "de", "en").package_version == "10.0"  # PEP 440: 10.0 > 9.0
    for order in (installed, installed[::-1]):
        assert pk.best_by_pair(order)[("de", "en")].path.name == "a-new"
        assert route_for("de", order, ["de"]).package.package_version == "10.0"


def test_check_installed_names_a_folder_whose_model_no_longer_loads(installed_models_dir, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(installed_models_dir, home)
    de, zh = sorted(list_installed(home), key=lambda p: p.from_code)
    assert pk.check_installed([de, zh]) == {}
    model_bin = de.model_dir / "model.bin"
    model_bin.write_bytes(model_bin.read_bytes()[: model_bin.stat().st_size // 3])
    broken = pk.check_installed(list_installed(home))
    assert list(broken) == [de.path]
    assert broken[de.path].startswith("model: cannot load the CTranslate2 model")
