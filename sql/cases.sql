-- grain: one row per case that was open at some moment of [:start, :end): submitted
--   before :end and not closed before :start. That covers every case submitted or closed
--   in the window and every case in the backlog at its start or end. Timestamps in UTC.
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   case_id        Int64
--   department_id  String
--   service_id     String
--   office_id      String
--   region         String
--   timezone       String
--   channel        String
--   sla_days       Int32
--   submitted_at   Datetime
--   due_at         Datetime
--   closed_at      Datetime
--   status         String
--   outcome        String
SELECT c.case_id, s.department_id, c.service_id, c.office_id, o.region, o.timezone,
       c.channel, s.sla_days, c.submitted_at, c.due_at, c.closed_at, c.status, c.outcome
FROM cases c
JOIN services s ON s.service_id = c.service_id
JOIN offices o ON o.office_id = c.office_id
WHERE s.department_id IN :departments
  AND c.submitted_at < :end
  AND (c.closed_at IS NULL OR c.closed_at >= :start)
