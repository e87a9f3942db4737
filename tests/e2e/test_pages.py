"""Every page of the navigation, served for real and driven in headless Chromium.

One server for the session (the ``server`` fixture, on the small world). The pages are
read from the sidebar's links, so a page added to dashboard/app.py is covered without
touching this file. Each page is checked at 1280 and 390 pixels wide: fully rendered, no
Streamlit exception box, "data as of" shown, no sideways overflow, a screenshot saved
(tests/e2e/screenshots/<page>-<width>.png) and axe-core with no critical or serious
violation; and once more in Streamlit's dark theme at 1280 (<page>-dark-1280.png). The Overview's week filter, a shared link and the scorecard CSV download are
checked against the metric engine, and a link of the where-matrix lands on the
drill-down at that measure, service and week.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest

from data.database import create_engine
from data.extracts import run_extract
from data.facts import data_extent, load_facts, organisation_timezone
from metrics.formatting import number
from metrics.periods import parse_week, week_label
from metrics.scorecard import Scorecard, latest_complete_week, scorecard
from metrics.targets import load_targets
from tests.e2e.conftest import axe_violations, screenshot, wait_for_app
from tests.e2e.helpers import choose, shown_choice

pytestmark = pytest.mark.e2e

WIDTHS = {1280: 900, 390: 844}  # width: window height (an iPhone 12-ish phone at 390)
TILE_KPIS = ("volume", "on_time_rate", "processing_time_median", "service_level", "satisfaction")


# ---------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def navigation(server, browser) -> list[tuple[str, str]]:
    """(name, URL) of every page in the sidebar; the default page is served at "/" and is
    the Overview (dashboard/app.py)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server)
    wait_for_app(page)
    links = page.eval_on_selector_all('[data-testid="stSidebarNav"] a', "links => links.map(a => a.href)")
    context.close()
    pages = []
    for href in links:
        path = urlparse(href).path.strip("/")
        pages.append((path or "overview", f"{server}/{path}"))
    assert len(pages) >= 2, f"the sidebar lists {links}"
    return pages


@pytest.fixture(scope="module")
def world(duckdb_url: str, all_departments: list[str]):
    """What the server sees: engine, departments, last date with data, and names."""
    engine = create_engine(duckdb_url)
    offices = run_extract(engine, "offices", departments=all_departments)
    services = run_extract(engine, "services", departments=all_departments)
    _first, last = data_extent(engine, all_departments, organisation_timezone(offices))
    names = run_extract(engine, "departments", departments=all_departments)
    yield {
        "engine": engine, "departments": all_departments, "as_of": last, "services": services,
        "department_names": dict(zip(names["department_id"], names["name"], strict=True)),
    }
    engine.dispose()


def expected_scorecard(world, week: str, department: str | None = None, service: str | None = None) -> Scorecard:
    """The scorecard the metric engine gives for a scope and week (as `python -m metrics
    scorecard` prints it), from facts loaded afresh."""
    monday = parse_week(week)
    departments = [department] if department else world["departments"]
    facts = load_facts(world["engine"], departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
    scope = {}
    if department:
        scope["department_id"] = department
    if service:
        scope["service_id"] = service
        facts = facts.where(service_id=service)
    offline = frozenset(world["services"].filter(~pl.col("digital"))["service_id"].to_list())
    return scorecard(facts, week, scope=scope, as_of=world["as_of"], targets=load_targets(), offline_services=offline)


def tile_values(page) -> dict[str, str]:
    """The value shown in each KPI tile, by the tile's label."""
    return dict(page.eval_on_selector_all(
        "section.kpi-tile", "tiles => tiles.map(t => [t.getAttribute('aria-label'), t.querySelector('.kpi-value').textContent])"
    ))


def expected_tiles(card: Scorecard) -> dict[str, str]:
    return {row["label"]: number(row["value"], row["kpi"]) if row["applicable"] else "n/a" for row in card.rows.iter_rows(named=True)}


# ---------------------------------------------------------------------- every page


def check_pages(browser, pages: list[tuple[str, str]], width: int, shot_suffix: str = "") -> list[str]:
    """Open every page at one width and return every problem found, page by page."""
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    try:
        for name, url in pages:
            shot = f"{name}{shot_suffix}-{width}"
            page.goto(url)
            try:
                wait_for_app(page)
            except Exception as error:  # noqa: BLE001 (reported with the others below)
                problems.append(f"{name}: never ready ({str(error).splitlines()[0]})")
                screenshot(page, shot)
                continue
            exceptions = page.get_by_test_id("stException")
            if exceptions.count():
                problems.append(f"{name}: exception box: {exceptions.first.inner_text()[:300]}")
            if not page.get_by_text(re.compile(r"^(Data as of|No data yet)")).count():
                problems.append(f"{name}: no 'Data as of' line")
            overflow = page.evaluate(
                "() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m.scrollWidth - m.clientWidth; }"
            )
            if overflow > 1:
                problems.append(f"{name}: the page is {overflow} px wider than the {width} px window")
            screenshot(page, shot)
            found = axe_violations(page)
            problems.extend(f"{name} at {width} px{shot_suffix and ' (' + shot_suffix.strip('-') + ')'}: axe: {line}" for line in found)
    finally:
        context.close()
    return problems


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_renders_cleanly_and_accessibly(browser, navigation, width):
    """All pages at one width; every problem of every page is reported at once."""
    problems = check_pages(browser, navigation, width)
    assert not problems, "\n".join(problems)


def test_every_page_is_accessible_in_the_dark_theme(browser, navigation, server, dark_server):
    """Streamlit's dark theme, at 1280 px: the same checks (axe's contrast rule included)."""
    pages = [(name, url.replace(server, dark_server, 1)) for name, url in navigation]
    problems = check_pages(browser, pages, 1280, shot_suffix="-dark")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------- the Overview's filters


def test_a_week_chosen_on_the_overview_shows_that_weeks_numbers(browser, server, world):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server)
    wait_for_app(page)
    default_week = latest_complete_week(world["as_of"])
    assert tile_values(page) == expected_tiles(expected_scorecard(world, default_week))

    week = week_label(parse_week(default_week) - timedelta(weeks=6))
    choose(page, "Week", week, typed=True)
    wait_for_app(page, f"location.search.includes('week={week}') && document.querySelector('h3')?.textContent.startsWith('All departments, {week}')")
    shown = tile_values(page)
    expected = expected_tiles(expected_scorecard(world, week))
    assert shown == expected
    for kpi_label in ("Volume", "On-time rate", "Processing time (median)"):
        assert shown[kpi_label] != "–"
    # the numbers did change with the week
    assert shown != expected_tiles(expected_scorecard(world, default_week))

    # the URL now carries the week: opened in a fresh browser, it gives the same view
    link = page.url
    context.close()
    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    other = fresh.new_page()
    other.goto(link)
    wait_for_app(other)
    assert tile_values(other) == shown
    fresh.close()


def test_a_shared_link_opens_the_same_view_in_a_fresh_browser(browser, server, world):
    services = world["services"].sort("service_id")
    service = services.row(0, named=True)
    week = week_label(parse_week(latest_complete_week(world["as_of"])) - timedelta(weeks=3))
    link = f"{server}/?department={service['department_id']}&service={service['service_id']}&week={week}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(link)
    wait_for_app(page)
    heading = page.locator('[data-testid="stMain"] h3').first.text_content()
    assert heading.startswith(f"{service['name']}, {week}")
    department = world["department_names"][service["department_id"]]
    for label, text in (("Department", department), ("Service", service["name"]), ("Week", week)):
        assert text in shown_choice(page, label), (label, shown_choice(page, label))
    expected = expected_scorecard(world, week, department=service["department_id"], service=service["service_id"])
    assert tile_values(page) == expected_tiles(expected)
    query = parse_qs(urlparse(page.url).query)
    assert query == {"department": [service["department_id"]], "service": [service["service_id"]], "week": [week]}
    context.close()


def test_the_scorecard_csv_download_holds_the_scorecard(browser, server, world):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(server)
    wait_for_app(page)
    page.get_by_text("The scorecard as a table").click()
    expander = page.get_by_test_id("stExpander").filter(has_text="The scorecard as a table")
    with page.expect_download() as download_info:
        expander.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    week = latest_complete_week(world["as_of"])
    assert download.suggested_filename == f"scorecard-all-departments-{week.lower()}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    expected = expected_scorecard(world, week).rows
    assert [row["KPI"] for row in rows] == expected["kpi"].to_list()
    for row, want in zip(rows, expected.iter_rows(named=True), strict=True):
        assert row["Measure"] == want["label"]
        assert row["Status"] == want["status"]
        for column in ("value", "last_week", "same_week_last_year", "target"):
            if want[column] is None:
                assert row[column] == ""
            else:
                assert float(row[column]) == pytest.approx(want[column], rel=1e-12)
        assert int(row["Observations"]) == want["n"]
    context.close()



def test_a_where_matrix_link_lands_on_the_drilldown_at_that_view(browser, server, world):
    """A click on the matrix's processing-time cell of one service opens the drill-down
    at that measure, that service and the week, showing the number the cell showed."""
    week = week_label(parse_week(latest_complete_week(world["as_of"])) - timedelta(weeks=2))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/overview?department=civil&week={week}")
    wait_for_app(page, "document.querySelector('table.wm')")
    assert parse_qs(urlparse(page.url).query) == {"department": ["civil"], "week": [week]}  # /overview opened the Overview, week kept
    cell = page.locator(f'table.wm a[href="drilldown?kpi=processing_time_median&department=civil&service=passport&week={week}"]')
    shown = cell.locator(".wm-v").inner_text()
    expected = expected_scorecard(world, week, department="civil", service="passport").rows.filter(pl.col("kpi") == "processing_time_median").row(0, named=True)
    assert shown == number(expected["value"], "processing_time_median")
    cell.click()
    wait_for_app(page, f"location.pathname.endsWith('/drilldown') && [...document.querySelectorAll('h3')].some(h => h.textContent.startsWith('Processing time (median), Passport application, week {week}'))")
    assert parse_qs(urlparse(page.url).query) == {"kpi": ["processing_time_median"], "department": ["civil"], "service": ["passport"], "week": [week]}
    headline = page.get_by_test_id("stMetricValue").first.inner_text()
    assert headline == shown
    screenshot(page, "where-link-drilldown-1280")
    context.close()
