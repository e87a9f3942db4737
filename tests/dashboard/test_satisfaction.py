"""The satisfaction and digital page through AppTest on the small world: its numbers are
the metric engine's, and changing the department, service or weeks changes them as the
engine says."""

from __future__ import annotations

import sys
from datetime import timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.database import create_engine
from data.facts import data_extent, load_facts
from metrics.engine import compute
from metrics.periods import parse_week
from metrics.satisfaction import rating_distribution
from metrics.scorecard import latest_complete_week
from tests.conftest import ROOT
from tests.dashboard.conftest import APP, page_file

# Streamlit's runner puts the entry script's folder on sys.path (pages import _boot by
# its bare name); a page opened straight from a link, before app.py has run, needs it too.
if str(ROOT / "dashboard") not in sys.path:
    sys.path.insert(0, str(ROOT / "dashboard"))

INCLUDE = ("cases", "journeys", "feedback")


@pytest.fixture
def world(app_env, all_departments):
    engine = create_engine(app_env)
    as_of = data_extent(engine, all_departments, "Europe/London")[1]
    yield engine, all_departments, latest_complete_week(as_of)
    engine.dispose()


def open_page(**query: str) -> AppTest:
    """The page opened straight from a link with ``query`` in its URL, as a browser does."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page(page_file("pages/satisfaction.py"))
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def window(week: str, weeks: int) -> dict:
    monday = parse_week(week)
    return {"first_day": monday - timedelta(weeks=weeks - 1), "last_day": monday + timedelta(days=6)}


def table(at: AppTest, *columns: str) -> pl.DataFrame:
    """The first table that has all of ``columns``."""
    for frame in at.dataframe:
        if all(column in frame.value.columns for column in columns):
            return pl.from_pandas(frame.value)
    raise AssertionError(f"no table with {columns}: {[list(f.value.columns) for f in at.dataframe]}")


def assert_weekly_satisfaction(at: AppTest, facts, days: dict) -> None:
    expected = compute(facts, ["satisfaction", "satisfaction_index"], by=["week"], **days)
    shown = table(at, "Top-2 box (%)")
    assert shown["Week"].to_list() == expected.values.filter(pl.col("kpi") == "satisfaction")["period"].to_list()
    for row in shown.iter_rows(named=True):
        top = expected.values.filter(pl.col("kpi") == "satisfaction", pl.col("period") == row["Week"]).row(0, named=True)
        assert row["Ratings"] == top["n"]
        if top["value"] is None:
            assert row["Top-2 box (%)"] is None or row["Top-2 box (%)"] != row["Top-2 box (%)"]  # null or NaN
            assert row["Note"] == top["note"]
        else:
            assert row["Top-2 box (%)"] == pytest.approx(top["value"], abs=0.05)
            assert row["Satisfaction index (%)"] == pytest.approx(expected.value("satisfaction_index", period=row["Week"]), abs=0.05)


def test_the_default_view_is_every_department_with_engine_numbers(world):
    engine, departments, week = world
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Satisfaction and digital"
    assert any("Data as of" in caption.value for caption in at.caption)
    assert at.subheader[0].value.startswith("All departments, 13 weeks")
    assert [h.value for h in at.header] == ["User satisfaction", "Completion rate", "Digital take-up"]
    assert len(at.get("plotly_chart")) == 5
    days = window(week, 13)
    facts = load_facts(engine, departments, include=INCLUDE, **days)
    assert_weekly_satisfaction(at, facts, days)

    spread = table(at, "Rating", "Meaning")
    assert spread["Ratings"].to_list() == rating_distribution(facts, **days)["ratings"].to_list()
    completion = compute(facts, ["completion_rate"], by=["week"], **days)
    shown = table(at, "Measure", "Value")
    assert shown["Value"].to_list() == pytest.approx(completion.values["value"].round(2).to_list())

    take_up = table(at, "Service", "Digital take-up (%)")
    per_service = compute(facts, ["digital_take_up"], by=["service_id"], **days)
    assert take_up.height == 16
    names = {"Vehicle tax": "vehicle_tax", "Pension credit claim": "pension_credit"}
    for name, service in names.items():
        row = take_up.filter(pl.col("Service") == name).row(0, named=True)
        assert row["Digital take-up (%)"] == pytest.approx(per_service.value("digital_take_up", service_id=service), abs=0.05)
    assert take_up.filter(pl.col("Service") == "Vehicle tax")["Target (%)"].item() == 85.0  # its own target
    assert take_up.filter(pl.col("Service") == "Birth registration (no online service)")["Target (%)"].item() is None
    trend = table(at, "Group", "Digital take-up (%)")
    assert set(trend["Group"].to_list()) == {"All departments", "Revenue and Tax", "Transport and Licensing", "Benefits and Pensions", "Civil Registration and Permits"}


def test_a_department_gives_its_numbers_and_its_services(world):
    engine, _, week = world
    at = open_page()
    at.selectbox(key="param-department").set_value("civil").run()
    assert not at.exception
    assert at.subheader[0].value.startswith("Civil Registration and Permits, 13 weeks")
    days = window(week, 13)
    facts = load_facts(engine, ["civil"], include=INCLUDE, **days)
    assert_weekly_satisfaction(at, facts, days)
    take_up = table(at, "Service", "Digital take-up (%)")
    assert sorted(take_up["Service"].to_list()) == [
        "Birth registration (no online service)", "Building permit", "Marriage notice (no online service)", "Passport application",
    ]
    trend = table(at, "Group", "Digital take-up (%)")
    total = compute(facts, ["digital_take_up"], by=["week"], **days)
    shown = trend.filter(pl.col("Group") == "All of Civil Registration and Permits").sort("Week")
    assert shown["Digital take-up (%)"].to_list() == pytest.approx(total.values["value"].round(1).to_list())


def test_a_service_without_an_online_journey_says_so_and_weeks_too_few_are_gaps(world):
    engine, _, week = world
    at = open_page(department="civil", service="marriage_notice", weeks="26")
    assert not at.exception
    assert at.subheader[0].value.startswith("Marriage notice, 26 weeks")
    assert any("it has no online service" in info.value for info in at.info)
    days = window(week, 26)
    facts = load_facts(engine, ["civil"], include=INCLUDE, **days).where(service_id="marriage_notice")
    assert_weekly_satisfaction(at, facts, days)
    weekly = table(at, "Top-2 box (%)")
    assert weekly.height == 26
    gaps = weekly.filter(pl.col("Note").is_not_null())
    assert gaps.height > 0, "the small world should have weeks with too few ratings for this service"
    assert all(note.startswith("fewer than 10 ratings (") for note in gaps["Note"].to_list())
    assert any("weeks had fewer than 10 ratings and are not shown" in m.value for m in at.markdown)


def test_fewer_weeks_give_that_window(world):
    at = open_page(weeks="4")
    assert not at.exception
    assert table(at, "Top-2 box (%)").height == 4
    at.selectbox(key="param-weeks").set_value("8").run()
    assert table(at, "Top-2 box (%)").height == 8
    assert at.subheader[0].value.startswith("All departments, 8 weeks")


def test_a_service_of_another_department_in_a_link_falls_back_to_all_services(world):
    at = open_page(department="revenue", service="passport")
    assert not at.exception
    assert at.subheader[0].value.startswith("Revenue and Tax, 13 weeks")
