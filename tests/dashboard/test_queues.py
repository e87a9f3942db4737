"""The queues page through AppTest on the small world: its numbers are the metric engine's,
and changing the office or the weeks changes them as the engine says."""

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
from metrics.scorecard import latest_complete_week
from tests.conftest import ROOT
from tests.dashboard.conftest import APP, page_file

# Streamlit's runner puts the entry script's folder on sys.path (pages import _boot by
# its bare name); a page opened straight from a link, before app.py has run, needs it too.
if str(ROOT / "dashboard") not in sys.path:
    sys.path.insert(0, str(ROOT / "dashboard"))

CONTACT_CENTRES = ["coventry_cc", "sheffield_cc", "southampton_cc"]
NAMES = {"coventry_cc": "Coventry Contact Centre", "sheffield_cc": "Sheffield Contact Centre", "southampton_cc": "Southampton Contact Centre"}


@pytest.fixture
def world(app_env, all_departments):
    engine = create_engine(app_env)
    as_of = data_extent(engine, all_departments, "Europe/London")[1]
    week = latest_complete_week(as_of)
    yield engine, all_departments, week
    engine.dispose()


def open_page(**query: str) -> AppTest:
    """The page opened straight from a link with ``query`` in its URL, as a browser does."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page(page_file("pages/queues.py"))
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def window(week: str, weeks: int):
    monday = parse_week(week)
    return monday - timedelta(weeks=weeks - 1), monday + timedelta(days=6)


def table(at: AppTest, first_column: str) -> pl.DataFrame:
    """The first table whose first column is ``first_column``."""
    for frame in at.dataframe:
        value = frame.value
        if len(value.columns) and value.columns[0] == first_column:
            return pl.from_pandas(value)
    raise AssertionError(f"no table starts with {first_column!r}: {[list(f.value.columns)[:2] for f in at.dataframe]}")


def trend_values(at: AppTest, measure_prefix: str) -> dict[str, float | None]:
    for frame in at.dataframe:
        value = frame.value
        if "Measure" in value.columns and str(value["Measure"].iloc[0]).startswith(measure_prefix):
            rows = pl.from_pandas(value)
            return dict(zip(rows["Week"].to_list(), rows["Value"].to_list(), strict=True))
    raise AssertionError(f"no trend table of {measure_prefix!r}")


def test_the_default_view_is_every_contact_centre_with_engine_numbers(world):
    engine, departments, week = world
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Queues"
    assert any("Data as of" in caption.value for caption in at.caption)
    assert at.subheader[0].value.startswith("All contact centres, 13 weeks, ")
    assert at.subheader[0].value.count(week) == 1
    assert [header.value for header in at.header][:2] == ["Arrivals and waits by weekday and hour", "Over time"]
    assert len(at.get("plotly_chart")) == 6  # two heatmaps, four metrics over time
    first, last = window(week, 13)
    facts = load_facts(engine, departments, first, last, include=("contacts",))

    # the comparison of the last week: every contact centre, then all of them
    monday = parse_week(week)
    compared = table(at, "Office")
    expected = compute(
        facts.where(office_id=CONTACT_CENTRES, channel="phone"), ["service_level", "asa", "abandonment_rate", "aht"],
        by=["week", "office_id"], first_day=monday, last_day=monday + timedelta(days=6),
    )
    assert compared["Office"].to_list() == [NAMES[o] for o in sorted(CONTACT_CENTRES)] + ["All contact centres"]
    for office in CONTACT_CENTRES:
        row = compared.filter(pl.col("Office") == NAMES[office]).row(0, named=True)
        for kpi in ("service_level", "asa", "abandonment_rate", "aht"):
            assert row[kpi] == pytest.approx(expected.value(kpi, office_id=office))
        assert row["Calls"] == expected.values.filter(pl.col("kpi") == "service_level", pl.col("office_id") == office)["n"].item()

    # the metrics over time, and the heatmaps' arrivals, are the engine's
    weekly = compute(facts.where(office_id=CONTACT_CENTRES, channel="phone"), ["service_level", "asa"], by=["week"], first_day=first, last_day=last)
    shown = trend_values(at, "Service level")
    assert len(shown) == 13
    for period, value in shown.items():
        assert value == pytest.approx(weekly.value("service_level", period=period), abs=0.005)
    offered = weekly.values.filter(pl.col("kpi") == "service_level")["denominator"].sum()
    by_hour = table(at, "Weekday")
    assert by_hour["Calls"].sum() == offered + weekly.rule_counts["short_abandon_5s"]  # every arrival, short abandons too


def test_a_service_centre_shows_visits_and_never_calls(world):
    engine, departments, week = world
    at = open_page()
    at.selectbox(key="param-office").set_value("birmingham").run()
    assert not at.exception
    assert at.query_params["office"] == "birmingham"
    assert at.subheader[0].value.startswith("Birmingham Service Centre, 13 weeks")
    assert any("Visits only (in person channel)" in caption.value for caption in at.caption)
    compared = table(at, "Office")
    assert "Birmingham Service Centre (selected)" in compared["Office"].to_list()
    assert compared["Office"].to_list()[-1] == "All service centres"
    assert "service_level" not in compared.columns and "wait_time_median" in compared.columns

    monday = parse_week(week)
    last_week = dict(first_day=monday, last_day=monday + timedelta(days=6))
    facts = load_facts(engine, departments, *window(week, 13), include=("contacts",))
    visits = facts.where(office_id="birmingham", channel="in_person")
    row = compared.filter(pl.col("Office").str.starts_with("Birmingham")).row(0, named=True)
    assert row["wait_time_median"] == pytest.approx(compute(visits, ["wait_time_median"], **last_week).value("wait_time_median"))
    own = compute(visits, ["visit_abandonment_rate", "visit_handle_time"], by=["week"], **last_week).values
    assert row["visit_abandonment_rate"] == pytest.approx(own.filter(pl.col("kpi") == "visit_abandonment_rate")["value"].item())
    assert row["Visits"] == own.filter(pl.col("kpi") == "visit_abandonment_rate")["n"].item()
    # a wait target of its own (metrics/targets.toml) is the one shown
    assert any("Wait in person (median)" in item and "target 6.0 min" in item for item in (m.value for m in at.markdown))


def test_fewer_weeks_give_that_window_and_its_numbers(world):
    engine, departments, week = world
    at = open_page(office="coventry_cc", weeks="4")
    assert not at.exception
    assert at.selectbox(key="param-office").value == "coventry_cc"
    assert at.subheader[0].value.startswith("Coventry Contact Centre, 4 weeks")
    first, last = window(week, 4)
    facts = load_facts(engine, departments, first, last, include=("contacts",)).where(office_id="coventry_cc", channel="phone")
    expected = compute(facts, ["asa"], by=["week"], first_day=first, last_day=last)
    shown = trend_values(at, "Average speed of answer")
    assert list(shown) == expected.values["period"].to_list()
    assert list(shown.values()) == pytest.approx(expected.values["value"].round(2).to_list())

    at.selectbox(key="param-weeks").set_value("8").run()
    assert len(trend_values(at, "Average speed of answer")) == 8


def test_the_wait_shown_by_hour_follows_its_filter(world):
    at = open_page(office="leeds", wait="median")
    assert not at.exception
    assert any(m.value.startswith("**The median wait is longest on") for m in at.markdown)
    at.selectbox(key="param-wait").set_value("p90").run()
    assert any(m.value.startswith("**The 90th-percentile wait is longest on") for m in at.markdown)


def test_an_unknown_office_in_a_link_falls_back_to_the_contact_centres(world):
    at = open_page(office="online_north")
    assert not at.exception
    assert at.subheader[0].value.startswith("All contact centres")
