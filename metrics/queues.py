"""Queues: what the registry's contact metrics do not say on their own.

Three pure computations for the queues page, none reading a database:

- ``weekday_hour_profile``: arrivals and waits by weekday and hour of local time, over a
  window of local dates. Mean arrivals per hour divide by how often that clock hour
  occurred in the window, so a daylight-saving week is exact: the hour the clocks skip
  did not occur that Sunday, and the hour they repeat occurred twice.
- ``VISIT_METRICS``: the in-person measures the scorecard does not carry (visitors who
  left unserved, and visit handle time): registry metrics off the scorecard, which the
  engine computes beside its wait metrics.
- ``QUEUE_KINDS``: which channel and which metrics belong to each kind of office. Calls
  and visits are never mixed: a contact centre is read through its phone contacts, a
  service centre through its in-person ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from data.fact_frames import Facts
from data.vocabulary import CONTACT_CENTRE, IN_PERSON, PHONE, SERVICE_CENTRE
from metrics.registry import ALL_METRICS, Metric, resolve

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MIN_WAITS = 5  # fewer answered contacts than this in a cell: no median or p90 shown
WAIT_UNITS = {"seconds": 1.0, "minutes": 60.0}

# The in-person measures the scorecard does not carry (visitors who left unserved, visit
# handle time): registry metrics off the scorecard, computed by the engine.
VISIT_METRICS: dict[str, Metric] = {name: metric for name, metric in ALL_METRICS.items() if not metric.scorecard}


@dataclass(frozen=True)
class QueueKind:
    """One kind of office that queues people, and how it is read."""

    kind: str  # offices.kind
    plural: str  # "contact centres"
    channel: str  # the one channel its queue is read through
    contact: str  # "call" or "visit", for sentences
    wait_unit: str  # "seconds" or "minutes"
    engine_metrics: tuple[str, ...]  # scorecard metrics
    own_metrics: tuple[str, ...] = ()  # VISIT_METRICS: registry metrics off the scorecard

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.engine_metrics + self.own_metrics


QUEUE_KINDS: dict[str, QueueKind] = {
    CONTACT_CENTRE: QueueKind(
        CONTACT_CENTRE, "contact centres", PHONE, "call", "seconds",
        ("service_level", "asa", "abandonment_rate", "aht"),
    ),
    SERVICE_CENTRE: QueueKind(
        SERVICE_CENTRE, "service centres", IN_PERSON, "visit", "minutes",
        ("wait_time_median", "wait_time_p90", "wait_within_target"),
        ("visit_abandonment_rate", "visit_handle_time"),
    ),
}


def metric_of(name: str) -> Metric:
    """A registry metric, on the scorecard or off it (the visit metrics)."""
    return resolve(name)[0]


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


# ---------------------------------------------------------------------- scopes

GROUP_SCOPES = {"contact_centres": CONTACT_CENTRE, "service_centres": SERVICE_CENTRE}


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
        pl.col("kind").replace_strict({CONTACT_CENTRE: 0, SERVICE_CENTRE: 1}, return_dtype=pl.Int8), "name"
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
