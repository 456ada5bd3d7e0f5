"""jieba's dictionary as an on-disk index (newsflow/names/jieba_index.py): it answers exactly
like ``jieba.Tokenizer().FREQ``, the segmenter decides the same with it, it is built once per
machine, and an unwritable, stale, corrupt or broken file costs speed, never a run.

The full dictionary is built once for the module (about 3 CPU-s); the tests of rebuilding use a
small dictionary file (the first lines of jieba's), which follows the same code."""

from __future__ import annotations

import logging
import math
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.names import jieba_index, load_glossary, segment
from newsflow.names.translit import is_han

REPO = Path(__file__).resolve().parents[1]
SETTINGS = settings(
    max_examples=int(os.environ.get("NAMES_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _jieba():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@pytest.fixture(scope="module")
def jieba_freq():
    """jieba's FREQ and total as ``jieba.Tokenizer().initialize()`` makes them: its own
    ``gen_pfdict`` on the file it opens (checked below), without its marshal cache."""
    source = jieba_index.jieba_source()
    with _jieba().Tokenizer().get_dict_file() as opened:
        assert Path(opened.name) == source.path
    return jieba_index.prefix_dictionary(source)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("newsflow-cache")


@pytest.fixture(scope="module")
def index(cache_root, jieba_freq):
    """The index as open_dictionary builds it, from the same (FREQ, total) (one ~1.5 CPU-s
    gen_pfdict for the module instead of two), then opened by open_dictionary."""
    source = jieba_index.jieba_source()
    jieba_index.build_index(source.key, *jieba_freq, cache_root / "jieba" / source.index_name)
    freq, total = jieba_index.open_dictionary(cache_root / "jieba")
    assert isinstance(freq, jieba_index.JiebaIndex)  # the built file, not the in-memory fallback
    return freq


@pytest.fixture
def small_source(tmp_path, monkeypatch):
    """A 3,000-line dictionary in place of jieba's: the rebuild tests build in milliseconds."""
    lines = jieba_index.jieba_source().path.read_bytes().splitlines(keepends=True)[:3000]
    path = tmp_path / "dict.txt"
    path.write_bytes(b"".join(lines))
    monkeypatch.setattr(jieba_index, "jieba_source", lambda: jieba_index.source_for(path, "test"))
    return path


def _expected(path: Path) -> tuple[dict[str, int], int]:
    return _jieba().Tokenizer.gen_pfdict(open(path, "rb"))


def _answers_like(mapping, freq: dict[str, int], words) -> None:
    for word in words:
        assert (word in mapping) == (word in freq), word
        assert mapping.get(word) == freq.get(word), word
        assert mapping.get(word, -1) == freq.get(word, -1), word
        if word in freq:
            assert mapping[word] == freq[word], word
        else:
            with pytest.raises(KeyError):
                mapping[word]


# --- (a) the same answers as jieba's FREQ ---------------------------------------------------


def test_the_index_answers_like_jiebas_freq(index, jieba_freq):
    freq, total = jieba_freq
    assert index.total == total
    assert len(index) == len(freq)
    rng = random.Random(20261201)
    sample = rng.sample(sorted(freq), 5_000)
    _answers_like(index, freq, sample)
    # non-words: dictionary characters recombined, and every prefix of them in order (the way
    # the segmenter asks, which is what the "next characters" shortcut answers)
    chars = sorted({ch for word in sample for ch in word})
    for _ in range(3_000):
        word = "".join(rng.choice(chars) for _ in range(rng.randint(1, 6)))
        _answers_like(index, freq, [word[:n] for n in range(1, len(word) + 1)])


@SETTINGS
@given(word=st.text(max_size=8))
def test_any_string_gets_jiebas_answer(index, jieba_freq, word):
    _answers_like(index, jieba_freq[0], [word, word[:1], word + "的"])


def test_strings_sqlite_cannot_take_are_no_words(index):
    for word in ["\ud800", "中\udfff", "中\x00国", "", 1, None, ("中",)]:
        assert word not in index and index.get(word) is None


def test_every_key_once(index, jieba_freq):
    assert set(index) == set(jieba_freq[0])


def test_lookups_from_many_threads(index, jieba_freq):
    freq = jieba_freq[0]
    words = random.Random(7).sample(sorted(freq), 1000) + [w + "丶丶" for w in list(freq)[:200]]
    fresh = jieba_index.JiebaIndex(index.path, jieba_index.jieba_source())
    failures = []

    def look_up(part):
        try:
            _answers_like(fresh, freq, part)
        except AssertionError as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=look_up, args=(words[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


# --- (b) the segmenter decides the same -----------------------------------------------------


@pytest.fixture(scope="module")
def han_pieces(jieba_freq):
    """Real dictionary words, glossary forms and their single characters."""
    freq = jieba_freq[0]
    words = [
        w for w in random.Random(3).sample(sorted(freq), 3000) if freq[w] and all(map(is_han, w))
    ]
    forms = sorted(load_glossary(REPO / "glossary.yaml").index.han_forms)
    chars = sorted({ch for piece in words + forms for ch in piece})
    return words, forms, chars


@pytest.fixture
def with_dictionary(monkeypatch):
    def use(freq, total):
        monkeypatch.setattr(segment, "_dictionary", (freq, math.log(total)))

    return use


def _texts(pieces):
    words, forms, chars = pieces
    piece = st.sampled_from(words) | st.sampled_from(forms) | st.sampled_from(chars)
    return st.lists(piece | st.sampled_from(["，", "。", " ", "A"]), max_size=14).map("".join)


@SETTINGS
@given(data=st.data())
def test_the_segmenter_decides_the_same(data, index, jieba_freq, han_pieces, with_dictionary):
    text = data.draw(_texts(han_pieces))
    forms = han_pieces[1]
    hits = [
        (at, at + len(form))
        for form in forms
        for at in range(len(text))
        if text.startswith(form, at)
    ]
    overlay = {text[s:e]: 2000 for s, e in hits if e - s > 1}
    verdicts = []
    for freq, total in (jieba_freq, (index, index.total)):
        with_dictionary(freq, total)
        words = segment._words(text, 0, len(text), overlay)
        found = [
            segment.is_word(text, s, e, hits, chinese, frozenset(forms))
            for s, e in hits
            for chinese in (False, True)
        ]
        verdicts.append((words, found))
    assert verdicts[0] == verdicts[1]


def test_a_real_sentence_is_segmented_the_same(index, jieba_freq, with_dictionary):
    text = "中俄作为联合国安理会常任理事国，习近平在北京人民大会堂会见拉夫罗夫，李强调研基辅罗斯"
    results = []
    for freq, total in (jieba_freq, (index, index.total)):
        with_dictionary(freq, total)
        results.append(segment._words(text, 0, len(text), {"拉夫罗夫": 2000}))
    assert results[0] == results[1]


# --- (c) built once per machine ---------------------------------------------------------------


def test_a_second_process_reuses_the_file(index, cache_root):
    before = index.path.stat()
    code = (
        "import sys\n"
        "from newsflow.names import segment\n"
        "freq, log_total = segment.dictionary()\n"
        "print(type(freq).__name__, '的' in freq, 'jieba' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "NEWSFLOW_CACHE_DIR": str(cache_root), "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # the index, not a rebuild: jieba (needed only to build) was never imported
    assert done.stdout.split() == ["JiebaIndex", "True", "False"]
    after = index.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in index.path.parent.iterdir()] == [index.path.name]  # no leftovers


def test_segment_opens_the_index_in_its_cache_dir(monkeypatch, cache_root, index):
    monkeypatch.setenv("NEWSFLOW_CACHE_DIR", str(cache_root))
    monkeypatch.setattr(segment, "_dictionary", None)
    freq, log_total = segment.dictionary()
    assert isinstance(freq, jieba_index.JiebaIndex) and freq.path == index.path
    assert log_total == math.log(index.total)


# --- (d) an unwritable cache folder ---------------------------------------------------------


def test_an_unwritable_cache_dir_falls_back_to_memory(small_source, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # root may write anywhere, but not under a file
    monkeypatch.setenv("NEWSFLOW_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(segment, "_dictionary", None)
    with caplog.at_level(logging.WARNING, logger="newsflow.names"):
        freq, log_total = segment.dictionary()
    assert isinstance(freq, dict)
    expected, total = _expected(small_source)
    assert freq == expected and log_total == math.log(total)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(blocker / "cache" / "jieba") in warnings[0].getMessage()


# --- (e) stale, misnamed, corrupt and broken files are rebuilt ------------------------------


def test_a_changed_format_version_is_rebuilt(small_source, tmp_path, monkeypatch):
    folder = tmp_path / "jieba"
    old, _ = jieba_index.open_dictionary(folder)
    monkeypatch.setattr(jieba_index, "FORMAT_VERSION", jieba_index.FORMAT_VERSION + 1)
    new, total = jieba_index.open_dictionary(folder)
    assert isinstance(new, jieba_index.JiebaIndex) and new.path != old.path
    expected, expected_total = _expected(small_source)
    assert total == expected_total and dict(new.items()) == expected


def test_a_file_with_another_key_is_rebuilt_not_misread(small_source, tmp_path):
    folder = tmp_path / "jieba"
    index, _ = jieba_index.open_dictionary(folder)
    built = index.path.read_bytes()
    # another dictionary, and under its file name the index of the first one: the stored key
    # tells them apart (as it would after a hash collision or a copied file)
    small_source.write_bytes(b"".join(small_source.read_bytes().splitlines(keepends=True)[:100]))
    source = jieba_index.jieba_source()
    stale = folder / source.index_name
    stale.write_bytes(built)
    index, total = jieba_index.open_dictionary(folder)
    assert isinstance(index, jieba_index.JiebaIndex) and index.path == stale
    assert (dict(index.items()), total) == _expected(small_source)


@pytest.mark.parametrize(
    "content", [b"", b"garbage" * 1000, b"SQLite format 3\x00" + b"\x00" * 600]
)
def test_a_corrupt_file_is_rebuilt(small_source, tmp_path, content):
    folder = tmp_path / "jieba"
    folder.mkdir()
    path = folder / jieba_index.jieba_source().index_name
    path.write_bytes(content)
    index, total = jieba_index.open_dictionary(folder)
    assert isinstance(index, jieba_index.JiebaIndex)
    assert (dict(index.items()), total) == _expected(small_source)


def test_a_file_that_breaks_in_use_is_dropped(small_source, tmp_path, caplog):
    folder = tmp_path / "jieba"
    index, _ = jieba_index.open_dictionary(folder)
    expected, _ = _expected(small_source)
    size = index.path.stat().st_size
    with open(index.path, "r+b") as file:  # in place, after the first page (read on opening)
        file.seek(4096)
        file.write(b"\xff" * (size - 4096))
    with caplog.at_level(logging.WARNING, logger="newsflow.names"):
        _answers_like(index, expected, sorted(expected)[::7] + ["不是词"])
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert not index.path.exists()  # the next process rebuilds it
    again, _ = jieba_index.open_dictionary(folder)
    assert isinstance(again, jieba_index.JiebaIndex) and dict(again.items()) == expected


def test_builds_at_the_same_time_all_end_up_with_a_whole_file(small_source, tmp_path):
    source = jieba_index.jieba_source()
    expected, total = _expected(small_source)
    target = tmp_path / "jieba" / source.index_name
    start = threading.Barrier(4)
    errors = []

    def build():
        start.wait()
        try:
            jieba_index.build_index(source.key, expected, total, target)
            index = jieba_index.JiebaIndex(target, source)  # whichever file won, it is whole
            assert dict(index.items()) == expected
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary files
