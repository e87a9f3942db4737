-- grain: one row per load of data into the database, newest first
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   load_id      Int64
--   kind         String
--   source       String
--   loaded_at    Datetime
--   rows_loaded  Int64
--   details      String
SELECT l.load_id, l.kind, l.source, l.loaded_at, l.rows_loaded, l.details
FROM data_loads l
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY l.loaded_at DESC, l.load_id DESC
