"""Text from sources, made safe to put into Markdown newsflow writes.

Sources are untrusted: a title ``<script>alert(1)</script>`` or a body with
``<img src=x onerror=...>`` must reach the reader as those characters, not as
live HTML, in every Markdown file newsflow writes (article ``.md`` files, the run
report, the Prefect artifacts). Markdown passes raw HTML through, so:

* :func:`escape_html` turns ``&``, ``<`` and ``>`` into entities -- the text
  renders exactly as it was, nothing is markup (also for table artifacts, which
  the Prefect UI shows as text);
* :func:`escape_markdown` does that and also neutralises Markdown's own syntax
  that could hide or fake content: link and image brackets, emphasis, code
  spans, table pipes, and block markers at the start of a line (``#``, ``>``,
  ``-``, ``1.``), with backslash escapes CommonMark defines for ASCII punctuation;
  ``inline=True`` (headings, list items, table cells) also folds newlines into spaces.

Text newsflow itself produces (labels, counts, ids it made) needs none of this.
"""

from __future__ import annotations

import re

_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Inline syntax: emphasis, code, links/images, table pipes, backslash itself.
_INLINE = re.compile(r"([\\`*_\[\]|~])")
# Block syntax at the start of a line: headings, quotes (already an entity), lists,
# thematic breaks, setext underlines, ordered lists ("1." / "1)").
_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+(?=[.)]))", re.MULTILINE)


def escape_html(text: object) -> str:
    """``&``, ``<``, ``>`` as entities: no markup survives, the text reads the same."""
    return str(text if text is not None else "").translate(_HTML)


def escape_markdown(text: object, inline: bool = False) -> str:
    """Source text as Markdown that renders as exactly this text (see module docstring)."""
    out = escape_html(text)
    out = _INLINE.sub(r"\\\1", out)
    if inline:
        return " ".join(out.split())
    return _LINE_START.sub(_escape_line_start, out)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker.isdigit():
        return f"{indent}{marker}\\"  # "1." -> "1\." : not an ordered list
    return f"{indent}\\{marker}"
