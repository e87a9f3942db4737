"""Small Playwright steps for the page tests: open a page at a width, pick an option in a
Streamlit select box, read the view's subheader."""

from __future__ import annotations

import re

from tests.e2e.conftest import has_heading, wait_for_app


def open_at(browser, url: str, *, width: int, height: int):
    """A fresh page (own context, as a new visitor) at ``url``. Streamlit scrolls inside
    its own container, so a tall viewport is what makes a whole-page screenshot."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    wait_for_app(page, "document.querySelector('[data-testid=\"stHeading\"] h3')")
    return page


def settle(page) -> None:
    """Wait until every visible table (not those in closed expanders) has drawn its
    canvas: tables load after the script ends."""
    wait_for_app(
        page,
        "[...document.querySelectorAll('[data-testid=\"stDataFrame\"]')].filter(t => !t.closest('details:not([open])')).every(t => t.querySelector('canvas'))",
    )
    page.wait_for_timeout(800)  # the grid paints its first frame


def subheader(page) -> str:
    return page.locator('[data-testid="stHeading"] h3').first.inner_text()


def choose(page, label: str, option: str, *, then: str | None = None, typed: bool = False) -> None:
    """Pick ``option`` in the select box labelled ``label`` (Streamlit 1.67: a React Aria
    combobox whose accessible name is its label) and, with ``then``, wait until the page
    is ready again showing the heading ``then`` (the new view: the old one, before the
    rerun starts, would pass for ready). ``typed``: type the option first (a long list is
    virtualised; the typing filters it) and pick the first option that contains it.

    The box is scrolled into view before it is opened: React Aria closes its list on a
    scroll, and the scroll Playwright makes to reach a box below the fold arrives after
    the list has opened (the drill-down once waited for its option until the timeout)."""
    box = page.get_by_role("combobox", name=label, exact=True).first
    box.scroll_into_view_if_needed()
    box.click()
    if typed:
        page.keyboard.type(option)
        page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    else:
        page.get_by_role("option", name=option, exact=True).click()
    if then is not None:
        wait_for_app(page, has_heading(then))


def shown_choice(page, label: str) -> str:
    """What the select box labelled ``label`` shows."""
    return page.get_by_role("combobox", name=label, exact=True).first.input_value()
