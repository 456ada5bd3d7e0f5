"""Tests that need a service this machine may lack (PostgreSQL, a Prefect server, Chromium).

Call :func:`require` with the reason when the service is missing. Under CI (``CI=true``,
as ``.ci/run`` sets it) the test FAILS with that reason: a green CI run must mean the
behaviour was checked, not that the server failed to install. Locally the test is skipped,
saying why (``pytest -rs`` lists the reasons).
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """``CI`` set to a true value (``true``/``1``/``yes``), as CI systems and ``.ci/run`` do."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def require(reason: str) -> NoReturn:
    """The test cannot run here because of ``reason``: fail under CI, skip otherwise."""
    if in_ci():
        pytest.fail(f"needed under CI (CI=true): {reason}", pytrace=False)
    pytest.skip(reason)


def require_import(module: str, hint: str):
    """``pytest.importorskip`` that fails under CI: the module, or :func:`require`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        require(f"{module} is not importable ({exc}); {hint}")
