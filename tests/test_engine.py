"""The CTranslate2 engine on real (random-weight) tiny packages."""

import shutil
import socket
import threading
from pathlib import Path

import pytest

from newsflow.config import TranslationConfig
from tests.support.tiny_package import build_package
from translators.chinese import to_simplified
from translators.engine import (
    Engine,
    EngineOptions,
    MemorySentenceCache,
    get_engine,
)
from translators.packages import find_package, install_from_path

GERMAN = [
    [
        "Die Bundesregierung kündigte am 3. Oktober neue Regeln an. Dr. Müller war dagegen.",
        "",
        "Der Bürgermeister von Köln forderte eine Reform der Rente.",
    ],
    [
        "Die Polizei meldete einen Streik. Die Bundesregierung kündigte am 3. Oktober neue "
        "Regeln an."
    ],
    ["Hallo Welt."],
]


@pytest.fixture(scope="module")
def de_package(installed_models_dir):
    return find_package(installed_models_dir, "de", "en")


@pytest.fixture(scope="module")
def zh_package(installed_models_dir):
    return find_package(installed_models_dir, "zh", "en")


@pytest.fixture
def engine(de_package):
    return Engine(de_package, EngineOptions())  # not shared: call counters start at 0


# GERMAN's sentences, written out: the segmenter must find exactly these (one repeated)
GERMAN_SENTENCES = [
    "Die Bundesregierung kündigte am 3. Oktober neue Regeln an.",
    "Dr. Müller war dagegen.",
    "Der Bürgermeister von Köln forderte eine Reform der Rente.",
    "Die Polizei meldete einen Streik.",
    "Hallo Welt.",
]


def sentencepiece_of(package):
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(package.path / "sentencepiece.model"))


class RecordingTranslator:
    """Wraps a ctranslate2.Translator and records every translate_batch call."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def translate_batch(self, batch, **kwargs):
        self.calls.append((batch, kwargs))
        return self.inner.translate_batch(batch, **kwargs)


def test_options_from_config():
    opts = EngineOptions.from_config(TranslationConfig(beam_size=3, max_input_tokens=64))
    assert opts.beam_size == 3 and opts.max_input_tokens == 64
    assert EngineOptions.from_config(TranslationConfig()) == EngineOptions()
    inter, intra = EngineOptions().resolved_threads()
    assert inter >= 1 and intra == 1
    assert EngineOptions(inter_threads=1, intra_threads=2).resolved_threads() == (1, 2)


def test_deterministic_for_fixed_beam(de_package):
    texts = ["Die Bundesregierung kündigte neue Regeln an.", "Hallo Welt."]
    first = Engine(de_package, EngineOptions(beam_size=2)).translate_sentences(texts)
    again = Engine(de_package, EngineOptions(beam_size=2, inter_threads=1)).translate_sentences(
        texts
    )
    assert first == again
    assert all(r.text and not r.truncated for r in first)
    assert first[0].text != first[1].text


def test_empty_sentences_skip_the_model(engine):
    assert [r.text for r in engine.translate_sentences(["", "  ", "\n"])] == ["", "", ""]
    assert engine.model_calls == 0
    out = engine.translate_documents([[], ["", " "]], "de")
    assert [d.paragraphs for d in out] == [[], ["", ""]]
    assert engine.model_calls == 0


def test_many_documents_one_batched_call(engine):
    engine._translator = recorder = RecordingTranslator(engine._translator)
    results = engine.translate_documents(GERMAN, "de")
    assert len(recorder.calls) == 1 and engine.model_calls == 1
    batch, kwargs = recorder.calls[0]
    assert kwargs["batch_type"] == "tokens"
    assert kwargs["max_input_length"] == 0 and kwargs["beam_size"] == 2
    # 6 sentences in all, 5 distinct: the repeated one is decoded once, each as
    # SentencePiece itself tokenizes it
    sp = sentencepiece_of(engine.package)
    assert sorted(batch) == sorted(sp.encode(s, out_type=str) for s in GERMAN_SENTENCES)
    assert [len(d.paragraphs) for d in results] == [3, 1, 1]
    assert [d.sentences for d in results] == [3, 2, 1]
    assert results[0].paragraphs[1] == ""
    assert results[0].paragraphs[0] and results[0].paragraphs[2]
    assert results[1].paragraphs[0] and results[2].paragraphs[0]
    assert all(d.truncated_sentences == 0 for d in results)
    # same sentence, same translation, wherever it occurs
    shared = engine.translate_sentences(
        ["Die Bundesregierung kündigte am 3. Oktober neue Regeln an."]
    )[0].text
    assert results[0].paragraphs[0].startswith(shared)
    assert results[1].paragraphs[0].endswith(shared)


TWO_SENTENCES = ["Dr. Müller war dagegen.", "Hallo Welt."]  # an odd token total (19)


@pytest.mark.parametrize("inter_threads, max_batch_tokens, sentences", [
    (1, 1024, GERMAN_SENTENCES), (2, 1024, GERMAN_SENTENCES), (1, 4, GERMAN_SENTENCES),
    (2, 4, GERMAN_SENTENCES), (2, 1024, TWO_SENTENCES)])
def test_a_call_gives_every_worker_a_sub_batch_within_the_token_bound(
    de_package, inter_threads, max_batch_tokens, sentences
):
    engine = Engine(de_package, EngineOptions(inter_threads=inter_threads, intra_threads=1,
                                              max_batch_tokens=max_batch_tokens))
    engine._translator = recorder = RecordingTranslator(engine._translator)
    engine.translate_documents(GERMAN if sentences is GERMAN_SENTENCES else [[" ".join(sentences)]], "de")
    [(_, kwargs)] = recorder.calls
    size = kwargs["max_batch_size"]
    sp = sentencepiece_of(de_package)
    total = sum(len(sp.encode(s, out_type=str)) for s in sentences)
    assert total > 8  # the cases below mean something
    if max_batch_tokens < total / inter_threads:
        assert size == max_batch_tokens  # the bound holds
    elif inter_threads == 1:
        assert size == total  # one worker: one sub-batch holds the whole call
    else:  # two workers: two sub-batches, as even as tokens allow
        assert 2 * size >= total > 2 * (size - 1)


def test_long_paragraph_is_split_not_truncated(engine):
    engine._translator = recorder = RecordingTranslator(engine._translator)
    run_on = " ".join(
        f"die Regierung plant {i} neue Regeln für den Wohnungsbau" for i in range(300)
    )  # ~17,000 characters, no sentence end
    [doc] = engine.translate_documents([[run_on]], "de")
    [(batch, _)] = recorder.calls
    assert len(batch) > 10
    assert all(len(tokens) <= engine.options.max_input_tokens for tokens in batch)
    assert doc.sentences == len(batch) and doc.truncated_sentences == 0
    assert len(doc.paragraphs) == 1 and doc.paragraphs[0]


def test_chinese_run_on_is_split(zh_package):
    engine = Engine(zh_package, EngineOptions(max_input_tokens=32))
    run_on = "".join(f"国务院{i}日宣布了新的住房政策" for i in range(200))
    [doc] = engine.translate_documents([[run_on, "记者报告。"]], "zh")
    assert doc.sentences > 10 and doc.truncated_sentences == 0
    assert len(doc.paragraphs) == 2 and all(doc.paragraphs)


def test_long_single_sentence_via_translate_sentences(engine):
    sentence = " ".join(f"Die Regierung plant {i} Regeln" for i in range(100))
    [result] = engine.translate_sentences([sentence])
    assert result.text and not result.truncated
    assert engine.sentences_decoded > 1  # split into several model inputs


def test_decoding_limit_is_flagged(de_package):
    engine = Engine(de_package, EngineOptions(max_decoding_length=8))
    [doc] = engine.translate_documents([["Die Polizei meldete einen Streik. Hallo Welt."]], "de")
    assert doc.sentences == 2 and doc.truncated_sentences == 2
    cache = MemorySentenceCache()
    engine.translate_documents([["Hallo Welt."]], "de", cache=cache)
    assert len(cache) == 0  # truncated output is never cached


def test_cache_hits_skip_the_model(engine):
    cache = MemorySentenceCache()
    first = engine.translate_documents(GERMAN, "de", cache=cache)
    assert engine.model_calls == 1 and len(cache) == 5
    second = engine.translate_documents(GERMAN, "de", cache=cache)
    assert engine.model_calls == 1  # everything came from the cache
    assert second == first
    decoded = engine.sentences_decoded
    engine.translate_documents([["Hallo Welt. Ein neuer Satz."]], "de", cache=cache)
    assert engine.model_calls == 2 and engine.sentences_decoded == decoded + 1
    assert engine.model_key == (f"translate-de_en@{engine.package.model_version}@beam2")
    assert list(cache._data)[0][0] == engine.model_key


def test_cache_key_changes_with_beam(de_package):
    cache = MemorySentenceCache()
    one = Engine(de_package, EngineOptions(beam_size=1))
    two = Engine(de_package, EngineOptions(beam_size=2))
    one.translate_documents([["Hallo Welt."]], "de", cache=cache)
    two.translate_documents([["Hallo Welt."]], "de", cache=cache)
    assert two.model_calls == 1 and len(cache) == 2


def test_translation_with_all_sockets_blocked(monkeypatch, installed_models_dir):
    def refuse(*args, **kwargs):
        raise OSError("network is disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    package = find_package(installed_models_dir, "zh", "en")
    engine = Engine(package, EngineOptions())
    [doc] = engine.translate_documents([["外交部表示，谈判继续。记者问：“为什么？”"]], "zh")
    assert doc.sentences == 2 and doc.paragraphs[0]


def test_get_engine_is_shared_and_thread_safe(de_package):
    options = EngineOptions(beam_size=1)
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(get_engine(de_package, options)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(e) for e in seen}) == 1
    assert get_engine(de_package, options) is seen[0]
    assert get_engine(de_package, EngineOptions(beam_size=2)) is not seen[0]


def test_replaced_package_gets_a_new_engine(tmp_path):
    home = tmp_path / "packages"
    install_from_path(build_package(tmp_path / "a", "de", seed=0), home)
    first = get_engine(find_package(home, "de", "en"))
    install_from_path(build_package(tmp_path / "b", "de", seed=7), home)
    second = get_engine(find_package(home, "de", "en"))
    assert second is not first and second.model_key != first.model_key


def test_target_prefix_is_forced_and_stripped(tmp_path):
    home = tmp_path / "packages"
    [pkg] = install_from_path(build_package(tmp_path, "de", target_prefix="▁Die"), home)
    engine = Engine(pkg, EngineOptions())
    engine._translator = recorder = RecordingTranslator(engine._translator)
    [result] = engine.translate_sentences(["Hallo Welt."])
    [(_, kwargs)] = recorder.calls
    assert kwargs["target_prefix"] == [["▁Die"]]
    raw = recorder.inner.translate_batch(
        [["▁Hallo"]], target_prefix=[["▁Die"]], return_end_token=True
    )
    assert raw[0].hypotheses[0][0] == "▁Die"
    assert result.text and not result.truncated


def test_bpe_package_translates(tmp_path, installed_models_dir):
    """A package with bpe.model (sacremoses + subword-nmt codes) loads and translates."""
    src = find_package(installed_models_dir, "de", "en").path
    folder = tmp_path / "packages" / "translate-de_en-bpe"
    shutil.copytree(src, folder)
    (folder / "sentencepiece.model").unlink()
    (folder / "bpe.model").write_text("#version: 0.2\nd i\nW e\nWe l\n", encoding="utf-8")
    pkg = find_package(folder.parent, "de", "en")
    assert pkg.tokenizer == "bpe"
    engine = Engine(pkg, EngineOptions())
    assert engine._tokenizer.encode("Die Welt, sagt er.")[:3] == ["D@@", "i@@", "e"]
    [doc] = engine.translate_documents([["Die Welt, sagt er. Hallo."]], "de")
    assert doc.sentences == 2 and doc.paragraphs[0]


def test_to_simplified():
    assert to_simplified("臺灣總統府發言人說") == "台湾总统府发言人说"
    assert to_simplified("") == ""
    assert to_simplified("Berlin 2026") == "Berlin 2026"


def test_missing_model_is_a_model_error(tmp_path, installed_models_dir):
    from newsflow.errors import ModelError

    folder = tmp_path / "broken"
    shutil.copytree(find_package(installed_models_dir, "de", "en").path, folder)
    (folder / "model" / "config.json").write_text("{", encoding="utf-8")
    pkg = find_package(tmp_path, "de", "en")
    with pytest.raises(ModelError, match=str(Path(folder / "model"))):
        Engine(pkg, EngineOptions())


# --- scores, n-best and the second pass (issue 14) ----------------------------------

SENTENCES = [
    "Die Polizei meldete einen Streik.",
    "Hallo Welt.",
    "Der Bürgermeister von Köln forderte eine Reform der Rente.",
    "Die Bundesregierung kündigte am 3. Oktober neue Regeln an.",
    "Dr. Müller war dagegen.",
    "Die Opposition kritisierte den Plan.",
]


def test_every_sentence_gets_its_score_and_nbest_list(engine):
    engine._translator = recorder = RecordingTranslator(engine._translator)
    results = engine.translate_sentences(SENTENCES[:3])
    [(_, kwargs)] = recorder.calls
    assert kwargs["return_scores"] is True and kwargs["num_hypotheses"] == 2  # = beam size
    for r in results:
        assert r.score is not None and r.score < 0  # mean log-probability per token
        assert len(r.hypotheses) == 2 and r.hypotheses[0] == (r.text, r.score)
        assert r.hypotheses[0][1] >= r.hypotheses[1][1]  # best first
        assert not r.redecoded


def _redecoding(de_package, **kw):
    return Engine(de_package, EngineOptions(redecode=True, **kw))


def test_flagged_sentences_are_decoded_again_and_the_better_kept(de_package):
    # every random-weight sentence is far below a threshold of 0: all are flagged low-confidence
    engine = _redecoding(de_package, low_confidence=(("default", 0.0),), redecode_max_share=1.0)
    engine._translator = recorder = RecordingTranslator(engine._translator)
    results = engine.translate_sentences(SENTENCES)
    first_call, second_call = recorder.calls
    assert len(first_call[0]) == len(second_call[0]) == len(SENTENCES)
    assert first_call[1]["beam_size"] == 2 and "repetition_penalty" not in first_call[1]
    assert second_call[1]["beam_size"] == 4 and second_call[1]["num_hypotheses"] == 4
    assert second_call[1]["repetition_penalty"] == 1.2 and second_call[1]["no_repeat_ngram_size"] == 3
    # both attempts counted
    assert engine.sentences_decoded == 2 * len(SENTENCES)
    assert engine.sentences_redecoded == len(SENTENCES)
    # the same two calls by hand (same batch: int8 results can depend on a sentence's batch mates)
    plain = Engine(de_package, EngineOptions())
    ordered = sorted(SENTENCES)
    batch = [plain._tokenizer.encode(s) for s in ordered]
    firsts = dict(zip(ordered, plain._decode(batch), strict=True))
    agains = dict(zip(ordered, plain._decode(batch, beam=4, repetition_penalty=1.2,
                                             no_repeat_ngram_size=3), strict=True))
    kept_second = 0
    for source, result in zip(SENTENCES, results, strict=True):
        first, again = firsts[source], agains[source]
        better = again if engine._rank(source, again, None) > engine._rank(source, first, None) else first
        assert result.redecoded and result.text == better.text
        assert result.score == pytest.approx(better.score, abs=1e-4)
        kept_second += better is again
    assert engine.redecode_kept == kept_second >= 1  # the second attempt won somewhere


def test_only_flagged_sentences_are_redecoded_within_the_budget(de_package):
    engine = _redecoding(de_package, low_confidence=(("default", -100.0),), redecode_max_share=1.0)
    results = engine.translate_sentences(SENTENCES)
    flagged = [s for s, r in zip(SENTENCES, results, strict=True) if r.redecoded]
    plain = Engine(de_package, EngineOptions())
    expected = [s for s, r in zip(SENTENCES, plain.translate_sentences(SENTENCES), strict=True)
                if engine._needs_redecode(s, r, None)]
    assert flagged == expected and engine.sentences_redecoded == len(expected)
    # the budget: at most a quarter of the call's sentences, lowest scores first
    capped = _redecoding(de_package, low_confidence=(("default", 0.0),))
    capped.translate_sentences(SENTENCES)
    assert capped.sentences_redecoded == 2  # ceil(0.25 * 6)
    # a per-model threshold wins over the default
    own = _redecoding(de_package, low_confidence=(("default", 0.0), ("translate-de_en", -100.0)))
    assert own.low_confidence == -100.0


def test_truncated_sentences_are_redecoded(de_package):
    engine = _redecoding(de_package, max_decoding_length=8, redecode_max_share=1.0,
                         low_confidence=(("default", -100.0),))
    [doc] = engine.translate_documents([["Die Polizei meldete einen Streik. Hallo Welt."]], "de")
    assert engine.sentences_redecoded == 2 and doc.redecoded == 2
    assert doc.truncated_sentences == 2  # still cut at 8 tokens: both attempts were


def test_cache_keys_on_redecode_settings_and_keeps_scores(de_package):
    plain = Engine(de_package, EngineOptions())
    on = _redecoding(de_package)
    wider = _redecoding(de_package, redecode_beam=6)
    stricter = _redecoding(de_package, low_confidence=(("default", -0.3),))
    keys = {plain.model_key, on.model_key, wider.model_key, stricter.model_key}
    assert len(keys) == 4 and plain.model_key.endswith("@beam2")
    cache = MemorySentenceCache()
    [first] = on.translate_documents([SENTENCES[:2]], "de", cache=cache)
    calls = on.model_calls
    [again] = on.translate_documents([SENTENCES[:2]], "de", cache=cache)
    assert on.model_calls == calls and again.from_cache == 2 and first.from_cache == 0
    assert [r for _, r in again.details[0]] == [r for _, r in first.details[0]]  # scores, n-best kept
    # a value cached by an older engine (plain text) still reads
    cache.put_many(plain.model_key, {"Hallo Welt.": "Hello world."})
    [old] = plain.translate_documents([["Hallo Welt."]], "de", cache=cache)
    assert old.paragraphs == ["Hello world."] and old.details[0][0][1].score is None


def test_document_details_line_up_with_sentences(engine):
    [doc] = engine.translate_documents([["Erster Satz. Zweiter Satz.", "", "Dritter."]], "de")
    assert [[s for s, _ in part] for part in doc.details] == [["Erster Satz.", "Zweiter Satz."], [],
                                                               ["Dritter."]]
    assert doc.paragraphs[0] == " ".join(r.text for _, r in doc.details[0])
