-- grain: one row per call or visit that arrived in [:start, :end) (UTC), coded as in
--   case_facts.sql. A contact whose service is unknown has no service code, and only a
--   viewer who may see every department sees it.
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   service_code  Int32
--   office_code   Int32
--   channel_code  Int32
--   arrived_at    Datetime
--   answered_at   Datetime
--   ended_at      Datetime
--   abandoned     Boolean
--   resolved_first_contact  Boolean
WITH service_codes AS (
    SELECT s.service_id, CAST(ROW_NUMBER() OVER (ORDER BY s.service_id) - 1 AS INTEGER) AS code
    FROM services s WHERE s.department_id IN :departments
), office_codes AS (
    SELECT o.office_id, CAST(ROW_NUMBER() OVER (ORDER BY o.office_id) - 1 AS INTEGER) AS code
    FROM offices o
)
SELECT sc.code AS service_code, oc.code AS office_code,
       CASE c.channel WHEN 'online' THEN 0 WHEN 'mobile_app' THEN 1 WHEN 'phone' THEN 2
                      WHEN 'in_person' THEN 3 WHEN 'mail' THEN 4 ELSE 5 END AS channel_code,
       c.arrived_at, c.answered_at, c.ended_at, c.abandoned, c.resolved_first_contact
FROM contacts c
JOIN office_codes oc ON oc.office_id = c.office_id
LEFT JOIN service_codes sc ON sc.service_id = c.service_id
WHERE c.arrived_at >= :start
  AND c.arrived_at < :end
  AND (sc.code IS NOT NULL
       OR (c.service_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
