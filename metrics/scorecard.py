"""The weekly scorecard: every KPI of a scope for one ISO week, against last week, the same
week last year (52 weeks back, so weekdays line up) and its target, with its status and the
composite score (Boston's CityScore rule).

The current, unfinished week is marked partial: it gets no status and no changes, because
comparing four days with seven is not a comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from data.fact_frames import Facts
from metrics.breaches import BREACH_SCHEMA, BREACH_WEEKS, find_breaches
from metrics.engine import compute
from metrics.periods import parse_week, week_label
from metrics.registry import METRICS
from metrics.report_periods import ReportPeriod
from metrics.rules import DEFAULT_RULES
from metrics.status import GREY, RED, composite, composite_status, metric_score, miss, status
from metrics.targets import Targets, load_targets

HISTORY_WEEKS = 13
YEAR_WEEKS = 52
SCORECARD_BY = ("department_id", "service_id", "office_id", "channel")
UNKNOWN_SCOPE = "(unknown)"  # the scope of rows split by a dimension they do not record
# KPIs that do not apply to a service with no online channel (services.digital false):
# its digital take-up is not 0% of a channel it does not offer, and it has no online
# journeys to complete.
NOT_APPLICABLE_OFFLINE = frozenset({"digital_take_up", "completion_rate"})


@dataclass(frozen=True)
class Scorecard:
    """``rows``: one per scope and KPI. ``composite``: one per scope, with the KPIs above
    and below target. ``history``: the last 13 weeks of every KPI, for sparklines."""

    week: str
    rows: pl.DataFrame
    composite: pl.DataFrame
    history: pl.DataFrame
    rule_counts: dict[str, int]
    partial: bool
    as_of: date | None
    targets_version: str
    # every sustained breach (metrics.breaches) of the complete weeks of the year to this
    # week, ended or not; ``current_breaches`` are what the week shows
    breaches: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BREACH_SCHEMA))
    breach_weeks: int = BREACH_WEEKS

    def current_breaches(self) -> pl.DataFrame:
        """The breaches still going at the end of the week, longest first, and those the
        week ended (back on target this week)."""
        return self.breaches.filter(pl.col("ongoing") | (pl.col("ended_week") == self.week)).sort(
            ["ongoing", "weeks", "scope", "kpi"], descending=[True, True, False, False]
        )

    def long(self) -> pl.DataFrame:
        """The rows and the composite score together, as the CLI and CSV export print them."""
        composite_rows = self.composite.select(
            "week", "scope",
            pl.lit("composite_score").alias("kpi"),
            pl.lit("Composite score").alias("label"),
            pl.lit("score").alias("unit"),
            pl.col("score").alias("value"),
            pl.lit(None, dtype=pl.Float64).alias("last_week"),
            pl.lit(None, dtype=pl.Float64).alias("same_week_last_year"),
            pl.lit(1.0).alias("target"),
            pl.lit(None, dtype=pl.Float64).alias("change_on_last_week"),
            pl.lit(None, dtype=pl.Float64).alias("change_on_last_year"),
            "status",
            pl.col("metrics_scored").cast(pl.Int64).alias("n"),
            pl.format("below target: {}", pl.col("below").list.join(", ")).alias("note"),
            "partial",
        )
        return pl.concat([self.rows.select(composite_rows.columns), composite_rows], how="vertical_relaxed")


def scorecard(
    facts: Facts,
    week: str,
    *,
    by: str | None = None,
    scope: dict[str, str] | None = None,
    as_of: date | None = None,
    targets: Targets | None = None,
    rules: frozenset[str] = DEFAULT_RULES,
    data_from: date | None = None,
    offline_services: frozenset[str] = frozenset(),
) -> Scorecard:
    """The scorecard of ``week`` (e.g. '2026-W47') for the facts given (already narrowed
    to the scope, described by ``scope`` for targets), one per value of ``by`` if given.

    ``as_of``: the last local date the data covers (a week ending after it is partial).
    ``data_from``: the first local date it covers: a comparison week that ended before it
    has no value (not a count of zero).
    ``offline_services``: services with no online channel (services.digital false): their
    digital take-up is not applicable (no value, grey, out of the composite), not 0% red.
    """
    if by is not None and by not in SCORECARD_BY:
        raise ValueError(f"a scorecard can be split by {', '.join(SCORECARD_BY)}, not {by!r}")
    targets = targets or load_targets()
    scope = scope or {}
    monday = parse_week(week)
    first_day = monday - timedelta(weeks=YEAR_WEEKS)
    last_day = monday + timedelta(days=6)
    result = compute(facts, None, by=["week"] + ([by] if by else []), first_day=first_day, last_day=last_day, rules=rules)
    values = result.values
    partial = as_of is not None and last_day > as_of

    scope_column = by
    if scope_column is None:
        values = values.with_columns(pl.lit(_scope_name(scope)).alias("scope"))
    else:
        values = values.with_columns(pl.col(scope_column).fill_null(UNKNOWN_SCOPE).alias("scope"))
    week_of = {"this": week_label(monday), "last": week_label(monday - timedelta(weeks=1)), "year": week_label(first_day)}
    picked = {
        name: values.filter(pl.col("period") == label).select("scope", "kpi", "value", "n", "note")
        for name, label in week_of.items()
    }
    for name, label in week_of.items():
        if name != "this" and data_from is not None and parse_week(label) + timedelta(days=6) < data_from:
            picked[name] = picked[name].with_columns(pl.lit(None, dtype=pl.Float64).alias("value"))
    table = (
        picked["this"]
        .join(picked["last"].select("scope", "kpi", pl.col("value").alias("last_week")), on=["scope", "kpi"], how="left")
        .join(picked["year"].select("scope", "kpi", pl.col("value").alias("same_week_last_year")), on=["scope", "kpi"], how="left")
    )

    applicable_target = _target_lookup(targets, scope, by, offline_services)

    in_progress = f"week in progress: data to {as_of:%a %d %b}" if partial and as_of is not None else None
    frame, composite_frame = _card(table, week_of["this"], applicable_target, in_progress=in_progress)
    history_start = monday - timedelta(weeks=HISTORY_WEEKS - 1)
    history = values.filter(pl.col("period_start") >= history_start).select("scope", "kpi", "period", "period_start", "value", "numerator", "denominator", "n")
    if offline_services:
        offline = pl.col("scope").is_in(list(offline_services)) if by == "service_id" else pl.lit(scope.get("service_id") in offline_services)
        history = history.with_columns(
            pl.when(pl.col("kpi").is_in(list(NOT_APPLICABLE_OFFLINE)) & offline).then(None).otherwise(pl.col("value")).alias("value")
        )
    judged = values.filter(pl.col("period_start") <= (monday - timedelta(weeks=1) if partial else monday))
    if data_from is not None:
        judged = judged.filter(pl.col("period_start") >= data_from)  # a week the data starts inside is not judged
    found = find_breaches(judged, lambda scope_value, kpi: applicable_target(scope_value, kpi)[0], weeks=targets.breach_weeks)
    return Scorecard(week_of["this"], frame, composite_frame, history, result.rule_counts, partial, as_of, targets.version,
                     found, targets.breach_weeks)


def _target_lookup(
    targets: Targets, scope: dict[str, str], by: str | None, offline_services: frozenset[str]
) -> Callable[[str, str], tuple[float | None, str, bool]]:
    """For a scope value of a card and a KPI: its target, where the target comes from, and
    whether the KPI applies there at all (no target where it does not)."""

    def applicable_target(scope_value: str, kpi: str) -> tuple[float | None, str, bool]:
        target_scope = dict(scope)
        if by in ("department_id", "service_id", "office_id"):
            target_scope[by] = scope_value
        if kpi in NOT_APPLICABLE_OFFLINE and target_scope.get("service_id") in offline_services:
            return None, "not applicable", False
        target, source = targets.for_scope(kpi, **{k: target_scope.get(k) for k in ("department_id", "service_id", "office_id")})
        return target, source, True

    return applicable_target


def period_scorecard(
    facts: Facts,
    period: ReportPeriod,
    *,
    by: str | None = None,
    scope: dict[str, str] | None = None,
    targets: Targets | None = None,
    rules: frozenset[str] = DEFAULT_RULES,
    data_from: date | None = None,
    offline_services: frozenset[str] = frozenset(),
) -> Scorecard:
    """The scorecard of a month, quarter or financial year to date (metrics.report_periods)
    for the facts given, against its previous period and the same period a year earlier
    (in the columns ``last_week`` and ``same_week_last_year``, as the weekly card has them),
    its target and status. Every figure is computed over the whole span by the engine (a
    ratio from its numerator and denominator, a median of every case, a backlog at the
    span's last day), never averaged from weeks. A period to date is judged like for like
    (the same days of each comparison span) and its notes say to which day. A comparison
    span the data does not wholly cover (``data_from``) has no value; a span of the period
    itself that starts before the data says so in its notes. Its history is empty and it
    has no breaches: those are weekly."""
    targets = targets or load_targets()
    scope = scope or {}
    dims = [by] if by else []
    spans = {"this": period.this, "last": period.previous, "year": period.last_year}
    picked: dict[str, pl.DataFrame] = {}
    rule_counts: dict[str, int] = {}
    for name, span in spans.items():
        if span is None or (name != "this" and data_from is not None and span.first_day < data_from):
            picked[name] = pl.DataFrame(schema={"scope": pl.String, "kpi": pl.String, "value": pl.Float64})
            continue
        result = compute(facts, None, by=dims, first_day=span.first_day, last_day=span.last_day, rules=rules)
        if name == "this":
            rule_counts = result.rule_counts
        values = result.values
        if by is None:
            values = values.with_columns(pl.lit(_scope_name(scope)).alias("scope"))
        else:
            values = values.with_columns(pl.col(by).fill_null(UNKNOWN_SCOPE).alias("scope"))
        picked[name] = values.select("scope", "kpi", "value", "n", "note") if name == "this" else values.select("scope", "kpi", "value")
    table = (
        picked["this"]
        .join(picked["last"].rename({"value": "last_week"}), on=["scope", "kpi"], how="left")
        .join(picked["year"].rename({"value": "same_week_last_year"}), on=["scope", "kpi"], how="left")
    )
    to_date = f"to {period.this.last_day:%a %d %b %Y}, compared over the same days" if period.partial else None
    if data_from is not None and period.this.first_day < data_from:
        to_date = f"data from {data_from:%d %b %Y} only" + (f"; {to_date}" if to_date else "")
    frame, composite_frame = _card(table, period.label, _target_lookup(targets, scope, by, offline_services), to_date=to_date)
    history = pl.DataFrame(schema={"scope": pl.String, "kpi": pl.String, "period": pl.String, "period_start": pl.Date,
                                   "value": pl.Float64, "numerator": pl.Float64, "denominator": pl.Float64, "n": pl.Int64})
    return Scorecard(period.label, frame, composite_frame, history, rule_counts, False, period.this.last_day, targets.version,
                     breach_weeks=targets.breach_weeks)


def _card(
    table: pl.DataFrame,
    label: str,
    applicable_target: Callable[[str, str], tuple[float | None, str, bool]],
    *,
    in_progress: str | None = None,
    to_date: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows and composites of a card from ``table`` (scope, kpi, value, n, note,
    last_week, same_week_last_year). ``in_progress``: the period is not over and is not
    judged (the note says why); ``to_date``: it is judged like for like, and the note
    says over which days."""
    partial = in_progress is not None
    rows = []
    for row in table.iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        target, target_source, applicable = applicable_target(row["scope"], metric.name)
        value = row["value"]
        note = row["note"]
        if not applicable:
            value = None
            note = "not applicable: this service has no online channel"
            if metric.name == "completion_rate":
                note = "not applicable: this service has no online journeys"
        if partial:
            state, change_week, change_year = GREY, None, None
            note = f"{in_progress}" + (f"; {note}" if note else "")
        else:
            if to_date:
                note = to_date + (f"; {note}" if note else "")
            state = status(value, target, metric.better)
            change_week = _change(value, row["last_week"])
            change_year = _change(value, row["same_week_last_year"])
        rows.append(
            {
                "week": label,
                "scope": row["scope"],
                "kpi": metric.name,
                "label": metric.label,
                "unit": metric.unit,
                "value": value,
                "last_week": row["last_week"],
                "same_week_last_year": row["same_week_last_year"],
                "target": target,
                "target_source": target_source,
                "change_on_last_week": change_week,
                "change_on_last_year": change_year,
                "status": state,
                "n": row["n"],
                "note": note,
                "partial": partial,
                "score": None if partial else metric_score(value, target, metric.better),
                "better": metric.better.value,
                "applicable": applicable,
            }
        )
    schema = {
        "week": pl.String, "scope": pl.String, "kpi": pl.String, "label": pl.String, "unit": pl.String,
        "value": pl.Float64, "last_week": pl.Float64, "same_week_last_year": pl.Float64, "target": pl.Float64,
        "target_source": pl.String, "change_on_last_week": pl.Float64, "change_on_last_year": pl.Float64,
        "status": pl.String, "n": pl.Int64, "note": pl.String, "partial": pl.Boolean, "score": pl.Float64, "better": pl.String,
        "applicable": pl.Boolean,
    }
    frame = pl.DataFrame(rows, schema=schema)
    order = {name: i for i, name in enumerate(METRICS)}
    frame = frame.with_columns(pl.col("kpi").replace_strict(order, return_dtype=pl.Int32).alias("_order")).sort("scope", "_order").drop("_order")

    composites = []
    for scope_value, part in frame.group_by("scope", maintain_order=True):
        scored = part.filter(pl.col("score").is_not_null())
        score = composite(scored["score"].to_list())
        below = scored.filter(pl.col("score") < 1.0)
        red = part.filter(pl.col("status") == RED).height
        # below target, the largest miss in target units first (metrics.status.miss): the
        # order the where-matrix ranks by and the summary's "furthest below" names
        misses = {row["kpi"]: miss(row["value"], row["target"], row["better"]) for row in below.iter_rows(named=True)}
        below_order = sorted(misses, key=lambda kpi: (-misses[kpi], kpi))
        composites.append(
            {
                "week": label,
                "scope": scope_value[0],
                "score": score,
                "status": GREY if partial else composite_status(score, red=red),
                "metrics_scored": scored.height,
                "above": scored.filter(pl.col("score") >= 1.0).sort("score", descending=True)["kpi"].to_list(),
                "below": below_order,
                "off_target": red,
                "worst": below_order[0] if below_order else None,
                "partial": partial,
            }
        )
    composite_frame = pl.DataFrame(
        composites,
        schema={"week": pl.String, "scope": pl.String, "score": pl.Float64, "status": pl.String, "metrics_scored": pl.Int64,
                "above": pl.List(pl.String), "below": pl.List(pl.String), "off_target": pl.Int64, "worst": pl.String,
                "partial": pl.Boolean},
    )
    return frame, composite_frame


def _change(value: float | None, before: float | None) -> float | None:
    if value is None or before is None:
        return None
    return value - before


def _scope_name(scope: dict[str, str]) -> str:
    for key in ("office_id", "service_id", "department_id", "channel"):
        if scope.get(key):
            return scope[key]
    return "all"


def latest_complete_week(as_of: date) -> str:
    """The last ISO week that ended on or before ``as_of``."""
    sunday = as_of - timedelta(days=(as_of.weekday() + 1) % 7)
    return week_label(sunday)

