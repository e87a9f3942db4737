-- grain: one row per case that was open at some moment of [:start, :end): submitted
--   before :end and not closed before :start. That covers every case submitted or closed
--   in the window and every case in the backlog at its start or end. Timestamps in UTC.
--   Slim on purpose (the engine reads millions): department, region, time zone and
--   service standard come from the services and offices extracts. No particular order.
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   case_id       Int64
--   service_id    String
--   office_id     String
--   channel       String
--   submitted_at  Datetime
--   due_at        Datetime
--   closed_at     Datetime
--   cancelled     Boolean
SELECT c.case_id, c.service_id, c.office_id, c.channel, c.submitted_at, c.due_at, c.closed_at, c.status = 'cancelled' AS cancelled
FROM cases c
JOIN services s ON s.service_id = c.service_id
WHERE s.department_id IN :departments
  AND c.submitted_at < :end
  AND (c.closed_at IS NULL OR c.closed_at >= :start)
