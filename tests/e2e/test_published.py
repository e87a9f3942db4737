"""Published series, served for real and opened in Chromium at 1280 px: the Overview's
section for civil (the small world with tests/published_set.py imported) and the
Published series page walked down to the offices, with a link between them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import has_heading, screenshot, serve, shows_text, wait_for_app
from tests.published_set import import_published_set

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def published_server(duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("published-e2e")
    path = folder / "published.duckdb"
    shutil.copy(duckdb_url.removeprefix("duckdb:///"), path)
    import_published_set(f"duckdb:///{path}", folder)
    with serve(f"duckdb:///{path}", folder / "server.log") as base:
        yield base


def test_the_overview_section_links_to_the_series_and_its_offices(published_server, page):
    page.goto(f"{published_server}/?department=civil")
    wait_for_app(page, has_heading("Published series"))
    section = page.locator("ul.kpi-published li").first
    assert "75.00% in Oct 2026" in section.inner_text() and "Off target" in section.inner_text()
    page.get_by_role("heading", name="Published series").scroll_into_view_if_needed()
    screenshot(page, "published-overview-1280")
    section.get_by_role("link", name="Trend and breakdown").click()
    wait_for_app(page, shows_text("By service"))
    assert page.url.startswith(f"{published_server}/published?")
    page.goto(f"{published_server}/published?series=passport_standard&department=civil&service=passport&at=2026-10-01")
    wait_for_app(page, shows_text("2 offices: lowest Leeds Service Centre (60.00%)"))
    screenshot(page, "published-offices-1280")
