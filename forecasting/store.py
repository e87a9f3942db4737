"""The database side of the fleet and the planner: read extracts, store runs, read them back.

Everything here goes through the extracts of sql/ (department-scoped, checked columns)
and `data.database.bulk_load`; the forecasting and staffing arithmetic stays in pure
functions elsewhere (forecasting.series, forecasting.fleet, forecasting.planning).

    fleet = load_fleet_series(engine, horizon=28)
    result = run_fleet(fleet, ...)
    run_id = store_run(engine, result, started_at=...)
    forecasts = latest_forecasts(engine, departments)     # what pages read
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import forecasting
from data.access import Viewer, every_department, visible_departments
from data.database import (
    DatabaseError,
    backend,
    bulk_load,
    connect,
    create_schema,
    describe,
    duckdb_path,
    table_names,
)
from data.extracts import load_extract, run_extract
from forecasting import series_id as ids
from forecasting._frame import DATE, SERIES, ForecastInputError
from forecasting.fleet import FleetResult
from forecasting.planning import QueueHistory, queue_history, rostered_hours
from forecasting.series import NO_CASES, FleetSeries, build_fleet_series

FORECAST_RUN_TABLES = ("forecast_series", "forecasts", "forecast_backtests", "forecast_runs")


# The fleet, detection and notification runs are administrative jobs: they see every
# department, as the dashboard's viewer without sign-in does.
JOB_VIEWER = Viewer.local_admin()


def case_date_range(engine: Engine) -> tuple[dt.date, dt.date]:
    """First and last UTC date of cases.submitted_at, or ForecastInputError(NO_CASES ...).

    Checks, in order, that the database file exists (a DuckDB URL to a missing file would
    otherwise create an empty one), that it has a cases table, and that it has cases.
    """
    if backend(engine) == "duckdb":
        path = duckdb_path(str(engine.url))
        if path is not None and not path.exists():
            raise ForecastInputError(f"{NO_CASES} ({describe(engine)} does not exist)")
    if "cases" not in table_names(engine):
        raise ForecastInputError(f"{NO_CASES} ({describe(engine)} has no cases table)")
    with connect(engine) as conn:
        first, last = conn.execute(
            sa.text("SELECT MIN(submitted_at), MAX(submitted_at) FROM cases")
        ).one()
    if first is None:
        raise ForecastInputError(f"{NO_CASES} ({describe(engine)} has no cases)")
    return first.date(), last.date()


def load_fleet_series(
    engine: Engine, *, horizon: int = 28, departments: Sequence[str] | None = None
) -> FleetSeries:
    """Read the extracts the fleet needs and build every series (forecasting.series).

    departments: whose cases to read (default every department: the fleet's own view;
    the series of one department would be incomplete for totals). Closures are read
    through `horizon` days past the data so that future holidays are known.
    """
    first, last = case_date_range(engine)
    visible = list(departments) if departments is not None else list(visible_departments(engine, JOB_VIEWER))
    # a day of margin each side: the range is in UTC, the extracts work in local dates
    return load_series_window(engine, first - dt.timedelta(days=1), last + dt.timedelta(days=1), visible, horizon=horizon)


@cache
def code_version() -> str:
    """forecasting.MODEL_VERSION plus the git commit of the code, when it is a checkout."""
    root = Path(forecasting.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return forecasting.MODEL_VERSION
    return f"{forecasting.MODEL_VERSION} git {commit}{' modified' if dirty else ''}"


def store_run(
    engine: Engine,
    result: FleetResult,
    *,
    started_at: dt.datetime,
    seconds: float | None = None,
    run_id: int | None = None,
) -> int:
    """Write a run (its series, forecasts and backtests) in one transaction; return its id.

    started_at: naive UTC. seconds: the run's wall time (default result.seconds).
    run_id: None adds a new run (highest id + 1); an existing id is replaced as a whole,
    so storing the same run twice leaves one copy. Creates the tables if missing.
    """
    create_schema(engine)
    attempt = 0
    while True:
        attempt += 1
        try:
            return _write_run(engine, result, started_at, seconds, run_id)
        except sa.exc.IntegrityError:
            # another run took the same new id between our read and our insert: retry
            # twice, then let the database's own message say so
            if run_id is not None or attempt >= 3:
                raise


def _write_run(
    engine: Engine,
    result: FleetResult,
    started_at: dt.datetime,
    seconds: float | None,
    run_id: int | None,
) -> int:
    finished_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with connect(engine, begin=True) as conn:
        if run_id is None:
            run_id = conn.execute(
                sa.text("SELECT COALESCE(MAX(run_id), 0) + 1 FROM forecast_runs")
            ).scalar_one()
        for table in FORECAST_RUN_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table} WHERE run_id = :run_id"), {"run_id": run_id})
        run_column = pl.lit(run_id, dtype=pl.Int64).alias("run_id")
        bulk_load(
            conn,
            "forecast_series",
            result.series.select(
                run_column,
                SERIES,
                "kind",
                "member",
                "department_id",
                "label",
                "first_day",
                "last_day",
                "open_days",
                "closed_days",
                "gap_days",
                "recommended_model",
                "mase",
                "baseline_mase",
                "seconds",
            ),
        )
        bulk_load(conn, "forecasts", result.forecasts.select(run_column, pl.all()))
        bulk_load(conn, "forecast_backtests", result.backtests.select(run_column, pl.all()))
        # the run row last: pages find a run by its row, and it commits with the rest
        conn.execute(
            sa.text(
                "INSERT INTO forecast_runs (run_id, started_at, finished_at, data_end, horizon, "
                "cutoffs, series_count, models, holidays, code_version, seconds) VALUES "
                "(:run_id, :started_at, :finished_at, :data_end, :horizon, :cutoffs, "
                ":series_count, :models, :holidays, :code_version, :seconds)"
            ),
            {
                "run_id": run_id,
                "started_at": started_at,
                "finished_at": max(finished_at, started_at),
                "data_end": result.data_end,
                "horizon": result.horizon,
                "cutoffs": ",".join(day.isoformat() for day in result.cutoffs),
                "series_count": result.series.height,
                "models": ",".join(result.models),
                "holidays": result.holidays,
                "code_version": code_version(),
                "seconds": result.seconds if seconds is None else seconds,
            },
        )
    return int(run_id)


def _stored(engine: Engine, name: str, departments: Sequence[str]) -> pl.DataFrame:
    """An extract of the stored runs; an empty frame when no run was ever stored."""
    if "forecast_runs" not in table_names(engine):
        return pl.DataFrame(schema=load_extract(name).columns)
    return run_extract(engine, name, departments=list(departments))


def latest_forecasts(engine: Engine, departments: Sequence[str]) -> pl.DataFrame:
    """The latest run's forecasts the viewer may see (extract forecasts)."""
    return _stored(engine, "forecasts", departments)


def latest_backtests(engine: Engine, departments: Sequence[str]) -> pl.DataFrame:
    """The latest run's backtest scores the viewer may see (extract forecast_backtests)."""
    return _stored(engine, "forecast_backtests", departments)


def latest_series(engine: Engine, departments: Sequence[str]) -> pl.DataFrame:
    """The latest run's series the viewer may see (extract forecast_series)."""
    return _stored(engine, "forecast_series", departments)


def forecast_runs(engine: Engine, departments: Sequence[str]) -> pl.DataFrame:
    """Every stored run, newest first (extract forecast_runs)."""
    return _stored(engine, "forecast_runs", departments)


def forecast_history(
    engine: Engine, departments: Sequence[str], first_day: dt.date, last_day: dt.date
) -> pl.DataFrame:
    """Every stored run's forecasts of first_day..last_day the viewer may see (extract
    forecast_history): what forecasting.live.live_accuracy scores against the actuals."""
    if "forecast_runs" not in table_names(engine):
        return pl.DataFrame(schema=load_extract("forecast_history").columns)
    return run_extract(engine, "forecast_history", departments=list(departments), first_day=first_day, last_day=last_day)


def series_forecast(
    forecasts: pl.DataFrame, series_id: str, *, recommended: bool = True
) -> pl.DataFrame:
    """One series' rows of `latest_forecasts` (the recommended model's, or the baseline's)."""
    from forecasting.backtest import BASELINE

    chosen = pl.col("recommended") if recommended else pl.col("model") == BASELINE
    rows = forecasts.filter((pl.col(SERIES) == series_id) & chosen).sort(DATE)
    if rows.height == 0:
        known = sorted(forecasts[SERIES].unique().to_list())
        raise ForecastInputError(
            f"no stored forecast for series {series_id!r} that this viewer may see; run "
            f"python -m forecasting run, or pick one of: {', '.join(known) or '(none stored)'}"
        )
    return rows


@dataclass(frozen=True)
class StaffingInputs:
    """What a plan for one office needs, read once (the page caches it).

    forecast: the latest run's recommended daily forecast of contacts:<office_id> for
        the days asked (ds, yhat, lo80, hi80, lo95, hi95, closed, model).
    queue: the office's intraday profile, AHT and patience (planning.queue_history).
    rostered: paid staff-hours per day (planning.rostered_hours).
    """

    office_id: str
    office_name: str
    office_kind: str
    forecast: pl.DataFrame
    queue: QueueHistory
    rostered: pl.DataFrame
    run_id: int
    data_end: dt.date


def load_staffing_inputs(
    engine: Engine,
    office_id: str,
    first_day: dt.date,
    last_day: dt.date,
    departments: Sequence[str],
    *,
    history_weeks: int = 12,
    reference_weeks: int = 4,
) -> StaffingInputs:
    """Read the stored forecast and the history a staffing plan of one office needs.

    first_day..last_day: local dates inside the latest run's forecast. history_weeks:
    weeks of contacts before the run's data end behind the profile, AHT and patience.
    reference_weeks: weeks of cost records behind the assumed roster of future days.
    Staffing pools an office's whole queue, so its contact series belongs to no
    department: only a viewer of every department may plan it.
    """
    if first_day > last_day:
        raise ForecastInputError(f"first_day {first_day} is after last_day {last_day}.")
    offices = run_extract(engine, "offices", departments=list(departments))
    office = offices.filter(pl.col("office_id") == office_id)
    if office.height == 0:
        queues = offices.filter(pl.col("kind") != "online")["office_id"].to_list()
        raise ForecastInputError(
            f"unknown office {office_id!r}; offices with queues: {', '.join(queues) or '(none)'}"
        )
    series_id = ids.format_id("contacts", office_id)
    forecasts = latest_forecasts(engine, departments)
    if forecasts.filter(pl.col(SERIES) == series_id).height == 0:
        if not ids.viewer_may_see(series_id, departments, every_department(engine), {}):
            raise ForecastInputError(
                f"staffing {office_id!r} needs the forecast of every call or visit there "
                f"({series_id}), which crosses departments: only a viewer of every "
                "department may plan it."
            )
        raise ForecastInputError(
            f"no stored forecast of {series_id}: run python -m forecasting run first."
        )
    run = forecasts["run_id"][0]
    stored = series_forecast(forecasts, series_id)
    forecast = stored.filter(pl.col(DATE).is_between(first_day, last_day))
    horizon_first, horizon_last = stored[DATE].min(), stored[DATE].max()
    if forecast.height < (last_day - first_day).days + 1:
        raise ForecastInputError(
            f"the latest forecast (run {run}) of {series_id} covers {horizon_first} to "
            f"{horizon_last}; choose days inside it, not {first_day} to {last_day}."
        )
    data_end = horizon_first - dt.timedelta(days=1)  # type: ignore[operator]
    history = run_extract(
        engine,
        "contact_intervals",
        departments=list(departments),
        first_day=data_end - dt.timedelta(days=7 * history_weeks - 1),
        last_day=data_end,
    )
    queue = queue_history(history, office_id, last_day=data_end, weeks=history_weeks)
    costs = run_extract(
        engine,
        "costs",
        departments=list(departments),
        first_day=data_end - dt.timedelta(days=7 * (reference_weeks + 1)),
        last_day=last_day,
    )
    days = [first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    rostered = rostered_hours(
        costs,
        office_id,
        days,
        closed_days=forecast.filter(pl.col("closed"))[DATE].to_list(),
        channel=queue.channel,
        reference_weeks=reference_weeks,
    )
    row = office.row(0, named=True)
    return StaffingInputs(
        office_id=office_id,
        office_name=row["name"],
        office_kind=row["kind"],
        forecast=forecast.select(DATE, "yhat", "lo80", "hi80", "lo95", "hi95", "closed", "model"),
        queue=queue,
        rostered=rostered,
        run_id=int(run),
        data_end=data_end,
    )


def load_series_window(
    engine: Engine,
    first_day: dt.date,
    last_day: dt.date,
    departments: Sequence[str],
    *,
    horizon: int = 28,
) -> FleetSeries:
    """The fleet's series over local dates first_day..last_day only, as the viewer sees them.

    For pages that show recent actuals beside a stored forecast: the same series ids,
    zeros, gaps and closed days as `load_fleet_series`, read from a short window (cheap),
    with closed days reaching `horizon` days past the window. A service series is
    complete for a viewer of its department; total, office, channel and contacts series
    are complete only for a viewer of every department (who alone is shown them).
    Raises ForecastInputError(NO_CASES) when the window holds no case.
    """
    if first_day > last_day:
        raise ForecastInputError(f"first_day {first_day} is after last_day {last_day}.")
    visible = list(departments)
    window = {"first_day": first_day, "last_day": last_day}
    return build_fleet_series(
        run_extract(engine, "daily_demand", departments=visible, **window),
        run_extract(engine, "contact_intervals", departments=visible, **window),
        run_extract(engine, "services", departments=visible),
        run_extract(engine, "offices", departments=visible),
        run_extract(engine, "office_hours", departments=visible),
        run_extract(
            engine,
            "office_closures",
            departments=visible,
            first_day=first_day,
            last_day=last_day + dt.timedelta(days=horizon + 1),
        ),
        horizon=horizon,
    )


RUN_RECORD_TABLES = ("forecast_runs", "anomaly_runs")  # the tables with one row per run


def current_run(engine: Engine, runs_table: str = "forecast_runs") -> dict | None:
    """The latest stored run (of forecasts, or of anomaly detection with
    ``runs_table="anomaly_runs"``) if it is up to date with the data, else None.

    Up to date: its data_end is the last local date with a case (the offices' time zone,
    as the fleet counts days) and it started after the latest data load recorded in
    data_loads (a reload with the same last day still needs a new run). None as well
    when no run or no case was ever stored.
    """
    from data.facts import organisation_timezone

    if backend(engine) == "duckdb":
        path = duckdb_path(str(engine.url))
        if path is not None and not path.exists():
            return None  # inspecting it would create an empty file
    if runs_table not in RUN_RECORD_TABLES:
        raise ValueError(f"not a table of runs: {runs_table!r}; use one of {', '.join(RUN_RECORD_TABLES)}")
    names = table_names(engine)
    if runs_table not in names or "cases" not in names:
        return None
    with connect(engine) as conn:
        run = conn.execute(
            sa.text(f"SELECT * FROM {runs_table} ORDER BY run_id DESC LIMIT 1")  # an allow-listed name
        ).mappings().first()
        if run is None:
            return None
        last_case = conn.execute(sa.text("SELECT MAX(submitted_at) FROM cases")).scalar_one()
        loaded = (
            conn.execute(sa.text("SELECT MAX(loaded_at) FROM data_loads")).scalar_one()
            if "data_loads" in names
            else None
        )
    if last_case is None:
        return None
    zone = organisation_timezone(run_extract(engine, "offices", departments=visible_departments(engine, JOB_VIEWER)))
    last_day = last_case.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).date()
    if run["data_end"] != last_day or (loaded is not None and run["started_at"] < loaded):
        return None
    return dict(run)


__all__ = [
    "DatabaseError",
    "JOB_VIEWER",
    "case_date_range",
    "code_version",
    "current_run",
    "load_series_window",
    "forecast_history",
    "forecast_runs",
    "latest_backtests",
    "latest_forecasts",
    "latest_series",
    "load_fleet_series",
    "StaffingInputs",
    "load_staffing_inputs",
    "series_forecast",
    "store_run",
]
