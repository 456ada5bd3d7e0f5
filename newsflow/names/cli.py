"""`newsflow names check --glossary FILE INPUT.jsonl` (mounted by the main CLI as `names`).

Input: one JSON object per line, ``{"id", "lang", "source", "translation"}`` with lang de, zh,
zt or en (for en the translation is the text itself: either key may carry it), read by the
shared reader :mod:`newsflow.jsonl` (blank lines skipped, BOM dropped). Output: one JSON line per input record, in input order, on stdout.

The whole input is read and validated before anything is written: at the first bad line
(invalid JSON, not an object, a missing key, an unknown lang) the command prints
``error: FILE:LINE: ...`` on stderr and exits 2 with nothing on stdout, so a partial output is
never mistaken for a complete one. A bad glossary also exits 2 with ``error: <message>``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from newsflow.errors import GlossaryError
from newsflow.jsonl import JsonlError, parse_line, read_jsonl
from newsflow.names.check import check_names
from newsflow.names.glossary import load_glossary

LANGS = ("de", "zh", "zt", "en")

names_app = typer.Typer(
    help="Check and fix names in translations against a glossary.", no_args_is_help=True
)


# A bad line in the names-check input (message names file and line): the shared reader's error.
InputError = JsonlError


@names_app.callback()
def _names() -> None:
    """Check and fix names in translations against a glossary."""


@names_app.command("check")
def check_command(
    input_path: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="JSON Lines file ({id, lang, source, translation}); - for stdin",
        ),
    ],
    glossary: Annotated[Path, typer.Option("--glossary", help="Glossary YAML file.")],
    candidates: Annotated[
        bool,
        typer.Option(
            "--candidates", help="Add a 'candidates' key: names the glossary does not know."
        ),
    ] = False,
) -> None:
    """Report glossary names per record (ok / wrong / missing) and the corrected translation."""
    try:
        names_glossary = load_glossary(glossary)
        records = read_records(input_path)
    except (GlossaryError, InputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    out = sys.stdout
    for record in records:
        report = check_names(
            names_glossary, record["lang"], record["source"], record["translation"]
        )
        out.write(json_line(report.to_json(record["id"], with_candidates=candidates)) + "\n")
    out.flush()


def json_line(data: dict[str, Any]) -> str:
    """One JSON line, non-ASCII kept readable; a lone surrogate (possible from a JSON escape
    in the input) cannot be written as UTF-8, so such a line is written with ASCII escapes."""
    line = json.dumps(data, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(data, ensure_ascii=True)
    return line


def read_records(input_path: str) -> list[dict[str, Any]]:
    """All records of the input, validated by the shared reader (:mod:`newsflow.jsonl`);
    InputError at the first bad line."""
    return [_record(data) for data in read_jsonl(input_path, **RULES)]


def _check_text_keys(data: dict) -> str | None:
    if data["lang"] == "en":
        if "source" not in data and "translation" not in data:
            return "key 'translation' is missing"
        return None
    for key in ("source", "translation"):
        if key not in data:
            return f"key '{key}' is missing"
    return None


RULES = {
    "required": ("id", "lang"),
    "strings": ("source", "translation"),
    "choices": {"lang": LANGS},
    "check": _check_text_keys,
}


def parse_record(line: str, where: str) -> dict[str, Any]:
    """One input line as a record (``where``: FILE:LINE for the error message)."""
    return _record(parse_line(line, where, **RULES))


def _record(data: dict) -> dict[str, Any]:
    # for en the text is its own source: either key may carry it
    translation = data.get("translation", data.get("source"))
    source = data.get("source", translation)
    return {"id": data["id"], "lang": data["lang"], "source": source, "translation": translation}
