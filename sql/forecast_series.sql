-- grain: one row per series of the latest forecast run that the viewer may see, with its
--   recommended model and backtest MASE beside the seasonal-naive baseline's. A series
--   with no department (total, office, channel, contacts) crosses departments: only a
--   viewer who may see every department sees it.
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   run_id             Int64
--   series_id          String
--   kind               String
--   member             String
--   department_id      String
--   label              String
--   first_day          Date
--   last_day           Date
--   open_days          Int32
--   closed_days        Int32
--   gap_days           Int32
--   recommended_model  String
--   mase               Float64
--   baseline_mase      Float64
SELECT f.run_id, f.series_id, f.kind, f.member, f.department_id, f.label, f.first_day,
       f.last_day, f.open_days, f.closed_days, f.gap_days, f.recommended_model, f.mase,
       f.baseline_mase
FROM forecast_series f
WHERE f.run_id = (SELECT MAX(r.run_id) FROM forecast_runs r)
  AND (f.department_id IN :departments
       OR (f.department_id IS NULL
           AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
ORDER BY f.series_id
