-- Notes on the record (data/notes.py): a dated note an analyst attaches to a KPI for a
-- scope ("new IT system went live", "strike"), drawn on that KPI's trend charts for that
-- scope and listed beside the acknowledgements of its anomalies. kpi NULL: every KPI of
-- the scope. department_id NULL: a scope across departments (all of them, or an office or
-- channel everywhere), which only a viewer of every department sees or writes. A service's
-- note carries its department. Notes are not edited: a correction is a new note.
-- Runs unchanged on DuckDB and PostgreSQL; written_at is UTC.
CREATE SEQUENCE IF NOT EXISTS kpi_note_ids;
CREATE TABLE IF NOT EXISTS kpi_notes (
    note_id        BIGINT PRIMARY KEY DEFAULT nextval('kpi_note_ids'),
    kpi            VARCHAR(64),            -- metrics.registry name; NULL: every KPI
    department_id  VARCHAR(64),
    service_id     VARCHAR(64),
    office_id      VARCHAR(64),
    channel        VARCHAR(16),
    noted_on       DATE NOT NULL,          -- the day the note is about
    note           VARCHAR(500) NOT NULL,
    written_by     VARCHAR(200) NOT NULL,
    written_at     TIMESTAMP NOT NULL
);
