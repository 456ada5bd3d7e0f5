from pathlib import Path

import pytest

from newsflow.config import load_settings, parse_settings
from newsflow.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_repo_config_loads():
    settings = load_settings(REPO / "config.yaml")
    assert settings.sources, "the bundled config lists the sample sources"
    assert settings.translation.compute_type == "int8"
    assert settings.base_dir == REPO
    for source in settings.sources:
        if source.kind == "feed" and not source.url.startswith("http"):
            assert settings.resolve(source.url).exists(), source.url


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    cfg = tmp_path / "sub" / "config.yaml"
    cfg.parent.mkdir()
    cfg.write_text("database: db/x.db\n")
    settings = load_settings(cfg)
    assert settings.resolve(settings.database) == cfg.parent / "db" / "x.db"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sources:\n  - name: a\n    kind: feed\n    url: x\n    colour: red\n",
         "config.yaml:5: key 'sources[0].colour': unknown key"),
        ("translation:\n  beam_size: many\n", "config.yaml:2: key 'translation.beam_size'"),
        ("sources:\n  - name: a\n    kind: folder\n", "a 'folder' source needs 'path'"),
        ("sources:\n  - name: a\n    kind: ftp\n    url: x\n", "key 'sources[0].kind'"),
        ("a: [", "config.yaml:1: invalid YAML"),
        ("- 1\n- 2\n", "the top level must be a mapping"),
        ("schedule:\n  cron: '* * * * *'\n  interval_seconds: 5\n", "exactly one of"),
        ("sources:\n  - {name: a, kind: feed, url: x}\n  - {name: a, kind: feed, url: y}\n",
         "duplicate source name 'a'"),
        ("colour: red\n", "config.yaml:1: key 'colour': unknown key"),
    ],
)
def test_bad_config_is_one_clear_line(text, expected):
    with pytest.raises(ConfigError) as info:
        parse_settings(text, "config.yaml")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_empty_file_gives_defaults(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("")
    assert load_settings(cfg).translation.beam_size == 2
