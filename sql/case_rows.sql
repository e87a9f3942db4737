-- grain: one row per case behind a figure of one cell (a scope and a span of local dates,
--   usually an ISO week), for a metric's population (metrics/registry.py): submitted,
--   closed, closed_or_overdue (the on-time rate), open_at_end, overdue_at_end or
--   submitted_or_closed (net flow, where a case submitted and closed in the span is two
--   rows, one per event). Rows a rule leaves out of the figure come only with
--   :with_left_out, and left_out_by names the rule. Times are shown in the office's
--   local time. Pages with :limit and :offset, by event (submitted, closed, open,
--   overdue) and then its time, or in another :order_by over all rows, not one page;
--   triage is the case's state at the cell's end (overdue, late, open, on time,
--   closed where it has no due date, or cancelled; a cancelled case is among the closed
--   only for net flow, where it left the backlog), days_late how long past due it closed or was at
--   the cell's end (late and overdue only). total_rows counts the rows behind the figure (as
--   shown, with or without those left out), left_out_rows those the rules left out,
--   filtered_rows those the :triage filter keeps (the rows being paged).
-- params:
--   :departments    department ids the viewer may see (list)
--   :population     which cases: one of the populations above
--   :first_day      first local date of the cell, inclusive
--   :last_day       last local date of the cell, inclusive
--   :all_services   true: every service of :departments; false: only :services
--   :services       service ids (list; read when :all_services is false)
--   :all_offices    true: every office; false: only :offices
--   :offices        office ids (list)
--   :all_channels   true: every channel; false: only :channels
--   :channels       channels (list)
--   :with_left_out  true: include the rows a rule leaves out of the figure
--   :admin_close_seconds  a case closed sooner than this after submission is an
--                   administrative close (rule admin_close_60s; the engine's setting)
--   :order_by       'event' (by event, then its time), 'triage' (overdue, then late, then
--                   open, then on time, oldest submission first), 'age' (oldest open
--                   first) or 'duration' (longest to close first)
--   :all_triage     true: every row; false: only rows whose triage is in :triage
--   :triage         triage states to keep (list: overdue, late, open, on time, closed, cancelled)
--   :limit          rows per page
--   :offset         rows skipped before the page
-- columns:
--   event            String
--   case_id          Int64
--   service_id       String
--   service          String
--   office_id        String
--   office           String
--   channel          String
--   submitted_at     Datetime
--   due_at           Datetime
--   closed_at        Datetime
--   status           String
--   processing_days  Float64
--   age_days         Float64
--   on_time          Boolean
--   digital          Boolean
--   left_out_by      String
--   triage           String
--   days_late        Float64
--   total_rows       Int64
--   left_out_rows    Int64
--   filtered_rows    Int64

-- Cases are placed in local dates as the metric engine places them, and due as it does:
-- the case's own due_at, else sla_days calendar days after submission on the local clock.
WITH scoped AS (
    SELECT c.case_id, c.service_id, s.name AS service, c.office_id, o.name AS office, c.channel,
           c.status, c.submitted_at, c.closed_at, o.timezone,
           COALESCE(c.due_at, ((((c.submitted_at AT TIME ZONE 'UTC') AT TIME ZONE o.timezone)
                                 + s.sla_days * INTERVAL '1 day') AT TIME ZONE o.timezone) AT TIME ZONE 'UTC') AS due_utc,
           CAST((c.submitted_at AT TIME ZONE 'UTC') AT TIME ZONE o.timezone AS DATE) AS submitted_day,
           CAST((c.closed_at AT TIME ZONE 'UTC') AT TIME ZONE o.timezone AS DATE) AS closed_day,
           ((CAST(:last_day AS TIMESTAMP) + INTERVAL '1 day') AT TIME ZONE o.timezone) AT TIME ZONE 'UTC' AS span_end_utc
    FROM cases c
    JOIN services s ON s.service_id = c.service_id
    JOIN offices o ON o.office_id = c.office_id
    WHERE s.department_id IN :departments
      AND (:all_services OR c.service_id IN :services)
      AND (:all_offices OR c.office_id IN :offices)
      AND (:all_channels OR c.channel IN :channels)
      -- a day wider than the local dates on each side (time zones are within 14 hours of
      -- UTC), so the indexes on submitted_at and closed_at narrow the scan
      AND c.submitted_at < CAST(:last_day AS TIMESTAMP) + INTERVAL '2 days'
      AND (c.closed_at IS NULL OR c.closed_at >= CAST(:first_day AS TIMESTAMP) - INTERVAL '1 day')
),
dated AS (
    SELECT scoped.*,
           CAST((due_utc AT TIME ZONE 'UTC') AT TIME ZONE timezone AS DATE) AS due_day,
           CAST(EXTRACT(EPOCH FROM (closed_at - submitted_at)) AS DOUBLE PRECISION) AS seconds_to_close
    FROM scoped
),
events AS (
    SELECT 'submitted' AS event, submitted_at AS event_at, d.*
    FROM dated d
    WHERE :population IN ('submitted', 'submitted_or_closed')
      AND d.submitted_day BETWEEN :first_day AND :last_day
    UNION ALL
    SELECT 'closed' AS event, closed_at AS event_at, d.*
    FROM dated d
    WHERE :population IN ('closed', 'closed_or_overdue', 'submitted_or_closed')
      AND d.closed_day BETWEEN :first_day AND :last_day
      -- a cancelled case left the backlog (net flow) but was not handled work
      AND (d.status <> 'cancelled' OR :population = 'submitted_or_closed')
    UNION ALL
    SELECT 'open at the end' AS event, submitted_at AS event_at, d.*
    FROM dated d
    WHERE :population = 'open_at_end'
      AND d.submitted_day <= :last_day
      AND (d.closed_at IS NULL OR d.closed_day > :last_day)
    UNION ALL
    SELECT 'overdue at the end' AS event, due_utc AS event_at, d.*
    FROM dated d
    WHERE :population IN ('closed_or_overdue', 'overdue_at_end')
      AND d.due_day <= :last_day
      AND (d.closed_at IS NULL OR d.closed_day > :last_day)
),
judged AS (
    SELECT e.*,
           CASE
               WHEN e.event = 'closed' AND :population IN ('closed', 'closed_or_overdue') AND e.seconds_to_close < :admin_close_seconds
                   THEN 'admin_close_60s'
               WHEN e.event = 'closed' AND :population = 'closed_or_overdue' AND e.due_utc IS NULL
                   THEN 'no_due_date'
           END AS left_out_by
    FROM events e
),
counted AS (
    SELECT judged.*, COUNT(left_out_by) OVER () AS left_out_rows
    FROM judged
),
shown AS (
    SELECT counted.*, COUNT(*) OVER () AS total_rows
    FROM counted
    WHERE (:with_left_out OR left_out_by IS NULL)
),
listed AS (
    SELECT event, event_at, case_id, service_id, service, office_id, office, channel,
           (submitted_at AT TIME ZONE 'UTC') AT TIME ZONE timezone AS submitted_at,
           (due_utc AT TIME ZONE 'UTC') AT TIME ZONE timezone AS due_at,
           (closed_at AT TIME ZONE 'UTC') AT TIME ZONE timezone AS closed_at,
           status,
           seconds_to_close / 86400 AS processing_days,
           CASE WHEN event IN ('open at the end', 'overdue at the end')
                THEN CAST(EXTRACT(EPOCH FROM (span_end_utc - submitted_at)) AS DOUBLE PRECISION) / 86400
           END AS age_days,
           CASE
               WHEN due_utc IS NULL THEN NULL
               WHEN closed_at IS NOT NULL AND closed_day <= :last_day AND status = 'cancelled' THEN NULL
               WHEN closed_at IS NOT NULL AND closed_day <= :last_day THEN closed_at <= due_utc
               WHEN due_day <= :last_day THEN FALSE
           END AS on_time,
           channel IN ('online', 'mobile_app') AS digital,
           left_out_by,
           CASE
               WHEN closed_at IS NOT NULL AND closed_day <= :last_day AND status = 'cancelled' THEN 'cancelled'
               WHEN closed_at IS NOT NULL AND closed_day <= :last_day THEN
                   CASE WHEN due_utc IS NULL THEN 'closed' WHEN closed_at <= due_utc THEN 'on time' ELSE 'late' END
               WHEN due_day <= :last_day THEN 'overdue'
               ELSE 'open'
           END AS triage,
           CASE
               WHEN closed_at IS NOT NULL AND closed_day <= :last_day AND closed_at > due_utc AND status <> 'cancelled'
                   THEN CAST(EXTRACT(EPOCH FROM (closed_at - due_utc)) AS DOUBLE PRECISION) / 86400
               WHEN (closed_at IS NULL OR closed_day > :last_day) AND due_day <= :last_day
                   THEN CAST(EXTRACT(EPOCH FROM (span_end_utc - due_utc)) AS DOUBLE PRECISION) / 86400
           END AS days_late,
           total_rows,
           left_out_rows
    FROM shown
)
SELECT event, case_id, service_id, service, office_id, office, channel, submitted_at, due_at, closed_at, status,
       processing_days, age_days, on_time, digital, left_out_by, triage, days_late, total_rows, left_out_rows,
       COUNT(*) OVER () AS filtered_rows
FROM listed
WHERE (:all_triage OR triage IN :triage)
ORDER BY CASE WHEN :order_by = 'triage'
              THEN CASE triage WHEN 'overdue' THEN 1 WHEN 'late' THEN 2 WHEN 'open' THEN 3 WHEN 'on time' THEN 4 ELSE 5 END
              ELSE 0 END,
         CASE WHEN :order_by = 'triage' THEN submitted_at END NULLS LAST,
         CASE WHEN :order_by = 'age' THEN -age_days WHEN :order_by = 'duration' THEN -processing_days END NULLS LAST,
         CASE event WHEN 'submitted' THEN 1 WHEN 'closed' THEN 2 WHEN 'open at the end' THEN 3 ELSE 4 END,
         event_at, case_id
LIMIT :limit OFFSET :offset
