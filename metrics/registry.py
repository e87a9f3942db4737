"""The KPI catalogue: every metric of ../shared/DOMAIN.md section 2, declared once.

A metric is a declaration, not a function (after dbt MetricFlow): it names the measures
it is built from, and the engine aggregates those measures at the requested grain and
divides at the end. Everything that is a fact about a KPI is here: its measures, how its
n is counted, its family and where anomaly detection watches it, the rules that leave
rows out of it, and the rows behind it (its population, in words). The engine, the
drill-down, the rules, the catalogue and anomaly detection read these; none keeps a list
of its own. Registry names are the public identifiers used in URLs, CSV output and tests.

The registry is checked when the package is imported: an unknown measure, population,
rule, family or scope names the metric, and every problem is reported at once.

Adding a KPI: one ``_m(...)`` entry below; for a new measure, one ``Measure`` line with
its Polars expression over the rows of its group; for a new column of a fact, that column
in data/fact_frames.py (OPTIONAL, so that an export without it still loads) and in the
facts and rows extracts. The engine (metrics/engine.py) is not edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import polars as pl

from data.fact_frames import OPTIONAL, REQUIRED
from data.vocabulary import DIGITAL_CHANNELS
from metrics.rules import RULES


class Direction(str, Enum):
    """Which way is good."""

    HIGHER = "higher"
    LOWER = "lower"
    CONTEXT = "context"  # neither: read with other figures (volumes, flows)


class Aggregation(str, Enum):
    COUNT = "count"  # the numerator measure summed
    RATIO = "ratio"  # sum(numerator) / sum(denominator) * scale
    MEDIAN = "median"  # of the numerator measure's values
    P90 = "p90"  # 90th percentile (linear interpolation) of the values
    DIFFERENCE = "difference"  # sum(numerator) - sum(denominator)


class RegistryError(ValueError):
    """The registry names something that does not exist; the message lists every problem."""


# ---------------------------------------------------------------------- measures


@dataclass(frozen=True)
class Group:
    """The rows the engine aggregates a group of measures from, and the period each row
    falls in. ``columns``: what the engine derives on those rows (name -> meaning), beside
    the fact's own columns (data/fact_frames.py REQUIRED and OPTIONAL), for the measures'
    expressions to use. ``computed``: the engine computes the group's measures itself
    (stocks at a period's end, ages of open cases, sums of other measures), so its measures
    have no expression. ``left_out``: rows of the group that a rule (metrics/rules.py)
    leaves out, as a condition over them, counted in the window for the rule's count."""

    fact: str
    rows: str  # which rows, in which period, in words
    columns: dict[str, str]
    computed: bool = False
    left_out: dict[str, pl.Expr] = field(default_factory=dict)


GROUPS: dict[str, Group] = {
    "submitted": Group("cases", "each case, in the period it was submitted", {}),
    "closed": Group("cases", "each case, in the period it was closed", {
        "regular": "handled (not cancelled) and not left out by the admin-close rule (closed within the admin-close threshold of its submission)",
        "has_due": "regular, with a due date (its own due_at, else the service standard's sla_days)",
        "on_time": "has_due and closed by its due moment",
        "processing_days": "closed_at - submitted_at, in days",
    }),
    "stock": Group("cases", "cases open at each period's end, from running totals", {}, computed=True),
    "backlog_age": Group("cases", "each case open at a period's end, once per period end", {}, computed=True),
    "derived": Group("cases", "sums of other measures, added after they are aggregated", {}, computed=True),
    "contacts": Group("contacts", "each contact, in the period it arrived", {
        "call": "a phone call",
        "visit": "an in-person visit (a ticket taken at a service centre)",
        "answered": "answered (not abandoned)",
        "short": "a call abandoned within the short-abandon threshold (false when that rule is off)",
        "wait_seconds": "answered_at - arrived_at, in exact seconds",
        "handle_seconds": "ended_at - answered_at, in exact seconds",
        "within_service_level": "answered within the service-level answer time",
        "within_visit_target": "served within the in-person wait target",
    }, left_out={
        "short_abandon_5s": pl.col("call") & pl.col("short"),
        "no_resolution_recorded": pl.col("call") & pl.col("answered") & pl.col("resolved_first_contact").is_null(),
    }),
    "journeys": Group("journeys", "each original journey (not a resumption), in the period it started", {
        "completed": "it, or a resumption of it, was completed",
    }),
    "feedback": Group("feedback", "each rating, in the period it was given", {}),
    "costs": Group("costs", "each day of each cost record, in the period of that day", {
        "day_cost": "the record's cost spread evenly over its days",
    }),
}


@dataclass(frozen=True, eq=False)
class Measure:
    """A named quantity the engine aggregates at any grain.

    ``group``: the rows it is aggregated from (GROUPS). ``expression``: how, as a Polars
    aggregation over those rows (their fact's columns and the group's derived columns);
    for a ``distribution`` (a set of values a median or percentile is taken of), the
    values themselves, filtered to the rows that have one. A measure of a computed group
    has none. ``rows``: the same measure counted from the rows behind a cell (the
    *_rows.sql extracts), or None where it is not a sum over those rows. ``parts``: a
    measure that is the sum of others, added after the join. ``recorded_by``: a cell where
    that measure is 0 has no value ("no costs recorded"), not a value of zero.
    """

    name: str
    group: str
    counted: str  # how it is counted, in words
    expression: pl.Expr | None = None
    rows: pl.Expr | None = None
    distribution: bool = False
    parts: tuple[str, ...] = ()
    recorded_by: str | None = None

    @property
    def fact(self) -> str:
        return GROUPS[self.group].fact if self.group in GROUPS else ""


def _flag(column: str) -> pl.Expr:
    return pl.col(column).fill_null(False).sum()


def _event(event: str) -> pl.Expr:
    return (pl.col("event") == event).sum()


def _all(*columns: str) -> pl.Expr:
    """How many rows have every one of the boolean ``columns`` true."""
    condition = pl.col(columns[0])
    for column in columns[1:]:
        condition = condition & pl.col(column)
    return condition.fill_null(False).sum()


_LEN = pl.len()
_MEASURES = (
    # cases
    Measure("submitted", "submitted", "cases submitted in the period", _LEN, _event("submitted")),
    Measure("submitted_digital", "submitted", "cases submitted through a digital channel", pl.col("channel").is_in(DIGITAL_CHANNELS).sum(), _flag("digital")),
    Measure("closed_all", "closed", "cases that ended in the period (left the backlog), administrative closes and cancellations included", _LEN, _event("closed")),
    Measure("closed", "closed", "cases closed (handled) in the period, administrative closes and cancelled cases left out", _all("regular"), _event("closed")),
    Measure("cancelled", "closed", "cases cancelled or withdrawn in the period", _all("cancelled")),
    Measure("closed_with_due", "closed", "cases closed in the period that have a due date", _all("has_due")),
    Measure("closed_on_time", "closed", "cases closed in the period by their due date", _all("on_time"), _flag("on_time")),
    Measure("processing_days", "closed", "closed_at - submitted_at of cases closed, in days", pl.col("processing_days").filter(pl.col("regular")), pl.col("processing_days"), distribution=True),
    Measure("backlog", "stock", "cases open at the period's end", rows=pl.len()),
    Measure("backlog_overdue", "stock", "cases open and past their due date at the period's end", rows=pl.len()),
    Measure("backlog_age_days", "backlog_age", "period end - submitted_at of open cases, in days", rows=pl.col("age_days"), distribution=True),
    Measure("due_population", "derived", "closed with a due date, plus open and overdue at the end", rows=pl.len(), parts=("closed_with_due", "backlog_overdue")),
    # contacts
    Measure("calls_offered", "contacts", "calls that arrived, short abandons left out", (pl.col("call") & ~pl.col("short")).sum(), pl.len()),
    Measure("calls_answered", "contacts", "calls answered", _all("call", "answered"), pl.len()),
    Measure("calls_answered_in_time", "contacts", "calls answered within the service-level answer time", _all("call", "answered", "within_service_level"), _flag("within_target")),
    Measure("calls_abandoned", "contacts", "calls abandoned, short abandons left out", (pl.col("call") & ~pl.col("answered") & ~pl.col("short")).sum(), _flag("abandoned")),
    Measure("calls_wait_seconds", "contacts", "total wait of answered calls, in seconds", pl.col("wait_seconds").filter(pl.col("call") & pl.col("answered")).sum(), pl.col("wait_seconds").sum()),
    Measure("calls_handle_minutes", "contacts", "total handle time of answered calls, in minutes", pl.col("handle_seconds").filter(pl.col("call") & pl.col("answered")).sum() / 60, pl.col("handle_seconds").sum() / 60),
    Measure("calls_resolved_first", "contacts", "answered calls resolved in that call", _all("call", "answered", "resolved_first_contact"), _flag("resolved_first_contact")),
    Measure("calls_resolution_known", "contacts", "answered calls whose resolution was recorded", (pl.col("call") & pl.col("answered") & pl.col("resolved_first_contact").is_not_null()).sum(), pl.len()),
    Measure("visits_arrived", "contacts", "visitors who took a ticket at a service centre", _all("visit"), pl.len()),
    Measure("visits_left", "contacts", "visitors who left before being called", (pl.col("visit") & ~pl.col("answered")).sum(), _flag("abandoned")),
    Measure("visits_answered", "contacts", "visitors served", _all("visit", "answered"), pl.len()),
    Measure("visits_within_target", "contacts", "visitors served within the in-person wait target", _all("visit", "answered", "within_visit_target"), _flag("within_target")),
    Measure("visits_handle_minutes", "contacts", "total time of served visits, in minutes", pl.col("handle_seconds").filter(pl.col("visit") & pl.col("answered")).sum() / 60, pl.col("handle_seconds").sum() / 60),
    Measure("visit_wait_minutes", "contacts", "answered_at - arrived_at of visitors served, in minutes", pl.col("wait_seconds").filter(pl.col("visit") & pl.col("answered")) / 60, pl.col("wait_seconds") / 60, distribution=True),
    # journeys
    Measure("journeys_started", "journeys", "online journeys started, resumed sessions not counted", _LEN, pl.len()),
    Measure("journeys_completed", "journeys", "journeys started that were completed (or whose resumption was)", _all("completed"), _flag("completed")),
    # feedback
    Measure("ratings", "feedback", "ratings given", _LEN, pl.len()),
    Measure("ratings_top2", "feedback", "ratings of 4 or 5", (pl.col("rating") >= 4).sum(), _flag("top_2")),
    Measure("rating_points", "feedback", "sum of (rating - 1)", (pl.col("rating").cast(pl.Int64) - 1).sum(), (pl.col("rating").cast(pl.Int64) - 1).sum()),
    Measure("rating_points_possible", "feedback", "4 x ratings", _LEN * 4, pl.len() * 4),
    # costs
    Measure("cost", "costs", "cost in the period, a record over several days spread evenly", pl.col("day_cost").sum(), recorded_by="cost_records"),
    Measure("cost_records", "costs", "cost records in the period (a record over several days counts once per day)", _LEN),
)
MEASURES: dict[str, Measure] = {measure.name: measure for measure in _MEASURES}


# ---------------------------------------------------------------------- populations


@dataclass(frozen=True)
class Population:
    """The rows behind a figure: which fact, in words (over one week), and the rules whose
    left-out rows the rows extract lists (with :with_left_out)."""

    name: str
    fact: str
    words: str
    lists_left_out: tuple[str, ...] = ()


_POPULATIONS = (
    Population("submitted", "cases", "cases submitted in the week"),
    Population("closed", "cases", "cases closed in the week", ("admin_close_60s",)),
    Population("closed_or_overdue", "cases", "cases closed in the week, and cases open and overdue at its end", ("admin_close_60s", "no_due_date")),
    Population("open_at_end", "cases", "cases open at the end of the week"),
    Population("overdue_at_end", "cases", "cases open and overdue at the end of the week"),
    Population("submitted_or_closed", "cases", "cases submitted in the week and cases closed in it (a case that did both is listed twice)"),
    Population("visits_answered", "contacts", "visitors served at a service centre who arrived in the week"),
    Population("visits_arrived", "contacts", "visitors who queued at a service centre and arrived in the week"),
    Population("calls_answered", "contacts", "calls answered that arrived in the week"),
    Population("calls_resolution", "contacts", "calls answered that arrived in the week", ("no_resolution_recorded",)),
    Population("calls_offered", "contacts", "calls that arrived in the week", ("short_abandon_5s",)),
    Population("started", "journeys", "online journeys started in the week", ("resumed_journey",)),
    Population("rated", "feedback", "ratings given in the week"),
)
POPULATIONS: dict[str, Population] = {population.name: population for population in _POPULATIONS}


# ---------------------------------------------------------------------- metrics

# Families of KPIs that move together by construction (a queue that overflows raises its
# abandonment and lowers its service level at once): anomaly corroboration must come from
# another family.
FAMILIES = ("demand", "journeys", "ratings", "back_office", "phone", "counter")
# Where anomaly detection watches a KPI, by kind of scope.
SCOPE_KINDS = ("total", "department", "service", "office", "channel")
EVERYWHERE = SCOPE_KINDS  # demand and digital measures
BACK_OFFICE = ("total", "department", "service")  # offices and channels only pass cases on
QUEUES = ("total", "office", "channel")  # where queues form (the phone and in-person channels)
WATCH_GRAINS = ("day", "week")


@dataclass(frozen=True)
class Metric:
    name: str  # unique snake_case; the public identifier
    label: str  # sentence case, shown on charts and tables
    unit: str  # "count", "%", "£", "days", "minutes", "seconds"
    better: Direction
    aggregation: Aggregation
    numerator: str  # a measure name (see MEASURES)
    denominator: str | None = None
    count: str | None = None  # the measure n counts (default: the denominator, or the numerator)
    scale: float = 1.0  # 100 for percentages
    target: float | None = None  # default target; overrides in metrics/targets.toml
    min_n: int = 1  # fewer observations than this: no value, with the reason
    observations: str = "cases"  # what n counts, for messages ("fewer than 10 ratings")
    definition: str = ""  # what it means; ``description`` adds the rules that apply
    formula: str = ""  # in words
    source: str = ""
    population: str = ""  # which rows, over which time: for "the rows behind a number" (POPULATIONS)
    decimals: int = 1  # for display
    family: str = ""  # FAMILIES: KPIs that move together, for anomaly corroboration
    watched_daily: tuple[str, ...] = ()  # scope kinds anomaly detection watches it at, by day
    watched_weekly: tuple[str, ...] = ()  # and by ISO week
    rules: tuple[str, ...] = ()  # the rules (metrics/rules.py) that leave rows out of it
    scorecard: bool = True  # False: a queue-page measure only (not on the scorecard, catalogue or drill-down)

    @property
    def can_be_negative(self) -> bool:
        """A difference (net flow: submitted minus closed) falls below zero; counts, rates,
        times and money cannot, so their axes and expected ranges stop at zero."""
        return self.aggregation == Aggregation.DIFFERENCE

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"

    @property
    def description(self) -> str:
        """The definition, then every rule that applies to the figure, by name."""
        if not self.rules:
            return self.definition
        return f"{self.definition} Rules: {'; '.join(RULES[name].applies for name in self.rules)}."

    @property
    def n_measure(self) -> str:
        """The measure whose count is the figure's n (its number of observations)."""
        if self.aggregation in (Aggregation.MEDIAN, Aggregation.P90):
            return self.numerator
        return self.count or self.denominator or self.numerator

    @property
    def measures(self) -> tuple[str, ...]:
        """Every measure the figure needs (numerator, denominator, n, and what they depend on)."""
        names = [self.numerator, *([self.denominator] if self.denominator else []), self.n_measure]
        for name in list(names):
            measure = MEASURES.get(name)
            if measure is not None:
                names += [*measure.parts, *([measure.recorded_by] if measure.recorded_by else [])]
        return tuple(dict.fromkeys(names))

    def watched_at(self, grain: str) -> tuple[str, ...]:
        """The scope kinds anomaly detection watches this KPI at, for ``day`` or ``week``."""
        if grain not in WATCH_GRAINS:
            raise RegistryError(f"unknown anomaly grain {grain!r}; use one of {', '.join(WATCH_GRAINS)}")
        return self.watched_daily if grain == "day" else self.watched_weekly


def _m(**fields) -> Metric:
    return Metric(**fields)


REGISTRY: tuple[Metric, ...] = (
    _m(
        name="volume", label="Volume", unit="count", better=Direction.CONTEXT,
        family="demand", watched_daily=EVERYWHERE, watched_weekly=EVERYWHERE,
        aggregation=Aggregation.COUNT, numerator="submitted", decimals=0,
        definition="Cases submitted in the period, by every channel.",
        formula="count of cases whose submitted_at falls in the period",
        source="-", population="submitted",
    ),
    _m(
        name="digital_take_up", label="Digital take-up", unit="%", better=Direction.HIGHER,
        family="demand", watched_daily=EVERYWHERE, watched_weekly=EVERYWHERE,
        aggregation=Aggregation.RATIO, numerator="submitted_digital", denominator="submitted", scale=100,
        target=70.0, min_n=5,
        definition="Share of cases made online or in the app. Assisted digital (staff keying a case for a caller or visitor) counts as not digital.",
        formula="cases submitted through online or mobile_app / all cases submitted, in the period",
        source='GOV.UK Service Manual, "Digital take-up" (one of its 4 mandatory KPIs)', population="submitted",
    ),
    _m(
        name="completion_rate", label="Completion rate", unit="%", better=Direction.HIGHER,
        family="journeys", watched_daily=EVERYWHERE, watched_weekly=EVERYWHERE, rules=("resumed_journey",),
        aggregation=Aggregation.RATIO, numerator="journeys_completed", denominator="journeys_started", scale=100,
        target=75.0, min_n=5, observations="journeys",
        definition="Share of online journeys started in the period that the user got to the end of. The original session counts as completed if it or its resumption completed, so the rate never exceeds 100%.",
        formula="journeys completed / journeys started (resumed sessions not counted as starts), by start date",
        source='GOV.UK Service Manual, "Completion rate"', population="started",
    ),
    _m(
        name="satisfaction", label="User satisfaction", unit="%", better=Direction.HIGHER,
        family="ratings", watched_daily=EVERYWHERE, watched_weekly=EVERYWHERE,
        aggregation=Aggregation.RATIO, numerator="ratings_top2", denominator="ratings", scale=100,
        target=80.0, min_n=10, observations="ratings",
        definition="Share of ratings that are 4 or 5 out of 5 (top-2 box). Needs at least 10 ratings.",
        formula="ratings of 4 or 5 / all ratings, submitted in the period",
        source="Australian DTA performance dashboard (top-2 box)", population="rated",
    ),
    _m(
        name="satisfaction_index", label="Satisfaction index", unit="%", better=Direction.HIGHER,
        family="ratings", watched_daily=EVERYWHERE, watched_weekly=EVERYWHERE, count="ratings",
        aggregation=Aggregation.RATIO, numerator="rating_points", denominator="rating_points_possible", scale=100,
        target=75.0, min_n=10, observations="ratings",
        definition="The mean rating rescaled so that all 1s give 0 and all 5s give 100. Needs at least 10 ratings.",
        formula="(mean rating - 1) / 4 x 100, i.e. sum(rating - 1) / (4 x ratings) x 100",
        source="GOV.UK Performance Platform (rescaled mean)", population="rated",
    ),
    _m(
        name="cost_per_transaction", label="Cost per transaction", unit="£", better=Direction.LOWER,
        family="back_office", watched_daily=BACK_OFFICE, watched_weekly=BACK_OFFICE, rules=("admin_close_60s",),
        aggregation=Aggregation.RATIO, numerator="cost", denominator="closed", decimals=2,
        target=40.0, min_n=5,
        definition="What it cost to run the service in the period for each case it closed.",
        formula="total cost in the period / cases closed in the period",
        source='GOV.UK Service Manual, "Cost per transaction" (GOV.UK uses a rolling 12 months)', population="closed",
    ),
    _m(
        name="processing_time_median", label="Processing time (median)", unit="days", better=Direction.LOWER,
        family="back_office", watched_weekly=BACK_OFFICE, rules=("admin_close_60s",),
        aggregation=Aggregation.MEDIAN, numerator="processing_days",
        target=7.0, min_n=5,
        definition="Median time from submission to close of the cases closed in the period, in days.",
        formula="median of closed_at - submitted_at, in days, over cases closed in the period",
        source="311 practice: median time to close by request type", population="closed",
    ),
    _m(
        name="processing_time_p90", label="Processing time (90th percentile)", unit="days", better=Direction.LOWER,
        family="back_office", watched_weekly=BACK_OFFICE, rules=("admin_close_60s",),
        aggregation=Aggregation.P90, numerator="processing_days",
        target=20.0, min_n=5,
        definition="Nine in ten cases closed in the period took at most this long, in days.",
        formula="90th percentile (linear interpolation) of closed_at - submitted_at, in days, over cases closed in the period",
        source="311 practice", population="closed",
    ),
    _m(
        name="on_time_rate", label="On-time rate", unit="%", better=Direction.HIGHER,
        family="back_office", watched_weekly=BACK_OFFICE, rules=("admin_close_60s", "no_due_date"),
        aggregation=Aggregation.RATIO, numerator="closed_on_time", denominator="due_population", scale=100,
        target=90.0, min_n=5,
        definition="Cases closed by their due date, over cases closed in the period plus cases still open and overdue at its end: counting only closed cases would show 100% on time next to a growing overdue pile. A case is due at due_at, or sla_days calendar days after submission.",
        formula="closed on time / (closed in period + open and overdue at period end)",
        source="City of Austin 311 dashboard review (atd-data-tech #21672, #22160)", population="closed_or_overdue",
    ),
    _m(
        name="backlog", label="Backlog", unit="count", better=Direction.LOWER,
        family="back_office", watched_weekly=BACK_OFFICE,
        aggregation=Aggregation.COUNT, numerator="backlog", decimals=0,
        definition="Cases open at the end of the period.",
        formula="cases submitted before the period's end and not closed by then",
        source="Open311 practice", population="open_at_end",
    ),
    _m(
        name="backlog_overdue", label="Overdue backlog", unit="count", better=Direction.LOWER,
        family="back_office", watched_weekly=BACK_OFFICE, rules=("no_due_date",),
        aggregation=Aggregation.COUNT, numerator="backlog_overdue", decimals=0,
        definition="Cases open at the end of the period and past their due date.",
        formula="open cases at period end whose due date has passed",
        source="Open311 practice", population="overdue_at_end",
    ),
    _m(
        name="backlog_age_median", label="Backlog age (median)", unit="days", better=Direction.LOWER,
        family="back_office", watched_weekly=BACK_OFFICE,
        aggregation=Aggregation.MEDIAN, numerator="backlog_age_days",
        target=10.0, min_n=5,
        definition="Median age, in days, of the cases open at the end of the period.",
        formula="median of (period end - submitted_at) over cases open at period end",
        source="Open311 practice", population="open_at_end",
    ),
    _m(
        name="net_flow", label="Net flow", unit="count", better=Direction.CONTEXT,
        family="back_office", watched_daily=BACK_OFFICE, watched_weekly=BACK_OFFICE,
        aggregation=Aggregation.DIFFERENCE, numerator="submitted", denominator="closed_all", decimals=0,
        definition="Cases submitted minus cases closed in the period: above zero the backlog grows. Weeks to clear = backlog / (closed - submitted) when that is positive.",
        formula="submitted - closed, in the period",
        source="-", population="submitted_or_closed",
    ),
    _m(
        name="wait_time_median", label="Wait in person (median)", unit="minutes", better=Direction.LOWER,
        family="counter", watched_daily=QUEUES, watched_weekly=QUEUES,
        aggregation=Aggregation.MEDIAN, numerator="visit_wait_minutes",
        target=5.0, min_n=5, observations="visits",
        definition="Median wait of visitors who were served at a service centre, from arrival to being called, in minutes.",
        formula="median of answered_at - arrived_at over answered in-person contacts that arrived in the period",
        source="-", population="visits_answered",
    ),
    _m(
        name="wait_time_p90", label="Wait in person (90th percentile)", unit="minutes", better=Direction.LOWER,
        family="counter", watched_weekly=QUEUES,
        aggregation=Aggregation.P90, numerator="visit_wait_minutes",
        target=15.0, min_n=5, observations="visits",
        definition="Nine in ten served visitors waited at most this long, in minutes.",
        formula="90th percentile (linear interpolation) of answered_at - arrived_at over answered in-person contacts",
        source="-", population="visits_answered",
    ),
    _m(
        name="wait_within_target", label="Seen within 15 minutes", unit="%", better=Direction.HIGHER,
        family="counter", watched_daily=QUEUES, watched_weekly=QUEUES,
        aggregation=Aggregation.RATIO, numerator="visits_within_target", denominator="visits_answered", scale=100,
        target=90.0, min_n=5, observations="visits",
        definition="Share of served visitors who waited at most the target (15 minutes in person).",
        formula="answered in-person contacts with a wait of at most 15 minutes / answered in-person contacts",
        source="-", population="visits_answered",
    ),
    _m(
        name="asa", label="Average speed of answer", unit="seconds", better=Direction.LOWER,
        family="phone", watched_weekly=QUEUES,
        aggregation=Aggregation.RATIO, numerator="calls_wait_seconds", denominator="calls_answered", decimals=0,
        target=30.0, min_n=5, observations="calls",
        definition="Mean wait of answered calls, in seconds.",
        formula="total wait of answered calls / answered calls",
        source="contact-centre standard", population="calls_answered",
    ),
    _m(
        name="service_level", label="Service level (20 s)", unit="%", better=Direction.HIGHER,
        family="phone", watched_daily=QUEUES, watched_weekly=QUEUES, rules=("short_abandon_5s",),
        aggregation=Aggregation.RATIO, numerator="calls_answered_in_time", denominator="calls_offered", scale=100,
        target=80.0, min_n=5, observations="calls",
        definition="Share of calls offered that were answered within 20 seconds (80/20 is the usual target).",
        formula="calls answered within 20 s / calls offered, excluding abandons shorter than 5 s from both",
        source="contact-centre standard", population="calls_offered",
    ),
    _m(
        name="abandonment_rate", label="Call abandonment", unit="%", better=Direction.LOWER,
        family="phone", watched_daily=QUEUES, watched_weekly=QUEUES, rules=("short_abandon_5s",),
        aggregation=Aggregation.RATIO, numerator="calls_abandoned", denominator="calls_offered", scale=100,
        target=8.0, min_n=5, observations="calls",
        definition="Share of calls offered where the caller hung up before being answered.",
        formula="abandoned calls / calls offered, excluding abandons shorter than 5 s from both",
        source="contact-centre standard", population="calls_offered",
    ),
    _m(
        name="aht", label="Average handle time", unit="minutes", better=Direction.CONTEXT,
        family="phone", watched_daily=QUEUES, watched_weekly=QUEUES,
        aggregation=Aggregation.RATIO, numerator="calls_handle_minutes", denominator="calls_answered", decimals=2,
        min_n=5, observations="calls",
        definition="Mean time from answer to the end of answered calls, in minutes.",
        formula="sum of ended_at - answered_at over answered calls / answered calls",
        source="contact-centre standard", population="calls_answered",
    ),
    _m(
        name="first_contact_resolution", label="First-contact resolution", unit="%", better=Direction.HIGHER,
        family="phone", rules=("no_resolution_recorded",),
        aggregation=Aggregation.RATIO, numerator="calls_resolved_first", denominator="calls_resolution_known", scale=100,
        target=70.0, min_n=5, observations="calls with a recorded resolution",
        definition="Share of answered calls whose matter was settled in that call, with no need for the caller to call again about it.",
        formula="answered calls resolved at the first contact / answered calls with a recorded resolution",
        source="contact-centre standard (COPC, SQM Group)", population="calls_resolution",
    ),
    _m(
        name="visit_abandonment_rate", label="Visitors who left unserved", unit="%", better=Direction.LOWER,
        scorecard=False, family="counter",
        aggregation=Aggregation.RATIO, numerator="visits_left", denominator="visits_arrived", scale=100,
        min_n=5, observations="visits",
        definition=(
            "Share of visitors who queued at a service centre (took a ticket) in the period and left before being called. "
            "Unlike calls, no short-abandon rule applies: a visitor who takes a ticket has joined the queue."
        ),
        formula="in-person contacts that arrived in the period and were abandoned / in-person contacts that arrived in the period",
        source="this dashboard (the in-person counterpart of call abandonment)", population="visits_arrived",
    ),
    _m(
        name="visit_handle_time", label="Visit handle time", unit="minutes", better=Direction.CONTEXT,
        scorecard=False, family="counter",
        aggregation=Aggregation.RATIO, numerator="visits_handle_minutes", denominator="visits_answered", decimals=1,
        min_n=5, observations="visits",
        definition="Mean time from being called to the end of the visit, over visitors who were served, in minutes.",
        formula="sum of ended_at - answered_at over answered in-person contacts that arrived in the period / answered in-person contacts",
        source="this dashboard (the in-person counterpart of average handle time)", population="visits_answered",
    ),
)


def _measure_problems(measure: Measure) -> list[str]:
    """What is wrong with one measure's group and expression."""
    where = f"measure {measure.name}"
    group = GROUPS.get(measure.group)
    if group is None:
        return [f"{where}: unknown group {measure.group!r}; known groups: {', '.join(GROUPS)}"]
    if group.computed:
        return [f"{where}: the engine computes group {measure.group!r} itself, so the measure takes no expression"] if measure.expression is not None else []
    if measure.expression is None:
        return [f"{where}: needs an expression over the rows of group {measure.group!r} ({group.rows})"]
    return _unknown_columns(where, measure.group, measure.expression)


def _unknown_columns(where: str, name: str, expression: pl.Expr) -> list[str]:
    """The problem with an expression over a group's rows that reads a column they lack."""
    group = GROUPS[name]
    known = {*REQUIRED[group.fact], *OPTIONAL.get(group.fact, {}), *group.columns}
    unknown = sorted(set(expression.meta.root_names()) - known)
    if not unknown:
        return []
    return [
        f"{where}: its expression uses {', '.join(map(repr, unknown))}, which the rows of group {name!r} do not have; "
        f"known: {', '.join(sorted(known))} (a new column of {group.fact}: declare it in data/fact_frames.py OPTIONAL)"
    ]


def _group_problems() -> list[str]:
    """What is wrong with the groups' rule counts."""
    problems = []
    for name, group in GROUPS.items():
        for rule, condition in group.left_out.items():
            if rule not in RULES:
                problems.append(f"group {name}: counts unknown rule {rule!r}; known rules: {', '.join(RULES)}")
            problems += _unknown_columns(f"group {name}, rule {rule}", name, condition)
    return problems


def check_registry(metrics: tuple[Metric, ...] = REGISTRY) -> None:
    """Raise RegistryError naming every metric that refers to something unknown (a measure,
    population, rule, family or scope kind) or mixes what cannot be mixed. Runs at import."""
    problems: list[str] = _group_problems()
    for measure in MEASURES.values():
        problems += _measure_problems(measure)
        for part in (*measure.parts, *([measure.recorded_by] if measure.recorded_by else [])):
            if part not in MEASURES:
                problems.append(f"measure {measure.name}: unknown measure {part!r}")
    seen: set[str] = set()
    for metric in metrics:
        where = f"metric {metric.name}"
        if metric.name in seen:
            problems.append(f"{where}: declared twice")
        seen.add(metric.name)
        for role, name in (("numerator", metric.numerator), ("denominator", metric.denominator), ("count", metric.count)):
            if name is not None and name not in MEASURES:
                problems.append(f"{where}: unknown measure {name!r} as {role}; known measures: {', '.join(MEASURES)}")
        quantile = metric.aggregation in (Aggregation.MEDIAN, Aggregation.P90)
        numerator = MEASURES.get(metric.numerator)
        if numerator is not None and numerator.distribution != quantile:
            problems.append(
                f"{where}: a {metric.aggregation.value} needs a measure that is "
                f"{'a set of values' if quantile else 'a sum'}, and {metric.numerator!r} is not"
            )
        if metric.aggregation in (Aggregation.RATIO, Aggregation.DIFFERENCE) and metric.denominator is None:
            problems.append(f"{where}: a {metric.aggregation.value} needs a denominator")
        population = POPULATIONS.get(metric.population)
        if population is None:
            problems.append(f"{where}: unknown population {metric.population!r}; known: {', '.join(POPULATIONS)}")
        elif metric.n_measure in MEASURES and MEASURES[metric.n_measure].fact != population.fact:
            problems.append(f"{where}: its n counts {MEASURES[metric.n_measure].fact} but its population {population.name!r} lists {population.fact}")
        for rule in metric.rules:
            if rule not in RULES:
                problems.append(f"{where}: unknown rule {rule!r}; known rules: {', '.join(RULES)}")
        if metric.family not in FAMILIES:
            problems.append(f"{where}: unknown family {metric.family!r}; known: {', '.join(FAMILIES)}")
        for kind in (*metric.watched_daily, *metric.watched_weekly):
            if kind not in SCOPE_KINDS:
                problems.append(f"{where}: watched at unknown scope kind {kind!r}; known: {', '.join(SCOPE_KINDS)}")
        if not metric.scorecard and (metric.watched_daily or metric.watched_weekly):
            problems.append(f"{where}: a measure off the scorecard cannot be watched for anomalies")
    if problems:
        raise RegistryError(f"the metric registry has {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n- " + "\n- ".join(problems))


check_registry()

# Every metric, and the KPIs (the scorecard's, the catalogue's, the drill-down's).
ALL_METRICS: dict[str, Metric] = {metric.name: metric for metric in REGISTRY}
METRICS_LIST: tuple[Metric, ...] = tuple(metric for metric in REGISTRY if metric.scorecard)
METRICS: dict[str, Metric] = {metric.name: metric for metric in METRICS_LIST}
SCORECARD: tuple[str, ...] = tuple(METRICS)


def watched(grain: str) -> dict[str, tuple[str, ...]]:
    """Which KPIs anomaly detection watches at ``grain`` (day or week), by scope kind."""
    return {kind: tuple(m.name for m in METRICS_LIST if kind in m.watched_at(grain)) for kind in SCOPE_KINDS}


def family_of(kpi: str) -> str:
    """The anomaly family of a KPI (see FAMILIES)."""
    return resolve(kpi)[0].family


def affected_by(rule: str) -> tuple[str, ...]:
    """The metrics a rule leaves rows out of, in registry order."""
    return tuple(metric.name for metric in REGISTRY if rule in metric.rules)


class UnknownMetricError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this should read as a sentence
        return str(self.args[0])


def resolve(names: str | list[str] | tuple[str, ...] | None) -> list[Metric]:
    """The metrics for registry names (the scorecard's KPIs when None); unknown names
    raise with the known ones."""
    if names is None:
        return list(METRICS_LIST)
    if isinstance(names, str):
        names = [names]
    unknown = [name for name in names if name not in ALL_METRICS]
    if unknown:
        raise UnknownMetricError(
            f"unknown metric{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known metrics: {', '.join(ALL_METRICS)}"
        )
    return [ALL_METRICS[name] for name in names]
