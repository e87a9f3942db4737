"""Command line: ``python -m anomalies detect|detect-csv``.

``detect`` flags every KPI series of the database and stores the run; ``detect-csv``
flags the series of an analyst's own CSV. ``python -m forecasting detect|anomalies``
are the old names of the same commands (see ALIASES). Errors the user can fix raise
ForecastInputError, DatabaseError or AnomalyError and print as one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time

import polars as pl

from anomalies import AnomalyError
from forecasting.cli import DATABASE_HELP, Command, run
from forecasting.progress import marking
from forecasting.series_id import format_id

# --------------------------------------------------------------------------- detect


def configure_detect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default=None, help=DATABASE_HELP)
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    parser.add_argument(
        "--if-missing", action="store_true",
        help="do nothing when a stored run is already up to date with the data (used by make run)",
    )


def run_detect(args: argparse.Namespace) -> int:
    from anomalies.store import run_detection, store_detection
    from data.database import create_engine, describe

    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    started = time.perf_counter()
    engine = create_engine(args.database)
    say = (lambda _m: None) if args.quiet else (lambda message: print(f"  {message}", flush=True))
    if args.if_missing:
        from forecasting.store import current_run

        run = current_run(engine, "anomaly_runs")
        if run is not None:
            print(f"run {run['run_id']} is up to date with the data (to {run['data_end']}): nothing to do")
            engine.dispose()
            return 0
    try:
        if not args.quiet:
            print(f"detecting anomalies in {describe(engine)}", flush=True)
        with marking(str(engine.url), "detect"):  # the Anomalies page says it is running
            detection = run_detection(engine, progress=say)
            seconds = time.perf_counter() - started
            run_id = store_detection(engine, detection, started_at=started_at, seconds=seconds)
    finally:
        engine.dispose()
    flags = detection.flags
    counts = ", ".join(
        f"{'daily' if row['grain'] == 'day' else 'weekly'} {row['detector']}: {row['len']}"
        for row in flags.group_by("grain", "detector").len().sort("grain", "detector").iter_rows(named=True)
    )
    print(
        f"run {run_id} stored: {flags.height} flags on {detection.series_count} series, data "
        f"{detection.data_first} to {detection.data_end}, {time.perf_counter() - started:.1f} s"
        + (f" ({counts})" if counts else "")
    )
    if not args.quiet:
        recent = flags.filter(pl.col("first_day") >= detection.data_end - dt.timedelta(days=27)).sort("first_day", descending=True)
        print(f"flags of the last 28 days: {recent.height}")
        for row in recent.head(15).iter_rows(named=True):
            print(f"  {row['first_day']} {row['grain']:<4} {format_id(row['scope_kind'], row['scope_id'])}: {row['explanation']}")
    return 0


# --------------------------------------------------------------------------- detect-csv


def configure_detect_csv(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", required=True, help="long CSV: one row per series and day")
    parser.add_argument("--id-col", default="series_id", help="series id column (default series_id)")
    parser.add_argument("--date-col", default="ds", help="date column (default ds)")
    parser.add_argument("--value-col", default="y", help="value column (default y)")
    parser.add_argument("--date-format", default="%Y-%m-%d", help="strftime format of the dates (default %%Y-%%m-%%d)")
    parser.add_argument("--country", default=None, help="public holidays of this country are known days, e.g. GB (default none)")
    parser.add_argument("--subdivision", default=None, help="holiday subdivision, e.g. ENG")
    parser.add_argument("--kind", choices=("count", "rate", "value"), default="count",
                        help="count: Poisson noise (default); rate: a percentage 0-100; value: any measure")
    parser.add_argument("--format", choices=("table", "csv"), default="table")


def run_detect_csv(args: argparse.Namespace) -> int:
    from pathlib import Path

    from anomalies.own import flag_csv_series
    from forecasting.cli import read_series_csv

    frame = read_series_csv(Path(args.csv), args.id_col, args.date_col, args.value_col, args.date_format)
    country = None if args.country is None or args.country.lower() == "none" else args.country
    flags, summary = flag_csv_series(
        frame, id_col=args.id_col, date_col=args.date_col, value_col=args.value_col, country=country,
        subdivision=args.subdivision, kind=args.kind,
    )
    if args.format == "csv":
        sys.stdout.write(flags.write_csv())
        print(summary, file=sys.stderr)
        return 0
    print(summary)
    if flags.height:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_width_chars=200):
            print(flags)
    return 0


PROG = "python -m anomalies"
DESCRIPTION = "Anomaly flags on every KPI series, and on the series of a CSV."
DETECT = Command("detect", "flag anomalies in every KPI series of the database and store them", configure_detect, run_detect)
DETECT_CSV = Command("detect-csv", "flag the anomalous days of every series in a CSV", configure_detect_csv, run_detect_csv)
COMMANDS = [DETECT, DETECT_CSV]
# The names ``python -m forecasting`` has always had for these commands.
ALIASES = [DETECT, dataclasses.replace(DETECT_CSV, name="anomalies")]


def main(argv: list[str] | None = None) -> int:
    return run(argv, COMMANDS, PROG, DESCRIPTION, errors=(AnomalyError,))
