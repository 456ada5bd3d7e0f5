"""The `newsflow` command line.

Every expected failure prints one line, ``error: ...``, and exits 2; a run
whose sources all failed exits 1. Heavy imports (Prefect, CTranslate2) happen
inside the commands that need them so `--help` and `detect` stay fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

# Before Prefect is imported anywhere: no telemetry (there is no internet), and
# no analytics calls from the temporary local API.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary local API takes 10-20 s to start on a busy 2-core machine; Prefect's
# default of 20 s then fails the run for no good reason.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# The temporary local API would register every installed collection's block types at each
# start: it imports all of them first (prefect-dask pulls in dask.distributed), ~15% of its
# start-up CPU. newsflow uses no blocks; a real `prefect server` (started on its own, without
# this process's environment) still registers them.
TEMPORARY_API_DEFAULTS = {"PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
                          "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"}
for _name, _value in TEMPORARY_API_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
# Warnings of the pipeline's own modules (a malformed feed kept in part, a bad
# package folder) go to the run's log in the Prefect UI too.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "newsflow,translators")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from newsflow.config import DEFAULT_CONFIG, Settings, load_settings  # noqa: E402
from newsflow.errors import NewsflowError  # noqa: E402
from newsflow.names.cli import names_app  # noqa: E402
from newsflow.quality_cli import print_review, quality_app  # noqa: E402


class _Group(TyperGroup):
    """Turns expected failures into one line on stderr and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NewsflowError as exc:
            Console(stderr=True).print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    help="Offline news translation: German and Chinese news in, English out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="List and install Argos Translate models (.argosmodel packages).",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(names_app, name="names")

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


class _State:
    config_path: Path = DEFAULT_CONFIG


state = _State()


def _settings() -> Settings:
    return load_settings(state.config_path)


@app.callback()
def _global(
    config: Annotated[Path, typer.Option("--config", "-c", help="Path of config.yaml.")] = DEFAULT_CONFIG,
) -> None:
    state.config_path = config


def _models_dir(settings: Settings) -> Path:
    from translators.packages import packages_dir

    return packages_dir(settings.resolve(settings.models_dir) if settings.models_dir else None)


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


@app.command()
def detect(
    jsonl: Annotated[Path, typer.Option("--jsonl", help='File of {"id", "text"} lines ("-" for stdin).')],
) -> None:
    """Detect the language of each line: writes {"id", "lang", "confidence"} lines, in order."""
    from newsflow.detect import DETECT_RULES, detect_record
    from newsflow.jsonl import read_jsonl

    for record in read_jsonl(jsonl, **DETECT_RULES):  # all validated before anything is written
        _emit(detect_record(record))


@app.command()
def translate(
    from_lang: Annotated[str, typer.Option("--from", help="Source language: de, zh or zt.")],
    jsonl: Annotated[Path, typer.Option("--jsonl", help='File of {"id", "text"} lines ("-" for stdin).')],
) -> None:
    """Translate {"id", "text"} lines into English: writes {"id", "translation"} lines, in order.

    Paragraphs (blank-line separated) are kept. Never opens a network connection.
    """
    from rich.progress import Progress

    from newsflow.pipeline import route_for
    from newsflow.store import open_store
    from translators.chinese import to_simplified
    from translators.engine import EngineOptions, get_engine
    from translators.packages import list_installed

    settings = _settings()
    route = route_for(from_lang, list_installed(_models_dir(settings)), [from_lang])
    if route.package is None:
        raise NewsflowError(f"cannot translate from '{from_lang}': {route.reason}")
    from newsflow.jsonl import read_jsonl

    records = read_jsonl(jsonl, required=("id", "text"), strings=("text",))
    engine = get_engine(route.package, EngineOptions.from_config(settings.translation, settings.quality))
    # the run's store (SQLite, or PostgreSQL with database_url) shares its sentence cache
    store = open_store(settings) if settings.translation.sentence_cache else None
    cache = store.sentence_cache() if store else None
    chunk = 32
    try:
        with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
            bar = progress.add_task("translating", total=len(records))
            for start in range(0, len(records), chunk):
                part = records[start : start + chunk]
                docs = [[p for p in r["text"].split("\n\n")] for r in part]
                if route.simplify:
                    docs = [[to_simplified(p) for p in d] for d in docs]
                for rec, res in zip(part, engine.translate_documents(docs, route.package.from_code,
                                                                     cache=cache), strict=True):
                    _emit({"id": rec["id"], "translation": "\n\n".join(res.paragraphs)})
                    if res.truncated_sentences:
                        err.print(f"warning: {rec['id']}: {res.truncated_sentences} sentence(s) reached "
                                  "max_decoding_length; translation may be incomplete")
                progress.advance(bar, len(part))
    finally:
        if store:
            store.close()


# --- quality (issue 14): `quality check` and `review` live in newsflow/quality_cli.py ---------

app.add_typer(quality_app, name="quality")


@app.command()
def review(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per article.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many articles.", min=1)] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many first.", min=0)] = 0,
) -> None:
    """List the translated articles that need review (newest first), with their flags."""
    print_review(_settings(), as_json=as_json, limit=limit, offset=offset)


@models_app.command("list")
def models_list() -> None:
    """List installed translation models; mark a folder whose model no longer loads
    and one that is not used because a higher version of its pair is installed."""
    from newsflow.errors import ModelError
    from translators.packages import best_by_pair, check_installed, scan_installed

    settings = _settings()
    directory = _models_dir(settings)
    packages, problems = scan_installed(directory)
    out.print(f"models directory: {directory}")
    for problem in problems:
        err.print(f"warning: {problem}", highlight=False, markup=False)
    if not packages:
        out.print("no models installed (newsflow models install de zh, or --from PATH)")
    used = best_by_pair(packages)
    broken = check_installed(packages)  # loads each model and translates a probe sentence
    for p in packages:
        try:
            version = p.model_version
        except ModelError:
            version = "model.bin unreadable"
        line = f"{p.from_code} -> {p.to_code}  version {p.package_version}  ({version})  {p.path}"
        best = used[(p.from_code, p.to_code)]
        if best is not p:
            line += f"  [not used: version {best.package_version} in {best.path.name} is higher]"
        if p.path in broken:
            line += f"  [BROKEN: {broken[p.path]}]"
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    for path, reason in broken.items():
        err.print(f"warning: {path}: the model no longer loads ({reason}); reinstall it "
                  "(newsflow models install --from PATH, or from the index)", highlight=False, markup=False,
                  soft_wrap=True)


@models_app.command("install")
def models_install(
    codes: Annotated[list[str] | None, typer.Argument(help="Languages to install X->en for, e.g. de zh.")] = None,
    from_path: Annotated[Path | None, typer.Option("--from", help="An .argosmodel file or a folder of them.")] = None,
) -> None:
    """Install models from the Argos package index (online) or from files (offline)."""
    from translators.packages import install_from_index, install_from_path

    settings = _settings()
    directory = _models_dir(settings)
    if from_path is None and not codes:
        raise NewsflowError("give language codes (newsflow models install de zh) or --from PATH")
    installed = install_from_path(from_path, directory) if from_path else install_from_index(codes, directory)
    for p in installed:
        out.print(f"installed {p.from_code} -> {p.to_code} version {p.package_version} in {p.path}")


def ensure_models(settings: Settings, languages: list[str]) -> list[str]:
    """Install missing X->en models from the index when it is reachable.

    Returns warning lines (empty when all models are there). Never raises for
    an unreachable index: the run goes on and those articles stay pending.
    """
    from newsflow.errors import ModelError
    from translators.packages import install_from_index, list_installed

    directory = _models_dir(settings)
    have = {(p.from_code, p.to_code) for p in list_installed(directory)}
    wanted = sorted({"zh" if lang == "zt" else lang for lang in languages if lang != "en"})
    missing = [c for c in wanted if (c, "en") not in have and not (c == "zh" and ("zt", "en") in have)]
    if not missing:
        return []
    try:
        install_from_index(missing, directory)
        return []
    except ModelError as exc:
        return [f"models {', '.join(m + '->en' for m in missing)} are not installed and {exc}; "
                "until then those articles stay pending"]


@app.command()
def run(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")] = None,
    glossary: Annotated[Path | None, typer.Option(help="Glossary file (default: config 'glossary').")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=(
        "Fetch, clean, detect and plan, then say what a run would do: no model is loaded, "
        "nothing translated, stored or written."))] = False,
    install_models: Annotated[bool, typer.Option(help="Install missing models from the Argos index first.")] = True,
) -> None:
    """Run the translate-news flow once over the configured sources."""
    from newsflow.names import load_glossary

    settings = _settings()
    for name in source or []:
        settings.source(name)
    gpath = glossary or settings.glossary
    if gpath:
        load_glossary(settings.resolve(gpath))  # fail early, in one line
    if install_models and not dry_run:
        for line in ensure_models(settings, settings.languages):
            err.print(f"warning: {line}", highlight=False, markup=False, soft_wrap=True)

    from flows.translate_news import RunParameters, translate_news

    params = RunParameters(config_path=str(state.config_path), sources=source or None,
                           glossary=str(gpath) if glossary else None, dry_run=dry_run)
    from flows.runners import foreground_run

    with foreground_run():  # no heartbeat thread to wait for at the end (flows/runners.py)
        final = _configured_flow(translate_news, settings)(params, return_state=True)
    summary = final.result(raise_on_failure=False)
    if isinstance(summary, NewsflowError):
        raise summary
    if isinstance(summary, BaseException):
        raise NewsflowError(f"run failed: {type(summary).__name__}: {summary}") from None
    _print_summary(summary)
    if final.is_failed():
        raise typer.Exit(1)


def prefect_api_health(timeout: float = 5.0) -> str:
    """The configured Prefect server's API URL, or a NewsflowError saying why not.

    Scheduling needs a real `prefect server` (the temporary local API runs
    nothing on a schedule)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise NewsflowError("no Prefect server configured: start one with `prefect server start` and "
                            "set PREFECT_API_URL=http://127.0.0.1:4200/api (scheduling needs a server)")
    try:
        httpx.get(url.rstrip("/") + "/health", timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        raise NewsflowError(f"Prefect server at {url} is not reachable ({type(exc).__name__}: {exc}); "
                            "start it with `prefect server start`") from None
    return url


@app.command()
def serve() -> None:
    """Serve the translate-news deployment(s) on the config's schedule(s) (needs a Prefect server)."""
    settings = _settings()
    url = prefect_api_health()
    from prefect import serve as prefect_serve

    from flows.deployments import build_deployments
    from flows.translate_news import translate_news

    deployments = build_deployments(_configured_flow(translate_news, settings), settings, state.config_path)
    err.print(f"serving {', '.join(d.name for d in deployments)} against {url}", highlight=False)
    prefect_serve(*deployments)


# -- web (the reader) ----------------------------------------------------------


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default: put a "
                                           "reverse proxy with authentication in front to share it).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8470,
) -> None:
    """Serve the read-only reader: stories, articles beside their original, search, review."""
    settings = _settings()
    from newsflow.web.readonly import describe

    try:
        import uvicorn

        from newsflow.web.app import create_app
    except ImportError as exc:
        raise NewsflowError(f"the reader needs FastAPI, Jinja2 and uvicorn: {exc}") from None
    import socket

    try:  # one clear line for a port in use (uvicorn would log and exit on its own)
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise NewsflowError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    application = create_app(settings)
    err.print(f"newsflow reader on http://{host}:{port}/ (read-only: {describe(settings)})",
              highlight=False, markup=False)
    uvicorn.run(application, host=host, port=port, log_level="warning", server_header=False)


def _configured_flow(flow, settings: Settings):
    """The flow with the task runner the config asks for (threads or Dask)."""
    from flows.runners import configured_flow

    return configured_flow(settings, flow)


def _print_summary(summary: dict) -> None:
    if not summary:
        return
    counts = summary.get("by_status", {})
    parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("translated", "passed-through", "pending", "failed"))
    if summary.get("dry_run"):
        plan = summary.get("plan") or {}
        out.print(f"dry run: {summary.get('articles_in', 0)} articles ({summary.get('unchanged', 0)} unchanged); "
                  "nothing was translated, stored or written", highlight=False)
        for w in plan.get("work", []):
            if w["action"] != "unchanged":
                sentences = f", {w['sentences']} sentences" if w["sentences"] else ""
                out.print(f"  {w['lang']}: {w['articles']} articles{sentences}: {w['action']}", highlight=False)
        for reason, n in plan.get("pending_reasons", {}).items():
            out.print(f"  {n} would stay pending: {reason}", highlight=False)
        for reason, n in plan.get("failed_reasons", {}).items():
            out.print(f"  {n} would fail: {reason}", highlight=False)
    else:
        sentences = summary.get("sentences") or {}
        out.print(f"{summary.get('articles_in', 0)} articles: {parts} "
                  f"({summary.get('unchanged', 0)} unchanged, {summary.get('written', 0)} written; "
                  f"sentences: {sentences.get('translated', 0)} translated, "
                  f"{sentences.get('from_cache', 0)} from cache)", highlight=False)
        kept = len(summary.get("retranslate_failed", [])) + summary.get("omitted", {}).get("retranslate_failed", 0)
        if kept:
            out.print(f"{kept} re-translations failed, previous kept (retried next run)", highlight=False)
        rechecked = len(summary.get("rechecked", [])) + summary.get("omitted", {}).get("rechecked", 0)
        if rechecked:
            out.print(f"{rechecked} stored articles re-checked against the edited glossary "
                      "(names only, nothing re-translated)", highlight=False)
    for e in summary.get("chunk_errors", []):
        err.print(f"error: chunk {e['chunk']} of {e['of']} ({e['articles']} articles) failed: {e['error']} "
                  "(the next run does its articles)", highlight=False, markup=False, soft_wrap=True)
    for e in summary.get("source_errors", []):
        out.print(f"source {e['source']} failed: {e['error']}", highlight=False)
    for warning in summary.get("warnings", []):
        err.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    if summary.get("pending") and not summary.get("dry_run"):
        out.print(f"{counts.get('pending', 0)} pending: " +
                  "; ".join(sorted({p['reason'] for p in summary['pending']})), highlight=False)
    if summary.get("report_path"):
        out.print(f"report: {summary['report_path']}", highlight=False)


# --- stories and search (issue 15) -------------------------------------------


@app.command()
def stories(
    since: Annotated[str | None, typer.Option("--since", help="Only stories seen since: ISO date/time or 24h, 7d.")] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="Only stories naming this entity (a glossary id such as lavrov, or a name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"stories": [...]} as one JSON object.')] = False,
) -> None:
    """Stories (one event across sources and languages), newest first, with their articles.

    Stored articles that have no story yet (stored before stories existed) are assigned first,
    so every translated or passed-through article is in exactly one story."""
    from newsflow.store import open_store
    from newsflow.stories import list_stories, parse_since, sync

    settings = _settings()
    since_iso = parse_since(since)
    with open_store(settings) as store:
        sync(store, settings)
        found, page = [], 500
        while True:
            chunk = list_stories(store, since=since_iso, entity=entity, limit=page, offset=len(found))
            found += chunk
            if len(chunk) < page:
                break
    if as_json:
        _emit({"stories": found})
        return
    if not found:
        out.print("no stories", highlight=False)
    for s in found:
        out.print(f"{s['last_seen'][:16].replace('T', ' ')}  {s['title']}  "
                  f"[{', '.join(s['languages'])}; {s['article_count']} article(s)]  {s['id']}",
                  highlight=False, markup=False)
        for a in s["articles"]:
            out.print(f"    {a['lang']:2}  {a['source']:16} {a['title_en'] or a['title']}",
                      highlight=False, markup=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words (English, German, ...) or Chinese characters.")],
    lang: Annotated[str | None, typer.Option("--lang", help="Only articles in this language.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only articles of this source.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only articles published since: ISO or 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many results.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"results": [...]} as one JSON object.')] = False,
) -> None:
    """Find stored articles by words in the English text, the original text or the title (ranked, with a snippet)."""
    from newsflow.search import search as run_search
    from newsflow.store import open_store

    if lang is not None and lang not in ("de", "zh", "zt", "en"):
        raise NewsflowError(f"--lang {lang!r}: expected one of de, zh, zt, en")
    settings = _settings()
    with open_store(settings) as store:
        results = run_search(store, query, lang=lang, source=source, since=since, limit=limit)
    if as_json:
        _emit({"results": results})
        return
    if not results:
        out.print("no results", highlight=False)
    for r in results:
        out.print(f"{(r['published'] or '')[:10]:10}  {r['lang']:2}  {r['source']}  "
                  f"{r['title_en'] or r['title']}", highlight=False, markup=False)
        out.print(f"    {r['snippet']}", highlight=False, markup=False)
        out.print(f"    {r['id']}  story {r['story'] or '-'}", highlight=False, markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
