"""Forecasting at a series' own frequency: detection, seasons, steps, gaps, CLI rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from forecasting import ForecastInputError
from forecasting._frame import find_gaps
from forecasting.backtest import backtest, rolling_cutoffs
from forecasting.calendar import working_days
from forecasting.cli import main
from forecasting.frequency import Frequency, resolve_frequency
from forecasting.models import (
    ProphetForecaster,
    SeasonalNaiveForecaster,
    WeekdayMeanForecaster,
    default_models,
)

NAIVE = {"seasonal_naive": SeasonalNaiveForecaster()}


def long_frame(dates: list[dt.date], values: list[float], series_id: str = "s") -> pl.DataFrame:
    return pl.DataFrame(
        {"series_id": [series_id] * len(dates), "ds": dates, "y": [float(v) for v in values]},
        schema={"series_id": pl.String, "ds": pl.Date, "y": pl.Float64},
    )


def months(first: dt.date, count: int) -> list[dt.date]:
    return [dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1) for k in range(count)]


def weeks(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(weeks=k) for k in range(count)]


def weekly_series(count: int, first: dt.date = dt.date(2021, 1, 3), seed: int = 3) -> pl.DataFrame:
    """Weeks ending Sunday with a yearly cycle and Poisson noise."""
    rng = np.random.default_rng(seed)
    level = 1000 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(count) / 52))
    return long_frame(weeks(first, count), rng.poisson(level).tolist())


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ([dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(20)], Frequency("D")),
        (weeks(dt.date(2024, 1, 7), 10), Frequency("W", 6)),  # Sundays: weeks ending Sunday
        (weeks(dt.date(2024, 1, 1), 10), Frequency("W", 0)),  # Mondays: weeks starting Monday
        (months(dt.date(2016, 4, 1), 5), Frequency("M", 0)),
        ([dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)], Frequency("M", -1)),
    ],
)
def test_frequency_is_read_from_the_dates(dates: list[dt.date], expected: Frequency) -> None:
    assert resolve_frequency(long_frame(dates, [1] * len(dates))) == expected


def test_a_weekly_file_is_not_daily_and_its_gaps_count_in_weeks() -> None:
    frame = weekly_series(156).filter(pl.col("ds") != dt.date(2022, 6, 5))
    gaps = find_gaps(frame)
    assert gaps["ds"].to_list() == [dt.date(2022, 6, 5)]  # one missing week, not 7 x 155 days


def test_a_file_mixing_frequencies_is_refused_not_read_as_daily() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(20)]
    mixed = pl.concat(
        [
            long_frame(weeks(dt.date(2024, 1, 7), 10), [1] * 10, "sundays"),
            long_frame(weeks(dt.date(2024, 1, 1), 10), [1] * 10, "mondays"),
            long_frame(days, [1] * 20, "daily"),
        ]
    )
    with pytest.raises(ForecastInputError) as error:
        resolve_frequency(mixed)
    assert str(error.value) == (
        "the series of this file have different frequencies (weekly (weeks ending Sunday): "
        "sundays; weekly (weeks starting Monday): mondays; daily: daily). Backtest each "
        "frequency from its own file, or pass --freq D (freq='D') to treat every series as daily."
    )
    assert resolve_frequency(mixed, "D") == Frequency("D")


def test_an_explicit_frequency_must_fit_the_dates() -> None:
    daily = long_frame([dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(20)], [1] * 20)
    with pytest.raises(ForecastInputError, match="weekly series need every date on one weekday"):
        resolve_frequency(daily, "W")
    with pytest.raises(ForecastInputError, match=r"monthly series need every date on the first day of its month .* found e.g. 2024-01-02"):
        resolve_frequency(daily, "M")
    with pytest.raises(ForecastInputError, match="frequency must be D"):
        resolve_frequency(daily, "Q")


def test_month_end_dates_forecast_month_ends() -> None:
    ends = [dt.date(2022 + (m + 1) // 12, (m + 1) % 12 + 1, 1) - dt.timedelta(days=1) for m in range(24)]
    frame = long_frame(ends, list(range(24)))  # 2022-01-31 .. 2023-12-31
    forecast = SeasonalNaiveForecaster().fit(frame).predict(3)
    assert forecast["ds"].to_list() == [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)]
    assert forecast["yhat"].to_list() == [12.0, 13.0, 14.0]  # the same month of 2023


# --------------------------------------------------------------------------- monthly, by hand


def tiny_monthly() -> pl.DataFrame:
    """26 months from 2022-01: year 1 is 10..120; year 2 adds 5 (March adds 17); then 20, 40."""
    year1 = [10.0 * m for m in range(1, 13)]
    year2 = [v + (17 if m == 3 else 5) for m, v in enumerate(year1, start=1)]
    return long_frame(months(dt.date(2022, 1, 1), 26), [*year1, *year2, 20.0, 40.0])


def test_mase_scale_with_season_12_on_a_tiny_monthly_series() -> None:
    result = backtest(tiny_monthly(), NAIVE, cutoffs=1, horizon=2)
    assert result.frequency == Frequency("M", 0)
    assert result.cutoffs == [dt.date(2024, 1, 1)]
    assert result.seasons.select("cutoff", "observed", "season").row(0) == (dt.date(2024, 1, 1), 24, 12)
    points = result.points.filter(pl.col("model") == "seasonal_naive")
    # scale: the mean of |y[t] - y[t-12]| over 2023 = (11 x 5 + 17) / 12 = 6
    assert points["scale"].to_list() == [6.0, 6.0]
    # seasonal naive repeats January and February 2023 (15, 25) for 2024 (20, 40)
    assert points["ds"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert points["step"].to_list() == [1, 2]
    assert points["yhat"].to_list() == [15.0, 25.0]
    overall = result.overall.filter(pl.col("model") == "seasonal_naive").row(0, named=True)
    assert overall["mase"] == pytest.approx((5 + 15) / 2 / 6)


def test_under_two_years_of_months_the_baseline_and_scale_fall_back_to_naive() -> None:
    frame = tiny_monthly().tail(25)  # 23 months before the cutoff 2024-01
    result = backtest(frame, NAIVE, cutoffs=1, horizon=2)
    assert result.seasons["season"].to_list() == [1]
    points = result.points.filter(pl.col("model") == "seasonal_naive")
    history = frame.filter(pl.col("ds") < dt.date(2024, 1, 1))["y"].to_numpy()
    assert points["scale"][0] == pytest.approx(np.abs(np.diff(history)).mean())
    assert points["yhat"].to_list() == [history[-1], history[-1]]  # the last month, repeated


# --------------------------------------------------------------------------- weekly counting


def test_weekly_cutoffs_and_horizon_count_in_weeks() -> None:
    sunday = Frequency("W", 6)
    cutoffs = rolling_cutoffs(dt.date(2023, 12, 31), 4, 13, sunday)
    assert cutoffs == [dt.date(2023, 1, 8), dt.date(2023, 4, 9), dt.date(2023, 7, 9), dt.date(2023, 10, 8)]
    frame = weekly_series(156)  # 2021-01-03 .. 2023-12-24
    result = backtest(frame, NAIVE, cutoffs=4, horizon=13)
    assert result.frequency == sunday
    assert [(b - a).days for a, b in zip(result.cutoffs, result.cutoffs[1:], strict=False)] == [91, 91, 91]
    assert result.cutoffs[-1] == dt.date(2023, 10, 1)  # 13 weeks ending on the last Sunday
    points = result.points.filter(pl.col("model") == "seasonal_naive")
    assert points.height == 52 and sorted(set(points["step"].to_list())) == list(range(1, 14))
    assert points["ds"].dt.weekday().unique().to_list() == [7]
    # 104 weeks before the first cutoff: two full years, so season 52 is used throughout
    assert result.seasons["observed"].to_list() == [104, 117, 130, 143]
    assert result.seasons["season"].unique().to_list() == [52]
    first = points.filter(pl.col("cutoff") == result.cutoffs[0]).row(0, named=True)
    assert first["yhat"] == frame.filter(pl.col("ds") == first["ds"] - dt.timedelta(weeks=52))["y"][0]


def test_working_days_map_holidays_into_weeks_and_months() -> None:
    december = Frequency("M", 0)
    assert working_days(december, [december.period(dt.date(2024, 12, 1))], "GB", "ENG").tolist() == [20.0]
    sunday = Frequency("W", 6)
    christmas_week, week_before = (sunday.period(dt.date(2024, 12, 29)), sunday.period(dt.date(2024, 12, 22)))
    assert working_days(sunday, [christmas_week, week_before], "GB", "ENG").tolist() == [3.0, 5.0]
    monday = Frequency("W", 0)  # a Monday starts its week: 2024-12-23 .. 29 again
    assert working_days(monday, [monday.period(dt.date(2024, 12, 23))], "GB", "ENG").tolist() == [3.0]


def test_weekday_mean_refuses_a_weekly_series_and_is_left_out_of_its_models() -> None:
    with pytest.raises(ForecastInputError, match="weekday_mean needs a daily series; this one is weekly"):
        WeekdayMeanForecaster().fit(weekly_series(60))
    assert list(default_models("GB", "ENG", freq="W")) == ["seasonal_naive", "prophet", "ensemble"]


def test_prophet_on_months_has_yearly_but_no_weekly_seasonality_and_working_days() -> None:
    frame = tiny_monthly()
    model = ProphetForecaster("GB", "ENG", uncertainty_samples=0).fit(frame)
    fitted = model.states_["s"]
    assert set(fitted.seasonalities) == {"yearly"}
    assert set(fitted.extra_regressors) == {"working_days"}
    forecast = model.predict(3)
    assert forecast["ds"].to_list() == [dt.date(2024, 3, 1), dt.date(2024, 4, 1), dt.date(2024, 5, 1)]


# --------------------------------------------------------------------------- the command line


def test_cli_backtests_a_weekly_file_and_writes_weekly_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, out_file = tmp_path / "weekly.csv", tmp_path / "forecast.csv"
    weekly_series(160).filter(pl.col("ds") != dt.date(2022, 6, 5)).write_csv(csv)
    code = main(
        ["backtest", "--csv", str(csv), "--horizon", "4", "--cutoffs", "2", "--forecast-out", str(out_file)]
    )
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert "frequency: weekly (weeks ending Sunday), read from the dates" in out
    assert "2 cutoffs (2023-12-03, 2023-12-31), horizon 4 weeks" in out
    assert "season: 52 weeks (seasonal naive and the MASE scale)" in out
    assert "skipped: weekday_mean" in out
    assert "gaps: s: 1 missing week(s): 2022-06-05" in out
    forecast = pl.read_csv(out_file, try_parse_dates=True)
    # the last week is 2024-01-21: four rows, one a week, on the data's Sundays
    assert forecast["ds"].to_list() == weeks(dt.date(2024, 1, 28), 4)
    assert f"wrote 4 forecast rows (4 weeks per series, weekly) to {out_file}" in out


def test_cli_says_why_a_short_weekly_series_falls_back_to_naive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "weekly.csv"
    weekly_series(60).write_csv(csv)
    code = main(["backtest", "--csv", str(csv), "--horizon", "4", "--cutoffs", "2", "--freq", "w"])
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert "frequency: weekly (weeks ending Sunday) (--freq)" in out
    assert (
        "season: s: 1 at cutoff(s) 2022-01-02, 2022-01-30: 52 weeks of history; season 52 needs "
        "104 weeks (2 full years), so seasonal naive and the MASE scale use the previous week "
        "(non-seasonal naive)"
    ) in out


def test_cli_names_the_fix_when_freq_does_not_fit_the_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "weekly.csv"
    weekly_series(60).write_csv(csv)
    code = main(["backtest", "--csv", str(csv), "--freq", "M"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "error: monthly series need every date on the first day of its month (or every one the "
        "last day); found e.g. 2021-01-03. Aggregate to months first, e.g. "
        "group_by(pl.col('ds').dt.truncate('1mo')).\n"
    )


def test_cli_refuses_closed_holidays_on_a_weekly_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "weekly.csv"
    weekly_series(60).write_csv(csv)
    code = main(["backtest", "--csv", str(csv), "--country", "GB", "--closed-on-holidays"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: --closed-on-holidays is for daily series; this one is weekly")
