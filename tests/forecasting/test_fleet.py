"""run_fleet on hand-made frames: short series fall back or are skipped, scores and schemas."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from forecasting import ForecastInputError
from forecasting.fleet import BACKTEST_SCHEMA, FORECAST_SCHEMA, accuracy_summary, run_fleet
from forecasting.models import SeasonalNaiveForecaster, WeekdayMeanForecaster
from forecasting.series import FleetSeries
from tests.forecasting.frames import noisy_weekly

FAST_MODELS = {"seasonal_naive": SeasonalNaiveForecaster(), "weekday_mean": WeekdayMeanForecaster()}
START = dt.date(2024, 1, 1)  # a Monday


def fleet_of(lengths: dict[str, int]) -> FleetSeries:
    """Series of the given lengths in days, all ending on the same day, closed on Sundays."""
    end = START + dt.timedelta(days=max(lengths.values()) - 1)
    values = pl.concat(
        [
            noisy_weekly(days, seed=i, start=end - dt.timedelta(days=days - 1)).with_columns(
                pl.lit(series_id).alias("series_id")
            )
            for i, (series_id, days) in enumerate(lengths.items())
        ]
    )
    closed = values.filter(pl.col("ds").dt.weekday() == 7).select("series_id", "ds")
    future_sundays = pl.DataFrame(
        [(s, end + dt.timedelta(days=k)) for s in lengths for k in range(1, 15) if (end + dt.timedelta(days=k)).isoweekday() == 7],
        schema={"series_id": pl.String, "ds": pl.Date},
        orient="row",
    )
    catalog = pl.DataFrame(
        {"series_id": list(lengths), "kind": ["service"] * len(lengths), "member": list(lengths),
         "department_id": ["d"] * len(lengths), "label": list(lengths)}
    )
    return FleetSeries(values, pl.concat([closed, future_sundays]), catalog, end)


def test_short_series_fall_back_to_the_baseline_and_too_short_ones_are_skipped() -> None:
    fleet = fleet_of({"long": 140, "short": 35, "tiny": 10})
    result = run_fleet(fleet, horizon=14, cutoffs=2, jobs=1, models=FAST_MODELS)
    by_id = {row["series_id"]: row for row in result.series.iter_rows(named=True)}
    assert set(by_id) == {"long", "short"}
    assert by_id["long"]["mase"] <= by_id["long"]["baseline_mase"] and by_id["long"]["note"] is None
    assert by_id["short"]["recommended_model"] == "seasonal_naive" and by_id["short"]["mase"] is None
    assert by_id["short"]["note"].startswith("not backtested, forecast with seasonal_naive: No series has 28 open days")
    assert result.skipped.rows() == [
        ("tiny", "Series 'tiny' has 8 open day(s) of history; at least 14 are needed. Drop it or collect more history.")
    ]
    assert result.forecasts.schema == pl.Schema(FORECAST_SCHEMA)
    assert result.backtests.schema == pl.Schema(BACKTEST_SCHEMA)
    assert set(result.backtests["series_id"]) == {"long"}
    # steps 1..14 per model, and step 0 for the whole window; Sundays are closed, never scored
    long_steps = result.backtests.filter(pl.col("model") == "seasonal_naive")["step"].to_list()
    assert long_steps[0] == 0 and max(long_steps) <= 14 and len(long_steps) == 1 + 12
    sundays = result.forecasts.filter(pl.col("ds").dt.weekday() == 7)
    assert sundays.height > 0 and sundays["closed"].all() and (sundays["yhat"] == 0).all()
    assert result.forecasts.filter(pl.col("series_id") == "short")["model"].unique().to_list() == ["seasonal_naive"]
    summary = accuracy_summary(result)
    assert summary["model"].to_list()[-1] == "all" and summary["series"].to_list()[-1] == 1


def test_run_fleet_checks_its_arguments() -> None:
    fleet = fleet_of({"long": 140})
    with pytest.raises(ForecastInputError, match=r"jobs must be a whole number >= 1, got 0"):
        run_fleet(fleet, jobs=0, models=FAST_MODELS)
    with pytest.raises(ForecastInputError, match=r"models must include the baseline 'seasonal_naive'"):
        run_fleet(fleet, models={"weekday_mean": WeekdayMeanForecaster()})
