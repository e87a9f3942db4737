"""Staffing an office from its stored forecast and its own history: the planner's API.

Pure functions from frames to frames; `forecasting.store.load_staffing_inputs` reads the
frames (once, cached by the page), and every what-if recomputes from them without
refitting anything::

    inputs = load_staffing_inputs(engine, "sheffield_cc", first_day, last_day, departments)
    settings = default_settings(inputs.office_kind)                     # 80% in 20 s, ...
    plan = plan_staffing(inputs.forecast, inputs.queue, inputs.rostered,
                         dataclasses.replace(settings, volume_change=0.1, shrinkage=0.35))
    plan.intervals   # per 30-minute interval: arrivals, Erlang C and A agents, rostered, gaps
    plan.days        # per day: required staff-hours (C and A) against rostered hours

Units: arrivals are calls or visits per interval; agents are people answering at once;
staff = agents / (1 - shrinkage), the people to pay for (breaks, leave, training off
the phones); hours are paid staff-hours. Everything stays fractional until the last
step: `staff_erlang_*` per interval and `hours_erlang_*` per day are each rounded up
once, from the fractional totals (DOMAIN.md section 4).

Rostered staff come from costs.staff_hours: paid hours per office, service and day,
shrinkage included, so they compare with required *staff*, not agents. Where a day has
no cost record yet (the forecast's future), the office is assumed to keep its recent
roster: the mean of the same weekday over the last `reference_weeks` weeks with records.
Within a day, rostered hours are spread over the intervals in proportion to the
intraday arrival profile (`roster_spread="profile"`, the default: rosters follow
expected demand) or evenly over the intervals in which contacts arrive (`"even"`).

Caution for service centres: in the generated data (and often in real ledgers) their
staff_hours also pay back-office case work, not only the counter. Use
`rostered_share` (the counter's share of those hours) or cost rows with a channel.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from forecasting._frame import DATE, ForecastInputError
from forecasting.staffing import intraday_profile, staffing_plan

INTERVAL_MINUTES = 30  # the contact_intervals extract's grain
SPREADS = ("profile", "even")
FORECAST_COLUMNS = ("yhat", "lo80", "hi80", "lo95", "hi95")
_HOURS_PER_INTERVAL = INTERVAL_MINUTES / 60


@dataclass(frozen=True)
class StaffingSettings:
    """What-if parameters of a plan; shares are fractions (0.8 for 80%).

    service_level, target_seconds: the target, e.g. 80% answered within 20 s.
    max_occupancy: the busiest share of time an agent may be kept busy.
    shrinkage: share of paid time off the queue; staff = agents / (1 - shrinkage).
    volume_change: relative change of the forecast arrivals (+0.1: 10% more).
    aht_seconds, patience_seconds: None takes the office's history.
    forecast_column: plan for "yhat" or for a bound such as "hi80" (a busier month).
    roster_spread: "profile" or "even" (see the module docstring).
    rostered_share: the share of costs.staff_hours that staffs this queue.
    """

    service_level: float = 0.8
    target_seconds: float = 20.0
    max_occupancy: float = 0.85
    shrinkage: float = 0.3
    volume_change: float = 0.0
    aht_seconds: float | None = None
    patience_seconds: float | None = None
    forecast_column: str = "yhat"
    roster_spread: str = "profile"
    rostered_share: float = 1.0

    def check(self) -> None:
        """Raise ForecastInputError listing every setting out of range."""
        problems = []
        if not 0 < self.service_level < 1:
            problems.append(f"service_level must be a share in (0, 1), got {self.service_level!r}")
        if not self.target_seconds >= 0:
            problems.append(f"target_seconds must be >= 0, got {self.target_seconds!r}")
        if not 0 < self.max_occupancy <= 1:
            problems.append(f"max_occupancy must be a share in (0, 1], got {self.max_occupancy!r}")
        if not 0 <= self.shrinkage < 1:
            problems.append(f"shrinkage must be a share in [0, 1), got {self.shrinkage!r}")
        if not self.volume_change > -1:
            problems.append(f"volume_change must be above -1 (-100%), got {self.volume_change!r}")
        for name in ("aht_seconds", "patience_seconds"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                problems.append(f"{name} must be a positive number of seconds, got {value!r}")
        if self.forecast_column not in FORECAST_COLUMNS:
            problems.append(
                f"forecast_column must be one of {', '.join(FORECAST_COLUMNS)}, "
                f"got {self.forecast_column!r}"
            )
        if self.roster_spread not in SPREADS:
            problems.append(
                f"roster_spread must be one of {', '.join(SPREADS)}, got {self.roster_spread!r}"
            )
        if not 0 < self.rostered_share <= 1:
            problems.append(f"rostered_share must be a share in (0, 1], got {self.rostered_share!r}")
        if problems:
            raise ForecastInputError("staffing settings: " + "; ".join(problems) + ".")


def default_settings(office_kind: str) -> StaffingSettings:
    """The usual targets: calls 80% within 20 s; visits 80% within 15 minutes."""
    if office_kind == "service_centre":
        return StaffingSettings(target_seconds=15 * 60)
    return StaffingSettings()


@dataclass(frozen=True)
class QueueHistory:
    """What an office's history says about its queue.

    profile: weekday (1 = Monday), slot (minutes after local midnight), share (of the
        weekday's arrivals; sums to 1 per weekday).
    aht_seconds: mean handle time of answered contacts.
    patience_seconds: mean time a waiting caller stays before hanging up, estimated as
        total waiting time / abandoned contacts (exponential patience, answered
        contacts censored); None when nobody abandoned.
    """

    office_id: str
    channel: str
    profile: pl.DataFrame
    aht_seconds: float
    patience_seconds: float | None
    arrivals: int
    answered: int
    abandoned: int
    first_day: dt.date
    last_day: dt.date


def queue_history(
    contact_intervals: pl.DataFrame,
    office_id: str,
    *,
    last_day: dt.date | None = None,
    weeks: int = 12,
) -> QueueHistory:
    """The profile, AHT and patience of one office over `weeks` weeks ending last_day.

    contact_intervals: the extract of that name (office_id, channel, ds, slot, arrivals,
    answered, abandoned, handle_seconds, wait_seconds). last_day: default the last day in
    the frame. When several channels queue at the office, the busiest one is used.
    """
    rows = contact_intervals.filter(pl.col("office_id") == office_id)
    if rows.height and last_day is None:
        last_day = rows[DATE].max()  # type: ignore[assignment]
    if rows.height:
        rows = rows.filter(
            pl.col(DATE).is_between(last_day - dt.timedelta(days=7 * weeks - 1), last_day)  # type: ignore[operator]
        )
    if rows.height == 0 or rows["arrivals"].sum() == 0:
        raise ForecastInputError(
            f"no calls or visits at office {office_id!r} in the {weeks} weeks to {last_day}: "
            "staffing needs its history (contacts table)."
        )
    channel = rows.group_by("channel").agg(pl.col("arrivals").sum()).sort(
        "arrivals", "channel", descending=[True, False]
    )["channel"][0]
    rows = rows.filter(pl.col("channel") == channel)
    totals = rows.select(pl.col("arrivals", "answered", "abandoned", "handle_seconds", "wait_seconds").sum()).row(
        0, named=True
    )
    if totals["answered"] == 0:
        raise ForecastInputError(
            f"no answered {channel} contacts at office {office_id!r} in the {weeks} weeks to "
            f"{last_day}: the handle time cannot be measured; pass aht_seconds."
        )
    profile = intraday_profile(
        rows.select(
            (pl.col(DATE).cast(pl.Datetime) + pl.duration(minutes=pl.col("slot"))).alias("at"),
            "arrivals",
        ),
        timestamp_col="at",
        count_col="arrivals",
        interval_minutes=INTERVAL_MINUTES,
    )
    patience = totals["wait_seconds"] / totals["abandoned"] if totals["abandoned"] else None
    return QueueHistory(
        office_id=office_id,
        channel=channel,
        profile=profile,
        aht_seconds=totals["handle_seconds"] / totals["answered"],
        patience_seconds=patience,
        arrivals=int(totals["arrivals"]),
        answered=int(totals["answered"]),
        abandoned=int(totals["abandoned"]),
        first_day=rows[DATE].min(),  # type: ignore[arg-type]
        last_day=rows[DATE].max(),  # type: ignore[arg-type]
    )


def rostered_hours(
    costs: pl.DataFrame,
    office_id: str,
    days: list[dt.date],
    *,
    closed_days: Sequence[dt.date] = (),
    channel: str | None = None,
    reference_weeks: int = 4,
) -> pl.DataFrame:
    """Paid staff-hours rostered at an office per day (shrinkage included), from costs.

    costs: the extract costs (office_id, channel, period_start, period_end, staff_hours,
    ...); a record spanning several days counts evenly on each. Rows whose channel is
    `channel` are used when the office has any, else rows without a channel.
    Returns ds, rostered_hours, source: "costs" for days up to the office's last cost
    record; after it "last N weeks" (the same weekday's mean over the last
    `reference_weeks` weeks of records, the roster assumed to carry on); "closed" (0) on
    closed_days.
    """
    rows = costs.filter(pl.col("office_id") == office_id)
    if channel is not None and rows.filter(pl.col("channel") == channel).height:
        rows = rows.filter(pl.col("channel") == channel)
    else:
        rows = rows.filter(pl.col("channel").is_null())
    daily = (
        rows.with_columns(
            pl.date_ranges("period_start", "period_end", "1d").alias(DATE),
            ((pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1).alias("n_days"),
        )
        .explode(DATE)
        .group_by(DATE)
        .agg((pl.col("staff_hours") / pl.col("n_days")).sum().alias("rostered_hours"))
    )
    frame = pl.DataFrame({DATE: days}, schema={DATE: pl.Date})
    if daily.height == 0:
        raise ForecastInputError(
            f"no cost records (staff hours) for office {office_id!r}: rostered staff unknown."
        )
    last_record: dt.date = daily[DATE].max()  # type: ignore[assignment]
    recent = daily.filter(
        pl.col(DATE) > last_record - dt.timedelta(days=7 * reference_weeks)
    ).join(pl.DataFrame({DATE: list(closed_days)}, schema={DATE: pl.Date}), on=DATE, how="anti")
    usual = recent.group_by(pl.col(DATE).dt.weekday().alias("weekday")).agg(
        pl.col("rostered_hours").mean().alias("usual_hours")
    )
    closed = pl.col(DATE).is_in(list(closed_days))
    return (
        frame.join(daily, on=DATE, how="left")
        .with_columns(pl.col(DATE).dt.weekday().alias("weekday"))
        .join(usual, on="weekday", how="left")
        .select(
            DATE,
            pl.when(closed)
            .then(0.0)
            .when(pl.col(DATE) <= last_record)
            .then(pl.col("rostered_hours").fill_null(0.0))
            .otherwise(pl.col("usual_hours").fill_null(0.0))
            .alias("rostered_hours"),
            pl.when(closed)
            .then(pl.lit("closed"))
            .when(pl.col(DATE) <= last_record)
            .then(pl.lit("costs"))
            .otherwise(pl.lit(f"last {reference_weeks} weeks"))
            .alias("source"),
        )
        .sort(DATE)
    )


@dataclass(frozen=True)
class StaffingPlan:
    """A plan: per interval and per day, Erlang C and Erlang A side by side.

    intervals: ds, interval_start (local), arrivals, load (Erlangs), per model m in
        (erlang_c, erlang_a): agents_m (fractional agents answering at once),
        service_level_m (at the whole number of agents), staff_needed_m = agents_m /
        (1 - shrinkage) (fractional), gap_m = rostered_staff - staff_needed_m (negative:
        short, positive: surplus), staff_m (staff_needed_m rounded up, the one rounding);
        abandon_erlang_a; rostered_staff (people on shift, fractional); on roster days
        scheduled_people (whole people on shift, rounded down) and short_m = staff_m -
        scheduled_people (people short; minus: spare), else empty.
    days: ds, arrivals, per model: hours_needed_m (sum of staff_needed_m x 0.5 h),
        gap_hours_m = rostered_hours - hours_needed_m, hours_m (rounded up once),
        peak_staff_m; rostered_hours, rostered_source.
    aht_seconds, patience_seconds: the values used (history's or the settings').
    """

    intervals: pl.DataFrame
    days: pl.DataFrame
    settings: StaffingSettings
    aht_seconds: float
    patience_seconds: float
    notes: list[str] = field(default_factory=list)


def plan_staffing(
    forecast: pl.DataFrame,
    queue: QueueHistory,
    rostered: pl.DataFrame,
    settings: StaffingSettings | None = None,
    *,
    scheduled: pl.DataFrame | None = None,
    roster_days: Sequence[dt.date] = (),
) -> StaffingPlan:
    """Required agents per interval (Erlang C and A) against the rostered staff.

    forecast: daily arrivals at the office (ds and settings.forecast_column, e.g. the
    stored forecast of series contacts:<office_id>). queue: queue_history(...).
    rostered: rostered_hours(...) for the same days. Nothing is fitted: a what-if is a
    new `settings`.
    scheduled, roster_days: an imported or edited roster (data.rosters.half_hour_schedule:
    ds, interval_start, scheduled people) and the days it covers (every day of a week
    with a shift). On those days the people on shift per half hour replace the hours from
    costs (rostered_source "roster"; rostered_share does not apply: shifts staff the
    queue), and short_m = staff_m - whole people scheduled (the shift plan's gap).
    """
    settings = settings or StaffingSettings()
    settings.check()
    for column in (DATE, settings.forecast_column):
        if column not in forecast.columns:
            raise ForecastInputError(
                f"plan_staffing: the forecast has no column {column!r} (columns: "
                f"{', '.join(forecast.columns)})."
            )
    notes = []
    aht = settings.aht_seconds or queue.aht_seconds
    patience = settings.patience_seconds or queue.patience_seconds
    if patience is None:
        patience = 3600.0 * 24  # nobody hung up: callers as patient as Erlang C assumes
        notes.append("nobody abandoned in the history: Erlang A uses a patience of a day")
    daily = forecast.select(
        DATE,
        (pl.col(settings.forecast_column) * (1 + settings.volume_change)).alias("arrivals"),
    ).sort(DATE)
    missing = daily.join(queue.profile, left_on=pl.col(DATE).dt.weekday(), right_on="weekday", how="anti")
    lost = missing.filter(pl.col("arrivals") > 0)
    if lost.height:
        notes.append(
            "no intraday profile for the weekday of "
            + ", ".join(str(d) for d in lost[DATE].to_list())
            + ": those days' arrivals are left out"
        )
    per_interval = staffing_plan(
        daily,
        queue.profile,
        aht_seconds=aht,
        target_seconds=settings.target_seconds,
        service_level=settings.service_level,
        max_occupancy=settings.max_occupancy,
        patience_seconds=patience,
        shrinkage=settings.shrinkage,
        interval_minutes=INTERVAL_MINUTES,
        date_col=DATE,
        value_col="arrivals",
    )
    # staffing_plan calls scheduled staff "scheduled_m"; here they are the staff needed
    per_interval = per_interval.rename(
        {"scheduled_erlang_c": "staff_needed_erlang_c", "scheduled_erlang_a": "staff_needed_erlang_a"}
    )
    weight = (
        pl.col("share")
        if settings.roster_spread == "profile"
        else pl.lit(1.0) / pl.len().over(DATE)
    )
    roster_day = pl.col(DATE).is_in(list(roster_days))
    if scheduled is None:
        scheduled = pl.DataFrame(schema={"interval_start": pl.Datetime("us"), "scheduled": pl.Float64})
    rostered_per_interval = (
        per_interval.select(DATE, "interval_start")
        .with_columns(
            pl.col(DATE).dt.weekday().alias("weekday"),
            (
                pl.col("interval_start").dt.hour().cast(pl.Int32) * 60
                + pl.col("interval_start").dt.minute().cast(pl.Int32)
            ).alias("slot"),
        )
        .join(queue.profile, on=["weekday", "slot"], how="left")
        .join(rostered.select(DATE, "rostered_hours"), on=DATE, how="left")
        .join(scheduled.select("interval_start", "scheduled"), on="interval_start", how="left")
        .select(
            "interval_start",
            pl.when(roster_day)
            .then(pl.col("scheduled").fill_null(0.0))
            .otherwise(
                pl.col("rostered_hours").fill_null(0.0)
                * settings.rostered_share
                * weight
                / _HOURS_PER_INTERVAL
            ).alias("rostered_staff"),
            pl.when(roster_day).then((pl.col("scheduled").fill_null(0.0) + 1e-9).floor().cast(pl.Int32)).alias("scheduled_people"),
        )
    )
    models = ("erlang_c", "erlang_a")
    intervals = (
        per_interval.join(rostered_per_interval, on="interval_start", how="left")
        .with_columns(
            *[
                (pl.col("rostered_staff") - pl.col(f"staff_needed_{m}")).alias(f"gap_{m}")
                for m in models
            ],
            *[
                (pl.col(f"staff_needed_{m}") - 1e-9).ceil().clip(lower_bound=0).cast(pl.Int32).alias(f"staff_{m}")
                for m in models
            ],
        )
        .with_columns(*[(pl.col(f"staff_{m}") - pl.col("scheduled_people")).alias(f"short_{m}") for m in models])
        .select(
            DATE,
            "interval_start",
            "arrivals",
            "load",
            *[
                column
                for m in models
                for column in (f"agents_{m}", f"service_level_{m}", f"staff_needed_{m}", f"staff_{m}", f"gap_{m}")
            ],
            "abandon_erlang_a",
            "rostered_staff",
            "scheduled_people",
            *[f"short_{m}" for m in models],
        )
        .sort("interval_start")
    )
    summed = intervals.group_by(DATE).agg(
        *[(pl.col(f"staff_needed_{m}").sum() * _HOURS_PER_INTERVAL).alias(f"hours_needed_{m}") for m in models],
        *[pl.col(f"staff_{m}").max().alias(f"peak_staff_{m}") for m in models],
    )
    on_roster = (
        scheduled.filter(pl.col("interval_start").dt.date().is_in(list(roster_days)))
        .group_by(pl.col("interval_start").dt.date().alias(DATE))
        .agg((pl.col("scheduled").sum() * _HOURS_PER_INTERVAL).alias("roster_hours"))
    )
    days = (
        daily.join(summed, on=DATE, how="left")
        .join(rostered.select(DATE, "rostered_hours", pl.col("source").alias("rostered_source")), on=DATE, how="left")
        .join(on_roster, on=DATE, how="left")
        .with_columns(
            pl.col("^hours_needed_.*$").fill_null(0.0),
            pl.col("^peak_staff_.*$").fill_null(0),
            pl.when(roster_day).then(pl.col("roster_hours").fill_null(0.0))
            .otherwise(pl.col("rostered_hours").fill_null(0.0) * settings.rostered_share).alias("rostered_hours"),
            pl.when(roster_day).then(pl.lit("roster")).otherwise(pl.col("rostered_source")).alias("rostered_source"),
        )
        .with_columns(
            *[(pl.col("rostered_hours") - pl.col(f"hours_needed_{m}")).alias(f"gap_hours_{m}") for m in models],
            *[
                (pl.col(f"hours_needed_{m}") - 1e-9).ceil().clip(lower_bound=0).cast(pl.Int32).alias(f"hours_{m}")
                for m in models
            ],
        )
        .select(
            DATE,
            "arrivals",
            *[
                column
                for m in models
                for column in (f"hours_needed_{m}", f"hours_{m}", f"gap_hours_{m}", f"peak_staff_{m}")
            ],
            "rostered_hours",
            "rostered_source",
        )
        .sort(DATE)
    )
    return StaffingPlan(intervals, days, settings, aht, patience, notes)


__all__ = [
    "INTERVAL_MINUTES",
    "QueueHistory",
    "StaffingPlan",
    "StaffingSettings",
    "default_settings",
    "plan_staffing",
    "queue_history",
    "rostered_hours",
]
