"""`newsflow quality check` contract, and the one JSONL reader every JSONL command shares."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.jsonl import JsonlError, iter_records, read_jsonl
from tests.conftest import REPO, write_config

runner = CliRunner()
GLOSSARY = str(REPO / "glossary.yaml")

PAIRS = [
    {"id": "ok", "lang": "de", "source": "Scholz trifft Macron in Paris", "translation": "Scholz meets Macron in Paris"},
    {"id": 2, "lang": "zh", "source": "外交部发言人表示，谈判将继续进行。",
     "translation": "A foreign ministry spokesperson said the talks would continue continue continue continue."},
    {"id": "zt", "lang": "zt", "source": "台積電第三季營收創新高。", "translation": "台積電 revenue hit a record high."},
    {"id": None, "lang": "de", "source": "Die Polizei nahm zwei Verdächtige fest.", "translation": ""},
]


def write(path, lines):
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n"
                            for x in lines), encoding="utf-8")
    return path


def test_quality_check_contract(tmp_path):
    src = write(tmp_path / "pairs.jsonl", PAIRS)
    result = runner.invoke(app, ["quality", "check", "--jsonl", str(src)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [list(o) for o in out] == [["id", "flags", "needs_review"]] * 4
    assert [o["id"] for o in out] == ["ok", 2, "zt", None]  # in order, ids passed through
    assert out[0] == {"id": "ok", "flags": [], "needs_review": False}
    assert [[f["kind"] for f in o["flags"]] for o in out[1:]] == [["repetition"], ["source-script"], ["empty"]]
    assert all(o["needs_review"] for o in out[1:])
    assert all(set(f) == {"kind", "detail"} for o in out for f in o["flags"])


def test_quality_check_reads_stdin():
    text = "\ufeff" + json.dumps(PAIRS[0]) + "\n\n"
    result = runner.invoke(app, ["quality", "check", "--jsonl", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": "ok", "flags": [], "needs_review": False}


@pytest.mark.parametrize(("line", "message"), [
    ("{oops", "invalid JSON"),
    ("[1, 2]", "expected a JSON object, got array"),
    ('{"lang": "de", "source": "a", "translation": "b"}', "key 'id' is missing"),
    ('{"id": 1, "source": "a", "translation": "b"}', "key 'lang' is missing"),
    ('{"id": 1, "lang": "de", "translation": "b"}', "key 'source' is missing"),
    ('{"id": 1, "lang": "de", "source": "a"}', "key 'translation' is missing"),
    ('{"id": 1, "lang": "fr", "source": "a", "translation": "b"}', "key 'lang' must be one of de, zh, zt"),
    ('{"id": 1, "lang": "de", "source": "a", "translation": null}', "key 'translation' must be a string, got null"),
])
def test_quality_check_bad_line_writes_nothing(tmp_path, line, message):
    src = write(tmp_path / "pairs.jsonl", [PAIRS[0], line, PAIRS[1]])
    result = runner.invoke(app, ["quality", "check", "--jsonl", str(src)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"error: {src}:2: {message}" or result.stderr.startswith(
        f"error: {src}:2: {message}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_or_undecodable_file(tmp_path):
    result = runner.invoke(app, ["quality", "check", "--jsonl", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "nope.jsonl: cannot read input" in result.stderr
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"id": 1, "text": "Stra\xdfe"}\n'.encode("latin-1"))
    result = runner.invoke(app, ["detect", "--jsonl", str(bad)])
    assert result.exit_code == 2 and f"error: {bad}: not UTF-8 text" in result.stderr


# --- one reader, one set of rules, for every JSONL command ------------------------


def test_reader_rules():
    lines = ["\ufeff" + json.dumps({"id": 1, "text": "a"}), "", "   ", json.dumps({"id": 2, "text": "b"})]
    assert [n for n, _ in iter_records(lines, "f", required=("id",))] == [1, 4]
    with pytest.raises(JsonlError, match=r"^f:5: key 'text' is missing$"):
        list(iter_records([*lines, '{"id": 3}'], "f", required=("id", "text")))
    with pytest.raises(JsonlError, match=r"^f:1: key 'text' must be a string, got number$"):
        list(iter_records(['{"text": 1}'], "f", strings=("text",)))


def test_read_jsonl_validates_everything_first(tmp_path):
    path = write(tmp_path / "x.jsonl", [{"id": 1, "text": "a"}, "{bad"])
    with pytest.raises(JsonlError, match=r"x\.jsonl:2: invalid JSON"):
        read_jsonl(path, required=("id", "text"))


COMMANDS = {
    "detect": lambda src, cfg: ["detect", "--jsonl", str(src)],
    "translate": lambda src, cfg: ["--config", str(cfg), "translate", "--from", "de", "--jsonl", str(src)],
    "names check": lambda src, cfg: ["names", "check", "--glossary", GLOSSARY, str(src)],
    "quality check": lambda src, cfg: ["quality", "check", "--jsonl", str(src)],
}
RECORD = {"id": "a", "lang": "de", "text": "Lawrow traf Wang Yi.", "source": "Lawrow traf Wang Yi.",
          "translation": "Lavrov met Wang Yi."}


@pytest.fixture
def models_config(tmp_path, tiny_package_files):
    cfg = write_config(tmp_path, tmp_path / "models")
    assert runner.invoke(app, ["--config", str(cfg), "models", "install", "--from",
                               str(tiny_package_files)]).exit_code == 0
    return cfg


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_jsonl_command_shares_the_rules(tmp_path, models_config, command):
    # BOM and blank lines are fine: two records, two output lines
    good = tmp_path / "good.jsonl"
    good.write_text("\ufeff" + json.dumps(RECORD) + "\n\n  \n" + json.dumps({**RECORD, "id": "b"}) + "\n",
                    encoding="utf-8")
    result = runner.invoke(app, COMMANDS[command](good, models_config))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "b"]
    # a bad line: one error line naming file and line, nothing written, exit 2
    for bad_line, message in [("{oops", "invalid JSON"), ('{"lang": "de"}', "key 'id' is missing")]:
        bad = write(tmp_path / "bad.jsonl", [RECORD, "", bad_line])
        result = runner.invoke(app, COMMANDS[command](bad, models_config))
        assert result.exit_code == 2, (command, result.output)
        assert result.stdout == ""
        assert result.stderr.startswith(f"error: {bad}:3: {message}"), (command, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
