-- grain: one row per online session started in [:start, :end) (UTC), coded as in
--   case_facts.sql; the channel is mobile_app (1) for sessions in the app, else online (0)
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   journey_id    Int64
--   service_code  Int32
--   channel_code  Int32
--   started_at    Datetime
--   completed_at  Datetime
--   resumed_from  Int64
WITH service_codes AS (
    SELECT s.service_id, CAST(ROW_NUMBER() OVER (ORDER BY s.service_id) - 1 AS INTEGER) AS code
    FROM services s WHERE s.department_id IN :departments
), office_codes AS (
    SELECT o.office_id, CAST(ROW_NUMBER() OVER (ORDER BY o.office_id) - 1 AS INTEGER) AS code
    FROM offices o
)
SELECT j.journey_id, sc.code AS service_code,
       CASE WHEN j.device = 'app' THEN 1 ELSE 0 END AS channel_code,
       j.started_at, j.completed_at, j.resumed_from
FROM journeys j
JOIN service_codes sc ON sc.service_id = j.service_id
WHERE j.started_at >= :start
  AND j.started_at < :end
