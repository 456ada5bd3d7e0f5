-- The PostgreSQL schema of newsflow before schema_version (v1), copied verbatim from
-- newsflow/postgres.py at 6e3f4ff. tests/test_migration.py opens a database made by it.
CREATE TABLE IF NOT EXISTS articles (
    id               TEXT PRIMARY KEY,
    source           TEXT NOT NULL,
    url              TEXT,
    published        TEXT,
    title            TEXT NOT NULL DEFAULT '',
    original_text    TEXT NOT NULL DEFAULT '',
    content_hash     TEXT NOT NULL,
    lang             TEXT NOT NULL DEFAULT 'und',
    lang_confidence  DOUBLE PRECISION NOT NULL DEFAULT 0,
    paragraph_langs  TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL CHECK (status IN ('translated','passed-through','pending','failed')),
    reason           TEXT,
    title_en         TEXT,
    translation      TEXT,
    raw_translation  TEXT,
    model_id         TEXT,
    model_version    TEXT,
    name_findings    TEXT NOT NULL DEFAULT '[]',
    name_candidates  TEXT NOT NULL DEFAULT '[]',
    truncated_sentences INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_run        TEXT,
    last_run         TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_status ON articles(status);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    state       TEXT,
    summary     TEXT
);
CREATE TABLE IF NOT EXISTS claims (
    article_id  TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_run ON claims(run_id);
CREATE TABLE IF NOT EXISTS sentence_cache (
    model_key    TEXT NOT NULL,
    source_hash  TEXT NOT NULL,
    translation  TEXT NOT NULL,
    PRIMARY KEY (model_key, source_hash)
);
