"""Errors that reach the user as one clear line (no traceback).

Every expected failure (bad config, bad glossary, bad model file, unreachable
source) raises a subclass of :class:`NewsflowError`; the CLI prints
``error: <message>`` and exits non-zero. Anything else is a bug and keeps its
traceback.
"""


class NewsflowError(Exception):
    """An expected failure with a message fit for the user."""


class ConfigError(NewsflowError):
    """config.yaml is missing, unreadable or invalid (message names file and key)."""


class GlossaryError(NewsflowError):
    """The glossary file is invalid (message names file, line and key)."""


class ModelError(NewsflowError):
    """An Argos package is missing, malformed or cannot be installed."""


class SourceError(NewsflowError):
    """A news source could not be fetched or parsed."""


class TransientSourceError(SourceError):
    """A source failure that may pass if tried again later: a timeout, a refused or
    reset connection, HTTP 5xx, 408 or 429. ``retry_after`` is the wait in seconds the
    server asked for (``Retry-After``), else None. Permanent failures (a missing file,
    HTTP 404/410, a feed that does not parse) are plain :class:`SourceError` and are
    not retried."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self):  # keep retry_after across pickling (Dask workers, Prefect states)
        return (type(self), (str(self), self.retry_after))
