"""The `names check` command: JSON lines in, one JSON line per record out, in order."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsflow.names.cli import names_app

DATA = Path(__file__).parent / "data" / "names"
GLOSSARY = str(DATA / "glossary.yaml")

RECORDS = [
    {
        "id": "a1",
        "lang": "de",
        "source": "Lawrow traf Wang Yi.",
        "translation": "Lawrow met Wang Yi.",
    },
    {"id": 2, "lang": "zh", "source": "王毅会见拉夫罗夫", "translation": "King Yi met Lafuluofu"},
    {"id": "x", "lang": "de", "source": "Der Bericht", "translation": "The report"},
    {"id": "e", "lang": "en", "translation": "Lawrow met Wangyi"},
    {"id": "t", "lang": "zt", "source": "拉夫羅夫說", "translation": "Lavrov said", "extra": 1},
]


def write_jsonl(path: Path, records) -> str:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
        + "\n",
        encoding="utf-8",
    )
    return str(path)


def run(*args, stdin=None):
    return CliRunner().invoke(names_app, ["check", *args], input=stdin)


def test_one_line_per_record_in_order_with_exact_keys(tmp_path):
    result = run("--glossary", GLOSSARY, write_jsonl(tmp_path / "in.jsonl", RECORDS))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a1", 2, "x", "e", "t"]
    for line in lines:
        assert list(line) == ["id", "findings", "corrected"]
        for finding in line["findings"]:
            assert list(finding) == ["entity", "status", "found", "expected"]
    assert lines[0]["corrected"] == "Lavrov met Wang Yi."
    assert lines[0]["findings"] == [
        {"entity": "lavrov", "status": "wrong", "found": ["Lawrow"], "expected": "Sergei Lavrov"},
        {"entity": "wang_yi", "status": "ok", "found": ["Wang Yi"], "expected": "Wang Yi"},
    ]
    assert lines[1]["corrected"] == "Wang Yi met Lavrov"
    assert lines[2] == {"id": "x", "findings": [], "corrected": "The report"}
    assert lines[3]["corrected"] == "Lavrov met Wang Yi"
    assert lines[4]["findings"][0]["status"] == "ok"


def test_output_keeps_non_ascii_readable(tmp_path):
    records = [{"id": 1, "lang": "zh", "source": "拉夫罗夫说", "translation": "拉夫罗夫 said"}]
    result = run("--glossary", GLOSSARY, write_jsonl(tmp_path / "in.jsonl", records))
    assert '"found": ["拉夫罗夫"]' in result.stdout


def test_candidates_flag_adds_a_fourth_key(tmp_path):
    records = [{"id": 1, "lang": "zh", "source": "黄山市副市长单建国表示", "translation": "x"}]
    result = run(
        "--glossary", GLOSSARY, "--candidates", write_jsonl(tmp_path / "in.jsonl", records)
    )
    line = json.loads(result.stdout)
    assert list(line) == ["id", "findings", "corrected", "candidates"]
    assert line["candidates"][0]["suggested_en"] == "Shan Jianguo"


def test_reads_stdin(tmp_path):
    stdin = json.dumps(RECORDS[0], ensure_ascii=False) + "\n"
    result = run("--glossary", GLOSSARY, "-", stdin=stdin)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["corrected"] == "Lavrov met Wang Yi."


def test_blank_lines_are_skipped(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [RECORDS[0], "", "   ", RECORDS[2]])
    result = run("--glossary", GLOSSARY, path)
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["a1", "x"]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"lang": "de", "source": "a", "translation": "b"}', "key 'id' is missing"),
        ('{"id": 1, "source": "a", "translation": "b"}', "key 'lang' is missing"),
        ('{"id": 1, "lang": "fr", "source": "a", "translation": "b"}', "key 'lang' must be one of"),
        ('{"id": 1, "lang": "de", "translation": "b"}', "key 'source' is missing"),
        ('{"id": 1, "lang": "de", "source": "a"}', "key 'translation' is missing"),
        (
            '{"id": 1, "lang": "de", "source": 5, "translation": "b"}',
            "key 'source' must be a string",
        ),
    ],
)
def test_bad_input_line_names_file_and_line_and_exits_2(tmp_path, bad_line, message):
    path = write_jsonl(tmp_path / "in.jsonl", [RECORDS[0], bad_line, RECORDS[2]])
    result = run("--glossary", GLOSSARY, path)
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing is written when the input is bad
    assert f"error: {path}:2: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_bad_glossary_is_one_error_line_and_exit_2(tmp_path):
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text("entries:\n  - id: lavrov\n    en: []\n", encoding="utf-8")
    path = write_jsonl(tmp_path / "in.jsonl", RECORDS[:1])
    result = run("--glossary", str(glossary), path)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {glossary}:3: entry 'lavrov': key 'en' must be a non-empty list of strings"
    )
    assert result.stdout == ""


def test_missing_input_file_exits_2(tmp_path):
    result = run("--glossary", GLOSSARY, str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "error:" in result.stderr and "nope.jsonl" in result.stderr


def test_missing_glossary_option_is_a_usage_error(tmp_path):
    result = run(write_jsonl(tmp_path / "in.jsonl", RECORDS[:1]))
    assert result.exit_code == 2


def test_lone_surrogate_in_input_does_not_crash(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": 1, "lang": "de", "source": "Lawrow", "translation": "Lawrow \\ud800"}\n'
    )
    result = run("--glossary", GLOSSARY, str(path))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["corrected"] == "Lavrov \ud800"
