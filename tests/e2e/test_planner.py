"""The planner page served for real on a small world with a stored forecast run, in Chromium:
a what-if changed, the plan downloaded as CSV and checked against plan_staffing, the
shared link reproducing the view, axe-core, and screenshots at 1280 and 390 pixels."""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import Iterator

import polars as pl
import pytest

from data.database import create_engine
from forecasting.planning import default_settings, plan_staffing
from forecasting.store import load_staffing_inputs
from tests.dashboard.planner_world import EVERY_DEPARTMENT, make_planner_world
from tests.e2e.conftest import axe_violations, screenshot, serve, shows_text, wait_for_app

pytestmark = pytest.mark.e2e

FIRST = dt.date(2026, 11, 23)
LAST = FIRST + dt.timedelta(days=13)


@pytest.fixture(scope="module")
def planner_server(small_tables, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The dashboard on a small world with a stored forecast run: (base URL, database URL)."""
    folder = tmp_path_factory.mktemp("planner-e2e")
    url = make_planner_world(folder, small_tables)
    with serve(url, folder / "server.log") as base:
        yield base, url


def open_page(page, address: str) -> None:
    page.goto(address)
    wait_for_app(page, shows_text("Staff-hours per day: needed and rostered"))


def test_a_what_if_changes_the_plan_and_the_csv_holds_it(planner_server, page, tmp_path):
    base, database = planner_server
    open_page(page, f"{base}/planner")
    assert page.get_by_role("heading", name="Demand and staffing").is_visible()
    assert page.get_by_text("Which model, and how well it forecast the past").is_visible()

    volume = page.get_by_role("spinbutton", name="Volume change (%)", exact=True)  # not its "Help for ..." button
    volume.fill("20")
    volume.press("Enter")
    wait_for_app(page, "location.search.includes('volume=20')")

    with page.expect_download() as download:
        page.get_by_role("button", name="Plan by day (CSV)").click()
    path = tmp_path / "plan.csv"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"staffing-plan-by-day-sheffield-cc-{FIRST}-{LAST}.csv"
    plan_csv = pl.read_csv(path, try_parse_dates=True)

    engine = create_engine(database)
    try:
        inputs = load_staffing_inputs(engine, "sheffield_cc", FIRST, LAST, EVERY_DEPARTMENT)
    finally:
        engine.dispose()
    settings = dataclasses.replace(default_settings(inputs.office_kind), volume_change=0.2)
    expected = plan_staffing(inputs.forecast, inputs.queue, inputs.rostered, settings).days
    assert plan_csv["Date"].to_list() == expected["ds"].to_list()
    assert plan_csv["Office"].unique().to_list() == ["Sheffield Contact Centre"]
    assert plan_csv["Volume change %"].unique().to_list() == [20.0]
    assert plan_csv["Forecast calls"].to_list() == pytest.approx(expected["arrivals"].round(1).to_list())
    assert plan_csv["Needed, Erlang C (staff-hours)"].to_list() == pytest.approx(expected["hours_needed_erlang_c"].round(1).to_list())
    assert plan_csv["Needed, Erlang A (staff-hours)"].to_list() == pytest.approx(expected["hours_needed_erlang_a"].round(1).to_list())
    assert plan_csv["Rostered (staff-hours)"].to_list() == pytest.approx(expected["rostered_hours"].round(1).to_list())

    # the link reproduces the view: the same what-if in a fresh session
    shared = page.url
    assert urllib.parse.parse_qs(urllib.parse.urlparse(shared).query)["volume"] == ["20"]
    other = page.context.new_page()
    open_page(other, shared)
    assert other.get_by_role("spinbutton", name="Volume change (%)", exact=True).input_value() == "20"
    other.close()


def test_the_page_is_accessible_and_looks_right_at_1280_and_390(planner_server, browser):
    base, _ = planner_server
    for width, height in ((1280, 4400), (390, 7200)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        open_page(page, f"{base}/planner?series=contacts:sheffield_cc")
        page.wait_for_timeout(1_000)  # let Plotly finish drawing before the picture
        screenshot(page, f"planner-{width}")
        if width == 1280:
            problems = axe_violations(page)
            assert problems == [], "\n".join(problems)
        context.close()
