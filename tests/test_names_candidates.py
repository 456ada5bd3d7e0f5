"""Candidates: names the glossary does not know, with a suggested English form."""

from pathlib import Path

import pytest

from newsflow.names import check_names, load_glossary

DATA = Path(__file__).parent / "data" / "names"


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(DATA / "glossary.yaml")


def candidates(glossary, lang, source):
    return check_names(glossary, lang, source, "").candidates


@pytest.mark.parametrize(
    ("source", "form", "english", "note"),
    [
        ("黄山市副市长单建国表示，", "单建国", "Shan Jianguo", "单 read as Shan"),
        ("企业负责人曾晓明说：", "曾晓明", "Zeng Xiaoming", "曾 read as Zeng"),
        ("店主解红梅说：", "解红梅", "Xie Hongmei", "解 read as Xie"),
        ("负责人仇立新介绍，", "仇立新", "Qiu Lixin", "仇 read as Qiu"),
        ("区家麟说", "区家麟", "Ou Jialin", "区 read as Ou"),
        ("朴槿惠表示", "朴槿惠", "Piao Jinhui", "朴 read as Piao"),
        ("作家查良镛在香港", "查良镛", "Zha Liangyong", "查 read as Zha"),
        ("主持人乐嘉表示", "乐嘉", "Yue Jia", "乐 read as Yue"),
        ("盖伟说", "盖伟", "Ge Wei", "盖 read as Ge"),
        ("欧阳娜娜表示，", "欧阳娜娜", "Ouyang Nana", None),
        ("诸葛亮说：", "诸葛亮", "Zhuge Liang", None),
        ("司马光指出", "司马光", "Sima Guang", None),
        ("上官婉儿表示", "上官婉儿", "Shangguan Wan'er", None),
        ("记者张建安报道", "张建安", "Zhang Jian'an", None),
        ("会议由张伟主持", "张伟", "Zhang Wei", None),
        ("外交部發言人毛寧表示", None, None, None),  # 毛宁 is in the glossary
        ("黃山市副市長單建國表示", "單建國", "Shan Jianguo", "单 read as Shan"),  # Traditional
    ],
)
def test_chinese_person_candidates(glossary, source, form, english, note):
    found = candidates(glossary, "zh", source)
    if form is None:
        assert found == []
        return
    assert len(found) == 1, found
    candidate = found[0]
    assert candidate["source_form"] == form
    assert candidate["suggested_en"] == english
    assert candidate["type"] == "person" and candidate["lang"] == "zh"
    if note:
        assert any(note in n for n in candidate["notes"])


@pytest.mark.parametrize(
    "source",
    [
        "马克龙表示",  # a transliterated foreign name, not "Ma Kelong"
        "王毅表示",  # in the glossary
        "中方表示",
        "高度重视",
        "黄金价格上涨",
        "据报道，周一市场上涨",
        "李强强调",  # in the glossary; not "Li Qiangqiang"
        "张家口的天气",
    ],
)
def test_no_false_chinese_candidates(glossary, source):
    assert candidates(glossary, "zh", source) == []


@pytest.mark.parametrize(
    ("source", "form", "english", "note"),
    [
        (
            "Walentina Matwijenko, die Präsidentin",
            "Walentina Matwijenko",
            "Valentina Matviyenko",
            None,
        ),
        ("Wjatscheslaw Wolodins Rede", "Wjatscheslaw Wolodin", "Vyacheslav Volodin", None),
        ("Dmitri Medwedew warnte", "Dmitri Medwedew", "Dmitry Medvedev", None),
        ("Ramsan Kadyrow", "Ramsan Kadyrow", "Ramzan Kadyrov", None),
        ("Jewgeni Prigoschin starb", "Jewgeni Prigoschin", "Yevgeny Prigoshin", "ж (zh)"),
        ("Michail Gorbatschow", "Michail Gorbatschow", "Mikhail Gorbachov", "ё"),
        ("Nikita Chruschtschow", "Nikita Chruschtschow", "Nikita Khrushchov", "ё"),
        ("Maria Sidorowa sagte", "Maria Sidorowa", "Maria Sidorova", None),
        ("Julia Nawalnaja", "Julia Nawalnaja", "Yulia Navalnaya", None),
        ("Iwan Saizew", "Iwan Saizew", "Ivan Saitsev", "з (z)"),  # English: Zaitsev
        ("Oleg Tschernow", "Oleg Tschernow", "Oleg Chernov", None),
        (
            "Wladimir Wladimirowitsch Schirinowski",
            "Wladimir Wladimirowitsch Schirinowski",
            "Vladimir Vladimirovich Shirinovsky",
            "ж (zh)",
        ),
    ],
)
def test_german_spelled_russian_names(glossary, source, form, english, note):
    found = candidates(glossary, "de", source)
    assert len(found) == 1, found
    candidate = found[0]
    assert candidate["source_form"] == form
    assert candidate["suggested_en"] == english
    assert candidate["type"] == "person" and candidate["lang"] == "de"
    if note:
        assert any(note in n for n in candidate["notes"]), candidate["notes"]


@pytest.mark.parametrize(
    "source",
    [
        "Sergej Lawrow sagte",  # in the glossary
        "Wladimir Putin",  # in the glossary
        "Maria Sacharowa",  # in the glossary
        "Maria Schmidt aus Berlin",  # a German name after a shared first name
        "Boris Johnson sagte",
        "Anna Berger",
        "Die Sowjetunion",
    ],
)
def test_no_false_german_candidates(glossary, source):
    assert candidates(glossary, "de", source) == []


def test_candidates_only_in_json_when_asked(glossary):
    report = check_names(glossary, "zh", "盖伟说", "Gai Wei said")
    assert "candidates" not in report.to_json(1)
    assert report.to_json(1, with_candidates=True)["candidates"][0]["suggested_en"] == "Ge Wei"


def test_candidate_shape(glossary):
    (candidate,) = candidates(glossary, "de", "Dmitri Medwedew")
    assert set(candidate) == {"source_form", "suggested_en", "type", "lang", "notes"}
    assert isinstance(candidate["notes"], list)
