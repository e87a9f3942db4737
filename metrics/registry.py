"""The KPI catalogue: every metric of ../shared/DOMAIN.md section 2, declared once.

A metric is a declaration, not a function (after dbt MetricFlow): it names the measures
it is built from, and the engine aggregates those measures at the requested grain and
divides at the end. Registry names are the public identifiers used in URLs, CSV output
and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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


@dataclass(frozen=True)
class Metric:
    name: str  # unique snake_case; the public identifier
    label: str  # sentence case, shown on charts and tables
    unit: str  # "count", "%", "£", "days", "minutes", "seconds"
    better: Direction
    aggregation: Aggregation
    numerator: str  # a measure name (see engine.MEASURES)
    denominator: str | None = None
    scale: float = 1.0  # 100 for percentages
    target: float | None = None  # default target; overrides in metrics/targets.toml
    min_n: int = 1  # fewer observations than this: no value, with the reason
    observations: str = "cases"  # what n counts, for messages ("fewer than 10 ratings")
    description: str = ""
    formula: str = ""  # in words
    source: str = ""
    population: str = ""  # which rows, over which time: for "the rows behind a number"
    decimals: int = 1  # for display

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"


def _m(**fields) -> Metric:
    return Metric(**fields)


METRICS_LIST: tuple[Metric, ...] = (
    _m(
        name="volume", label="Volume", unit="count", better=Direction.CONTEXT,
        aggregation=Aggregation.COUNT, numerator="submitted", decimals=0,
        description="Cases submitted in the period, by every channel.",
        formula="count of cases whose submitted_at falls in the period",
        source="-", population="submitted",
    ),
    _m(
        name="digital_take_up", label="Digital take-up", unit="%", better=Direction.HIGHER,
        aggregation=Aggregation.RATIO, numerator="submitted_digital", denominator="submitted", scale=100,
        target=70.0, min_n=5,
        description="Share of cases made online or in the app. Assisted digital (staff keying a case for a caller or visitor) counts as not digital.",
        formula="cases submitted through online or mobile_app / all cases submitted, in the period",
        source='GOV.UK Service Manual, "Digital take-up" (one of its 4 mandatory KPIs)', population="submitted",
    ),
    _m(
        name="completion_rate", label="Completion rate", unit="%", better=Direction.HIGHER,
        aggregation=Aggregation.RATIO, numerator="journeys_completed", denominator="journeys_started", scale=100,
        target=75.0, min_n=5, observations="journeys",
        description="Share of online journeys started in the period that the user got to the end of. A session that resumes an earlier one is not a new start; the original counts as completed if it or its resumption completed, so it never exceeds 100%.",
        formula="journeys completed / journeys started (resumed sessions not counted as starts), by start date",
        source='GOV.UK Service Manual, "Completion rate"', population="started",
    ),
    _m(
        name="satisfaction", label="User satisfaction", unit="%", better=Direction.HIGHER,
        aggregation=Aggregation.RATIO, numerator="ratings_top2", denominator="ratings", scale=100,
        target=80.0, min_n=10, observations="ratings",
        description="Share of ratings that are 4 or 5 out of 5 (top-2 box). Needs at least 10 ratings.",
        formula="ratings of 4 or 5 / all ratings, submitted in the period",
        source="Australian DTA performance dashboard (top-2 box)", population="rated",
    ),
    _m(
        name="satisfaction_index", label="Satisfaction index", unit="%", better=Direction.HIGHER,
        aggregation=Aggregation.RATIO, numerator="rating_points", denominator="rating_points_possible", scale=100,
        target=75.0, min_n=10, observations="ratings",
        description="The mean rating rescaled so that all 1s give 0 and all 5s give 100. Needs at least 10 ratings.",
        formula="(mean rating - 1) / 4 x 100, i.e. sum(rating - 1) / (4 x ratings) x 100",
        source="GOV.UK Performance Platform (rescaled mean)", population="rated",
    ),
    _m(
        name="cost_per_transaction", label="Cost per transaction", unit="£", better=Direction.LOWER,
        aggregation=Aggregation.RATIO, numerator="cost", denominator="closed", decimals=2,
        target=40.0, min_n=5,
        description="What it cost to run the service in the period for each case it closed. Administrative closes are not transactions.",
        formula="total cost in the period / cases closed in the period",
        source='GOV.UK Service Manual, "Cost per transaction" (GOV.UK uses a rolling 12 months)', population="closed",
    ),
    _m(
        name="processing_time_median", label="Processing time (median)", unit="days", better=Direction.LOWER,
        aggregation=Aggregation.MEDIAN, numerator="processing_days",
        target=7.0, min_n=5,
        description="Median time from submission to close of the cases closed in the period, in days. Administrative closes within 60 seconds are left out.",
        formula="median of closed_at - submitted_at, in days, over cases closed in the period",
        source="311 practice: median time to close by request type", population="closed",
    ),
    _m(
        name="processing_time_p90", label="Processing time (90th percentile)", unit="days", better=Direction.LOWER,
        aggregation=Aggregation.P90, numerator="processing_days",
        target=20.0, min_n=5,
        description="Nine in ten cases closed in the period took at most this long, in days.",
        formula="90th percentile (linear interpolation) of closed_at - submitted_at, in days, over cases closed in the period",
        source="311 practice", population="closed",
    ),
    _m(
        name="on_time_rate", label="On-time rate", unit="%", better=Direction.HIGHER,
        aggregation=Aggregation.RATIO, numerator="closed_on_time", denominator="due_population", scale=100,
        target=90.0, min_n=5,
        description="Cases closed by their due date, over cases closed in the period plus cases still open and overdue at its end: counting only closed cases would show 100% on time next to a growing overdue pile. A case is due at due_at, or sla_days calendar days after submission; a case with neither is left out and counted.",
        formula="closed on time / (closed in period + open and overdue at period end)",
        source="City of Austin 311 dashboard review (atd-data-tech #21672, #22160)", population="closed_or_overdue",
    ),
    _m(
        name="backlog", label="Backlog", unit="count", better=Direction.LOWER,
        aggregation=Aggregation.COUNT, numerator="backlog", decimals=0,
        description="Cases open at the end of the period.",
        formula="cases submitted before the period's end and not closed by then",
        source="Open311 practice", population="open_at_end",
    ),
    _m(
        name="backlog_overdue", label="Overdue backlog", unit="count", better=Direction.LOWER,
        aggregation=Aggregation.COUNT, numerator="backlog_overdue", decimals=0,
        description="Cases open at the end of the period and past their due date.",
        formula="open cases at period end whose due date has passed",
        source="Open311 practice", population="overdue_at_end",
    ),
    _m(
        name="backlog_age_median", label="Backlog age (median)", unit="days", better=Direction.LOWER,
        aggregation=Aggregation.MEDIAN, numerator="backlog_age_days",
        target=10.0, min_n=5,
        description="Median age, in days, of the cases open at the end of the period.",
        formula="median of (period end - submitted_at) over cases open at period end",
        source="Open311 practice", population="open_at_end",
    ),
    _m(
        name="net_flow", label="Net flow", unit="count", better=Direction.CONTEXT,
        aggregation=Aggregation.DIFFERENCE, numerator="submitted", denominator="closed_all", decimals=0,
        description="Cases submitted minus cases closed in the period: above zero the backlog grows. Weeks to clear = backlog / (closed - submitted) when that is positive.",
        formula="submitted - closed, in the period",
        source="-", population="submitted_or_closed",
    ),
    _m(
        name="wait_time_median", label="Wait in person (median)", unit="minutes", better=Direction.LOWER,
        aggregation=Aggregation.MEDIAN, numerator="visit_wait_minutes",
        target=5.0, min_n=5, observations="visits",
        description="Median wait of visitors who were served at a service centre, from arrival to being called, in minutes.",
        formula="median of answered_at - arrived_at over answered in-person contacts that arrived in the period",
        source="-", population="visits_answered",
    ),
    _m(
        name="wait_time_p90", label="Wait in person (90th percentile)", unit="minutes", better=Direction.LOWER,
        aggregation=Aggregation.P90, numerator="visit_wait_minutes",
        target=15.0, min_n=5, observations="visits",
        description="Nine in ten served visitors waited at most this long, in minutes.",
        formula="90th percentile (linear interpolation) of answered_at - arrived_at over answered in-person contacts",
        source="-", population="visits_answered",
    ),
    _m(
        name="wait_within_target", label="Seen within 15 minutes", unit="%", better=Direction.HIGHER,
        aggregation=Aggregation.RATIO, numerator="visits_within_target", denominator="visits_answered", scale=100,
        target=90.0, min_n=5, observations="visits",
        description="Share of served visitors who waited at most the target (15 minutes in person).",
        formula="answered in-person contacts with a wait of at most 15 minutes / answered in-person contacts",
        source="-", population="visits_answered",
    ),
    _m(
        name="asa", label="Average speed of answer", unit="seconds", better=Direction.LOWER,
        aggregation=Aggregation.RATIO, numerator="calls_wait_seconds", denominator="calls_answered", decimals=0,
        target=30.0, min_n=5, observations="calls",
        description="Mean wait of answered calls, in seconds.",
        formula="total wait of answered calls / answered calls",
        source="contact-centre standard", population="calls_answered",
    ),
    _m(
        name="service_level", label="Service level (20 s)", unit="%", better=Direction.HIGHER,
        aggregation=Aggregation.RATIO, numerator="calls_answered_in_time", denominator="calls_offered", scale=100,
        target=80.0, min_n=5, observations="calls",
        description="Share of calls offered that were answered within 20 seconds (80/20 is the usual target). Callers who hung up within 5 seconds are left out of both sides.",
        formula="calls answered within 20 s / calls offered, excluding abandons shorter than 5 s from both",
        source="contact-centre standard", population="calls_offered",
    ),
    _m(
        name="abandonment_rate", label="Call abandonment", unit="%", better=Direction.LOWER,
        aggregation=Aggregation.RATIO, numerator="calls_abandoned", denominator="calls_offered", scale=100,
        target=8.0, min_n=5, observations="calls",
        description="Share of calls offered where the caller hung up before being answered. Hang-ups within 5 seconds are left out of both sides.",
        formula="abandoned calls / calls offered, excluding abandons shorter than 5 s from both",
        source="contact-centre standard", population="calls_offered",
    ),
    _m(
        name="aht", label="Average handle time", unit="minutes", better=Direction.CONTEXT,
        aggregation=Aggregation.RATIO, numerator="calls_handle_minutes", denominator="calls_answered", decimals=2,
        min_n=5, observations="calls",
        description="Mean time from answer to the end of answered calls, in minutes.",
        formula="sum of ended_at - answered_at over answered calls / answered calls",
        source="contact-centre standard", population="calls_answered",
    ),
)

METRICS: dict[str, Metric] = {metric.name: metric for metric in METRICS_LIST}
SCORECARD: tuple[str, ...] = tuple(METRICS)


class UnknownMetricError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this should read as a sentence
        return str(self.args[0])


def resolve(names: str | list[str] | tuple[str, ...] | None) -> list[Metric]:
    """The metrics for registry names (all when None); unknown names raise with the known ones."""
    if names is None:
        return list(METRICS_LIST)
    if isinstance(names, str):
        names = [names]
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise UnknownMetricError(
            f"unknown metric{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known metrics: {', '.join(METRICS)}"
        )
    return [METRICS[name] for name in names]
