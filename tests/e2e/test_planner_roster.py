"""The planner's roster sections served for real in Chromium, on a small world with a
stored forecast run and the example roster imported: the sentence saying where scheduled
staff come from, the shift plan's people short per half hour, the week's editor, axe-core,
and screenshots of the sections at 1280 pixels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from data.importer import import_file
from tests.dashboard.planner_world import make_planner_world
from tests.e2e.conftest import SCREENSHOTS, axe_violations, serve, shows_text, wait_for_app
from tests.fixtures.rosters import EXAMPLE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def roster_server(small_tables, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("planner-roster-e2e")
    url = make_planner_world(folder, small_tables)
    import_file(EXAMPLE, "rosters_example", url)
    with serve(url, folder / "server.log") as base:
        yield base


def test_the_roster_sections_show_and_are_accessible_at_1280(roster_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{roster_server}/planner?office=sheffield_cc")
    wait_for_app(page, shows_text("People short per half hour on the roster"))
    page.wait_for_timeout(1_000)  # let Plotly finish drawing before the picture
    assert page.get_by_text("scheduled staff come from the roster of Sheffield Contact Centre").is_visible()
    assert page.get_by_text("No roster imported for Sheffield Contact Centre in week of Mon 30 Nov 2026").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    heading = page.get_by_role("heading", name="The shift plan: people short per half hour")
    heading.scroll_into_view_if_needed()
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.screenshot(path=str(SCREENSHOTS / "planner-roster-shift-plan-1280.png"))
    editor = page.get_by_role("heading", name="Edit a week's roster")
    editor.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "planner-roster-editor-1280.png"))
    assert page.get_by_role("button", name="Save the week's roster").is_visible()
    problems = axe_violations(page)
    assert problems == [], "\n".join(problems)
    context.close()
