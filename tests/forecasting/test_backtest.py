"""Rolling-origin backtest: no look-ahead, scoring, recommendation, gaps."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from forecasting import ForecastInputError
from forecasting.backtest import backtest, recommended_forecast, rolling_cutoffs
from forecasting.models import ProphetForecaster, SeasonalNaiveForecaster, WeekdayMeanForecaster
from tests.forecasting.frames import noisy_weekly, weekly_frame

FAST_MODELS = {
    "seasonal_naive": SeasonalNaiveForecaster(),
    "weekday_mean": WeekdayMeanForecaster(country=None),
}


def test_cutoffs_are_the_last_non_overlapping_windows() -> None:
    cutoffs = rolling_cutoffs(dt.date(2015, 12, 31), 8, 28)
    assert cutoffs[0] == dt.date(2015, 5, 22) and cutoffs[-1] == dt.date(2015, 12, 4)
    assert all((b - a).days == 28 for a, b in zip(cutoffs, cutoffs[1:], strict=False))


def test_a_spike_after_a_cutoff_cannot_change_that_cutoffs_forecast() -> None:
    frame = noisy_weekly(120)
    result = backtest(frame, FAST_MODELS, cutoffs=2, horizon=28)
    first_cutoff = result.cutoffs[0]
    spiked = frame.with_columns(
        pl.when(pl.col("ds") >= first_cutoff)
        .then(pl.col("y") * 50)
        .otherwise(pl.col("y"))
        .alias("y")
    )
    again = backtest(spiked, FAST_MODELS, cutoffs=2, horizon=28)
    columns = ["series_id", "model", "ds", "yhat", "lo80", "hi80", "lo95", "hi95", "scale"]
    before = result.points.filter(pl.col("cutoff") == first_cutoff).select(columns)
    after = again.points.filter(pl.col("cutoff") == first_cutoff).select(columns)
    assert_frame_equal(before, after)
    later = again.points.filter(pl.col("cutoff") == result.cutoffs[1])
    assert not later["yhat"].equals(
        result.points.filter(pl.col("cutoff") == result.cutoffs[1])["yhat"]
    )


def test_prophet_backtest_does_not_look_ahead_either() -> None:
    frame = noisy_weekly(84)
    models = {
        "seasonal_naive": SeasonalNaiveForecaster(),
        "prophet": ProphetForecaster(uncertainty_samples=100),
    }
    cutoff = [dt.date(2024, 2, 26)]
    spiked = frame.with_columns(
        pl.when(pl.col("ds") >= cutoff[0]).then(1e6).otherwise(pl.col("y")).alias("y")
    )
    plain = backtest(frame, models, cutoffs=cutoff, horizon=7).points.select(
        "model", "ds", "yhat", "hi95"
    )
    assert_frame_equal(
        plain,
        backtest(spiked, models, cutoffs=cutoff, horizon=7).points.select(
            "model", "ds", "yhat", "hi95"
        ),
    )


def test_metrics_per_step_and_overall_by_hand() -> None:
    # two identical weeks, then a week 10% higher: the seasonal naive misses by 10%
    week = [10.0, 20, 30, 40, 50, 60, 70]
    frame = weekly_frame({"a": week * 2 + [1.1 * v for v in week]})
    result = backtest(
        frame,
        {"seasonal_naive": SeasonalNaiveForecaster()},
        cutoffs=1,
        horizon=7,
        min_train_days=14,
    )
    overall = result.overall.filter(pl.col("model") == "seasonal_naive").row(0, named=True)
    # in-sample seasonal-naive MAE of two identical weeks is 0: MASE undefined (inf)
    assert overall["n"] == 7
    assert overall["smape"] == pytest.approx(100 * 2 * 0.1 / 2.1)
    steps = result.per_horizon.filter(pl.col("model") == "seasonal_naive")
    assert steps["step"].to_list() == list(range(1, 8))


def test_mase_uses_the_training_seasonal_naive_scale() -> None:
    week1 = [10.0, 20, 30, 40, 50, 60, 70]
    week2 = [v + 2 for v in week1]  # in-sample seasonal-naive MAE = 2
    test = [v + 6 for v in week1]  # forecast repeats week2: error 4 each day
    frame = weekly_frame({"a": week1 + week2 + test})
    result = backtest(
        frame,
        {"seasonal_naive": SeasonalNaiveForecaster()},
        cutoffs=1,
        horizon=7,
        min_train_days=14,
    )
    row = result.overall.filter(pl.col("model") == "seasonal_naive").row(0, named=True)
    assert row["mase"] == pytest.approx(2.0)
    assert result.points["scale"].unique().to_list() == [2.0]


def test_recommendation_is_never_worse_than_seasonal_naive() -> None:
    # a pure weekly cycle: seasonal naive is perfect, the weekday mean ties at best
    exact = weekly_frame({"exact": [10.0, 20, 30, 40, 50, 5, 1] * 12})
    noisy = noisy_weekly(84).with_columns(pl.lit("noisy").alias("series_id"))
    result = backtest(pl.concat([exact, noisy]), FAST_MODELS, cutoffs=2, horizon=14)
    chosen = dict(result.recommended.select("series_id", "model").iter_rows())
    assert chosen["exact"] == "seasonal_naive"
    rec = result.recommended.filter(pl.col("series_id") == "noisy").row(0, named=True)
    assert rec["mase"] <= rec["baseline_mase"]
    recommended_rows = result.overall.filter(pl.col("model") == "recommended")
    assert recommended_rows.height == 2


def test_gaps_are_reported_and_skipped_in_scoring() -> None:
    frame = noisy_weekly(84).filter(pl.col("ds") != dt.date(2024, 3, 20))
    result = backtest(frame, FAST_MODELS, cutoffs=1, horizon=14)
    assert result.gaps.rows() == [("s", dt.date(2024, 3, 20))]
    assert dt.date(2024, 3, 20) not in result.points["ds"].to_list()
    assert result.overall.filter(pl.col("model") == "seasonal_naive")["n"].to_list() == [13]


def test_closed_days_are_not_scored_and_forecast_zero() -> None:
    frame = noisy_weekly(84)
    closed = [("s", dt.date(2024, 3, 18)), ("s", dt.date(2024, 3, 19))]
    result = backtest(frame, FAST_MODELS, cutoffs=1, horizon=14, closed_days=closed)
    assert result.overall["n"].unique().to_list() == [12]
    forecast = recommended_forecast(
        frame, result.recommended, FAST_MODELS, horizon=7, closed_days=[("s", dt.date(2024, 3, 25))]
    )
    assert forecast.filter(pl.col("ds") == dt.date(2024, 3, 25))["yhat"].to_list() == [0]
    assert forecast.columns == ["series_id", "ds", "yhat", "lo80", "hi80", "lo95", "hi95", "model"]


@pytest.mark.slow  # starts spawned worker processes: 17 s at load 6 to 17
def test_parallel_spawn_workers_give_the_same_result() -> None:
    frame = pl.concat(
        [
            noisy_weekly(84, seed=s).with_columns(pl.lit(f"s{s}").alias("series_id"))
            for s in range(3)
        ]
    )
    serial = backtest(frame, FAST_MODELS, cutoffs=2, horizon=14)
    parallel = backtest(frame, FAST_MODELS, cutoffs=2, horizon=14, n_jobs=2)
    assert_frame_equal(serial.overall, parallel.overall)


def test_backtest_errors_name_the_fix() -> None:
    frame = noisy_weekly(84)
    with pytest.raises(ForecastInputError, match="must include the baseline 'seasonal_naive'"):
        backtest(frame, {"weekday_mean": WeekdayMeanForecaster()}, cutoffs=1)
    with pytest.raises(ForecastInputError, match="open days before the first cutoff"):
        backtest(noisy_weekly(40), FAST_MODELS, cutoffs=1, horizon=28)
    with pytest.raises(ForecastInputError, match="horizon must be at least 1"):
        backtest(frame, FAST_MODELS, horizon=-1)
    with pytest.raises(ForecastInputError, match="Unknown candidate"):
        backtest(frame, FAST_MODELS, cutoffs=1, candidates=["arima"])


def test_calibration_reuses_earlier_cutoffs_without_changing_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from forecasting.models import FORECAST_CACHE, ConformalForecaster

    frame = pl.concat(
        [
            noisy_weekly(200, seed=s).with_columns(pl.lit(f"s{s}").alias("series_id"))
            for s in range(2)
        ]
    )
    models = {
        "seasonal_naive": SeasonalNaiveForecaster(),
        "calibrated": ConformalForecaster(WeekdayMeanForecaster(country=None)),
    }
    FORECAST_CACHE.clear()
    capacity = FORECAST_CACHE.max_entries
    FORECAST_CACHE.max_entries = 0  # every calibration window refitted
    try:
        cold = backtest(
            frame, models, cutoffs=3, horizon=28, closed_days=[("s1", dt.date(2024, 6, 3))]
        )
    finally:
        FORECAST_CACHE.max_entries = capacity
    hits = []
    lookup = FORECAST_CACHE.get
    monkeypatch.setattr(
        FORECAST_CACHE, "get", lambda key: hits.append(lookup(key) is not None) or lookup(key)
    )
    warm = backtest(frame, models, cutoffs=3, horizon=28, closed_days=[("s1", dt.date(2024, 6, 3))])
    # cutoffs 2 and 3 find 3 and 4 calibration windows already forecast, per series
    assert sum(hits) == 2 * 7
    assert_frame_equal(cold.points, warm.points)


def test_spawn_workers_do_not_rerun_the_callers_main_script(tmp_path, monkeypatch) -> None:
    """Inside a Streamlit session (or an AppTest) the main module is the page being run; a
    spawned worker re-running it crashed and the pool said every series was 'terminated
    abruptly'. Here the main module is a script that fails when run."""
    import sys
    import types

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('a worker ran the main script again')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    frame = pl.concat([noisy_weekly(84, seed=s).with_columns(pl.lit(f"s{s}").alias("series_id")) for s in range(2)])
    parallel = backtest(frame, FAST_MODELS, cutoffs=1, horizon=7, n_jobs=2)
    assert_frame_equal(backtest(frame, FAST_MODELS, cutoffs=1, horizon=7).overall, parallel.overall)
    assert sys.modules["__main__"] is page  # put back
