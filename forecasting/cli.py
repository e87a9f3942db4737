"""Command line: ``python -m forecasting <command> ...``.

Each subcommand is a `Command` in COMMANDS: a name, a help line, a function adding its
arguments and a function running it (returning the exit code). To add one, write those
two functions and append a Command. Errors the user can fix (ForecastInputError,
data.database.DatabaseError and the `errors` a program passes to `run`) print one line
"error: ..." and exit with status 2. `build_parser` and `run` also serve
``python -m anomalies`` and ``python -m notify``; forecasting/__main__.py adds their
commands under the old names (detect, anomalies, notify).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from forecasting._frame import ForecastInputError, require_columns
from forecasting.frequency import MIN_SEASONS, Frequency, season_reason
from forecasting.progress import marking

DATABASE_HELP = "SQLAlchemy URL (default $KPI_DATABASE_URL, else data/kpi.duckdb)"


@dataclass(frozen=True)
class Command:
    """One subcommand: `configure` adds its arguments, `run` executes it."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------- backtest


def _configure_backtest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--csv", required=True, type=Path, help="long CSV: one row per series and period"
    )
    parser.add_argument(
        "--id-col", default="series_id", help="series id column (default series_id)"
    )
    parser.add_argument("--date-col", default="ds", help="date column (default ds)")
    parser.add_argument("--value-col", default="y", help="count column (default y)")
    parser.add_argument("--date-format", default="%Y-%m-%d", help="strftime format of the dates")
    parser.add_argument(
        "--country",
        default=None,
        help="public-holiday country code, e.g. US (default: no holidays)",
    )
    parser.add_argument("--subdivision", default=None, help="holiday subdivision, e.g. MA")
    parser.add_argument(
        "--closed-on-holidays",
        action="store_true",
        help="every series is closed on public holidays (known zeros)",
    )
    parser.add_argument(
        "--freq",
        type=str.upper,
        choices=("AUTO", "D", "W", "M"),
        default="AUTO",
        help="D daily, W weekly, M monthly (default auto: read from the dates)",
    )
    parser.add_argument(
        "--horizon",
        type=int,
        default=None,
        help="periods forecast per cutoff, in the series' unit (default 28 days, 13 weeks, 6 months)",
    )
    parser.add_argument(
        "--cutoffs",
        type=int,
        default=None,
        help="rolling origins, the last non-overlapping windows of --horizon periods "
        "(default 8 daily, 4 weekly, 2 monthly)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--format", choices=("table", "csv"), default="table")
    parser.add_argument(
        "--forecast-out", type=Path, help="write the recommended forecasts here (CSV)"
    )


def read_series_csv(
    path: Path, id_col: str, date_col: str, value_col: str, date_format: str
) -> pl.DataFrame:
    """Read a long CSV and parse its dates; raise ForecastInputError on any problem."""
    if not path.is_file():
        raise ForecastInputError(f"file not found: {path}")
    try:
        frame = pl.read_csv(
            path,
            infer_schema_length=10_000,
            schema_overrides={date_col: pl.String, id_col: pl.String},
        )
    except pl.exceptions.PolarsError as error:
        raise ForecastInputError(
            f"cannot read {path} as CSV: {str(error).splitlines()[0]}"
        ) from error
    require_columns(frame, {"series id": id_col, "date": date_col, "value": value_col})
    parsed = frame[date_col].str.strip_chars().str.strptime(pl.Date, date_format, strict=False)
    bad = frame.filter(parsed.is_null() & frame[date_col].is_not_null())[date_col]
    if bad.len():
        raise ForecastInputError(
            f"column '{date_col}' has {bad.len()} value(s) that do not match the date format "
            f"{date_format!r}, e.g. {bad[0]!r}; pass --date-format (e.g. '%m/%d/%Y')."
        )
    return frame.with_columns(parsed.alias(date_col))


def _run_backtest(args: argparse.Namespace) -> int:
    from forecasting._frame import validate_series_frame
    from forecasting.backtest import RECOMMENDED, backtest, recommended_forecast
    from forecasting.calendar import holiday_closed_days
    from forecasting.frequency import DEFAULT_CUTOFFS, DEFAULT_HORIZONS, resolve_frequency
    from forecasting.models import SKIPPED_MODELS, default_models

    frame = read_series_csv(args.csv, args.id_col, args.date_col, args.value_col, args.date_format)
    frequency = resolve_frequency(
        validate_series_frame(frame, args.id_col, args.date_col, args.value_col), args.freq
    )
    horizon = args.horizon if args.horizon is not None else DEFAULT_HORIZONS[frequency.code]
    cutoffs = args.cutoffs if args.cutoffs is not None else DEFAULT_CUTOFFS[frequency.code]
    country = None if args.country is None or args.country.lower() == "none" else args.country
    models = default_models(country, args.subdivision, freq=frequency.code)
    closed = None
    if args.closed_on_holidays:
        if country is None:
            raise ForecastInputError("--closed-on-holidays needs a --country.")
        if frequency.code != "D":
            raise ForecastInputError(
                f"--closed-on-holidays is for daily series; this one is {frequency.label}, "
                "and its public holidays count as fewer working days in the period instead."
            )
        dates = frame[args.date_col]
        closed = holiday_closed_days(
            frame[args.id_col].unique().to_list(),
            dates.min(),
            dates.max() + dt.timedelta(days=horizon),
            country,
            args.subdivision,
            id_col=args.id_col,
            date_col=args.date_col,
        )
    names = dict(id_col=args.id_col, date_col=args.date_col, value_col=args.value_col)
    result = backtest(
        frame,
        models,
        cutoffs=cutoffs,
        horizon=horizon,
        closed_days=closed,
        n_jobs=args.jobs,
        freq=frequency.code,
        **names,
    )
    chosen = dict(result.recommended.select(args.id_col, "model").iter_rows())
    table = (
        result.overall.filter(pl.col("model") != RECOMMENDED)
        .with_columns(
            (
                pl.col("model")
                == pl.col(args.id_col).replace_strict(chosen, return_dtype=pl.String)
            ).alias("recommended"),
            pl.col("mase").round(3),
            pl.col("smape").round(1),
            pl.col("coverage_80").round(1),
            pl.col("coverage_95").round(1),
        )
        .select(
            args.id_col, "model", "n", "mase", "smape", "coverage_80", "coverage_95", "recommended"
        )
    )
    unit = frequency.unit
    notes = [
        f"gaps: {series_id}: {part.height} missing {unit}(s): "
        + ", ".join(str(d) for d in part[args.date_col].to_list())
        for (series_id,), part in result.gaps.partition_by(
            args.id_col, as_dict=True, maintain_order=True
        ).items()
    ] or ["gaps: none"]
    unscored = sorted(
        set(frame[args.id_col].cast(pl.String).to_list())
        - set(result.overall[args.id_col].to_list())
    )
    if unscored:
        notes.append(
            f"not backtested (under {frequency.min_train} open {unit}s before every cutoff, "
            f"forecast with seasonal_naive): {', '.join(unscored)}"
        )
    header = [
        f"frequency: {frequency.describe()}"
        + (" (--freq)" if args.freq != "AUTO" else ", read from the dates"),
        f"backtest: {len(result.cutoffs)} cutoffs ({', '.join(str(c) for c in result.cutoffs)}), "
        f"horizon {frequency.units(horizon)}",
        *season_lines(result.seasons, frequency, args.id_col),
    ]
    if frequency.code != "D":
        header += [f"skipped: {name}: {why}" for name, why in SKIPPED_MODELS.items()]
    if args.format == "csv":
        sys.stdout.write(table.write_csv())
        for line in [*header, *notes]:
            print(line, file=sys.stderr)
    else:
        for line in header:
            print(line)
        holidays = f"{country}/{args.subdivision}" if country and args.subdivision else country
        counted = "" if frequency.code == "D" or not holidays else f" (as working days per {unit})"
        print(f"public holidays: {holidays or 'none (pass --country, e.g. --country US)'}{counted}")
        with pl.Config(
            tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True
        ):
            print(table)
        for line in notes:
            print(line)
    if args.forecast_out:
        forecast = recommended_forecast(
            frame,
            result.recommended,
            models,
            horizon=horizon,
            closed_days=closed,
            freq=frequency.code,
            **names,
        )
        forecast.write_csv(args.forecast_out)
        if args.format == "table":
            print(
                f"wrote {forecast.height} forecast rows ({frequency.units(horizon)} per series, "
                f"{frequency.label}) to {args.forecast_out}"
            )
    return 0


def season_lines(seasons: pl.DataFrame, frequency: Frequency, id_col: str) -> list[str]:
    """The season of the baseline and MASE scale, and each series that fell back, in words."""
    season = frequency.season
    short = seasons.filter(pl.col("season") != season)
    where = (
        f" where a series has {frequency.units(MIN_SEASONS * season)} before a cutoff"
        if short.height
        else ""
    )
    lines = [f"season: {frequency.units(season)} (seasonal naive and the MASE scale){where}"]
    for (series_id,), part in short.partition_by(id_col, as_dict=True, maintain_order=True).items():
        at = ", ".join(str(c) for c in part["cutoff"].to_list())
        lines.append(
            f"season: {series_id}: 1 at cutoff(s) {at}: "
            + season_reason(frequency, int(part["observed"].min()))
        )
    return lines


# --------------------------------------------------------------------------- staffing


def _configure_staffing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calls", type=float, required=True, help="calls offered in the interval")
    parser.add_argument("--interval-minutes", type=float, default=30)
    parser.add_argument("--aht-seconds", type=float, required=True, help="average handle time")
    parser.add_argument("--target-seconds", type=float, required=True, help="answer-time target t")
    parser.add_argument(
        "--service-level", type=float, required=True, help="target share answered within t, in %%"
    )
    parser.add_argument(
        "--patience-seconds", type=float, default=300, help="mean caller patience (Erlang A)"
    )
    parser.add_argument(
        "--shrinkage", type=float, default=30, help="share of paid time off the phones, in %%"
    )
    parser.add_argument("--max-occupancy", type=float, default=85, help="in %%")


def _run_staffing(args: argparse.Namespace) -> int:
    from forecasting.staffing import required_agents, scheduled_staff

    for name in ("service_level", "shrinkage", "max_occupancy"):
        value = getattr(args, name)
        if not 0 <= value <= 100:
            flag = "--" + name.replace("_", "-")
            raise ForecastInputError(f"{flag} is a percentage between 0 and 100, got {value:g}.")
    settings = dict(
        calls=args.calls,
        interval_seconds=args.interval_minutes * 60,
        aht_seconds=args.aht_seconds,
        target_seconds=args.target_seconds,
        service_level=args.service_level / 100,
        max_occupancy=args.max_occupancy / 100,
    )
    results = [
        required_agents(**settings),
        required_agents(**settings, patience_seconds=args.patience_seconds),
    ]
    load = results[0].load
    print(
        f"offered load {load:.2f} Erlangs ({args.calls:g} calls in {args.interval_minutes:g} min, "
        f"AHT {args.aht_seconds:g} s); target {args.service_level:g}% in {args.target_seconds:g} s, "
        f"occupancy <= {args.max_occupancy:g}%, shrinkage {args.shrinkage:g}%"
    )
    print(
        f"{'model':<9} {'agents':>6} {'fractional':>10} {'scheduled':>9} {'SL %':>6} {'ASA s':>7} {'occ %':>6} {'abandon %':>9}"
    )
    for result in results:
        metrics = result.metrics
        label = "Erlang C" if result.model == "erlang_c" else "Erlang A"
        scheduled = scheduled_staff(result.fractional_agents, args.shrinkage / 100)
        print(
            f"{label:<9} {result.agents:>6d} {result.fractional_agents:>10.2f} {scheduled:>9.2f} "
            f"{100 * metrics.service_level:>6.1f} {metrics.asa_seconds:>7.1f} {100 * metrics.occupancy:>6.1f} "
            f"{100 * metrics.p_abandon:>9.2f}"
        )
    print(
        f"(Erlang A with mean patience {args.patience_seconds:g} s; scheduled = fractional / (1 - shrinkage))"
    )
    return 0


# --------------------------------------------------------------------------- run


def _configure_run(parser: argparse.ArgumentParser) -> None:
    from data.demo_world import COUNTRY, SUBDIVISION

    parser.add_argument(
        "--database",
        default=None,
        help=DATABASE_HELP,
    )
    parser.add_argument("--horizon", type=int, default=28, help="days to forecast (default 28)")
    parser.add_argument(
        "--cutoffs", type=int, default=4, help="backtest windows of --horizon days (default 4)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--series", nargs="+", metavar="ID", help="only these series ids (default: every series)"
    )
    parser.add_argument(
        "--country",
        default=COUNTRY,
        help=f"public-holiday calendar of the models (default {COUNTRY}, the generated data's)",
    )
    parser.add_argument(
        "--subdivision", default=SUBDIVISION, help=f"holiday subdivision (default {SUBDIVISION})"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the latest stored run is up to date with the data "
        "(make run calls this at every start)",
    )


def _run_fleet(args: argparse.Namespace) -> int:
    import time

    from data.database import create_engine

    for name in ("horizon", "cutoffs", "jobs"):
        if getattr(args, name) < 1:
            raise ForecastInputError(f"--{name} must be at least 1, got {getattr(args, name)}.")
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    started = time.perf_counter()
    engine = create_engine(args.database)
    if args.if_missing:
        from forecasting.store import current_run

        try:
            run = current_run(engine)
        finally:
            engine.dispose()
        if run is not None:
            print(
                f"forecast run {run['run_id']} is up to date with the data (to "
                f"{run['data_end']}, {run['series_count']} series): nothing to do"
            )
            return 0
    try:
        with marking(str(engine.url), "forecast"):  # the planner and anomalies pages say it is running
            return _forecast_and_store(args, engine, started, started_at)
    finally:
        engine.dispose()


def _forecast_and_store(args: argparse.Namespace, engine, started: float, started_at: dt.datetime) -> int:
    import time

    from data.database import describe
    from forecasting.fleet import accuracy_summary, run_fleet
    from forecasting.store import load_fleet_series, store_run

    fleet = load_fleet_series(engine, horizon=args.horizon)
    if args.series:
        fleet = fleet.subset(args.series)
    read_seconds = time.perf_counter() - started
    count = fleet.catalog.height
    print(
        f"{count} series from {describe(engine)}, data to {fleet.data_end} "
        f"(read in {read_seconds:.1f} s); public holidays: "
        f"{'/'.join(p for p in (args.country, args.subdivision) if p) or 'none'}",
        flush=True,
    )
    result = run_fleet(
        fleet,
        horizon=args.horizon,
        cutoffs=args.cutoffs,
        jobs=args.jobs,
        country=args.country,
        subdivision=args.subdivision,
        progress=not args.no_progress,
    )
    seconds = time.perf_counter() - started
    stored = time.perf_counter()
    run_id = store_run(engine, result, started_at=started_at, seconds=seconds)
    store_seconds = time.perf_counter() - stored
    per_series = result.seconds * result.jobs / max(count, 1)
    print(
        f"run {run_id} stored: {result.series.height} series, horizon {result.horizon} days, "
        f"cutoffs {', '.join(str(c) for c in result.cutoffs)}"
    )
    print(
        f"time {seconds + store_seconds:.1f} s: read {read_seconds:.1f} s, backtest and forecast "
        f"{result.seconds:.1f} s on {result.jobs} process(es) ({per_series:.2f} s of a process "
        f"per series), store {store_seconds:.1f} s"
    )
    with pl.Config(
        tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True
    ):
        print("recommended model per series, backtest MASE (below 1 beats seasonal naive):")
        print(accuracy_summary(result).with_columns(pl.col("^median.*$").round(3)))
        _print_live_accuracy(engine, fleet, result)
    for row in result.series.filter(pl.col("note").is_not_null()).iter_rows(named=True):
        print(f"{row['series_id']}: {row['note']}")
    for series_id, reason in result.skipped.iter_rows():
        print(f"not forecast: {series_id}: {reason}")
    return 0


LIVE_WEEKS = 13  # how far back `run` scores the stored runs against the actuals


def _print_live_accuracy(engine, fleet, result) -> None:  # noqa: ANN001 - imported lazily
    """Each of the last LIVE_WEEKS weeks' days against the latest stored run made before it."""
    from data.access import visible_departments
    from forecasting.live import fleet_report, live_accuracy
    from forecasting.store import JOB_VIEWER, forecast_history

    last = fleet.data_end
    first = last - dt.timedelta(weeks=LIVE_WEEKS) + dt.timedelta(days=1)
    departments = list(visible_departments(engine, JOB_VIEWER))
    live = live_accuracy(forecast_history(engine, departments, first, last), fleet.values)
    if live.overall.height == 0:
        print(
            f"live accuracy: no stored run forecast a day from {first} to {last} (every run is kept; "
            "the next run after a data load scores this one)"
        )
        return
    runs = live.periods["run_id"].n_unique()
    print(
        f"live accuracy, {first} to {last}: each day against the latest of {runs} stored run(s) made before it "
        "(wape and coverage in %, bias per day, + too high; vs_naive below 1 beats seasonal naive):"
    )
    print(fleet_report(live, result.series))


COMMANDS: list[Command] = [
    Command(
        "backtest",
        "backtest every series of a CSV and recommend a model",
        _configure_backtest,
        _run_backtest,
    ),
    Command(
        "staffing",
        "agents needed for one interval, Erlang C and Erlang A",
        _configure_staffing,
        _run_staffing,
    ),
    Command(
        "run",
        "backtest and forecast every series in the database and store the run",
        _configure_run,
        _run_fleet,
    ),
]


def build_parser(
    commands: list[Command] | None = None,
    prog: str = "python -m forecasting",
    description: str = "Demand forecasting and staffing.",
) -> argparse.ArgumentParser:
    """The top-level parser with one subparser per Command."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands or COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(handler=command.run)
    return parser


def run(
    argv: list[str] | None,
    commands: list[Command],
    prog: str,
    description: str,
    errors: tuple[type[Exception], ...] = (),
) -> int:
    """Parse argv, run the subcommand; user errors (ForecastInputError, DatabaseError and
    `errors`) become one 'error: ...' line on stderr and exit status 2."""
    from data.database import DatabaseError

    args = build_parser(commands, prog, description).parse_args(argv)
    try:
        return args.handler(args)
    except (ForecastInputError, DatabaseError, *errors) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``python -m forecasting`` without the anomaly and notification aliases."""
    return run(argv, COMMANDS, "python -m forecasting", "Demand forecasting and staffing.")
