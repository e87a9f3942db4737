"""The planner page through AppTest: the stored forecast, the backtest, Erlang C and A
staffing against the roster, what-ifs, and the empty and limited-viewer states.

Numbers are checked against the stored run (forecasting.store) and against
forecasting.planning.plan_staffing called directly with the same settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from data.access import Viewer
from data.database import create_engine
from forecasting.calendar import holiday_names
from forecasting.planning import StaffingPlan, default_settings, plan_staffing
from forecasting.store import forecast_runs, latest_backtests, latest_forecasts, load_staffing_inputs, series_forecast
from tests.conftest import ROOT
from tests.dashboard.conftest import APP, app_on, page_file
from tests.dashboard.planner_world import EVERY_DEPARTMENT, HORIZON, make_planner_world

FIRST = dt.date(2026, 11, 23)  # the small world ends on Sunday 2026-11-22
DEFAULT_LAST = FIRST + dt.timedelta(days=13)  # the page plans two weeks unless told
DAYS_TABLE = "Needed, Erlang C (staff-hours)"


@pytest.fixture(scope="module")
def planner_url(small_tables, tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_planner_world(tmp_path_factory.mktemp("planner"), small_tables)


@pytest.fixture
def planner_env(planner_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with app_on(planner_url, monkeypatch) as url:
        yield url


def open_planner(viewer: Viewer | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if viewer is not None:
        at.session_state[state.VIEWER_KEY] = viewer
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page_file("pages/planner.py")).run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with a column {column!r}: {[list(e.value.columns) for e in at.dataframe]}")


def expected_plan(url: str, office: str, first: dt.date, last: dt.date, **what_if: float) -> StaffingPlan:
    engine = create_engine(url)
    try:
        inputs = load_staffing_inputs(engine, office, first, last, EVERY_DEPARTMENT)
    finally:
        engine.dispose()
    settings = dataclasses.replace(default_settings(inputs.office_kind), **what_if)
    return plan_staffing(inputs.forecast, inputs.queue, inputs.rostered, settings)


def assert_days_match(shown: pd.DataFrame, plan: StaffingPlan) -> None:
    days = plan.days
    assert [pd.Timestamp(d).date() for d in shown["Date"]] == days["ds"].to_list()
    for column, source in (
        (DAYS_TABLE, "hours_needed_erlang_c"),
        ("Needed, Erlang A (staff-hours)", "hours_needed_erlang_a"),
        ("Rostered (staff-hours)", "rostered_hours"),
        ("Gap, Erlang C", "gap_hours_erlang_c"),
    ):
        assert shown[column].tolist() == pytest.approx(days[source].round(1).to_list(), abs=1e-9), column


def stored_forecast(url: str, series_id: str) -> pl.DataFrame:
    engine = create_engine(url)
    try:
        return series_forecast(latest_forecasts(engine, EVERY_DEPARTMENT), series_id)
    finally:
        engine.dispose()


def test_without_a_stored_run_the_page_says_what_to_do(app_env):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(page_file("pages/planner.py")).run()
    assert not at.exception
    assert at.title[0].value == "Demand and staffing"
    assert "No forecast has been stored yet" in at.info[0].value
    assert "python -m forecasting run" in at.info[0].value
    assert any("Data as of" in c.value for c in at.caption)


def test_the_page_shows_the_stored_forecast_backtest_and_plan(planner_env):
    at = open_planner()
    assert at.title[0].value == "Demand and staffing"
    assert any("Forecast run 1" in m.value for m in at.markdown)
    # the total's forecast, as stored (the recommended model's, with its intervals)
    expected = stored_forecast(planner_env, "total")
    shown = frame_with(at, "95% high")
    future = shown[shown["Forecast"].notna()]
    assert len(future) == HORIZON
    assert future["Forecast"].tolist() == pytest.approx(expected["yhat"].round(1).to_list())
    assert future["95% high"].tolist() == pytest.approx(expected["hi95"].round(1).to_list())
    assert shown["Actual"].notna().sum() == 13 * 7  # the last 13 weeks of actuals
    assert "Late Summer Bank Holiday" in shown["Public holiday"].tolist()  # 31 Aug 2026, marked in words
    # the backtest: the recommended model first, the baseline beside it, scores as stored
    backtest = frame_with(at, "MASE")
    assert backtest["Role"].tolist()[:2] in (["Recommended", "Baseline"], ["Recommended (the baseline)", "Candidate"])
    engine = create_engine(planner_env)
    try:
        scores = latest_backtests(engine, EVERY_DEPARTMENT).filter((pl.col("series_id") == "total") & (pl.col("step") == 0))
    finally:
        engine.dispose()
    assert sorted(backtest["MASE"].tolist()) == pytest.approx(sorted(scores["mase"].round(3).to_list()))
    assert any("is recommended" in m.value for m in at.markdown)
    # staffing: the first contact centre over the first two weeks, as plan_staffing says
    assert at.selectbox(key="param-office").value == "sheffield_cc"
    assert_days_match(frame_with(at, DAYS_TABLE), expected_plan(planner_env, "sheffield_cc", FIRST, DEFAULT_LAST))
    labels = [button.label for button in at.get("download_button")]
    assert "Plan by day (CSV)" in labels and "Plan by half hour (CSV)" in labels


def test_another_series_shows_its_own_stored_forecast(planner_env):
    at = open_planner()
    at.selectbox(key="param-series").set_value("service:marriage_notice").run()
    assert not at.exception
    assert at.query_params["series"] == "service:marriage_notice"
    expected = stored_forecast(planner_env, "service:marriage_notice")
    shown = frame_with(at, "95% high")
    future = shown[shown["Forecast"].notna()]
    assert future["Forecast"].tolist() == pytest.approx(expected["yhat"].round(1).to_list())
    assert future["Forecast"].sum() != pytest.approx(stored_forecast(planner_env, "total")["yhat"].round(1).sum())


def test_another_office_and_days_from_the_url_give_that_plan(planner_env):
    first, last = FIRST + dt.timedelta(days=7), FIRST + dt.timedelta(days=20)
    at = open_planner(office="leeds", **{"from": first.isoformat(), "to": last.isoformat()})
    assert at.selectbox(key="param-office").value == "leeds"
    assert_days_match(frame_with(at, DAYS_TABLE), expected_plan(planner_env, "leeds", first, last))
    # choosing the series of an office's calls or visits staffs that office
    at.selectbox(key="param-series").set_value("contacts:sheffield_cc").run()
    assert at.selectbox(key="param-office").value == "sheffield_cc"
    assert_days_match(frame_with(at, DAYS_TABLE), expected_plan(planner_env, "sheffield_cc", first, last))


def test_twenty_percent_more_volume_raises_the_staff_needed_as_plan_staffing_says(planner_env):
    at = open_planner()
    before = frame_with(at, DAYS_TABLE)
    at.number_input(key="whatif-volume-0").set_value(20).run()
    assert not at.exception
    assert at.query_params["volume"] == "20"
    after = frame_with(at, DAYS_TABLE)
    assert_days_match(after, expected_plan(planner_env, "sheffield_cc", FIRST, DEFAULT_LAST, volume_change=0.2))
    open_days = before[DAYS_TABLE] > 0
    assert (after[DAYS_TABLE][open_days] > before[DAYS_TABLE][open_days]).all()
    forecast_column = "Forecast calls"
    assert after[forecast_column].sum() == pytest.approx(before[forecast_column].sum() * 1.2, rel=1e-3)


def test_what_ifs_from_a_shared_link_are_applied(planner_env):
    at = open_planner(volume="-10", aht="300", shrinkage="35", sl="90", answer="30", patience="200", occupancy="90")
    assert at.number_input(key="whatif-volume-0").value == -10
    plan = expected_plan(
        planner_env, "sheffield_cc", FIRST, DEFAULT_LAST, volume_change=-0.1, aht_seconds=300.0, shrinkage=0.35,
        service_level=0.9, target_seconds=30.0, patience_seconds=200.0, max_occupancy=0.9,
    )
    assert_days_match(frame_with(at, DAYS_TABLE), plan)


def test_a_viewer_of_some_departments_is_told_why_pooled_series_are_not_shown(planner_env):
    at = open_planner(Viewer("civil planner", {"civil"}, {"planner"}), series="total")
    assert any("only a viewer of every department may see it" in i.value for i in at.info)
    assert at.selectbox(key="param-series").value == "service:marriage_notice"
    assert any("only a viewer of every" in i.value and "plan it" in i.value for i in at.info)
    assert not at.get("download_button") or "Plan by day (CSV)" not in [b.label for b in at.get("download_button")]


WHAT_IF_RANGES = {  # URL key -> (widget label, smallest, largest), as the page sets them
    "volume": ("Volume change (%)", -50, 200),
    "aht": ("Average handle time (seconds)", 10, 7_200),
    "shrinkage": ("Shrinkage (%)", 0, 80),
    "occupancy": ("Maximum occupancy (%)", 50, 100),
    "sl": ("Service level target (%)", 1, 99),
    "answer": ("Answered within (seconds)", 1, 3_600),
    "patience": ("Caller patience (seconds)", 5, 86_400),
}


@pytest.mark.parametrize("raw", ["inf", "-inf", "1e400", "nan", "99999999999999999999999", "-99999999999999999999999"])
def test_what_if_numbers_in_the_link_that_are_not_usable_are_refused_or_clamped_with_a_message(planner_env, raw):
    at = open_planner(**dict.fromkeys(WHAT_IF_RANGES, raw))  # every what-if at once
    assert not at.exception
    for key, (label, smallest, largest) in WHAT_IF_RANGES.items():
        value = next(box.value for box in at.number_input if box.label == label)
        messages = [info.value.replace("\\", "") for info in at.info if info.value.startswith(f"The link's {key}=")]
        assert len(messages) == 1, key
        if raw.lstrip("-").isdigit():
            assert value == (largest if not raw.startswith("-") else smallest), key
            assert "is outside" in messages[0]
        else:
            assert smallest <= value <= largest, key
            assert messages[0].startswith(f"The link's {key}={raw} is not a number: using "), key


def test_the_people_needed_per_half_hour_are_whole_people_as_plan_staffing_says(planner_env):
    """The page shows the integer answer, not only the fractional gap: each half hour's
    staff needed (agents ÷ (1 − shrinkage)) rounded up, as the plan computes it."""
    import math

    at = open_planner()
    tables = [element.value for element in at.dataframe if "Half hour from" in element.value.columns]
    people = tables[0]  # people needed comes before the gaps
    plan = expected_plan(planner_env, "sheffield_cc", FIRST, DEFAULT_LAST)
    checked = 0
    for row in plan.intervals.iter_rows(named=True):
        column = next(name for name in people.columns if name != "Half hour from" and name.endswith(f"{row['ds'].day} {row['ds']:%b}"))
        shown = people.loc[people["Half hour from"] == f"{row['interval_start']:%H:%M}", column].iloc[0]
        assert float(shown).is_integer()
        assert shown == max(math.ceil(row["staff_needed_erlang_c"] - 1e-9), 0), (row["ds"], row["interval_start"])
        checked += 1
    assert checked > 100
    assert any("people are needed at once" in m.value for m in at.markdown) or any(
        "people are needed at once" in getattr(e, "value", "") for e in at.caption)


def test_accuracy_reads_plainly_without_developer_identifiers(planner_env):
    """The header names no code version (the catalogue lists it); MASE is explained in
    words, the seasonal naive's own score below 1 included; the error-by-days-ahead table
    names the public holidays that fell on a day ahead in a backtest window, each where
    cutoff + day ahead - 1 is that holiday."""
    at = open_planner()
    header = next(m.value for m in at.markdown if "Forecast run 1" in m.value)
    assert any("can score below 1 too" in m.value for m in [*at.markdown, *at.caption])
    by_horizon = frame_with(at, "Public holiday in a window")
    engine = create_engine(planner_env)
    try:
        run = forecast_runs(engine, EVERY_DEPARTMENT).row(0, named=True)
    finally:
        engine.dispose()
    assert run["code_version"] not in header and "in the catalogue" in header
    cutoffs = [dt.date.fromisoformat(day) for day in run["cutoffs"].split(",")]
    country, _, subdivision = run["holidays"].partition("/")
    marked = 0
    for step, named in zip(by_horizon["Days ahead"], by_horizon["Public holiday in a window"], strict=True):
        days = [cutoff + dt.timedelta(days=int(step) - 1) for cutoff in cutoffs]
        expected = [day for day in days if holiday_names(country, subdivision or None, day, day)]
        shown = [part for part in (named if isinstance(named, str) else "").split("; ") if part]
        assert len(shown) == len(expected), (step, shown, expected)
        marked += bool(expected)
    assert marked == 0  # the planner world's two windows (October and November) hold none: see the hand case below


def test_the_run_and_its_code_version_are_listed_in_the_catalogue(planner_env, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "dashboard"))  # the page run alone finds _boot.py
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / "catalogue.py"), default_timeout=120).run()
    assert not at.exception
    runs = frame_with(at, "Code version")
    assert runs["Run"].tolist() == [1] and runs["Code version"].iloc[0]


def test_a_spike_on_a_holiday_is_marked_and_named_and_each_model_keeps_its_colour():
    """By hand: windows starting Mon 21 and Mon 28 Dec 2026 (7 days); Christmas Day (Fri
    25 Dec) is day 5 of the first, Boxing Day substitute (Mon 28 Dec) day 1 of the second
    and New Year's Day (Fri 1 Jan) day 5 of the second: day 5 names two holidays, day 1
    one. Prophet is drawn in the same colour whichever series or role it has."""
    from dashboard import planner_figures as figures

    backtests = pl.DataFrame({
        "series_id": ["total"] * 14, "model": ["prophet"] * 7 + ["seasonal_naive"] * 7, "step": list(range(1, 8)) * 2,
        "recommended": [True] * 7 + [False] * 7, "n": [2] * 14, "mase": [0.5, 0.6, 0.6, 0.7, 2.4, 0.7, 0.8] + [1.0] * 7,
    })
    holidays = {dt.date(2026, 12, 25): "Christmas Day", dt.date(2026, 12, 28): "Boxing Day (substitute day)", dt.date(2027, 1, 1): "New Year Day"}
    frame = figures.horizon_frame(backtests, "total", [dt.date(2026, 12, 21), dt.date(2026, 12, 28)], holidays)
    named = dict(zip(frame.filter(pl.col("_model") == "prophet")["Days ahead"], frame.filter(pl.col("_model") == "prophet")["Public holiday in a window"], strict=True))
    assert named[5] == "Christmas Day (Fri 25 Dec 2026); New Year Day (Fri 1 Jan 2027)"
    assert named[1] == "Boxing Day (substitute day) (Mon 28 Dec 2026)"
    assert [step for step, words in named.items() if words is None] == [2, 3, 4, 6, 7]
    summary = figures.horizon_summary(frame, model="prophet", windows=2)
    assert "worst day ahead is day 5 (MASE 2.40), when a window held a public holiday: Christmas Day" in summary
    figure = figures.horizon_figure(frame)
    colours = {trace.name: trace.line.color for trace in figure.data if trace.mode == "lines+markers"}
    assert colours == {"Prophet": figures.model_look("prophet")[0], "Seasonal naive": figures.model_look("seasonal_naive")[0]}
    assert len({look[0] for look in figures.MODEL_LOOK.values()}) == len(figures.MODEL_LOOK)  # no two models share a colour
