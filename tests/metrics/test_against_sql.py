"""Every KPI, computed by the engine from the extracts, against plain SQL run directly on
the generated database — on DuckDB and on PostgreSQL. The SQL shares nothing with the
engine: it places events in local weeks with AT TIME ZONE and takes percentiles with
PERCENTILE_CONT, where the engine searches UTC boundaries and uses Polars."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import sqlalchemy as sa

from data.facts import load_facts
from metrics.engine import compute
from metrics.registry import METRICS

WEEKS = [date(2026, 3, 23), date(2026, 10, 19)]  # include the spring clock change (29 March)
ZONE = "Europe/London"

LOCAL = "CAST(({ts} AT TIME ZONE 'UTC') AT TIME ZONE {zone} AS DATE)"
IN_WEEK = LOCAL + " BETWEEN :monday AND :sunday"
SECONDS = "CAST(EXTRACT(EPOCH FROM ({a} - {b})) AS DOUBLE PRECISION)"
DUE = (
    "COALESCE(c.due_at, ((((c.submitted_at AT TIME ZONE 'UTC') AT TIME ZONE o.timezone) + s.sla_days * INTERVAL '1 day')"
    " AT TIME ZONE o.timezone) AT TIME ZONE 'UTC')"
)
# handled work: not an administrative close, not cancelled or withdrawn
REGULAR = f"{SECONDS.format(a='c.closed_at', b='c.submitted_at')} >= 60 AND c.status <> 'cancelled'"

CASES_FROM = "FROM cases c JOIN services s ON s.service_id = c.service_id JOIN offices o ON o.office_id = c.office_id"

QUERIES = {
    "submitted": f"""
        SELECT c.service_id, COUNT(*) AS volume,
               100.0 * SUM(CASE WHEN c.channel IN ('online', 'mobile_app') THEN 1 ELSE 0 END) / COUNT(*) AS digital_take_up
        {CASES_FROM} WHERE {IN_WEEK.format(ts='c.submitted_at', zone='o.timezone')} GROUP BY c.service_id""",
    "closed": f"""
        SELECT c.service_id,
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {SECONDS.format(a='c.closed_at', b='c.submitted_at')} / 86400) AS processing_time_median,
               PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY {SECONDS.format(a='c.closed_at', b='c.submitted_at')} / 86400) AS processing_time_p90
        {CASES_FROM} WHERE {IN_WEEK.format(ts='c.closed_at', zone='o.timezone')} AND {REGULAR} GROUP BY c.service_id""",
    "on_time": f"""
        SELECT c.service_id,
               100.0 * SUM(CASE WHEN c.closed_at IS NOT NULL AND {IN_WEEK.format(ts='c.closed_at', zone='o.timezone')} AND {REGULAR} AND c.closed_at <= {DUE} THEN 1 ELSE 0 END)
               / SUM(CASE WHEN c.closed_at IS NOT NULL AND {IN_WEEK.format(ts='c.closed_at', zone='o.timezone')} AND {REGULAR} THEN 1
                          WHEN c.submitted_at < :period_end AND (c.closed_at IS NULL OR c.closed_at >= :period_end) AND {DUE} < :period_end THEN 1
                          ELSE 0 END) AS on_time_rate
        {CASES_FROM} WHERE {DUE} IS NOT NULL GROUP BY c.service_id""",
    "stock": f"""
        SELECT c.service_id,
               COUNT(*) AS backlog,
               SUM(CASE WHEN {DUE} < :period_end THEN 1 ELSE 0 END) AS backlog_overdue,
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {SECONDS.format(a=':period_end', b='c.submitted_at')} / 86400) AS backlog_age_median
        {CASES_FROM} WHERE c.submitted_at < :period_end AND (c.closed_at IS NULL OR c.closed_at >= :period_end) GROUP BY c.service_id""",
    "net_flow": f"""
        SELECT c.service_id,
               SUM(CASE WHEN {IN_WEEK.format(ts='c.submitted_at', zone='o.timezone')} THEN 1 ELSE 0 END)
             - SUM(CASE WHEN c.closed_at IS NOT NULL AND {IN_WEEK.format(ts='c.closed_at', zone='o.timezone')} THEN 1 ELSE 0 END) AS net_flow
        {CASES_FROM} GROUP BY c.service_id""",
    "cost": f"""
        SELECT k.service_id, SUM(k.cost) / MAX(closed.n) AS cost_per_transaction
        FROM costs k JOIN (
            SELECT c.service_id, COUNT(*) AS n {CASES_FROM}
            WHERE {IN_WEEK.format(ts='c.closed_at', zone='o.timezone')} AND {REGULAR} GROUP BY c.service_id
        ) closed ON closed.service_id = k.service_id
        WHERE k.period_start BETWEEN :monday AND :sunday GROUP BY k.service_id""",
    "calls": f"""
        SELECT k.service_id,
               100.0 * SUM(CASE WHEN NOT k.abandoned AND {SECONDS.format(a='k.answered_at', b='k.arrived_at')} <= 20 THEN 1 ELSE 0 END)
                 / SUM(CASE WHEN k.abandoned AND {SECONDS.format(a='k.ended_at', b='k.arrived_at')} < 5 THEN 0 ELSE 1 END) AS service_level,
               100.0 * SUM(CASE WHEN k.abandoned AND {SECONDS.format(a='k.ended_at', b='k.arrived_at')} >= 5 THEN 1 ELSE 0 END)
                 / SUM(CASE WHEN k.abandoned AND {SECONDS.format(a='k.ended_at', b='k.arrived_at')} < 5 THEN 0 ELSE 1 END) AS abandonment_rate,
               AVG(CASE WHEN NOT k.abandoned THEN {SECONDS.format(a='k.answered_at', b='k.arrived_at')} END) AS asa,
               AVG(CASE WHEN NOT k.abandoned THEN {SECONDS.format(a='k.ended_at', b='k.answered_at')} / 60 END) AS aht,
               100.0 * SUM(CASE WHEN NOT k.abandoned AND k.resolved_first_contact THEN 1 ELSE 0 END)
                 / NULLIF(SUM(CASE WHEN NOT k.abandoned AND k.resolved_first_contact IS NOT NULL THEN 1 ELSE 0 END), 0) AS first_contact_resolution
        FROM contacts k JOIN offices o ON o.office_id = k.office_id
        WHERE k.channel = 'phone' AND k.service_id IS NOT NULL AND {IN_WEEK.format(ts='k.arrived_at', zone='o.timezone')} GROUP BY k.service_id""",
    "visits": f"""
        SELECT k.service_id,
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {SECONDS.format(a='k.answered_at', b='k.arrived_at')} / 60) AS wait_time_median,
               PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY {SECONDS.format(a='k.answered_at', b='k.arrived_at')} / 60) AS wait_time_p90,
               100.0 * SUM(CASE WHEN {SECONDS.format(a='k.answered_at', b='k.arrived_at')} <= 900 THEN 1 ELSE 0 END) / COUNT(*) AS wait_within_target
        FROM contacts k JOIN offices o ON o.office_id = k.office_id
        WHERE k.channel = 'in_person' AND NOT k.abandoned AND k.service_id IS NOT NULL AND {IN_WEEK.format(ts='k.arrived_at', zone='o.timezone')}
        GROUP BY k.service_id""",
    "journeys": f"""
        SELECT j.service_id,
               100.0 * SUM(CASE WHEN j.completed_at IS NOT NULL OR EXISTS (
                   SELECT 1 FROM journeys r WHERE r.resumed_from = j.journey_id AND r.completed_at IS NOT NULL) THEN 1 ELSE 0 END)
               / COUNT(*) AS completion_rate
        FROM journeys j
        WHERE j.resumed_from IS NULL AND {IN_WEEK.format(ts='j.started_at', zone="'" + ZONE + "'")} GROUP BY j.service_id""",
    "ratings": f"""
        SELECT f.service_id,
               100.0 * SUM(CASE WHEN f.rating >= 4 THEN 1 ELSE 0 END) / COUNT(*) AS satisfaction,
               100.0 * (AVG(CAST(f.rating AS DOUBLE PRECISION)) - 1) / 4 AS satisfaction_index
        FROM feedback f LEFT JOIN offices o ON o.office_id = f.office_id
        WHERE {IN_WEEK.format(ts='f.submitted_at', zone="COALESCE(o.timezone, '" + ZONE + "')")} GROUP BY f.service_id""",
}


def sql_values(db, monday: date) -> pl.DataFrame:
    sunday = monday + timedelta(days=6)
    period_end = datetime.combine(monday + timedelta(days=7), time(), ZoneInfo(ZONE)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    params = {"monday": monday, "sunday": sunday, "period_end": period_end}
    frames = []
    with db.connect() as conn:
        for query in QUERIES.values():
            used = {k: v for k, v in params.items() if f":{k}" in query}
            result = conn.execute(sa.text(query), used)
            rows = [dict(zip(result.keys(), row, strict=True)) for row in result.fetchall()]
            frame = pl.DataFrame(rows, infer_schema_length=None)
            frames.append(frame.unpivot(index="service_id", variable_name="kpi", value_name="expected").with_columns(pl.col("expected").cast(pl.Float64)))
    return pl.concat(frames)


@pytest.mark.parametrize("monday", WEEKS, ids=lambda d: d.isoformat())
def test_every_kpi_by_service_matches_plain_sql(db, all_departments, monday):
    facts = load_facts(db, all_departments, monday, monday + timedelta(days=6))
    engine_values = compute(facts, None, by=["week", "service_id"], first_day=monday, last_day=monday + timedelta(days=6)).values
    expected = sql_values(db, monday)
    joined = expected.join(engine_values.select("service_id", "kpi", "value", "n"), on=["service_id", "kpi"], how="left")
    # the engine withholds values from too few observations; compare where it gave one
    compared = joined.filter(pl.col("value").is_not_null())
    assert set(compared["kpi"]) == set(METRICS), f"not compared: {set(METRICS) - set(compared['kpi'])}"
    wrong = compared.filter((pl.col("value") - pl.col("expected")).abs() > 1e-6 * pl.max_horizontal(pl.col("expected").abs(), pl.lit(1.0)))
    assert wrong.height == 0, wrong
    # and where it withheld one, it said why
    withheld = joined.filter(pl.col("value").is_null() & pl.col("expected").is_not_null())
    assert (withheld["n"] < 10).all()
