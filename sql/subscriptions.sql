-- grain: one row per subscription the viewer may see: one whose department (its own,
--   or its service's) the viewer may see; one with neither crosses departments and is
--   seen only by a viewer of every department
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   subscription_id  Int64
--   subscriber       String
--   rule             String
--   channel          String
--   address          String
--   department_id    String
--   service_id       String
--   office_id        String
--   scope_channel    String
--   kpis             String
--   active           Boolean
--   created_at       Datetime
--   created_by       String
SELECT s.subscription_id, s.subscriber, s.rule, s.channel, s.address,
       COALESCE(s.department_id, v.department_id) AS department_id, s.service_id, s.office_id,
       s.scope_channel, s.kpis, s.active, s.created_at, s.created_by
FROM subscriptions s
LEFT JOIN services v ON v.service_id = s.service_id
WHERE COALESCE(s.department_id, v.department_id) IN :departments
   OR (COALESCE(s.department_id, v.department_id) IS NULL
       AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
       AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments))
ORDER BY s.subscription_id
