-- grain: one row per shift of the office's roster (sql/schema/090_rosters.sql) that starts
--   in [:start, :end), by start. A roster belongs to an office, and offices serve every
--   department: only a viewer who may see every department sees it (as staffing does).
-- params:
--   :departments  department ids the viewer may see (list)
--   :office_id    the office
--   :start        first instant, UTC timestamp, inclusive
--   :end          last instant, UTC timestamp, exclusive
-- columns:
--   shift_id        Int64
--   source          String
--   person_or_team  String
--   office_id       String
--   shift_start     Datetime
--   shift_end       Datetime
--   break_minutes   Int32
SELECT r.shift_id, r.source, r.person_or_team, r.office_id, r.shift_start, r.shift_end, r.break_minutes
FROM roster_shifts r
WHERE r.office_id = :office_id
  AND r.shift_start >= :start
  AND r.shift_start < :end
  AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
  AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)
ORDER BY r.shift_start, r.person_or_team, r.shift_id
