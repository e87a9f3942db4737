"""Benchmark: the Overview as a browser sees it, against the issue's goals.

Measured in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), from
the request to the page fully rendered (script run over, every tile drawn, no spinner):

- scale 1 (data/kpi.duckdb, or --url): a cold start (a fresh server, its first
  request, a browser with nothing cached), a warm load (the page loaded again: a new
  session, the server's caches filled and the browser's copy of Streamlit's scripts) and
  a change of week (from the pick to the new week's tiles drawn); goals 3 s, 1.5 s, 1 s.
  The server's CPU seconds are printed too: on a shared machine they vary less than the
  wall-clock times;
- scale 10 (bench/out/scale10.duckdb, built by ``python -m bench.metrics_scorecard``, or
  --scale10-url): the warm load (goal 5 s), and the server's memory (resident set of the
  Streamlit process and its children) with 5 sessions open on the Overview, then with
  each on a different recent week, then each in a different quarter (goal under 4 GB).

    python -m bench.dashboard_render [--url URL] [--scale10-url URL] [--skip-scale1] [--skip-scale10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psutil

from data.database import database_url, duckdb_path
from devtools.serving import CHROMIUM, CHROMIUM_ARGS, RENDERED, serve_process
from metrics.periods import parse_week, week_label

ROOT = Path(__file__).resolve().parents[1]
SCALE10 = ROOT / "bench" / "out" / "scale10.duckdb"
GOALS = {"cold": 3.0, "warm": 1.5, "filter": 1.0, "warm10": 5.0, "memory_gb": 4.0}
TILES = "document.querySelectorAll('section.kpi-tile').length >= 20"
SESSIONS = 5


@contextlib.contextmanager
def server(url: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A fresh dashboard server on a free port for the block: (base URL, process)."""
    log = Path(tempfile.mkstemp(prefix="dashboard-bench-", suffix=".log")[1])
    try:
        with serve_process(url, log) as running:
            yield running
    finally:
        log.unlink(missing_ok=True)


def rss_gb(process: subprocess.Popen) -> float:
    """Resident memory of the server process and its children, in GB."""
    root = psutil.Process(process.pid)
    total = 0
    for each in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += each.memory_info().rss
    return total / 1e9


def load(browser, address: str, timeout: float = 180_000):
    """Open a new session on ``address``; (seconds to fully rendered, the open page)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(address)
    page.wait_for_function(f"() => ({TILES}) && ({RENDERED})()", timeout=timeout, polling=20)
    return time.perf_counter() - started, page


def reload(page, timeout: float = 180_000) -> float:
    """Load the same address again in the same browser (a new session; the browser has
    Streamlit's static files cached, the server its data)."""
    started = time.perf_counter()
    page.reload()
    page.wait_for_function(f"() => ({TILES}) && ({RENDERED})()", timeout=timeout, polling=20)
    return time.perf_counter() - started


def cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time used so far by the server and its children (load-independent work)."""
    root = psutil.Process(process.pid)
    total = 0.0
    for each in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = each.cpu_times()
            total += times.user + times.system
    return total


def change_week(page, week: str, timeout: float = 120_000) -> float:
    """Pick ``week`` in the Week box; seconds from the pick to its tiles drawn."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Week", exact=True))
    box.locator('[data-baseweb="select"]').click()
    page.keyboard.type(week)
    option = page.get_by_role("option", name=week, exact=False).first
    option.wait_for()
    started = time.perf_counter()
    option.click()
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=\"stMain\"] h3')?.textContent.includes('{week}') && ({TILES}) && ({RENDERED})()",
        timeout=timeout, polling=20,
    )
    return time.perf_counter() - started


def default_week(page) -> str:
    heading = page.locator('[data-testid="stMain"] h3').first.text_content() or ""
    return heading.split(", ")[-1].split(" ")[0]


def earlier(week: str, weeks: int) -> str:
    return week_label(parse_week(week) - timedelta(weeks=weeks))


def verdict(value: float, goal: float) -> str:
    return f"{'within' if value <= goal else 'MISSES'} the goal of {goal:g}"


def scale1(browser, url: str) -> None:
    print(f"Scale 1: {url}", flush=True)
    with server(url) as (base, process):
        cpu = cpu_seconds(process)
        cold, page = load(browser, base)
        cold_cpu = cpu_seconds(process) - cpu
        cpu = cpu_seconds(process)
        warm_times = [reload(page) for _ in range(3)]
        warm_cpu = (cpu_seconds(process) - cpu) / 3
        warm = statistics.median(warm_times)
        visitor, other = load(browser, base)  # a new browser: Streamlit's scripts fetched again
        other.context.close()
        week = default_week(page)
        cpu = cpu_seconds(process)
        changes = [change_week(page, earlier(week, back)) for back in (1, 2, 3)]
        change_cpu = (cpu_seconds(process) - cpu) / 3
        far = change_week(page, earlier(week, 20))  # another quarter: facts loaded
        back_again = change_week(page, week)  # a week seen before: everything cached
        page.context.close()
        change = statistics.median(changes)
        print(f"  cold start, first request   {cold:6.2f} s   {verdict(cold, GOALS['cold'])}; server CPU {cold_cpu:.2f} s")
        print(f"  warm, a reload              {warm:6.2f} s   {verdict(warm, GOALS['warm'])} (median of {', '.join(f'{t:.2f}' for t in warm_times)}); server CPU {warm_cpu:.2f} s")
        print(f"  warm, a new browser         {visitor:6.2f} s   (no cached scripts)")
        print(f"  change of week (same qtr)   {change:6.2f} s   {verdict(change, GOALS['filter'])} (median of {', '.join(f'{t:.2f}' for t in changes)}); server CPU {change_cpu:.2f} s")
        print(f"  change of week (20 back)    {far:6.2f} s   {verdict(far, GOALS['filter'])} (loads another quarter's facts)")
        print(f"  change of week (seen)       {back_again:6.2f} s   {verdict(back_again, GOALS['filter'])}")
        print(f"  server memory               {rss_gb(process):6.2f} GB", flush=True)


def scale10(browser, url: str) -> None:
    print(f"Scale 10: {url}", flush=True)
    with server(url) as (base, process):
        cold, page = load(browser, base, timeout=600_000)
        week = default_week(page)
        warm_times = [reload(page) for _ in range(3)]
        warm = statistics.median(warm_times)
        page.context.close()
        pages = [load(browser, base)[1] for _ in range(SESSIONS)]
        same = rss_gb(process)
        changes = [change_week(page, earlier(week, index + 1), timeout=600_000) for index, page in enumerate(pages)]
        spread = rss_gb(process)
        far = [change_week(page, earlier(week, 13 * (index + 1) + 1), timeout=600_000) for index, page in enumerate(pages)]
        quarters = rss_gb(process)
        for page in pages:
            page.context.close()
        print(f"  cold start, first request   {cold:6.2f} s")
        print(f"  warm, a reload              {warm:6.2f} s   {verdict(warm, GOALS['warm10'])} (median of {', '.join(f'{t:.2f}' for t in warm_times)})")
        print(f"  change of week (same qtr)   {statistics.median(changes):6.2f} s   (each of {SESSIONS} sessions: {', '.join(f'{t:.2f}' for t in changes)})")
        print(f"  change of week (new qtr)    {statistics.median(far):6.2f} s   (each of {SESSIONS} sessions: {', '.join(f'{t:.2f}' for t in far)})")
        print(f"  memory, {SESSIONS} sessions on one view      {same:6.2f} GB   {verdict(same, GOALS['memory_gb'])}")
        print(f"  memory, {SESSIONS} sessions, {SESSIONS} recent weeks  {spread:6.2f} GB   {verdict(spread, GOALS['memory_gb'])}")
        print(f"  memory, {SESSIONS} sessions, {SESSIONS} quarters     {quarters:6.2f} GB   {verdict(quarters, GOALS['memory_gb'])}", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard_render", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="the scale-1 database (default: $KPI_DATABASE_URL or data/kpi.duckdb)")
    parser.add_argument("--scale10-url", default=f"duckdb:///{SCALE10}", help="the scale-10 database")
    parser.add_argument("--skip-scale1", action="store_true")
    parser.add_argument("--skip-scale10", action="store_true")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install -y chromium", file=sys.stderr)
        return
    url = database_url(args.url)
    path = duckdb_path(url) if url.startswith("duckdb") else None
    if path is not None and not path.exists():
        print(f"{path} does not exist: `make data` (or `python -m data generate`) builds it", file=sys.stderr)
        return
    from playwright.sync_api import sync_playwright

    print(f"Overview render times in Chromium ({date.today():%d %b %Y}); goals: cold {GOALS['cold']:g} s, warm {GOALS['warm']:g} s, "
          f"week change {GOALS['filter']:g} s; scale 10 warm {GOALS['warm10']:g} s, memory < {GOALS['memory_gb']:g} GB", flush=True)
    print(f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (times stretch with the load)", flush=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            if not args.skip_scale1:
                scale1(browser, url)
            scale10_path = duckdb_path(args.scale10_url) if args.scale10_url.startswith("duckdb") else None
            if args.skip_scale10:
                pass
            elif scale10_path is not None and not scale10_path.exists():
                print(f"Scale 10: skipped, {scale10_path} does not exist (`python -m bench.metrics_scorecard` builds it)")
            else:
                scale10(browser, args.scale10_url)
        finally:
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
