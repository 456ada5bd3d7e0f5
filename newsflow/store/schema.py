"""The one schema of the article store, and the rules both dialects share.

Both dialects' ``CREATE TABLE`` / ``CREATE INDEX`` / ``ALTER TABLE ... ADD
COLUMN`` statements come from :data:`TABLES` (portable column types, rendered
per dialect by :func:`create_table_sql` and friends); nothing else in the code
spells out a table. Also here, because both dialects need them exactly alike:
the row codec (:func:`article_row` / :func:`row_article`), :func:`now_iso`,
:func:`process_alive`, :func:`sentence_hash` and the stale-lease rule
(:func:`lease_lost`, used for claims and for runs).

Schema versions and migrations
------------------------------
The ``meta`` table holds ``schema_version`` (:data:`SCHEMA_VERSION`) and
``schema_digest`` (a hash of :data:`TABLES`). A database made before the meta
table existed is version 1 (the schema of ``tests/data/store/schema_v1_*.sql``).
When a store opens a database whose digest differs from this code's, it
brings it up to date in place, in one transaction, under a lock so workers
starting together do not collide (:func:`plan_sync`): missing tables are
created, missing columns added (with their defaults), missing indexes built.
Existing rows and columns are never dropped or rewritten. A database whose
version is newer than this code's is refused with one line (an older worker
must not write into a newer schema).

Adding to the schema (e.g. the stories tables): add a :class:`Table` to
:data:`TABLES` (or a :class:`Column` at the end of a table: a column that
existing databases get by migration must be nullable or have a default) and
bump :data:`SCHEMA_VERSION`. A change that is not additive (a renamed column,
a new CHECK on existing data) needs an explicit step in :func:`plan_sync`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

from newsflow.article import STATUSES, StoredArticle

SCHEMA_VERSION = 3  # 3: sentence_cache.written_on

DIALECTS = ("sqlite", "postgres")

# Portable column types -> each dialect's type. REAL is 8 bytes in SQLite, so
# DOUBLE PRECISION in PostgreSQL. JSON stays TEXT in both (byte-identical round
# trips; cast with ::jsonb to query it in PostgreSQL). SQLite has no boolean
# type: 0/1 in an INTEGER (TRUE/FALSE are its keywords for 1/0).
TYPES = {
    "text": {"sqlite": "TEXT", "postgres": "TEXT"},
    "json": {"sqlite": "TEXT", "postgres": "TEXT"},
    "real": {"sqlite": "REAL", "postgres": "DOUBLE PRECISION"},
    "int": {"sqlite": "INTEGER", "postgres": "INTEGER"},
    "bool": {"sqlite": "INTEGER", "postgres": "BOOLEAN"},
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of TYPES
    null: bool = True
    default: str | None = None  # an SQL literal both dialects read alike
    check: str | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    where: str | None = None  # a partial index (both dialects have them)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _text(name: str, default: str | None = None) -> Column:
    return Column(name, "text", null=default is None, default=default)


_STATUS_LIST = ",".join(f"'{s}'" for s in STATUSES)

ARTICLES = Table(
    "articles",
    (
        Column("id", "text", null=False),
        Column("source", "text", null=False),
        Column("url", "text"),
        Column("published", "text"),
        Column("title", "text", null=False, default="''"),
        Column("original_text", "text", null=False, default="''"),
        Column("content_hash", "text", null=False),
        Column("lang", "text", null=False, default="'und'"),
        Column("lang_confidence", "real", null=False, default="0"),
        Column("paragraph_langs", "json", null=False, default="'[]'"),
        Column("status", "text", null=False, check=f"status IN ({_STATUS_LIST})"),
        Column("reason", "text"),
        Column("title_en", "text"),
        Column("translation", "text"),
        Column("raw_translation", "text"),
        Column("model_id", "text"),
        Column("model_version", "text"),
        Column("name_findings", "json", null=False, default="'[]'"),
        Column("name_candidates", "json", null=False, default="'[]'"),
        Column("truncated_sentences", "int", null=False, default="0"),
        Column("attempts", "int", null=False, default="0"),
        Column("first_run", "text"),
        Column("last_run", "text"),
        Column("created_at", "text", null=False),
        Column("updated_at", "text", null=False),
        # -- version 2 (after the timestamps: a migrated table has the same order)
        Column("glossary_digest", "text"),
        Column("retranslate_error", "text"),
        Column("retranslate_failed_at", "text"),
        Column("needs_review", "bool", null=False, default="FALSE"),
        Column("quality_flags", "json", null=False, default="'[]'"),
        Column("story_id", "text"),
        Column("fetched_from", "text"),
        Column("fetch_note", "text"),
        Column("author", "text"),
        Column("source_updated", "text"),
    ),
    primary_key=("id",),
    indexes=(
        Index("articles_status", ("status",)),
        Index("articles_source", ("source",)),
        # review_queue: needs_review articles, newest first
        Index("articles_review", ("updated_at",), where="needs_review"),
    ),
)

RUNS = Table(
    "runs",
    (
        Column("run_id", "text", null=False),
        Column("started_at", "text", null=False),
        Column("finished_at", "text"),
        Column("state", "text"),
        Column("summary", "json"),
        # -- version 2: who runs it, and until when it is known alive
        Column("host", "text"),
        Column("pid", "int"),
        Column("heartbeat_at", "text"),
        Column("lease_expires", "real"),  # epoch seconds on the store's lease clock
    ),
    primary_key=("run_id",),
    indexes=(Index("runs_running", ("run_id",), where="state = 'running'"),),
)

CLAIMS = Table(
    "claims",
    (
        Column("article_id", "text", null=False),
        Column("run_id", "text", null=False),
        Column("host", "text", null=False),
        Column("pid", "int", null=False),
        Column("expires_at", "real", null=False),
    ),
    primary_key=("article_id",),
    indexes=(Index("claims_run", ("run_id",)),),
)

SENTENCE_CACHE = Table(
    "sentence_cache",
    (
        Column("model_key", "text", null=False),
        Column("source_hash", "text", null=False),
        Column("translation", "text", null=False),
        # v3: the day (UTC, YYYY-MM-DD) the entry was written; entries older than
        # translation.sentence_cache_days are pruned (SentenceCache.prune). NULL: from before v3
        Column("written_on", "text"),
    ),
    primary_key=("model_key", "source_hash"),
    indexes=(Index("sentence_cache_written", ("written_on",)),),
)

SOURCE_STATE = Table(
    "source_state",
    (
        Column("key", "text", null=False),
        Column("state", "json", null=False),
        Column("updated_at", "text", null=False),
    ),
    primary_key=("key",),
)

META = Table(
    "meta",
    (Column("key", "text", null=False), Column("value", "text", null=False)),
    primary_key=("key",),
)

# -- stories (newsflow/stories.py; version 2) ------------------------------------------
# One row per story. `entities` is the readable list (most named first); `entity_counts`,
# `words`, `names` (feature -> weight, JSON), `title_rank` and `keys` are what
# assignment needs to score the next article against the story without its members.
STORIES = Table(
    "stories",
    (
        Column("id", "text", null=False),
        Column("title", "text", null=False, default="''"),
        Column("first_seen", "text", null=False),
        Column("last_seen", "text", null=False),
        Column("languages", "json", null=False, default="'[]'"),
        Column("sources", "json", null=False, default="'[]'"),
        Column("entities", "json", null=False, default="'[]'"),
        Column("entity_counts", "json", null=False, default="'{}'"),
        Column("article_count", "int", null=False, default="0"),
        Column("words", "json", null=False, default="'{}'"),
        Column("names", "json", null=False, default="'{}'"),
        Column("title_rank", "json", null=False, default="'[]'"),
        Column("keys", "json", null=False, default="'[]'"),
    ),
    primary_key=("id",),
    indexes=(Index("stories_last_seen", ("last_seen",)),
             # stories not pruned yet (newsflow.stories._prune): found without a scan
             Index("stories_prunable", ("last_seen",), where="keys <> '[]'")),
)

# Retrieval keys (names and strongest words) -> story: an assignment loads only
# the stories that share a key with its articles.
STORY_KEYS = Table(
    "story_keys",
    (Column("key", "text", null=False), Column("story_id", "text", null=False)),
    primary_key=("key", "story_id"),
    indexes=(Index("story_keys_story", ("story_id",)),),
)

# Article -> story, with the signature of the evidence it was placed with (unchanged:
# nothing to do) and the time used (publication time, else when it was first placed).
STORY_MEMBERS = Table(
    "story_members",
    (
        Column("article_id", "text", null=False),
        Column("story_id", "text", null=False),
        Column("signature", "text", null=False),
        Column("seen_at", "text", null=False),
    ),
    primary_key=("article_id",),
    indexes=(Index("story_members_story", ("story_id",)),),
)

TABLES: tuple[Table, ...] = (ARTICLES, RUNS, CLAIMS, SENTENCE_CACHE, SOURCE_STATE, META,
                             STORIES, STORY_KEYS, STORY_MEMBERS)


def table(name: str) -> Table:
    for t in TABLES:
        if t.name == name:
            return t
    raise KeyError(name)


# -- DDL ------------------------------------------------------------------------------


def column_sql(col: Column, dialect: str) -> str:
    parts = [col.name, TYPES[col.type][dialect]]
    if not col.null:
        parts.append("NOT NULL")
    if col.default is not None:
        parts.append(f"DEFAULT {col.default}")
    if col.check:
        parts.append(f"CHECK ({col.check})")
    return " ".join(parts)


def create_table_sql(t: Table, dialect: str) -> str:
    body = [column_sql(c, dialect) for c in t.columns]
    body.append(f"PRIMARY KEY ({', '.join(t.primary_key)})")
    return f"CREATE TABLE IF NOT EXISTS {t.name} (\n    " + ",\n    ".join(body) + "\n)"


def create_index_sql(t: Table, index: Index) -> str:
    where = f" WHERE {index.where}" if index.where else ""
    return f"CREATE INDEX IF NOT EXISTS {index.name} ON {t.name}({', '.join(index.columns)}){where}"


def schema_sql(dialect: str) -> list[str]:
    """Every statement that creates the whole schema on an empty database."""
    return plan_sync({}, dialect)


def plan_sync(existing: dict[str, list[str] | None], dialect: str) -> list[str]:
    """The statements that bring a database whose tables have the columns
    ``existing`` (table -> column names; missing or None: no such table) up to
    :data:`TABLES`: create missing tables, add missing columns, create indexes.
    Additive only; columns the definition does not know are left alone."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    out: list[str] = []
    for t in TABLES:
        have = existing.get(t.name)
        if not have:
            out.append(create_table_sql(t, dialect))
            continue
        for col in t.columns:
            if col.name not in have:
                if not col.null and col.default is None:
                    raise ValueError(f"{t.name}.{col.name}: NOT NULL without a default cannot be "
                                     "added to an existing table")
                out.append(f"ALTER TABLE {t.name} ADD COLUMN {column_sql(col, dialect)}")
    for t in TABLES:
        out.extend(create_index_sql(t, i) for i in t.indexes)
    return out


SCHEMA_DIGEST = hashlib.sha256(
    json.dumps([asdict(t) for t in TABLES], sort_keys=True).encode()
).hexdigest()[:16]


# -- the articles row codec -----------------------------------------------------------

TIMESTAMP_COLUMNS = ("created_at", "updated_at")
ARTICLE_FIELDS = tuple(f.name for f in fields(StoredArticle))
ARTICLE_COLUMNS = ARTICLE_FIELDS + TIMESTAMP_COLUMNS
JSON_FIELDS = tuple(c.name for c in ARTICLES.columns if c.type == "json")
BOOL_FIELDS = tuple(c.name for c in ARTICLES.columns if c.type == "bool")
# Columns an upsert never overwrites: a row keeps its first run and creation time.
KEEP_ON_UPDATE = ("id", "created_at", "first_run")


def article_row(art: StoredArticle, stamp: str) -> tuple:
    """The values of :data:`ARTICLE_COLUMNS` for ``art``, written at ``stamp``."""
    # the fields themselves, not asdict's deep copy (seconds for a 5 MB article's findings):
    # they are only read here
    data = {name: getattr(art, name) for name in ARTICLE_FIELDS}
    for key in JSON_FIELDS:
        data[key] = json.dumps(data[key] if data[key] is not None else [], ensure_ascii=False)
    for key in BOOL_FIELDS:
        data[key] = bool(data[key])
    data["created_at"] = data["updated_at"] = stamp
    return tuple(data[c] for c in ARTICLE_COLUMNS)


def row_article(row) -> StoredArticle:
    """A row of `articles` (sqlite3.Row or a dict) back to the record; columns the
    record does not know (a newer schema's) are ignored."""
    keys = set(row.keys())
    data = {k: row[k] for k in ARTICLE_FIELDS if k in keys}
    for key in JSON_FIELDS:
        if key in data:
            data[key] = json.loads(data[key] or "[]")
    for key in BOOL_FIELDS:
        if key in data:
            data[key] = bool(data[key])
    return StoredArticle(**data)


# -- shared helpers -------------------------------------------------------------------


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sentence_hash(sentence: str) -> str:
    """Key of a sentence in `sentence_cache`."""
    return hashlib.sha256(sentence.encode()).hexdigest()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (stale claims and runs, temp files of dead writers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A `running` row written before version 2 has no lease: it counts as lost this
# long after it started (the default claim lease).
LEGACY_RUN_LEASE = 3600.0


def lease_lost(host: str | None, pid: int | None, expires: float | None, *,
               now: float, my_host: str, my_pid: int) -> bool:
    """The one stale-lease rule, for claims and runs: a lease is lost when it ran
    out (``expires`` < ``now``, both on the store's lease clock) or when its
    process on this host is gone (a killed run). A process on another host is
    trusted until its lease runs out; this process's own leases are never lost
    here (a long-lived worker runs many runs under one pid)."""
    if expires is not None and expires < now:
        return True
    return host == my_host and pid is not None and pid != my_pid and not process_alive(pid)


def legacy_run_expiry(started_at: str | None) -> float | None:
    """The lease a pre-version-2 `running` row is given (see LEGACY_RUN_LEASE)."""
    try:
        return datetime.fromisoformat(started_at).timestamp() + LEGACY_RUN_LEASE
    except (TypeError, ValueError):
        return None
