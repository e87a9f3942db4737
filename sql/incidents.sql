-- grain: one row per recorded incident overlapping [:start, :end) (UTC). An incident
--   with no department (an office's or the whole platform's) is visible to every viewer.
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   incident_id    Int32
--   kind           String
--   starts_at      Datetime
--   ends_at        Datetime
--   department_id  String
--   service_id     String
--   office_id      String
--   channel        String
--   description    String
SELECT i.incident_id, i.kind, i.starts_at, i.ends_at, i.department_id, i.service_id,
       i.office_id, i.channel, i.description
FROM incidents i
WHERE i.starts_at < :end
  AND i.ends_at > :start
  AND (i.department_id IS NULL OR i.department_id IN :departments)
  AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY i.starts_at, i.incident_id
