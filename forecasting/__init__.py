"""Demand forecasting and staffing for public-service KPI dashboards.

One long Polars frame (series id, date, value; column names configurable) in, every
series forecast in one call. Public API:

- forecasting.models: SeasonalNaiveForecaster, WeekdayMeanForecaster, ProphetForecaster,
  EnsembleForecaster, ConformalForecaster, default_models(country, subdivision, freq).
  ``Model(...).fit(frame, closed_days=None).predict(horizon=28)`` returns
  (series_id, ds, yhat, lo80, hi80, lo95, hi95).
- forecasting.backtest: backtest(frame, models, cutoffs=8, horizon=28, ...) ->
  BacktestResult(per_horizon, overall, recommended, gaps, ...); recommended_forecast().
- forecasting.accuracy: mase, smape, coverage, seasonal_naive_mae.
- forecasting.frequency: daily, weekly or monthly from the dates (resolve_frequency),
  period numbers, the season rule (season_for), missing periods.
- forecasting.calendar: public_holidays, holiday_closed_days, working_days.
- forecasting.staffing: Erlang B/C/A, required agents, intraday profiles.
- forecasting.series: the fleet's series ids and closed days from database extracts.
- forecasting.fleet: run_fleet() backtests and forecasts every series in parallel.
- forecasting.store: read the extracts, store runs, read the latest stored run.
- forecasting.planning: staffing of an office from stored forecasts and its history.
- ``python -m forecasting {backtest,staffing,run} ...``: the command line.
"""

from forecasting._frame import ForecastInputError, find_gaps, validate_series_frame

# Stored with every forecast run; bump when a change alters what the models forecast.
MODEL_VERSION = "fleet-1"

__all__ = ["MODEL_VERSION", "ForecastInputError", "find_gaps", "validate_series_frame"]
