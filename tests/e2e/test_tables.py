"""The home page, served for real and opened in Chromium."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def test_home_page_renders_the_table_counts(server, page):
    page.goto(f"{server}/tables")
    wait_for_app(page)
    page.get_by_text("Tables and their rows").wait_for()
    assert page.get_by_role("heading", name="Tables", exact=True).is_visible()
    screenshot(page, "tables-1280")
