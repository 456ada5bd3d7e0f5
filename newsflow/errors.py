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
