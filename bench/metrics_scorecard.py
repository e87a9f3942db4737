"""Benchmark: the scorecard of every week and every service over three years at scale 10
(11 million cases, with their contacts, journeys, ratings and costs).

Three contenders compute the same 20 KPIs per ISO week and service, in this process, one
after another, on the same DuckDB file:

- ours: the extracts (Arrow) and the metric engine (Polars);
- a hand-written DuckDB SQL of the same metrics, run inside DuckDB;
- a straightforward pandas implementation, from the same extracts.

It checks that the three agree on a sample of cells, then prints the times, the ratios
and our peak memory (resident set, sampled while ours runs). Goals: no slower than the
DuckDB SQL, at least 5 times faster than pandas, peak memory under 3 GB.

    python -m bench.metrics_scorecard [--scale 10] [--skip-pandas]
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import psutil

OUT = Path(__file__).resolve().parent / "out"
END = date(2026, 11, 22)  # a Sunday: whole weeks
ZONE = "Europe/London"


class PeakMemory:
    """Samples this process's resident set every 20 ms while running."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._running = False

    def __enter__(self) -> PeakMemory:
        self.peak = self.process.memory_info().rss
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join()


def database(scale: float) -> str:
    """A DuckDB file at the scale, built once and kept in bench/out/ (git-ignored)."""
    from data.build import build
    from data.generate import Scenario

    OUT.mkdir(exist_ok=True)
    path = OUT / f"scale{scale:g}.duckdb"
    if not path.exists():
        print(f"Building {path} (scale {scale:g}; once)…", flush=True)
        build(f"duckdb:///{path}", Scenario(seed=42, scale=scale, end=END), quiet=True)
    return f"duckdb:///{path}"


def window() -> tuple[date, date]:
    first = END - timedelta(days=3 * 364 - 1)  # 156 whole weeks, Monday to Sunday
    return first, END


def ours(url: str) -> pl.DataFrame:
    from data.database import create_engine
    from data.facts import load_facts
    from metrics.engine import compute

    engine = create_engine(url)
    with engine.connect() as conn:
        departments = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments")]
    first, last = window()
    # A department at a time: every service belongs to one department, so the cells are
    # the same as in one call, and only a quarter of the facts is in memory at once. The
    # next department's facts load (DuckDB) while this one's are computed (Polars): both
    # release the GIL, so the two cores work at once.
    parts = []
    with ThreadPoolExecutor(max_workers=1) as loader:
        pending = loader.submit(load_facts, engine, [departments[0]], first, last)
        for index in range(len(departments)):
            facts = pending.result()
            if index + 1 < len(departments):
                pending = loader.submit(load_facts, engine, [departments[index + 1]], first, last)
            result = compute(facts, None, by=["week", "service_id"], first_day=first, last_day=last)
            parts.append(result.values.select("period_start", "service_id", "kpi", "value"))
            del facts, result
    engine.dispose()
    return pl.concat(parts)


LOCAL = "(({ts} AT TIME ZONE 'UTC') AT TIME ZONE {zone})"
DUE = (
    "COALESCE(c.due_at, ((" + LOCAL.format(ts="c.submitted_at", zone="o.timezone")
    + " + s.sla_days * INTERVAL 1 DAY) AT TIME ZONE o.timezone) AT TIME ZONE 'UTC')"
)


def duckdb_sql(url: str) -> pl.DataFrame:
    """The same metrics written by hand in DuckDB SQL."""
    import duckdb

    first, last = window()
    zone = ZoneInfo(ZONE)
    weeks = []
    day = first
    while day <= last:
        end = day + timedelta(days=7)
        weeks.append(
            {
                "week_start": day,
                "end_utc": datetime.combine(end, datetime.min.time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
            }
        )
        day = end
    con = duckdb.connect(url.removeprefix("duckdb:///"), read_only=True)
    con.register("weeks", pl.DataFrame(weeks).to_arrow())
    local_week = "CAST(date_trunc('week', " + LOCAL.replace("{zone}", "o.timezone") + ") AS DATE)"
    query = f"""
    WITH c AS (
        SELECT c.service_id, c.channel, c.submitted_at, c.closed_at, o.timezone,
               {DUE} AS due,
               {local_week.format(ts='c.submitted_at')} AS sub_week,
               {local_week.format(ts='c.closed_at')} AS close_week,
               epoch(c.closed_at - c.submitted_at) < 60 AS admin
        FROM cases c JOIN services s USING (service_id) JOIN offices o USING (office_id)
    ),
    submitted AS (
        SELECT service_id, sub_week AS week_start, COUNT(*) AS volume,
               100.0 * COUNT(*) FILTER (WHERE channel IN ('online', 'mobile_app')) / COUNT(*) AS digital_take_up
        FROM c GROUP BY ALL
    ),
    closed AS (
        SELECT service_id, close_week AS week_start, COUNT(*) AS closed_all,
               COUNT(*) FILTER (WHERE NOT admin) AS closed,
               COUNT(*) FILTER (WHERE NOT admin AND due IS NOT NULL) AS closed_with_due,
               COUNT(*) FILTER (WHERE NOT admin AND closed_at <= due) AS closed_on_time,
               median(epoch(closed_at - submitted_at) / 86400) FILTER (WHERE NOT admin) AS processing_time_median,
               quantile_cont(epoch(closed_at - submitted_at) / 86400, 0.9) FILTER (WHERE NOT admin) AS processing_time_p90
        FROM c WHERE closed_at IS NOT NULL GROUP BY ALL
    ),
    stock AS (
        SELECT c.service_id, w.week_start, COUNT(*) AS backlog,
               COUNT(*) FILTER (WHERE c.due < w.end_utc) AS backlog_overdue,
               median(epoch(w.end_utc - c.submitted_at) / 86400) AS backlog_age_median
        FROM weeks w JOIN c ON c.submitted_at < w.end_utc AND (c.closed_at IS NULL OR c.closed_at >= w.end_utc)
        GROUP BY ALL
    ),
    k AS (
        SELECT k.service_id, k.channel, k.abandoned, {local_week.format(ts='k.arrived_at')} AS week_start,
               epoch(k.answered_at - k.arrived_at) AS wait, epoch(k.ended_at - k.answered_at) AS handle,
               k.abandoned AND epoch(k.ended_at - k.arrived_at) < 5 AS short
        FROM contacts k JOIN offices o USING (office_id)
    ),
    calls AS (
        SELECT service_id, week_start,
               100.0 * COUNT(*) FILTER (WHERE NOT abandoned AND wait <= 20) / NULLIF(COUNT(*) FILTER (WHERE NOT short), 0) AS service_level,
               100.0 * COUNT(*) FILTER (WHERE abandoned AND NOT short) / NULLIF(COUNT(*) FILTER (WHERE NOT short), 0) AS abandonment_rate,
               avg(wait) FILTER (WHERE NOT abandoned) AS asa,
               avg(handle / 60) FILTER (WHERE NOT abandoned) AS aht
        FROM k WHERE channel = 'phone' GROUP BY ALL
    ),
    visits AS (
        SELECT service_id, week_start,
               median(wait / 60) AS wait_time_median, quantile_cont(wait / 60, 0.9) AS wait_time_p90,
               100.0 * COUNT(*) FILTER (WHERE wait <= 900) / COUNT(*) AS wait_within_target
        FROM k WHERE channel = 'in_person' AND NOT abandoned GROUP BY ALL
    ),
    completed_later AS (SELECT DISTINCT resumed_from AS journey_id FROM journeys WHERE resumed_from IS NOT NULL AND completed_at IS NOT NULL),
    journey_weeks AS (
        SELECT j.service_id, CAST(date_trunc('week', (j.started_at AT TIME ZONE 'UTC') AT TIME ZONE '{ZONE}') AS DATE) AS week_start,
               100.0 * COUNT(*) FILTER (WHERE j.completed_at IS NOT NULL OR l.journey_id IS NOT NULL) / COUNT(*) AS completion_rate
        FROM journeys j LEFT JOIN completed_later l USING (journey_id)
        WHERE j.resumed_from IS NULL GROUP BY ALL
    ),
    ratings AS (
        SELECT f.service_id, CAST(date_trunc('week', (f.submitted_at AT TIME ZONE 'UTC') AT TIME ZONE COALESCE(o.timezone, '{ZONE}')) AS DATE) AS week_start,
               100.0 * COUNT(*) FILTER (WHERE rating >= 4) / COUNT(*) AS satisfaction,
               100.0 * (avg(rating) - 1) / 4 AS satisfaction_index
        FROM feedback f LEFT JOIN offices o USING (office_id) GROUP BY ALL
    ),
    spend AS (
        SELECT service_id, CAST(date_trunc('week', period_start) AS DATE) AS week_start, SUM(cost) AS cost
        FROM costs GROUP BY ALL
    ),
    cells AS (SELECT w.week_start, s.service_id FROM weeks w CROSS JOIN services s)
    SELECT cells.week_start AS period_start, cells.service_id,
           COALESCE(volume, 0) AS volume, digital_take_up, completion_rate, satisfaction, satisfaction_index,
           cost / NULLIF(closed, 0) AS cost_per_transaction, processing_time_median, processing_time_p90,
           100.0 * closed_on_time / NULLIF(COALESCE(closed_with_due, 0) + COALESCE(backlog_overdue, 0), 0) AS on_time_rate,
           COALESCE(backlog, 0) AS backlog, COALESCE(backlog_overdue, 0) AS backlog_overdue, backlog_age_median,
           COALESCE(volume, 0) - COALESCE(closed_all, 0) AS net_flow,
           wait_time_median, wait_time_p90, wait_within_target, asa, service_level, abandonment_rate, aht
    FROM cells
    LEFT JOIN submitted USING (week_start, service_id) LEFT JOIN closed USING (week_start, service_id)
    LEFT JOIN stock USING (week_start, service_id) LEFT JOIN calls USING (week_start, service_id)
    LEFT JOIN visits USING (week_start, service_id) LEFT JOIN journey_weeks USING (week_start, service_id)
    LEFT JOIN ratings USING (week_start, service_id) LEFT JOIN spend USING (week_start, service_id)
    """
    wide = con.execute(query).pl()
    con.close()
    return wide.unpivot(index=["period_start", "service_id"], variable_name="kpi", value_name="value")


def pandas_version(url: str) -> pl.DataFrame:
    """A straightforward pandas implementation, from the same extracts."""
    import numpy as np
    import pandas as pd

    from data.database import create_engine
    from data.extracts import run_extract

    engine = create_engine(url)
    with engine.connect() as conn:
        departments = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments")]
    first, last = window()
    start, end = datetime.combine(first, datetime.min.time()) - timedelta(days=2), datetime.combine(last, datetime.min.time()) + timedelta(days=3)
    frames = {
        name: run_extract(engine, name, departments=departments, start=start, end=end).to_pandas()
        for name in ("cases", "contacts", "journeys", "feedback")
    }
    costs = run_extract(engine, "costs", departments=departments, first_day=first, last_day=last).to_pandas()
    services = run_extract(engine, "services", departments=departments).to_pandas().set_index("service_id")
    engine.dispose()

    def local_week(series: pd.Series) -> pd.Series:
        local = series.dt.tz_localize("UTC").dt.tz_convert(ZONE).dt.tz_localize(None)
        return (local.dt.normalize() - pd.to_timedelta(local.dt.weekday, unit="D")).dt.date

    cases = frames["cases"]
    cases["sla_days"] = cases["service_id"].map(services["sla_days"])
    standard = (
        cases["submitted_at"].dt.tz_localize("UTC").dt.tz_convert(ZONE).dt.tz_localize(None) + pd.to_timedelta(cases["sla_days"], unit="D")
    ).dt.tz_localize(ZONE, ambiguous=True, nonexistent="shift_forward").dt.tz_convert("UTC").dt.tz_localize(None)
    cases["due"] = cases["due_at"].fillna(standard)
    cases["sub_week"] = local_week(cases["submitted_at"])
    cases["close_week"] = local_week(cases["closed_at"])
    cases["days"] = (cases["closed_at"] - cases["submitted_at"]).dt.total_seconds() / 86400
    cases["admin"] = cases["days"] * 86400 < 60
    cases["digital"] = cases["channel"].isin(["online", "mobile_app"])
    out = {}
    submitted = cases.groupby(["sub_week", "service_id"])
    out["volume"] = submitted.size()
    out["digital_take_up"] = submitted["digital"].mean() * 100
    closed = cases[cases["closed_at"].notna()]
    regular = closed[~closed["admin"]]
    by_close = regular.groupby(["close_week", "service_id"])
    out["processing_time_median"] = by_close["days"].median()
    out["processing_time_p90"] = by_close["days"].quantile(0.9)
    spend = costs.assign(week=lambda f: (pd.to_datetime(f["period_start"]) - pd.to_timedelta(pd.to_datetime(f["period_start"]).dt.weekday, unit="D")).dt.date)
    out["cost_per_transaction"] = spend.groupby(["week", "service_id"])["cost"].sum() / by_close.size()
    on_time_closed = regular[regular["due"].notna()].assign(on_time=lambda f: f["closed_at"] <= f["due"])
    stock_rows = []
    zone = ZoneInfo(ZONE)
    day = first
    while day <= last:
        week_end = datetime.combine(day + timedelta(days=7), datetime.min.time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        open_now = cases[(cases["submitted_at"] < week_end) & (cases["closed_at"].isna() | (cases["closed_at"] >= week_end))]
        ages = (week_end - open_now["submitted_at"]).dt.total_seconds() / 86400
        overdue = open_now["due"] < week_end
        grouped = pd.DataFrame({"service_id": open_now["service_id"], "age": ages, "overdue": overdue}).groupby("service_id")
        stock_rows.append(pd.DataFrame({"week": day, "backlog": grouped.size(), "backlog_overdue": grouped["overdue"].sum(), "backlog_age_median": grouped["age"].median()}))
        day += timedelta(days=7)
    stock = pd.concat(stock_rows).reset_index().set_index(["week", "service_id"])
    out["backlog"] = stock["backlog"]
    out["backlog_overdue"] = stock["backlog_overdue"]
    out["backlog_age_median"] = stock["backlog_age_median"]
    on_time = on_time_closed.groupby(["close_week", "service_id"])["on_time"].agg(["sum", "size"])
    on_time.index.names = ["week", "service_id"]
    denominator = on_time["size"].add(stock["backlog_overdue"], fill_value=0)
    out["on_time_rate"] = on_time["sum"].reindex(denominator.index).fillna(0) / denominator * 100
    out["net_flow"] = out["volume"].rename_axis(["week", "service_id"]).sub(closed.groupby(["close_week", "service_id"]).size().rename_axis(["week", "service_id"]), fill_value=0)
    contacts = frames["contacts"]
    contacts["week"] = local_week(contacts["arrived_at"])
    contacts["wait"] = (contacts["answered_at"] - contacts["arrived_at"]).dt.total_seconds()
    contacts["handle"] = (contacts["ended_at"] - contacts["answered_at"]).dt.total_seconds()
    contacts["short"] = contacts["abandoned"] & ((contacts["ended_at"] - contacts["arrived_at"]).dt.total_seconds() < 5)
    calls = contacts[contacts["channel"] == "phone"]
    offered = calls[~calls["short"]].groupby(["week", "service_id"])
    answered = calls[~calls["abandoned"]].groupby(["week", "service_id"])
    out["service_level"] = calls[~calls["short"]].assign(fast=lambda f: (~f["abandoned"]) & (f["wait"] <= 20)).groupby(["week", "service_id"])["fast"].mean() * 100
    out["abandonment_rate"] = offered["abandoned"].mean() * 100
    out["asa"] = answered["wait"].mean()
    out["aht"] = answered["handle"].mean() / 60
    visits = contacts[(contacts["channel"] == "in_person") & ~contacts["abandoned"]].groupby(["week", "service_id"])
    out["wait_time_median"] = visits["wait"].median() / 60
    out["wait_time_p90"] = visits["wait"].quantile(0.9) / 60
    out["wait_within_target"] = visits["wait"].apply(lambda w: (w <= 900).mean() * 100)
    journeys = frames["journeys"]
    later = set(journeys.loc[journeys["resumed_from"].notna() & journeys["completed_at"].notna(), "resumed_from"].astype("int64"))
    originals = journeys[journeys["resumed_from"].isna()].assign(done=lambda f: f["completed_at"].notna() | f["journey_id"].isin(later))
    originals["week"] = local_week(originals["started_at"])
    out["completion_rate"] = originals.groupby(["week", "service_id"])["done"].mean() * 100
    feedback = frames["feedback"]
    feedback["week"] = local_week(feedback["submitted_at"])
    rated = feedback.groupby(["week", "service_id"])["rating"]
    out["satisfaction"] = rated.apply(lambda r: (r >= 4).mean() * 100)
    out["satisfaction_index"] = (rated.mean() - 1) / 4 * 100
    rows = []
    for kpi, series in out.items():
        frame = series.rename("value").reset_index()
        frame.columns = ["period_start", "service_id", "value"]
        frame["kpi"] = kpi
        rows.append(frame)
    result = pd.concat(rows)
    result["period_start"] = pd.to_datetime(result["period_start"]).dt.date
    result["value"] = result["value"].astype("float64").replace([np.inf, -np.inf], np.nan)
    return pl.from_pandas(result[["period_start", "service_id", "kpi", "value"]])


def agree(reference: pl.DataFrame, other: pl.DataFrame, name: str) -> int:
    """The cells where both have a value and they differ (relative 1e-6); prints a few."""
    joined = reference.join(other, on=["period_start", "service_id", "kpi"], suffix="_other").filter(
        pl.col("value").is_not_null() & pl.col("value_other").is_not_null()
    )
    wrong = joined.filter((pl.col("value") - pl.col("value_other")).abs() > 1e-6 * pl.max_horizontal(pl.col("value").abs(), pl.lit(1.0)))
    print(f"  {name} agrees with ours on {joined.height - wrong.height:,} of {joined.height:,} cells", flush=True)
    if wrong.height:
        print(wrong.head(10))
    return wrong.height


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args(argv)
    url = database(args.scale)

    with PeakMemory() as memory:
        started = time.perf_counter()
        mine = ours(url)
        ours_seconds = time.perf_counter() - started
    print(f"ours (extracts + engine):  {ours_seconds:6.1f} s, peak memory {memory.peak / 1e9:.2f} GB (goal: under 3 GB)", flush=True)

    started = time.perf_counter()
    sql = duckdb_sql(url)
    sql_seconds = time.perf_counter() - started
    print(f"hand-written DuckDB SQL:   {sql_seconds:6.1f} s", flush=True)
    agree(mine, sql, "DuckDB SQL")
    figures = {"ours_s": ours_seconds, "duckdb_s": sql_seconds, "peak_gb": memory.peak / 1e9}
    print(f"  ratio: ours takes {ours_seconds / sql_seconds:.2f}x the DuckDB SQL's time (goal: at most 1.0)")
    if not args.skip_pandas:
        started = time.perf_counter()
        pandas_frame = pandas_version(url)
        pandas_seconds = time.perf_counter() - started
        print(f"straightforward pandas:    {pandas_seconds:6.1f} s", flush=True)
        agree(mine, pandas_frame, "pandas")
        print(f"  ratio: ours is {pandas_seconds / ours_seconds:.1f}x faster than pandas (goal: at least 5x)")
        figures["pandas_s"] = pandas_seconds
    return figures


if __name__ == "__main__":
    main()
