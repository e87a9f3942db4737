"""The satisfaction and digital page served for real and used in Chromium: a filter
changes the view and the URL, a copied link reproduces it, and the page is screenshotted
at 1280 and 390 pixels."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import axe_violations, screenshot
from tests.e2e.helpers import choose, open_at, settle, subheader

pytestmark = pytest.mark.e2e


def test_satisfaction_page_changes_department_and_keeps_it_in_the_link(server, browser):
    page = open_at(browser, f"{server}/satisfaction", width=1280, height=3400)
    assert subheader(page).startswith("All departments, 13 weeks")
    choose(page, "Department", "Transport and Licensing", then="Transport and Licensing, 13 weeks")
    assert "department=transport" in page.url
    choose(page, "Weeks", "26 weeks", then="Transport and Licensing, 26 weeks")
    assert "weeks=26" in page.url
    settle(page)
    screenshot(page, "satisfaction-1280")
    problems = axe_violations(page)
    assert problems == [], "\n".join(problems)
    shared = page.url
    page.context.close()

    phone = open_at(browser, shared, width=390, height=5600)
    assert subheader(phone).startswith("Transport and Licensing, 26 weeks")
    settle(phone)
    screenshot(phone, "satisfaction-390")
    phone.context.close()
