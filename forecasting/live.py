"""How the stored forecasts did once the actuals arrived: live accuracy, beside the backtest.

Every stored run is kept (forecasting/README.md, "Stored runs"). For each past day of a
series this picks the forecast made by the latest run whose data ended before that day
(its lead: days from the run's data end to the day, 1 = the next day) and scores it
against what happened. Pure Polars; no I/O.

    live = live_accuracy(history, actuals)    # history: extract forecast_history
    live.periods    # series_id, ds, run_id, data_end, lead, model, y, yhat, lo80..hi95,
                    #   baseline_yhat, inside_80, inside_95
    live.overall    # series_id, n, runs, first_day, last_day, mae, wape, bias,
                    #   coverage_80, coverage_95, baseline_mae, relative_mae
    live.by_lead    # the same per weeks_ahead (1 = lead 1..7 days)

Measures (counts per day unless said): mae mean |y - yhat|; wape 100 x sum|y - yhat| /
sum y (percent; null when nothing happened); bias mean (yhat - y), positive = forecast
too high; coverage_80/95 percent of actuals inside the interval (bounds included);
relative_mae the model's MAE over the seasonal-naive forecast's MAE of the same runs and
days: below 1 beats the baseline, the live counterpart of the backtest's MASE / naive
MASE (the backtest's scale, the in-sample naive MAE, is the same for both). Closed days
(known zeros) and days without an actual (gaps) are not scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from forecasting._frame import DATE, SERIES, VALUE, ForecastInputError, require_columns
from forecasting.backtest import BASELINE

HISTORY_COLUMNS = (
    "run_id", "data_end", SERIES, DATE, "model", "recommended", "closed",
    "yhat", "lo80", "hi80", "lo95", "hi95",
)
MEASURES = ("n", "runs", "first_day", "last_day", "mae", "wape", "bias", "coverage_80",
            "coverage_95", "baseline_mae", "relative_mae")
PERIOD_SCHEMA = {
    SERIES: pl.String, DATE: pl.Date, "run_id": pl.Int64, "data_end": pl.Date, "lead": pl.Int32,
    "model": pl.String, VALUE: pl.Float64, "yhat": pl.Float64, "lo80": pl.Float64, "hi80": pl.Float64,
    "lo95": pl.Float64, "hi95": pl.Float64, "baseline_yhat": pl.Float64, "inside_80": pl.Boolean,
    "inside_95": pl.Boolean,
}


@dataclass(frozen=True)
class LiveAccuracy:
    """Live accuracy of stored forecasts: the scored days, and measures per series overall
    and per weeks ahead (module docstring)."""

    periods: pl.DataFrame
    overall: pl.DataFrame
    by_lead: pl.DataFrame


def live_accuracy(history: pl.DataFrame, actuals: pl.DataFrame) -> LiveAccuracy:
    """Score, for each series and past day, the forecast of the latest run made before it.

    history: stored forecasts of every run (HISTORY_COLUMNS; extract forecast_history),
        the recommended model's rows and seasonal naive's. actuals: series_id, ds, y
        (counts per day; a missing day is a gap, not a zero). "Latest" is the highest
        data_end below the day, ties to the highest run_id.
    """
    require_columns(history, {f"history column '{c}'": c for c in HISTORY_COLUMNS})
    require_columns(actuals, {"series column": SERIES, "date column": DATE, "value column": VALUE})
    if history.filter(pl.col(DATE) <= pl.col("data_end")).height:
        raise ForecastInputError("history has forecasts dated on or before their run's data_end; "
                                 "a run forecasts only the days after its data.")
    chosen = (
        history.filter(pl.col("recommended"))
        .sort("data_end", "run_id")
        .group_by(SERIES, DATE, maintain_order=True)
        .last()
    )
    baseline = history.filter(pl.col("model") == BASELINE).select(
        "run_id", SERIES, DATE, pl.col("yhat").alias("baseline_yhat")
    )
    periods = (
        chosen.filter(~pl.col("closed"))
        .join(actuals.select(SERIES, DATE, pl.col(VALUE).cast(pl.Float64)), on=[SERIES, DATE])
        .filter(pl.col(VALUE).is_not_null())
        .join(baseline, on=["run_id", SERIES, DATE], how="left")
        .with_columns(
            (pl.col(DATE) - pl.col("data_end")).dt.total_days().cast(pl.Int32).alias("lead"),
            pl.col(VALUE).is_between(pl.col("lo80"), pl.col("hi80")).alias("inside_80"),
            pl.col(VALUE).is_between(pl.col("lo95"), pl.col("hi95")).alias("inside_95"),
        )
        .select(list(PERIOD_SCHEMA))
        .cast(PERIOD_SCHEMA)  # type: ignore[arg-type]
        .sort(SERIES, DATE)
    )
    weeks = periods.with_columns(((pl.col("lead") - 1) // 7 + 1).cast(pl.Int32).alias("weeks_ahead"))
    return LiveAccuracy(
        periods=periods,
        overall=_measures(periods, [SERIES]),
        by_lead=_measures(weeks, [SERIES, "weeks_ahead"]),
    )


def _measures(periods: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    error = pl.col("yhat") - pl.col(VALUE)
    baseline_mae = (pl.col("baseline_yhat") - pl.col(VALUE)).abs().mean()
    actual_total = pl.col(VALUE).sum()
    return (
        periods.group_by(by)
        .agg(
            pl.len().cast(pl.Int32).alias("n"),
            pl.col("run_id").n_unique().cast(pl.Int32).alias("runs"),
            pl.col(DATE).min().alias("first_day"),
            pl.col(DATE).max().alias("last_day"),
            error.abs().mean().alias("mae"),
            pl.when(actual_total > 0).then(100 * error.abs().sum() / actual_total).alias("wape"),
            error.mean().alias("bias"),
            (100 * pl.col("inside_80").mean()).alias("coverage_80"),
            (100 * pl.col("inside_95").mean()).alias("coverage_95"),
            baseline_mae.alias("baseline_mae"),
            pl.when(baseline_mae > 0).then(error.abs().mean() / baseline_mae).alias("relative_mae"),
        )
        .sort(by)
    )


def backtest_comparison(live: LiveAccuracy, backtests: pl.DataFrame, series_id: str) -> pl.DataFrame:
    """One series' live measures beside its latest backtest's, row per measure.

    backtests: extract forecast_backtests (step 0 rows are over all steps). Columns:
    measure, live, backtest (null where the backtest has no such measure). Empty when the
    series has no scored live day.
    """
    row = live.overall.filter(pl.col(SERIES) == series_id)
    schema = {"measure": pl.String, "live": pl.Float64, "backtest": pl.Float64}
    if row.height == 0:
        return pl.DataFrame(schema=schema)
    scores = backtests.filter((pl.col(SERIES) == series_id) & (pl.col("step") == 0))
    model = scores.filter(pl.col("recommended"))
    naive = scores.filter(pl.col("model") == BASELINE)

    def first(frame: pl.DataFrame, column: str) -> float | None:
        return frame[column][0] if frame.height else None

    relative = None
    if model.height and naive.height and first(naive, "mase"):
        relative = first(model, "mase") / first(naive, "mase")  # type: ignore[operator]
    live_row = row.row(0, named=True)
    return pl.DataFrame(
        [
            ("Days scored", float(live_row["n"]), first(model, "n")),
            ("Inside 80% interval %", live_row["coverage_80"], first(model, "coverage_80")),
            ("Inside 95% interval %", live_row["coverage_95"], first(model, "coverage_95")),
            ("Error against seasonal naive's (below 1 beats it)", live_row["relative_mae"], relative),
            ("Mean absolute error per day", live_row["mae"], None),
            ("WAPE %", live_row["wape"], None),
            ("Bias per day (+ too high)", live_row["bias"], None),
        ],
        schema=schema,
        orient="row",
    )


def fleet_report(live: LiveAccuracy, series: pl.DataFrame) -> pl.DataFrame:
    """Live accuracy per series beside its backtest, for `python -m forecasting run`.

    series: series_id, mase, baseline_mase (the run's forecast_series). Columns:
    series_id, days, runs, wape, bias, coverage_80, coverage_95, live_vs_naive (relative
    MAE), backtest_vs_naive (MASE / naive MASE); rounded for print; only series with
    scored days, worst WAPE first.
    """
    backtest = series.select(
        SERIES, pl.when(pl.col("baseline_mase") > 0).then(pl.col("mase") / pl.col("baseline_mase")).alias("backtest_vs_naive")
    )
    return (
        live.overall.join(backtest, on=SERIES, how="left")
        .select(
            SERIES,
            pl.col("n").alias("days"),
            "runs",
            pl.col("wape").round(1),
            pl.col("bias").round(1),
            pl.col("coverage_80").round(1),
            pl.col("coverage_95").round(1),
            pl.col("relative_mae").round(3).alias("live_vs_naive"),
            pl.col("backtest_vs_naive").round(3),
        )
        .sort("wape", SERIES, descending=[True, False], nulls_last=True)
    )


__all__ = ["HISTORY_COLUMNS", "LiveAccuracy", "backtest_comparison", "fleet_report", "live_accuracy"]
