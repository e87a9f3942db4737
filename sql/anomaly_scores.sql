-- grain: one row per period of one scored series of the latest anomaly run (the value
--   against its expected band), if the viewer may see the series
-- params:
--   :departments  department ids the viewer may see (list)
--   :grain        day or week
--   :scope_kind   total, department, service, office or channel
--   :scope_id     the member ('all' for the total)
--   :kpi          a metrics.registry name
-- columns:
--   period_start  Date
--   value         Float64
--   expected      Float64
--   lower_bound   Float64
--   upper_bound   Float64
--   z             Float64
SELECT s.period_start, s.value, s.expected, s.lower_bound, s.upper_bound, s.z
FROM anomaly_scores s
WHERE s.run_id = (SELECT MAX(r.run_id) FROM anomaly_runs r)
  AND s.grain = :grain
  AND s.scope_kind = :scope_kind
  AND s.scope_id = :scope_id
  AND s.kpi = :kpi
  AND (s.department_id IN :departments
       OR (s.department_id IS NULL
           AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
ORDER BY s.period_start
