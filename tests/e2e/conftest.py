"""End to end: the real app served by Streamlit on a free port, driven in headless Chromium.

Chromium is Debian's package (/usr/bin/chromium, installed by .ci/run), driven by
Playwright's Python package; Playwright's own browser download is never used.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

CHROMIUM = os.environ.get("KPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"


# Streamlit's own dark theme (what a viewer gets by choosing "Dark" in the app's settings);
# every colour is given, since the light ones of .streamlit/config.toml would otherwise stay.
DARK_THEME = {
    "base": "dark", "primaryColor": "#FF4B4B", "backgroundColor": "#0E1117",
    "secondaryBackgroundColor": "#262730", "textColor": "#FAFAFA",
}


@contextlib.contextmanager
def serve(database_url: str, log: Path, *options: str) -> Iterator[str]:
    """The dashboard on a free port (``python -m dashboard``) with Streamlit options;
    yields its base URL and stops it afterwards."""
    with serve_process(database_url, log, *options) as (base, _process):
        yield base


@contextlib.contextmanager
def serve_process(database_url: str, log: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``serve``, yielding the server process too (the benchmarks read its memory)."""
    port = free_port()
    environment = {**os.environ, "KPI_DATABASE_URL": database_url}
    with open(log, "w") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "dashboard",
                "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *options,
            ],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)  # polling for the server to come up, not timing a test
    else:
        process.terminate()
        raise RuntimeError(f"streamlit did not answer within 90 s:\n{log.read_text()}")
    try:
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


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
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


RENDERED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (!document.querySelector('[data-testid="stMain"] h1')) return false;
    if (document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-stale="true"]')) return false;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return charts.every(chart => chart.querySelector('.main-svg'));
}"""


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the page is fully rendered: connected, the script run over (not merely
    not started), a title drawn, no spinner, skeleton or stale element left, and every
    Plotly chart drawn."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(RENDERED, timeout=timeout, polling=50)
    page.evaluate("() => document.fonts.ready.then(() => true)")


def rerun_finished(page, until: str, timeout: float = 60_000) -> None:
    """After a widget change: wait until the JavaScript condition ``until`` holds (what the
    change must show, e.g. a new heading) on a fully rendered page. Waiting for the
    content, not for the run state, is what makes this free of races."""
    page.wait_for_function(f"() => ({until}) && ({RENDERED})()", timeout=timeout, polling=50)


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
