"""Session fixtures with real (random-weight) Argos packages. Load with
``pytest_plugins = ["tests.support.model_fixtures"]``.

``tiny_package_files``: a folder holding ``translate-de_en-1_0.argosmodel`` and
``translate-zh_en-1_0.argosmodel`` (built once per session, ~0.1 s each).
``installed_models_dir``: a packages dir with both installed through
``translators.packages.install_from_path`` (the same code path as real packages).
Treat both as read-only; copy them (``tmp_path``) to modify.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tiny_package import build_package


@pytest.fixture(scope="session")
def tiny_package_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("argos-files")
    build_package(folder, "de", "en")
    build_package(folder, "zh", "en")
    return folder


@pytest.fixture(scope="session")
def installed_models_dir(
    tmp_path_factory: pytest.TempPathFactory, tiny_package_files: Path
) -> Path:
    from translators.packages import install_from_path

    packages = tmp_path_factory.mktemp("argos-home") / "packages"
    install_from_path(tiny_package_files, packages)
    return packages
