-- grain: one row per call or visit that arrived in [:start, :end) (UTC). A contact
--   whose service is unknown belongs to no department: only a viewer who may see every
--   department sees it. Slim, in no particular order (see cases.sql).
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   contact_id   Int64
--   service_id   String
--   office_id    String
--   channel      String
--   arrived_at   Datetime
--   answered_at  Datetime
--   ended_at     Datetime
--   abandoned    Boolean
SELECT c.contact_id, c.service_id, c.office_id, c.channel, c.arrived_at, c.answered_at,
       c.ended_at, c.abandoned
FROM contacts c
LEFT JOIN services s ON s.service_id = c.service_id
WHERE c.arrived_at >= :start
  AND c.arrived_at < :end
  AND (s.department_id IN :departments
       OR (c.service_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
