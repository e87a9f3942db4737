-- grain: one row per office, with the small integer code the *_facts extracts use for it
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   office_id  String
--   code       Int32
SELECT o.office_id, CAST(ROW_NUMBER() OVER (ORDER BY o.office_id) - 1 AS INTEGER) AS code
FROM offices o
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
