"""Sustained target breaches: a KPI of a scope below its target week after week.

An anomaly is a surprise against the KPI's own recent behaviour, so a detector that adapts
stops flagging a failure that lasts; a breach is judged against the target only, and
stays until the KPI is back on target. The rule (documented in the README):

- A complete ISO week is *below target* when its value misses the target in the KPI's
  direction (metrics.status.miss > 0: amber or red), *on target* when it meets it.
  A week with no value (no data, too little data, or not applicable) neither lengthens
  nor ends a breach; a breach still going says when its last figure was.
- ``weeks`` (``breach_weeks`` in metrics/targets.toml, default 3) or more below-target
  weeks in a row, with no on-target week between them, are a breach. It starts on the
  first of them and lasts until the first week back on target, which ends it.
- A breach carries its start week, its length (the below-target weeks), its worst value
  and the week of it, the target, and, once ended, the week that ended it. When the weeks
  read start inside the breach, ``from_window_start`` says it may have begun earlier.
- The partial week in progress is never judged.

Pure: a frame of weekly values in, a frame of breaches out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import polars as pl

from metrics.formatting import number
from metrics.registry import METRICS, Direction
from metrics.status import miss

BREACH_WEEKS = 3

BREACH_SCHEMA = {
    "scope": pl.String, "kpi": pl.String, "label": pl.String, "unit": pl.String,
    "start_week": pl.String, "last_below_week": pl.String, "weeks": pl.Int64,
    "worst_value": pl.Float64, "worst_week": pl.String, "target": pl.Float64,
    "ongoing": pl.Boolean, "ended_week": pl.String, "from_window_start": pl.Boolean,
}


def find_breaches(
    weekly: pl.DataFrame,
    target_of: Callable[[str, str], float | None],
    *,
    weeks: int = BREACH_WEEKS,
) -> pl.DataFrame:
    """Every breach in ``weekly`` (columns scope, kpi, period, period_start, value: one row
    per complete week), oldest first within each scope and KPI. ``target_of(scope, kpi)``
    gives the target (None: no target, never a breach)."""
    if weeks < 1:
        raise ValueError(f"a breach needs at least 1 week below target, not {weeks}")
    rows: list[dict] = []
    if weekly.height == 0:
        return pl.DataFrame(rows, schema=BREACH_SCHEMA)
    first_period = weekly["period_start"].min()
    ordered = weekly.select("scope", "kpi", "period", "period_start", "value").sort("scope", "kpi", "period_start")
    for (scope, kpi), part in ordered.group_by(["scope", "kpi"], maintain_order=True):
        metric = METRICS.get(kpi)
        if metric is None or metric.better == Direction.CONTEXT:
            continue
        target = target_of(scope, kpi)
        if target is None:
            continue
        runs = _runs_below(part.select("period", "period_start", "value").iter_rows(), target, metric.better)
        for run, ended_week in runs:
            if len(run) < weeks:
                continue
            worst = max(run, key=lambda item: (miss(item[2], target, metric.better), item[1]))
            rows.append({
                "scope": scope, "kpi": kpi, "label": metric.label, "unit": metric.unit,
                "start_week": run[0][0], "last_below_week": run[-1][0], "weeks": len(run),
                "worst_value": worst[2], "worst_week": worst[0], "target": target,
                "ongoing": ended_week is None, "ended_week": ended_week,
                "from_window_start": run[0][1] == first_period,
            })
    return pl.DataFrame(rows, schema=BREACH_SCHEMA)


def _runs_below(weeks: Iterable[tuple[str, date, float | None]], target: float, better: Direction) -> list[tuple[list[tuple[str, date, float]], str | None]]:
    """The runs of weeks below target, each with the week that ended it (None: still going)."""
    runs: list[tuple[list[tuple[str, date, float]], str | None]] = []
    run: list[tuple[str, date, float]] = []
    for week, monday, value in weeks:
        if value is None or value != value:  # no figure: the run goes on, unjudged
            continue
        short = miss(value, target, better)
        if short is not None and short > 0:
            run.append((week, monday, float(value)))
        elif run:
            runs.append((run, week))
            run = []
    if run:
        runs.append((run, None))
    return runs


def breach_sentence(breach: dict, scope_name: str, *, week: str | None = None) -> str:
    """'On-time rate in Birth registration: below its 90.0% target for 14 weeks, since
    2026-W32 (worst 0.6% in 2026-W40).' ``week``: the week shown; a breach still going
    whose last figure is older says 'no figure since'."""
    since = f"since {breach['start_week']}" + (" or earlier" if breach["from_window_start"] else "")
    worst = f"worst {number(breach['worst_value'], breach['kpi'])} in {breach['worst_week']}"
    length = f"{breach['weeks']} week{'s' if breach['weeks'] != 1 else ''}"
    target = number(breach["target"], breach["kpi"])
    if breach["ongoing"]:
        quiet = f"; no figure since {breach['last_below_week']}" if week and breach["last_below_week"] < week else ""
        return f"{breach['label']} in {scope_name}: below its {target} target for {length}, {since} ({worst}){quiet}."
    return (f"{breach['label']} in {scope_name}: back on its {target} target in {breach['ended_week']} after {length} "
            f"below it, {since} ({worst}).")
