-- grain: one row per service the viewer may see, with the small integer code the
--   *_facts extracts use for it (0, 1, ... in this database's order of service_id)
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   service_id  String
--   code        Int32
SELECT s.service_id, CAST(ROW_NUMBER() OVER (ORDER BY s.service_id) - 1 AS INTEGER) AS code
FROM services s
WHERE s.department_id IN :departments
