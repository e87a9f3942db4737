"""The real dashboard served by Streamlit on a free port and opened in headless Chromium,
for the end-to-end tests (tests/e2e/) and the browser benchmarks (bench/).

Chromium is Debian's package (/usr/bin/chromium, or KPI_CHROMIUM), driven by Playwright's
Python package; Playwright's own browser download is never used.

Waiting: a page is ready when the app says so (connected, its script run over, no spinner,
skeleton or stale element, Streamlit's running indicator gone, every chart drawn), never
after a fixed time. The ceiling, READY_TIMEOUT_MS, is long on purpose: a busy machine only
makes a test slower, and a page that never gets ready still fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = os.environ.get("KPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The longest any one wait may take (ms): a rerun that takes 20 s on an idle machine took
# over 120 s while the whole suite ran beside other work on 2 cores.
READY_TIMEOUT_MS = 600_000
SERVER_START_SECONDS = 180

# Streamlit's own dark theme (what a viewer gets by choosing "Dark" in the app's settings);
# every colour is given, since the light ones of .streamlit/config.toml would otherwise stay.
DARK_THEME = {
    "base": "dark", "primaryColor": "#FF4B4B", "backgroundColor": "#0E1117",
    "secondaryBackgroundColor": "#262730", "textColor": "#FAFAFA",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(database_url: str, log: Path, *options: str, module: str = "dashboard", environment: dict[str, str] | None = None) -> Iterator[str]:
    """The dashboard (or another app: ``module="public_page"``) on a free port
    (``python -m <module>``) with Streamlit options and more environment; yields its base
    URL and stops it afterwards."""
    with serve_process(database_url, log, *options, module=module, environment=environment) as (base, _process):
        yield base


@contextlib.contextmanager
def serve_process(
    database_url: str, log: Path, *options: str, module: str = "dashboard", environment: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``serve``, yielding the server process too (the benchmarks read its memory)."""
    port = free_port()
    environment = {**os.environ, "KPI_DATABASE_URL": database_url, **(environment or {})}
    with open(log, "w") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", module,
                "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *options,
            ],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
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
        raise RuntimeError(f"streamlit did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()}")
    try:
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def launch_chromium(playwright):
    """Headless Chromium whose every context waits up to READY_TIMEOUT_MS for each action,
    locator and download (Playwright's own default is 30 s)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    plain_new_context = browser.new_context

    def new_context(**options):
        context = plain_new_context(**options)
        context.set_default_timeout(READY_TIMEOUT_MS)
        return context

    browser.new_context = new_context
    return browser


# The page's own readiness, as Streamlit marks it in the document.
RENDERED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (!document.querySelector('[data-testid="stMain"] h1')) return false;
    if (document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-stale="true"]')) return false;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return charts.every(chart => chart.querySelector('.main-svg'));
}"""


def wait_for_app(page, until: str = "true", timeout: float = READY_TIMEOUT_MS) -> None:
    """Wait until the JavaScript condition ``until`` holds (what an action must show, e.g.
    a new heading) on a fully rendered page: connected, the script run over (not merely
    not started: "rerunRequested" and "running" are not over), Streamlit's running
    indicator gone, a title drawn, no spinner, skeleton or stale element left, and every
    Plotly chart drawn. Both are checked at once, so the old page before a rerun starts
    never passes for the new one."""
    page.wait_for_function(f"() => ({until}) && ({RENDERED})()", timeout=timeout, polling=100)
    page.evaluate("() => document.fonts.ready.then(() => true)")


def has_heading(text: str) -> str:
    """A condition for ``wait_for_app``: a heading of the main area starts with ``text``."""
    return (
        "[...document.querySelectorAll('[data-testid=\"stMain\"] :is(h1, h2, h3, h4, h5, h6)')]"
        f".some(h => h.textContent.trim().startsWith({json.dumps(text)}))"
    )


def shows_text(text: str) -> str:
    """A condition for ``wait_for_app``: the main area's text (charts' titles included)
    contains ``text``."""
    return f"(document.querySelector('[data-testid=\"stMain\"]')?.textContent || '').includes({json.dumps(text)})"
