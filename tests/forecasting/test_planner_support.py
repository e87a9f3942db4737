"""What the planner page and `make run` need from forecasting: is the stored run up to date
(`current_run`, `run --if-missing`), a short window of the series, named holidays."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from data.database import connect, create_engine
from forecasting.calendar import holiday_names, public_holidays
from forecasting.cli import main
from forecasting.store import current_run, load_fleet_series, load_series_window
from tests.conftest import SMALL
from tests.dashboard.planner_world import make_planner_world


@pytest.fixture(scope="module")
def planner_url(small_tables, tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_planner_world(tmp_path_factory.mktemp("support"), small_tables)


def test_a_run_is_current_until_the_data_is_loaded_again(planner_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_engine(planner_url)
    try:
        run = current_run(engine)
        assert run is not None and run["run_id"] == 1 and run["data_end"] == SMALL.end
        assert main(["run", "--database", planner_url, "--if-missing", "--no-progress"]) == 0
        assert capsys.readouterr().out == (
            f"forecast run 1 is up to date with the data (to {SMALL.end}, 6 series): nothing to do\n"
        )
        # a later load (say a re-import with the same last day) needs a new run
        with connect(engine, begin=True) as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO data_loads (load_id, kind, source, loaded_at, rows_loaded, details) "
                    "VALUES (99, 'import', 'test', :at, 0, '{}')"
                ),
                {"at": dt.datetime(2026, 11, 24, 7, 0)},
            )
        assert current_run(engine) is None
    finally:
        engine.dispose()


def test_without_a_database_or_a_run_nothing_is_current(small_tables, tmp_path) -> None:
    missing = create_engine(f"duckdb:///{tmp_path / 'none.duckdb'}")
    assert current_run(missing) is None
    assert not (tmp_path / "none.duckdb").exists()  # not created as a side effect
    from tests.forecasting.conftest import load_world

    engine = create_engine(load_world(f"duckdb:///{tmp_path / 'world.duckdb'}", small_tables))
    try:
        assert current_run(engine) is None  # tables, data, no run
    finally:
        engine.dispose()


def test_a_window_of_series_is_the_fleet_cut_to_those_days(planner_url: str) -> None:
    engine = create_engine(planner_url)
    first, last = dt.date(2026, 10, 1), SMALL.end
    departments = ["benefits", "civil", "revenue", "transport"]
    try:
        window = load_series_window(engine, first, last, departments)
        fleet = load_fleet_series(engine, horizon=28)
    finally:
        engine.dispose()
    assert window.data_end == fleet.data_end == SMALL.end
    for series_id in ("total", "service:marriage_notice", "channel:phone", "contacts:sheffield_cc"):
        keep = (pl.col("series_id") == series_id) & pl.col("ds").is_between(first, last)
        assert_frame_equal(window.values.filter(keep), fleet.values.filter(keep))
        assert_frame_equal(window.closed_days.filter(keep), fleet.closed_days.filter(keep))


def test_holidays_are_named_for_people() -> None:
    names = holiday_names("GB", "ENG", dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert names == {
        dt.date(2026, 12, 25): "Christmas Day",
        dt.date(2026, 12, 26): "Boxing Day",
        dt.date(2026, 12, 28): "Boxing Day (observed)",
        dt.date(2027, 1, 1): "New Year's Day",
    }
    assert list(names) == public_holidays("GB", "ENG", dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert holiday_names(None, None, dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == {}
