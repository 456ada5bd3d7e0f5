"""The `newsflow` command line: contracts of detect/translate/models, errors, docs."""

import json

import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from tests.conftest import REPO, write_config

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def test_every_command_is_documented_in_readme():
    readme = (REPO / "README.md").read_text()
    commands = []
    for command in app.registered_commands:
        commands.append(command.name or command.callback.__name__)
    for group in app.registered_groups:
        for sub in group.typer_instance.registered_commands:
            commands.append(f"{group.name} {sub.name or sub.callback.__name__}")
    assert "names check" in commands and "models install" in commands
    for name in commands:
        assert f"newsflow {name}" in readme, f"README does not document `newsflow {name}`"


@pytest.mark.parametrize("args", [[], ["run"], ["detect"], ["translate"], ["models", "list"],
                                  ["models", "install"], ["names", "check"]])
def test_help_on_each_command(args):
    result = invoke(*args, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


def test_detect_contract(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [{"id": 1, "text": "Der russische Außenminister traf seinen chinesischen Amtskollegen."},
             {"id": "b", "text": "王毅与拉夫罗夫在安徽屯溪举行会谈。"},
             {"id": "c", "text": "The ministers met in Tunxi on Tuesday."},
             {"id": "d", "text": ""}]
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    result = invoke("detect", "--jsonl", str(src))
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [list(o) for o in out] == [["id", "lang", "confidence"]] * 4
    assert [(o["id"], o["lang"]) for o in out] == [(1, "de"), ("b", "zh"), ("c", "en"), ("d", "und")]


def test_detect_bad_line_is_one_line_error(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "Hallo Welt"}\n{oops\n')
    result = runner.invoke(app, ["detect", "--jsonl", str(src)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {src}:2: invalid JSON")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_config_error_is_one_line(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("translation:\n  beam_sise: 2\n")
    result = runner.invoke(app, ["--config", str(cfg), "models", "list"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {cfg}:2: key 'translation.beam_sise': unknown key"


def test_models_install_from_and_translate(tmp_path, tiny_package_files):
    models = tmp_path / "models"
    cfg = write_config(tmp_path, models)
    result = invoke("--config", str(cfg), "models", "install", "--from", str(tiny_package_files))
    assert result.exit_code == 0, result.output
    listed = invoke("--config", str(cfg), "models", "list").stdout
    assert "de -> en" in listed and "zh -> en" in listed

    src = tmp_path / "de.jsonl"
    src.write_text(json.dumps({"id": "x", "text": "Lawrow traf Wang Yi in Tunxi.\n\nDas Treffen dauerte zwei Stunden."})
                   + "\n" + json.dumps({"id": "y", "text": "Die Außenminister sprachen über Handel."}) + "\n")
    result = invoke("--config", str(cfg), "translate", "--from", "de", "--jsonl", str(src))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["x", "y"]
    assert [list(o) for o in out] == [["id", "translation"]] * 2
    assert out[0]["translation"].count("\n\n") == 1  # paragraphs kept
    # the second call is served from the store's sentence cache: not one model call
    engine = _engine_for(cfg, "de")
    calls = engine.model_calls
    assert calls >= 1 and engine.sentences_decoded >= 3
    again = invoke("--config", str(cfg), "translate", "--from", "de", "--jsonl", str(src))
    assert again.stdout == result.stdout
    assert engine.model_calls == calls


def _engine_for(cfg, lang):
    """The engine `newsflow translate` used in this process (get_engine shares it)."""
    from newsflow.config import load_settings
    from translators.engine import EngineOptions, get_engine
    from translators.packages import find_package

    settings = load_settings(cfg)
    return get_engine(find_package(settings.models_dir, lang, "en"),
                      EngineOptions.from_config(settings.translation, settings.quality))


def test_translate_without_model_is_clear(tmp_path):
    cfg = write_config(tmp_path, tmp_path / "empty-models")
    src = tmp_path / "de.jsonl"
    src.write_text('{"id": 1, "text": "Hallo"}\n')
    result = runner.invoke(app, ["--config", str(cfg), "translate", "--from", "fr", "--jsonl", str(src)])
    assert result.exit_code == 2
    assert "no fr->en model installed" in result.stderr


def test_models_install_refuses_bad_file(tmp_path):
    cfg = write_config(tmp_path, tmp_path / "models")
    bad = tmp_path / "broken.argosmodel"
    bad.write_bytes(b"not a zip")
    result = runner.invoke(app, ["--config", str(cfg), "models", "install", "--from", str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.stderr and len(result.stderr.strip().splitlines()) == 1
