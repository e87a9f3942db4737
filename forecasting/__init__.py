"""Demand forecasting and staffing for public-service KPI dashboards.

One long Polars frame (series id, date, value; column names configurable) in, every
series forecast in one call. Public API:

- forecasting.models: SeasonalNaiveForecaster, WeekdayMeanForecaster, ProphetForecaster,
  EnsembleForecaster, ConformalForecaster, default_models(country, subdivision).
  ``Model(...).fit(frame, closed_days=None).predict(horizon=28)`` returns
  (series_id, ds, yhat, lo80, hi80, lo95, hi95).
- forecasting.backtest: backtest(frame, models, cutoffs=8, horizon=28, ...) ->
  BacktestResult(per_horizon, overall, recommended, gaps, ...); recommended_forecast().
- forecasting.metrics: mase, smape, coverage, seasonal_naive_mae.
- forecasting.calendar: public_holidays, holiday_closed_days.
- forecasting.staffing: Erlang B/C/A, required agents, intraday profiles.
- ``python -m forecasting {backtest,staffing} ...``: the command line.
"""

from forecasting._frame import ForecastInputError, find_gaps, validate_series_frame

__all__ = ["ForecastInputError", "find_gaps", "validate_series_frame"]
