"""The reader's FastAPI application: server-rendered pages and JSON under ``/api/``.

Read-only by construction (see :mod:`newsflow.web.readonly`). Stories and search come from
:mod:`newsflow.stories` and :mod:`newsflow.search` (the same functions the CLI calls), the
review queue from ``store.review_queue``; this module only renders them. Jinja2 autoescapes
every value, so article text (untrusted feed input) always shows as text.

Errors are pages, not tracebacks: an unknown id is a 404, a store that is missing, locked or
unreachable is a 503 that says which and what to do (JSON under ``/api/`` and ``/healthz``).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from newsflow.errors import NewsflowError
from newsflow.web import readonly, views
from newsflow.web.readonly import StoreUnavailable

log = logging.getLogger("newsflow.web")
HERE = Path(__file__).resolve().parent
STORIES_PER_PAGE = 30
RESULTS_PER_PAGE = 20
REVIEW_PER_PAGE = 50
STORY_ARTICLES_PER_PAGE = 100
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
MAX_LIMIT = 200
LANGUAGE_NAMES = {"de": "German", "zh": "Chinese (Simplified)", "zt": "Chinese (Traditional)",
                  "en": "English", "und": "undetermined"}
HTML_LANG = {"zh": "zh-Hans", "zt": "zh-Hant"}


class FeatureMissing(Exception):
    """A read function the reader relies on is not in this build (named in the message)."""


class Reader:
    """One read-only store shared by the request threads (opened on first use, dropped and
    re-opened after a database error, so a store created or restarted later is picked up)."""

    def __init__(self, settings, busy_seconds: float = readonly.DEFAULT_BUSY_SECONDS):
        self.settings = settings
        self.busy_seconds = busy_seconds
        self.where = readonly.describe(settings)
        self._store = None
        self._lock = threading.Lock()

    def _get(self):
        with self._lock:
            if self._store is None:
                self._store = readonly.open_read_only(self.settings, self.busy_seconds)
            return self._store

    def reset(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:  # noqa: BLE001 - a broken connection may not close cleanly
                pass

    def close(self) -> None:
        self.reset()

    def call(self, fn):
        """``fn(store)``, with database errors turned into StoreUnavailable."""
        store = self._get()
        try:
            return fn(store)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if not readonly.is_database_error(exc):
                raise
            self.reset()
            raise readonly.classify(exc, self.where) from None


def _stories():
    try:
        from newsflow import stories
        return stories.list_stories, stories.get_story
    except (ImportError, AttributeError):
        raise FeatureMissing("story listing (newsflow.stories.list_stories / get_story)") from None


def _search():
    try:
        from newsflow.search import search
        return search
    except (ImportError, AttributeError):
        raise FeatureMissing("search (newsflow.search.search)") from None


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["q"] = lambda v: quote(str(v), safe="")
    env.filters["langname"] = lambda code: LANGUAGE_NAMES.get(code or "", code or "?")
    env.filters["htmllang"] = lambda code: HTML_LANG.get(code or "", code or "")
    env.filters["when"] = _when
    env.filters["link"] = views.safe_link
    env.filters["snippet"] = views.snippet_segments
    return env


def _when(value) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM' (anything else as given)."""
    text = str(value or "")
    if len(text) >= 16 and text[10] in "T ":
        return f"{text[:10]} {text[11:16]}"
    return text


def _page_urls(request: Request, offset: int, limit: int, has_more: bool) -> dict:
    params = {k: v for k, v in request.query_params.items() if v and k != "offset"}

    def url(o: int) -> str:
        return request.url.path + "?" + urlencode({**params, **({"offset": o} if o else {})})

    return {"prev": url(max(0, offset - limit)) if offset > 0 else None,
            "next": url(offset + limit) if has_more else None,
            "first": offset + 1, "last": offset}


def create_app(settings, *, busy_seconds: float = readonly.DEFAULT_BUSY_SECONDS) -> FastAPI:
    """The reader over the store ``settings`` names (see the module docstring)."""
    reader = Reader(settings, busy_seconds)
    env = _templates()
    languages = list(dict.fromkeys([*settings.languages, "en"]))
    sources = [s.name for s in settings.sources]

    @asynccontextmanager
    async def lifespan(_app):
        yield
        reader.close()

    app = FastAPI(title="newsflow reader", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.reader = reader

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        """Defence in depth behind the escaping: no page may run a script or load anything
        from elsewhere, be framed, or leak its URL to the sites articles link to."""
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        context.setdefault("nav", "")
        context.setdefault("q", "")
        html = env.get_template(name).render(languages=languages, sources=sources, **context)
        return HTMLResponse(html, status_code=status)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/healthz"

    def failure(request: Request, status: int, title: str, detail: str, hint: str = ""):
        if wants_json(request):
            return JSONResponse({"error": f"{title}: {detail}" if detail else title,
                                 **({"hint": hint} if hint else {})}, status_code=status)
        return page("error.html", status, title=title, detail=detail, hint=hint)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable):
        if request.url.path == "/healthz":
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return failure(request, 503, exc.title, exc.detail, exc.hint)

    @app.exception_handler(NewsflowError)
    async def _bad_input(request: Request, exc: NewsflowError):  # e.g. since=yesterday
        return failure(request, 400, "Bad request", str(exc))

    @app.exception_handler(FeatureMissing)
    async def _missing(request: Request, exc: FeatureMissing):
        return failure(request, 501, "Not available in this build", str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        title = {404: "Not found"}.get(exc.status_code, "Request failed")
        detail = str(exc.detail or "")
        if exc.status_code == 404 and detail == "Not Found":  # no route: say which page
            detail = f"there is no page at {request.url.path}"
        return failure(request, exc.status_code, title, detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"
                             for e in exc.errors())
        return failure(request, 400, "Bad request", problems)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("%s %s failed", request.method, request.url.path)
        return failure(request, 500, "Internal error",
                       f"{type(exc).__name__}: the reader failed on this page (see its log)")

    def not_found(what: str, ident: str):
        raise HTTPException(404, f"no {what} with id {ident!r} in the store")

    # -- data (shared by the pages and /api/) ----------------------------------

    def story_list(lang, source, entity, since, limit, offset, with_articles=True):
        rows = reader.call(lambda s: _stories()[0](s, since=since or None, entity=entity or None,
                                                  lang=lang or None, source=source or None,
                                                  limit=limit + 1, offset=offset,
                                                  with_articles=with_articles))
        return rows[:limit], len(rows) > limit

    def one_story(story_id: str):
        story = reader.call(lambda s: _stories()[1](s, story_id))
        if story is None:
            not_found("story", story_id)
        return story

    def one_article(article_id: str):
        row = reader.call(lambda s: s.get(article_id))
        if row is None:
            not_found("article", article_id)
        return row

    def results(q, lang, source, since, limit, offset):
        rows = reader.call(lambda s: _search()(s, q, lang=lang or None, source=source or None,
                                            since=since or None, limit=limit + 1, offset=offset))
        return rows[:limit], len(rows) > limit

    def review_rows(limit, offset):
        def queue(store):
            if not hasattr(store, "review_queue"):
                raise FeatureMissing("the review queue (store.review_queue)")
            return store.review_queue(limit=limit + 1, offset=offset)

        rows = reader.call(queue)
        return rows[:limit], len(rows) > limit

    # -- pages -----------------------------------------------------------------

    Offset = Query(0, ge=0)
    Limit = Query(None, ge=1, le=MAX_LIMIT)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, lang: str = "", source: str = "", entity: str = "",
             since: str = "", offset: int = Offset):
        # the front page shows counts: a story's articles are read on its own page
        rows, more = story_list(lang, source, entity, since, STORIES_PER_PAGE, offset,
                                with_articles=False)
        pager = _page_urls(request, offset, STORIES_PER_PAGE, more)
        pager["last"] = offset + len(rows)
        return page("stories.html", nav="stories", stories=rows, pager=pager,
                    filters={"lang": lang, "source": source, "entity": entity, "since": since})

    @app.get("/stories/{story_id}", response_class=HTMLResponse)
    def story_page(request: Request, story_id: str, offset: int = Offset):
        story = one_story(story_id)
        every = story.get("articles", [])
        shown = every[offset : offset + STORY_ARTICLES_PER_PAGE]
        pager = _page_urls(request, offset, STORY_ARTICLES_PER_PAGE,
                           offset + STORY_ARTICLES_PER_PAGE < len(every))
        pager.update(last=offset + len(shown), prev_label="earlier", next_label="later")
        ids = [a["id"] for a in shown]
        stored = reader.call(lambda s: s.get_many(ids)) if ids else {}
        stored = {k: views.RowView(v) for k, v in stored.items()}
        return page("story.html", nav="stories", story=story, stored=stored, articles=shown,
                    pager=pager)

    @app.get("/articles/{article_id}", response_class=HTMLResponse)
    def article_page(article_id: str):
        row = one_article(article_id)
        parts = views.article_parts(row)
        view = views.RowView(row)
        flags = views.flag_list(parts)
        kinds = Counter(f["kind"] for g in flags for f in g["flags"])
        return page("article.html", row=view, parts=parts, names=views.names(row),
                    flags=flags, flag_kinds=sorted(kinds.items()), story_id=view.story_id,
                    needs_review=view.needs_review)

    @app.get("/search", response_class=HTMLResponse)
    def search_page(request: Request, q: str = "", lang: str = "", source: str = "",
                    since: str = "", offset: int = Offset):
        rows, more = results(q, lang, source, since, RESULTS_PER_PAGE, offset) if q.strip() else ([], False)
        pager = _page_urls(request, offset, RESULTS_PER_PAGE, more)
        pager.update(last=offset + len(rows), prev_label="better matches", next_label="more results")
        return page("search.html", nav="search", q=q, results=rows, pager=pager,
                    filters={"lang": lang, "source": source, "since": since})

    @app.get("/review", response_class=HTMLResponse)
    def review_page(request: Request, offset: int = Offset):
        rows, more = review_rows(REVIEW_PER_PAGE, offset)
        pager = _page_urls(request, offset, REVIEW_PER_PAGE, more)
        pager["last"] = offset + len(rows)
        return page("review.html", nav="review", items=[views.review_item(r) for r in rows],
                    pager=pager)

    @app.api_route("/healthz", methods=["GET", "HEAD"])
    def healthz():
        counts = reader.call(lambda s: s.counts())
        return {"status": "ok", "articles": sum(counts.values()), "by_status": counts}

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    # -- JSON ------------------------------------------------------------------

    @app.get("/api/stories")
    def api_stories(lang: str = "", source: str = "", entity: str = "", since: str = "",
                    limit: int | None = Limit, offset: int = Offset):
        rows, more = story_list(lang, source, entity, since, limit or STORIES_PER_PAGE, offset)
        return {"stories": rows, "next_offset": offset + len(rows) if more else None}

    @app.get("/api/stories/{story_id}")
    def api_story(story_id: str):
        return one_story(story_id)

    @app.get("/api/articles/{article_id}")
    def api_article(article_id: str):
        return views.article_api(one_article(article_id))

    @app.get("/api/search")
    def api_search(q: str = Query(..., min_length=1), lang: str = "", source: str = "",
                   since: str = "", limit: int | None = Limit, offset: int = Offset):
        rows, more = results(q, lang, source, since, limit or RESULTS_PER_PAGE, offset)
        return {"results": rows, "next_offset": offset + len(rows) if more else None}

    @app.get("/api/review")
    def api_review(limit: int | None = Limit, offset: int = Offset):
        rows, more = review_rows(limit or REVIEW_PER_PAGE, offset)
        return {"articles": [views.review_item(r) for r in rows],
                "next_offset": offset + len(rows) if more else None}

    return app
