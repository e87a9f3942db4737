-- grain: one row per online session behind a figure of one cell (a scope and a span of
--   local dates, usually an ISO week): the journeys started in the span (the completion
--   rate's population). A session that resumes an earlier one is not a new start: it is
--   left out of the figure (left_out_by resumed_journey) and comes only with
--   :with_left_out; a journey counts as completed when it or a session resuming it
--   completed. Journeys have no office, so they are placed in local dates in :timezone
--   (the organisation's) and shown in it. The channel is mobile_app for sessions in the
--   app, else online. Pages with :limit and :offset, in order of start; total_rows
--   counts the rows being paged, left_out_rows those the rules left out.
-- params:
--   :departments    department ids the viewer may see (list)
--   :timezone       the time zone that places journeys (IANA name)
--   :first_day      first local date of the cell, inclusive
--   :last_day       last local date of the cell, inclusive
--   :all_services   true: every service of :departments; false: only :services
--   :services       service ids (list; read when :all_services is false)
--   :all_channels   true: both channels; false: only :channels
--   :channels       channels (list: online, mobile_app)
--   :with_left_out  true: include the rows a rule leaves out of the figure
--   :limit          rows per page
--   :offset         rows skipped before the page
-- columns:
--   journey_id     Int64
--   service_id     String
--   service        String
--   channel        String
--   device         String
--   started_at     Datetime
--   completed_at   Datetime
--   completed      Boolean
--   resumed_from   Int64
--   left_out_by    String
--   total_rows     Int64
--   left_out_rows  Int64
WITH scoped AS (
    SELECT j.journey_id, j.service_id, s.name AS service,
           CASE WHEN j.device = 'app' THEN 'mobile_app' ELSE 'online' END AS channel,
           j.device, j.started_at, j.completed_at, j.resumed_from
    FROM journeys j
    JOIN services s ON s.service_id = j.service_id
    WHERE s.department_id IN :departments
      AND (:all_services OR j.service_id IN :services)
      AND (:all_channels OR (CASE WHEN j.device = 'app' THEN 'mobile_app' ELSE 'online' END) IN :channels)
      AND j.started_at >= CAST(:first_day AS TIMESTAMP) - INTERVAL '1 day'
      AND j.started_at < CAST(:last_day AS TIMESTAMP) + INTERVAL '2 days'
      AND CAST((j.started_at AT TIME ZONE 'UTC') AT TIME ZONE :timezone AS DATE) BETWEEN :first_day AND :last_day
),
judged AS (
    SELECT scoped.*,
           (completed_at IS NOT NULL
            OR EXISTS (SELECT 1 FROM journeys r WHERE r.resumed_from = scoped.journey_id AND r.completed_at IS NOT NULL))
               AS completed,
           CASE WHEN resumed_from IS NOT NULL THEN 'resumed_journey' END AS left_out_by
    FROM scoped
),
counted AS (
    SELECT judged.*, COUNT(left_out_by) OVER () AS left_out_rows
    FROM judged
),
shown AS (
    SELECT counted.*, COUNT(*) OVER () AS total_rows
    FROM counted
    WHERE (:with_left_out OR left_out_by IS NULL)
)
SELECT journey_id, service_id, service, channel, device,
       (started_at AT TIME ZONE 'UTC') AT TIME ZONE :timezone AS started_at,
       (completed_at AT TIME ZONE 'UTC') AT TIME ZONE :timezone AS completed_at,
       completed, resumed_from, left_out_by, total_rows, left_out_rows
FROM shown
ORDER BY started_at, journey_id
LIMIT :limit OFFSET :offset
