-- grain: one row per run, series, model and forecast day of EVERY stored forecast run whose
--   forecast days fall in :first_day..:last_day, for the series the viewer may see (as in
--   forecast_series): the recommended model's rows and the seasonal-naive baseline's, with
--   the run's data_end (the last day of history it was made from). For live accuracy
--   (forecasting.live): each past day against the latest run made before it.
-- params:
--   :departments  department ids the viewer may see (list)
--   :first_day    first forecast day (local date)
--   :last_day     last forecast day (local date)
-- columns:
--   run_id         Int64
--   data_end       Date
--   series_id      String
--   ds             Date
--   model          String
--   recommended    Boolean
--   closed         Boolean
--   yhat           Float64
--   lo80           Float64
--   hi80           Float64
--   lo95           Float64
--   hi95           Float64
SELECT f.run_id, r.data_end, f.series_id, f.ds, f.model, f.recommended, f.closed,
       f.yhat, f.lo80, f.hi80, f.lo95, f.hi95
FROM forecasts f
JOIN forecast_runs r ON r.run_id = f.run_id
JOIN forecast_series s ON s.run_id = f.run_id AND s.series_id = f.series_id
WHERE f.ds BETWEEN :first_day AND :last_day
  AND (s.department_id IN :departments
       OR (s.department_id IS NULL
           AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
ORDER BY f.run_id, f.series_id, f.model, f.ds
