"""Queues: what the registry's contact metrics do not say on their own.

Three pure computations for the queues page, none reading a database:

- ``weekday_hour_profile``: arrivals and waits by weekday and hour of local time, over a
  window of local dates. Mean arrivals per hour divide by how often that clock hour
  occurred in the window, so a daylight-saving week is exact: the hour the clocks skip
  did not occur that Sunday, and the hour they repeat occurred twice.
- ``visit_queue_values``: two in-person measures the registry does not carry (visitors who
  left unserved, and visit handle time), in the engine's long format, so that a page can
  lay them beside the engine's wait metrics. They are declared below as ``Metric``s of
  their own (not in the registry) so that labels, units and formatting work the same way.
- ``QUEUE_KINDS``: which channel and which metrics belong to each kind of office. Calls
  and visits are never mixed: a contact centre is read through its phone contacts, a
  service centre through its in-person ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from metrics.facts import Facts
from metrics.periods import Periods, index_of
from metrics.registry import METRICS, Aggregation, Direction, Metric

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MIN_WAITS = 5  # fewer answered contacts than this in a cell: no median or p90 shown
WAIT_UNITS = {"seconds": 1.0, "minutes": 60.0}

VISIT_ABANDONMENT = Metric(
    name="visit_abandonment_rate", label="Visitors who left unserved", unit="%", better=Direction.LOWER,
    aggregation=Aggregation.RATIO, numerator="visits_left", denominator="visits_arrived", scale=100,
    min_n=5, observations="visits",
    description=(
        "Share of visitors who queued at a service centre (took a ticket) in the period and left before being called. "
        "Unlike calls, no short-abandon rule applies: a visitor who takes a ticket has joined the queue."
    ),
    formula="in-person contacts that arrived in the period and were abandoned / in-person contacts that arrived in the period",
    source="this dashboard (the in-person counterpart of call abandonment)", population="visits_arrived",
)
VISIT_HANDLE_TIME = Metric(
    name="visit_handle_time", label="Visit handle time", unit="minutes", better=Direction.CONTEXT,
    aggregation=Aggregation.RATIO, numerator="visits_handle_minutes", denominator="visits_answered", decimals=1,
    min_n=5, observations="visits",
    description="Mean time from being called to the end of the visit, over visitors who were served, in minutes.",
    formula="sum of ended_at - answered_at over answered in-person contacts that arrived in the period / answered in-person contacts",
    source="this dashboard (the in-person counterpart of average handle time)", population="visits_answered",
)
VISIT_METRICS: dict[str, Metric] = {metric.name: metric for metric in (VISIT_ABANDONMENT, VISIT_HANDLE_TIME)}


@dataclass(frozen=True)
class QueueKind:
    """One kind of office that queues people, and how it is read."""

    kind: str  # offices.kind
    plural: str  # "contact centres"
    channel: str  # the one channel its queue is read through
    contact: str  # "call" or "visit", for sentences
    wait_unit: str  # "seconds" or "minutes"
    engine_metrics: tuple[str, ...]  # registry metrics, computed by the engine
    own_metrics: tuple[str, ...] = ()  # VISIT_METRICS, computed here

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.engine_metrics + self.own_metrics


QUEUE_KINDS: dict[str, QueueKind] = {
    "contact_centre": QueueKind(
        "contact_centre", "contact centres", "phone", "call", "seconds",
        ("service_level", "asa", "abandonment_rate", "aht"),
    ),
    "service_centre": QueueKind(
        "service_centre", "service centres", "in_person", "visit", "minutes",
        ("wait_time_median", "wait_time_p90", "wait_within_target"),
        ("visit_abandonment_rate", "visit_handle_time"),
    ),
}


def metric_of(name: str) -> Metric:
    """A registry metric, or one of this module's visit metrics."""
    if name in METRICS:
        return METRICS[name]
    if name in VISIT_METRICS:
        return VISIT_METRICS[name]
    raise KeyError(f"unknown queue metric {name!r}; known: {', '.join([*METRICS, *VISIT_METRICS])}")


# ---------------------------------------------------------------------- time zones


def _zones(facts: Facts, frame: pl.DataFrame) -> pl.Expr:
    """Each row's time zone: its office's, else the organisation's."""
    if "timezone" in frame.columns or ("office_id" in frame.columns and facts.offices is not None):
        return facts.column(frame, "timezone").fill_null(facts.timezone).alias("timezone")
    return pl.lit(facts.timezone).alias("timezone")


def clock_hours(first_day: date, last_day: date, zone: str) -> pl.DataFrame:
    """How many times each (ISO weekday, local hour) occurred in the local dates
    [first_day, last_day] of ``zone``: one per day normally, none for the hour the clocks
    skip, two for the hour they repeat. Columns weekday (1 = Monday), hour, clock_hours."""
    tz = ZoneInfo(zone)
    utc = ZoneInfo("UTC")
    start = datetime.combine(first_day, time(), tz).astimezone(utc).replace(tzinfo=None)
    end = datetime.combine(last_day + timedelta(days=1), time(), tz).astimezone(utc).replace(tzinfo=None)
    instants = pl.datetime_range(start, end, "1h", closed="left", time_unit="us", eager=True).alias("instant")
    local = instants.dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
    return (
        pl.DataFrame({"weekday": local.dt.weekday(), "hour": local.dt.hour()})
        .group_by("weekday", "hour")
        .agg(pl.len().cast(pl.Int64).alias("clock_hours"))
        .with_columns(pl.col("weekday").cast(pl.Int8), pl.col("hour").cast(pl.Int8))
    )


def _local_clock(frame: pl.DataFrame, zone: str, column: str) -> pl.DataFrame:
    """Add the local date, ISO weekday and hour of a naive UTC column."""
    local = pl.col(column).dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
    return frame.with_columns(
        local.dt.date().alias("_date"),
        local.dt.weekday().cast(pl.Int8).alias("weekday"),
        local.dt.hour().cast(pl.Int8).alias("hour"),
    )


# ---------------------------------------------------------------------- weekday by hour


def weekday_hour_profile(
    facts: Facts,
    first_day: date,
    last_day: date,
    *,
    wait_unit: str = "seconds",
    min_waits: int = MIN_WAITS,
) -> pl.DataFrame:
    """Arrivals and waits of the contacts in ``facts`` (narrow them first, e.g.
    ``facts.where(office_id=..., channel="phone")``) by weekday and hour of the office's
    local time, over the local dates [first_day, last_day].

    One row for each of the 7 x 24 cells:

    - ``arrivals``: contacts that arrived in that local hour of that weekday;
    - ``clock_hours``: how many times that hour occurred in the window (null when the
      offices span several time zones, where it differs by zone);
    - ``mean_arrivals``: arrivals per occurrence of the hour (with several zones, the sum
      over zones of each zone's arrivals over its own clock hours), i.e. the mean number
      of arrivals in that hour of that weekday;
    - ``answered``, ``wait_median``, ``wait_p90``: the answered contacts and the median and
      90th percentile (linear interpolation) of their wait (answered_at - arrived_at), in
      ``wait_unit``; null with a ``note`` when fewer than ``min_waits`` were answered.
    """
    if wait_unit not in WAIT_UNITS:
        raise ValueError(f"wait_unit must be one of {', '.join(WAIT_UNITS)}, not {wait_unit!r}")
    if last_day < first_day:
        raise ValueError(f"the window ends ({last_day}) before it starts ({first_day})")
    contacts = facts.contacts
    grid = pl.DataFrame(
        {"weekday": [d for d in range(1, 8) for _ in range(24)], "hour": [h for _ in range(7) for h in range(24)]},
        schema={"weekday": pl.Int8, "hour": pl.Int8},
    )
    if contacts is None:
        contacts = pl.DataFrame(schema={"arrived_at": pl.Datetime("us"), "answered_at": pl.Datetime("us"), "abandoned": pl.Boolean})
    slim = contacts.select("arrived_at", "answered_at", "abandoned", _zones(facts, contacts))
    zones = sorted(slim["timezone"].unique().to_list()) or [facts.timezone]

    placed: list[pl.DataFrame] = []
    rates: list[pl.DataFrame] = []
    hours_by_zone: list[pl.DataFrame] = []
    for zone in zones:
        part = _local_clock(slim.filter(pl.col("timezone") == zone), zone, "arrived_at")
        part = part.filter(pl.col("_date").is_between(first_day, last_day))
        placed.append(part)
        hours = clock_hours(first_day, last_day, zone)
        hours_by_zone.append(hours)
        counts = part.group_by("weekday", "hour").agg(pl.len().cast(pl.Int64).alias("arrivals"))
        rates.append(
            hours.join(counts, on=["weekday", "hour"], how="left")
            .with_columns(pl.col("arrivals").fill_null(0))
            .with_columns(pl.when(pl.col("clock_hours") > 0).then(pl.col("arrivals") / pl.col("clock_hours")).otherwise(0.0).alias("mean_arrivals"))
        )
    rate = pl.concat(rates).group_by("weekday", "hour").agg(
        pl.col("arrivals").sum(), pl.col("mean_arrivals").sum(),
    )
    single_zone = len(zones) == 1
    every = pl.concat(placed)
    divisor = WAIT_UNITS[wait_unit]
    wait = (pl.col("answered_at") - pl.col("arrived_at")).dt.total_microseconds() / 1e6 / divisor
    served = every.filter(pl.col("answered_at").is_not_null() & ~pl.col("abandoned"))
    waits = served.group_by("weekday", "hour").agg(
        pl.len().cast(pl.Int64).alias("answered"),
        wait.median().alias("_median"),
        wait.quantile(0.9, interpolation="linear").alias("_p90"),
    )
    table = grid.join(rate, on=["weekday", "hour"], how="left").join(waits, on=["weekday", "hour"], how="left")
    if single_zone:
        table = table.join(hours_by_zone[0], on=["weekday", "hour"], how="left")
    else:
        table = table.with_columns(pl.lit(None, dtype=pl.Int64).alias("clock_hours"))
    answered = pl.col("answered").fill_null(0)
    enough = answered >= min_waits
    return table.select(
        "weekday",
        pl.col("weekday").replace_strict(dict(enumerate(WEEKDAYS, start=1)), return_dtype=pl.String).alias("day"),
        "hour",
        pl.col("arrivals").fill_null(0).cast(pl.Int64),
        pl.col("clock_hours").fill_null(0).cast(pl.Int64) if single_zone else pl.col("clock_hours"),
        pl.col("mean_arrivals").fill_null(0.0).cast(pl.Float64),
        answered.cast(pl.Int64).alias("answered"),
        pl.when(enough).then(pl.col("_median")).cast(pl.Float64).alias("wait_median"),
        pl.when(enough).then(pl.col("_p90")).cast(pl.Float64).alias("wait_p90"),
        pl.when(answered == 0).then(pl.lit("no answered contacts"))
        .when(~enough).then(pl.format("fewer than {} answered ({})", pl.lit(min_waits), answered))
        .cast(pl.String).alias("note"),
    ).sort("weekday", "hour")


# ---------------------------------------------------------------------- visits


def visit_queue_values(
    facts: Facts,
    by: Sequence[str] = ("week",),
    *,
    first_day: date,
    last_day: date,
) -> pl.DataFrame:
    """Visitors who left unserved and visit handle time (VISIT_METRICS), by ISO week of
    local time and optionally by office, over the local dates [first_day, last_day].

    Only in-person contacts count. The result has the engine's long columns (period,
    period_start, [office_id], kpi, value, numerator, denominator, n, note): a value from
    fewer than ``min_n`` visits is null and the note says why.

    - visit_abandonment_rate = abandoned visits / visits that arrived x 100
      (n = visits that arrived);
    - visit_handle_time = sum of (ended_at - answered_at) in minutes over answered visits /
      answered visits (n = answered visits).
    """
    unknown = [part for part in by if part not in ("week", "office_id")]
    if "week" not in by or unknown:
        raise ValueError(f"cannot group visits by {list(by)}: use ['week'] or ['week', 'office_id']")
    dims = [part for part in by if part == "office_id"]
    periods = Periods("week", first_day, last_day)
    n_periods = len(periods)
    contacts = facts.contacts
    if contacts is None:
        contacts = pl.DataFrame(schema={"office_id": pl.String, "channel": pl.String, "arrived_at": pl.Datetime("us"), "answered_at": pl.Datetime("us"), "ended_at": pl.Datetime("us"), "abandoned": pl.Boolean})
    visits = contacts.filter(pl.col("channel").cast(pl.String) == "in_person")
    slim = visits.select(
        pl.col("office_id").cast(pl.String), "arrived_at", "answered_at", "ended_at", "abandoned", _zones(facts, visits),
    )
    indexed = pl.concat(
        [
            slim.filter(pl.col("timezone") == zone).with_columns(index_of(pl.col("arrived_at"), periods.utc_boundaries(zone)).alias("period_index"))
            for zone in slim["timezone"].unique().to_list()
        ]
        or [slim.with_columns(pl.lit(None, dtype=pl.Int32).alias("period_index"))]
    ).filter(pl.col("period_index").is_between(0, n_periods - 1))
    answered = pl.col("answered_at").is_not_null() & ~pl.col("abandoned")
    handle = (pl.col("ended_at") - pl.col("answered_at")).dt.total_microseconds() / 60e6
    measures = indexed.group_by(dims + ["period_index"]).agg(
        pl.len().cast(pl.Int64).alias("visits_arrived"),
        pl.col("abandoned").sum().cast(pl.Int64).alias("visits_left"),
        answered.sum().cast(pl.Int64).alias("visits_answered"),
        handle.filter(answered).sum().alias("visits_handle_minutes"),
    )
    frame = periods.frame().select("period_index", "period", "period_start")
    if dims:
        offices = measures.select("office_id").unique().sort("office_id")
        frame = offices.join(frame, how="cross")
    table = frame.join(measures, on=dims + ["period_index"], how="left")
    rows = []
    for metric in (VISIT_ABANDONMENT, VISIT_HANDLE_TIME):
        numerator = pl.col(metric.numerator).cast(pl.Float64).fill_null(0)
        denominator = pl.col(metric.denominator).cast(pl.Float64).fill_null(0)
        n = pl.col(metric.denominator).fill_null(0).cast(pl.Int64)
        enough = n >= metric.min_n
        rows.append(
            table.select(
                "period", "period_start", *dims,
                pl.lit(metric.name).alias("kpi"),
                pl.when(enough & (denominator > 0)).then(numerator / denominator * metric.scale).cast(pl.Float64).alias("value"),
                numerator.alias("numerator"),
                denominator.alias("denominator"),
                n.alias("n"),
                pl.when(n == 0).then(pl.lit(f"no {metric.observations}"))
                .when(~enough).then(pl.format("fewer than {} {} ({})", pl.lit(metric.min_n), pl.lit(metric.observations), n))
                .cast(pl.String).alias("note"),
            )
        )
    return pl.concat(rows).sort(["period_start", *dims], maintain_order=True)


# ---------------------------------------------------------------------- scopes

GROUP_SCOPES = {"contact_centres": "contact_centre", "service_centres": "service_centre"}


@dataclass(frozen=True)
class QueueScope:
    """The offices a queue view covers: one kind of office, all of them or one."""

    key: str  # "contact_centres", "service_centres" or an office id
    kind: QueueKind
    office_ids: tuple[str, ...]
    name: str

    @property
    def is_group(self) -> bool:
        return self.key in GROUP_SCOPES


def scope_options(offices: pl.DataFrame) -> list[str]:
    """The queue scopes: both groups first, then each office that queues people, contact
    centres before service centres, by name. Online offices have no queue."""
    queued = offices.filter(pl.col("kind").is_in(list(QUEUE_KINDS))).sort(
        pl.col("kind").replace_strict({"contact_centre": 0, "service_centre": 1}, return_dtype=pl.Int8), "name"
    )
    return [*GROUP_SCOPES, *queued["office_id"].to_list()]


def resolve_scope(offices: pl.DataFrame, key: str) -> QueueScope:
    """The kind and offices of a scope key (see ``scope_options``)."""
    if key in GROUP_SCOPES:
        kind = QUEUE_KINDS[GROUP_SCOPES[key]]
        chosen = offices.filter(pl.col("kind") == kind.kind).sort("name")
        return QueueScope(key, kind, tuple(chosen["office_id"].to_list()), f"All {kind.plural}")
    row = offices.filter(pl.col("office_id") == key)
    if row.height != 1 or row["kind"].item() not in QUEUE_KINDS:
        raise ValueError(f"{key!r} is not a contact centre or service centre; choose one of {', '.join(scope_options(offices))}")
    return QueueScope(key, QUEUE_KINDS[row["kind"].item()], (key,), row["name"].item())
