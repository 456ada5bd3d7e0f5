"""Folding, Pinyin name forms, similarity and German->English rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsflow.names import translit
from newsflow.names.translit import (
    fold,
    format_chinese_name,
    german_to_english,
    is_near_miss,
    name_key,
    osa_distance,
    phonetic_key,
)


@pytest.mark.parametrize(
    "text",
    [
        "謝爾蓋·拉夫羅夫",
        "谢尔盖•拉夫罗夫",
        "Xi’an",
        "Ｌａｆｕｌｕｏｆｕ",
        "Zelenskýj\u00a0said",
        "a\tb\nc",
        "🙂 e\u0301",
    ],
)
def test_fold_keeps_the_length(text):
    assert len(fold(text)) == len(text)


def test_fold_normalises_script_dots_and_marks():
    assert fold("謝爾蓋・拉夫羅夫") == "谢尔盖·拉夫罗夫"
    assert fold("Xi’an") == "Xi'an"
    assert fold("António") == "Antonio"
    assert name_key("Sergej  Lawrow") == name_key("sergej lawrow")


@pytest.mark.parametrize(
    ("surname", "given", "expected"),
    [
        (["wang"], ["yi"], "Wang Yi"),
        (["xi"], ["jin", "ping"], "Xi Jinping"),
        (["zhu", "ge"], ["liang"], "Zhuge Liang"),
        (["zhang"], ["jian", "an"], "Zhang Jian'an"),
        (["li"], ["xi", "e"], "Li Xi'e"),
        (["ou", "yang"], ["na", "na"], "Ouyang Nana"),
    ],
)
def test_chinese_name_format(surname, given, expected):
    assert format_chinese_name(surname, given) == expected


def test_osa_distance():
    assert osa_distance("lavrov", "lavrov") == 0
    assert osa_distance("lavrow", "lavrov") == 1
    assert osa_distance("lavorv", "lavrov") == 1  # transposition
    assert osa_distance("", "abc") == 3


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Lawrow", "Lavrov"),
        ("Selenskyj", "Zelensky"),
        ("Jelzin", "Yeltsin"),
        ("Sacharowa", "Zakharova"),
    ],
)
def test_phonetic_key_unifies_german_and_english_spellings(a, b):
    assert phonetic_key(a) == phonetic_key(b)


@pytest.mark.parametrize(
    ("candidate", "reference", "near"),
    [
        ("Lavrow", "Lavrov", True),
        ("Zaharova", "Zakharova", True),
        ("Zelenskij", "Zelensky", True),
        ("Lawrence", "Lawrow", False),
        ("Russian", "Russia", False),  # a derived word, not a misspelling
        ("German", "Germany", False),
        ("Merry", "Merz", False),
        ("Wang", "Wong", False),  # too short for an edit-distance guess
    ],
)
def test_near_miss(candidate, reference, near):
    assert is_near_miss(candidate, reference) is near


@pytest.mark.parametrize(
    ("german", "english"),
    [
        ("Lawrow", "Lavrov"),
        ("Schoigu", "Shoigu"),
        ("Peskow", "Peskov"),
        ("Sacharowa", "Sakharova"),
        ("Jelzin", "Yeltsin"),
        ("Chruschtschow", "Khrushchov"),
        ("Gorbatschow", "Gorbachov"),
        ("Medwedew", "Medvedev"),
        ("Schirinowski", "Shirinovsky"),
        ("Tichanowskaja", "Tikhanovskaya"),
        ("Nasarbajew", "Nazarbayev"),
        ("Matwijenko", "Matviyenko"),
        ("Selenskyj", "Selensky"),
    ],
)
def test_german_to_english_rules(german, english):
    assert german_to_english(german)[0] == english


def test_unsafe_rules_come_with_notes():
    assert any("з (z)" in n for n in german_to_english("Sacharowa")[1])
    assert any("ё" in n for n in german_to_english("Gorbatschow")[1])
    assert any("ж (zh)" in n for n in german_to_english("Prigoschin")[1])
    assert german_to_english("Lawrow")[1] == []


# --- long texts fold in the runs that can change (same result as translating every char) ---


def _old_fold(text):
    return text.translate(translit._ASCII_TABLE if text.isascii() else translit._fold_table)


def test_fold_leaves_the_skipped_ascii_as_it_is():
    skipped = [chr(c) for c in range(0x80) if not translit._MAY_CHANGE.match(chr(c))]
    assert len(skipped) == 128 - 10  # all but \t-\r, \x1c-\x1f and `
    assert all(translit._fold_char(ch) == ch for ch in skipped)


def test_long_fold_as_before_on_real_text():
    text = ("Die Bundesregierung kündigte am Montag neue Regeln für den Wohnungsbau an.\n\n"
            "國務院宣布了新的住房政策。 Zelenskýj\u00a0said ‘Xi’an’ `x`\x1c\t Ｌａｆｕ ﬁ e\u0301 ") * 30
    assert len(text) >= translit._LONG_TEXT
    assert fold(text) == _old_fold(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_long_fold_as_before(text, ascii_text):
    long_text = (text + ascii_text) * (translit._LONG_TEXT // max(1, len(text + ascii_text)) + 1)
    assert fold(long_text) == _old_fold(long_text)
    assert fold(text) == _old_fold(text)
