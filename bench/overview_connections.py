"""Benchmark: what one cold Overview costs PostgreSQL, with and without the process's pool
of ADBC connections (data/adbc_pool.py; issue 17: "one connection pool per process, not
one connection per extract").

A throwaway database of the generated world at ``--scale`` (default 1) on the test server;
the Overview run through Streamlit's AppTest as a visitor's first request, with empty
caches: new sessions the server saw (pg_stat_database.sessions, PostgreSQL 14+), the
extracts run, and the Arrow bytes they returned (the size of the frames the extracts
handed to the engine: what crossed from the server, decoded). The baseline is the same
run in the same process with the pool off (KPI_DB_POOL_SIZE=0), as before it existed.

    python -m bench.overview_connections [--scale 1] [--runs 2]

Measured 4 Dec 2026 at scale 1 (median of 2 cold runs each, the machine busy with other
work): without the pool 49 new sessions (24 ADBC connections, each of which costs the
server two sessions, and SQLAlchemy's one), 24 extracts, 93.5 MB, 40.8 s; with it 3
sessions (one ADBC connection), the same extracts and bytes, 21.7 s (0.53x).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from pathlib import Path

import sqlalchemy as sa

import data.extracts
from bench.common import throwaway_postgres
from data.adbc_pool import POOL
from data.build import DEFAULT_SCENARIO, build

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "tests" / "dashboard" / "app_entry.py")


def sessions(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").scalar_one()
    engine.dispose()
    return count


class Counted:
    """Counts the extracts run and the bytes of the frames they return."""

    def __init__(self) -> None:
        self.extracts = 0
        self.bytes = 0
        self._check = data.extracts._check

    def __enter__(self) -> Counted:
        def check(extract, frame, categorical):
            checked = self._check(extract, frame, categorical)
            self.extracts += 1
            self.bytes += checked.estimated_size()
            return checked

        data.extracts._check = check
        return self

    def __exit__(self, *exc) -> None:
        data.extracts._check = self._check


def cold_overview(url: str, pool_size: int) -> dict[str, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["KPI_DATABASE_URL"] = url
    os.environ["KPI_DB_POOL_SIZE"] = str(pool_size)
    POOL.close_all()
    st.cache_data.clear()
    st.cache_resource.clear()
    before, opened = sessions(url), POOL.opened
    started = time.perf_counter()
    with Counted() as counted:
        app = AppTest.from_file(APP, default_timeout=600).run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"the Overview failed: {app.exception[0].message}")
    tiles = sum(1 for element in app.markdown if "kpi-tile" in element.value)
    return {
        "seconds": seconds,
        # the count itself opens one session: not the page's
        "sessions": sessions(url) - before - 1,
        "adbc_opened": POOL.opened - opened,
        "extracts": counted.extracts,
        "mb": counted.bytes / 1e6,
        "tiles": tiles,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=2, help="cold runs of each, alternating")
    args = parser.parse_args(argv)
    scenario = dataclasses.replace(DEFAULT_SCENARIO, scale=args.scale)
    with throwaway_postgres("kpi_bench_conn") as url:
        started = time.perf_counter()
        build(url, scenario, quiet=True)
        print(f"built scale {args.scale:g} on PostgreSQL in {time.perf_counter() - started:.0f} s")
        results: dict[str, list[dict[str, float]]] = {"no pool (baseline)": [], "pool": []}
        for _ in range(args.runs):
            results["no pool (baseline)"].append(cold_overview(url, 0))
            results["pool"].append(cold_overview(url, 4))
        POOL.close_all()
    print(f"\ncold Overview on PostgreSQL, scale {args.scale:g}, median of {args.runs} runs each")
    print(f"{'':20} {'new sessions':>13} {'ADBC opened':>12} {'extracts':>9} {'MB from db':>11} {'seconds':>8}")
    medians = {}
    for name, runs in results.items():
        row = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        medians[name] = row
        print(f"{name:20} {row['sessions']:>13.0f} {row['adbc_opened']:>12.0f} {row['extracts']:>9.0f} {row['mb']:>11.1f} {row['seconds']:>8.2f}")
    base, pooled = medians["no pool (baseline)"], medians["pool"]
    print(f"\nsessions: {pooled['sessions']:.0f} against {base['sessions']:.0f} "
          f"({pooled['sessions'] / max(base['sessions'], 1):.2f}x); time {pooled['seconds'] / base['seconds']:.2f}x the baseline")
    print(f"bytes per Overview: {pooled['mb']:.1f} MB (goal at most 2 MB: needs the aggregation pushdown of item 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
