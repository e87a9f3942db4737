-- grain: one row per department the viewer may see
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   department_id  String
--   name           String
SELECT d.department_id, d.name
FROM departments d
WHERE d.department_id IN :departments
ORDER BY d.name
