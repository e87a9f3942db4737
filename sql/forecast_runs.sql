-- grain: one row per stored run of `python -m forecasting run`, newest first (runs belong
--   to no department: a viewer who may see any department sees them)
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   run_id        Int64
--   started_at    Datetime
--   finished_at   Datetime
--   data_end      Date
--   horizon       Int32
--   cutoffs       String
--   series_count  Int32
--   models        String
--   holidays      String
--   code_version  String
--   seconds       Float64
SELECT r.run_id, r.started_at, r.finished_at, r.data_end, r.horizon, r.cutoffs,
       r.series_count, r.models, r.holidays, r.code_version, r.seconds
FROM forecast_runs r
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
ORDER BY r.run_id DESC
