"""The drill-down page served for real and driven in Chromium: walk down two levels by
clicking, go back up by a breadcrumb, open the shared link and get the same view,
download the rows behind the number as CSV and Excel and check them against the
extract, and check accessibility with axe-core."""

from __future__ import annotations

import json
import re
import warnings
from datetime import date

import polars as pl
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from data.database import create_engine
from data.extracts import run_extract
from metrics.drilldown import Scope, rows_query
from metrics.registry import METRICS
from tests.e2e.conftest import axe_violations, has_heading, screenshot, wait_for_app
from tests.e2e.helpers import choose

pytestmark = pytest.mark.e2e

WEEK = "2026-W47"
MONDAY, SUNDAY = date(2026, 11, 16), date(2026, 11, 22)
# How long a click on the grid may take to make the browser request a rerun (it takes
# milliseconds: the request is made in the browser, before the server does anything).
CLICK_REGISTERS_MS = 15_000


def settle(page, heading: str, until: str = "true") -> None:
    """Wait until the page is ready (its rerun over) and shows ``heading`` (and ``until``)."""
    wait_for_app(page, f"({has_heading(heading)}) && ({until})")


def select_row(page, level: str, row: int, *, then: str) -> None:
    """Tick row ``row`` (0 = the first) of the peer table of ``level`` (its rows are 35
    pixels high under a header of the same height; the tick box is the first column) and
    wait until the page is ready showing the heading ``then``.

    A click on the grid's canvas can be lost (it once left the test waiting for "Offices
    compared" until it timed out). A click that registers makes Streamlit request a rerun
    at once, in the browser; so when, well after the click, the page is still idle on the
    same view with nothing requested, the click is made again (at most three times)."""
    grid = page.locator(f'[class*="st-key-peers-{level}"] [data-testid="stDataFrameResizable"]').first
    grid.locator("canvas").first.wait_for()  # a click before the grid has drawn is lost
    before = page.evaluate("() => location.search")
    reacted = (
        f"() => document.querySelector('[data-testid=\"stApp\"]').getAttribute('data-test-script-state') !== 'notRunning'"
        f" || location.search !== {json.dumps(before)} || ({has_heading(then)})"
    )
    for _attempt in range(3):
        # the grid in the middle of the window, clear of Streamlit's fixed header (a click
        # at a point under the header goes to the header), then a click that Playwright
        # lands only where the grid itself receives it (its hit-target check)
        grid.evaluate("element => element.scrollIntoView({block: 'center'})")
        wait_for_app(page)  # nothing above the grid still moving it: the point clicked is where it stays
        grid.click(position={"x": 18, "y": 35 * (row + 1) + 17})
        try:
            page.wait_for_function(reacted, timeout=CLICK_REGISTERS_MS, polling=50)
        except PlaywrightTimeoutError:  # still idle, same view: the click was lost
            warnings.warn(f"a click on row {row} of the {level} table was lost; clicking again", stacklevel=2)
            continue
        wait_for_app(page, has_heading(then))
        return
    raise AssertionError(f"three clicks on row {row} of the {level} table changed nothing (still {page.url})")


def headline(page) -> tuple[str, str]:
    metric = page.get_by_test_id("stMetric").first
    return metric.get_by_test_id("stMetricLabel").inner_text().strip(), metric.get_by_test_id("stMetricValue").inner_text().strip()


def crumbs(page) -> str:
    return page.locator(".st-key-drill-breadcrumbs").inner_text()


def test_walk_down_up_share_and_download(server, page, browser, tmp_path, duckdb_url, all_departments):
    page.goto(f"{server}/drilldown")
    settle(page, f"Departments compared, week {WEEK}")
    assert headline(page)[0] == f"On-time rate, week {WEEK}"
    assert axe_violations(page) == []

    # down two levels, by clicking: a choice in the select box, then a row of the table
    choose(page, "Go down to a department", "Civil Registration and Permits")
    settle(page, f"Services compared, week {WEEK}")
    best = page.get_by_text(re.compile(r"^Of \d+ services, ")).first.inner_text().split(", ")[1].split(" had the highest")[0]
    select_row(page, "service_id", 0, then=f"Offices compared, week {WEEK}")  # sorted best first
    assert "department=civil" in page.url and "service=" in page.url
    assert best in crumbs(page)
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 4200})
    screenshot(page, "drilldown-1280")
    page.set_viewport_size({"width": 390, "height": 7000})
    page.wait_for_timeout(1500)  # let the charts redraw at the new width
    screenshot(page, "drilldown-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # back up one level by its breadcrumb
    page.locator(".st-key-drill-breadcrumbs").get_by_role("button", name="Civil Registration and Permits").click()
    settle(page, f"Services compared, week {WEEK}", until="!location.search.includes('service=')")
    assert "department=civil" in page.url
    view = headline(page), crumbs(page)

    # the shared link gives the same view in a new session
    shared = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    other = shared.new_page()
    other.goto(page.url)
    settle(other, f"Services compared, week {WEEK}")
    assert other.locator(".st-key-drill-breadcrumbs").get_by_role("button", name="All departments").is_visible()
    assert (headline(other), crumbs(other)) == view
    shared.close()

    # the rows behind the number, as CSV and Excel, are the extract's rows
    total = int(re.search(r"([\d,]+) cases", page.get_by_text(re.compile(r"^[\d,]+ cases")).first.inner_text()).group(1).replace(",", ""))
    page.get_by_role("button", name=re.compile("Prepare the CSV and Excel files")).click()
    csv_button, excel_button = page.locator(".st-key-drill-csv button"), page.locator(".st-key-drill-xlsx button")
    wait_for_app(page, "document.querySelector('.st-key-drill-csv button') && document.querySelector('.st-key-drill-xlsx button')")
    with page.expect_download() as csv_download:
        csv_button.click()
    csv_path = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(csv_path)
    with page.expect_download() as excel_download:
        excel_button.click()
    excel_path = tmp_path / excel_download.value.suggested_filename
    excel_download.value.save_as(excel_path)
    assert csv_path.suffix == ".csv" and excel_path.suffix == ".xlsx"

    from_csv = pl.read_csv(csv_path, infer_schema_length=None)
    from_excel = pl.read_excel(excel_path)
    engine = create_engine(duckdb_url)
    query = rows_query(METRICS["on_time_rate"], Scope(department_id="civil"), all_departments, MONDAY, SUNDAY, timezone="Europe/London", limit=1_000_000)
    expected = run_extract(engine, query.extract, departments=list(query.departments), **query.params)
    engine.dispose()
    assert from_csv.height == from_excel.height == expected.height == total
    assert from_csv.columns[:7] == ["Case", "State", "Service", "Office", "Channel", "Due", "Days late"]  # what triage reads first
    assert from_csv["Case"].to_list() == expected["case_id"].to_list()
    assert from_excel["Case"].cast(pl.Int64).to_list() == expected["case_id"].to_list()
    on_time = expected["on_time"].sum()
    assert (from_csv["On time"] == "yes").sum() == (from_excel["On time"] == "yes").sum() == on_time
    assert from_csv["Submitted"][0] == expected["submitted_at"][0].strftime("%Y-%m-%d %H:%M:%S")
