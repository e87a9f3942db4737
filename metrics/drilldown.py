"""The drill-down's logic: the path from all departments down to one cell (a scope and a
week), the next level to split by, the peers of a level, the individual values behind a
cell's distributions, and the rows behind a number.

Pure: no I/O. The rows behind a number come from the SQL extracts sql/case_rows.sql,
contact_rows.sql, journey_rows.sql and feedback_rows.sql; ``rows_query`` says which one and
with which bound values for a metric's population, and ``tally`` counts a figure again
from its rows: the rows behind a cell give the engine's n, numerator and denominator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from data.fact_frames import NOT_RECORDED, Facts
from data.vocabulary import CHANNELS, IN_PERSON, PHONE
from metrics.engine import exact_seconds
from metrics.formatting import number
from metrics.periods import Periods, parse_week
from metrics.registry import MEASURES, POPULATIONS, Aggregation, Direction, Metric
from metrics.rules import DEFAULT_THRESHOLDS, RULES, Rule, Thresholds
from metrics.scorecard import NOT_APPLICABLE_OFFLINE
from metrics.status import status as status_of
from metrics.targets import Targets

LEVELS = ("department_id", "service_id", "office_id", "channel")
WEEK = "week"
LEVEL_WORDS = {
    "department_id": ("department", "departments"),
    "service_id": ("service", "services"),
    "office_id": ("office", "offices"),
    "channel": ("channel", "channels"),
    WEEK: ("week", "weeks"),
}
WINDOWS = (13, 26, 52)  # weeks a trend may show

# The extract that lists the rows behind a figure, by the fact its population is drawn from.
ROW_EXTRACTS = {"cases": "case_rows", "contacts": "contact_rows", "journeys": "journey_rows", "feedback": "feedback_rows"}
# Read from the registry (metrics/registry.py POPULATIONS): which fact each population is
# drawn from, and what its rows are in words (the figure's population over one week).
FACT_OF_POPULATION = {name: population.fact for name, population in POPULATIONS.items()}
POPULATION_WORDS = {name: population.words for name, population in POPULATIONS.items()}


class DrilldownError(ValueError):
    """A cell that cannot be drilled into as asked; the message says why."""


# ---------------------------------------------------------------------- the path


@dataclass(frozen=True)
class Scope:
    """Where the drill-down stands: a value per level, None for 'all'."""

    department_id: str | None = None
    service_id: str | None = None
    office_id: str | None = None
    channel: str | None = None

    def chosen(self) -> dict[str, str]:
        """The levels chosen so far, in walking order."""
        return {level: getattr(self, level) for level in LEVELS if getattr(self, level) is not None}

    @property
    def deepest(self) -> str | None:
        chosen = list(self.chosen())
        return chosen[-1] if chosen else None

    def down(self, level: str, value: str) -> Scope:
        return replace(self, **{level: value})

    def up_to(self, level: str | None) -> Scope:
        """The scope with ``level`` as its deepest choice (None: all departments)."""
        keep = LEVELS[: LEVELS.index(level) + 1] if level is not None else ()
        return Scope(**{name: getattr(self, name) for name in keep})

    def narrowing(self) -> dict[str, str]:
        """The choices that narrow facts already loaded for the scope's department."""
        return {level: value for level, value in self.chosen().items() if level != "department_id"}

    def key(self) -> tuple[str | None, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


def scope_from(
    values: Mapping[str, str | None],
    *,
    departments: Sequence[str],
    services: pl.DataFrame,
    offices: Sequence[str],
) -> Scope:
    """A scope from URL values (``department``, ``service``, ``office``, ``channel``),
    keeping only values the viewer may see; a service brings its department with it, and
    a service of another department than the one named wins over it."""
    department = values.get("department")
    department = department if department in departments else None
    service = values.get("service")
    department_of = dict(zip(services["service_id"].to_list(), services["department_id"].to_list(), strict=True))
    if service in department_of and department_of[service] in departments:
        department = department_of[service]
    else:
        service = None
    office = values.get("office")
    channel = values.get("channel")
    return Scope(
        department_id=department,
        service_id=service,
        office_id=office if office in offices else None,
        channel=channel if channel in CHANNELS else None,
    )


def fact_of(metric: Metric) -> str:
    """The fact a metric's rows are drawn from (cases, contacts, journeys or feedback)."""
    if metric.population not in FACT_OF_POPULATION:
        raise DrilldownError(f"{metric.name} has population {metric.population!r}, which has no rows behind it; known: {', '.join(FACT_OF_POPULATION)}")
    return FACT_OF_POPULATION[metric.population]


def rules_of(metric: Metric) -> list[Rule]:
    """The rules that leave rows out of the metric's figure, whose rows can be listed."""
    listed = POPULATIONS[metric.population].lists_left_out
    return [RULES[name] for name in metric.rules if name in listed]


def not_recorded(metric: Metric, level: str) -> str | None:
    """Why ``metric`` cannot be split by ``level``, or None when it can."""
    return NOT_RECORDED.get(fact_of(metric), {}).get(level)


def blocked_by(metric: Metric, scope: Scope) -> str | None:
    """Why the metric has no figure in this scope at all (a level it is not recorded by)."""
    for level in scope.chosen():
        reason = not_recorded(metric, level)
        if reason:
            return f"{metric.label} cannot be shown for one {LEVEL_WORDS[level][0]}: {reason}."
    return None


def not_applicable(metric: Metric, scope: Scope, offline_services: frozenset[str], service_name: str = "this service") -> str | None:
    """Why the metric does not apply to the scope's service at all (it has no online
    channel, so digital take-up is not 0% of a channel it does not offer), or None."""
    if metric.name in NOT_APPLICABLE_OFFLINE and scope.service_id in offline_services:
        return (f"{metric.label} does not apply to {service_name}: it has no online channel, so it is shown as not applicable "
                "on the scorecard and left out of its composite score, not as 0%.")
    return None


def applicable_peers(values: pl.DataFrame, metric: Metric, level: str, offline_services: frozenset[str]) -> tuple[pl.DataFrame, list[str]]:
    """The peers a metric applies to, and the services left out because it does not apply
    to them (no online channel)."""
    if level != "service_id" or metric.name not in NOT_APPLICABLE_OFFLINE:
        return values, []
    left_out = values.filter(pl.col(level).is_in(list(offline_services)))[level].drop_nulls().unique().sort().to_list()
    return values.filter(~pl.col(level).is_in(list(offline_services)) | pl.col(level).is_null()), left_out


def next_level(metric: Metric, scope: Scope) -> tuple[str, list[str]]:
    """The level below the scope's deepest choice that the metric can be split by, and
    the levels skipped on the way because the metric is not recorded by them; the week
    once every level is chosen."""
    deepest = scope.deepest
    start = LEVELS.index(deepest) + 1 if deepest else 0
    skipped = []
    for level in LEVELS[start:]:
        if not_recorded(metric, level):
            skipped.append(level)
            continue
        return level, skipped
    return WEEK, skipped


# ---------------------------------------------------------------------- the time window


def window(week: str, latest_week: str, weeks: int) -> tuple[date, date]:
    """The local dates of the trend: ``weeks`` weeks ending at the latest complete week,
    or at the chosen week when that is later (in progress) or earlier than the window."""
    chosen = parse_week(week)
    latest = parse_week(latest_week)
    end = max(chosen, latest)
    if chosen < end - timedelta(weeks=weeks - 1):
        end = chosen
    return end - timedelta(weeks=weeks - 1), end + timedelta(days=6)


def week_days(week: str) -> tuple[date, date]:
    monday = parse_week(week)
    return monday, monday + timedelta(days=6)


# ---------------------------------------------------------------------- peers


def peers(
    values: pl.DataFrame,
    metric: Metric,
    level: str,
    names: Mapping[str, str],
    *,
    overall: float | None,
    targets: Targets | None = None,
    scope: Scope | None = None,
) -> pl.DataFrame:
    """One row per value of ``level`` (the engine's long values of one week, or of each
    week when ``level`` is the week): its name, value, the gap to the overall figure,
    target and status, n and the engine's note. Sorted best first; a value withheld for
    too few observations sorts last."""
    key = "period" if level == WEEK else level
    scope = scope or Scope()
    rows = []
    for row in values.iter_rows(named=True):
        member = row[key]
        target_scope = {k: v for k, v in scope.chosen().items() if k in ("department_id", "service_id", "office_id")}
        if level in ("department_id", "service_id", "office_id") and member is not None:
            target_scope[level] = member
        target = (targets.for_scope(metric.name, **target_scope)[0] if targets else metric.target)
        value = row["value"]
        rows.append(
            {
                "member": member,
                "name": names.get(member, member) if member is not None else "(not recorded)",
                "value": value,
                "gap_to_overall": None if value is None or overall is None else value - overall,
                "target": target,
                "status": status_of(value, target, metric.better),
                "n": row["n"],
                "note": row["note"],
            }
        )
    schema = {
        "member": pl.String, "name": pl.String, "value": pl.Float64, "gap_to_overall": pl.Float64,
        "target": pl.Float64, "status": pl.String, "n": pl.Int64, "note": pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema)
    if level == WEEK:
        return frame
    descending = metric.better != Direction.LOWER
    return frame.sort("value", descending=descending, nulls_last=True, maintain_order=True)


# ---------------------------------------------------------------------- distributions


def _in_span(facts: Facts, frame: pl.DataFrame, column: str, first_day: date, last_day: date) -> pl.Expr:
    """Whether ``column`` (naive UTC) falls in the local dates [first_day, last_day], each
    row in its office's time zone (the organisation's where it has none), as the engine
    places it."""
    span = Periods(None, first_day, last_day)
    if "timezone" in frame.columns or ("office_id" in frame.columns and facts.offices is not None):
        zone = facts.column(frame, "timezone").fill_null(facts.timezone)
        zones = frame.select(zone.unique()).to_series().drop_nulls().to_list() or [facts.timezone]
    else:
        zone, zones = pl.lit(facts.timezone), [facts.timezone]
    inside = pl.lit(False)
    for each in zones:
        start, end = span.utc_boundaries(each).to_list()
        inside = pl.when(zone == each).then(pl.col(column).is_between(start, end, closed="left")).otherwise(inside)
    return inside.fill_null(False)


def cell_values(facts: Facts, first_day: date, last_day: date, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[str, pl.Series]:
    """The individual values behind a cell's distributions, over local dates [first_day,
    last_day] of facts already narrowed to the scope: ``processing_days`` of the cases
    closed (administrative closes within 60 s and cancelled cases left out, as the
    processing-time measures do), ``visit_wait_minutes`` of visitors served and ``call_wait_seconds`` of calls
    answered. The medians of these are the engine's."""
    out = {
        "processing_days": pl.Series("processing_days", [], dtype=pl.Float64),
        "visit_wait_minutes": pl.Series("visit_wait_minutes", [], dtype=pl.Float64),
        "call_wait_seconds": pl.Series("call_wait_seconds", [], dtype=pl.Float64),
    }
    if facts.cases is not None:
        cases = facts.cases
        duration = pl.col("closed_at") - pl.col("submitted_at")
        handled = ~pl.col("cancelled").fill_null(False) if "cancelled" in cases.columns else pl.lit(True)
        closed = cases.filter(
            _in_span(facts, cases, "closed_at", first_day, last_day) & (exact_seconds(duration) >= thresholds.admin_close_seconds) & handled
        )
        out["processing_days"] = closed.select((duration.dt.total_microseconds() / 86_400e6).alias("processing_days")).to_series()
    if facts.contacts is not None:
        contacts = facts.contacts
        arrived = contacts.filter(_in_span(facts, contacts, "arrived_at", first_day, last_day) & ~pl.col("abandoned"))
        wait = exact_seconds(pl.col("answered_at") - pl.col("arrived_at"))
        channel = pl.col("channel").cast(pl.String)
        out["visit_wait_minutes"] = arrived.filter(channel == IN_PERSON).select((wait / 60).alias("visit_wait_minutes")).to_series()
        out["call_wait_seconds"] = arrived.filter(channel == PHONE).select(wait.alias("call_wait_seconds")).to_series()
    return {name: series.drop_nulls() for name, series in out.items()}


def _nice_width(span: float, bins: int) -> float:
    """A bin width of 1, 2 or 5 times a power of ten that gives about ``bins`` bins."""
    if span <= 0:
        return 1.0
    raw = span / bins
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if raw <= step * power:
            return step * power
    return 10 * power


def histogram_bins(values: pl.Series, *, bins: int = 30, clip: float = 0.95) -> pl.DataFrame:
    """Counts of ``values`` in equal bins of a round width from zero: ``bin_from``
    (inclusive), ``bin_to`` (exclusive; empty for the last bin when it is open-ended) and
    ``count``. Bins cover values up to the ``clip`` quantile, so that a long tail does not
    squash the rest into one bar; the values beyond are counted in the last bin, which
    then reads "and over". Empty bins inside the range are kept, so the table and the
    chart show the same gaps."""
    schema = {"bin_from": pl.Float64, "bin_to": pl.Float64, "count": pl.Int64}
    present = values.drop_nulls().cast(pl.Float64)
    if present.len() == 0:
        return pl.DataFrame(schema=schema)
    top = float(present.quantile(clip, interpolation="linear"))
    width = _nice_width(top, bins)
    count = max(1, math.floor(top / width) + 1)
    open_ended = float(present.max()) >= count * width
    index = (present / width).floor().cast(pl.Int64).clip(0, count - 1)
    counted = index.value_counts().rename({index.name: "bin"})
    frame = pl.DataFrame({"bin": pl.Series(range(count), dtype=pl.Int64)}).join(
        counted.with_columns(pl.col("bin").cast(pl.Int64)), on="bin", how="left"
    )
    last = pl.col("bin") == count - 1
    return frame.select(
        (pl.col("bin") * width).cast(pl.Float64).alias("bin_from"),
        pl.when(last & pl.lit(open_ended)).then(None).otherwise((pl.col("bin") + 1) * width).cast(pl.Float64).alias("bin_to"),
        pl.col("count").fill_null(0).cast(pl.Int64),
    )


def quantiles(values: pl.Series) -> dict[str, float | None]:
    """Median and 90th percentile (linear interpolation, as the engine takes them)."""
    present = values.drop_nulls()
    if present.len() == 0:
        return {"median": None, "p90": None, "n": 0}
    return {
        "median": float(present.median()),
        "p90": float(present.quantile(0.9, interpolation="linear")),
        "n": present.len(),
    }


# ---------------------------------------------------------------------- the rows behind a number


@dataclass(frozen=True)
class RowsQuery:
    """Which extract lists the rows behind a cell, for which departments, with which values."""

    extract: str
    departments: tuple[str, ...]
    params: dict[str, Any]


# The orders the rows behind a figure can be listed in, per fact (the extracts' :order_by),
# and the states a case can be in at the cell's end (case_rows.sql's triage column).
ROW_ORDERS: dict[str, dict[str, str]] = {
    "cases": {
        "triage": "overdue and late first, oldest first",
        "age": "oldest open case first",
        "duration": "longest to close first",
        "event": "by event, then its time",
    },
    "contacts": {
        "wait": "longest wait first (an abandoned contact by how long it waited)",
        "handle": "longest handling first",
        "arrival": "in order of arrival",
    },
}
TRIAGE_STATES = ("overdue", "late", "open", "on time", "closed", "cancelled")


def default_order(metric: Metric) -> str | None:
    """The order the rows behind a figure open in: the ones that make the number bad
    first (late and overdue for the on-time rate, the oldest for the backlog, the longest
    for processing times and waits), else by event or arrival; None for a fact listed in
    one order only (ratings, journeys)."""
    population, name = metric.population, metric.name
    fact = fact_of(metric)
    if fact == "cases":
        if population == "closed_or_overdue":
            return "triage"
        if population in ("open_at_end", "overdue_at_end"):
            return "age"
        if population == "closed" and name.startswith("processing_time"):
            return "duration"
        return "event"
    if fact == "contacts":
        if name == "aht":
            return "handle"
        if name.startswith("wait_") or name in ("asa", "service_level", "abandonment_rate"):
            return "wait"
        return "arrival"
    return None


def rows_query(
    metric: Metric,
    scope: Scope,
    departments: Sequence[str],
    first_day: date,
    last_day: date,
    *,
    timezone: str,
    limit: int,
    offset: int = 0,
    with_left_out: bool = False,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    order: str | None = None,
    triage: Sequence[str] = (),
) -> RowsQuery:
    """The extract and bound values that list the rows behind ``metric`` in the cell
    (``scope``, local dates [first_day, last_day]), a page at a time. A chosen department
    narrows the viewer's departments (as the facts of a department are loaded); the other
    levels are bound lists. ``timezone`` places facts with no office. ``thresholds`` are
    the settings the figure was computed with (compute's): the extracts judge the rows by
    the same."""
    fact = fact_of(metric)
    blocked = blocked_by(metric, scope)
    if blocked:
        raise DrilldownError(blocked)
    if scope.department_id is not None:
        if scope.department_id not in departments:
            raise DrilldownError(f"department {scope.department_id!r} is not one the viewer may see")
        departments = (scope.department_id,)
    params: dict[str, Any] = {"first_day": first_day, "last_day": last_day, "limit": int(limit), "offset": int(offset)}
    levels = {"services": scope.service_id, "channels": scope.channel}
    if fact != "journeys":
        levels["offices"] = scope.office_id
    for name, value in levels.items():
        params[f"all_{name}"] = value is None
        params[name] = [] if value is None else [value]
    if fact in ("cases", "contacts"):
        params["population"] = metric.population
    if fact in ("journeys", "feedback"):
        params["timezone"] = timezone
    if fact != "feedback":
        params["with_left_out"] = bool(with_left_out)
    if fact == "cases":
        params["admin_close_seconds"] = thresholds.admin_close_seconds
        unknown = sorted(set(triage) - set(TRIAGE_STATES))
        if unknown:
            raise DrilldownError(f"unknown case state(s) {', '.join(unknown)}; known: {', '.join(TRIAGE_STATES)}")
        params |= {"all_triage": not triage, "triage": list(triage)}
    elif triage:
        raise DrilldownError(f"only cases can be filtered by their state, not {metric.observations}")
    orders = ROW_ORDERS.get(fact, {})
    chosen = order or default_order(metric)
    if orders:
        if chosen not in orders:
            raise DrilldownError(f"the {metric.observations} can be ordered by {', '.join(orders)}, not {chosen!r}")
        params["order_by"] = chosen
    elif order is not None:
        raise DrilldownError(f"the {metric.observations} are listed in one order only")
    if fact == "contacts":
        params |= {name: thresholds.params()[name] for name in ("short_abandon_seconds", "service_level_seconds", "visit_target_seconds")}
    return RowsQuery(ROW_EXTRACTS[fact], tuple(departments), params)


@dataclass(frozen=True)
class Tally:
    """A figure counted again from the rows behind it."""

    n: int
    numerator: float | None
    denominator: float | None
    value: float | None


def counted_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows that count towards the figure (those no rule left out)."""
    return rows.filter(pl.col("left_out_by").is_null()) if "left_out_by" in rows.columns else rows


def tally(metric: Metric, rows: pl.DataFrame) -> Tally:
    """The figure of ``metric`` counted from the full set of rows behind a cell (every
    page, with or without the rows left out by rules: those are dropped here)."""
    counted = counted_rows(rows)
    n = counted.height
    if metric.aggregation in (Aggregation.MEDIAN, Aggregation.P90):
        values = counted.select(MEASURES[metric.numerator].rows.cast(pl.Float64)).to_series()
        picked = quantiles(values)
        value = picked["p90" if metric.aggregation == Aggregation.P90 else "median"]
        return Tally(n, None, None, value if n >= metric.min_n else None)
    # how each measure is counted from its rows (the registry's Measure.rows); None where
    # the figure is not a sum over rows (cost)
    numerator_expr = MEASURES[metric.numerator].rows
    denominator_expr = MEASURES[metric.denominator].rows if metric.denominator else None
    numerator = float(counted.select(numerator_expr).item()) if numerator_expr is not None else None
    denominator = float(counted.select(denominator_expr).item()) if denominator_expr is not None else None
    if metric.aggregation == Aggregation.COUNT:
        value = numerator
    elif metric.aggregation == Aggregation.DIFFERENCE:
        value = (numerator or 0.0) - (denominator or 0.0)
    elif numerator is not None and denominator and n >= metric.min_n:
        value = numerator / denominator * metric.scale
    else:
        value = None
    return Tally(n, numerator, denominator, value)


# ---------------------------------------------------------------------- words


def with_article(word: str) -> str:
    """'an office', 'a service'."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def how_counted(metric: Metric, row: Mapping[str, Any]) -> str:
    """How the figure of one cell was worked out, in numbers: '6,208 ÷ 9,315 × 100'."""
    n = row.get("n") or 0
    observations = metric.observations
    if metric.aggregation == Aggregation.COUNT:
        return f"{n:,} {observations}"
    if metric.aggregation == Aggregation.DIFFERENCE:
        return f"{_count(row.get('numerator'))} submitted − {_count(row.get('denominator'))} closed"
    if metric.aggregation in (Aggregation.MEDIAN, Aggregation.P90):
        which = "median" if metric.aggregation == Aggregation.MEDIAN else "90th percentile"
        return f"the {which} of {n:,} {observations}"
    numerator = row.get("numerator")
    if numerator is None:
        numerator_text = "–"
    elif metric.unit == "£":
        numerator_text = f"£{numerator:,.2f}"
    else:
        numerator_text = f"{numerator:,.0f}" if float(numerator).is_integer() else f"{numerator:,.1f}"
    scale = " × 100" if metric.scale == 100 else ""
    return f"{numerator_text} ÷ {_count(row.get('denominator'))}{scale}, from {n:,} {observations}"


def trend_sentence(metric: Metric, series: pl.DataFrame, week: str, where: str, target: float | None) -> str:
    """One sentence on the trend: this week's value, the target, the range over the window."""
    present = series.filter(pl.col("value").is_not_null())
    this = series.filter(pl.col("period") == week)
    value = this["value"][0] if this.height else None
    weeks = series.height
    if present.height == 0:
        return f"{metric.label} in {where} has no value in any of the {weeks} weeks shown (too few {metric.observations})."
    head = f"{metric.label} in {where} was {number(value, metric)} in {week}" if value is not None else f"{metric.label} in {where} has no value in {week}"
    if target is not None:
        head += f" against a target of {number(target, metric)}"
    low = present.sort("value").row(0, named=True)
    high = present.sort("value").row(-1, named=True)
    return f"{head}; over the {weeks} weeks shown it ranged from {number(low['value'], metric)} ({low['period']}) to {number(high['value'], metric)} ({high['period']})."


def peer_sentence(metric: Metric, table: pl.DataFrame, level: str, overall: float | None, week: str) -> str:
    """One sentence on the peers: highest, lowest and the overall figure."""
    plural = LEVEL_WORDS[level][1]
    present = table.filter(pl.col("value").is_not_null())
    if present.height == 0:
        return f"No {LEVEL_WORDS[level][0]} has a value for {metric.label.lower()} in {week}."
    ordered = present.sort("value")
    low, high = ordered.row(0, named=True), ordered.row(-1, named=True)
    missing = table.height - present.height
    text = (
        f"Of {table.height} {plural}, {high['name']} had the highest {metric.label.lower()} ({number(high['value'], metric)})"
        f" and {low['name']} the lowest ({number(low['value'], metric)})"
    )
    if overall is not None:
        text += f"; overall {number(overall, metric)}"
    if missing:
        text += f"; {missing} without a value (too few {metric.observations})"
    return text + "."


def distribution_sentence(values: pl.Series, *, what: str, unit: str, decimals: int = 1) -> str:
    """'Median 6.8 days; nine in ten within 14.2 days; 6,875 cases closed in 2026-W47.'"""
    picked = quantiles(values)
    if not picked["n"]:
        return f"No {what}."
    return (
        f"Median {picked['median']:,.{decimals}f} {unit}; nine in ten within {picked['p90']:,.{decimals}f} {unit}; "
        f"{picked['n']:,} {what}."
    )
