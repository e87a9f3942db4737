-- Stored results of `python -m forecasting run` (forecasting/fleet.py): one row per run,
-- and per run its series, daily forecasts and backtest scores. Pages read the latest run
-- (the highest run_id); older runs are kept. A run is written in one transaction, so a
-- run that is visible is complete. Runs unchanged on DuckDB and PostgreSQL; idempotent.
-- Dates are local dates of the offices; timestamps are UTC.

CREATE TABLE IF NOT EXISTS forecast_runs (
    run_id       BIGINT PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    data_end     DATE NOT NULL,           -- last day of history; forecasts start the day after
    horizon      INTEGER NOT NULL CHECK (horizon > 0),          -- days forecast
    cutoffs      VARCHAR(1000) NOT NULL,  -- first days of the backtest windows, comma-separated
    series_count INTEGER NOT NULL CHECK (series_count >= 0),
    models       VARCHAR(500) NOT NULL,   -- candidate models, comma-separated
    holidays     VARCHAR(64),             -- public-holiday calendar, e.g. GB/ENG
    code_version VARCHAR(100) NOT NULL,   -- forecasting.MODEL_VERSION and git commit
    seconds      DOUBLE PRECISION NOT NULL CHECK (seconds >= 0),  -- wall time of the run
    CHECK (finished_at >= started_at)
);

-- One row per forecast series of a run (ids: forecasting/README.md, "Series").
-- department_id is NULL for a series that crosses departments (total, office, channel,
-- contacts): only a viewer of every department sees those.
CREATE TABLE IF NOT EXISTS forecast_series (
    run_id            BIGINT NOT NULL,
    series_id         VARCHAR(200) NOT NULL,
    kind              VARCHAR(16) NOT NULL
                      CHECK (kind IN ('total', 'service', 'office', 'channel', 'contacts')),
    member            VARCHAR(64),        -- the service, office or channel id; NULL for total
    department_id     VARCHAR(64),
    label             VARCHAR(200) NOT NULL,
    first_day         DATE NOT NULL,
    last_day          DATE NOT NULL,
    open_days         INTEGER NOT NULL,   -- days of history with data, closed days excluded
    closed_days       INTEGER NOT NULL,   -- known closed days in the history
    gap_days          INTEGER NOT NULL,   -- days missing from the data (not zeros)
    recommended_model VARCHAR(64) NOT NULL,
    mase              DOUBLE PRECISION,   -- backtest MASE of the recommended model
    baseline_mase     DOUBLE PRECISION,   -- ... and of seasonal naive (NULL: not backtested)
    seconds           DOUBLE PRECISION NOT NULL,  -- backtest and forecast of this series
    PRIMARY KEY (run_id, series_id)
);

-- Daily forecasts of the recommended model and of the seasonal-naive baseline (one set
-- of rows when the baseline is the recommended model). Counts per day; closed days are 0.
CREATE TABLE IF NOT EXISTS forecasts (
    run_id      BIGINT NOT NULL,
    series_id   VARCHAR(200) NOT NULL,
    ds          DATE NOT NULL,
    model       VARCHAR(64) NOT NULL,
    recommended BOOLEAN NOT NULL,
    closed      BOOLEAN NOT NULL,
    yhat        DOUBLE PRECISION NOT NULL CHECK (yhat >= 0),
    lo80        DOUBLE PRECISION NOT NULL,
    hi80        DOUBLE PRECISION NOT NULL,
    lo95        DOUBLE PRECISION NOT NULL,
    hi95        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, series_id, model, ds)
);

-- Rolling-origin backtest scores per series and model; step 0 is over all steps, 1..horizon
-- per day ahead. mase: below 1 beats the in-sample seasonal naive; smape, coverage_80 and
-- coverage_95 in percent; width_95 in counts per day.
CREATE TABLE IF NOT EXISTS forecast_backtests (
    run_id      BIGINT NOT NULL,
    series_id   VARCHAR(200) NOT NULL,
    model       VARCHAR(64) NOT NULL,
    step        SMALLINT NOT NULL CHECK (step >= 0),
    n           INTEGER NOT NULL,
    mase        DOUBLE PRECISION,
    smape       DOUBLE PRECISION,
    coverage_80 DOUBLE PRECISION,
    coverage_95 DOUBLE PRECISION,
    width_95    DOUBLE PRECISION,
    recommended BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, series_id, model, step)
);
