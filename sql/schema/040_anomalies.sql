-- Anomaly flags and proactive notifications (forecasting/anomaly/, forecasting/notify.py).
-- `python -m forecasting detect` writes a run and its flags; pages read the latest run.
-- Acknowledgements, subscriptions and the notification log outlive runs: they refer to a
-- flag by its flag_key (grain|scope_kind|scope_id|kpi|direction|first_day), which the
-- same anomaly keeps from run to run. Runs unchanged on DuckDB and PostgreSQL; idempotent.
-- Dates are local dates of the offices; timestamps are UTC.

CREATE TABLE IF NOT EXISTS anomaly_runs (
    run_id        BIGINT PRIMARY KEY,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    data_first    DATE NOT NULL,            -- first day of data looked at
    data_end      DATE NOT NULL,            -- last day of data looked at
    series_count  INTEGER NOT NULL CHECK (series_count >= 0),   -- series scored
    flag_count    INTEGER NOT NULL CHECK (flag_count >= 0),
    settings      VARCHAR(2000) NOT NULL,   -- the detector's thresholds, as key=value pairs
    code_version  VARCHAR(100) NOT NULL,
    seconds       DOUBLE PRECISION NOT NULL CHECK (seconds >= 0),
    CHECK (finished_at >= started_at)
);

-- One row per flag of a run. department_id is NULL for a scope that crosses
-- departments (total, office, channel): only a viewer of every department sees it.
CREATE TABLE IF NOT EXISTS anomaly_flags (
    run_id             BIGINT NOT NULL,
    flag_key           VARCHAR(300) NOT NULL,
    grain              VARCHAR(8) NOT NULL CHECK (grain IN ('day', 'week')),
    scope_kind         VARCHAR(16) NOT NULL
                       CHECK (scope_kind IN ('total', 'department', 'service', 'office', 'channel')),
    scope_id           VARCHAR(64) NOT NULL,   -- the member; 'all' for the total
    department_id      VARCHAR(64),
    kpi                VARCHAR(64) NOT NULL,   -- metrics.registry name (the leading one for a combination)
    detector           VARCHAR(32) NOT NULL
                       CHECK (detector IN ('robust_z', 'forecast_interval', 'sustained_shift', 'isolation_forest')),
    direction          VARCHAR(4) NOT NULL CHECK (direction IN ('up', 'down')),
    first_day          DATE NOT NULL,          -- first period of the anomaly (a Monday for weeks)
    detected_on        DATE NOT NULL,          -- the period whose data raised it
    last_day           DATE NOT NULL,          -- last period still outside (a level shift runs on)
    week               VARCHAR(8) NOT NULL,    -- ISO week of first_day, e.g. 2026-W47
    value              DOUBLE PRECISION,       -- the KPI in the first period
    expected           DOUBLE PRECISION,
    lower_bound        DOUBLE PRECISION,       -- the wide interval around the expected value
    upper_bound        DOUBLE PRECISION,
    score              DOUBLE PRECISION NOT NULL,  -- z-score, or isolation score for a combination
    kpis               VARCHAR(500) NOT NULL,  -- the KPIs involved, comma-separated
    explain_dimension  VARCHAR(16),            -- service_id, office_id or channel
    explain_member     VARCHAR(64),
    explain_share      DOUBLE PRECISION CHECK (explain_share IS NULL OR explain_share BETWEEN 0 AND 1),
    explain_expected   DOUBLE PRECISION,
    explain_actual     DOUBLE PRECISION,
    explanation        VARCHAR(1000) NOT NULL,
    CHECK (last_day >= first_day),
    PRIMARY KEY (run_id, flag_key)
);

-- Who acknowledged a flag or marked it as known, when, and why. The latest row per
-- flag_key is its state ('open' reopens it).
CREATE SEQUENCE IF NOT EXISTS anomaly_ack_ids;
CREATE TABLE IF NOT EXISTS anomaly_acks (
    ack_id     BIGINT PRIMARY KEY DEFAULT nextval('anomaly_ack_ids'),
    flag_key   VARCHAR(300) NOT NULL,
    status     VARCHAR(16) NOT NULL CHECK (status IN ('acknowledged', 'known', 'open')),
    acked_by   VARCHAR(200) NOT NULL,
    acked_at   TIMESTAMP NOT NULL,
    note       VARCHAR(2000)
);

-- Who wants to hear about what: a scope (any of department, service, office, channel;
-- none: everything), some KPIs (NULL: every KPI), a rule and a channel.
CREATE SEQUENCE IF NOT EXISTS subscription_ids;
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id  BIGINT PRIMARY KEY DEFAULT nextval('subscription_ids'),
    subscriber       VARCHAR(200) NOT NULL,
    rule             VARCHAR(16) NOT NULL CHECK (rule IN ('target_breach', 'anomaly', 'weekly_digest')),
    channel          VARCHAR(8) NOT NULL CHECK (channel IN ('email', 'webhook')),
    address          VARCHAR(500) NOT NULL,   -- an email address, or the webhook's URL
    department_id    VARCHAR(64),
    service_id       VARCHAR(64),
    office_id        VARCHAR(64),
    scope_channel    VARCHAR(16),
    kpis             VARCHAR(1000),           -- comma-separated registry names
    active           BOOLEAN NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    created_by       VARCHAR(200) NOT NULL
);

-- Every event each subscription was sent, or failed to be sent: the state that makes
-- `python -m forecasting notify` send each event once. A failed event is retried on the
-- next run until it is sent or has failed max attempts times; it is reported every run.
CREATE TABLE IF NOT EXISTS notifications (
    subscription_id   BIGINT NOT NULL,
    event_key         VARCHAR(400) NOT NULL,
    rule              VARCHAR(16) NOT NULL,
    status            VARCHAR(8) NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts          INTEGER NOT NULL CHECK (attempts >= 1),
    first_attempt_at  TIMESTAMP NOT NULL,
    last_attempt_at   TIMESTAMP NOT NULL,
    sent_at           TIMESTAMP,
    subject           VARCHAR(500) NOT NULL,
    error             VARCHAR(2000),
    PRIMARY KEY (subscription_id, event_key)
);

-- The scored series of the latest run (older runs' scores are removed when a run is
-- stored): what the Anomalies page draws, the value against its expected band.
CREATE TABLE IF NOT EXISTS anomaly_scores (
    run_id         BIGINT NOT NULL,
    grain          VARCHAR(8) NOT NULL,
    scope_kind     VARCHAR(16) NOT NULL,
    scope_id       VARCHAR(64) NOT NULL,
    department_id  VARCHAR(64),
    kpi            VARCHAR(64) NOT NULL,
    period_start   DATE NOT NULL,
    value          DOUBLE PRECISION,
    expected       DOUBLE PRECISION,
    lower_bound    DOUBLE PRECISION,
    upper_bound    DOUBLE PRECISION,
    z              DOUBLE PRECISION,
    PRIMARY KEY (run_id, grain, scope_kind, scope_id, kpi, period_start)
);
