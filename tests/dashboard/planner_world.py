"""A small world with a stored forecast run, for the planner page's tests (AppTest and e2e).

The run is stored in a DuckDB file of its own, never in the shared session databases of
tests/conftest.py (whose extracts tests/sql compares across backends). A few series, a
28-day horizon, 2 cutoffs and the two fast models keep it to a few seconds on 2 cores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from data.database import create_engine
from forecasting.fleet import run_fleet
from forecasting.models import SeasonalNaiveForecaster, WeekdayMeanForecaster
from forecasting.store import load_fleet_series, store_run
from tests.forecasting.conftest import load_world

PLANNER_SERIES = [
    "total",
    "service:marriage_notice",
    "office:leeds",
    "channel:phone",
    "contacts:sheffield_cc",
    "contacts:leeds",
]
HORIZON = 28
EVERY_DEPARTMENT = ["benefits", "civil", "revenue", "transport"]


def make_planner_world(
    folder: Path, tables: dict[str, pl.DataFrame], *, earlier_run: dt.date | None = None, earlier_series: list[str] | None = None
) -> str:
    """Load the small world into folder/planner.duckdb, store one forecast run; its URL.

    earlier_run: first store a run made as if the data had ended that day (run 1, of
    earlier_series, default every planner series), so that the latest run (run 2) has
    past days with actuals to score (the page's "How the live forecasts did").
    """
    url = load_world(f"duckdb:///{folder / 'planner.duckdb'}", tables)
    engine = create_engine(url)
    try:
        fleet = load_fleet_series(engine, horizon=HORIZON).subset(PLANNER_SERIES)
        models = {
            "seasonal_naive": SeasonalNaiveForecaster(),
            "weekday_mean": WeekdayMeanForecaster(country="GB", subdivision="ENG"),
        }
        if earlier_run is not None:
            replay = fleet.until(earlier_run).subset(earlier_series or PLANNER_SERIES)
            result = run_fleet(replay, horizon=HORIZON, cutoffs=2, jobs=1, models=models, country="GB", subdivision="ENG", progress=False)
            store_run(engine, result, started_at=dt.datetime.combine(earlier_run + dt.timedelta(days=1), dt.time(6)))
        result = run_fleet(fleet, horizon=HORIZON, cutoffs=2, jobs=1, models=models, country="GB", subdivision="ENG", progress=False)
        store_run(engine, result, started_at=dt.datetime(2026, 11, 23, 6, 0))
    finally:
        engine.dispose()
    return url
