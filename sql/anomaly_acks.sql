-- grain: one row per acknowledgement (or reopening) of a flag of the latest anomaly run
--   that the viewer may see; the latest row (highest ack_id) per flag_key is its state
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   ack_id     Int64
--   flag_key   String
--   status     String
--   acked_by   String
--   acked_at   Datetime
--   note       String
SELECT a.ack_id, a.flag_key, a.status, a.acked_by, a.acked_at, a.note
FROM anomaly_acks a
WHERE EXISTS (
    SELECT 1 FROM anomaly_flags f
    WHERE f.flag_key = a.flag_key
      AND f.run_id = (SELECT MAX(r.run_id) FROM anomaly_runs r)
      AND (f.department_id IN :departments
           OR (f.department_id IS NULL
               AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
               AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments))))
ORDER BY a.ack_id
