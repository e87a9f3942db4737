"""Live forecast accuracy against the backtest on a database, with replayed weekly runs.

    python -m bench.live_accuracy [--database URL] [--weeks 4] [--jobs 2] [--series ID ...]

Copies nothing: give it a database you may write runs into (default: a copy of
data/kpi.duckdb in a temporary folder). It stores `--weeks` runs made as if the data had
ended 1, 2, ... weeks before its last day (FleetSeries.until: the same code as
`python -m forecasting run`, its default 28-day horizon and 4 cutoffs), oldest first,
then scores each day of the last `--weeks` weeks against the latest run made before it
(forecasting.live) and prints, pooled over every series, the live WAPE, MAE relative to
seasonal naive and 80/95% coverage beside the same runs' backtests. Replayed runs are
not live forecasts in the strict sense (they were made after the fact), but nothing in
them saw the days they are scored on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from data.access import every_department
from data.database import DEFAULT_DUCKDB_PATH, create_engine
from forecasting.fleet import run_fleet
from forecasting.live import live_accuracy
from forecasting.store import forecast_history, latest_backtests, load_fleet_series, store_run


def pooled(live_overall: pl.DataFrame, periods: pl.DataFrame) -> dict[str, float]:
    """Live figures pooled over every scored day of every series."""
    error = (periods["yhat"] - periods["y"]).abs()
    return {
        "series": live_overall.height,
        "days": periods.height,
        "wape": round(100 * error.sum() / periods["y"].sum(), 1),
        "vs_naive": round(error.mean() / (periods["baseline_yhat"] - periods["y"]).abs().mean(), 3),
        "median_series_vs_naive": round(live_overall["relative_mae"].median(), 3),
        "cov80": round(100 * periods["inside_80"].mean(), 1),
        "cov95": round(100 * periods["inside_95"].mean(), 1),
    }


def backtest_pooled(backtests: pl.DataFrame) -> dict[str, float]:
    """The latest run's backtest of the recommended models, pooled the same way (by days)."""
    overall = backtests.filter(pl.col("step") == 0)
    chosen = overall.filter(pl.col("recommended"))
    naive = overall.filter(pl.col("model") == "seasonal_naive").select("series_id", pl.col("mase").alias("naive"))
    ratio = chosen.join(naive, on="series_id").with_columns((pl.col("mase") / pl.col("naive")).alias("ratio"))
    weigh = lambda c: round((chosen[c] * chosen["n"]).sum() / chosen["n"].sum(), 1)  # noqa: E731
    return {
        "series": chosen.height,
        "days": int(chosen["n"].sum()),
        "mase": round((chosen["mase"] * chosen["n"]).sum() / chosen["n"].sum(), 3),
        "median_series_vs_naive": round(ratio["ratio"].median(), 3),
        "cov80": weigh("coverage_80"),
        "cov95": weigh("coverage_95"),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_accuracy")
    parser.add_argument("--database", default=None)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--series", nargs="+", metavar="ID", help="only these series (default every series)")
    args = parser.parse_args(argv)
    folder = None
    url = args.database
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="live-accuracy-"))
        shutil.copy(DEFAULT_DUCKDB_PATH, folder / "kpi.duckdb")
        url = f"duckdb:///{folder / 'kpi.duckdb'}"
    engine = create_engine(url)
    try:
        fleet = load_fleet_series(engine, horizon=28)
        if args.series:
            fleet = fleet.subset(args.series)
        departments = list(every_department(engine))
        for weeks_back in range(args.weeks, -1, -1):
            made = fleet.data_end - dt.timedelta(weeks=weeks_back)
            started = time.perf_counter()
            result = run_fleet(fleet.until(made), horizon=28, cutoffs=4, jobs=args.jobs, country="GB", subdivision="ENG")
            run_id = store_run(engine, result, started_at=dt.datetime.combine(made + dt.timedelta(days=1), dt.time(6)))
            print(f"run {run_id}: data to {made}, {result.series.height} series, {time.perf_counter() - started:.0f} s", flush=True)
        first = fleet.data_end - dt.timedelta(weeks=args.weeks) + dt.timedelta(days=1)
        live = live_accuracy(forecast_history(engine, departments, first, fleet.data_end), fleet.values)
        print(f"live, {first} to {fleet.data_end} (each day against the latest replayed run before it):")
        print(pooled(live.overall, live.periods))
        print("by weeks ahead:", live.periods.with_columns(((pl.col("lead") - 1) // 7 + 1).alias("w")).group_by("w").agg(
            pl.len().alias("days"), (100 * (pl.col("yhat") - pl.col("y")).abs().sum() / pl.col("y").sum()).round(1).alias("wape")).sort("w").rows())
        print("backtest of the latest run (4 x 28 days, recommended models):")
        print(backtest_pooled(latest_backtests(engine, departments)))
    finally:
        engine.dispose()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
