"""How fast the drill-down page draws, measured in Chromium: ``python -m bench.drilldown_render
[database URL]`` (default: the demo database, data/kpi.duckdb).

Starts the dashboard on a free port, then times, until the page has finished running and
shows the rows behind the number: a cold first load (empty caches), a warm load in a new
session, going down a level, changing the week, going back up by a breadcrumb, and
preparing the CSV and Excel files. Prints the figures; nothing is asserted.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from devtools.serving import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parents[1]


def finished(page, heading: str | None = None) -> None:
    if heading:
        page.get_by_role("heading", name=heading).first.wait_for(timeout=300_000)
    page.get_by_role("heading", name=re.compile("behind the number")).first.wait_for(timeout=300_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=300_000)


def timed(label: str, action) -> float:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"  {label:<44} {seconds:6.2f} s", flush=True)
    return seconds


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    url = argv[0] if argv else f"duckdb:///{ROOT / 'data' / 'kpi.duckdb'}"
    with tempfile.TemporaryDirectory(prefix="drilldown-bench-") as folder, serve(url, Path(folder) / "server.log") as base:
        print(f"drill-down on {url}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            timed("cold first load (empty caches)", lambda: (page.goto(f"{base}/drilldown"), finished(page)))
            warm = browser.new_page(viewport={"width": 1280, "height": 900})
            timed("warm load, new session", lambda: (warm.goto(f"{base}/drilldown"), finished(warm)))

            def choose(label: str, option: str) -> None:
                page.get_by_role("combobox", name=re.compile(f"\\. {re.escape(label)}$")).first.click()
                page.get_by_role("option", name=option, exact=True).click()

            timed("down to a department", lambda: (choose("Go down to a department", "Benefits and Pensions"), finished(page, re.compile("^Services compared"))))
            timed("down to a service", lambda: (choose("Go down to a service", "Housing benefit claim"), finished(page, re.compile("^Offices compared"))))
            def another_week() -> None:
                page.get_by_role("combobox", name=re.compile(r"\. Week$")).first.click()
                option = page.get_by_role("option").nth(3)
                label = option.inner_text().split()[0]
                option.click()
                finished(page, re.compile(f"week {label}$"))

            timed("another week", another_week)
            timed(
                "back up by a breadcrumb",
                lambda: (page.locator(".st-key-drill-breadcrumbs").get_by_role("button", name="All departments").click(), finished(page, re.compile("^Departments compared"))),
            )
            timed(
                "prepare the CSV and Excel files",
                lambda: (
                    page.get_by_role("button", name=re.compile("Prepare the CSV and Excel files")).click(),
                    page.locator(".st-key-drill-xlsx button").wait_for(timeout=300_000),
                ),
            )
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
