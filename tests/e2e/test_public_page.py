"""The public performance page served for real (``python -m public_page``) on a release of
the small world, in Chromium: axe finds nothing critical or serious at 1280 and 390
pixels, a citizen can choose a service with the keyboard alone, a shared link opens that
service, and the files offered are the release's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.serving import has_heading, serve, wait_for_app
from tests.e2e.conftest import axe_violations, screenshot
from tests.public.conftest import publication_file, release  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def public_server(release, duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    releases = Path(release["folder"]).parent
    log = tmp_path_factory.mktemp("public-log") / "public.log"
    # no database for it: the URL points nowhere, and the page must not need it
    with serve("postgresql+psycopg://nobody@127.0.0.1:1/none", log, module="public_page",
               environment={"KPI_PUBLIC_RELEASES": str(releases)}) as base:
        yield base


def open_page(browser, url: str, width: int, height: int, heading: str):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    wait_for_app(page, has_heading(heading))
    return page


@pytest.mark.parametrize(("width", "height"), [(1280, 3600), (390, 6400)])
def test_the_public_page_passes_axe_at_desktop_and_phone_widths(public_server, browser, width, height):
    page = open_page(browser, f"{public_server}/?service=passport", width, height, "About these figures")
    assert page.get_by_role("heading", name="How long it takes").is_visible()
    assert page.get_by_text("Half were decided within").first.is_visible()
    screenshot(page, f"public-{width}")
    problems = axe_violations(page)
    assert problems == [], "\n".join(problems)
    page.context.close()


def test_a_service_is_chosen_with_the_keyboard_alone_and_the_link_keeps_it(public_server, browser):
    page = open_page(browser, f"{public_server}/?service=passport", 1280, 1400, "Passport application")
    box = page.get_by_role("combobox", name="Service")
    for _ in range(40):  # Tab from the top of the page until the service box has the focus
        page.keyboard.press("Tab")
        if box.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("the service box cannot be reached with Tab")
    page.keyboard.type("Blue badge")
    page.keyboard.press("Enter")
    wait_for_app(page, has_heading("Blue badge application"))
    assert "service=blue_badge" in page.url
    shared = page.url
    page.context.close()
    again = open_page(browser, shared, 1280, 1400, "Blue badge application")
    again.context.close()


def test_the_files_offered_are_the_releases_own(public_server, browser, release):  # noqa: F811
    page = open_page(browser, f"{public_server}/?service=passport", 1280, 3600, "About these figures")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download datapackage.json").click()
    path = download.value.path()
    assert Path(path).read_bytes() == (Path(release["folder"]) / "datapackage.json").read_bytes()
    page.context.close()
