-- grain: one row per flag of the latest anomaly run that the viewer may see. A flag with
--   no department (total, office, channel scopes) crosses departments: only a viewer
--   who may see every department sees it.
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   run_id             Int64
--   flag_key           String
--   grain              String
--   scope_kind         String
--   scope_id           String
--   department_id      String
--   kpi                String
--   detector           String
--   direction          String
--   first_day          Date
--   detected_on        Date
--   last_day           Date
--   week               String
--   value              Float64
--   expected           Float64
--   lower_bound        Float64
--   upper_bound        Float64
--   score              Float64
--   kpis               String
--   explain_dimension  String
--   explain_member     String
--   explain_share      Float64
--   explain_expected   Float64
--   explain_actual     Float64
--   explanation        String
SELECT f.run_id, f.flag_key, f.grain, f.scope_kind, f.scope_id, f.department_id, f.kpi,
       f.detector, f.direction, f.first_day, f.detected_on, f.last_day, f.week, f.value,
       f.expected, f.lower_bound, f.upper_bound, f.score, f.kpis, f.explain_dimension,
       f.explain_member, f.explain_share, f.explain_expected, f.explain_actual, f.explanation
FROM anomaly_flags f
WHERE f.run_id = (SELECT MAX(r.run_id) FROM anomaly_runs r)
  AND (f.department_id IN :departments
       OR (f.department_id IS NULL
           AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
ORDER BY f.first_day DESC, f.grain, f.scope_kind, f.scope_id, f.kpi
