"""Glossary loading: valid files load; every mistake is one GlossaryError line naming
file, line and key."""

from pathlib import Path

import pytest

from newsflow.errors import GlossaryError, NewsflowError
from newsflow.names import Glossary, load_glossary, parse_glossary

DATA = Path(__file__).parent / "data" / "names"

VALID = """\
entries:
  - id: lavrov
    type: person
    en: [Sergei Lavrov, Lavrov]
    de: [Sergej Lawrow, Lawrow]
    zh: [谢尔盖·拉夫罗夫, 拉夫罗夫]
    ru: [Сергей Лавров]
    zh-Hant: [拉夫羅夫]
    avoid: [Lavrow]
  - id: moscow
    type: place
    en: [Moscow]
    de: []
"""


def test_valid_glossary_loads_with_all_fields(tmp_path):
    path = tmp_path / "glossary.yaml"
    path.write_text(VALID, encoding="utf-8")
    glossary = load_glossary(path)
    assert isinstance(glossary, Glossary)
    assert len(glossary) == 2 and "lavrov" in glossary
    lavrov = glossary.by_id["lavrov"]
    assert lavrov.en == ("Sergei Lavrov", "Lavrov")
    assert lavrov.expected == "Sergei Lavrov"
    assert lavrov.avoid == ("Lavrow",)
    assert lavrov.forms["ru"] == ("Сергей Лавров",)
    assert lavrov.forms["zh-Hant"] == ("拉夫羅夫",)
    assert glossary.by_id["moscow"].forms["de"] == ()


def test_unchanged_file_is_not_rebuilt_and_an_edit_takes_effect(tmp_path):
    # a long-running worker loads the glossary every run: same text, same built glossary
    path = tmp_path / "glossary.yaml"
    path.write_text(VALID, encoding="utf-8")
    first = load_glossary(path)
    assert load_glossary(path) is first
    path.write_text(VALID.replace("    en: [Moscow]", "    en: [Moskva]"), encoding="utf-8")
    edited = load_glossary(path)
    assert edited is not first
    assert edited.by_id["moscow"].en == ("Moskva",)
    assert first.by_id["moscow"].en == ("Moscow",)


def test_type_defaults_to_person():
    glossary = parse_glossary("entries:\n  - id: x\n    en: [Xavier]\n")
    assert glossary.by_id["x"].type == "person"


def test_test_data_glossary_loads():
    assert len(load_glossary(DATA / "glossary.yaml")) > 20


def _error(text: str) -> str:
    with pytest.raises(GlossaryError) as info:
        parse_glossary(text, source="glossary.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, NewsflowError)
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entries: [\n", "glossary.yaml:2: invalid YAML"),
        ("entries:\n  - id: a\n   en: [A]\n", "glossary.yaml:3: invalid YAML"),
        ("", "glossary.yaml:1: glossary is empty"),
        ("- id: a\n  en: [A]\n", "glossary.yaml:1: glossary must be a mapping"),
        ("just a string\n", "glossary.yaml:1: glossary must be a mapping"),
        ("version: 1\n", "glossary.yaml:1: key 'entries' is missing"),
        ("entries: {id: a}\n", "glossary.yaml:1: key 'entries' must be a list"),
        ("entries: []\n", "glossary.yaml:1: glossary has no entries"),
        ("entries:\n", "glossary.yaml:1: key 'entries' must be a list"),
        ("entrys:\n  - id: a\n", "glossary.yaml:1: unknown key 'entrys'"),
        ("entries:\n  - just text\n", "glossary.yaml:2: entry #1 must be a mapping"),
        (
            "entries:\n  - type: person\n    en: [A]\n",
            "glossary.yaml:2: entry #1: key 'id' is missing",
        ),
        (
            "entries:\n  - id: 12\n    en: [A]\n",
            "glossary.yaml:2: entry #1: key 'id' must be a non-empty string",
        ),
        (
            "entries:\n  - id: a\n    en: [A]\n    colour: red\n",
            "glossary.yaml:4: entry 'a': unknown key 'colour'",
        ),
        (
            "entries:\n  - id: a\n    type: animal\n    en: [A]\n",
            "glossary.yaml:3: entry 'a': key 'type' must be one of person, place, org",
        ),
        (
            "entries:\n  - id: a\n    type: [person]\n    en: [A]\n",
            "glossary.yaml:3: entry 'a': key 'type' must be one of",
        ),
        (
            "entries:\n  - id: lavrov\n    type: person\n    de: [Lawrow]\n",
            "glossary.yaml:2: entry 'lavrov': key 'en' must be a non-empty list of strings",
        ),
        (
            "entries:\n  - id: lavrov\n    en: []\n",
            "glossary.yaml:3: entry 'lavrov': key 'en' must be a non-empty list of strings",
        ),
        (
            "entries:\n  - id: lavrov\n    en: Lavrov\n",
            "glossary.yaml:3: entry 'lavrov': key 'en' must be a non-empty list of strings",
        ),
        (
            "entries:\n  - id: lavrov\n    en: [Lavrov, 42]\n",
            "glossary.yaml:3: entry 'lavrov': key 'en' must be a non-empty list of strings",
        ),
        (
            "entries:\n  - id: lavrov\n    en: [Lavrov, '']\n",
            "glossary.yaml:3: entry 'lavrov': key 'en' must be a non-empty list of strings",
        ),
        (
            "entries:\n  - id: lavrov\n    en: [Lavrov]\n    de: Lawrow\n",
            "glossary.yaml:4: entry 'lavrov': key 'de' must be a list of strings",
        ),
        (
            "entries:\n  - id: lavrov\n    en: [Lavrov]\n    avoid: [null]\n",
            "glossary.yaml:4: entry 'lavrov': key 'avoid' must be a list of strings",
        ),
        (
            "entries:\n  - id: a\n    en: [A]\n  - id: b\n    en: [B]\n  - id: a\n    en: [C]\n",
            "glossary.yaml:6: entry 'a': duplicate id (first defined on line 2)",
        ),
        (
            "entries:\n  - id: a\n    en: [A]\n    en: [B]\n",
            "glossary.yaml:4: entry #1: duplicate key 'en'",
        ),
    ],
)
def test_glossary_errors_name_file_line_and_key(text, expected):
    assert _error(text).startswith(expected)


def test_missing_file_is_a_glossary_error(tmp_path):
    with pytest.raises(GlossaryError, match="cannot read glossary"):
        load_glossary(tmp_path / "nope.yaml")


def test_error_names_the_path_given(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("entries:\n  - id: lavrov\n    en: []\n", encoding="utf-8")
    with pytest.raises(GlossaryError) as info:
        load_glossary(path)
    assert str(info.value).startswith(f"{path}:3: entry 'lavrov': key 'en'")


def test_non_utf8_file_is_a_glossary_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("entries:\n  - id: m\n    en: [Müller]\n".encode("latin-1"))
    with pytest.raises(GlossaryError, match="not UTF-8"):
        load_glossary(path)
