-- Imports of real exports (data/importer/, python -m data import). Runs unchanged on DuckDB
-- and PostgreSQL, and may run again: every statement is idempotent.
--
-- imports: one row per import that wrote something (its data_loads row has the same
--   load_id), with its reconciliation. The CHECK makes the database itself refuse an
--   import whose counts do not add up: every row read was loaded (inserted, updated or
--   unchanged), excluded by a named rule, or quarantined.
-- import_rule_counts: rows per named rule and import (excluded, quarantined, repaired,
--   flagged); repaired and flagged rows are also among the loaded ones.
-- import_rejects: the quarantined rows themselves, with where they were and why.
-- import_keys: which row each source's own key became, so that a newer export of the
--   same source updates those rows instead of adding new ones. Imported fact ids start
--   above 10^12 (generated data counts up from 1), so the two never collide. No primary
--   key: the importer keeps (source, table_name, source_key) unique, and DuckDB would
--   otherwise maintain an index over every key of every import.

CREATE TABLE IF NOT EXISTS imports (
    load_id          BIGINT PRIMARY KEY,
    source           VARCHAR(100) NOT NULL,
    target_table     VARCHAR(32) NOT NULL,
    file_name        VARCHAR(500) NOT NULL,
    file_checksum    VARCHAR(64) NOT NULL,
    mapping          VARCHAR(500) NOT NULL,
    mapping_checksum VARCHAR(64) NOT NULL,
    imported_at      TIMESTAMP NOT NULL,
    rows_read        BIGINT NOT NULL,
    rows_inserted    BIGINT NOT NULL,
    rows_updated     BIGINT NOT NULL,
    rows_unchanged   BIGINT NOT NULL,
    rows_excluded    BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    reconciliation   VARCHAR NOT NULL,
    CHECK (rows_read = rows_inserted + rows_updated + rows_unchanged + rows_excluded + rows_quarantined)
);

CREATE TABLE IF NOT EXISTS import_rule_counts (
    load_id     BIGINT NOT NULL,
    rule        VARCHAR(100) NOT NULL,
    action      VARCHAR(16) NOT NULL CHECK (action IN ('excluded', 'quarantined', 'repaired', 'flagged')),
    row_count   BIGINT NOT NULL CHECK (row_count >= 0),
    description VARCHAR(1000),
    PRIMARY KEY (load_id, rule)
);

CREATE TABLE IF NOT EXISTS import_rejects (
    load_id     BIGINT NOT NULL,
    file_name   VARCHAR(500) NOT NULL,
    line        BIGINT,
    column_name VARCHAR(200),
    rule        VARCHAR(100) NOT NULL,
    message     VARCHAR NOT NULL,
    raw_row     VARCHAR
);

CREATE TABLE IF NOT EXISTS import_keys (
    source     VARCHAR(100) NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    source_key VARCHAR NOT NULL,
    row_id     BIGINT NOT NULL,
    load_id    BIGINT NOT NULL
);
