"""Anomaly detection quality against the generator's incidents (issue 6).

    python -m bench.anomaly_quality [--database URL] [--seed N [--scale 1]]

Reads the database (default $KPI_DATABASE_URL, else data/kpi.duckdb; only read, never
written), runs the detector exactly as ``python -m anomalies detect`` does (without
storing), and scores its flags against the ``incidents`` table. ``--seed N`` instead
generates a fresh world with that seed (scale 1 by default) into bench/out/: the
detector's thresholds were chosen on the default seed 42, so another seed is the
honest, held-out check.

Definitions (anomalies/quality.py):

- A *series* is one KPI of one scope at one grain (day or ISO week); scopes are the
  total, each department, service, office and channel. Which KPIs are watched where is
  anomalies.detect.WATCHED (back-office stocks and queue tails weekly only).
  Only the daily flags are scored against the targets below; weekly flags are reported
  the same way, for information.
- An incident's *scopes*: its service, office and channel and every parent of them (a
  service's department; the total for all). An online outage of every digital service
  names every digital service. Offices are not parents of a channel: a flag on an
  online office during an online outage counts as a false alarm.
- *Inside an incident*: a flag whose scope is one of the incident's scopes and whose
  first day lies between the incident's first day and its last day plus a trail:
  1 day for online outages and phone faults (ratings are given after the event),
  3 days for a demand surge (the queue of walk-in cases it leaves), 28 days for a
  processing slowdown (closures, on-time rates and backlogs lag the cut in capacity, and
  the queue it builds takes weeks to clear).
- *Recall*: the share of incidents with a flag inside them whose first day is at most
  1 day after the incident starts, for every kind (a processing slowdown cuts closures
  and paid back-office hours from its first day).
- *Precision*: the share of flagged scope-days (distinct scope and first day of a daily
  flag, whatever the KPI) that are inside an incident.
- *False alarms per series per month*: daily flags not inside an incident, over the
  series-months scored (each series' scored days / 30.44).

Goals at scale 1: recall >= 90%, precision >= 70%, at most 1 false alarm per series
per month.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import polars as pl

from anomalies.detect import DetectionSettings
from anomalies.quality import evaluate
from anomalies.store import run_detection
from data.access import every_department
from data.database import create_engine, describe
from data.extracts import run_extract

OUT = Path(__file__).resolve().parent / "out"
GOALS = {"recall": 0.90, "precision": 0.70, "false_alarms": 1.0}


def build_world(seed: int, scale: float, end: dt.date) -> str:
    from data.build import build
    from data.generate import Scenario

    OUT.mkdir(exist_ok=True)
    path = OUT / f"anomaly_seed{seed}_scale{scale:g}.duckdb"
    url = f"duckdb:///{path}"
    if not path.exists():
        print(f"generating seed {seed}, scale {scale:g}, to {end} into {path} ...", flush=True)
        build(url, Scenario(seed=seed, scale=scale, end=end), quiet=True)
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.anomaly_quality", description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=None, help="read this database (default $KPI_DATABASE_URL, else data/kpi.duckdb)")
    parser.add_argument("--seed", type=int, default=None, help="generate a fresh world with this seed instead")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27))
    args = parser.parse_args(argv)

    url = build_world(args.seed, args.scale, args.end) if args.seed is not None else args.database
    engine = create_engine(url)
    started = time.perf_counter()
    detection = run_detection(engine, DetectionSettings(), progress=lambda m: print(f"  {m}", flush=True))
    seconds = time.perf_counter() - started
    departments = list(every_department(engine))
    services = run_extract(engine, "services", departments=departments)
    offices = run_extract(engine, "offices", departments=departments)
    incidents = run_extract(engine, "incidents", departments=departments, start=dt.datetime(1900, 1, 1), end=dt.datetime(2200, 1, 1))
    timezone = offices["timezone"].mode()[0]
    print(f"\n{describe(engine)}: data {detection.data_first} to {detection.data_end}, {incidents.height} incidents; detection {seconds:.1f} s")
    flags = detection.flags
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_width_chars=200, fmt_str_lengths=70):
        for grain in ("day", "week"):
            quality = evaluate(flags, detection.scores, incidents, services, timezone, grain=grain)
            print(f"\n{'daily' if grain == 'day' else 'weekly'} flags: {flags.filter(pl.col('grain') == grain).height} on {quality.series} series ({quality.series_months:,.0f} series-months)")
            print(f"  recall                          {quality.recall:6.1%}   (incidents flagged within a day of their start)")
            print(f"  precision                       {quality.precision:6.1%}   ({quality.flagged['inside'].sum()} of {quality.flagged.height} flagged scope-days inside an incident)")
            print(f"  false alarms per series-month   {quality.false_alarms_per_series_month:6.4f}   ({quality.false_flags} false flags)")
            by_detector = flags.filter(pl.col("grain") == grain).join(quality.flagged, on=["scope_kind", "scope_id", "first_day"])
            print("  by detector: " + "; ".join(
                f"{row['detector']} {row['len']} ({row['inside']} inside)"
                for row in by_detector.group_by("detector").agg(pl.len(), pl.col("inside").sum()).sort("detector").iter_rows(named=True)
            ))
            if grain == "day":
                print(quality.incidents.select(
                    "incident_id", "kind", "first_day", "service_id", "office_id", "channel", "detected", "delay_days", "flags_inside", "scopes_flagged"
                ))
                ok = (
                    quality.recall >= GOALS["recall"] and quality.precision >= GOALS["precision"]
                    and quality.false_alarms_per_series_month <= GOALS["false_alarms"]
                )
                print(f"  goals (recall >= 90%, precision >= 70%, <= 1 false alarm per series per month): {'met' if ok else 'NOT met'}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
