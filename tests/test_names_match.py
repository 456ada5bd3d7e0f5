"""Finding glossary names in the source: German inflection, compounds and case; Chinese
without word boundaries in either script and with any middle dot; no hits inside words;
overlaps resolved in favour of the full name."""

from pathlib import Path

import pytest

from newsflow.names import check_names, load_glossary

DATA = Path(__file__).parent / "data" / "names"


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(DATA / "glossary.yaml")


def entities(glossary, lang, source, translation=""):
    return [f.entity for f in check_names(glossary, lang, source, translation).findings]


@pytest.mark.parametrize(
    "source",
    [
        "Lawrow sagte am Montag",
        "Lawrows Reise nach China",  # genitive
        "die Worte Sergej Lawrows",  # genitive of the full name
        "Der Lawrow-Besuch endete",  # hyphenated compound
        "Anti-Lawrow-Proteste",
        "LAWROW WARNT",  # headline capitals
        "lawrow (klein geschrieben)",
        "„Lawrow“ in Anführungszeichen",
        "Sergej\u00a0Lawrow mit geschütztem Leerzeichen",
    ],
)
def test_german_forms_with_inflection_compounds_and_case(glossary, source):
    assert entities(glossary, "de", source) == ["lavrov"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Die Vereinten Nationen warnen", ["un"]),  # adjective ending on a multi-word form
        ("Das russische Außenministerium teilte mit", ["foreign_ministry_ru"]),
        ("Sprecherin des Russischen Außenministeriums", ["foreign_ministry_ru"]),
        ("Kreml-Sprecher Peskow", ["kremlin", "peskov"]),
        ("Selenskyjs Appell", ["zelensky"]),
        ("Sacharowas Aussage", ["zakharova"]),
    ],
)
def test_german_multiword_and_genitive_forms(glossary, source, expected):
    assert entities(glossary, "de", source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "Lawrence Berger sprach",  # Lawrence is not Lawrow
        "Lawrowitsch ist ein anderer Name",
        "Wang traf Schüler",  # a bare surname is not Wang Yi
        "Xi sagte nichts",  # a bare surname is not Xi Jinping
        "Der Putinversteher",  # not a hyphenated compound
        "MERZLICH",
    ],
)
def test_no_hits_inside_other_words(glossary, source):
    assert entities(glossary, "de", source) == []


@pytest.mark.parametrize(
    ("lang", "source"),
    [
        ("zh", "拉夫罗夫表示"),
        ("zt", "拉夫羅夫表示"),  # Traditional
        ("zh", "拉夫羅夫表示"),  # Traditional text labelled zh
        ("zh", "外长拉夫罗夫今天抵达"),  # no word boundaries
        ("zh", "谢尔盖·拉夫罗夫抵达"),
        ("zh", "谢尔盖•拉夫罗夫抵达"),  # bullet
        ("zh", "谢尔盖・拉夫罗夫抵达"),  # katakana middle dot
        ("zh", "谢尔盖‧拉夫罗夫抵达"),  # hyphenation point
        ("zt", "謝爾蓋·拉夫羅夫抵達"),
        ("zh", "谢尔盖拉夫罗夫抵达"),  # dot left out
    ],
)
def test_chinese_forms_in_either_script_and_with_any_dot(glossary, lang, source):
    assert entities(glossary, lang, source) == ["lavrov"]


def test_chinese_office_title_is_not_the_office(glossary):
    # 外交部长 is the foreign minister, not the foreign ministry 外交部
    assert entities(glossary, "zh", "俄罗斯外交部长拉夫罗夫") == ["russia", "lavrov"]
    assert entities(glossary, "zh", "俄罗斯外交部发言人") == ["foreign_ministry_ru"]


@pytest.mark.parametrize(
    ("lang", "source", "translation", "found"),
    [
        (
            "zh",
            "谢尔盖·拉夫罗夫和拉夫罗夫",
            "Sergei Lavrov and Lavrov",
            ["Sergei Lavrov", "Lavrov"],
        ),
        ("de", "Sergej Lawrow und Lawrow", "Sergei Lavrov and Lavrov", ["Sergei Lavrov", "Lavrov"]),
    ],
)
def test_full_name_wins_and_entity_is_reported_once(glossary, lang, source, translation, found):
    report = check_names(glossary, lang, source, translation)
    assert [(f.entity, f.status, f.found) for f in report.findings] == [("lavrov", "ok", found)]


def test_findings_follow_the_order_of_the_source(glossary):
    assert entities(glossary, "de", "Putin, Lawrow und Wang Yi in Moskau") == [
        "putin",
        "lavrov",
        "wang_yi",
        "moscow",
    ]


def test_english_text_is_its_own_source(glossary):
    report = check_names(glossary, "en", "", "Lavrov met Wang Yi; Lawrence did not.")
    assert [(f.entity, f.status) for f in report.findings] == [
        ("lavrov", "ok"),
        ("wang_yi", "ok"),
    ]


def test_latin_names_in_chinese_text(glossary):
    assert entities(glossary, "zh", "普京与Blinken会谈") == ["putin", "blinken"]
