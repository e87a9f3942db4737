-- grain: one row per rating behind a figure of one cell (a scope and a span of local
--   dates, usually an ISO week): the ratings submitted in the span (the population of
--   both satisfaction measures). Placed in local dates in the office's time zone, or in
--   :timezone (the organisation's) for an anonymous survey with no office, and shown in
--   it. No rule leaves a rating out. Pages with :limit and :offset, in order of
--   submission; total_rows counts the rows being paged.
-- params:
--   :departments    department ids the viewer may see (list)
--   :timezone       the time zone that places ratings with no office (IANA name)
--   :first_day      first local date of the cell, inclusive
--   :last_day       last local date of the cell, inclusive
--   :all_services   true: every service of :departments; false: only :services
--   :services       service ids (list; read when :all_services is false)
--   :all_offices    true: every office, and ratings with none; false: only :offices
--   :offices        office ids (list)
--   :all_channels   true: every channel; false: only :channels
--   :channels       channels (list)
--   :limit          rows per page
--   :offset         rows skipped before the page
-- columns:
--   feedback_id   Int64
--   service_id    String
--   service       String
--   office_id     String
--   office        String
--   channel       String
--   submitted_at  Datetime
--   rating        Int16
--   top_2         Boolean
--   total_rows    Int64
WITH scoped AS (
    SELECT f.feedback_id, f.service_id, s.name AS service, f.office_id, o.name AS office, f.channel,
           f.submitted_at, f.rating, COALESCE(o.timezone, :timezone) AS timezone
    FROM feedback f
    JOIN services s ON s.service_id = f.service_id
    LEFT JOIN offices o ON o.office_id = f.office_id
    WHERE s.department_id IN :departments
      AND (:all_services OR f.service_id IN :services)
      AND (:all_offices OR f.office_id IN :offices)
      AND (:all_channels OR f.channel IN :channels)
      AND f.submitted_at >= CAST(:first_day AS TIMESTAMP) - INTERVAL '1 day'
      AND f.submitted_at < CAST(:last_day AS TIMESTAMP) + INTERVAL '2 days'
),
shown AS (
    SELECT scoped.*, COUNT(*) OVER () AS total_rows
    FROM scoped
    WHERE CAST((submitted_at AT TIME ZONE 'UTC') AT TIME ZONE timezone AS DATE) BETWEEN :first_day AND :last_day
)
SELECT feedback_id, service_id, service, office_id, office, channel,
       (submitted_at AT TIME ZONE 'UTC') AT TIME ZONE timezone AS submitted_at,
       rating, rating >= 4 AS top_2, total_rows
FROM shown
ORDER BY submitted_at, feedback_id
LIMIT :limit OFFSET :offset
