-- Aggregate KPI series: figures governments publish per scope and period (NHS A&E
-- attendances and 4-hour breaches per provider and month, GOV.UK transactions per quarter,
-- Canada's service standards met per fiscal year), imported with data/importer/ as they
-- are. Runs unchanged on DuckDB and PostgreSQL, and may run again: every statement is
-- idempotent.
--
-- series: what a series measures. kind says how its observations add up at a coarser
--   grain: 'ratio' is sum(numerator) / sum(denominator), 'count' is sum(numerator), and
--   'value' (only the figure was published, not its parts) does not add up at all.
-- observations: one figure of a series for one scope (as far as the source says:
--   department, service, office, channel) and one period of local dates, both ends
--   included, at its grain. A ratio carries its numerator and denominator; value holds
--   a published figure without its parts; n the observations behind it where published;
--   target the source's own target (e.g. Canada's service standard), where it has one.

CREATE TABLE IF NOT EXISTS series (
    series_id VARCHAR(64) PRIMARY KEY,
    label     VARCHAR(200) NOT NULL,
    unit      VARCHAR(32) NOT NULL,
    direction VARCHAR(16) NOT NULL CHECK (direction IN ('higher', 'lower', 'context')),
    kind      VARCHAR(16) NOT NULL CHECK (kind IN ('ratio', 'count', 'value'))
);

CREATE TABLE IF NOT EXISTS observations (
    observation_id BIGINT PRIMARY KEY,
    source         VARCHAR(100) NOT NULL,
    series         VARCHAR(64) NOT NULL,
    department_id  VARCHAR(64),
    service_id     VARCHAR(64),
    office_id      VARCHAR(64),
    channel        VARCHAR(16)
                   CHECK (channel IS NULL OR channel IN ('online', 'mobile_app', 'phone', 'in_person', 'mail', 'other')),
    grain          VARCHAR(16) NOT NULL
                   CHECK (grain IN ('week', 'month', 'quarter', 'financial_year')),
    period_start   DATE NOT NULL,
    period_end     DATE NOT NULL,
    numerator      DOUBLE PRECISION,
    denominator    DOUBLE PRECISION CHECK (denominator IS NULL OR denominator > 0),
    value          DOUBLE PRECISION,
    n              BIGINT CHECK (n IS NULL OR n >= 0),
    target         DOUBLE PRECISION,
    CHECK (period_end >= period_start),
    CHECK (numerator IS NOT NULL OR value IS NOT NULL)
);
