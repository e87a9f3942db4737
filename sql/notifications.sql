-- grain: one row per event sent (or failed) to a subscription the viewer may see, newest
--   attempt first
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   subscription_id   Int64
--   subscriber        String
--   event_key         String
--   rule              String
--   status            String
--   attempts          Int32
--   first_attempt_at  Datetime
--   last_attempt_at   Datetime
--   sent_at           Datetime
--   subject           String
--   error             String
SELECT n.subscription_id, s.subscriber, n.event_key, n.rule, n.status, n.attempts,
       n.first_attempt_at, n.last_attempt_at, n.sent_at, n.subject, n.error
FROM notifications n
JOIN subscriptions s ON s.subscription_id = n.subscription_id
LEFT JOIN services v ON v.service_id = s.service_id
WHERE COALESCE(s.department_id, v.department_id) IN :departments
   OR (COALESCE(s.department_id, v.department_id) IS NULL
       AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
       AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments))
ORDER BY n.last_attempt_at DESC, n.subscription_id, n.event_key
