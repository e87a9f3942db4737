"""End to end: the real app served by Streamlit on a free port, driven in headless Chromium
(devtools.serving: the server, the browser and the page's readiness, shared with bench/).

Every wait is on the page's own readiness (``wait_for_app``), with READY_TIMEOUT_MS as its
ceiling; every browser context has that ceiling as its default timeout too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.serving import CHROMIUM, DARK_THEME, ROOT, has_heading, launch_chromium, serve, shows_text, wait_for_app

__all__ = ["axe_violations", "has_heading", "screenshot", "serve", "shows_text", "wait_for_app"]

SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"


@pytest.fixture(scope="session")
def server(duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on the small world; yields its base URL."""
    with serve(duckdb_url, tmp_path_factory.mktemp("streamlit") / "server.log") as base:
        yield base


@pytest.fixture(scope="session")
def dark_server(duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same, in Streamlit's dark theme."""
    options = [f"--theme.{key}={value}" for key, value in DARK_THEME.items()]
    with serve(duckdb_url, tmp_path_factory.mktemp("streamlit-dark") / "server.log", *options) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def page_height(page) -> int:
    """The height of everything Streamlit drew (it scrolls inside its own container)."""
    return int(page.evaluate(
        """() => Math.max(document.body.scrollHeight,
            ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stMainBlockContainer"], [data-testid="stSidebarContent"]')]
                .map(element => element.scrollHeight))"""
    ))


def screenshot(page, name: str, *, max_height: int = 12_000) -> Path:
    """Save tests/e2e/screenshots/<name>.png of the whole page: the viewport is stretched
    to the page's height for the shot (Streamlit scrolls inside a container, so a plain
    full-page screenshot would stop at the window's edge), then put back."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size
    height = min(max(page_height(page) + 80, viewport["height"]), max_height)
    if height != viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": height})
        page.wait_for_timeout(300)  # let responsive charts and the layout settle at the new size
        wait_for_app(page)
    page.screenshot(path=str(path), full_page=True)
    if height != viewport["height"]:
        page.set_viewport_size(viewport)
    return path


# Accessibility: axe-core, bundled with axe-playwright-python (no network needed).
BLOCKING_IMPACTS = ("critical", "serious")


def axe_violations(page, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[str]:
    """Run axe-core on the whole page (Streamlit's own furniture included: see
    components.mend_streamlit_accessibility) and return the violations of the given
    impacts, one line per element: rule, impact, element and axe's messages."""
    from axe_playwright_python.sync_playwright import Axe

    with contextlib.suppress(Exception):  # without the mending script, axe reports what it would have mended
        page.wait_for_function("() => window.__kpiMended === true", timeout=5_000)
    problems: list[str] = []
    for attempt in range(2):
        if attempt:  # an element caught mid-transition (a fading badge) can fail for a moment: what stays, counts
            wait_for_app(page)
            page.wait_for_timeout(1_500)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        results = Axe().run(page).response
        problems = []
        for violation in results["violations"]:
            if violation["impact"] not in impacts:
                continue
            for node in violation["nodes"]:
                messages = "; ".join(item["message"] for item in node.get("any", []) + node.get("all", []) + node.get("none", []))
                problems.append(f"{violation['id']} ({violation['impact']}): {node['html'][:160]} — {messages[:300]}")
        if not problems:
            break
    return problems
