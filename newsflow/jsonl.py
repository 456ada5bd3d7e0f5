"""The ONE JSON Lines reader of the command line (``detect``, ``translate``, ``names check``,
``quality check``): one set of rules, one set of messages.

Rules:

- the input is UTF-8 (a byte-order mark at the start is dropped); ``-`` reads stdin;
- one JSON object per line; lines holding only whitespace carry no record and are skipped,
  but count in line numbers (so a trailing empty line is fine);
- the first bad line raises :class:`JsonlError` ``FILE:LINE: what is wrong``: invalid JSON,
  not an object, a required key missing, a key of the wrong type, a value not allowed;
- :func:`read_jsonl` validates the WHOLE input before it returns, so a command writes nothing
  at all for a bad input (the CLI turns the error into ``error: ...`` and exit status 2).
  :func:`iter_records` is the lazy form (records before a bad line come out first).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from newsflow.errors import NewsflowError

STDIN = "<stdin>"

# A per-record check: returns an error message (without FILE:LINE) or None.
Check = Callable[[dict], str | None]


class JsonlError(NewsflowError):
    """A bad JSONL input; the message names the file and line."""


def origin_of(path: str | Path) -> str:
    return STDIN if str(path) == "-" else str(path)


def read_lines(path: str | Path) -> list[str]:
    """The input's lines (stdin for ``-``), BOM dropped; JsonlError if it cannot be read."""
    name = origin_of(path)
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        else:
            data = Path(path).read_bytes()
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise JsonlError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise JsonlError(f"{name}: cannot read input: {exc.strerror or exc}") from None
    return text.removeprefix("\ufeff").splitlines()


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def parse_line(
    line: str,
    where: str,
    *,
    required: Sequence[str] = (),
    strings: Sequence[str] = (),
    choices: Mapping[str, Sequence[Any]] | None = None,
    check: Check | None = None,
) -> dict:
    """One line as a dict, validated; JsonlError ``where: ...`` otherwise.

    ``required``: keys that must be present; ``strings``: keys that must be strings when
    present (null included: a missing text is not an empty one); ``choices``: allowed values
    per key (checked when present); ``check``: any further rule."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise JsonlError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError as exc:  # e.g. a number too large to convert
        raise JsonlError(f"{where}: invalid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise JsonlError(f"{where}: expected a JSON object, got {json_type(record)}")
    for key in required:
        if key not in record:
            raise JsonlError(f"{where}: key '{key}' is missing")
    for key in strings:
        if key in record and not isinstance(record[key], str):
            raise JsonlError(f"{where}: key '{key}' must be a string, got {json_type(record[key])}")
    for key, allowed in (choices or {}).items():
        if key in record and record[key] not in allowed:
            raise JsonlError(f"{where}: key '{key}' must be one of {', '.join(map(str, allowed))} "
                             f"(got {json.dumps(record[key], ensure_ascii=False)})")
    if check is not None:
        problem = check(record)
        if problem:
            raise JsonlError(f"{where}: {problem}")
    return record


def iter_records(lines: Iterable[str], origin: str = STDIN, **rules: Any) -> Iterator[tuple[int, dict]]:
    """(line number, record) per non-blank line, lazily; rules as :func:`parse_line`."""
    for lineno, line in enumerate(lines, 1):
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        yield lineno, parse_line(line, f"{origin}:{lineno}", **rules)


def read_jsonl(path: str | Path, **rules: Any) -> list[dict]:
    """Every record of the file (``-``: stdin), all validated before this returns."""
    return [record for _, record in iter_records(read_lines(path), origin_of(path), **rules)]
