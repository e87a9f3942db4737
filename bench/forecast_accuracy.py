"""Forecast accuracy on real data: Boston 311 daily case volumes, 2015.

    python -m bench.forecast_accuracy [--csv ../shared/data/boston311_2015.csv.gz]

The series is the count of rows per OPEN_DT calendar date (one series, "boston311").
2015-07-22 has no rows at all: a missing day, left out, not a zero. Backtest: 8 cutoffs,
the last 8 non-overlapping 28-day windows ending on the last date (2015-12-31), so the
first cutoff is 2015-05-22 and the first fit has 141 days of history.

Prints, per model, MASE, sMAPE, coverage of the 80% and 95% intervals and the mean 95%
width, overall and by horizon week, plus mean seconds per series fit. "recommended" is
the backtest's pick (selected on these same windows, so optimistic); "recommended,
chosen online" picks at each cutoff the model with the best MASE on the earlier cutoffs
only (the ensemble at the first), an honest estimate of choosing by backtest.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from data.samples import shared_data_dir
from forecasting.backtest import RECOMMENDED, BacktestResult, backtest
from forecasting.models import ProphetForecaster, default_models

REPO_ROOT = Path(__file__).resolve().parent.parent
BOSTON_CSV = (shared_data_dir() or REPO_ROOT.parent / "shared" / "data") / "boston311_2015.csv.gz"
ONLINE = "recommended, chosen online"


def load_boston_daily(path: Path = BOSTON_CSV) -> pl.DataFrame:
    """Cases per OPEN_DT calendar date as (series_id, ds, y); days without rows absent."""
    return (
        pl.read_csv(path, columns=["OPEN_DT"], infer_schema_length=0)
        .select(
            pl.col("OPEN_DT")
            .str.strptime(pl.Datetime, "%m/%d/%Y %I:%M:%S %p")
            .dt.date()
            .alias("ds")
        )
        .group_by("ds")
        .len()
        .select(
            pl.lit("boston311").alias("series_id"), "ds", pl.col("len").cast(pl.Float64).alias("y")
        )
        .sort("ds")
    )


def bench_models(country: str = "US", subdivision: str = "MA") -> dict[str, object]:
    """The default candidates plus Prophet as it comes (no holidays, no transform)."""
    return {
        **default_models(country, subdivision),
        "prophet_defaults": ProphetForecaster(
            country=None, holiday_mode="none", log_transform=False, weekly_seasonality="auto"
        ),
        "prophet_us_holidays": ProphetForecaster(
            country=country, holiday_mode="each", log_transform=False, weekly_seasonality="auto"
        ),
    }


def online_choice(result: BacktestResult, first_choice: str = "ensemble") -> pl.DataFrame:
    """Points of a model picked at each cutoff by its MASE on earlier cutoffs only."""
    points = result.points.filter(pl.col("model") != RECOMMENDED)
    per_cutoff = points.group_by("series_id", "model", "cutoff").agg(
        ((pl.col("y") - pl.col("yhat")).abs() / pl.col("scale")).mean().alias("mase")
    )
    chosen = []
    for cutoff in result.cutoffs:
        earlier = per_cutoff.filter(pl.col("cutoff") < cutoff)
        for series_id in points["series_id"].unique().to_list():
            history = earlier.filter(pl.col("series_id") == series_id)
            if history.height == 0:
                model = first_choice
            else:
                ranked = history.group_by("model").agg(pl.col("mase").mean()).sort("mase", "model")
                model = ranked["model"][0]
            chosen.append((series_id, cutoff, model))
    picks = pl.DataFrame(chosen, schema=["series_id", "cutoff", "model"], orient="row")
    return points.join(picks, on=["series_id", "cutoff", "model"]).with_columns(
        pl.lit(ONLINE).alias("model")
    )


def accuracy_table(points: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """MASE, sMAPE (%), coverage 80/95 (%) and mean 95% width over the points."""
    error = (pl.col("y") - pl.col("yhat")).abs()
    return points.group_by(by, maintain_order=True).agg(
        pl.len().alias("n"),
        (error / pl.col("scale")).mean().round(3).alias("mase"),
        (200 * (error / (pl.col("y").abs() + pl.col("yhat").abs()))).mean().round(1).alias("smape"),
        (100 * pl.col("y").is_between(pl.col("lo80"), pl.col("hi80")).mean())
        .round(1)
        .alias("cov80"),
        (100 * pl.col("y").is_between(pl.col("lo95"), pl.col("hi95")).mean())
        .round(1)
        .alias("cov95"),
        (pl.col("hi95") - pl.col("lo95")).mean().round(0).alias("width95"),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the Boston backtest and print the accuracy tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=BOSTON_CSV)
    parser.add_argument("--cutoffs", type=int, default=8)
    parser.add_argument("--horizon", type=int, default=28)
    args = parser.parse_args(argv)

    frame = load_boston_daily(args.csv)
    models = bench_models()
    started = time.perf_counter()
    result = backtest(
        frame,
        models,
        cutoffs=args.cutoffs,
        horizon=args.horizon,
        candidates=["seasonal_naive", "weekday_mean", "prophet", "ensemble"],
    )
    elapsed = time.perf_counter() - started
    points = pl.concat(
        [
            result.points,
            result.points.join(
                result.recommended.select("series_id", "model"), on=["series_id", "model"]
            ).with_columns(pl.lit(RECOMMENDED).alias("model")),
            online_choice(result),
        ]
    )
    order = [*models, RECOMMENDED, ONLINE]
    overall = (
        accuracy_table(points, ["model"])
        .with_columns(
            pl.col("model").replace_strict({m: i for i, m in enumerate(order)}).alias("order"),
            pl.col("model")
            .replace_strict(result.seconds_per_fit, default=None)
            .round(3)
            .alias("s_per_fit"),
        )
        .sort("order")
        .drop("order")
    )
    by_week = accuracy_table(
        points.with_columns(((pl.col("step") - 1) // 7 + 1).alias("week")), ["model", "week"]
    ).pivot(on="week", index="model", values="mase")
    pl.Config.set_tbl_rows(50)
    pl.Config.set_tbl_cols(20)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)
    print(f"Boston 311 daily cases, {frame.height} days {frame['ds'].min()}..{frame['ds'].max()}")
    print(f"cutoffs: {', '.join(str(c) for c in result.cutoffs)}; horizon {args.horizon} days")
    print(f"date gaps: {', '.join(str(d) for d in result.gaps['ds'].to_list()) or 'none'}")
    print(f"recommended: {result.recommended.row(0, named=True)['model']}")
    print(overall)
    print("MASE by horizon week:")
    print(
        by_week.with_columns(
            pl.col("model").replace_strict({m: i for i, m in enumerate(order)}).alias("o")
        )
        .sort("o")
        .drop("o")
    )
    print(f"backtest wall time {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
