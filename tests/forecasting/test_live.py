"""Live accuracy of stored runs against hand-computed errors and coverage (live_runs.py)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from forecasting import ForecastInputError
from forecasting.live import backtest_comparison, fleet_report, live_accuracy
from tests.forecasting.live_runs import day, hand_actuals, hand_history


def test_each_day_is_scored_against_the_latest_run_made_before_it() -> None:
    live = live_accuracy(hand_history(), hand_actuals())
    total = live.periods.filter(pl.col("series_id") == "total")
    assert total["ds"].to_list() == [day(d) for d in (5, 6, 7, 8, 9)]
    assert total["run_id"].to_list() == [1, 1, 2, 2, 2]
    assert total["lead"].to_list() == [1, 2, 1, 2, 3]
    assert total["yhat"].to_list() == [10, 10, 20, 20, 20]
    assert total["baseline_yhat"].to_list() == [12, 12, 16, 16, 16]
    assert total["inside_80"].to_list() == [True, False, True, False, True]
    assert total["inside_95"].to_list() == [True, True, True, False, True]


def test_error_bias_and_coverage_are_the_hand_computed_ones() -> None:
    overall = live_accuracy(hand_history(), hand_actuals()).overall
    total = overall.filter(pl.col("series_id") == "total").row(0, named=True)
    assert total["n"] == 5 and total["runs"] == 2
    assert (total["first_day"], total["last_day"]) == (day(5), day(9))
    assert total["mae"] == pytest.approx(3.0)
    assert total["wape"] == pytest.approx(100 * 15 / 95)
    assert total["bias"] == pytest.approx(-3.0)
    assert total["coverage_80"] == pytest.approx(60.0)
    assert total["coverage_95"] == pytest.approx(80.0)
    assert total["baseline_mae"] == pytest.approx(5.0)
    assert total["relative_mae"] == pytest.approx(0.6)


def test_closed_days_are_not_scored_and_a_lone_model_is_its_own_baseline() -> None:
    overall = live_accuracy(hand_history(), hand_actuals()).overall
    service = overall.filter(pl.col("series_id") == "service:marriage_notice").row(0, named=True)
    assert service["n"] == 1 and service["mae"] == pytest.approx(1.0)
    assert service["wape"] == pytest.approx(25.0)
    assert service["relative_mae"] == pytest.approx(1.0)


def test_by_lead_counts_weeks_ahead() -> None:
    by_lead = live_accuracy(hand_history(), hand_actuals()).by_lead
    assert by_lead.filter(pl.col("series_id") == "total")["weeks_ahead"].to_list() == [1]
    assert by_lead.filter(pl.col("series_id") == "total")["n"].to_list() == [5]


def test_a_later_run_with_the_same_data_end_wins() -> None:
    history = hand_history()
    again = history.filter(pl.col("run_id") == 2).with_columns(pl.lit(3, dtype=pl.Int64).alias("run_id"), pl.col("yhat") + 1)
    live = live_accuracy(pl.concat([history, again]), hand_actuals())
    total = live.periods.filter(pl.col("series_id") == "total")
    assert total["run_id"].to_list() == [1, 1, 3, 3, 3]
    assert total["yhat"].to_list() == [10, 10, 21, 21, 21]


def test_no_actual_after_any_run_gives_empty_frames() -> None:
    actuals = hand_actuals().filter(pl.col("ds") < day(5))
    live = live_accuracy(hand_history(), actuals)
    assert live.periods.height == 0 and live.overall.height == 0 and live.by_lead.height == 0


def test_a_forecast_dated_inside_its_runs_data_is_refused() -> None:
    history = hand_history().with_columns(pl.lit(day(30)).alias("data_end"))
    with pytest.raises(ForecastInputError, match="on or before their run's data_end"):
        live_accuracy(history, hand_actuals())


def test_missing_history_columns_are_named() -> None:
    with pytest.raises(ForecastInputError, match="data_end"):
        live_accuracy(hand_history().drop("data_end"), hand_actuals())


def test_live_beside_the_backtest() -> None:
    live = live_accuracy(hand_history(), hand_actuals())
    backtests = pl.DataFrame(
        {"series_id": ["total", "total", "total"], "model": ["weekday_mean", "seasonal_naive", "weekday_mean"],
         "step": [0, 0, 1], "n": [56, 56, 2], "mase": [0.5, 0.8, 0.4], "smape": [10.0, 12.0, 9.0],
         "coverage_80": [82.0, 90.0, 80.0], "coverage_95": [96.0, 98.0, 95.0], "width_95": [9.0, 12.0, 8.0],
         "recommended": [True, False, True]},
    )
    table = backtest_comparison(live, backtests, "total")
    expected = pl.DataFrame(
        {"measure": ["Days scored", "Inside 80% interval %", "Inside 95% interval %",
                     "Error against seasonal naive's (below 1 beats it)", "Mean absolute error per day", "WAPE %",
                     "Bias per day (+ too high)"],
         "live": [5.0, 60.0, 80.0, 0.6, 3.0, 100 * 15 / 95, -3.0],
         "backtest": [56.0, 82.0, 96.0, 0.625, None, None, None]},
    )
    assert_frame_equal(table, expected)
    assert backtest_comparison(live, backtests, "office:leeds").height == 0


def test_the_fleet_report_puts_live_beside_the_backtest_worst_wape_first() -> None:
    live = live_accuracy(hand_history(), hand_actuals())
    series = pl.DataFrame({"series_id": ["total", "service:marriage_notice"], "mase": [0.5, None], "baseline_mase": [0.8, None]})
    expected = pl.DataFrame(
        {"series_id": ["service:marriage_notice", "total"], "days": [1, 5], "runs": [1, 2], "wape": [25.0, 15.8],
         "bias": [1.0, -3.0], "coverage_80": [100.0, 60.0], "coverage_95": [100.0, 80.0], "live_vs_naive": [1.0, 0.6],
         "backtest_vs_naive": [None, 0.625]},
        schema_overrides={"days": pl.Int32, "runs": pl.Int32},
    )
    assert_frame_equal(fleet_report(live, series), expected)
