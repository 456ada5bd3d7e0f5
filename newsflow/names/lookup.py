"""One regex per family of name forms, built from a character trie, and its key -> meaning map.

Also the boundaries names need: on the German/Chinese source side a CJK character next to a
Latin name is a boundary; on the English side a name is a whole token (``LEFT_EN``/
``RIGHT_EN``).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable

from newsflow.names.translit import fold, has_han, name_key

# A word character that is not CJK: Latin names need word boundaries, but a CJK character
# right next to a Latin name (Chinese text) is a boundary.
WORD = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
LEFT = rf"(?<!{WORD})"
RIGHT = rf"(?!{WORD})"
# English side: a name is a whole token. An apostrophe followed by letters continues the token
# ("Wang Yi'an" is not "Wang Yi"), except the possessive 's (not followed by a lower-case
# letter: "Putin'sche" continues); a hyphen does not ("Kyiv-based").
LEFT_EN = rf"(?<!{WORD})(?<![^\W\d_]')"
RIGHT_EN = rf"(?!{WORD})(?!'(?!(?-i:[sS](?![a-z\u00df-\u00ff])))[^\W\d_])"
_SPACE_TOKEN = r"\s+"
_DOT_TOKEN = r"[\u00b7\s]?"
_HYPHEN_TOKEN = r"[\-\s]?"
SYLLABLE_SEP = r"(?:\s+|[\-'\u00b7])?"
SHORT_FORM = 3  # forms this short (letters) only match with their own case or in capitals
# Lookups are compiled on first use, and a glossary is shared by the threads that check
# articles: one lock for all of them (compiling is rare, and a lock per object would make the
# glossary unpicklable).
_COMPILE_LOCK = threading.Lock()


def _form_tokens(form: str) -> list[str]:
    tokens = []
    for ch in form:
        if ch == " ":
            tokens.append(_SPACE_TOKEN)
        elif ch == "\u00b7":
            tokens.append(_DOT_TOKEN)
        elif ch == "-":
            tokens.append(_HYPHEN_TOKEN)
        else:
            tokens.append(re.escape(ch))
    return tokens


_GERMAN_ENDING = re.compile(r"(?:e[nmrs]?)$")


def _german_tokens(form: str) -> list[str]:
    """Tokens of a multi-word German form whose non-final words take adjective endings
    (Vereinte Nationen -> Vereinten Nationen, Europäische Union -> Europäischen Union)."""
    words = form.split(" ")
    tokens: list[str] = []
    for number, word in enumerate(words):
        if number:
            tokens.append(_SPACE_TOKEN)
        if number < len(words) - 1 and len(word) > 3 and _GERMAN_ENDING.search(word):
            stem = _GERMAN_ENDING.sub("", word)
            tokens.extend(_form_tokens(stem))
            tokens.append(r"e[nmrs]?")
        else:
            tokens.extend(_form_tokens(word))
    return tokens


def german_key(text: str) -> str:
    """Lookup key that ignores German case endings (Vereinten/Vereinte, Amtes/Amt)."""
    words = fold(text).lower().replace("\u00b7", " ").replace("-", " ").split()
    return "".join(re.sub(r"(?:e[nmrs]?|s)$", "", w) if len(w) > 4 else w for w in words)


def trie_regex(token_lists: Iterable[list[str]]) -> str:
    """Regex source matching any of the token sequences; longer sequences win."""
    root: dict = {}
    for tokens in token_lists:
        if not tokens:
            continue
        node = root
        for token in tokens:
            node = node.setdefault(token, {})
        node[None] = {}

    def emit(node: dict) -> str:
        children = sorted((t, child) for t, child in node.items() if t is not None)
        if not children:
            return ""
        alternatives = [token + emit(child) for token, child in children]
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if None in node else body

    return emit(root)


class Lookup:
    """One regex per case rule over many forms plus key -> meanings.

    The regexes are compiled on first use (:attr:`regexes`): a process that checks German
    only never needs the Chinese source forms, and one that finds no candidate never asks
    for the fixed expressions."""

    def __init__(self, bounded: bool, key=name_key, english: bool = False):
        self._bounded = bounded
        self._english = english
        self._key = key
        self._folded: dict[str, list[str]] = {}  # case-insensitive: folded lower -> tokens
        self._exact: dict[str, list[str]] = {}  # short forms: as written and in capitals
        self.meanings: dict[str, list] = defaultdict(list)
        self._suffix: str | None = None  # set by compile()
        self._regexes: list[re.Pattern] | None = None

    def add(
        self, form: str, meaning, tokens: list[str] | None = None, german: bool = False
    ) -> None:
        folded = fold(form).strip()
        if not folded:
            return
        key = self._key(folded)
        if not key:
            return
        if meaning not in self.meanings[key]:
            self.meanings[key].append(meaning)
        if german and " " in folded and len(re.sub(r"\W", "", folded)) > SHORT_FORM:
            tokens = _german_tokens(folded.lower())
        if tokens is not None:
            self._folded[" ".join(tokens)] = tokens
        elif len(re.sub(r"\W", "", folded)) <= SHORT_FORM and not has_han(folded):
            for variant in (folded, folded.upper()):
                self._exact[variant] = _form_tokens(variant)
        else:
            self._folded[folded.lower()] = _form_tokens(folded.lower())

    def compile(self, genitive: bool = False, german: bool = False) -> None:
        """No more forms: fix the genitive suffix. The regexes are built on first use."""
        self._suffix = "(?P<gen>e?s)?" if german else "(?P<gen>s)?" if genitive else ""
        self._regexes = None

    @property
    def regexes(self) -> list[re.Pattern]:
        """The compiled regexes: built by the first thread that asks, once."""
        regexes = self._regexes
        if regexes is None:
            if self._suffix is None:
                return []  # compile() not called yet: no forms to find
            with _COMPILE_LOCK:
                if self._regexes is None:
                    self._regexes = self._build()
                regexes = self._regexes
        return regexes

    def _build(self) -> list[re.Pattern]:
        regexes = []
        for forms, case in ((self._folded, "(?i:"), (self._exact, "(?:")):
            if not forms:
                continue
            # Case is ignored in the name and its suffix only (a scoped flag). The boundaries
            # are the same under either flag (their classes hold no cased range: checked for
            # every code point in tests/test_glossary_load.py), but under a global IGNORECASE
            # re folds their large CJK ranges one character at a time: 2-3x as slow to
            # compile, in every process that loads the glossary.
            name = f"(?P<name>{trie_regex(forms.values())})"
            if self._bounded and self._english:
                source = f"{LEFT_EN}{case}{name}{self._suffix}){RIGHT_EN}"
            elif self._bounded:
                source = f"{LEFT}{case}{name}{self._suffix}){RIGHT}"
            else:
                source = f"{case}{name})"
            regexes.append(re.compile(source))
        return regexes

    def match_within(self, folded_text: str, start: int, end: int) -> tuple[int, list] | None:
        """The longest match starting at start and ending by end: (end, meanings)."""
        for regex in self.regexes:
            match = regex.match(folded_text, start, end)
            if match:
                meanings = self.meanings.get(self._key(match.group("name")))
                if meanings:
                    return match.end("name"), meanings
        return None

    def find(self, folded_text: str) -> Iterable[tuple[int, int, int, list]]:
        """(start, end of the name, end with a genitive s, meanings) for each match."""
        for regex in self.regexes:
            for match in regex.finditer(folded_text):
                meanings = self.meanings.get(self._key(match.group("name")))
                if meanings:
                    yield match.start(), match.end("name"), match.end(), meanings
