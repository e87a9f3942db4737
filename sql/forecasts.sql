-- grain: one row per series, model and forecast day of the latest forecast run, for the
--   series the viewer may see (as in forecast_series): the recommended model's forecast
--   and the seasonal-naive baseline's (one set of rows when they are the same model).
--   Counts per day; closed days are 0 with closed = true.
-- params:
--   :departments  department ids the viewer may see (list)
-- columns:
--   run_id         Int64
--   series_id      String
--   kind           String
--   department_id  String
--   ds             Date
--   model          String
--   recommended    Boolean
--   closed         Boolean
--   yhat           Float64
--   lo80           Float64
--   hi80           Float64
--   lo95           Float64
--   hi95           Float64
SELECT f.run_id, f.series_id, s.kind, s.department_id, f.ds, f.model, f.recommended,
       f.closed, f.yhat, f.lo80, f.hi80, f.lo95, f.hi95
FROM forecasts f
JOIN forecast_series s ON s.run_id = f.run_id AND s.series_id = f.series_id
WHERE f.run_id = (SELECT MAX(r.run_id) FROM forecast_runs r)
  AND (s.department_id IN :departments
       OR (s.department_id IS NULL
           AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
ORDER BY f.series_id, f.model, f.ds
