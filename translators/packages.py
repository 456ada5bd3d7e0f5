"""Argos Translate packages (.argosmodel): find, list, validate and install them.

argostranslate's own ``install_from_path``/``uninstall`` import
``argostranslate.translate`` (stanza, spaCy) after extracting, so in this lean
install they fail with the files already in place; and they extract straight
into the packages dir, so a zip without one top-level folder spills its files
there. This module installs packages itself:

* every archive is checked before anything is written (a real zip, exactly one
  top-level folder with metadata.json, model/model.bin and a tokenizer model,
  no absolute paths or ``..``);
* it is extracted into a temporary folder in the PARENT of the packages dir (same
  file system, and never visible as a half package inside it), then renamed into
  place; an installed package for the same pair is moved aside first and deleted
  only after the new one is in, and moved back if anything fails.

Only :func:`install_from_index` opens network connections.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from newsflow.errors import ModelError

log = logging.getLogger(__name__)

INDEX_HINT = "install from files instead: newsflow models install --from PATH"
_TOKENIZER_FILES = {"sentencepiece.model": "sentencepiece", "bpe.model": "bpe"}
_REQUIRED_METADATA = ("from_code", "to_code", "package_version")


def packages_dir(configured: Path | str | None = None) -> Path:
    """The packages dir: ``configured``, else ``$ARGOS_PACKAGES_DIR``, else Argos's default.

    Argos's default is ``$XDG_DATA_HOME/argos-translate/packages`` (XDG default
    ``~/.local/share``). Computed here rather than read from
    ``argostranslate.settings``, which creates folders when imported. Nothing is
    created.
    """
    if configured:
        return Path(os.path.expanduser(str(configured)))
    env = os.environ.get("ARGOS_PACKAGES_DIR")
    if env:
        return Path(os.path.expanduser(env))
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(data_home) / "argos-translate" / "packages"


# model_version hashes model.bin (~100 MB for real packages: ~0.1 s), once per
# process per file state. Keyed on (path, size, mtime, inode) so a package that is
# replaced or retrained in place gets a new version.
_version_cache: dict[tuple[str, int, int, int], str] = {}
_version_lock = threading.Lock()


def _file_digest(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    with _version_lock:
        cached = _version_cache.get(key)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _version_lock:
        _version_cache[key] = digest
    return digest


@dataclass(frozen=True)
class InstalledPackage:
    """An installed translation package (a folder in the packages dir)."""

    from_code: str
    to_code: str
    package_version: str
    path: Path
    tokenizer: str  # "sentencepiece" or "bpe"
    target_prefix: str = ""
    metadata: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def model_id(self) -> str:
        return f"translate-{self.from_code}_{self.to_code}"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def tokenizer_path(self) -> Path:
        return self.path / (
            "sentencepiece.model" if self.tokenizer == "sentencepiece" else "bpe.model"
        )

    @property
    def model_version(self) -> str:
        """``<package_version>+<first 12 hex of sha256(model/model.bin)>``.

        Changes whenever model.bin changes, so cached translations of a replaced
        or retrained package are never reused.
        """
        try:
            digest = _file_digest(self.model_dir / "model.bin")
        except OSError as exc:
            raise ModelError(f"{self.model_dir / 'model.bin'}: cannot read: {exc}") from None
        return f"{self.package_version}+{digest[:12]}"


def _parse_metadata(raw: bytes, origin: str) -> dict:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{origin}: metadata.json is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{origin}: metadata.json must hold a JSON object")
    for key in _REQUIRED_METADATA:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ModelError(f"{origin}: metadata.json has no '{key}'")
    kind = data.get("type", "translate")
    if kind != "translate":
        raise ModelError(f"{origin}: not a translation package (type '{kind}')")
    prefix = data.get("target_prefix", "")
    if not isinstance(prefix, str):
        raise ModelError(f"{origin}: metadata.json 'target_prefix' must be a string")
    return data


def load_package(folder: Path) -> InstalledPackage:
    """Read one installed package folder; :class:`ModelError` if it is not a valid one."""
    meta_path = folder / "metadata.json"
    try:
        raw = meta_path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{folder}: not a package (no metadata.json)") from None
    except OSError as exc:
        raise ModelError(f"{meta_path}: cannot read: {exc}") from None
    meta = _parse_metadata(raw, str(folder))
    if not (folder / "model" / "model.bin").is_file():
        raise ModelError(f"{folder}: no model/model.bin")
    tokenizer = next(
        (kind for name, kind in _TOKENIZER_FILES.items() if (folder / name).is_file()), None
    )
    if tokenizer is None:
        raise ModelError(f"{folder}: no sentencepiece.model or bpe.model")
    return InstalledPackage(
        from_code=meta["from_code"],
        to_code=meta["to_code"],
        package_version=meta["package_version"],
        path=folder,
        tokenizer=tokenizer,
        target_prefix=meta.get("target_prefix", ""),
        metadata=meta,
    )


def scan_installed(directory: Path) -> tuple[list[InstalledPackage], list[str]]:
    """All valid packages in ``directory`` and one problem line per invalid sub-folder.

    Plain files are ignored (as Argos does). A missing dir is simply empty.
    """
    packages: list[InstalledPackage] = []
    problems: list[str] = []
    directory = Path(directory)
    if not directory.is_dir():
        return packages, problems
    for entry in sorted(directory.iterdir()):
        if not entry.is_dir():
            continue
        try:
            packages.append(load_package(entry))
        except ModelError as exc:
            problems.append(str(exc))
    return packages, problems


def list_installed(directory: Path) -> list[InstalledPackage]:
    """Valid packages in ``directory``; each invalid sub-folder is logged as a warning.

    Use :func:`scan_installed` to get the problems as a list (e.g. for a CLI).
    """
    packages, problems = scan_installed(directory)
    for problem in problems:
        log.warning("ignoring invalid Argos package: %s", problem)
    return packages


def _version_key(version: str) -> tuple:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version), version)
    except InvalidVersion:
        return (0, None, version)


def find_package(directory: Path, from_code: str, to_code: str) -> InstalledPackage | None:
    """The installed package for ``from_code -> to_code`` (highest version if several)."""
    matches = [
        p for p in list_installed(directory) if p.from_code == from_code and p.to_code == to_code
    ]
    if not matches:
        return None
    return max(matches, key=lambda p: (_version_key(p.package_version), p.path.name))


# ---------------------------------------------------------------------------
# Installing
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Archive:
    file: Path
    top: str  # the one top-level folder
    metadata: dict

    @property
    def pair(self) -> tuple[str, str]:
        return (self.metadata["from_code"], self.metadata["to_code"])


def inspect_archive(file: Path) -> _Archive:
    """Check an .argosmodel file without extracting it; :class:`ModelError` naming the file."""
    file = Path(file)
    if not file.is_file():
        raise ModelError(f"{file}: no such file")
    if not zipfile.is_zipfile(file):
        raise ModelError(f"{file}: not a zip archive (an .argosmodel file is a zip)")
    try:
        with zipfile.ZipFile(file) as zf:
            infos = zf.infolist()
            names = [info.filename for info in infos]
            for info in infos:
                _check_member(file, info)
            tops = {PurePosixPath(n).parts[0] for n in names if PurePosixPath(n).parts}
            if len(tops) != 1:
                shown = ", ".join(sorted(tops)[:5]) or "nothing"
                raise ModelError(
                    f"{file}: must hold exactly one top-level folder, "
                    f"found {len(tops)} entries ({shown})"
                )
            top = tops.pop()
            if f"{top}/metadata.json" not in names:
                if top == "metadata.json" or top in _TOKENIZER_FILES or top == "model":
                    raise ModelError(f"{file}: files are not inside one top-level folder")
                raise ModelError(f"{file}: no {top}/metadata.json")
            if f"{top}/model/model.bin" not in names:
                raise ModelError(f"{file}: no {top}/model/model.bin")
            if not any(f"{top}/{name}" in names for name in _TOKENIZER_FILES):
                raise ModelError(f"{file}: no {top}/sentencepiece.model or {top}/bpe.model")
            metadata = _parse_metadata(zf.read(f"{top}/metadata.json"), str(file))
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{file}: damaged zip archive ({exc})") from None
    except OSError as exc:
        raise ModelError(f"{file}: cannot read: {exc}") from None
    return _Archive(file=file, top=top, metadata=metadata)


def _check_member(file: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    if name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise ModelError(f"{file}: unsafe path in archive: {name!r}")
    parts = PurePosixPath(name).parts
    if any(part in ("..", ".") for part in parts) or "\x00" in name:
        raise ModelError(f"{file}: unsafe path in archive: {name!r}")
    mode = (info.external_attr >> 16) & 0o170000
    if mode == 0o120000:  # a symlink entry
        raise ModelError(f"{file}: archive holds a symbolic link: {name!r}")


_install_lock = threading.Lock()


@contextlib.contextmanager
def _locked(parent: Path) -> Iterator[None]:
    """Serialise installs, in this process (threads) and across processes (flock)."""
    with _install_lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        with open(parent / ".newsflow-packages.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _archives_in(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".argosmodel")
        if not files:
            raise ModelError(f"{path}: no .argosmodel files in this folder")
        return files
    if not path.exists():
        raise ModelError(f"{path}: no such file or folder")
    return [path]


def install_from_path(path: Path | str, directory: Path | str) -> list[InstalledPackage]:
    """Install one .argosmodel file, or every ``*.argosmodel`` file of a folder.

    All or nothing: every archive is checked first, then all are extracted, then
    they are swapped in; if any step fails, nothing changes in ``directory``
    (installed packages are put back) and :class:`ModelError` names the file. An
    installed package for the same language pair is replaced.
    """
    return install_files(_archives_in(Path(path)), Path(directory))


def install_files(files: list[Path], directory: Path) -> list[InstalledPackage]:
    """Install the given .argosmodel files together (see :func:`install_from_path`)."""
    archives = [inspect_archive(Path(f)) for f in files]
    seen: dict[tuple[str, str], Path] = {}
    for archive in archives:
        if archive.pair in seen:
            raise ModelError(
                f"{archive.file}: a second package for "
                f"{archive.pair[0]}->{archive.pair[1]} (also {seen[archive.pair]})"
            )
        seen[archive.pair] = archive.file

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        parent = directory.resolve().parent
        staging = Path(tempfile.mkdtemp(prefix=".newsflow-install-", dir=parent))
    except OSError as exc:
        raise ModelError(f"{directory}: cannot prepare the packages dir: {exc}") from None
    try:
        extracted = [_extract(archive, staging / str(i)) for i, archive in enumerate(archives)]
        with _locked(parent):
            return _swap_in(archives, extracted, directory, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: _Archive, dest: Path) -> Path:
    dest.mkdir()
    try:
        with zipfile.ZipFile(archive.file) as zf:
            zf.extractall(dest)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ModelError(f"{archive.file}: cannot extract: {exc}") from None
    folder = dest / archive.top
    try:
        load_package(folder)  # the extracted tree must be a valid package too
    except ModelError as exc:
        raise ModelError(f"{archive.file}: extracted package is invalid: {exc}") from None
    return folder


def _swap_in(
    archives: list[_Archive], extracted: list[Path], directory: Path, staging: Path
) -> list[InstalledPackage]:
    aside_root = staging / "replaced"
    aside_root.mkdir()
    installed_now: list[Path] = []
    moved_aside: list[tuple[Path, Path]] = []  # (aside location, original location)
    try:
        existing = list_installed(directory)
        for n, (archive, folder) in enumerate(zip(archives, extracted, strict=True)):
            target = directory / archive.top
            olds = [p.path for p in existing if (p.from_code, p.to_code) == archive.pair]
            if target.exists() and target not in olds:
                try:
                    occupant = load_package(target)
                except ModelError:
                    occupant = None  # a broken leftover: replace it
                if occupant is not None:
                    raise ModelError(
                        f"{archive.file}: its folder '{archive.top}' is already used by the "
                        f"installed {occupant.from_code}->{occupant.to_code} package"
                    )
                olds.append(target)
            for i, old in enumerate(olds):
                aside = aside_root / f"{n}-{i}"
                os.rename(old, aside)
                moved_aside.append((aside, old))
            os.rename(folder, target)
            installed_now.append(target)
    except BaseException as exc:
        for target in reversed(installed_now):
            shutil.rmtree(target, ignore_errors=True)
        for aside, original in reversed(moved_aside):
            with contextlib.suppress(OSError):
                os.rename(aside, original)
        if isinstance(exc, OSError):
            raise ModelError(f"{directory}: cannot install packages: {exc}") from None
        raise
    return [load_package(target) for target in installed_now]


# ---------------------------------------------------------------------------
# The package index (network)
# ---------------------------------------------------------------------------


def _network_error(reason: str) -> ModelError:
    reason = " ".join(str(reason).split())
    return ModelError(f"cannot reach the Argos package index ({reason}); {INDEX_HINT}")


def install_from_index(
    codes: list[str], directory: Path | str, to_code: str = "en"
) -> list[InstalledPackage]:
    """Download ``<code> -> to_code`` packages from the Argos index and install them.

    For ``zh`` the Traditional Chinese ``zt`` package is installed too when the
    index has one. The ONLY function in ``translators`` that opens connections.
    """
    # Imported here: argostranslate.settings creates XDG folders when imported.
    from argostranslate import package as argos_package
    from argostranslate import settings as argos_settings

    index = Path(argos_settings.local_package_index)
    before = index.stat().st_mtime_ns if index.exists() else None
    try:
        # argostranslate logs its URLError to a stdout handler and returns; keep stdout
        # clean (the CLI's stdout carries JSON lines) -- the failure is reported below.
        argos_log = logging.getLogger("argostranslate.utils")
        argos_log.disabled = True
        try:
            argos_package.update_package_index()
        finally:
            argos_log.disabled = False
    except Exception as exc:  # noqa: BLE001 - any failure here is "cannot reach"
        raise _network_error(f"{argos_settings.remote_package_index}: {exc}") from None
    after = index.stat().st_mtime_ns if index.exists() else None
    if after is None or after == before:
        raise _network_error(f"{argos_settings.remote_package_index}: download failed")
    try:
        available = argos_package.get_available_packages()
    except (OSError, ValueError) as exc:
        raise ModelError(f"{index}: cannot read the Argos package index: {exc}") from None

    wanted: list[tuple[str, bool]] = []  # (code, required)
    for code in codes:
        wanted.append((code, True))
        if code == "zh" and "zt" not in codes:
            wanted.append(("zt", False))
    chosen = []
    for code, required in wanted:
        matches = [
            p
            for p in available
            if p.from_code == code
            and p.to_code == to_code
            and getattr(p, "type", "translate") == "translate"
        ]
        if not matches:
            if required:
                raise ModelError(f"the Argos package index has no {code}->{to_code} package")
            continue
        chosen.append(max(matches, key=lambda p: _version_key(p.package_version)))

    files = []
    for pkg in chosen:
        try:
            files.append(Path(pkg.download()))
        except Exception as exc:  # noqa: BLE001 - argos raises bare Exception
            raise _network_error(f"{pkg.from_code}->{pkg.to_code}: {exc}") from None
    installed = install_files(files, Path(directory))
    for file in files:
        with contextlib.suppress(OSError):
            file.unlink()  # the download cache; the package is installed now
    return installed
