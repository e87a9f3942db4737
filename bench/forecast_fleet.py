"""The forecast fleet end to end: read, backtest, forecast and store every series.

    python -m bench.forecast_fleet [--database URL] [--scale 1] [--jobs 2] [--cutoffs 4]

Without --database it generates a fresh world (scale 1 by default: about 1.1 million
cases, 3 years, 44 series) into a temporary DuckDB file, as `python -m data generate`
would. Prints the fleet's wall time (read, backtest and forecast, store), the seconds of
a process per series, which model each series recommends, and the accuracy table over
every series' backtest: per model, the MASE pooled over all scored days and the
median of the per-series MASE, sMAPE, and the coverage of the 80% and 95% intervals.
The goal (issue 5): the whole scale-1 fleet in at most 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import polars as pl

from data.access import every_department
from data.build import build
from data.database import create_engine, describe
from data.generate import Scenario
from forecasting.fleet import accuracy_summary, run_fleet
from forecasting.store import latest_backtests, load_fleet_series, store_run

GOAL_SECONDS = 120.0


def fleet_accuracy(backtests: pl.DataFrame) -> pl.DataFrame:
    """Per model over all series (step 0 rows): pooled and median MASE, sMAPE, coverage.

    Pooled figures weight each series by its scored days; "recommended" repeats each
    series' recommended model.
    """
    overall = backtests.filter(pl.col("step") == 0)
    rows = pl.concat(
        [overall, overall.filter(pl.col("recommended")).with_columns(pl.lit("recommended").alias("model"))]
    )
    weighted = [
        ((pl.col(name) * pl.col("n")).sum() / pl.col("n").sum()).round(digits).alias(label)
        for name, label, digits in (
            ("mase", "mase", 3),
            ("smape", "smape", 1),
            ("coverage_80", "cov80", 1),
            ("coverage_95", "cov95", 1),
        )
    ]
    order = {"seasonal_naive": 0, "weekday_mean": 1, "prophet": 2, "ensemble": 3, "recommended": 9}
    return (
        rows.group_by("model")
        .agg(
            pl.len().alias("series"),
            pl.col("n").sum().alias("days"),
            *weighted,
            pl.col("mase").median().round(3).alias("median_mase"),
            pl.col("mase").max().round(3).alias("worst_mase"),
        )
        .with_columns(pl.col("model").replace_strict(order, default=5).alias("_order"))
        .sort("_order", "model")
        .drop("_order")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=None, help="an existing database (default: generate one)")
    parser.add_argument("--scale", type=float, default=1.0, help="scale of the generated world (default 1)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cutoffs", type=int, default=4)
    parser.add_argument("--horizon", type=int, default=28)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="forecast_fleet_") as folder:
        url = args.database
        if url is None:
            url = f"duckdb:///{Path(folder) / 'fleet.duckdb'}"
            started = time.perf_counter()
            build(url, Scenario(scale=args.scale), quiet=True)
            print(f"generated scale {args.scale:g} into {url} in {time.perf_counter() - started:.1f} s")
        engine = create_engine(url)
        started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        started = time.perf_counter()
        fleet = load_fleet_series(engine, horizon=args.horizon)
        read = time.perf_counter() - started
        result = run_fleet(
            fleet,
            horizon=args.horizon,
            cutoffs=args.cutoffs,
            jobs=args.jobs,
            country="GB",
            subdivision="ENG",
        )
        stored = time.perf_counter()
        run_id = store_run(engine, result, started_at=started_at, seconds=stored - started)
        store = time.perf_counter() - stored
        total = time.perf_counter() - started
        backtests = latest_backtests(engine, list(every_department(engine)))
        where = describe(engine)
        engine.dispose()

    count = result.series.height
    print(f"{count} series from {where}, data to {result.data_end}, horizon {args.horizon} days, "
          f"{len(result.cutoffs)} cutoffs ({', '.join(str(c) for c in result.cutoffs)}); run {run_id}")
    print(
        f"fleet wall time {total:.1f} s (goal {GOAL_SECONDS:.0f} s): read {read:.1f} s, backtest and "
        f"forecast {result.seconds:.1f} s on {result.jobs} processes, store {store:.1f} s"
    )
    busy = result.series["seconds"]
    print(
        f"per series: {total / count:.2f} s of wall time; {result.seconds * result.jobs / count:.2f} s "
        f"of a process; task median {busy.median():.2f} s, max {busy.max():.2f} s"
    )
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print("recommended model per series (MASE below 1 beats the in-sample seasonal naive):")
        print(accuracy_summary(result).with_columns(pl.col("^median.*$").round(3)))
        print("backtest accuracy over the fleet (pooled over scored days; median over series):")
        print(fleet_accuracy(backtests))
    worse = result.series.filter(pl.col("mase") > pl.col("baseline_mase"))
    print(f"series whose recommendation scores worse than seasonal naive: {worse.height}")
    if not result.skipped.is_empty():
        print(f"not forecast: {result.skipped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
