-- grain: one row per call or visit behind a figure of one cell (a scope and a span of
--   local dates, usually an ISO week), for a metric's population (metrics/registry.py):
--   visits_answered (in-person contacts served), visits_arrived (every in-person contact),
--   calls_answered, calls_resolution (calls answered; those whose resolution was not
--   recorded are left out, rule no_resolution_recorded), or calls_offered (every
--   call; calls abandoned sooner than :short_abandon_seconds are left out of the figure, and come only with
--   :with_left_out, left_out_by naming the rule). Placed by arrival in the office's local
--   time, and shown in it. A contact whose service is unknown belongs to no department:
--   only a viewer who may see every department sees it, and only with :all_services.
--   Waits and handle times in exact seconds (fractions kept), as the metric engine counts them. Pages
--   with :limit and :offset, in the :order_by over all rows, not one page; total_rows
--   counts the rows being paged, left_out_rows those the rules left out.
-- params:
--   :departments    department ids the viewer may see (list)
--   :population     which contacts: one of the populations above
--   :first_day      first local date of the cell, inclusive
--   :last_day       last local date of the cell, inclusive
--   :all_services   true: every service of :departments; false: only :services
--   :services       service ids (list; read when :all_services is false)
--   :all_offices    true: every office; false: only :offices
--   :offices        office ids (list)
--   :all_channels   true: every channel; false: only :channels
--   :channels       channels (list)
--   :with_left_out  true: include the rows a rule leaves out of the figure
--   :short_abandon_seconds  a call abandoned sooner than this is not offered (rule short_abandon_5s)
--   :service_level_seconds  a call answered within this is within target (the service level)
--   :visit_target_seconds   a visitor served within this is within target (in person)
--   :order_by       'arrival' (in order of arrival), 'wait' (longest wait first; an
--                   abandoned contact by how long it waited before leaving) or 'handle'
--                   (longest handling first)
--   :limit          rows per page
--   :offset         rows skipped before the page
-- columns:
--   contact_id          Int64
--   office_id           String
--   office              String
--   service_id          String
--   service             String
--   channel             String
--   arrived_at          Datetime
--   answered_at         Datetime
--   ended_at            Datetime
--   abandoned           Boolean
--   resolved_first_contact  Boolean
--   wait_seconds        Float64
--   handle_seconds      Float64
--   abandoned_after_seconds  Float64
--   within_target       Boolean
--   left_out_by         String
--   total_rows          Int64
--   left_out_rows       Int64
WITH scoped AS (
    SELECT k.contact_id, k.office_id, o.name AS office, k.service_id, s.name AS service, k.channel,
           k.arrived_at, k.answered_at, k.ended_at, k.abandoned, k.resolved_first_contact, o.timezone,
           CAST(EXTRACT(EPOCH FROM (k.answered_at - k.arrived_at)) AS DOUBLE PRECISION) AS wait_seconds,
           CAST(EXTRACT(EPOCH FROM (k.ended_at - k.answered_at)) AS DOUBLE PRECISION) AS handle_seconds,
           CAST(EXTRACT(EPOCH FROM (k.ended_at - k.arrived_at)) AS DOUBLE PRECISION) AS seconds_to_end
    FROM contacts k
    JOIN offices o ON o.office_id = k.office_id
    LEFT JOIN services s ON s.service_id = k.service_id
    WHERE (s.department_id IN :departments
           OR (k.service_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
      AND (:all_services OR k.service_id IN :services)
      AND (:all_offices OR k.office_id IN :offices)
      AND (:all_channels OR k.channel IN :channels)
      -- a day wider than the local dates on each side, so the index on arrived_at narrows
      AND k.arrived_at >= CAST(:first_day AS TIMESTAMP) - INTERVAL '1 day'
      AND k.arrived_at < CAST(:last_day AS TIMESTAMP) + INTERVAL '2 days'
      AND CAST((k.arrived_at AT TIME ZONE 'UTC') AT TIME ZONE o.timezone AS DATE) BETWEEN :first_day AND :last_day
      AND k.channel = CASE WHEN :population IN ('visits_answered', 'visits_arrived') THEN 'in_person' ELSE 'phone' END
      AND (:population IN ('calls_offered', 'visits_arrived') OR NOT k.abandoned)
),
judged AS (
    SELECT scoped.*,
           CASE
               WHEN :population = 'calls_offered' AND abandoned AND seconds_to_end < :short_abandon_seconds THEN 'short_abandon_5s'
               WHEN :population = 'calls_resolution' AND resolved_first_contact IS NULL THEN 'no_resolution_recorded'
           END AS left_out_by
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
SELECT contact_id, office_id, office, service_id, service, channel,
       (arrived_at AT TIME ZONE 'UTC') AT TIME ZONE timezone AS arrived_at,
       (answered_at AT TIME ZONE 'UTC') AT TIME ZONE timezone AS answered_at,
       (ended_at AT TIME ZONE 'UTC') AT TIME ZONE timezone AS ended_at,
       abandoned,
       resolved_first_contact,
       CASE WHEN NOT abandoned THEN wait_seconds END AS wait_seconds,
       CASE WHEN NOT abandoned THEN handle_seconds END AS handle_seconds,
       CASE WHEN abandoned THEN seconds_to_end END AS abandoned_after_seconds,
       CASE
           WHEN abandoned THEN FALSE
           WHEN channel = 'phone' THEN wait_seconds <= :service_level_seconds
           ELSE wait_seconds <= :visit_target_seconds
       END AS within_target,
       left_out_by,
       total_rows,
       left_out_rows
FROM shown
ORDER BY CASE WHEN :order_by = 'wait' THEN -CASE WHEN abandoned THEN seconds_to_end ELSE wait_seconds END
              WHEN :order_by = 'handle' THEN -CASE WHEN NOT abandoned THEN handle_seconds END END NULLS LAST,
         shown.arrived_at, contact_id
LIMIT :limit OFFSET :offset
