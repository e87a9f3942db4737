-- grain: one row per office and ISO weekday it opens (1 = Monday); local times
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   office_id  String
--   weekday    Int16
--   opens_at   String
--   closes_at  String
SELECT h.office_id, h.weekday,
       CAST(h.opens_at AS VARCHAR(8)) AS opens_at,
       CAST(h.closes_at AS VARCHAR(8)) AS closes_at
FROM office_hours h
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY h.office_id, h.weekday
