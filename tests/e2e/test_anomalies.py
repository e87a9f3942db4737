"""The Anomalies page served for real, with a stored detection run, in Chromium."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from anomalies.store import run_detection, store_detection
from data.database import create_engine, duckdb_path
from tests.e2e.conftest import axe_violations, has_heading, screenshot, serve, wait_for_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def flagged_server(duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on a copy of the small world after `python -m anomalies detect`."""
    folder = tmp_path_factory.mktemp("anomalies_e2e")
    target = folder / "flagged.duckdb"
    shutil.copy(duckdb_path(duckdb_url), target)
    url = f"duckdb:///{target}"
    engine = create_engine(url)
    store_detection(engine, run_detection(engine), started_at=dt.datetime(2026, 11, 23, 6), seconds=1.0)
    engine.dispose()
    with serve(url, folder / "server.log") as base:
        yield base


def open_anomalies(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page, has_heading("Notifications"))  # the last section: the whole page ran


def summary_text(page) -> str:
    return page.locator("strong", has_text="flags on").first.inner_text()


def test_flags_chart_explanation_and_drilldown_link(flagged_server, page):
    open_anomalies(page, f"{flagged_server}/anomalies?weeks=all")
    assert page.get_by_role("heading", name="Anomalies", exact=True).is_visible()
    assert "flags on daily series" in summary_text(page)
    page.locator(".js-plotly-plot").first.wait_for()
    link = page.get_by_role("link", name="Open the drill-down at this scope and week")
    href = link.get_attribute("href")
    assert href.startswith("/drilldown?kpi=") and "week=20" in href
    screenshot(page, "anomalies-1280")


def test_a_filter_change_lands_in_the_url_and_the_link_reproduces_the_view(flagged_server, page, browser):
    open_anomalies(page, f"{flagged_server}/anomalies?weeks=all")
    page.get_by_label("Series").click()  # the select box of daily or weekly series
    page.get_by_role("option", name="Weekly").click()
    wait_for_app(page, "location.search.includes('grain=week')")
    shown = summary_text(page)
    assert "on weekly series" in shown
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    open_anomalies(other, page.url)
    assert summary_text(other) == shown
    other.context.close()


def test_the_flags_table_downloads_as_csv(flagged_server, page):
    open_anomalies(page, f"{flagged_server}/anomalies?weeks=all")
    expander = page.get_by_test_id("stExpander").filter(has_text="Every flag shown")
    expander.get_by_text("Every flag shown").click()
    button = expander.get_by_role("button", name="Download CSV")
    button.wait_for(state="visible")
    with page.expect_download() as download:
        button.click()
    content = Path(download.value.path()).read_text()
    header = content.splitlines()[0]
    assert header.startswith("First day,Scope,Measure,Direction,Value,Expected,Explanation,Status")
    assert content.count("\n") >= 3 and "expected" in content


def test_no_serious_accessibility_violations(flagged_server, page):
    open_anomalies(page, f"{flagged_server}/anomalies?weeks=all")
    problems = axe_violations(page)  # the whole page, Streamlit's sidebar and toolbars included
    assert problems == [], "\n".join(problems)


def test_narrow_screen(flagged_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    open_anomalies(page, f"{flagged_server}/anomalies")
    assert page.get_by_role("heading", name="Anomalies", exact=True).is_visible()
    screenshot(page, "anomalies-390")
    context.close()
