"""The planner page's "How the live forecasts did" through AppTest: an earlier stored run
(made as if the data had ended on 8 Nov) is scored against the actuals of 9..22 Nov, and
the numbers shown are those of forecasting.live.live_accuracy called directly; a series
no earlier run forecast gets the empty state; a viewer of one department sees only that
department's series."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import polars as pl
import pytest

from data.access import Viewer
from data.database import create_engine
from forecasting.live import backtest_comparison, live_accuracy
from forecasting.store import forecast_history, latest_backtests, load_series_window
from tests.dashboard.conftest import app_on
from tests.dashboard.planner_world import EVERY_DEPARTMENT, HORIZON, make_planner_world
from tests.dashboard.test_planner import frame_with, open_planner

EARLIER = dt.date(2026, 11, 8)  # the earlier run's data end; the small world ends 2026-11-22
DATA_END = dt.date(2026, 11, 22)
FIRST_ACTUAL = DATA_END - dt.timedelta(weeks=13) + dt.timedelta(days=1)  # the page's default window
EARLIER_SERIES = ["total", "service:marriage_notice", "contacts:sheffield_cc"]


@pytest.fixture(scope="module")
def live_planner_url(small_tables, tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_planner_world(tmp_path_factory.mktemp("planner-live"), small_tables, earlier_run=EARLIER, earlier_series=EARLIER_SERIES)


@pytest.fixture
def live_env(live_planner_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with app_on(live_planner_url, monkeypatch) as url:
        yield url


def expected(url: str, departments: list[str]):
    engine = create_engine(url)
    try:
        values = load_series_window(engine, FIRST_ACTUAL, DATA_END, departments, horizon=HORIZON).values
        live = live_accuracy(forecast_history(engine, departments, FIRST_ACTUAL, DATA_END), values)
        return live, latest_backtests(engine, departments)
    finally:
        engine.dispose()


def test_the_page_shows_the_live_forecasts_with_the_functions_numbers(live_env: str) -> None:
    at = open_planner(series="total")
    assert any(h.value == "How the live forecasts did" for h in at.header)
    live, backtests = expected(live_env, EVERY_DEPARTMENT)
    row = live.overall.filter(pl.col("series_id") == "total").row(0, named=True)
    assert row["n"] == 14 and row["runs"] == 1  # 9..22 Nov, every day open for the total
    shown = frame_with(at, "Forecast made before")
    assert [pd.Timestamp(d).date() for d in shown["Date"]] == [EARLIER + dt.timedelta(days=i) for i in range(1, 15)]
    assert shown["Days ahead"].tolist() == list(range(1, 15))
    assert shown["Run"].unique().tolist() == [1]
    periods = live.periods.filter(pl.col("series_id") == "total")
    assert shown["Actual"].tolist() == periods["y"].to_list()
    assert shown["Forecast made before"].tolist() == periods["yhat"].round(1).to_list()
    summary = next(m.value for m in at.markdown if "the forecast made before each day" in m.value)
    assert f"missed by {row['mae']:,.1f} cases a day" in summary
    assert f"{row['coverage_80']:.0f}% of the days fell inside the 80% interval" in summary
    against = frame_with(at, "Live (made before each day)").set_index("Measure")
    table = backtest_comparison(live, backtests, "total")
    for measure, live_value, backtest_value in table.iter_rows():
        assert against.loc[measure, "Live (made before each day)"] == pytest.approx(live_value, abs=0.051)
        if backtest_value is None:
            assert pd.isna(against.loc[measure, "Backtest"])
        else:
            assert against.loc[measure, "Backtest"] == pytest.approx(backtest_value, abs=0.051)
    assert against.loc["WAPE %", "Live (made before each day)"] == pytest.approx(row["wape"], abs=0.051)


def test_a_series_no_earlier_run_forecast_says_why_and_what_to_do(live_env: str) -> None:
    at = open_planner(series="office:leeds")
    assert any(h.value == "How the live forecasts did" for h in at.header)
    words = [i.value for i in at.info if "has actuals to compare with yet" in i.value]
    assert words and "Every run of `python -m forecasting run` is kept" in words[0]
    assert "22 Nov 2026" in words[0]
    assert not any("Forecast made before" in e.value.columns for e in at.dataframe)


def test_a_viewer_of_one_department_scores_only_its_series(live_env: str) -> None:
    at = open_planner(Viewer("civil planner", {"civil"}, {"planner"}), series="service:marriage_notice")
    live, _ = expected(live_env, ["civil"])
    assert set(live.overall["series_id"]) == {"service:marriage_notice"}
    shown = frame_with(at, "Forecast made before")
    periods = live.periods.filter(pl.col("series_id") == "service:marriage_notice")
    assert shown["Actual"].tolist() == periods["y"].to_list()
