-- grain: one row per import of an export (python -m data import), newest first, with
--   its reconciliation: rows read = inserted + updated + unchanged + excluded + quarantined
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   load_id           Int64
--   imported_at       Datetime
--   source            String
--   target_table      String
--   file_name         String
--   mapping           String
--   rows_read         Int64
--   rows_inserted     Int64
--   rows_updated      Int64
--   rows_unchanged    Int64
--   rows_excluded     Int64
--   rows_quarantined  Int64
SELECT i.load_id, i.imported_at, i.source, i.target_table, i.file_name, i.mapping,
       i.rows_read, i.rows_inserted, i.rows_updated, i.rows_unchanged, i.rows_excluded, i.rows_quarantined
FROM imports i
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY i.imported_at DESC, i.load_id DESC
