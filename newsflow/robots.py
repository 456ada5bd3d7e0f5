"""robots.txt rules as RFC 9309 reads them (pure: text in, decisions out).

Python's :mod:`urllib.robotparser` predates the RFC: it takes the first matching
rule instead of the longest, and knows neither ``*`` nor ``$`` in paths. Sites
write ``Disallow: /*?print=1`` and ``Allow: /news/`` under ``Disallow: /``, so
this small parser does what the RFC says:

* the group whose ``User-agent`` names our product token (case-insensitive) is
  used, else the ``*`` group; several groups for the same agent are merged;
* the longest matching path pattern wins; on a tie ``Allow`` wins;
* ``*`` matches any characters, a trailing ``$`` anchors the end; paths are
  compared percent-decoded for unreserved characters, as the RFC asks;
* an empty ``Disallow:`` allows everything; ``/robots.txt`` itself is always allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass
class Robots:
    """The rules of one robots.txt for one user agent."""

    rules: list[tuple[bool, str]] = field(default_factory=list)  # (allow, pattern)
    crawl_delay: float | None = None

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        path = _normalise(parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if path == "/robots.txt":
            return True
        best: tuple[int, bool] | None = None
        for allow, pattern in self.rules:
            if pattern and _matches(pattern, path):
                key = (len(pattern), allow)
                if best is None or key > best:
                    best = key
        return True if best is None else best[1]


ALLOW_ALL = Robots()
DISALLOW_ALL = Robots(rules=[(False, "/")])


def parse_robots(text: str, agent: str) -> Robots:
    """Rules for ``agent`` (a product token such as ``newsflow``) from robots.txt text."""
    agent = agent.lower()
    groups: list[tuple[set[str], list[tuple[bool, str]], list[float]]] = []
    current: tuple[set[str], list[tuple[bool, str]], list[float]] | None = None
    in_agents = False  # consecutive User-agent lines open one group
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "user-agent":
            if current is None or not in_agents:
                current = (set(), [], [])
                groups.append(current)
            current[0].add(value.lower())
            in_agents = True
            continue
        in_agents = False
        if current is None:
            continue
        if name in ("allow", "disallow"):
            current[1].append((name == "allow", _normalise(value) if value else ""))
        elif name == "crawl-delay":
            try:
                current[2].append(float(value))
            except ValueError:
                pass
    mine = [g for g in groups if any(a != "*" and a in agent for a in g[0])]
    chosen = mine or [g for g in groups if "*" in g[0]]
    rules = [rule for g in chosen for rule in g[1]]
    delays = [d for g in chosen for d in g[2]]
    return Robots(rules=rules, crawl_delay=max(delays) if delays else None)


_UNRESERVED = re.compile(r"%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[Dd]|2[Ee]|5[Ff]|7[Ee])")


def _normalise(path: str) -> str:
    # "%7E" and "~" are the same path; other escapes ("%2F") keep their meaning.
    return _UNRESERVED.sub(lambda m: unquote(m.group(0)), path)


def _matches(pattern: str, path: str) -> bool:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.match(regex + ("$" if anchored else ""), path) is not None
