-- grain: one row per import and named rule that excluded, quarantined, repaired or
--   flagged rows of it, newest import first
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   load_id      Int64
--   rule         String
--   action       String
--   row_count    Int64
--   description  String
SELECT r.load_id, r.rule, r.action, r.row_count, r.description
FROM import_rule_counts r
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY r.load_id DESC, r.rule
