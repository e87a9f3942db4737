"""The queues page served for real and used in Chromium: a filter changes the view and the
URL, a copied link reproduces it, and the page is screenshotted at 1280 and 390 pixels."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import axe_violations, screenshot
from tests.e2e.helpers import choose, open_at, settle, subheader

pytestmark = pytest.mark.e2e

# The numbers written over heatmap cells (charts.cell_labels: text-only traces).
CELL_TEXT = ".stPlotlyChart:has(.heatmaplayer .hm) .scatterlayer .trace:not(:has(path.js-line, path.point)) .textpoint"


def cell_numbers(page) -> int:
    return page.evaluate(f"() => document.querySelectorAll({CELL_TEXT!r}).length")


def visible_cell_numbers(page) -> int:
    return page.evaluate(f"() => [...document.querySelectorAll({CELL_TEXT!r})].filter(t => getComputedStyle(t).display !== 'none').length")


def test_queues_page_changes_office_and_keeps_it_in_the_link(server, browser):
    page = open_at(browser, f"{server}/queues", width=1280, height=2600)
    assert subheader(page).startswith("All contact centres, 13 weeks")
    page.get_by_text("Mean calls an hour", exact=False).first.wait_for()
    choose(page, "Office", "Leeds Service Centre", then="Leeds Service Centre, 13 weeks")
    assert "office=leeds" in page.url
    assert page.get_by_text("Visits only (in person channel)", exact=False).is_visible()
    settle(page)
    assert visible_cell_numbers(page) == cell_numbers(page) > 0  # wide enough: every heatmap cell has its number
    assert not page.locator(".narrow-note").first.is_visible()
    screenshot(page, "queues-1280")
    problems = axe_violations(page)
    assert problems == [], "\n".join(problems)
    shared = page.url
    page.context.close()

    phone = open_at(browser, shared, width=390, height=5200)
    assert subheader(phone).startswith("Leeds Service Centre, 13 weeks")
    settle(phone)
    # too narrow for the cells' numbers (they ran together: "104105"): hidden, and the page says where they are
    assert cell_numbers(phone) > 0 and visible_cell_numbers(phone) == 0
    assert phone.locator(".narrow-note").first.is_visible()
    screenshot(phone, "queues-390")
    phone.context.close()
