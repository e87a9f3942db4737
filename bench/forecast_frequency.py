"""Forecast accuracy at monthly and weekly frequency on real data.

    python -m bench.forecast_frequency [--horizon 6 --cutoffs 2] [--no-weekly]

Monthly: England's total A&E attendances per month (NHS England, April 2016 to March
2019: the sum over every provider and department type of `attendances`), backtested at
monthly frequency with season 12: the last 2 non-overlapping 6-month windows (cutoffs
2018-04-01 and 2018-10-01, 24 months of history before the first), every default model
against seasonal naive (the same month last year).

Weekly: Boston 311 cases per ISO week (Monday start) of 2015, whole weeks only (the two
part weeks at the ends and the week of 2015-07-22, a day without rows, are left out: the
last is reported as a missing week). 50 weeks are under the two years season 52 needs,
so the baseline and MASE scale fall back to the previous week, as printed.

Prints per model: n (scored periods), MASE, sMAPE (%), coverage of the 80% and 95%
intervals (%), as `python -m forecasting backtest` computes them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from bench.forecast_accuracy import BOSTON_CSV
from data.samples import shared_data_dir
from forecasting.backtest import RECOMMENDED, BacktestResult, backtest
from forecasting.cli import season_lines
from forecasting.models import default_models

REPO_ROOT = Path(__file__).resolve().parent.parent
NHS_AE_CSV = (
    shared_data_dir() or REPO_ROOT.parent / "shared" / "data"
) / "nhs_ae_attendances_2016_2019.csv"


def load_england_monthly(path: Path = NHS_AE_CSV) -> pl.DataFrame:
    """England's attendances per month as (series_id "england", ds first of month, y)."""
    return (
        pl.read_csv(path, columns=["period", "attendances"], schema_overrides={"period": pl.String})
        .group_by(pl.col("period").str.to_date("%Y-%m-%d").alias("ds"))
        .agg(pl.col("attendances").cast(pl.Float64).sum().alias("y"))
        .select(pl.lit("england").alias("series_id"), "ds", "y")
        .sort("ds")
    )


def load_boston_weekly(path: Path = BOSTON_CSV) -> pl.DataFrame:
    """Boston 311 cases per Monday-start week, whole weeks only (7 days with rows)."""
    days = pl.read_csv(path, columns=["OPEN_DT"], infer_schema_length=0).select(
        pl.col("OPEN_DT").str.strptime(pl.Datetime, "%m/%d/%Y %I:%M:%S %p").dt.date().alias("day")
    )
    return (
        days.group_by(pl.col("day").dt.truncate("1w").alias("ds"))
        .agg(pl.len().cast(pl.Float64).alias("y"), pl.col("day").n_unique().alias("days"))
        .filter(pl.col("days") == 7)
        .select(pl.lit("boston311").alias("series_id"), "ds", "y")
        .sort("ds")
    )


def accuracy_table(result: BacktestResult) -> pl.DataFrame:
    """model, n, MASE, sMAPE, coverage 80/95, and MASE relative to seasonal naive."""
    overall = result.overall.filter(pl.col("model") != RECOMMENDED)
    baseline = overall.filter(pl.col("model") == "seasonal_naive")["mase"][0]
    return overall.select(
        "model",
        "n",
        pl.col("mase").round(3),
        pl.col("smape").round(2),
        pl.col("coverage_80").round(1).alias("cov80"),
        pl.col("coverage_95").round(1).alias("cov95"),
        (pl.col("mase") / baseline).round(3).alias("mase_vs_naive"),
    ).sort("mase")


def report(title: str, result: BacktestResult, horizon: int, seconds: float) -> None:
    frequency = result.frequency
    print(title)
    print(f"frequency: {frequency.describe()}")
    print(
        f"cutoffs: {', '.join(str(c) for c in result.cutoffs)}; horizon {frequency.units(horizon)}"
    )
    for line in season_lines(result.seasons, frequency, "series_id"):
        print(line)
    gaps = ", ".join(str(d) for d in result.gaps["ds"].to_list()) or "none"
    print(f"missing {frequency.unit}s: {gaps}")
    print(f"recommended: {result.recommended['model'][0]}")
    print(accuracy_table(result))
    print(f"backtest wall time {seconds:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=int, default=6, help="months per window (default 6)")
    parser.add_argument("--cutoffs", type=int, default=2, help="monthly windows (default 2)")
    parser.add_argument("--no-weekly", action="store_true", help="skip the Boston weekly run")
    args = parser.parse_args(argv)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)

    monthly = load_england_monthly()
    started = time.perf_counter()
    result = backtest(
        monthly, default_models("GB", "ENG", freq="M"), cutoffs=args.cutoffs, horizon=args.horizon
    )
    report(
        f"England A&E attendances per month, {monthly.height} months "
        f"{monthly['ds'].min()}..{monthly['ds'].max()}",
        result,
        args.horizon,
        time.perf_counter() - started,
    )
    if not args.no_weekly:
        weekly = load_boston_weekly()
        started = time.perf_counter()
        result = backtest(weekly, default_models("US", "MA", freq="W"), cutoffs=4, horizon=4)
        print()
        report(
            f"Boston 311 cases per week, {weekly.height} whole weeks "
            f"{weekly['ds'].min()}..{weekly['ds'].max()}",
            result,
            4,
            time.perf_counter() - started,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
