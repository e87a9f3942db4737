-- grain: one row per table of the data model, with the rows the viewer may see
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   table_name  String
--   row_count   Int64
SELECT 'departments' AS table_name, COUNT(*) AS row_count
FROM departments WHERE department_id IN :departments
UNION ALL
SELECT 'services', COUNT(*) FROM services WHERE department_id IN :departments
UNION ALL
SELECT 'offices', COUNT(*) FROM offices
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
UNION ALL
SELECT 'cases', COUNT(*) FROM cases c JOIN services s ON s.service_id = c.service_id
WHERE s.department_id IN :departments
UNION ALL
SELECT 'contacts', COUNT(*) FROM contacts c LEFT JOIN services s ON s.service_id = c.service_id
WHERE s.department_id IN :departments
   OR (c.service_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments))
UNION ALL
SELECT 'journeys', COUNT(*) FROM journeys j JOIN services s ON s.service_id = j.service_id
WHERE s.department_id IN :departments
UNION ALL
SELECT 'feedback', COUNT(*) FROM feedback f JOIN services s ON s.service_id = f.service_id
WHERE s.department_id IN :departments
UNION ALL
SELECT 'costs', COUNT(*) FROM costs k LEFT JOIN services s ON s.service_id = k.service_id
WHERE s.department_id IN :departments
   OR (k.service_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments))
UNION ALL
SELECT 'incidents', COUNT(*) FROM incidents
WHERE (department_id IS NULL OR department_id IN :departments)
  AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
