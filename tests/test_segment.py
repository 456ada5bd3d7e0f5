"""Sentence segmentation and splitting of over-long segments (pure, no models)."""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.reliability.harness import german_sentences
from translators import segment
from translators.segment import segment_paragraphs, split_long, split_sentences


def _no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def words(text: str) -> int:
    """A stand-in tokenizer: one token per word plus one per 8 characters of a word."""
    return sum(1 + len(w) // 8 for w in text.split())


# --- German ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Müller und Prof. Schneider kamen.",
        "Das Haus Nr. 5 steht leer.",
        "Es gibt z. B. Äpfel und u. a. Birnen.",
        "Das sind bzw. waren ca. 300 Menschen.",
        "Sie wohnt in St. Pauli, vgl. S. 12 im Bericht.",
        "Laut Abs. 3 gilt das ab Jan. 2026.",
        "Der Roman von J. R. R. Tolkien erschien.",
        "Die Wahl ist am 3. Oktober.",
        "Der Vertrag wurde am 12. März 2026 unterzeichnet.",
        "Er feiert zum 100. Geburtstag im 19. Jahrhundert.",
        "Die Inflation lag bei 3,5 Prozent und 3.5 Prozent.",
        "„Wer kommt?“, fragte sie.",
        "Er sagte „Nein!“ und ging.",
        "Mr. Smith met Mrs. Jones.",
    ],
)
def test_german_sentence_not_split(text):
    assert split_sentences(text, "de") == [text]


def test_german_sentences_split_at_ends():
    text = (
        "Die Regierung tagte am 3. Oktober. Dr. Müller sagte: „Wir kommen.“ "
        "Danach ging er nach Hause! Warum? Im Jahr 2025. Die Zahl 3.5 stieg … "
        "Am Ende kam er."
    )
    assert split_sentences(text, "de") == [
        "Die Regierung tagte am 3. Oktober.",
        "Dr. Müller sagte: „Wir kommen.“",
        "Danach ging er nach Hause!",
        "Warum?",
        "Im Jahr 2025.",
        "Die Zahl 3.5 stieg …",
        "Am Ende kam er.",
    ]


def test_split_before_quote_and_digit():
    text = "Er kam. „Gut“, sagte sie. 2026 wird besser. (Das ist klar.)"
    assert split_sentences(text, "de") == [
        "Er kam.",
        "„Gut“, sagte sie.",
        "2026 wird besser.",
        "(Das ist klar.)",
    ]


def test_lowercase_after_period_does_not_split():
    assert split_sentences("Das kostet 5 Euro. und mehr.", "de") == ["Das kostet 5 Euro. und mehr."]


def test_english_number_ends_sentence():
    assert split_sentences("Prices rose in 2025. The bank said 3. Then it fell.", "en") == [
        "Prices rose in 2025.",
        "The bank said 3.",
        "Then it fell.",
    ]


def test_empty_and_whitespace():
    assert split_sentences("", "de") == []
    assert split_sentences("  \n ", "zh") == []
    assert split_sentences("  Ein Satz.  ", "de") == ["Ein Satz."]


# --- Chinese --------------------------------------------------------------


def test_chinese_punctuation_and_quotes():
    text = "他说：“我们会来。”然后他走了！真的吗？是的……好「對」。外交部表示；谈判继续（据报道）。"
    assert split_sentences(text, "zh") == [
        "他说：“我们会来。”",
        "然后他走了！",
        "真的吗？",
        "是的……",
        "好「對」。",
        "外交部表示；",
        "谈判继续（据报道）。",
    ]


def test_traditional_chinese_closing_brackets():
    text = "總統說：「我們會繼續對話。」記者問『為什麼？』"
    assert split_sentences(text, "zt") == ["總統說：「我們會繼續對話。」", "記者問『為什麼？』"]


def test_chinese_decimal_not_split():
    assert split_sentences("增长了3.5%。", "zh") == ["增长了3.5%。"]


# --- split_long -------------------------------------------------------------


def test_short_segment_is_kept():
    assert split_long("Ein kurzer Satz.", words, 10) == ["Ein kurzer Satz."]
    assert split_long("", words, 10) == []


def test_prefers_commas_then_spaces():
    text = ", ".join(f"Teil {i} mit einigen Wörtern" for i in range(20))
    pieces = split_long(text, words, 12)
    assert "".join(pieces) == text
    assert all(words(p) <= 12 for p in pieces)
    assert all(p.rstrip().endswith(",") for p in pieces[:-1])


def test_decimal_comma_is_not_a_break():
    text = " ".join(["3,5"] * 40)
    pieces = split_long(text, words, 10)
    assert "".join(pieces) == text
    assert all(not p.rstrip().endswith(",") for p in pieces)


def test_run_on_latin_text_keeps_every_character():
    text = " ".join(f"wort{i}" for i in range(20000))[:100_000]
    pieces = split_long(text, words, 50)
    assert "".join(pieces) == text
    assert all(words(p) <= 50 for p in pieces)
    assert all(p.endswith(" ") for p in pieces[:-1])  # cut at spaces, not inside words


def test_run_on_without_spaces_hard_cut():
    text = "中" * 100_000  # Chinese: no spaces, no punctuation

    pieces = split_long(text, len, 200)
    assert "".join(pieces) == text
    assert all(len(p) <= 200 for p in pieces)
    assert len(pieces) == 500


def test_chinese_prefers_chinese_commas():
    text = "，".join(["国务院宣布了新的住房政策"] * 30)
    pieces = split_long(text, len, 40)
    assert "".join(pieces) == text
    assert all(p.endswith("，") for p in pieces[:-1])


def test_single_character_over_limit_still_progresses():
    assert split_long("abc", lambda s: 5 * len(s), 2) == ["a", "b", "c"]


def test_segment_paragraphs_shape():
    paragraphs = ["Erster Satz. Zweiter Satz.", "", "Dritter " * 30]
    out = segment_paragraphs(paragraphs, "de", words, 10)
    assert out[0] == ["Erster Satz.", "Zweiter Satz."]
    assert out[1] == []
    assert len(out[2]) == 3 and all(words(s) <= 10 for s in out[2])


# --- Property: nothing is lost ------------------------------------------------

_alphabet = st.sampled_from(
    list("abcXYZ äöüÄÖÜß019")
    + [
        ". ",
        "! ",
        "? ",
        "… ",
        "„",
        "“",
        '"',
        "'",
        ",",
        ";",
        " ",
        "\n",
        "Dr.",
        " z. B. ",
        "3.",
        "中",
        "文",
        "。",
        "！",
        "？",
        "；",
        "」",
        "”",
        "）",
        "……",
        "\t",
    ]
)
_texts = st.lists(_alphabet, max_size=80).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=_texts, lang=st.sampled_from(["de", "en", "zh", "zt"]))
def test_split_sentences_loses_nothing(text, lang):
    segments = split_sentences(text, lang)
    assert _no_space("".join(segments)) == _no_space(text)
    assert all(s == s.strip() and s for s in segments)
    # in order: each segment is found after the previous one
    pos = 0
    for s in segments:
        pos = text.index(s, pos) + len(s)


@settings(max_examples=200, deadline=None)
@given(text=_texts, limit=st.integers(min_value=1, max_value=12))
@example(text="a,   b", limit=2)
@example(text="ab   cd", limit=3)
def test_split_long_loses_nothing(text, limit):
    pieces = split_long(text, len, limit)
    assert "".join(pieces) == text
    assert all(len(p) <= limit for p in pieces)


# --- The boundary test reads a window, not the whole prefix (same answers) -------------


def _old_is_latin_boundary(text, match, lang):
    """The implementation before the window: split the whole prefix and rest each time."""
    after = match.end()
    if after >= len(text):
        return False
    nxt = text[after]
    if not (nxt.isupper() or nxt.isdigit() or nxt in segment._OPENERS):
        return False
    terminal = match.group().rstrip().rstrip(segment._CLOSERS)
    if terminal != ".":
        return True
    words = text[: match.start()].split()
    if not words:
        return True
    word = words[-1].lstrip(segment._OPENERS)
    if not word:
        return True
    if word in segment._ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():
        return False
    if segment._DOTTED.match(word):
        return False
    if word.isdigit() and len(word) <= 3 and lang != "en":
        next_word = text[after:].split(maxsplit=1)[0].strip(segment._OPENERS + ".,;:").lower()
        previous = words[-2].lower() if len(words) > 1 else ""
        if next_word in segment._MONTHS or previous in segment._ORDINAL_LEAD:
            return False
        if re.match(r"\d{1,4}\.", text[after:]):
            return False
    return True


def _assert_same_boundaries(text, lang):
    for match in segment._LATIN_BOUNDARY.finditer(text):
        assert segment._is_latin_boundary(text, match, lang) == _old_is_latin_boundary(
            text, match, lang), (text, match)


def test_boundaries_as_before_on_corpus_text():
    import random

    rng = random.Random(6)
    paragraph = " ".join(german_sentences(rng, 300))  # as the corpus's 5 MB article
    for lang in ("de", "en"):
        _assert_same_boundaries(paragraph, lang)
        _assert_same_boundaries("Am 3. Oktober 2025. Dr. Meier und J. R. R. Tolkien, u.a. "
                                "12. 3. 2026. Im Jahr 2025. Die " + "x" * 300 + " 7. März", lang)


# long words (over the 64-character window) and every kind of whitespace str.split knows
_boundary_pieces = st.sampled_from(
    ["am ", "im ", "der ", "3", "12", "2025", ". ", "... ", "! ", "Oktober", "März ", "Dr",
     "z.B", "J", "„", "“", "(", ")", "Die ", "die ", "x" * 70, "Y" * 130, " ", "\n", "\u2028",
     "\x1c", "\xa0", "\u3000", "\t", "7.", "ab", ". „Wir"]
)


@settings(max_examples=100, deadline=None)
@given(text=st.lists(_boundary_pieces, max_size=60).map("".join),
       lang=st.sampled_from(["de", "en"]), window=st.sampled_from([1, 2, 3, 5, 8, 64]))
@example(text="Xam 3. Die", lang="de", window=1)  # the word before cut to "am"
@example(text="Xx 3. Oktoberfest.", lang="de", window=3)  # the word after cut to "Okt"
def test_boundaries_as_before(text, lang, window):
    saved, segment._WINDOW = segment._WINDOW, window  # small windows: words cut at its edge
    try:
        _assert_same_boundaries(text, lang)
    finally:
        segment._WINDOW = saved
