"""Politeness of newsflow.fetch against the loopback news site: robots.txt, per-host
concurrency and delay, Retry-After, User-Agent, conditional requests; robots.txt rules."""

from __future__ import annotations

import threading
import time

import pytest

from newsflow import fetch
from newsflow.config import FetchConfig, SourceConfig, parse_settings
from newsflow.errors import ConfigError, SourceError, TransientSourceError
from newsflow.robots import parse_robots
from newsflow.sources import read_source
from tests.support.news_site import NewsSite


@pytest.fixture(autouse=True)
def fresh_run():
    fetch.begin_run()


@pytest.fixture
def site():
    with NewsSite() as site:
        yield site


def config(**options) -> FetchConfig:
    return FetchConfig(**{"min_delay_seconds": 0, "timeout_seconds": 5, **options})


def test_no_host_sees_more_than_the_configured_concurrency(site):
    # 6 pages of 0.1 s each, all asked for at once: without the limit the host would serve
    # all 6 together; with it, 3 rounds of 2 (0.3 s)
    site.page_delay = 0.1
    cfg = config(per_host_concurrency=2)
    urls = [f"{site.base}/slowpage/{i}" for i in range(6)]
    threads = [threading.Thread(target=fetch.get, args=(url, cfg)) for url in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert site.count("/robots.txt") == 1  # once per host, however many threads ask
    assert len(site.requests) == 7
    assert site.max_active == 2  # used, and never exceeded


def test_concurrency_holds_across_sources_on_one_host(site):
    """Two feeds of the same site read at once (as the flow does): the limit is per host."""
    # pages of 0.05 s make the two sources' requests overlap; 0.3 s: the feed's slow page
    # (0.6 s, Site.slow_seconds) times out and keeps its slot while the others go on
    site.page_delay = 0.05
    fetch_options = {"min_delay_seconds": 0, "timeout_seconds": 0.3, "per_host_concurrency": 2,
                     "max_bytes": 200_000}
    sources = [
        SourceConfig(name="rss", kind="feed", url=f"{site.base}/feed.rss", fetch=fetch_options),
        SourceConfig(name="atom", kind="feed", url=f"{site.base}/feed.atom", lang="zh",
                     fetch=fetch_options),
    ]
    results: dict[str, list] = {}
    threads = [threading.Thread(target=lambda s=s: results.__setitem__(s.name, list(read_source(s, None))))
               for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results["rss"]) == 11 and len(results["atom"]) == 3
    assert site.max_active <= 2
    assert site.count("/robots.txt") == 1


def test_a_timed_out_request_keeps_its_slot(site):
    """The server is still busy with a request we gave up on: the host must not see one
    request more than the limit while it is."""
    # 0.5 s: past the 0.25 s timeout, and over 0.25 s before the slot is free (0.75 s)
    site.slow_seconds = 0.5
    cfg = config(per_host_concurrency=1, timeout_seconds=0.25)
    with pytest.raises(TransientSourceError, match="timed out after 0.25 s"):
        fetch.get(f"{site.base}/langsam.html", cfg)
    fetch.get(f"{site.base}/slowpage/1", config(per_host_concurrency=1))  # 5 s: it must answer
    assert site.max_active == 1
    slow, page = (next(r for r in site.requests if r.path == p) for p in ("/langsam.html", "/slowpage/1"))
    # the timeout plus two more (0.75 s), as the server saw it; a slot given back at the
    # timeout would let the page in after 0.25 s, one held for a single timeout after 0.5 s
    assert page.started - slow.started >= 0.65


def test_a_host_that_keeps_timing_out_is_left_alone_for_the_run(site):
    site.slow_seconds = 0.5  # past the 0.2 s timeout
    cfg = config(per_host_concurrency=4, timeout_seconds=0.2)
    patient = config(per_host_concurrency=4)  # 5 s: refused for the host, not for its timeout
    for _ in range(3):
        with pytest.raises(TransientSourceError, match="timed out"):
            fetch.get(f"{site.base}/langsam.html", cfg)
    with pytest.raises(TransientSourceError, match="not asked: the host timed out 3 times in a row"):
        fetch.get(f"{site.base}/slowpage/1", patient)
    assert site.count("/langsam.html") == 3 and site.count("/slowpage/1") == 0
    fetch.begin_run()  # the next run tries again
    assert fetch.get(f"{site.base}/slowpage/1", patient).data


def test_minimum_delay_between_requests_to_a_host(site):
    # 3 pages at once on 2 free slots: without the delay two would start together
    delay = 0.25
    cfg = config(per_host_concurrency=2, min_delay_seconds=delay)
    threads = [threading.Thread(target=fetch.get, args=(f"{site.base}/slowpage/{i}", cfg))
               for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    starts = sorted(r.started for r in site.requests)  # robots.txt included
    assert len(starts) == 4
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # `delay` apart as newsflow starts them; the server may see one a little late
    assert min(gaps) >= delay - 0.1 and sum(gaps) >= 3 * delay - 0.1, gaps


def test_robots_crawl_delay_counts_as_minimum_delay():
    assert parse_robots("User-agent: *\nCrawl-delay: 2.5\n", "newsflow").crawl_delay == 2.5


def test_retry_after_is_waited_out_then_asked_once_more(site):
    site.busy_left = 1
    payload = fetch.get(f"{site.base}/busy", config())
    assert payload.data == b"ok now"
    busy = [r for r in site.requests if r.path == "/busy"]
    assert [r.status for r in busy] == [503, 200]
    assert busy[1].started - busy[0].started >= 0.95  # Retry-After: 1


def test_retry_after_longer_than_a_request_may_wait_is_transient(site):
    site.busy_left = 5
    with pytest.raises(TransientSourceError) as err:
        fetch.get(f"{site.base}/busy", config(timeout_seconds=0.5))
    assert err.value.retry_after == 1.0
    assert str(err.value) == f"{site.base}/busy: HTTP 503 Service Unavailable (Retry-After 1 s)"
    assert site.statuses("/busy") == [503]
    # the host asked for a pause: the next request waits for it instead of hammering
    start = time.monotonic()
    site.busy_left = 0
    assert fetch.get(f"{site.base}/busy", config()).data == b"ok now"
    assert time.monotonic() - start >= 0.5


def test_user_agent_names_newsflow_and_the_contact(site):
    fetch.get(f"{site.base}/robots.txt", config(contact="ops@zeitung.example"))
    agents = {r.headers["user-agent"] for r in site.requests}
    assert agents == {"newsflow/0.2 (offline news translation) (+ops@zeitung.example)"}


def test_disallowed_url_is_never_requested(site):
    with pytest.raises(fetch.Disallowed, match=r"/private/geheim\.html: disallowed by robots\.txt$"):
        fetch.get(f"{site.base}/private/geheim.html", config())
    assert site.paths() == ["/robots.txt"]
    # a feed there fails at once, for good (not retried)
    source = SourceConfig(name="geheim", kind="feed", url=f"{site.base}/private/feed.rss",
                          fetch={"min_delay_seconds": 0})
    with pytest.raises(SourceError) as err:
        list(read_source(source, None))
    assert not isinstance(err.value, TransientSourceError)
    assert site.paths() == ["/robots.txt"]


def test_robots_is_read_once_per_run(site):
    for _ in range(3):
        fetch.get(f"{site.base}/feed.atom", config())
    assert site.count("/robots.txt") == 1
    fetch.begin_run()
    fetch.get(f"{site.base}/feed.atom", config())
    assert site.count("/robots.txt") == 2


def test_conditional_request_and_304(site):
    first = fetch.get(f"{site.base}/feed.rss", config())
    assert first.etag == '"rss-v1"' and first.last_modified and not first.not_modified
    again = fetch.get(f"{site.base}/feed.rss", config(), **first.validators)
    assert again.not_modified and again.data == b""
    request = site.requests[-1]
    assert request.headers["if-none-match"] == '"rss-v1"'
    assert request.headers["if-modified-since"] == first.last_modified
    # a server that sends Last-Modified only
    atom = fetch.get(f"{site.base}/feed.atom", config())
    assert atom.validators == {"last_modified": atom.last_modified}
    assert fetch.get(f"{site.base}/feed.atom", config(), **atom.validators).not_modified


def test_redirect_limit(site):
    with pytest.raises(SourceError, match=r"redirect loop"):
        fetch.get(f"{site.base}/schleife-a", config())
    with pytest.raises(SourceError, match=r"too many redirects \(limit 0\)$"):
        fetch.get(f"{site.base}/schleife-a", config(max_redirects=0))


def test_pages_source_uses_validators_and_keeps_stored_text_on_304(site):
    from tests.test_follow_links import MemoryStore, run

    source = SourceConfig(name="seiten", kind="pages", lang="de",
                          pages=[f"{site.base}/de/radwege.html"], fetch={"min_delay_seconds": 0})
    store = MemoryStore()
    first = run(source, store)
    (article,) = first.values()
    assert article.paragraphs[0].startswith("Der Stadtrat hat am Mittwochabend")
    site.clear()
    (again,) = run(source, store).values()
    assert site.statuses("/de/radwege.html") == [304]
    assert again.text == article.text and again.title == article.title


# --------------------------------------------------------------------------- robots.txt rules


ROBOTS = """
User-agent: *
Disallow: /private/
Allow: /private/open/
Disallow: /*?print=1$
Disallow: /drafts

User-agent: newsflow
User-agent: otherbot
Disallow: /nf-only/
Crawl-delay: 1
"""


@pytest.mark.parametrize(
    "agent, path, allowed",
    [
        ("somebot", "/news/1.html", True),
        ("somebot", "/private/x.html", False),
        ("somebot", "/private/open/x.html", True),  # longest match wins
        ("somebot", "/a.html?print=1", False),
        ("somebot", "/a.html?print=10", True),  # "$" anchors the end
        ("somebot", "/drafts-2026/x", False),  # a prefix, as the RFC says
        ("somebot", "/robots.txt", True),
        ("newsflow", "/private/x.html", True),  # its own group replaces "*"
        ("newsflow", "/nf-only/x", False),
        ("newsflow", "/%7Enf/x", True),
    ],
)
def test_robots_rules(agent, path, allowed):
    assert parse_robots(ROBOTS, agent).allowed(f"http://h.example{path}") is allowed


def test_robots_empty_disallow_allows_everything():
    rules = parse_robots("User-agent: *\nDisallow:\n", "newsflow")
    assert rules.allowed("http://h.example/anything")


# --------------------------------------------------------------------------- settings


def test_fetch_settings_merge_into_sources():
    settings = parse_settings(
        "fetch: {contact: ops@x.example, per_host_concurrency: 3}\n"
        "sources:\n"
        "  - {name: a, kind: feed, url: http://x.example/f}\n"
        "  - {name: b, kind: feed, url: http://x.example/g, fetch: {per_host_concurrency: 1}}\n"
        "  - {name: c, kind: feed, url: http://x.example/h, timeout_seconds: 3}\n"
    )
    a, b, c = settings.sources
    assert (a.fetch.contact, a.fetch.per_host_concurrency) == ("ops@x.example", 3)
    assert (b.fetch.contact, b.fetch.per_host_concurrency) == ("ops@x.example", 1)
    assert c.fetch_settings.timeout_seconds == 3 and a.fetch_settings.timeout_seconds == 20
    assert a.follow_links == "auto"


def test_fetch_settings_reach_sources_built_in_code():
    from newsflow.config import Settings

    settings = Settings(fetch=FetchConfig(contact="ops@x.example"), sources=[
        SourceConfig(name="a", kind="feed", url="http://x.example/f"),
        SourceConfig(name="b", kind="feed", url="http://x.example/g", fetch={"min_delay_seconds": 5}),
    ])
    a, b = settings.sources
    assert a.fetch.contact == b.fetch.contact == "ops@x.example"
    assert (a.fetch.min_delay_seconds, b.fetch.min_delay_seconds) == (1.0, 5)


@pytest.mark.parametrize(
    "text, message",
    [
        ("fetch: {user_agent: 'Mozilla/5.0'}\n", "key 'fetch.user_agent': the User-Agent must name newsflow"),
        ("fetch: {per_host_concurrency: 0}\nsources: [{name: a, kind: feed, url: x}]\n",
         "key 'fetch.per_host_concurrency'"),
        ("sources: [{name: a, kind: feed, url: x, follow_links: sometimes}]\n",
         "key 'sources[0].follow_links'"),
    ],
)
def test_fetch_settings_errors_name_the_key(text, message):
    with pytest.raises(ConfigError) as err:
        parse_settings(text, origin="config.yaml")
    assert message in str(err.value) and str(err.value).startswith("config.yaml:1: ")
