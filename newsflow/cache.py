"""Where newsflow keeps its per-machine caches (files derived from installed packages).

One rule for every cache: ``$NEWSFLOW_CACHE_DIR/<name>`` when the variable is set, else
``<temp dir>/newsflow-<uid>/<name>``. The default is per user, not a shared file in the temp dir
(jieba's own default), so one user's file is never read, or left unwritable, by another. The
folder is not created here: a cache that cannot be written must cost speed, never a run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_folder(name: str) -> Path:
    """The folder of one cache (``jieba``, ``langdetect``)."""
    base = os.environ.get("NEWSFLOW_CACHE_DIR")
    if base:
        return Path(base) / name
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"newsflow-{uid}" / name
