-- grain: one row per stored anomaly run (python -m forecasting detect), newest first
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   run_id        Int64
--   started_at    Datetime
--   finished_at   Datetime
--   data_first    Date
--   data_end      Date
--   series_count  Int32
--   flag_count    Int32
--   settings      String
--   code_version  String
--   seconds       Float64
SELECT r.run_id, r.started_at, r.finished_at, r.data_first, r.data_end, r.series_count,
       r.flag_count, r.settings, r.code_version, r.seconds
FROM anomaly_runs r
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY r.run_id DESC
