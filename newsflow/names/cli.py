"""`newsflow names check --glossary FILE INPUT.jsonl` (mounted by the main CLI as `names`).

Input: one JSON object per line, ``{"id", "lang", "source", "translation"}`` with lang de, zh,
zt or en (for en the translation is the text itself: either key may carry it). Blank lines are
skipped. Output: one JSON line per input record, in input order, on stdout.

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

from newsflow.errors import GlossaryError, NewsflowError
from newsflow.names.check import check_names
from newsflow.names.glossary import load_glossary

LANGS = ("de", "zh", "zt", "en")

names_app = typer.Typer(
    help="Check and fix names in translations against a glossary.", no_args_is_help=True
)


class InputError(NewsflowError):
    """A bad line in the names-check input (message names file and line)."""


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
    """All records of the input, validated; InputError at the first bad line."""
    name = "<stdin>" if input_path == "-" else input_path
    try:
        if input_path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = Path(input_path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read input: {exc.strerror or exc}") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        records.append(parse_record(line, f"{name}:{number}"))
    return records


def parse_record(line: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if "id" not in data:
        raise InputError(f"{where}: key 'id' is missing")
    if "lang" not in data:
        raise InputError(f"{where}: key 'lang' is missing")
    lang = data["lang"]
    if not isinstance(lang, str) or lang not in LANGS:
        raise InputError(f"{where}: key 'lang' must be one of {', '.join(LANGS)} (got {lang!r})")
    if lang == "en" and "source" not in data and "translation" not in data:
        raise InputError(f"{where}: key 'translation' is missing")
    if lang != "en":
        for key in ("source", "translation"):
            if key not in data:
                raise InputError(f"{where}: key '{key}' is missing")
    for key in ("source", "translation"):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{where}: key '{key}' must be a string")
    # for en the text is its own source: either key may carry it
    translation = data.get("translation", data.get("source"))
    source = data.get("source", translation)
    return {"id": data["id"], "lang": lang, "source": source, "translation": translation}
