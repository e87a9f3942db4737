-- The audit: who did what, and when (data/audit.py). Append-only: the dashboard and the
-- commands insert; nothing in the app updates or deletes a row, and on PostgreSQL the
-- dashboard's role may only INSERT it and, as a viewer of every department, read it
-- (sql/security/postgresql_row_security.sql). Runs unchanged on DuckDB and PostgreSQL.
-- Timestamps are UTC.

CREATE SEQUENCE IF NOT EXISTS audit_ids;
CREATE TABLE IF NOT EXISTS audit_events (
    event_id   BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
    happened_at TIMESTAMP NOT NULL,
    subject    VARCHAR(200) NOT NULL,      -- the ID token's subject; 'local' without sign-in; 'command line'
    email      VARCHAR(320),               -- the signed-in address, where there is one
    action     VARCHAR(16) NOT NULL
               CHECK (action IN ('sign_in', 'sign_out', 'page', 'rows', 'download', 'acknowledge', 'subscribe', 'unsubscribe', 'import')),
    page       VARCHAR(64),                -- the dashboard page, or the command
    detail     VARCHAR(4000) NOT NULL,     -- the filters and what was shown or done, as JSON
    row_count  BIGINT                      -- rows shown, downloaded or imported
);
