"""Properties: any string input is handled, and a translation is only changed where a name
is wrong."""

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.names import check_names, load_glossary

DATA = Path(__file__).parent / "data" / "names"
GLOSSARY = load_glossary(DATA / "glossary.yaml")

# fmt: off
PIECES = [
    "Lawrow", "Lawrows", "LAWROW", "Lavrov", "Lavrow", "Sergej Lawrow", "Sergei Lavrov",
    "拉夫罗夫", "拉夫羅夫", "谢尔盖·拉夫罗夫", "谢尔盖•拉夫罗夫", "Lafuluofu", "La Fu Luo Fu",
    "王毅", "Wang Yi", "Wangyi", "King Yi", "Wang", "李强", "Li Strong", "Li Qiang", "习近平",
    "Xi Jin Ping", "Xi Jinping", "Selenskyj", "Zelensky", "Zelenskyj", "Sacharowa", "Zaharova",
    "Moskau", "Moscow", "Peking", "Beijing", "Kiev", "Kyiv", "Lawrence", "'s", "’s", "-",
    "Besuch", "said", "the", "und", "表示", "，", "。", " ", " ", " ", "\n", "(", ")", "Xi'an",
    "Xian", "单建国", "Walentina Matwijenko", "曾庆红", "Ceng Qinghong",
]
# fmt: on
LANGS = st.sampled_from(["de", "zh", "zt", "en"])
NAMEY = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=12).map("".join)
ANY = st.text(max_size=60) | NAMEY

# NAMES_HYPOTHESIS_EXAMPLES=5000 for a longer hunt; the default keeps the file fast
SETTINGS = settings(
    max_examples=int(os.environ.get("NAMES_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(lang=LANGS | st.text(max_size=5), source=ANY, translation=ANY)
def test_never_raises_and_reports_consistently(lang, source, translation):
    report = check_names(GLOSSARY, lang, source, translation)
    entities = [f.entity for f in report.findings]
    assert len(entities) == len(set(entities))
    assert set(entities) <= set(GLOSSARY.by_id)
    for finding in report.findings:
        assert finding.status in ("ok", "wrong", "missing")
        assert finding.expected == GLOSSARY.by_id[finding.entity].en[0]
        assert (finding.found == []) == (finding.status == "missing")
        for span in finding.found:
            assert span in translation
    if not any(f.status == "wrong" for f in report.findings):
        assert report.corrected == translation
    data = report.to_json("id", with_candidates=True)
    assert list(data) == ["id", "findings", "corrected", "candidates"]


@SETTINGS
@given(lang=LANGS, source=NAMEY, translation=NAMEY)
def test_corrected_text_has_nothing_left_to_fix(lang, source, translation):
    first = check_names(GLOSSARY, lang, source, translation)
    again = check_names(GLOSSARY, lang, source, first.corrected)
    assert again.corrected == first.corrected
    assert not any(f.status == "wrong" for f in again.findings)


@SETTINGS
@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30))
def test_only_the_wrong_span_changes(prefix, suffix):
    # a wrong name between arbitrary text: everything around it is kept byte for byte
    translation = f"{prefix} Lawrow {suffix}"
    report = check_names(GLOSSARY, "de", "Lawrow", translation)
    if report.corrected != translation:
        assert report.corrected.startswith(prefix + " ")
        assert report.corrected.endswith(" " + suffix)
