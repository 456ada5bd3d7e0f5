"""config.yaml -> typed settings.

Loading never shows a traceback for a user mistake: every problem becomes one
:class:`~newsflow.errors.ConfigError` line naming the file, the key path
(``sources[1].kind``) and, where YAML knows it, the line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newsflow.errors import ConfigError

DEFAULT_CONFIG = Path("config.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Strict):
    """Either a cron expression or an interval in seconds (not both)."""

    cron: str | None = None
    interval_seconds: int | None = Field(default=None, gt=0)
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give exactly one of 'cron' or 'interval_seconds'")
        return self


class FetchConfig(_Strict):
    """How newsflow behaves on other people's servers (all HTTP goes through
    :mod:`newsflow.fetch`). The User-Agent sent is ``user_agent`` followed by
    ``(+contact)`` when a contact is set, so site owners can reach the operator.
    Per host: at most ``per_host_concurrency`` requests at once, none starting
    sooner than ``min_delay_seconds`` (or the robots.txt Crawl-delay if larger, up
    to 30 s) after the previous request started or was answered. ``timeout_seconds`` bounds each request as a whole;
    ``max_redirects`` hops are followed (each checked against robots.txt);
    a body over ``max_bytes`` is refused, not truncated."""

    user_agent: str = "newsflow/0.2 (offline news translation)"
    contact: str | None = None
    per_host_concurrency: int = Field(default=2, ge=1, le=16)
    min_delay_seconds: float = Field(default=1.0, ge=0)
    timeout_seconds: float = Field(default=20.0, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=30)
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    @field_validator("user_agent")
    @classmethod
    def _names_newsflow(cls, value: str) -> str:
        if "newsflow" not in value.lower():
            raise ValueError("the User-Agent must name newsflow (e.g. 'newsflow/0.2 (my-site)')")
        return value

    @property
    def agent(self) -> str:
        """The User-Agent header sent."""
        return f"{self.user_agent} (+{self.contact})" if self.contact else self.user_agent


class SourceConfig(_Strict):
    """One news source.

    kind ``feed``: ``url`` is an http(s) URL or a file path of an RSS/Atom feed.
    kind ``folder``: ``path`` is a folder of .txt, .html, .json and .jsonl files.
    kind ``pages``: ``pages`` lists http(s) URLs or file paths of HTML pages.
    ``lang`` is the language the source is expected to publish in; detection
    uses it only to break ties.

    ``follow_links`` (feeds): ``auto`` follows an item's link when the feed
    carries only a short text (under :data:`newsflow.feeds.FOLLOW_BELOW_CHARS`
    characters) and the feed was fetched over http(s) -- a feed read from a file
    is a snapshot taken as it is; ``always`` follows every item with a link;
    ``never`` keeps the feed's text. ``fetch`` overrides keys of the top-level
    ``fetch`` settings for this source (merged over them by :class:`Settings`).
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["feed", "folder", "pages"]
    lang: str | None = None
    url: str | None = None
    path: Path | None = None
    pages: list[str] | None = None
    enabled: bool = True
    schedule: Schedule | None = None
    timeout_seconds: float = Field(default=20.0, gt=0)
    follow_links: Literal["auto", "always", "never"] = "auto"
    fetch: FetchConfig = Field(default_factory=FetchConfig)

    @property
    def fetch_settings(self) -> FetchConfig:
        """The fetch settings for this source; a ``timeout_seconds`` given on the
        source itself wins over ``fetch.timeout_seconds``."""
        if "timeout_seconds" in self.model_fields_set:
            return self.fetch.model_copy(update={"timeout_seconds": self.timeout_seconds})
        return self.fetch

    @model_validator(mode="after")
    def _location(self) -> SourceConfig:
        needed = {"feed": "url", "folder": "path", "pages": "pages"}[self.kind]
        if getattr(self, needed) in (None, []):
            raise ValueError(f"a '{self.kind}' source needs '{needed}'")
        return self


class TranslationConfig(_Strict):
    """CTranslate2 decoding settings.

    beam_size 2 by default: on 2 CPU cores beam 1 is ~1.7x and beam 4 ~0.56x its
    speed (README "Performance"); beam 2 is still a beam search at about half of
    beam 4's cost. Threads ``0`` means "choose for this machine".
    """

    beam_size: int = Field(default=2, ge=1, le=16)
    inter_threads: int = Field(default=0, ge=0)
    intra_threads: int = Field(default=0, ge=0)
    compute_type: str = "int8"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    max_batch_tokens: int = Field(default=1024, ge=64)
    max_input_tokens: int = Field(default=200, ge=16, le=1024)
    max_decoding_length: int = Field(default=512, ge=16, le=4096)
    sentence_cache: bool = True
    # cache entries written more than this many days ago are deleted (checked once a day, at the
    # end of a run); null keeps them forever. A pruned sentence met again is translated again
    sentence_cache_days: int | None = Field(default=180, ge=1)


class QualityConfig(_Strict):
    """Quality checks and the second decoding pass (README "Quality flags").

    ``low_confidence``: per model id (e.g. ``translate-zh_en``) the length-normalised
    log-probability below which a sentence is flagged ``low-confidence``; ``default`` for the
    rest (ln 0.5, Firefox Translations' cut-off). Scores are not comparable across models: tune
    these on a sample of each model's output. ``redecode``: decode sentences flagged
    low-confidence / repetition / truncated once more with ``redecode_beam`` and the repetition
    settings, keeping the better attempt; at most ``redecode_max_share`` of a batch's sentences
    (lowest scores first). ``nbest_margin``: a lower-ranked hypothesis of the same beam that gets
    the glossary names right is taken when its score is within this of the best.
    """

    low_confidence: dict[str, float] = Field(default_factory=lambda: {"default": -0.69})
    redecode: bool = True
    redecode_beam: int = Field(default=4, ge=1, le=16)
    repetition_penalty: float = Field(default=1.2, ge=1.0, le=3.0)
    no_repeat_ngram_size: int = Field(default=3, ge=0, le=10)
    redecode_max_share: float = Field(default=0.25, ge=0.0, le=1.0)
    nbest_margin: float = Field(default=0.5, ge=0.0)

    @field_validator("low_confidence")
    @classmethod
    def _default_threshold(cls, table: dict[str, float]) -> dict[str, float]:
        return {"default": -0.69, **table}


class TaskRunnerConfig(_Strict):
    kind: Literal["threads", "dask"] = "threads"
    max_workers: int = Field(default=4, ge=1)
    address: str | None = None  # dask scheduler; None starts a LocalCluster
    n_workers: int = Field(default=2, ge=1)
    # the LocalCluster's dashboard: on loopback (Dask's own default, ":8787", listens on every
    # interface of the machine); null: no dashboard. A port in use: Dask picks another, says so
    dashboard_address: str | None = "127.0.0.1:8787"


class RunConfig(_Strict):
    """How a run walks its backlog (``newsflow/run.py``).

    ``chunk_articles``: after planning, work goes in chunks of this many articles; each
    chunk is translated (one engine call per language), checked, stored and written
    before the next starts, so a killed run keeps every finished chunk and memory
    depends on this number, not on the backlog. 200 articles of ~9 sentences are
    ~1,800 sentences: enough for full engine batches, small enough to lose little.
    ``spool_dir``: where planned work waits for its chunk (default: ``spool`` next to
    the SQLite database); with Dask workers on other machines, a folder they share.
    ``lease_seconds``: how long a claim holds without renewal (renewed while alive).
    """

    chunk_articles: int = Field(default=200, ge=1)
    spool_dir: Path | None = None
    lease_seconds: float = Field(default=3600, gt=0)


class StoriesConfig(_Strict):
    # an article joins a story only within this many hours of the story's first/last article
    window_hours: float = Field(default=72, gt=0, le=24 * 60)


class WebConfig(_Strict):
    """The reader (`newsflow web`). ``base_url``: where the reader is reachable (e.g.
    ``https://news.example.org/reader``); when set, the run summary artifact links
    each story to its reader page."""

    base_url: str | None = Field(default=None, pattern=r"^https?://")


class Settings(_Strict):
    sources: list[SourceConfig] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=lambda: ["de", "zh", "zt"])
    target_language: Literal["en"] = "en"
    models_dir: Path | None = None  # None: Argos's own (ARGOS_PACKAGES_DIR honoured)
    translation: TranslationConfig = Field(default_factory=TranslationConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    glossary: Path | None = Path("glossary.yaml")
    database: Path = Path("data/newsflow.db")
    database_url: str | None = None  # postgresql://... overrides `database`
    output_dir: Path = Path("output")
    schedule: Schedule | None = None
    task_runner: TaskRunnerConfig = Field(default_factory=TaskRunnerConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    stories: StoriesConfig = Field(default_factory=StoriesConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    # Set by the loader: relative paths in the file are relative to the file.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _fetch_into_sources(cls, data):
        """Every source gets the top-level ``fetch`` settings, its own ``fetch`` keys
        merged over them (so read_source needs nothing but the source)."""
        if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
            return data
        common = data.get("fetch") or {}
        if isinstance(common, FetchConfig):  # Settings(...) built in code
            common = common.model_dump(exclude_unset=True)
        if not isinstance(common, dict):
            return data  # the field validator names the problem
        try:
            FetchConfig.model_validate(common)
        except ValidationError:
            return data  # reported once, at 'fetch.<key>', not at every source
        sources = []
        for source in data["sources"]:
            if isinstance(source, dict):
                own = source.get("fetch") or {}
                if isinstance(own, dict):
                    source = {**source, "fetch": {**common, **own}}
            elif isinstance(source, SourceConfig) and common:
                own = source.fetch.model_dump(exclude_unset=True) if "fetch" in source.model_fields_set else {}
                source = source.model_copy(update={"fetch": FetchConfig(**{**common, **own})})
            sources.append(source)
        return {**data, "sources": sources}

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in sources:
            if s.name in seen:
                raise ValueError(f"duplicate source name '{s.name}'")
            seen.add(s.name)
        return sources

    def resolve(self, p: Path | str) -> Path:
        p = Path(os.path.expanduser(str(p)))
        return p if p.is_absolute() else (self.base_dir / p)

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named '{name}' in the config")


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(text: str, loc: tuple) -> int | None:
    """Line number (1-based) of a key path in the YAML text, when it exists there."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if nxt is None:
                break
            line = key.start_mark.line + 1
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_settings(text: str, origin: str = "<config>", base_dir: Path = Path(".")) -> Settings:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark else origin
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}:1: the top level must be a mapping of settings")
    _check_unique_source_names(data, text, origin)
    try:
        return Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        # drop pydantic's tagged-union noise such as 'function-after[...]'
        loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p))
        line = _line_of(text, loc)
        where = f"{origin}:{line}" if line else origin
        msg = err["msg"]
        msg = msg.removeprefix("Value error, ")  # pydantic's prefix for validator messages
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{where}: key '{_loc(loc)}': {msg}{more}") from None


def _check_unique_source_names(data: dict, text: str, origin: str) -> None:
    """A repeated source name is reported at the repeat, with the line of the first."""
    sources = data.get("sources")
    if not isinstance(sources, list):
        return
    first: dict[str, int] = {}
    for i, source in enumerate(sources):
        name = source.get("name") if isinstance(source, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            line = _line_of(text, ("sources", i, "name"))
            where = f"{origin}:{line}" if line else origin
            raise ConfigError(
                f"{where}: key 'sources[{i}].name': duplicate source name '{name}' "
                f"(first on line {_line_of(text, ('sources', first[name], 'name'))})"
            )
        first[name] = i


def load_settings(path: Path | str | None = None) -> Settings:
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    return parse_settings(text, origin=str(path), base_dir=path.resolve().parent)
