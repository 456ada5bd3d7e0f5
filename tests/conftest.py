"""Shared test set-up: no network but loopback, quiet Prefect, temp homes."""

import os
import tempfile

# Must be set before argostranslate / prefect are imported anywhere: both read
# their settings at import time (argostranslate also creates XDG folders).
_HOME = tempfile.mkdtemp(prefix="newsflow-tests-")
os.environ.setdefault("XDG_DATA_HOME", os.path.join(_HOME, "xdg-data"))
os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(_HOME, "xdg-config"))
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(_HOME, "xdg-cache"))
os.environ.setdefault("ARGOS_PACKAGES_DIR", os.path.join(_HOME, "argos-packages"))
os.environ.setdefault("PREFECT_HOME", os.path.join(_HOME, "prefect"))
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
