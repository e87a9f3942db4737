-- grain: one row per online session started in [:start, :end) (UTC). resumed_from names
--   the earlier session a session resumed (it is not a new start). In no particular order.
-- params:
--   :departments  department ids the viewer may see (list)
--   :start        first instant, naive UTC timestamp, inclusive
--   :end          last instant, naive UTC timestamp, exclusive
-- columns:
--   journey_id    Int64
--   service_id    String
--   started_at    Datetime
--   completed_at  Datetime
--   device        String
--   resumed_from  Int64
SELECT j.journey_id, j.service_id, j.started_at, j.completed_at, j.device, j.resumed_from
FROM journeys j
JOIN services s ON s.service_id = j.service_id
WHERE s.department_id IN :departments
  AND j.started_at >= :start
  AND j.started_at < :end
