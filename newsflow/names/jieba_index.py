"""jieba's dictionary as a read-only mapping over an on-disk index, queried word by word.

Loading jieba's dictionary (``jieba.Tokenizer().initialize()``: a marshal cache of about
500,000 words and prefixes) costs 1.5 CPU-s in every process that meets Chinese, and the
segmenter asks it about a few dozen fragments per glossary hit. So the dictionary is built
once per machine into a SQLite file (about 3 CPU-s, 11 MB) and each process asks SQLite only
for what it needs (opening it: milliseconds).

Decisions:

* **The same data.** The file holds what ``jieba.Tokenizer().FREQ`` holds, made by jieba's
  own ``Tokenizer.gen_pfdict`` from jieba's own ``dict.txt``: every word with its count and
  every prefix of a word with count 0 (the segmenter's ``while fragment in freq`` relies on
  the prefixes), plus ``total``. Lookups are exact (binary collation: byte order of UTF-8 is
  code-point order, and nothing is case-folded).
* **Keyed, never misread.** The key is jieba's version, ``dict.txt``'s size and mtime and
  ``FORMAT_VERSION``; a hash of it names the file and the key itself is stored in the file and
  checked on opening. A changed dictionary, jieba or format gets a new file; the old one is
  left for whoever still uses it (another venv with another jieba).
* **Atomic.** A build goes to a temporary file in the same folder and is ``os.replace``d in:
  two processes building at once both end up with a whole file (the last one wins), and a
  reader never sees half a file. Files are never changed in place, which is why they are
  opened ``immutable=1`` (no locking, no change checks per query).
* **Never fatal.** A missing, stale or unreadable file is rebuilt once; when that fails (the
  folder cannot be written, the disk is full) the dictionary is built in memory from
  ``dict.txt`` as jieba does, with one warning naming the folder: slower, same answers. A
  file that breaks while in use is dropped (deleted, so the next process rebuilds it) and
  the rest of the process uses the in-memory dictionary.
* **Few queries.** Each answer is kept per process (``_seen``: the fragments of a window come
  back with every hit in it). Each row also holds the characters that extend its word to
  another entry (a trie's edges), so the miss that ends a ``while fragment in freq`` loop,
  most lookups, needs no query once the fragment before it was looked up. A 5,000-character
  text costs about 2x the dictionary's time on its first segmentation, the same after.
* **No jieba import** when the file exists: the package is located with
  ``importlib.util.find_spec`` and its version read from its source (importing jieba costs
  about 70 ms, ``importlib.metadata`` about 60: the whole cost of a cached start).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
import sqlite3
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 1  # bump when the schema or what is stored changes: old files are then ignored
# Looked-up fragments kept per process (a window's fragments come back with every hit in it);
# about 150 bytes each, emptied when full.
SEEN_LIMIT = 200_000

log = logging.getLogger("newsflow.names")

_MISSING = object()


class IndexUnusable(Exception):
    """The file is missing, stale (another key) or not a whole index."""


@dataclass(frozen=True)
class DictionarySource:
    """jieba's dictionary file and the key that identifies what is built from it."""

    path: Path
    key: str

    @property
    def index_name(self) -> str:
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:16]
        return f"dict-{digest}.sqlite3"


def jieba_source() -> DictionarySource:
    """Where jieba's ``dict.txt`` is, found without importing jieba."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.origin:
        raise ImportError("jieba is not installed")
    init_file = Path(spec.origin)
    # jieba.DEFAULT_DICT_NAME, the file jieba.Tokenizer().get_dict_file() opens
    return source_for(init_file.parent / "dict.txt", _jieba_version(init_file))


def source_for(path: Path, jieba_version: str) -> DictionarySource:
    """A dictionary file keyed by its size and mtime, jieba's version and ``FORMAT_VERSION``."""
    stat = path.stat()
    key = f"jieba={jieba_version};dict={stat.st_size}:{stat.st_mtime_ns};format={FORMAT_VERSION}"
    return DictionarySource(path, key)


_VERSION_LINE = re.compile(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def _jieba_version(init_file: Path) -> str:
    """jieba's ``__version__`` as its source states it; without one, the source file's size and
    mtime stand in (a changed jieba still gets a new key)."""
    with open(init_file, encoding="utf-8", errors="replace") as source:
        match = _VERSION_LINE.search(source.read(4096))
    if match:
        return match.group(1)
    stat = init_file.stat()
    return f"unknown:{stat.st_size}:{stat.st_mtime_ns}"


def prefix_dictionary(source: DictionarySource) -> tuple[dict[str, int], int]:
    """(FREQ, total) exactly as jieba builds them: its own ``gen_pfdict`` on its own file."""
    with warnings.catch_warnings():  # jieba 0.42 has invalid escapes in regexes
        warnings.simplefilter("ignore")
        import jieba  # lazily: only a build or the fallback needs it

    return jieba.Tokenizer.gen_pfdict(open(source.path, "rb"))  # gen_pfdict closes the file


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def build_index(key: str, freq: dict[str, int], total: int, target: Path) -> None:
    """Write an index to ``target`` atomically (temporary file, ``os.replace``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        _write(Path(temporary), key, freq, total)
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; jieba's public data, readable
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _rows(freq: dict[str, int]) -> list[tuple[str, int, str]]:
    """(word, count, next) in key order (appending to the B-tree is the fastest way to fill
    it). ``next``: the characters that extend the word to another entry, a trie's edges, so
    looking up an extension that is not there needs no query."""
    following: dict[str, set[str]] = {}
    for word in freq:
        if len(word) > 1:
            following.setdefault(word[:-1], set()).add(word[-1])
    return [
        (word, count, "".join(sorted(following.get(word, ()))))
        for word, count in sorted(freq.items())
    ]


def _write(path: Path, key: str, freq: dict[str, int], total: int) -> None:
    connection = sqlite3.connect(path)
    try:
        # No journal, no syncs while writing: a failed build is a deleted temporary file.
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute(
            "CREATE TABLE freq (word TEXT PRIMARY KEY, count INTEGER NOT NULL, next TEXT NOT NULL)"
            " WITHOUT ROWID"
        )
        connection.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID")
        connection.executemany("INSERT INTO freq VALUES (?, ?, ?)", _rows(freq))
        meta = {"key": key, "total": total, "words": len(freq)}
        connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        connection.commit()
    finally:
        connection.close()
    with open(path, "rb") as written:  # on disk before it is renamed into place
        os.fsync(written.fileno())


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class JiebaIndex(Mapping):
    """word -> count, read from an index file, answering like ``jieba.Tokenizer().FREQ``.

    Thread safety: one connection opened with ``check_same_thread=False`` and a lock around
    each query, rather than one connection per thread. Prefect's pool threads come and go
    and per-thread connections would each open the file and keep a page cache of their
    own; a query takes microseconds, and most lookups are answered from ``_seen`` without
    the lock, so serialising them costs nothing measurable."""

    def __init__(self, path: Path, source: DictionarySource):
        self.path = path
        self._source = source
        self._lock = threading.Lock()
        self._seen: dict[str, int | None] = {}  # word -> count, None for no entry
        self._next: dict[str, str] = {}  # entry -> the characters that extend it to an entry
        self._memory: dict[str, int] | None = None  # after the file broke in use
        self._connection = _open_read_only(path)
        try:
            self.total, self._words = self._check(source.key)
            self._cursor = self._connection.cursor()
        except BaseException:
            self._connection.close()
            raise

    def _check(self, key: str) -> tuple[int, int]:
        try:
            meta = dict(self._connection.execute("SELECT name, value FROM meta"))
        except sqlite3.Error as error:
            raise IndexUnusable(f"{self.path}: {error}") from error
        if meta.get("key") != key:
            raise IndexUnusable(f"{self.path}: built for {meta.get('key')!r}, not {key!r}")
        total, words = meta.get("total"), meta.get("words")
        if not isinstance(total, int) or not isinstance(words, int):
            raise IndexUnusable(f"{self.path}: no total")
        return total, words

    # The three lookups the segmenter makes read ``_seen`` inline: they run for every fragment
    # of every window, and a second Python call per lookup made segmenting 20 % slower.

    def __contains__(self, word: object) -> bool:
        count = self._seen.get(word, _MISSING)
        if count is _MISSING:
            count = self._remember(word)
        return count is not None

    def __getitem__(self, word: str) -> int:
        count = self._seen.get(word, _MISSING)
        if count is _MISSING:
            count = self._remember(word)
        if count is None:
            raise KeyError(word)
        return count

    def get(self, word: str, default=None):
        count = self._seen.get(word, _MISSING)
        if count is _MISSING:
            count = self._remember(word)
        return default if count is None else count

    def _remember(self, word: object) -> int | None:
        """The count of a word or prefix (0 for a prefix only), None when jieba lacks it."""
        count = self._query(word) if isinstance(word, str) and self._may_exist(word) else None
        if len(self._seen) >= SEEN_LIMIT:
            self._seen.clear()
            self._next.clear()
        self._seen[word] = count
        return count

    def _may_exist(self, word: str) -> bool:
        """False when the word's prefix already answers: absent, or present and not extended by
        the word's last character (every prefix of an entry is an entry). Most lookups that
        end a ``while fragment in freq`` loop are such misses."""
        if len(word) < 2:
            return True
        prefix = word[:-1]
        if self._seen.get(prefix, _MISSING) is None:
            return False
        following = self._next.get(prefix)
        return following is None or word[-1] in following

    def _query(self, word: str) -> int | None:
        if self._memory is None:
            with self._lock:
                if self._memory is None:
                    try:
                        row = self._cursor.execute(
                            "SELECT count, next FROM freq WHERE word = ?", (word,)
                        ).fetchone()
                    except UnicodeEncodeError:
                        return None  # a lone surrogate: not UTF-8, so not in dict.txt
                    except sqlite3.Error as error:
                        self._drop_file(error)
                    else:
                        if row is None:
                            return None
                        self._next[word] = row[1]
                        return row[0]
        return self._memory.get(word)

    def _drop_file(self, error: sqlite3.Error) -> None:
        """The file broke while in use: answer from memory from now on, delete the file so the
        next process rebuilds it. Called with the lock held."""
        log.warning(
            "jieba's dictionary index %s failed (%s); using the in-memory dictionary "
            "(slower, same results) and deleting the file",
            self.path,
            error,
        )
        self._memory, _total = prefix_dictionary(self._source)
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(sqlite3.Error):
            self._connection.close()

    def __len__(self) -> int:
        return self._words

    def __iter__(self) -> Iterator[str]:
        """Every word and prefix (for tests and inspection: reads the whole table)."""
        if self._memory is not None:
            return iter(list(self._memory))
        with self._lock:
            return iter([word for (word,) in self._connection.execute("SELECT word FROM freq")])


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():  # SQLite would report only "unable to open database file"
        raise IndexUnusable(f"{path}: no such file")
    uri = f"{path.absolute().as_uri()}?mode=ro&immutable=1"
    try:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as error:
        raise IndexUnusable(f"{path}: {error}") from error


# --------------------------------------------------------------------------------------------
# Opening, building once, falling back
# --------------------------------------------------------------------------------------------


def open_dictionary(folder: Path) -> tuple[Mapping[str, int], int]:
    """(word -> count, total) of jieba's default dictionary, from the index in ``folder``.

    A missing, stale or unreadable index is built once; if it still cannot be opened, the
    dictionary is built in memory (one warning naming the folder)."""
    source = jieba_source()
    path = folder / source.index_name
    try:
        index = JiebaIndex(path, source)
    except (IndexUnusable, OSError, sqlite3.Error):
        freq, total = prefix_dictionary(source)
        try:
            build_index(source.key, freq, total, path)
            index = JiebaIndex(path, source)
        except Exception as error:  # a cache must never stop a run
            log.warning(
                "cannot build jieba's dictionary index in %s (%s); using the dictionary "
                "in memory instead (slower, same results)",
                folder,
                error,
            )
            return freq, total
    return index, index.total
