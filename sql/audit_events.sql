-- grain: one row per audited action (data/audit.py), newest first, for a viewer of every
--   department only (the audit names what anyone looked at); others get no rows
-- params:
--   :departments  department ids the viewer may see (list)
--   :since        first instant (UTC, inclusive)
--   :until        last instant (UTC, exclusive)
-- columns:
--   event_id   Int64
--   happened_at  Datetime
--   subject    String
--   email      String
--   action     String
--   page       String
--   detail     String
--   row_count  Int64
SELECT a.event_id, a.happened_at, a.subject, a.email, a.action, a.page, a.detail, a.row_count
FROM audit_events a
WHERE a.happened_at >= :since AND a.happened_at < :until
  AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
  AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)
ORDER BY a.event_id DESC
