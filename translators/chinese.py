"""Traditional -> Simplified Chinese (pure, OpenCC ``t2s``).

Whether ``zt`` text goes through a ``zt`` package or is converted and sent to the
``zh`` package is the pipeline's decision; this only provides the conversion.
"""

from __future__ import annotations

import functools
import threading

_lock = threading.Lock()


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` with Traditional characters converted to Simplified (others unchanged)."""
    if not text:
        return text
    converter = _converter()
    with _lock:  # the OpenCC object is not documented as thread-safe
        return converter.convert(text)
