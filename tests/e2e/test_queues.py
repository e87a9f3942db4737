"""The queues page served for real and used in Chromium: a filter changes the view and the
URL, a copied link reproduces it, and the page is screenshotted at 1280 and 390 pixels."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import axe_violations, screenshot
from tests.e2e.helpers import choose, open_at, settle, subheader

pytestmark = pytest.mark.e2e


def test_queues_page_changes_office_and_keeps_it_in_the_link(server, browser):
    page = open_at(browser, f"{server}/queues", width=1280, height=2600)
    assert subheader(page).startswith("All contact centres, 13 weeks")
    page.get_by_text("Mean calls an hour", exact=False).first.wait_for()
    choose(page, "Office", "Leeds Service Centre", then="Leeds Service Centre, 13 weeks")
    assert "office=leeds" in page.url
    assert page.get_by_text("Visits only (in person channel)", exact=False).is_visible()
    settle(page)
    screenshot(page, "queues-1280")
    problems = axe_violations(page)
    assert problems == [], "\n".join(problems)
    shared = page.url
    page.context.close()

    phone = open_at(browser, shared, width=390, height=5200)
    assert subheader(phone).startswith("Leeds Service Centre, 13 weeks")
    settle(phone)
    screenshot(phone, "queues-390")
    phone.context.close()
