"""What is installed: Argos Translate package folders, read and chosen.

A package is a folder of the packages dir holding ``metadata.json``,
``model/model.bin`` (CTranslate2) and a tokenizer (``sentencepiece.model`` or
``bpe.model``). Several folders may hold the same language pair (an upgrade
under a new folder name, a copy); :func:`best_by_pair` and :func:`find_package`
pick the HIGHEST ``package_version`` (PEP 440 order; a version that does not
parse ranks below every one that does; ties go to the folder name), and so does
the run (``newsflow.pipeline.route_for``). Installing is
:mod:`translators.packages`; this module never imports the engine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsflow.errors import ModelError

log = logging.getLogger(__name__)

TOKENIZER_FILES = {"sentencepiece.model": "sentencepiece", "bpe.model": "bpe"}
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


def parse_metadata(raw: bytes, origin: str) -> dict:
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
    meta = parse_metadata(raw, str(folder))
    if not (folder / "model" / "model.bin").is_file():
        raise ModelError(f"{folder}: no model/model.bin")
    tokenizer = next(
        (kind for name, kind in TOKENIZER_FILES.items() if (folder / name).is_file()), None
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


def version_key(version: str) -> tuple:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version), version)
    except InvalidVersion:
        return (0, None, version)


def find_package(directory: Path, from_code: str, to_code: str) -> InstalledPackage | None:
    """The installed package for ``from_code -> to_code`` (highest version if several)."""
    return best_by_pair(list_installed(directory)).get((from_code, to_code))


def best_by_pair(packages: Iterable[InstalledPackage]) -> dict[tuple[str, str], InstalledPackage]:
    """(from_code, to_code) -> the package of that pair with the highest version."""
    best: dict[tuple[str, str], InstalledPackage] = {}
    for p in packages:
        pair = (p.from_code, p.to_code)
        if pair not in best or _rank(p) > _rank(best[pair]):
            best[pair] = p
    return best


def _rank(p: InstalledPackage) -> tuple:
    return (version_key(p.package_version), p.path.name)
