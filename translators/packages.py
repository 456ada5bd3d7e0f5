"""Argos Translate packages (.argosmodel): check, validate and install them.

What is installed, and which version is used, is :mod:`translators.installed`
(re-exported here: ``from translators.packages import list_installed`` keeps
working).

argostranslate's own ``install_from_path``/``uninstall`` import
``argostranslate.translate`` (stanza, spaCy) after extracting, so in this lean
install they fail with the files already in place; and they extract straight
into the packages dir, so a zip without one top-level folder spills its files
there. This module installs packages itself:

* every archive is checked before anything is written (a real zip, exactly one
  top-level folder with metadata.json, model/model.bin and a tokenizer model,
  no absolute paths or ``..``, at most :data:`MAX_MEMBERS` members and
  :data:`MAX_UNCOMPRESSED_BYTES` uncompressed: a zip bomb is refused before a
  byte is extracted; zipfile stops every member at its declared size, so the
  declared sizes bound what is written);
* it is extracted into a temporary folder in the PARENT of the packages dir (same
  file system, and never visible as a half package inside it) and VALIDATED
  there: the tokenizer and the CTranslate2 model are loaded the way a run loads
  them (:class:`translators.engine.Engine`) and a probe sentence is translated
  (:func:`probe_package`). A package that fails is refused with one line naming
  the file and the reason, and nothing in the packages dir changes;
* only then is it renamed into place: an installed package for the same pair
  (the previous version) is moved aside first and deleted only after the new one
  is in, and moved back if anything fails.

Only :func:`install_from_index` opens network connections.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from newsflow.errors import ModelError
from translators.installed import (
    TOKENIZER_FILES,
    InstalledPackage,
    best_by_pair,
    find_package,
    list_installed,
    load_package,
    packages_dir,
    parse_metadata,
    scan_installed,
    version_key,
)

__all__ = [
    "InstalledPackage", "best_by_pair", "find_package", "list_installed", "load_package", "packages_dir",
    "scan_installed", "inspect_archive", "install_from_path", "install_files", "install_from_index",
    "probe_package", "check_installed", "MAX_MEMBERS", "MAX_UNCOMPRESSED_BYTES",
]

log = logging.getLogger(__name__)

INDEX_HINT = "install from files instead: newsflow models install --from PATH"

# Real packages: 100-400 MB uncompressed in 10-60 members (with stanza/ folders).
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
MAX_MEMBERS = 5000

# One sentence per source language, translated by every new package before it
# is installed (any other language: the English one; the output is not judged,
# only that the model loads, decodes and yields text).
PROBES = {
    "de": "Die Regierung hat am Montag neue Regeln beschlossen.",
    "zh": "政府星期一宣布了新的规定。",
    "zt": "政府星期一宣布了新的規定。",
}
_DEFAULT_PROBE = "The government announced new rules on Monday."


def probe_package(package: InstalledPackage) -> str | None:
    """Why ``package`` does not work (None: it does): its tokenizer and
    CTranslate2 model are loaded as a run loads them and a probe sentence is
    translated (one thread, beam 1, at most 64 tokens: ~0.1 s for a tiny model,
    well under a second for a real one). The reason names files relative to the
    package folder."""
    from translators.engine import Engine, EngineOptions  # the engine imports us not back

    probe = PROBES.get(package.from_code, _DEFAULT_PROBE)
    options = EngineOptions(beam_size=1, inter_threads=1, intra_threads=1, device="cpu",
                            max_decoding_length=64)
    try:
        engine = Engine(package, options)
        [result] = engine.translate_sentences([probe])
    except ModelError as exc:
        return _relative(str(exc), package.path)
    except Exception as exc:  # noqa: BLE001 - whatever a broken model raises is the reason
        return _relative(f"translating a probe sentence failed: {type(exc).__name__}: {exc}", package.path)
    if not result.text.strip():
        return f"the probe sentence {probe!r} translated to nothing"
    return None


def _relative(reason: str, folder: Path) -> str:
    reason = " ".join(reason.split())
    return reason.replace(f"{folder}/", "").replace(str(folder), ".")


def check_installed(packages: list[InstalledPackage]) -> dict[Path, str]:
    """Folder -> why its model no longer loads, for each package that fails :func:`probe_package`."""
    out = {}
    for package in packages:
        reason = probe_package(package)
        if reason:
            out[package.path] = reason
    return out


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
            _check_limits(file, infos)
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
                if top == "metadata.json" or top in TOKENIZER_FILES or top == "model":
                    raise ModelError(f"{file}: files are not inside one top-level folder")
                raise ModelError(f"{file}: no {top}/metadata.json")
            if f"{top}/model/model.bin" not in names:
                raise ModelError(f"{file}: no {top}/model/model.bin")
            if not any(f"{top}/{name}" in names for name in TOKENIZER_FILES):
                raise ModelError(f"{file}: no {top}/sentencepiece.model or {top}/bpe.model")
            metadata = parse_metadata(zf.read(f"{top}/metadata.json"), str(file))
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{file}: damaged zip archive ({exc})") from None
    except OSError as exc:
        raise ModelError(f"{file}: cannot read: {exc}") from None
    return _Archive(file=file, top=top, metadata=metadata)


def _check_limits(file: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip bomb before extracting: too many members, or too many bytes
    once uncompressed (the declared sizes; zipfile stops each member there)."""
    if len(infos) > MAX_MEMBERS:
        raise ModelError(f"{file}: refused: {len(infos)} members in the archive (at most {MAX_MEMBERS})")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ModelError(f"{file}: refused: {total / 1024**2:,.0f} MB uncompressed "
                         f"(at most {MAX_UNCOMPRESSED_BYTES / 1024**2:,.0f} MB)")


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

    All or nothing: every archive is checked first, then all are extracted and
    validated (:func:`probe_package`), then they are swapped in; if any step
    fails, nothing changes in ``directory`` (installed packages are put back)
    and :class:`ModelError` names the file. An installed package for the same
    language pair (any version) is replaced, only once the new one works.
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
        package = load_package(folder)  # the extracted tree must be a valid package too
    except ModelError as exc:
        raise ModelError(f"{archive.file}: extracted package is invalid: {exc}") from None
    reason = probe_package(package)
    if reason:
        raise ModelError(f"{archive.file}: refused, the package does not work: {reason}; nothing was replaced")
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


@contextlib.contextmanager
def _quiet_argos() -> Iterator[None]:
    """argostranslate logs its URL errors to a stdout handler and returns; keep
    stdout clean (the CLI's stdout carries JSON lines): failures are reported here."""
    argos_log = logging.getLogger("argostranslate.utils")
    argos_log.disabled = True
    try:
        yield
    finally:
        argos_log.disabled = False


def install_from_index(
    codes: list[str], directory: Path | str, to_code: str = "en"
) -> list[InstalledPackage]:
    """Download ``<code> -> to_code`` packages from the Argos index and install them
    (validated like files, :func:`install_files`).

    The index is ``$ARGOS_PACKAGE_INDEX`` + ``index.json`` (argostranslate reads
    it when first imported; the value must end with ``/``). For ``zh`` the
    Traditional Chinese ``zt`` package is installed too when the index has one.
    argostranslate keeps downloads as ``<downloads>/translate-<from>_<to>.argosmodel``
    (no version in the name) and reuses such a file; so a cached file is removed
    before downloading and every download is removed afterwards, whether it was
    installed or refused (a truncated or older file is never installed later).
    A download cut short (argostranslate tries each link four times) or a package
    that fails validation is refused in one line naming its URL; the installed
    version stays. The ONLY function in ``translators`` that opens connections.
    """
    # Imported here: argostranslate.settings creates XDG folders when imported.
    from argostranslate import package as argos_package
    from argostranslate import settings as argos_settings

    index = Path(argos_settings.local_package_index)
    before = index.stat().st_mtime_ns if index.exists() else None
    try:
        with _quiet_argos():
            argos_package.update_package_index()
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
        chosen.append(max(matches, key=lambda p: version_key(p.package_version)))

    files: list[Path] = []
    origin: dict[Path, str] = {}  # downloaded file -> where it came from, for messages
    try:
        for pkg in chosen:
            cached = Path(argos_settings.downloads_dir) / (argos_package.argospm_package_name(pkg) + ".argosmodel")
            with contextlib.suppress(OSError):
                cached.unlink()
            shown = f"{pkg.from_code}->{pkg.to_code} {pkg.package_version} ({', '.join(pkg.links) or 'no link'})"
            try:
                with _quiet_argos():
                    file = Path(pkg.download())
            except Exception as exc:  # noqa: BLE001 - argos raises bare Exception
                raise ModelError(f"{shown}: download failed (cut short or refused: {' '.join(str(exc).split())}); "
                                 f"nothing was replaced; {INDEX_HINT}") from None
            files.append(file)
            origin[file] = shown
        try:
            return install_files(files, Path(directory))
        except ModelError as exc:
            message = str(exc)
            for file, shown in origin.items():
                message = message.replace(f"{file}:", f"{shown}:", 1)
            raise ModelError(message) from None
    finally:
        for file in files:
            with contextlib.suppress(OSError):
                file.unlink()  # argostranslate's download cache (see above)
