"""tests/support/services.py: a missing service skips locally and fails under CI."""

import pytest

from tests.support.services import in_ci, require, require_import


@pytest.mark.parametrize("value", ["true", "1", "TRUE", "yes"])
def test_missing_service_fails_under_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="no PostgreSQL server: initdb not found"):
        require("no PostgreSQL server: initdb not found")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_missing_service_skips_locally_saying_why(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        require("chromium is not installed")


def test_require_import(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require_import("json", "stdlib").dumps(1) == "1"
    with pytest.raises(pytest.fail.Exception, match="no_such_module_here is not importable.*install it"):
        require_import("no_such_module_here", "install it")
