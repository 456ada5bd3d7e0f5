"""Judging the English (ok / wrong / missing) and fixing the wrong spans."""

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsflow.names import Finding, NameReport, check_names, load_glossary, near, parse_glossary
from newsflow.names.translit import fold

DATA = Path(__file__).parent / "data" / "names"


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(DATA / "glossary.yaml")


def judge(glossary, lang, source, translation):
    report = check_names(glossary, lang, source, translation)
    return {f.entity: (f.status, f.found) for f in report.findings}, report.corrected


# --- ok ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "source", "translation", "entity", "found"),
    [
        ("de", "Lawrow sagte", "Lavrov said", "lavrov", ["Lavrov"]),
        ("de", "Lawrow sagte", "Sergey Lavrov said", "lavrov", ["Sergey Lavrov"]),
        ("de", "Lawrows Rede", "Lavrov's speech", "lavrov", ["Lavrov"]),
        ("de", "Lawrow sagte", "LAVROV SAID", "lavrov", ["LAVROV"]),
        ("zh", "王毅表示", "Wang Yi said", "wang_yi", ["Wang Yi"]),
        ("zh", "习近平表示", "Xi Jinping's speech", "xi_jinping", ["Xi Jinping"]),
        ("zh", "西安", "in Xi’an", "xian", ["Xi’an"]),
        ("zh", "普京", "Putin", "putin", ["Putin"]),
        ("zt", "澤連斯基", "Zelenskyy", "zelensky", ["Zelenskyy"]),
        ("de", "Merz", "Merz", "merz", ["Merz"]),
    ],
)
def test_accepted_form_is_ok(glossary, lang, source, translation, entity, found):
    findings, corrected = judge(glossary, lang, source, translation)
    assert findings[entity] == ("ok", found)
    assert corrected == translation


@pytest.mark.parametrize(
    ("translation", "derived"),
    [
        ("Russian troops", "Russian"),  # Russia + n is another word, not a misspelling of it
        ("Russians said", "Russians"),
        ("German officials", "German"),
    ],
)
def test_derived_english_words_are_not_wrong(glossary, translation, derived):
    findings, corrected = judge(glossary, "de", "Russland und Deutschland", translation)
    assert all(status != "wrong" for status, _found in findings.values())
    assert corrected == translation


# --- wrong ---------------------------------------------------------------------------------

WRONG = [
    # source form left as is
    ("de", "Lawrow sagte", "Lawrow said", "lavrov", ["Lawrow"], "Lavrov said"),
    ("de", "Selenskyj sprach", "Selenskyj spoke", "zelensky", ["Selenskyj"], "Zelensky spoke"),
    ("de", "in Moskau", "in Moskau", "moscow", ["Moskau"], "in Moscow"),
    ("zh", "拉夫罗夫说", "拉夫罗夫 said", "lavrov", ["拉夫罗夫"], "Lavrov said"),
    ("zt", "拉夫羅夫說", "拉夫羅夫 said", "lavrov", ["拉夫羅夫"], "Lavrov said"),
    ("de", "Lawrow sagte", "Лавров said", "lavrov", ["Лавров"], "Lavrov said"),
    # near misses
    ("de", "Lawrow sagte", "Lavrof said", "lavrov", ["Lavrof"], "Lavrov said"),
    ("de", "Selenskyj sprach", "Zelenskyj spoke", "zelensky", ["Zelenskyj"], "Zelensky spoke"),
    ("de", "Selenskyj sprach", "Zelenskij spoke", "zelensky", ["Zelenskij"], "Zelensky spoke"),
    ("de", "Sacharowa sagte", "Zaharova said", "zakharova", ["Zaharova"], "Zakharova said"),
    ("de", "Sacharowa sagte", "Sacharova said", "zakharova", ["Sacharova"], "Zakharova said"),
    ("de", "Peskow sagte", "Peskoff said", "peskov", ["Peskoff"], "Peskov said"),
    ("de", "Merz sagte", "Mertz said", "merz", ["Mertz"], "Merz said"),
    # Pinyin of a transliteration, joined, split, hyphenated
    ("zh", "拉夫罗夫说", "Lafuluofu said", "lavrov", ["Lafuluofu"], "Lavrov said"),
    ("zh", "拉夫罗夫说", "La Fu Luo Fu said", "lavrov", ["La Fu Luo Fu"], "Lavrov said"),
    ("zh", "拉夫罗夫说", "La-fu-luo-fu said", "lavrov", ["La-fu-luo-fu"], "Lavrov said"),
    ("zh", "布林肯说", "Bulinken said", "blinken", ["Bulinken"], "Blinken said"),
    ("zh", "普京说", "Pujing said", "putin", ["Pujing"], "Putin said"),
    ("zh", "普京说", "Pu Jing said", "putin", ["Pu Jing"], "Putin said"),
    ("zh", "莫斯科", "Mosike", "moscow", ["Mosike"], "Moscow"),
    # split or joined Pinyin of a Chinese name
    ("zh", "习近平说", "Xi Jin Ping said", "xi_jinping", ["Xi Jin Ping"], "Xi Jinping said"),
    ("zh", "习近平说", "Xijinping said", "xi_jinping", ["Xijinping"], "Xi Jinping said"),
    ("zh", "王毅说", "Wangyi said", "wang_yi", ["Wangyi"], "Wang Yi said"),
    ("zh", "西安", "Xian", "xian", ["Xian"], "Xi'an"),
    ("zh", "欧阳修", "Ou Yang Xiu wrote", "ouyang_xiu", ["Ou Yang Xiu"], "Ouyang Xiu wrote"),
    # surname read as a common word by Pinyin libraries
    ("zh", "曾庆红", "Ceng Qinghong", "zeng_qinghong", ["Ceng Qinghong"], "Zeng Qinghong"),
    # known-wrong spellings from `avoid`
    ("de", "Lawrow sagte", "Lavrow said", "lavrov", ["Lavrow"], "Lavrov said"),
    ("de", "Kiew", "Kiev", "kyiv", ["Kiev"], "Kyiv"),
    # partly literal renderings of Chinese names
    ("zh", "李强说", "Li Strong said", "li_qiang", ["Li Strong"], "Li Qiang said"),
    ("zh", "王毅说", "King Yi said", "wang_yi", ["King Yi"], "Wang Yi said"),
    ("zh", "王毅说", "Wang Resolute said", "wang_yi", ["Wang Resolute"], "Wang Yi said"),
    ("zh", "王毅说", "King Perseverance said", "wang_yi", ["King Perseverance"], "Wang Yi said"),
    ("zh", "习近平说", "Xi Near Peace said", "xi_jinping", ["Xi Near Peace"], "Xi Jinping said"),
    ("zh", "习近平说", "Xi Jin Flat said", "xi_jinping", ["Xi Jin Flat"], "Xi Jinping said"),
    ("zh", "毛宁说", "Hair Ning said", "mao_ning", ["Hair Ning"], "Mao Ning said"),
]


@pytest.mark.parametrize(("lang", "source", "translation", "entity", "found", "corrected"), WRONG)
def test_wrong_spellings_are_found_and_fixed(
    glossary, lang, source, translation, entity, found, corrected
):
    findings, fixed = judge(glossary, lang, source, translation)
    assert findings[entity] == ("wrong", found)
    assert fixed == corrected


def test_wrong_wins_over_ok_when_both_are_present(glossary):
    findings, corrected = judge(
        glossary, "de", "Lawrow sagte", "Lavrov said that Lawrow and Lavrow agree"
    )
    assert findings["lavrov"] == ("wrong", ["Lawrow", "Lavrow"])
    assert corrected == "Lavrov said that Lavrov and Lavrov agree"


def test_expected_is_the_preferred_form(glossary):
    report = check_names(glossary, "de", "Lawrow", "Lawrow")
    assert report.findings == [Finding("lavrov", "wrong", ["Lawrow"], "Sergei Lavrov")]


# --- missing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "source", "translation", "entity"),
    [
        ("de", "Lawrow sagte", "The minister said", "lavrov"),
        ("zh", "王毅说", "Wang said", "wang_yi"),  # a bare surname is not the name
        ("de", "Lawrow sagte", "Lawrence said", "lavrov"),
        ("zh", "拉夫罗夫说", "", "lavrov"),
    ],
)
def test_missing_when_nothing_for_the_name_is_there(glossary, lang, source, translation, entity):
    findings, corrected = judge(glossary, lang, source, translation)
    assert findings[entity] == ("missing", [])
    assert corrected == translation


def test_no_finding_for_names_not_in_the_source(glossary):
    findings, corrected = judge(glossary, "de", "Der Bericht", "Lawrow and Wangyi")
    assert findings == {}
    assert corrected == "Lawrow and Wangyi"


# --- fixing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "source", "translation", "corrected"),
    [
        # shape: surname for surname, full name for full name
        ("de", "Lawrow", "Lawrow spoke", "Lavrov spoke"),
        ("de", "Sergej Lawrow", "Sergej Lawrow spoke", "Sergei Lavrov spoke"),
        ("de", "Sergej Lawrow", "Sergej Lavrov spoke", "Sergei Lavrov spoke"),
        ("de", "Sergej Lawrow", "Sergei Lawrow spoke", "Sergei Lavrov spoke"),
        ("de", "Sergej Lawrow", "Sergey Lawrow spoke", "Sergey Lavrov spoke"),
        ("zh", "谢尔盖·拉夫罗夫", "Xieergai Lafuluofu spoke", "Sergei Lavrov spoke"),
        ("zh", "谢尔盖·拉夫罗夫", "Xie Er Gai La Fu Luo Fu spoke", "Sergei Lavrov spoke"),
        ("zh", "谢尔盖·拉夫罗夫", "Sergei Lafuluofu spoke", "Sergei Lavrov spoke"),
        ("zh", "谢尔盖·拉夫罗夫", "谢尔盖·拉夫罗夫 spoke", "Sergei Lavrov spoke"),
        ("zh", "弗拉基米尔·普京", "Pujing spoke", "Putin spoke"),
        ("de", "Wolodymyr Selenskyj", "Wolodymyr Selenskyj", "Volodymyr Zelensky"),
        ("de", "Die UNO", "The UNO", "The UN"),
        ("de", "Die Vereinten Nationen", "The Vereinte Nationen", "The United Nations"),
        # possessive kept
        ("de", "Lawrows Rede", "Lawrow's speech", "Lavrov's speech"),
        ("de", "Lawrows Rede", "Lawrow’s speech", "Lavrov’s speech"),
        ("de", "Lawrows Rede", "Lawrows speech", "Lavrov's speech"),  # German genitive left
        ("zh", "王毅的讲话", "Wangyi's speech", "Wang Yi's speech"),
        # case carried over
        ("de", "LAWROW", "LAWROW WARNS", "LAVROV WARNS"),
        ("de", "LAWROW", "LAWROW'S WARNING", "LAVROV'S WARNING"),
        ("de", "Lawrow", "lawrow said", "Lavrov said"),
        ("zh", "王毅", "KING YI SAID", "WANG YI SAID"),
        ("zh", "习近平", "XI JIN PING", "XI JINPING"),
        # nothing else touched
        ("de", "Lawrow", "  Lawrow\t(said)\n  «Lawrow»  ", "  Lavrov\t(said)\n  «Lavrov»  "),
        ("de", "Lawrow und Moskau", "Lawrow 🙂 in Moskau, 3,5 %", "Lavrov 🙂 in Moscow, 3,5 %"),
        ("zh", "拉夫罗夫", "Ｌａｆｕｌｕｏｆｕ！", "Lavrov！"),
    ],
)
def test_fixing(glossary, lang, source, translation, corrected):
    assert check_names(glossary, lang, source, translation).corrected == corrected


@pytest.mark.parametrize(
    "translation",
    [
        "Lavrov met Wang Yi in Beijing.",
        "The minister spoke.",
        "Lawrence and Wang were there.",
        "Russian and German officials met Lavrov.",
        "",
    ],
)
def test_translation_without_wrong_spans_is_unchanged(glossary, translation):
    report = check_names(
        glossary, "de", "Lawrow und Wang Yi in Peking, Russland, Deutschland", translation
    )
    assert report.corrected == translation
    assert all(f.status != "wrong" for f in report.findings)


def test_accepted_form_is_never_wrong_even_when_close_to_a_source_form():
    glossary = parse_glossary(
        "entries:\n"
        "  - id: lavrov\n    en: [Lavrov, Lavrow]\n    de: [Lawrow]\n    avoid: [Lavrow]\n"
    )
    report = check_names(glossary, "de", "Lawrow", "Lavrow and Lavrov")
    assert report.findings[0].status == "ok"
    assert report.corrected == "Lavrow and Lavrov"


def test_unrelated_capitalised_words_are_not_near_misses(glossary):
    source = "Lawrow, Selenskyj, Peskow und Merz in Moskau und Berlin"
    translation = (
        "Lavrov, Zelensky, Peskov and Merz met in Moscow and Berlin. Lawyers, Lavish Plans, "
        "Peskier Moves, Merry Men, Mosaic Art, Berliner Luft, Merlins and Selena were not there."
    )
    report = check_names(glossary, "de", source, translation)
    assert all(f.status == "ok" for f in report.findings), report.findings
    assert report.corrected == translation


def test_chinese_names_have_no_near_misses(glossary):
    # Wang Li is another person, one letter from Wang Yi
    report = check_names(glossary, "zh", "王毅和王立", "Wang Yi and Wang Li")
    assert report.corrected == "Wang Yi and Wang Li"


def test_report_json_has_exactly_the_contract_keys(glossary):
    report = check_names(glossary, "de", "Lawrow", "Lawrow")
    assert isinstance(report, NameReport)
    data = report.to_json("a1")
    assert list(data) == ["id", "findings", "corrected"]
    assert list(data["findings"][0]) == ["entity", "status", "found", "expected"]
    assert list(report.to_json("a1", with_candidates=True)) == [
        "id",
        "findings",
        "corrected",
        "candidates",
    ]


@pytest.mark.parametrize("lang", ["de", "zh", "zt", "en", "fr", "", "ZH-TW"])
def test_any_lang_string_is_accepted_by_the_api(glossary, lang):
    report = check_names(glossary, lang, "Lawrow 拉夫罗夫", "Lawrow")
    assert report.corrected == "Lavrov"


# --- the windows find_near looks at (only where a capital can start a token) ---------------


def _old_windows(text, folded):
    """find_near's loop before: every token of the text, then the capital check."""
    tokens = list(near.TOKEN.finditer(folded))
    lowered = [t.group().lower() for t in tokens]
    out = []
    for i, first in enumerate(tokens):
        if not text[first.start()].isupper():
            continue
        for size in (1, 2, 3):
            last_index = i + size - 1
            if last_index >= len(tokens):
                break
            if size > 1:
                previous, last = tokens[last_index - 1], tokens[last_index]
                gap = folded[previous.end() : last.start()]
                if not gap or gap.strip() or not text[last.start()].isupper():
                    break
            out.append((first.start(), tokens[last_index].end(), size,
                        " ".join(lowered[i : last_index + 1])))
    return out


def test_no_capital_where_find_near_does_not_look():
    skipped = [chr(c) for c in range(0x80)] + [chr(c) for lo, hi in (
        (0x3040, 0x30FF), (0x3400, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF))
        for c in range(lo, hi + 1)]
    assert not [ch for ch in skipped if ch.isupper() and not near._MAYBE_UPPER.match(ch)]


def test_windows_as_before_on_real_text():
    text = ("Lavrov, Zelensky, Peskov and Merz met in Moscow and Berlin. Lawyers, Lavish Plans, "
            "Peskier Moves, Merry Men, Mosaic Art, Berliner Luft,  Merlins\u00a0and Selena. "
            "Sergej  Wiktorowitsch Lawrow-Schmidt traf Wang Yi in Tunxi (Huangshan) "
            "und 王毅 ÖSTERREICH Île-de-France’s Ｆull ǅemal İstanbul Ⅻ Xi\tJinping\nLi Qiang")
    for folded in (fold(text), text, near.TOKEN.sub(lambda m: m.group().lower(), text)):
        assert list(near.capitalised_windows(text, folded)) == _old_windows(text, folded)


_chars = st.sampled_from(list("aAbBzZ ßÄäéÉ'’-.,0_") + ["\u00a0", "\t", "\n", "\u2028", "王",
                          "の", "한", "Ⅻ", "ǅ", "İ", "Ｆ", "ﬁ", "\u0301", "𝐀"])


@settings(max_examples=100, deadline=None)
@given(text=st.lists(_chars, max_size=40).map("".join), other=st.lists(_chars, max_size=40),
       how=st.sampled_from(["fold", "same", "other"]))
@example(text="Ab Cd Ef Gh", other=[], how="same")
def test_windows_as_before(text, other, how):
    # folded is fold(text) in the pipeline, masked and made gapless: any text of that length
    if how == "fold":
        folded = fold(text)
    elif how == "same":
        folded = text
    else:
        folded = "".join((other + list(text))[: len(text)])
    assert list(near.capitalised_windows(text, folded)) == _old_windows(text, folded)
