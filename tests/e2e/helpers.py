"""Small Playwright steps for the page tests: open a page at a width, pick an option in a
Streamlit select box, read the view's subheader."""

from __future__ import annotations

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


def choose(page, label: str, option: str, *, then: str) -> None:
    """Open the select box labelled ``label``, pick ``option`` and wait until the page is
    ready again showing the heading ``then`` (the new view: the old one, before the rerun
    starts, would pass for ready)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True))
    box.locator('[data-baseweb="select"]').click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page, has_heading(then))
