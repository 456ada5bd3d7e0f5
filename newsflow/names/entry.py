"""One glossary entity (kept apart from the loader so the matchers can import it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """One glossary entity. ``forms`` maps a language code to the forms in that language;
    ``allow`` lists English fixed expressions that contain a name form on purpose
    ("Chicken Kiev", "Peking University") and are never fixed."""

    id: str
    type: str
    en: tuple[str, ...]
    avoid: tuple[str, ...] = ()
    forms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    line: int = 0
    allow: tuple[str, ...] = ()

    @property
    def expected(self) -> str:
        return self.en[0]
