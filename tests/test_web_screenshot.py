"""`newsflow web` as a user starts it: a real run of the translate-news flow on the samples (tiny
random-weight models; in this process, as are `newsflow stories --json` and `newsflow search
--json`: a CLI process costs ~2-5 CPU-seconds of imports, and the command under test here is
`newsflow web`) fills the store, the reader runs as its own process (network blocked but
loopback) on a free loopback port, the pages and JSON routes are fetched over HTTP, a hostile article from a
folder source shows escaped, and headless Chromium takes a picture of `/` and of an article.

The pictures go to ``$NEWSFLOW_SCREENSHOT_DIR`` when set (``NEWSFLOW_SCREENSHOT_DIR=docs/img``
refreshes the README's), else to the test's temporary folder. Without Chromium the test fails
under ``CI=true`` (the CI image must have it) and skips elsewhere, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.support.services import require

pytestmark = pytest.mark.integration

HOSTILE_TITLE = '<script>alert("reader")</script> Hostile <b>headline</b>'


def _env(tmp_path: Path, api_url: str | None) -> dict:
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "support" / "offline"), str(REPO)]),
           "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "ARGOS_PACKAGES_DIR": str(tmp_path / "argos-default"),
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def _config(tmp_path: Path, models: Path) -> Path:
    samples = REPO / "samples"
    inbox = tmp_path / "inbox"
    shutil.copytree(samples / "inbox", inbox)
    (inbox / "hostile.txt").write_text(
        f"{HOSTILE_TITLE}\n\nA paragraph with <img src=x onerror=alert(1)> in it, about Lavrov.\n",
        encoding="utf-8")
    pages = "\n".join(f"      - {p}" for p in sorted((samples / "html").glob("*.html")))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "sources:\n"
        f"  - {{name: de-nachrichten, kind: feed, lang: de, url: {samples}/feeds/de-nachrichten.xml}}\n"
        f"  - {{name: zh-xinwen, kind: feed, lang: zh, url: {samples}/feeds/zh-xinwen.xml}}\n"
        f"  - {{name: en-news, kind: feed, lang: en, url: {samples}/feeds/en-news.xml}}\n"
        f"  - name: pages\n    kind: pages\n    pages:\n{pages}\n"
        f"  - {{name: inbox, kind: folder, path: {inbox}}}\n"
        f"models_dir: {models}\n"
        f"glossary: {REPO / 'glossary.yaml'}\n"
        f"database: {tmp_path / 'data' / 'newsflow.db'}\n"
        f"output_dir: {tmp_path / 'output'}\n")
    return cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium_or_skip() -> None:
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    require("headless Chromium is not installed (apt-get install chromium): the reader's "
            "screenshots cannot be taken")


@pytest.fixture
def reader(tmp_path, installed_models_dir, prefect_harness):
    from prefect.settings import PREFECT_API_URL
    from typer.testing import CliRunner

    from flows.translate_news import RunParameters, translate_news
    from newsflow.cli import app

    assert PREFECT_API_URL.value()  # the run reports to the session's test API
    cfg = _config(tmp_path, installed_models_dir)
    base = [sys.executable, "-m", "newsflow.cli", "--config", str(cfg)]
    state = translate_news(RunParameters(config_path=str(cfg)), return_state=True)
    assert state.is_completed(), state.message
    con = sqlite3.connect(tmp_path / "data" / "newsflow.db")
    unassigned = con.execute("SELECT count(*) FROM articles WHERE status IN ('translated', "
                             "'passed-through') AND story_id IS NULL").fetchone()[0]
    con.close()
    assert unassigned == 0, "the run left articles without a story"
    # what the CLI prints, to compare the reader's JSON with
    cli = {}
    for name, args in (("stories", ["stories", "--json"]), ("search", ["search", "Lavrov", "--json"])):
        done = CliRunner().invoke(app, ["--config", str(cfg), *args])
        assert done.exit_code == 0, done.output[-2000:]
        cli[name] = json.loads(done.stdout)
    db = tmp_path / "data" / "newsflow.db"
    before = db.stat().st_mtime_ns
    port = _free_port()
    proc = subprocess.Popen([*base, "web", "--port", str(port)], env=_env(tmp_path, None),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"newsflow web did not answer on {url}: {err[-2000:]}")
            time.sleep(0.3)
        yield url, db, cli
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert db.stat().st_mtime_ns == before  # the reader never wrote to the store


def test_reader_over_a_sample_run(reader, tmp_path):
    url, db, cli = reader
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT id, title, lang, status, name_findings FROM articles").fetchall()
    con.close()
    by_title = {r["title"]: r["id"] for r in rows}
    client = httpx.Client(base_url=url, timeout=30)

    home = client.get("/")
    assert home.status_code == 200 and 'href="/stories/' in home.text
    stories = client.get("/api/stories", params={"limit": 200}).json()["stories"]
    listed = {a["id"] for s in stories for a in s["articles"]}
    assert {r["id"] for r in rows if r["status"] in ("translated", "passed-through")} <= listed
    # the same stories, with the CLI's fields, as `newsflow stories --json`
    assert [s["id"] for s in stories] == [s["id"] for s in cli["stories"]["stories"]]
    for ours, theirs in zip(stories, cli["stories"]["stories"], strict=True):
        assert {k: ours[k] for k in theirs} == theirs
    assert stories
    story = client.get(f"/stories/{stories[0]['id']}")
    assert story.status_code == 200
    assert client.get(f"/api/stories/{stories[0]['id']}").json()["id"] == stories[0]["id"]

    found = client.get("/search", params={"q": "Lavrov"})
    assert found.status_code == 200 and 'href="/articles/' in found.text
    results = client.get("/api/search", params={"q": "Lavrov"}).json()["results"]
    assert results and results == cli["search"]["results"]  # as `newsflow search Lavrov --json`
    assert {"id", "title", "title_en", "lang", "source", "url", "published", "story",
            "snippet"} <= results[0].keys()

    # a German article with a name the check fixed or missed, else any German one
    german = [r for r in rows if r["lang"] == "de" and r["status"] == "translated"]
    german.sort(key=lambda r: not any(f["status"] != "ok" for f in json.loads(r["name_findings"])))
    article_id = german[0]["id"]
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200 and "Original (German)" in page.text
    assert client.get(f"/api/articles/{article_id}").json()["id"] == article_id
    assert client.get("/review").status_code == 200
    assert client.get("/articles/nope:0").status_code == 404

    hostile_id = by_title[HOSTILE_TITLE]
    hostile = client.get(f"/articles/{hostile_id}").text
    assert "<script>alert" not in hostile and "<img src=x" not in hostile and "<b>headline" not in hostile
    assert "&lt;script&gt;alert(&#34;reader&#34;)&lt;/script&gt;" in hostile
    assert "&lt;script&gt;" in client.get("/search", params={"q": "Hostile"}).text

    _chromium_or_skip()
    from scripts.screenshot import screenshot

    out = Path(os.environ.get("NEWSFLOW_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    shots = {"reader-stories.png": (f"{url}/", 1000),
             "reader-article.png": (f"{url}/articles/{article_id}", 1300)}
    for name, (page_url, height) in shots.items():
        try:
            screenshot(page_url, out / name, width=1400, height=height, wait_ms=3000)
        except SystemExit as exc:
            pytest.fail(str(exc))
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, name
