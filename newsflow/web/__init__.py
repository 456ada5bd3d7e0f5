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


def stories_links_markdown(stories: list[dict], base_url: str | None) -> str:
    """A Markdown list linking each story (``{"id", "title", "languages", "article_count"}``,
    as the run report's ``stories_touched``) to its reader page; "" without a base URL or
    stories. Titles come from sources: escaped."""
    if not base_url or not stories:
        return ""
    from newsflow.markdown import escape_markdown

    lines = ["## Stories in the reader", ""]
    for s in stories:
        title = escape_markdown(s.get("title") or s["id"], inline=True)
        langs = ", ".join(s.get("languages") or [])
        count = s.get("article_count")
        extra = " · ".join(x for x in (langs, f"{count} articles" if count is not None else "") if x)
        lines.append(f"- [{title}](<{story_url(base_url, s['id'])}>)" + (f" ({extra})" if extra else ""))
    return "\n".join(lines) + "\n"
