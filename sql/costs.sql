-- grain: one row per cost record whose period (local dates, both ends included)
--   overlaps [:first_day, :last_day]. A cost with no service belongs to no department:
--   only a viewer who may see every department sees it. In no particular order.
-- params:
--   :departments  department ids the viewer may see (list)
--   :first_day    first local date, inclusive
--   :last_day     last local date, inclusive
-- columns:
--   cost_id       Int64
--   service_id    String
--   office_id     String
--   channel       String
--   period_start  Date
--   period_end    Date
--   staff_hours   Float64
--   cost          Float64
SELECT k.cost_id, k.service_id, k.office_id, k.channel, k.period_start, k.period_end,
       k.staff_hours, k.cost
FROM costs k
LEFT JOIN services s ON s.service_id = k.service_id
WHERE k.period_start <= :last_day
  AND k.period_end >= :first_day
  AND (s.department_id IN :departments
       OR (k.service_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
