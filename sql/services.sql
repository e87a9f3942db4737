-- grain: one row per service of a department the viewer may see
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   service_id     String
--   department_id  String
--   name           String
--   sla_days       Int32
--   digital        Boolean
SELECT s.service_id, s.department_id, s.name, s.sla_days, s.digital
FROM services s
WHERE s.department_id IN :departments
ORDER BY s.department_id, s.name
