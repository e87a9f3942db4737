-- Canonical tables of the data model (../shared/DOMAIN.md section 1), plus incidents and
-- data_loads. Runs unchanged on DuckDB and PostgreSQL, and may run again: every statement
-- is idempotent.
--
-- Conventions: every timestamp is UTC, stored without a zone (TIMESTAMP); dates are local
-- to the office. Identifiers of dimensions are short text codes that stay stable across
-- loads; facts have integer keys. There are no FOREIGN KEY clauses because DuckDB refuses
-- to update a referenced row (an upsert of a dimension would fail); referential integrity
-- is checked by the loaders and by tests/data/test_invariants.py instead.

CREATE TABLE IF NOT EXISTS departments (
    department_id VARCHAR(64) PRIMARY KEY,
    name          VARCHAR(200) NOT NULL
);

CREATE TABLE IF NOT EXISTS services (
    service_id    VARCHAR(64) PRIMARY KEY,
    department_id VARCHAR(64) NOT NULL,
    name          VARCHAR(200) NOT NULL,
    sla_days      INTEGER CHECK (sla_days IS NULL OR sla_days > 0),
    digital       BOOLEAN NOT NULL
);

-- An office is where a case or contact is handled: a service centre, a contact centre,
-- the online service, or an area (a council district, a ward) for sources that place
-- requests by where they are rather than by who handles them.
CREATE TABLE IF NOT EXISTS offices (
    office_id VARCHAR(64) PRIMARY KEY,
    name      VARCHAR(200) NOT NULL,
    region    VARCHAR(100) NOT NULL,
    kind      VARCHAR(20) NOT NULL
              CHECK (kind IN ('service_centre', 'contact_centre', 'online', 'area')),
    timezone  VARCHAR(64) NOT NULL
);

-- Opening hours per ISO weekday (1 = Monday ... 7 = Sunday), local time; a weekday with
-- no row is closed. closes_at may be 24:00:00 for a service that never closes.
CREATE TABLE IF NOT EXISTS office_hours (
    office_id VARCHAR(64) NOT NULL,
    weekday   SMALLINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens_at  TIME NOT NULL,
    closes_at TIME NOT NULL,
    PRIMARY KEY (office_id, weekday),
    CHECK (closes_at > opens_at)
);

-- Days an office is closed although its hours say open (public holidays), known in
-- advance: the generator writes them for a year beyond its end date.
CREATE TABLE IF NOT EXISTS office_closures (
    office_id VARCHAR(64) NOT NULL,
    closed_on DATE NOT NULL,
    reason    VARCHAR(200) NOT NULL,
    PRIMARY KEY (office_id, closed_on)
);

-- A case ends closed (handled: approved, rejected, resolved ...) or cancelled (withdrawn by
-- the applicant or cancelled before it was handled); closed_at is when it ended either way,
-- so it leaves the backlog then. A cancelled case counts in the volume received, never as
-- completed work (processing time, on-time rate, cost per transaction).
CREATE TABLE IF NOT EXISTS cases (
    case_id      BIGINT PRIMARY KEY,
    service_id   VARCHAR(64) NOT NULL,
    office_id    VARCHAR(64) NOT NULL,
    channel      VARCHAR(16) NOT NULL
                 CHECK (channel IN ('online', 'mobile_app', 'phone', 'in_person', 'mail', 'other')),
    submitted_at TIMESTAMP NOT NULL,
    due_at       TIMESTAMP,
    closed_at    TIMESTAMP,
    status       VARCHAR(16) NOT NULL CHECK (status IN ('open', 'closed', 'cancelled')),
    outcome      VARCHAR(32),
    CHECK (closed_at IS NULL OR closed_at >= submitted_at),
    CHECK ((status = 'open') = (closed_at IS NULL)),
    CHECK (due_at IS NULL OR due_at >= submitted_at)
);

-- A phone call or an in-person visit that queued. Abandoned: no answered_at, and ended_at
-- is when the caller hung up or the visitor left.
CREATE TABLE IF NOT EXISTS contacts (
    contact_id  BIGINT PRIMARY KEY,
    office_id   VARCHAR(64) NOT NULL,
    service_id  VARCHAR(64),
    channel     VARCHAR(16) NOT NULL
                CHECK (channel IN ('online', 'mobile_app', 'phone', 'in_person', 'mail', 'other')),
    arrived_at  TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    ended_at    TIMESTAMP,
    abandoned   BOOLEAN NOT NULL,
    -- an answered call settled in that call (first-contact resolution); NULL: not recorded
    resolved_first_contact BOOLEAN,
    CHECK (answered_at IS NULL OR answered_at >= arrived_at),
    CHECK (ended_at IS NULL OR ended_at >= arrived_at),
    CHECK (ended_at IS NULL OR answered_at IS NULL OR ended_at >= answered_at),
    CHECK (NOT abandoned OR answered_at IS NULL)
);
-- Databases made before first-contact resolution was recorded gain the column.
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS resolved_first_contact BOOLEAN;

-- An online session of a digital service. A session that resumes an earlier one names it
-- in resumed_from, so that completion rate does not count it as a new start.
CREATE TABLE IF NOT EXISTS journeys (
    journey_id   BIGINT PRIMARY KEY,
    service_id   VARCHAR(64) NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    completed_at TIMESTAMP,
    device       VARCHAR(16) NOT NULL,
    resumed_from BIGINT,
    CHECK (completed_at IS NULL OR completed_at >= started_at)
);

CREATE TABLE IF NOT EXISTS feedback (
    feedback_id  BIGINT PRIMARY KEY,
    service_id   VARCHAR(64) NOT NULL,
    office_id    VARCHAR(64),
    channel      VARCHAR(16) NOT NULL
                 CHECK (channel IN ('online', 'mobile_app', 'phone', 'in_person', 'mail', 'other')),
    submitted_at TIMESTAMP NOT NULL,
    rating       SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5)
);

-- What it cost to run a service at an office over a period of local dates, both ends
-- included. channel is set where costs are known by channel.
CREATE TABLE IF NOT EXISTS costs (
    cost_id      BIGINT PRIMARY KEY,
    office_id    VARCHAR(64) NOT NULL,
    service_id   VARCHAR(64),
    channel      VARCHAR(16),
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,
    staff_hours  DOUBLE PRECISION NOT NULL CHECK (staff_hours >= 0),
    cost         DOUBLE PRECISION NOT NULL CHECK (cost >= 0),
    CHECK (period_end >= period_start)
);

-- Incidents injected by the generator: the ground truth anomaly detection is measured
-- against. The scope columns that are set say where the effect is.
CREATE TABLE IF NOT EXISTS incidents (
    incident_id   INTEGER PRIMARY KEY,
    kind          VARCHAR(32) NOT NULL
                  CHECK (kind IN ('online_outage', 'demand_surge', 'processing_slowdown', 'phone_fault')),
    starts_at     TIMESTAMP NOT NULL,
    ends_at       TIMESTAMP NOT NULL,
    department_id VARCHAR(64),
    service_id    VARCHAR(64),
    office_id     VARCHAR(64),
    channel       VARCHAR(16),
    description   VARCHAR(500) NOT NULL,
    CHECK (ends_at > starts_at)
);

-- One row per load of data into this database (generated or imported).
CREATE TABLE IF NOT EXISTS data_loads (
    load_id     BIGINT PRIMARY KEY,
    kind        VARCHAR(32) NOT NULL,
    source      VARCHAR(500) NOT NULL,
    loaded_at   TIMESTAMP NOT NULL,
    rows_loaded BIGINT NOT NULL CHECK (rows_loaded >= 0),
    details     VARCHAR(2000)
);
