"""The KPI series the detector watches, computed with the metric engine.

Pure functions from Facts (data.fact_frames) and small frames to long frames; the database
is read in anomalies.store. One row per series and period (VALUE_SCHEMA):
``grain`` (day or week), ``scope_kind`` (total, department, service, office, channel),
``scope_id`` (the member, ``all`` for the total), ``kpi``, ``period_start``, ``value``,
``n`` (observations), plus ``numerator`` and ``denominator`` for explanations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import polars as pl

from anomalies.detect import SCOPE_DIMENSION, SCOPE_KINDS, WATCHED
from data.fact_frames import Facts
from forecasting import series_id as ids
from metrics.engine import compute

TOTAL = "all"
VALUE_COLUMNS = ("grain", "scope_kind", "scope_id", "kpi", "period_start", "value", "n", "numerator", "denominator")


def complete_weeks(first_day: date, last_day: date) -> tuple[date, date] | None:
    """The first Monday and last Sunday of the whole ISO weeks inside [first_day, last_day]."""
    monday = first_day + timedelta(days=(7 - first_day.weekday()) % 7)
    sunday = last_day - timedelta(days=(last_day.weekday() + 1) % 7)
    return (monday, sunday) if sunday > monday else None


def kpi_values(
    facts: Facts,
    first_day: date,
    last_day: date,
    *,
    grains: Sequence[str] = ("day", "week"),
    scope_kinds: Sequence[str] = SCOPE_KINDS,
    kpis: Iterable[str] | None = None,
) -> pl.DataFrame:
    """Every watched KPI of every scope at each grain over local dates [first_day,
    last_day] (weeks: whole weeks only), from the metric engine."""
    wanted = set(kpis) if kpis is not None else None
    parts: list[pl.DataFrame] = []
    for grain in grains:
        window = (first_day, last_day) if grain == "day" else complete_weeks(first_day, last_day)
        if window is None:
            continue
        for kind in scope_kinds:
            names = [k for k in WATCHED[grain][kind] if wanted is None or k in wanted]
            if not names:
                continue
            dimension = SCOPE_DIMENSION.get(kind)
            result = compute(facts, names, by=[grain] + ([dimension] if dimension else []), first_day=window[0], last_day=window[1])
            member = pl.col(dimension).cast(pl.String) if dimension else pl.lit(TOTAL)
            parts.append(
                result.values.filter(member.is_not_null()).select(
                    pl.lit(grain).alias("grain"), pl.lit(kind).alias("scope_kind"), member.alias("scope_id"),
                    "kpi", "period_start", "value", "n", "numerator", "denominator",
                )
            )
    if not parts:
        return empty_values()
    return pl.concat(parts, how="vertical_relaxed")


def empty_values() -> pl.DataFrame:
    return pl.DataFrame(schema={
        "grain": pl.String, "scope_kind": pl.String, "scope_id": pl.String, "kpi": pl.String, "period_start": pl.Date,
        "value": pl.Float64, "n": pl.Int64, "numerator": pl.Float64, "denominator": pl.Float64,
    })


def known_days(closures: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """scope_kind, scope_id, day: the public holidays (any office's closures in
    ``office_closures``) and the first day after each run of them, for every scope.

    Every scope's figures move on those days: closed counters, a back office that does
    not work, and a catch-up the day after; online offices stay open but their cases
    wait for the same back office.
    """
    closed = set(closures["closed_on"].to_list()) if closures.height else set()
    days = set(closed)
    for day in closed:
        after = day + timedelta(days=1)
        while after in closed:
            after += timedelta(days=1)
        days.add(after)
    ordered = sorted(days)
    pairs = scopes.select("scope_kind", "scope_id").unique().sort("scope_kind", "scope_id")
    if not ordered or pairs.height == 0:
        return pl.DataFrame(schema={"scope_kind": pl.String, "scope_id": pl.String, "day": pl.Date})
    return pairs.join(pl.DataFrame({"day": ordered}, schema={"day": pl.Date}), how="cross")


def department_of_scope(scope_kind: str, scope_id: str, services: pl.DataFrame) -> str | None:
    """The department a scope belongs to, or None when it crosses departments."""
    service_departments = dict(zip(services["service_id"], services["department_id"], strict=True))
    return ids.department_of(ids.format_id(scope_kind, scope_id), service_departments)
