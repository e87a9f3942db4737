-- Rosters (data/rosters.py): the shifts a contact centre or service centre has planned, one
-- row per shift of a person or a team, imported from a rostering system's export (python -m
-- data import, target rosters) or edited on the planner page. The planner's staffing
-- comparison uses them for an office and week that has any, instead of the hours inferred
-- from staff costs. Shifts are UTC instants like every timestamp; break_minutes are unpaid
-- minutes off the queue inside the shift (NULL: none). person_or_team is an id such as
-- "agent-017", never a name. Offices serve every department, so a roster belongs to none:
-- only a viewer of every department (who alone may plan an office's queue) reads or writes it.
-- Runs unchanged on DuckDB and PostgreSQL.
CREATE TABLE IF NOT EXISTS roster_shifts (
    shift_id       BIGINT PRIMARY KEY,
    source         VARCHAR(100),           -- the import's [source] name, or 'planner page'
    person_or_team VARCHAR(64) NOT NULL,
    office_id      VARCHAR(64) NOT NULL,
    shift_start    TIMESTAMP NOT NULL,
    shift_end      TIMESTAMP NOT NULL,
    break_minutes  INTEGER CHECK (break_minutes IS NULL OR break_minutes >= 0),
    CHECK (shift_end > shift_start)
);
