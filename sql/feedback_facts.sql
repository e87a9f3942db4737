-- grain: one row per rating submitted in [:start, :end) (UTC), coded as in
--   case_facts.sql; the office code is empty for an anonymous survey
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   service_code  Int32
--   office_code   Int32
--   channel_code  Int32
--   submitted_at  Datetime
--   rating        Int16
WITH service_codes AS (
    SELECT s.service_id, CAST(ROW_NUMBER() OVER (ORDER BY s.service_id) - 1 AS INTEGER) AS code
    FROM services s WHERE s.department_id IN :departments
), office_codes AS (
    SELECT o.office_id, CAST(ROW_NUMBER() OVER (ORDER BY o.office_id) - 1 AS INTEGER) AS code
    FROM offices o
)
SELECT sc.code AS service_code, oc.code AS office_code,
       CASE f.channel WHEN 'online' THEN 0 WHEN 'mobile_app' THEN 1 WHEN 'phone' THEN 2
                      WHEN 'in_person' THEN 3 WHEN 'mail' THEN 4 ELSE 5 END AS channel_code,
       f.submitted_at, f.rating
FROM feedback f
JOIN service_codes sc ON sc.service_id = f.service_id
LEFT JOIN office_codes oc ON oc.office_id = f.office_id
WHERE f.submitted_at >= :start
  AND f.submitted_at < :end
