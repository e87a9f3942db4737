-- grain: one row per office and local date it is closed (public holidays), in
--   [:first_day, :last_day]; known ahead of time, so it reaches into the future
-- params:
--   :departments  department ids the viewer may see (list)
--   :first_day    first local date, inclusive
--   :last_day     last local date, inclusive
-- columns:
--   office_id  String
--   closed_on  Date
--   reason     String
SELECT c.office_id, c.closed_on, c.reason
FROM office_closures c
WHERE c.closed_on BETWEEN :first_day AND :last_day
  AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY c.closed_on, c.office_id
