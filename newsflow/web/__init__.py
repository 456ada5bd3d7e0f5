"""The reader: a read-only web front end over the article store (`newsflow web`).

Modules: :mod:`newsflow.web.readonly` opens the store so it can never write,
:mod:`newsflow.web.views` turns stored rows into what the pages show (paragraph
pairs, fixed names, flagged sentences), :mod:`newsflow.web.app` is the FastAPI
application (HTML pages and JSON under ``/api/``).

Importing this package is cheap (no FastAPI): the run core uses
:func:`story_url` to link its summary to the reader.
"""

from __future__ import annotations

from urllib.parse import quote


def story_url(base_url: str | None, story_id: str) -> str | None:
    """The reader's page of a story under ``base_url`` (config ``web.base_url``), or None
    when no base URL is configured."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/stories/{quote(str(story_id), safe='')}"


def article_url(base_url: str | None, article_id: str) -> str | None:
    """The reader's page of an article under ``base_url``, or None without one."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/articles/{quote(str(article_id), safe='')}"
