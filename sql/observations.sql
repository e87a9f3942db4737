-- grain: one row per observation of an aggregate series (sql/schema/060_observations.sql)
--   whose period overlaps [:first_day, :last_day], with what its series measures. An
--   observation belongs to its department, or to its service's department; one with
--   neither is seen only by a viewer who may see every department. In no particular order.
-- params:
--   :departments  department ids the viewer may see (list)
--   :first_day    first local date, inclusive
--   :last_day     last local date, inclusive
-- columns:
--   observation_id  Int64
--   source          String
--   series          String
--   kind            String
--   label           String
--   unit            String
--   direction       String
--   department_id   String
--   service_id      String
--   office_id       String
--   channel         String
--   grain           String
--   period_start    Date
--   period_end      Date
--   numerator       Float64
--   denominator     Float64
--   value           Float64
--   n               Int64
--   target          Float64
SELECT o.observation_id, o.source, o.series, r.kind, r.label, r.unit, r.direction,
       COALESCE(o.department_id, s.department_id) AS department_id, o.service_id, o.office_id,
       o.channel, o.grain, o.period_start, o.period_end, o.numerator, o.denominator, o.value,
       o.n, o.target
FROM observations o
JOIN series r ON r.series_id = o.series
LEFT JOIN services s ON s.service_id = o.service_id
WHERE o.period_start <= :last_day
  AND o.period_end >= :first_day
  AND (COALESCE(o.department_id, s.department_id) IN :departments
       OR (o.department_id IS NULL AND s.department_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
