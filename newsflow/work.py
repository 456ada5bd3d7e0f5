"""The pieces the run core (:mod:`newsflow.run`) is built from, each small and testable
alone: reading a source as a stream, the store's light view of articles, spool files,
the counting sentence cache, the lease keeper, a dry run's plan. No Prefect here.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsflow import pipeline
from newsflow.article import Article, RawArticle
from newsflow.config import SourceConfig
from newsflow.store.schema import process_alive

log = logging.getLogger("newsflow.run")


# -- sources ----------------------------------------------------------------------------


def read_source(source: SourceConfig, base_dir: Path, store=None, *,
                save_state: bool = True) -> Iterator[RawArticle]:
    """The source's articles, one at a time (``newsflow.sources.read_source``: a folder is
    read file by file; ``save_state=False`` for dry runs keeps no feed validators)."""
    from newsflow.sources import read_source as read

    yield from read(source, base_dir, store=store, save_state=save_state)


# -- the store's view of articles ----------------------------------------------------------


@dataclass
class ArticleState:
    """The few columns planning needs (duck-types StoredArticle for pipeline.plan_work)."""

    id: str
    content_hash: str
    status: str
    lang: str = "und"
    lang_confidence: float = 0.0
    paragraph_langs: list[str] = field(default_factory=list)
    model_version: str | None = None


def light_states(store, ids: list[str]) -> dict[str, ArticleState]:
    """What the store knows of ``ids``, without their texts (``store.get_states`` when the
    store has it; else full rows of this batch only, dropped at once)."""
    if store is None or not ids:
        return {}
    getter = getattr(store, "get_states", None)
    if getter is not None:
        return {i: ArticleState(**state) for i, state in getter(ids).items()}
    return {i: ArticleState(r.id, r.content_hash, r.status, r.lang, r.lang_confidence,
                            list(r.paragraph_langs), r.model_version)
            for i, r in store.get_many(ids).items()}


def remove_stale_spools(root: Path, max_age_other_host: float = 24 * 3600) -> None:
    """Spool folders of killed runs (their owner process is gone) are deleted."""
    if not root.is_dir():
        return
    host = socket.gethostname()
    for folder in root.iterdir():
        try:
            owner_host, pid = (folder / "owner").read_text(encoding="utf-8").split()
            stale = (not process_alive(int(pid)) and int(pid) != os.getpid()) if owner_host == host else (
                time.time() - folder.stat().st_mtime > max_age_other_host)
        except (OSError, ValueError):
            stale = time.time() - folder.stat().st_mtime > 3600
        if stale:
            shutil.rmtree(folder, ignore_errors=True)


class LeaseKeeper:
    """Renews the run's claims (``store.renew``) from a daemon thread while the run is
    alive, every third of the lease: a run longer than its lease keeps its claims."""

    def __init__(self, open_store_fn, run_id: str, lease_seconds: float, every: float | None = None):
        self._open, self.run_id, self.lease = open_store_fn, run_id, lease_seconds
        self.every = every or lease_seconds / 3
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="newsflow-lease", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with self._open() as store:
                    if hasattr(store, "renew"):
                        store.renew(self.run_id, self.lease)
                        self.renewals += 1
            except Exception as exc:  # a failed renewal is retried at the next tick
                log.warning("lease renewal failed: %s", exc)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


@dataclass
class DryPlan:
    """A dry run's answer: per (language, action) articles and sentences; pending reasons."""

    work: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    pending_reasons: Counter = field(default_factory=Counter)
    failed_reasons: Counter = field(default_factory=Counter)

    def add(self, lang: str, action: str, article: Article | None, count_sentences: bool = False) -> None:
        entry = self.work.setdefault((lang, action), [0, 0])
        entry[0] += 1
        if count_sentences and article is not None:
            entry[1] += count_article_sentences(article)

    def merge(self, other: DryPlan) -> None:
        for key, (a, s) in other.work.items():
            entry = self.work.setdefault(key, [0, 0])
            entry[0] += a
            entry[1] += s
        self.pending_reasons.update(other.pending_reasons)
        self.failed_reasons.update(other.failed_reasons)

    def to_dict(self) -> dict:
        return {"work": [{"lang": lang, "action": action, "articles": a, "sentences": s}
                         for (lang, action), (a, s) in sorted(self.work.items())],
                "pending_reasons": dict(self.pending_reasons.most_common()),
                "failed_reasons": dict(self.failed_reasons.most_common())}


def count_article_sentences(article: Article) -> int:
    """Sentences of the title and the paragraphs the model would get (no tokenizer needed)."""
    from translators.segment import split_sentences

    parts = [article.title, *(p for i, p in enumerate(article.paragraphs) if not pipeline._keep_english(article, i))]
    return sum(len(split_sentences(p, article.lang)) for p in parts if p.strip())


class SpoolWriter:
    def __init__(self, folder: Path, name: str, size: int) -> None:
        self.folder, self.name, self.size = folder, name, size
        self.buffer: list[Article] = []
        self.files: list[tuple[str, int]] = []

    def add(self, article: Article) -> None:
        self.buffer.append(article)
        if len(self.buffer) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        path = self.folder / f"{self.name}-{len(self.files):05d}.pkl"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(self.buffer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        self.files.append((str(path), len(self.buffer)))
        self.buffer = []

    def discard(self) -> None:
        for path, _ in self.files:
            Path(path).unlink(missing_ok=True)
        self.files, self.buffer = [], []


class CountingCache:
    """The engine's sentence cache (``inner``, or none), counting what it is asked: the
    engine asks once per call for every distinct sentence, so ``asked - hits`` sentences
    went to the model and ``hits`` came from the cache."""

    def __init__(self, inner=None) -> None:
        self.inner, self.asked, self.hits = inner, 0, 0

    def get_many(self, model_key: str, sources: list[str]) -> dict[str, str]:
        found = self.inner.get_many(model_key, sources) if self.inner is not None else {}
        self.asked += len(sources)
        self.hits += len(found)
        return found

    def put_many(self, model_key: str, pairs: dict[str, str]) -> None:
        if self.inner is not None:
            self.inner.put_many(model_key, pairs)

    @property
    def translated(self) -> int:
        return self.asked - self.hits


class Timer:
    def __init__(self, into: dict[str, float]) -> None:
        self.into = into

    def __call__(self, stage: str):
        timer = self

        class _Span:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                timer.into[stage] = timer.into.get(stage, 0.0) + time.perf_counter() - self.t0

        return _Span()


def load_spool(paths: list[str]) -> list[Article]:
    articles: list[Article] = []
    for path in paths:
        with open(path, "rb") as fh:
            articles += pickle.load(fh)  # noqa: S301 - this run's own spool files
    return articles


