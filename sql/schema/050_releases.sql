-- Open-data releases (metrics/publish.py): one row per run of `python -m metrics publish`,
-- appended and never changed or deleted, so the audit shows every release: what was
-- published (services, period, version and the digest of its files), under which
-- disclosure rule and licence, by which command, and when. Runs unchanged on DuckDB and
-- PostgreSQL; idempotent. Dates are local dates of the offices; timestamps are UTC.

CREATE TABLE IF NOT EXISTS releases (
    release_id       BIGINT PRIMARY KEY,
    version          VARCHAR(64) NOT NULL,     -- last period and digest, e.g. 2026-10-3f9a0c1b2d
    published_at     TIMESTAMP NOT NULL,
    grain            VARCHAR(8) NOT NULL CHECK (grain IN ('month', 'quarter')),
    first_day        DATE NOT NULL,
    last_day         DATE NOT NULL,
    data_as_of       DATE NOT NULL,            -- the last day of data in the database
    folder           VARCHAR(1000) NOT NULL,   -- where the files were written
    files            INTEGER NOT NULL CHECK (files > 0),
    digest           VARCHAR(64) NOT NULL,     -- SHA-256 over the files and settings
    disclosure_rule  VARCHAR(200) NOT NULL,
    licence          VARCHAR(100) NOT NULL,
    publisher        VARCHAR(200) NOT NULL,
    services         VARCHAR(4000) NOT NULL,   -- the published service ids, comma-separated
    command          VARCHAR(200) NOT NULL,
    CHECK (last_day >= first_day)
);
