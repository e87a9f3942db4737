"""Real data at its own frequency: NHS England A&E monthly, Boston 311 weekly."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict

import polars as pl
import pytest

from bench.forecast_frequency import BOSTON_CSV, NHS_AE_CSV, load_boston_weekly, load_england_monthly
from forecasting.backtest import backtest
from forecasting.cli import season_lines
from forecasting.frequency import Frequency
from forecasting.models import default_models

needs_files = pytest.mark.skipif(
    not (NHS_AE_CSV.is_file() and BOSTON_CSV.is_file()),
    reason="the real sample files (../shared/data/) are not on this machine; set KPI_SHARED_DATA",
)


@needs_files
def test_england_monthly_totals_match_a_plain_sum_of_the_file() -> None:
    expected: dict[str, float] = defaultdict(float)
    with NHS_AE_CSV.open(newline="") as handle:
        for row in csv.DictReader(handle):
            expected[row["period"]] += float(row["attendances"])
    frame = load_england_monthly()
    assert frame.height == 36 == len(expected)
    assert dict(zip(frame["ds"].cast(pl.String), frame["y"], strict=True)) == pytest.approx(expected)
    assert frame["ds"].min() == dt.date(2016, 4, 1) and frame["ds"].max() == dt.date(2019, 3, 1)


def hand_seasonal_naive_mase(y: list[float], first_test: list[int], horizon: int) -> float:
    """Season-12 naive MASE by hand: month t forecast by t-12, scaled per cutoff."""
    scaled = []
    for start in first_test:
        history = y[:start]
        scale = sum(abs(history[t] - history[t - 12]) for t in range(12, start)) / (start - 12)
        scaled += [abs(y[t] - y[t - 12]) / scale for t in range(start, start + horizon)]
    return sum(scaled) / len(scaled)


@pytest.mark.slow
@needs_files
def test_england_attendances_backtest_monthly_with_season_12_against_seasonal_naive() -> None:
    frame = load_england_monthly()
    result = backtest(frame, default_models("GB", "ENG", freq="M"), cutoffs=2, horizon=6)
    assert result.frequency == Frequency("M", 0)
    assert result.cutoffs == [dt.date(2018, 4, 1), dt.date(2018, 10, 1)]
    assert result.seasons["season"].to_list() == [12, 12]
    assert result.seasons["observed"].to_list() == [24, 30]
    assert result.gaps.height == 0
    points = result.points
    assert sorted(set(points["step"].to_list())) == [1, 2, 3, 4, 5, 6]  # months ahead
    assert points["ds"].dt.day().unique().to_list() == [1]
    overall = {row["model"]: row for row in result.overall.iter_rows(named=True)}
    assert set(overall) == {"seasonal_naive", "prophet", "ensemble", "recommended"}
    naive = overall["seasonal_naive"]
    assert naive["n"] == 12
    # the same month last year, scaled by the lag-12 MAE of the history: attendances
    # grew about 1-2% a year, so the naive misses by the growth (MASE above 1, sMAPE ~4%)
    assert naive["mase"] == pytest.approx(1.611, abs=0.001)
    assert naive["mase"] == pytest.approx(hand_seasonal_naive_mase(frame["y"].to_list(), [24, 30], 6))
    assert naive["smape"] == pytest.approx(4.10, abs=0.01)
    for row in overall.values():
        assert 0 < row["mase"] < 5 and 0 < row["smape"] < 15
        assert 0 <= row["coverage_95"] <= 100
    recommended = result.recommended.row(0, named=True)
    assert recommended["baseline_mase"] == naive["mase"]
    assert recommended["mase"] <= naive["mase"]


@pytest.mark.slow
@needs_files
def test_a_year_of_boston_weeks_backtests_weekly_and_says_why_season_52_falls_back() -> None:
    frame = load_boston_weekly()
    assert frame.height == 50  # 53 ISO weeks less two part weeks and the week of 2015-07-22
    result = backtest(frame, default_models("US", "MA", freq="W"), cutoffs=4, horizon=4)
    assert result.frequency == Frequency("W", 0)
    assert result.cutoffs == [dt.date(2015, 9, 7), dt.date(2015, 10, 5), dt.date(2015, 11, 2), dt.date(2015, 11, 30)]
    assert result.gaps["ds"].to_list() == [dt.date(2015, 7, 20)]  # one missing week
    assert result.seasons["season"].to_list() == [1, 1, 1, 1]
    lines = season_lines(result.seasons, result.frequency, "series_id")
    assert lines[1].startswith(
        "season: boston311: 1 at cutoff(s) 2015-09-07, 2015-10-05, 2015-11-02, 2015-11-30: "
        "34 weeks of history; season 52 needs 104 weeks (2 full years)"
    )
    naive = result.points.filter(pl.col("model") == "seasonal_naive")
    assert naive.height == 16 and sorted(set(naive["step"].to_list())) == [1, 2, 3, 4]
    first = naive.row(0, named=True)  # the previous week, repeated
    assert first["yhat"] == frame.filter(pl.col("ds") == dt.date(2015, 8, 31))["y"][0]
