-- grain: one row per cost record whose period (local dates, both ends included)
--   overlaps [:first_day, :last_day], coded as in case_facts.sql (no channel code where
--   costs are not known by channel). A cost with no service is seen only by a viewer
--   who may see every department.
-- params:
--   :departments  department ids the viewer may see (list)
--   :first_day    first local date, inclusive
--   :last_day     last local date, inclusive
-- columns:
--   service_code  Int32
--   office_code   Int32
--   channel_code  Int32
--   period_start  Date
--   period_end    Date
--   cost          Float64
WITH service_codes AS (
    SELECT s.service_id, CAST(ROW_NUMBER() OVER (ORDER BY s.service_id) - 1 AS INTEGER) AS code
    FROM services s WHERE s.department_id IN :departments
), office_codes AS (
    SELECT o.office_id, CAST(ROW_NUMBER() OVER (ORDER BY o.office_id) - 1 AS INTEGER) AS code
    FROM offices o
)
SELECT sc.code AS service_code, oc.code AS office_code,
       CASE WHEN k.channel IS NULL THEN NULL ELSE CASE k.channel WHEN 'online' THEN 0 WHEN 'mobile_app' THEN 1 WHEN 'phone' THEN 2
                      WHEN 'in_person' THEN 3 WHEN 'mail' THEN 4 ELSE 5 END END AS channel_code,
       k.period_start, k.period_end, k.cost
FROM costs k
JOIN office_codes oc ON oc.office_id = k.office_id
LEFT JOIN service_codes sc ON sc.service_id = k.service_id
WHERE k.period_start <= :last_day
  AND k.period_end >= :first_day
  AND (sc.code IS NOT NULL
       OR (k.service_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
