"""Load and validate the names glossary; every mistake becomes one GlossaryError line.

Format (YAML)::

    entries:
      - id: lavrov                 # stable id (a non-empty string, unique)
        type: person               # person | place | org (default: person)
        en: [Sergei Lavrov, Lavrov]  # accepted English forms, first preferred (required)
        de: [Sergej Lawrow, Lawrow]  # forms in German sources
        zh: [谢尔盖·拉夫罗夫, 拉夫罗夫]  # forms in Chinese sources (either script)
        avoid: [Lavrow]            # known-wrong English spellings (optional)
        allow: [Lavrov Street]     # English fixed expressions never fixed (optional)

Any language code (``ru``, ``fr``, ``zh-Hant``...) may appear as a key; other keys are errors.
Line numbers come from the YAML node marks (``yaml.compose``), so a message reads
``glossary.yaml:12: entry 'lavrov': key 'en' must be a non-empty list of strings``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from newsflow.errors import GlossaryError
from newsflow.names.entry import Entry
from newsflow.names.index import NameIndex

ENTITY_TYPES = ("person", "place", "org")
_TOP_LEVEL_KEYS = {"entries", "version", "description", "name"}
_ENTRY_KEYS = {"id", "type", "en", "avoid", "allow"}
_LANG_KEY = re.compile(r"^[a-z]{2}(?:[-_][A-Za-z0-9]{2,8})?$")
_EXTRA_LANG_KEYS = {"yue", "cmn", "wuu", "nan", "hak", "fil", "ckb"}
_STR_TAG = "tag:yaml.org,2002:str"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes


class Glossary:
    """Validated entries plus the matchers compiled from them (built once, reused per article)."""

    def __init__(self, entries: Sequence[Entry], source: str = "<glossary>"):
        if not entries:
            raise GlossaryError(f"{source}:1: glossary has no entries")
        self.source = source
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.by_id: dict[str, Entry] = {e.id: e for e in self.entries}
        self.index = NameIndex(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.by_id

    def __repr__(self) -> str:
        return f"Glossary({self.source!r}, {len(self.entries)} entries)"


def load_glossary(path: str | Path) -> Glossary:
    """Read and validate a glossary file; raises GlossaryError (one line) on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GlossaryError(f"{path}:1: glossary is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise GlossaryError(f"{path}: cannot read glossary: {exc.strerror or exc}") from None
    return _parse_cached(text, str(path))


@functools.lru_cache(maxsize=4)
def _parse_cached(text: str, source: str) -> Glossary:
    # A long-running worker (`newsflow serve`) loads the glossary every run; building its
    # matchers costs ~0.15 s. The file is still read every run, so an edit takes effect at
    # the next run. Glossary objects are not changed after they are built: safe to share.
    return parse_glossary(text, source=source)


def parse_glossary(text: str, source: str = "<glossary>") -> Glossary:
    """Validate glossary YAML text; ``source`` names the file in error messages."""
    return Glossary(_parse_entries(text, source), source=source)


def _parse_entries(text: str, source: str) -> list[Entry]:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise GlossaryError(f"{source}:{line}: invalid YAML: {problem}") from None
    if root is None:
        raise GlossaryError(f"{source}:1: glossary is empty (expected a mapping with 'entries')")
    if not isinstance(root, yaml.MappingNode):
        raise GlossaryError(
            f"{source}:{_line(root)}: glossary must be a mapping with key 'entries'"
        )
    top = _mapping(root, source, "glossary")
    for key, (key_node, _value) in top.items():
        if key not in _TOP_LEVEL_KEYS:
            raise GlossaryError(
                f"{source}:{_line(key_node)}: unknown key '{key}' (expected 'entries')"
            )
    if "entries" not in top:
        raise GlossaryError(f"{source}:{_line(root)}: key 'entries' is missing")
    entries_node = top["entries"][1]
    if not isinstance(entries_node, yaml.SequenceNode):
        raise GlossaryError(
            f"{source}:{_line(entries_node)}: key 'entries' must be a list of entries"
        )
    if not entries_node.value:
        raise GlossaryError(f"{source}:{_line(entries_node)}: glossary has no entries")
    entries: list[Entry] = []
    first_line: dict[str, int] = {}
    for number, node in enumerate(entries_node.value, 1):
        entry = _parse_entry(node, number, source)
        if entry.id in first_line:
            raise GlossaryError(
                f"{source}:{entry.line}: entry '{entry.id}': duplicate id "
                f"(first defined on line {first_line[entry.id]})"
            )
        first_line[entry.id] = entry.line
        entries.append(entry)
    return entries


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.MappingNode, source: str, label: str) -> dict:
    """key -> (key node, value node); rejects non-string and duplicate keys."""
    result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
            raise GlossaryError(f"{source}:{_line(key_node)}: {label}: keys must be strings")
        key = key_node.value
        if key in result:
            raise GlossaryError(f"{source}:{_line(key_node)}: {label}: duplicate key '{key}'")
        result[key] = (key_node, value_node)
    return result


def _parse_entry(node: yaml.Node, number: int, source: str) -> Entry:
    label = f"entry #{number}"
    if not isinstance(node, yaml.MappingNode):
        raise GlossaryError(f"{source}:{_line(node)}: {label} must be a mapping")
    keys = _mapping(node, source, label)
    if "id" not in keys:
        raise GlossaryError(f"{source}:{_line(node)}: {label}: key 'id' is missing")
    id_node = keys["id"][1]
    entity_id = _string(id_node)
    if entity_id is None:
        raise GlossaryError(
            f"{source}:{_line(id_node)}: {label}: key 'id' must be a non-empty string"
        )
    label = f"entry '{entity_id}'"
    for key, (key_node, _value) in keys.items():
        if key not in _ENTRY_KEYS and not _is_lang_key(key):
            raise GlossaryError(
                f"{source}:{_line(key_node)}: {label}: unknown key '{key}' "
                "(expected id, type, en, avoid, allow or a language code)"
            )
    entity_type = "person"
    if "type" in keys:
        type_node = keys["type"][1]
        value = _string(type_node)
        if value not in ENTITY_TYPES:
            shown = value if value is not None else getattr(type_node, "value", "?")
            raise GlossaryError(
                f"{source}:{_line(type_node)}: {label}: key 'type' must be one of "
                f"person, place, org (got {shown!r})"
            )
        entity_type = value
    if "en" not in keys:
        raise GlossaryError(
            f"{source}:{_line(node)}: {label}: key 'en' must be a non-empty list of strings "
            "(it is missing)"
        )
    en = _string_list(keys["en"][1])
    if not en:
        raise GlossaryError(
            f"{source}:{_line(keys['en'][1])}: {label}: key 'en' must be a non-empty list "
            "of strings"
        )
    avoid: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    forms: dict[str, tuple[str, ...]] = {}
    for key, (_key_node, value_node) in keys.items():
        if key in ("id", "type", "en"):
            continue
        values = _string_list(value_node, allow_empty=True)
        if values is None:
            raise GlossaryError(
                f"{source}:{_line(value_node)}: {label}: key '{key}' must be a list of strings"
            )
        if key == "avoid":
            avoid = values
        elif key == "allow":
            allow = values
        else:
            forms[key] = values
    return Entry(entity_id, entity_type, en, avoid, forms, _line(node), allow)


def _is_lang_key(key: str) -> bool:
    return bool(_LANG_KEY.match(key)) or key in _EXTRA_LANG_KEYS


def _string(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
        value = " ".join(node.value.split())
        return value or None
    return None


def _string_list(node: yaml.Node, allow_empty: bool = False) -> tuple[str, ...] | None:
    """A list of non-empty strings (whitespace collapsed, duplicates dropped), else None."""
    if not isinstance(node, yaml.SequenceNode):
        return None
    values: list[str] = []
    for item in node.value:
        value = _string(item)
        if value is None:
            return None
        if value not in values:
            values.append(value)
    if not values and not allow_empty:
        return None
    return tuple(values)
