"""Text from sources, made safe to put into Markdown newsflow writes.

Sources are untrusted: a title ``<script>alert(1)</script>`` or a body with
``<img src=x onerror=...>`` must reach the reader as those characters, not as
live HTML, in every Markdown file newsflow writes (article ``.md`` files, the run
report, the Prefect artifacts). Markdown passes raw HTML through, so:

* :func:`escape_html` turns ``&``, ``<`` and ``>`` into entities -- the text
  renders exactly as it was, nothing is markup;
* :func:`escape_markdown` does that and also backslash-escapes ``[`` and ``]``
  (and ``\\``), so a source cannot make a link or an image (``[x](javascript:...)``,
  ``![](http://tracker/)``), which not every Markdown renderer sanitises;
  ``inline=True`` (headings, list items, table cells) also escapes ``|`` and folds
  newlines into spaces. Emphasis, code spans and list markers are left alone:
  they change how text looks, never what runs, and the stored text stays
  readable in the ``.md`` file.

Text newsflow itself produces (labels, counts, ids it made) needs none of this.
"""

from __future__ import annotations

import re

_LINKS = re.compile(r"([\\\[\]])")  # link and image brackets, and the backslash itself
_CELL = re.compile(r"([\\\[\]|])")  # ... and table pipes


def escape_html(text: object) -> str:
    """``&``, ``<``, ``>`` as entities: no markup survives, the text reads the same."""
    # three replaces, & first: C speed (str.translate with a dict looks up every character in
    # Python, seconds for a 5 MB article)
    text = str(text if text is not None else "")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_markdown(text: object, inline: bool = False) -> str:
    """Source text as Markdown with no live HTML and no link or image of the source's
    making; it reads as the source wrote it (see the module docstring)."""
    out = escape_html(text)
    if inline:
        return " ".join(_CELL.sub(r"\\\1", out).split())
    return _LINKS.sub(r"\\\1", out)
