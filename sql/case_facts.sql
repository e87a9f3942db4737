-- grain: one row per case open at some moment of [:start, :end) (UTC), as the metric
--   engine reads them: services, offices and channels as small integer codes (see
--   service_codes.sql and office_codes.sql; channels 0 online, 1 mobile_app, 2 phone,
--   3 in_person, 4 mail, 5 other), because ten million repeated strings cost more to move
--   than everything else together. For people, cases.sql has the ids.
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   service_code  Int32
--   office_code   Int32
--   channel_code  Int32
--   submitted_at  Datetime
--   due_at        Datetime
--   closed_at     Datetime
--   cancelled     Boolean
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
       c.submitted_at, c.due_at, c.closed_at, c.status = 'cancelled' AS cancelled
FROM cases c
JOIN service_codes sc ON sc.service_id = c.service_id
JOIN office_codes oc ON oc.office_id = c.office_id
WHERE c.submitted_at < :end
  AND (c.closed_at IS NULL OR c.closed_at >= :start)
