-- grain: one row per rating submitted in [:start, :end) (UTC); office_id may be empty
--   (an anonymous online survey). In no particular order.
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   feedback_id   Int64
--   service_id    String
--   office_id     String
--   channel       String
--   submitted_at  Datetime
--   rating        Int16
SELECT f.feedback_id, f.service_id, f.office_id, f.channel, f.submitted_at, f.rating
FROM feedback f
JOIN services s ON s.service_id = f.service_id
WHERE s.department_id IN :departments
  AND f.submitted_at >= :start
  AND f.submitted_at < :end
