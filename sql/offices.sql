-- grain: one row per office (offices serve every department, so a viewer who may see
--   any department sees them all)
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   office_id  String
--   name       String
--   region     String
--   kind       String
--   timezone   String
SELECT o.office_id, o.name, o.region, o.kind, o.timezone
FROM offices o
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY o.region, o.kind, o.name
