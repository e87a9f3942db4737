-- Indexes where the extracts filter. Created after a bulk load (cheaper than maintaining
-- them row by row) and idempotent. DuckDB mostly relies on its zone maps, which the
-- generator helps by loading facts in time order; PostgreSQL needs these.
CREATE INDEX IF NOT EXISTS services_department_idx ON services (department_id);
CREATE INDEX IF NOT EXISTS cases_submitted_idx ON cases (submitted_at);
CREATE INDEX IF NOT EXISTS cases_closed_idx ON cases (closed_at);
CREATE INDEX IF NOT EXISTS cases_service_idx ON cases (service_id);
CREATE INDEX IF NOT EXISTS contacts_arrived_idx ON contacts (arrived_at);
CREATE INDEX IF NOT EXISTS journeys_started_idx ON journeys (started_at);
CREATE INDEX IF NOT EXISTS feedback_submitted_idx ON feedback (submitted_at);
CREATE INDEX IF NOT EXISTS costs_period_idx ON costs (period_start);
CREATE INDEX IF NOT EXISTS roster_shifts_office_idx ON roster_shifts (office_id, shift_start);
