-- grain: one row per series, model and horizon step of the latest forecast run's backtest,
--   for the series the viewer may see (as in forecast_series). step 0 is the score over
--   all steps; 1..horizon per day ahead. mase below 1 beats the in-sample seasonal naive;
--   smape, coverage_80, coverage_95 in percent; width_95 in counts per day.
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   run_id         Int64
--   series_id      String
--   kind           String
--   department_id  String
--   model          String
--   step           Int16
--   n              Int32
--   mase           Float64
--   smape          Float64
--   coverage_80    Float64
--   coverage_95    Float64
--   width_95       Float64
--   recommended    Boolean
SELECT b.run_id, b.series_id, s.kind, s.department_id, b.model, b.step, b.n, b.mase,
       b.smape, b.coverage_80, b.coverage_95, b.width_95, b.recommended
FROM forecast_backtests b
JOIN forecast_series s ON s.run_id = b.run_id AND s.series_id = b.series_id
WHERE b.run_id = (SELECT MAX(r.run_id) FROM forecast_runs r)
  AND (s.department_id IN :departments
       OR (s.department_id IS NULL
           AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
ORDER BY b.series_id, b.model, b.step
