-- grain: one row: the first and last instants (UTC) of the cases and contacts the viewer
--   may see (both null when there are none)
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   first_at  Datetime
--   last_at   Datetime
SELECT MIN(first_at) AS first_at, MAX(last_at) AS last_at
FROM (
    SELECT MIN(c.submitted_at) AS first_at, MAX(c.submitted_at) AS last_at
    FROM cases c JOIN services s ON s.service_id = c.service_id
    WHERE s.department_id IN :departments
    UNION ALL
    SELECT MIN(k.arrived_at), MAX(k.arrived_at)
    FROM contacts k JOIN services s ON s.service_id = k.service_id
    WHERE s.department_id IN :departments
) extents
