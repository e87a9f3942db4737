"""Forecasters: hand-computed baselines, closed days, gaps, validation, the sklearn contract."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal
from sklearn.base import clone

from forecasting import ForecastInputError, find_gaps
from forecasting.models import (
    ConformalForecaster,
    EnsembleForecaster,
    ProphetForecaster,
    SeasonalNaiveForecaster,
    WeekdayMeanForecaster,
)
from tests.forecasting.frames import noisy_weekly, weekly_frame

MONDAY = dt.date(2024, 1, 1)
TWO_WEEKS = {"a": [10, 20, 30, 40, 50, 5, 1, 12, 18, 30, 44, 50, 5, 1]}


def day(offset: int) -> dt.date:
    return MONDAY + dt.timedelta(days=offset)


def test_seasonal_naive_repeats_last_week_with_residual_intervals() -> None:
    forecast = SeasonalNaiveForecaster().fit(weekly_frame(TWO_WEEKS)).predict(horizon=8)
    assert forecast.columns == ["series_id", "ds", "yhat", "lo80", "hi80", "lo95", "hi95"]
    assert forecast["ds"].to_list() == [day(14 + i) for i in range(8)]
    assert forecast["yhat"].to_list() == [12, 18, 30, 44, 50, 5, 1, 12]
    # residuals y[t] - y[t-7] = 2, -2, 0, 4, 0, 0, 0: with 7 of them the conformal
    # quantiles of both levels are the extremes -2 and +4, widened by sqrt(weeks back)
    first, eighth = forecast.row(0, named=True), forecast.row(7, named=True)
    assert (first["lo95"], first["lo80"], first["hi80"], first["hi95"]) == (10, 10, 16, 16)
    assert eighth["lo95"] == pytest.approx(12 - 2 * math.sqrt(2))
    assert eighth["hi95"] == pytest.approx(12 + 4 * math.sqrt(2))


def test_custom_column_names_round_trip() -> None:
    frame = weekly_frame(TWO_WEEKS).rename({"series_id": "office", "ds": "day", "y": "cases"})
    model = SeasonalNaiveForecaster(id_col="office", date_col="day", value_col="cases")
    forecast = model.fit(frame).predict(horizon=3)
    assert forecast.columns[:3] == ["office", "day", "yhat"]


def test_closed_days_are_not_learned_and_forecast_as_zero() -> None:
    values = [10, 20, 30, 40, 50, 5, 1] * 3
    values[14] = 0  # third Monday: the office was shut
    frame = weekly_frame({"a": values})
    closed = pl.DataFrame({"series_id": ["a", "a"], "ds": [day(14), day(22)]})
    forecast = SeasonalNaiveForecaster().fit(frame, closed_days=closed).predict(horizon=14)
    by_day = dict(zip(forecast["ds"].to_list(), forecast["yhat"].to_list(), strict=True))
    assert by_day[day(21)] == 10  # Monday repeats the last OPEN Monday, not the closed 0
    assert by_day[day(22)] == 0  # a known closed future day
    closed_row = forecast.filter(pl.col("ds") == day(22)).row(0, named=True)
    assert closed_row["lo95"] == closed_row["hi95"] == 0
    # the same data without the closed-day list learns the zero as if it were demand
    naive = SeasonalNaiveForecaster().fit(frame).predict(horizon=1)
    assert naive["yhat"].to_list() == [0]


def test_closed_days_accept_pairs() -> None:
    frame = weekly_frame(TWO_WEEKS)
    forecast = SeasonalNaiveForecaster().fit(frame, closed_days=[("a", day(14))]).predict(horizon=1)
    assert forecast["yhat"].to_list() == [0]


def test_gaps_are_reported_and_not_read_as_zeros() -> None:
    frame = weekly_frame({"a": [10, 20, 30, 40, 50, 5, 1] * 3}).filter(pl.col("ds") != day(14))
    assert_frame_equal(find_gaps(frame), pl.DataFrame({"series_id": ["a"], "ds": [day(14)]}))
    forecast = SeasonalNaiveForecaster().fit(frame).predict(horizon=1)
    assert forecast["yhat"].to_list() == [10]  # from the Monday before the gap


def test_find_gaps_skips_closed_days_and_uses_each_series_range() -> None:
    frame = pl.concat(
        [
            weekly_frame({"a": [1.0] * 10}).filter(~pl.col("ds").is_in([day(3), day(5)])),
            weekly_frame({"b": [1.0] * 4}, start=day(20)),
        ]
    )
    gaps = find_gaps(frame, closed_days=[("a", day(5))])
    assert gaps.rows() == [("a", day(3))]


def test_weekday_mean_applies_one_shared_holiday_factor() -> None:
    # 7 weeks from New Year's Day 2024 (a Monday); MLK day is 2024-01-15.
    values = [100, 50, 50, 50, 50, 50, 50] * 7
    values[0] = values[14] = 40  # both holiday Mondays at 40% of a normal Monday
    model = WeekdayMeanForecaster(weeks=4, country="US").fit(weekly_frame({"a": values}))
    assert model.states_["a"]["holiday_factor"] == pytest.approx(41 / 101)
    forecast = model.predict(horizon=2)  # 2024-02-19 is Washington's Birthday
    assert forecast["yhat"].to_list() == pytest.approx([100 * 41 / 101, 50])


def test_weekday_mean_without_holidays_is_a_plain_mean() -> None:
    values = [float(10 * (i // 7 + 1)) for i in range(35)]  # weekly steps 10, 20, ..., 50
    forecast = (
        WeekdayMeanForecaster(weeks=4, country=None).fit(weekly_frame({"a": values})).predict(7)
    )
    assert forecast["yhat"].to_list() == pytest.approx([35.0] * 7)
    assert (forecast["lo95"] <= forecast["lo80"]).all() and (
        forecast["hi80"] <= forecast["hi95"]
    ).all()


def test_ensemble_averages_members() -> None:
    frame = noisy_weekly(42)
    members = [("naive", SeasonalNaiveForecaster()), ("mean", WeekdayMeanForecaster(country=None))]
    combined = EnsembleForecaster(members).fit(frame).predict(7)
    naive = SeasonalNaiveForecaster().fit(frame).predict(7)
    mean = WeekdayMeanForecaster(country=None).fit(frame).predict(7)
    assert_series_equal(combined["yhat"], (naive["yhat"] + mean["yhat"]) / 2)


def test_conformal_keeps_the_point_and_recalibrates_bounds() -> None:
    frame = noisy_weekly(200)
    base = WeekdayMeanForecaster(country=None)
    calibrated = ConformalForecaster(base, calibration_windows=4, horizon=28).fit(frame)
    assert len(calibrated.calibration_quantiles_["s"]) == 4
    forecast = calibrated.predict(28)
    plain = clone(base).fit(frame).predict(28)
    assert_series_equal(forecast["yhat"], plain["yhat"])
    assert not forecast["hi95"].equals(plain["hi95"])
    assert (forecast["lo95"] <= forecast["yhat"]).all() and (
        forecast["yhat"] <= forecast["hi95"]
    ).all()


def test_prophet_forecasts_every_series_seeded_and_in_polars() -> None:
    frame = pl.concat(
        [
            noisy_weekly(70, seed=1),
            noisy_weekly(70, seed=2, level=30).with_columns(pl.lit("t").alias("series_id")),
        ]
    )
    closed = [("s", day(75))]
    model = ProphetForecaster(country="US", uncertainty_samples=200)
    first = model.fit(frame, closed_days=closed).predict(14)
    again = clone(model).fit(frame, closed_days=closed).predict(14)
    assert isinstance(first, pl.DataFrame) and first.height == 28
    assert_frame_equal(first, again)  # seeded: same forecast and intervals
    assert first.filter((pl.col("series_id") == "s") & (pl.col("ds") == day(75)))[
        "yhat"
    ].to_list() == [0]
    ordered = first.select(
        (pl.col("lo95") <= pl.col("lo80"))
        & (pl.col("lo80") <= pl.col("yhat"))
        & (pl.col("yhat") <= pl.col("hi80"))
        & (pl.col("hi80") <= pl.col("hi95"))
    )
    assert ordered.to_series().all()
    weekday_level = (
        first.filter(pl.col("series_id") == "s")
        .group_by(pl.col("ds").dt.weekday())
        .agg(pl.col("yhat").mean())
    )
    assert (
        weekday_level.filter(pl.col("ds") == 2)["yhat"][0]
        > 2 * weekday_level.filter(pl.col("ds") == 7)["yhat"][0]
    )


def test_estimators_follow_the_sklearn_contract() -> None:
    model = ProphetForecaster(country="US", subdivision="MA", changepoint_prior_scale=0.1)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "states_")
    frame = weekly_frame(TWO_WEEKS)
    naive = SeasonalNaiveForecaster()
    assert naive.fit(frame) is naive
    with pytest.raises(ForecastInputError, match="is not fitted; call fit"):
        SeasonalNaiveForecaster().predict(3)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            weekly_frame(TWO_WEEKS).rename({"ds": "date"}),
            r"missing column\(s\): date 'ds'.*Available columns: series_id, date, y",
        ),
        (weekly_frame(TWO_WEEKS).rename({"y": "Y"}), r"value 'y' \(did you mean 'Y'\?\)"),
        (
            pl.concat([weekly_frame(TWO_WEEKS)] * 2),
            r"28 rows share a \(series_id, ds\) pair, e.g. \('a', 2024-01-01\)",
        ),
        (
            weekly_frame(TWO_WEEKS).with_columns(pl.col("ds").dt.strftime("%d/%m/%Y")),
            r"not dates in YYYY-MM-DD form, e.g. '01/01/2024'",
        ),
        (
            weekly_frame(TWO_WEEKS).with_columns(pl.col("ds").cast(pl.Int32)),
            r"must hold dates .* got Int32",
        ),
        (
            weekly_frame(TWO_WEEKS).with_columns(
                pl.col("ds").cast(pl.Datetime).dt.replace_time_zone("UTC")
            ),
            "has time zone UTC",
        ),
        (
            weekly_frame(TWO_WEEKS).with_columns(
                pl.col("ds").cast(pl.Datetime) + pl.duration(hours=9)
            ),
            "holds times of day, not dates",
        ),
        (weekly_frame(TWO_WEEKS).with_columns(-pl.col("y")), "negative value"),
        (
            weekly_frame(TWO_WEEKS).with_columns(pl.col("y").cast(pl.String)),
            "must be numeric, got String",
        ),
        (weekly_frame(TWO_WEEKS).head(5), r"has 5 open day\(s\) of history; at least 14"),
    ],
)
def test_bad_inputs_fail_loudly_with_the_fix(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(ForecastInputError, match=message):
        SeasonalNaiveForecaster().fit(frame)


def test_datetime_midnights_are_accepted_as_dates() -> None:
    frame = weekly_frame(TWO_WEEKS).with_columns(pl.col("ds").cast(pl.Datetime))
    assert SeasonalNaiveForecaster().fit(frame).predict(1)["ds"].to_list() == [day(14)]


@pytest.mark.parametrize("horizon", [0, -3, 2.5])
def test_bad_horizon_is_rejected(horizon: object) -> None:
    model = SeasonalNaiveForecaster().fit(weekly_frame(TWO_WEEKS))
    with pytest.raises(ForecastInputError, match="horizon must be"):
        model.predict(horizon)  # type: ignore[arg-type]


def test_not_a_polars_frame_is_rejected() -> None:
    with pytest.raises(ForecastInputError, match=r"pl.from_pandas"):
        SeasonalNaiveForecaster().fit(weekly_frame(TWO_WEEKS).to_pandas())  # type: ignore[arg-type]


def test_history_end_ignores_later_rows_and_starts_the_forecast_after_it() -> None:
    frame = weekly_frame({"a": [10, 20, 30, 40, 50, 5, 1] * 3 + [999] * 7})
    forecast = SeasonalNaiveForecaster().fit(frame, history_end=day(20)).predict(7)
    assert forecast["ds"].to_list()[0] == day(21)
    assert 999 not in forecast["yhat"].to_list()
    # a series that stopped early is forecast from the common end: its gap is not data
    early = weekly_frame({"a": [10, 20, 30, 40, 50, 5, 1] * 2})
    forecast = SeasonalNaiveForecaster().fit(early, history_end=day(16)).predict(3)
    assert forecast["ds"].to_list() == [day(17), day(18), day(19)]
    assert forecast["yhat"].to_list() == [40, 50, 5]  # Thursday, Friday, Saturday
