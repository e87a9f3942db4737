"""Realistic generated data for the dashboard: three years of a fictional government.

Deterministic for a seed. The shapes a dashboard is read for are built in, not painted on:

- demand has a weekly cycle, a yearly season per service (a January tax peak, a spring
  passport rush, ...), a slow trend, and public holidays from the ``holidays`` package,
  on which offices are closed (and the next day catches up);
- digital take-up grows over the three years; online cases are the completed journeys,
  so a broken online service shows up as fewer cases and a collapsed completion rate;
- each service's back office works its cases first in, first out with a daily capacity
  that follows the season only partly, so backlogs build at peaks, processing times
  stretch and due dates are missed; a few cases get stuck for months;
- callers and visitors queue for rostered staff (rostered from the expected demand, not
  the actual one), so waits and abandonment rise when demand outruns the roster; backlogs
  bring chasing calls;
- satisfaction falls as waits grow and as cases run late;
- incidents are injected and recorded in ``incidents``: online outages, demand surges
  at one office, processing slowdowns in one service, phone-system faults.

All timestamps are generated in local time and stored in UTC.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import polars as pl

from data.demo_world import (
    COUNTRY,
    DEPARTMENTS,
    HOURS,
    OFFICES,
    REGIONS,
    SERVICES,
    SUBDIVISION,
    TIMEZONE,
)
from data.vocabulary import CANCELLED, CHANNELS, DIGITAL_CHANNELS

DAY = 86_400  # seconds
SLOTS = 48  # half-hour intervals a day
YEARS = 3
CLOSURE_HORIZON_DAYS = 400  # closures are known this far beyond the end date

# Weekday shape of demand per channel (Monday first), before normalising to a mean of 1.
WEEKLY = {
    "online": (1.18, 1.12, 1.08, 1.04, 0.95, 0.72, 0.91),
    "mobile_app": (1.10, 1.06, 1.04, 1.02, 0.98, 0.86, 0.94),
    "phone": (1.35, 1.20, 1.12, 1.08, 1.00, 0.30, 0.0),
    "in_person": (1.20, 1.15, 1.10, 1.10, 1.05, 0.45, 0.0),
    "mail": (1.40, 1.20, 1.15, 1.15, 1.10, 0.0, 0.0),
    "other": (1.30, 1.20, 1.15, 1.15, 1.10, 0.0, 0.0),
}

# Share of the assisted (non-digital) cases by channel.
ASSISTED_SPLIT = {"phone": 0.33, "in_person": 0.42, "mail": 0.20, "other": 0.05}
ASSISTED_SPLIT_IN_PERSON_ONLY = {"phone": 0.04, "in_person": 0.90, "mail": 0.06, "other": 0.0}


def _bump(doy: np.ndarray, centre: float, width: float) -> np.ndarray:
    """A Gaussian bump on the circle of the year's days."""
    distance = np.abs(doy - centre)
    distance = np.minimum(distance, 365.25 - distance)
    return np.exp(-0.5 * (distance / width) ** 2)


SEASONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    # Self assessment: the 31 January online deadline, and a smaller 31 October paper one.
    "tax": lambda d: 1 + 2.6 * _bump(d, 24, 9) + 0.5 * _bump(d, 298, 7),
    "flat": lambda d: 1 + 0.08 * np.sin(2 * np.pi * (d - 30) / 365.25),
    "spring": lambda d: 1 + 0.7 * _bump(d, 105, 32),
    "summer": lambda d: 1 + 0.35 * np.sin(2 * np.pi * (d - 100) / 365.25),
    "autumn": lambda d: 1 + 0.8 * _bump(d, 248, 14),
    "winter": lambda d: 1 + 0.35 * _bump(d, 12, 22) + 0.15 * _bump(d, 280, 30),
    "wedding": lambda d: 1 + 0.9 * _bump(d, 160, 40),
}

# Intraday arrival shape per half-hour slot (0 = 00:00-00:30), before opening hours apply.
_hours = np.arange(SLOTS) / 2 + 0.25
INTRADAY = {
    "digital": 0.15 + _bump(_hours * 15.2, 11 * 15.2, 2.5 * 15.2) + 0.9 * _bump(_hours * 15.2, 20 * 15.2, 2.0 * 15.2),
    "phone": 0.2 + _bump(_hours * 15.2, 10.5 * 15.2, 1.6 * 15.2) + 0.75 * _bump(_hours * 15.2, 14.5 * 15.2, 1.8 * 15.2),
    "in_person": 0.4 + _bump(_hours * 15.2, 11 * 15.2, 1.5 * 15.2) + 0.6 * _bump(_hours * 15.2, 14 * 15.2, 1.5 * 15.2),
    "office": np.ones(SLOTS),
}

INCIDENTS_PER_KIND = 4
SLOWDOWN_CAPACITY = 0.25  # a processing slowdown's share of the back office's usual capacity
# After a slowdown the back office catches up (overtime, staff lent by other teams): at
# this share of its usual capacity for RECOVERY_DAYS, which clears the queue 21 days at a
# quarter of capacity leave (about 16 working days of demand) within the 28-day trail
# anomaly quality allows a slowdown (anomalies.quality.TRAIL_DAYS). Without it the usual
# 7% headroom took months: the demo's birth registration stayed at 1% on time from its
# September slowdown to December.
RECOVERY_CAPACITY = 1.8
RECOVERY_DAYS = 28


@dataclass(frozen=True)
class Scenario:
    """What to generate: ``scale`` 1 gives over a million cases in three years."""

    seed: int = 42
    scale: float = 1.0
    end: date | None = None  # the last day of data; default yesterday

    def end_date(self) -> date:
        if self.end is not None:
            return self.end
        return datetime.now(ZoneInfo(TIMEZONE)).date() - timedelta(days=1)


def _progress(message: str, started: float, quiet: bool) -> None:
    if not quiet:
        print(f"  [{time.monotonic() - started:5.1f} s] {message}", flush=True)


class _Calendar:
    """The days of the simulation and what is known about each."""

    def __init__(self, end: date) -> None:
        self.end = end
        self.start = date(end.year - YEARS, end.month, end.day) + timedelta(days=1) if not (end.month == 2 and end.day == 29) else date(end.year - YEARS, 3, 1)
        self.n = (end - self.start).days + 1
        self.day0 = np.datetime64(self.start, "D")
        self.days = self.day0 + np.arange(self.n)
        self.iso_weekday = ((self.days.astype("int64") + 3) % 7) + 1  # 1970-01-01 was a Thursday
        self.doy = np.array([d.timetuple().tm_yday for d in self.days.astype(object)], dtype=float)
        self.t = np.arange(self.n) / max(self.n - 1, 1)  # 0 on the first day, 1 on the last
        years = range(self.start.year, end.year + 3)
        self.holidays = holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=years)
        self.is_holiday = np.array([d in self.holidays for d in self.days.astype(object)])
        self.after_holiday = np.r_[False, self.is_holiday[:-1]] & ~self.is_holiday
        self.working = (self.iso_weekday <= 5) & ~self.is_holiday
        # UTC offset (seconds) of each local day from two days before to the closure horizon
        tz = ZoneInfo(TIMEZONE)
        span = self.n + CLOSURE_HORIZON_DAYS + 4
        self.offset_day0 = self.day0 - 2
        self.offsets = np.array(
            [
                datetime.combine(self.start + timedelta(days=i - 2), datetime.min.time().replace(hour=12), tz)
                .utcoffset()
                .total_seconds()
                for i in range(span)
            ],
            dtype="int64",
        )

    def working_ahead(self) -> np.ndarray:
        """Working days of the calendar and of 800 days beyond it, where Monday to Friday
        are working days (cases still in their checks at the end close out there)."""
        beyond = np.arange(self.n, self.n + 800)
        weekday = ((self.day0.astype("int64") + beyond + 3) % 7) + 1
        return np.r_[self.working, weekday <= 5]

    def add_working_days(self, day_index: np.ndarray, working_days: np.ndarray) -> np.ndarray:
        """The working day ``working_days`` after ``day_index`` (itself moved to the next
        working day first), on ``working_ahead``."""
        working = self.working_ahead()
        worked_before = np.r_[0, np.cumsum(working)]  # working days before each index
        target = worked_before[np.clip(day_index, 0, len(working))] + working_days + 1
        return np.searchsorted(worked_before, target, side="left").clip(0, len(working)) - 1

    def to_utc(self, local_seconds: np.ndarray) -> np.ndarray:
        """Local wall-clock seconds since 1970 to UTC datetime64[us] (the day's offset)."""
        day_index = (local_seconds // DAY - self.offset_day0.astype("int64")).clip(0, len(self.offsets) - 1)
        return ((local_seconds - self.offsets[day_index]) * 1_000_000).astype("datetime64[us]")

    def local_seconds(self, day_index: np.ndarray) -> np.ndarray:
        """Midnight local of each day index, as wall-clock seconds since 1970."""
        return (self.day0.astype("int64") + day_index) * DAY


def _weekly_factor(cal: _Calendar, channel: str) -> np.ndarray:
    shape = np.array(WEEKLY[channel], dtype=float)
    shape = shape / shape.mean()
    return shape[cal.iso_weekday - 1]


def _slot_cdfs(kind: str, profile: np.ndarray) -> np.ndarray:
    """Cumulative slot probabilities per ISO weekday (index 0 unused) within opening hours."""
    cdfs = np.zeros((8, SLOTS))
    for weekday in range(1, 8):
        hours = HOURS[kind].get(weekday)
        weights = profile.copy()
        if hours is None:
            weights[:] = 1.0  # never sampled: a closed day gets no arrivals
        else:
            opens, closes = hours
            mask = (np.arange(SLOTS) >= opens * 2) & (np.arange(SLOTS) < closes * 2)
            weights = np.where(mask, weights, 0.0)
        cdfs[weekday] = np.cumsum(weights) / weights.sum()
    return cdfs


def _sample_times(rng: np.random.Generator, cdfs: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Seconds after local midnight, drawn from the weekday's slot profile."""
    u = rng.random(len(weekday))
    stacked = (cdfs + np.arange(8)[:, None]).ravel()
    slot = np.searchsorted(stacked, weekday + u, side="right") - weekday * SLOTS
    slot = slot.clip(0, SLOTS - 1)
    return (slot * 1800 + rng.random(len(weekday)) * 1800).astype("int64")


def _negative_binomial(rng: np.random.Generator, mean: np.ndarray, shape: float = 40.0) -> np.ndarray:
    """Counts around ``mean`` with more spread than Poisson (a gamma-Poisson mixture)."""
    mean = np.maximum(mean, 0.0)
    rate = rng.gamma(shape, 1.0 / shape, size=mean.shape) * mean
    return rng.poisson(rate)


def _smooth_week(values: np.ndarray) -> np.ndarray:
    """A centred seven-day mean (the level of demand without its weekly shape)."""
    padded = np.pad(values, 3, mode="edge")
    return np.convolve(padded, np.ones(7) / 7, mode="valid")


def _erlang_c(agents: np.ndarray, load: np.ndarray) -> np.ndarray:
    """Probability of waiting in an M/M/N queue (1 where the load reaches the agents)."""
    agents = agents.astype(int)
    blocking = np.ones_like(load)
    for n in range(1, int(agents.max(initial=0)) + 1):
        step = load * blocking / (n + load * blocking)
        blocking = np.where(n <= agents, step, blocking)
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = agents * blocking / (agents - load * (1 - blocking))
    return np.where(load < agents, np.clip(wait, 0.0, 1.0), 1.0)


@dataclass
class _Incident:
    kind: str
    day: int  # first day index
    days: int
    service: int | None = None  # index into SERVICES
    office: int | None = None  # index into OFFICES
    channel: str | None = None


def _plan_incidents(rng: np.random.Generator, cal: _Calendar) -> list[_Incident]:
    """Four of each kind, on ordinary weekdays, well apart, none in the first 16 weeks."""
    eligible = np.flatnonzero(cal.working & ~cal.after_holiday & (np.arange(cal.n) >= 112) & (np.arange(cal.n) < cal.n - 21))
    taken: list[int] = []
    incidents: list[_Incident] = []
    service_centres = [i for i, o in enumerate(OFFICES) if o.kind == "service_centre"]
    contact_centres = [i for i, o in enumerate(OFFICES) if o.kind == "contact_centre"]
    digital_services = [i for i, s in enumerate(SERVICES) if s.digital]
    kinds = ["online_outage", "demand_surge", "processing_slowdown", "phone_fault"] * INCIDENTS_PER_KIND
    for number, kind in enumerate(kinds):
        length = {"online_outage": 1, "demand_surge": 3, "processing_slowdown": 21, "phone_fault": 1}[kind]
        for _ in range(1000):
            day = int(rng.choice(eligible))
            span = range(day - 21, day + length + 21)
            if all(t not in span for t in taken) and cal.working[day : day + length].sum() >= min(length, 3):
                break
        taken.extend(range(day, day + length))
        if kind == "online_outage":
            # Half hit the whole online platform, half one service's online form.
            service = None if number % 8 == 0 else int(rng.choice(digital_services))
            incidents.append(_Incident(kind, day, 1, service=service, channel="online"))
        elif kind == "demand_surge":
            incidents.append(_Incident(kind, day, length, office=int(rng.choice(service_centres)), channel="in_person"))
        elif kind == "processing_slowdown":
            incidents.append(_Incident(kind, day, length, service=int(rng.choice(len(SERVICES)))))
        else:
            incidents.append(_Incident(kind, day, 1, office=int(rng.choice(contact_centres)), channel="phone"))
    return sorted(incidents, key=lambda incident: incident.day)


def generate(scenario: Scenario, *, quiet: bool = False) -> dict[str, pl.DataFrame]:
    """Every table of the data model, as Polars frames in load order."""
    started = time.monotonic()
    rng = np.random.default_rng(scenario.seed)
    cal = _Calendar(scenario.end_date())
    _progress(f"calendar {cal.start} to {cal.end}: {cal.n} days, {int(cal.is_holiday.sum())} public holidays", started, quiet)
    incidents = _plan_incidents(rng, cal)

    tables: dict[str, pl.DataFrame] = {}
    tables.update(_dimensions(cal))

    cases, journeys, demand = _cases_and_journeys(rng, cal, scenario.scale, incidents)
    _progress(f"{cases['case_id'].shape[0]:,} cases and {journeys['journey_id'].shape[0]:,} journeys drawn", started, quiet)
    overdue_by_region, capacity = _process_cases(rng, cal, cases, incidents, demand)
    _progress("back offices worked their queues", started, quiet)
    contacts, rosters = _contacts(rng, cal, scenario.scale, incidents, demand, cases, overdue_by_region)
    _progress(f"{contacts['contact_id'].shape[0]:,} calls and visits queued", started, quiet)
    feedback = _feedback(rng, cal, cases, contacts, journeys, incidents)
    _progress(f"{feedback['feedback_id'].shape[0]:,} ratings given", started, quiet)
    costs = _costs(cal, demand, rosters, journeys, capacity)

    tables["cases"] = _cases_frame(cal, cases)
    tables["contacts"] = _contacts_frame(cal, contacts, _first_contact_resolution(scenario.seed, contacts))
    tables["journeys"] = _journeys_frame(cal, journeys)
    tables["feedback"] = _feedback_frame(cal, feedback)
    tables["costs"] = costs
    tables["incidents"] = _incidents_frame(cal, incidents)
    _progress("tables assembled", started, quiet)
    return tables


# --------------------------------------------------------------------------- dimensions


def _dimensions(cal: _Calendar) -> dict[str, pl.DataFrame]:
    departments = pl.DataFrame(DEPARTMENTS, schema=["department_id", "name"], orient="row")
    services = pl.DataFrame(
        {
            "service_id": [s.service_id for s in SERVICES],
            "department_id": [s.department_id for s in SERVICES],
            "name": [s.name for s in SERVICES],
            "sla_days": pl.Series([s.sla_days for s in SERVICES], dtype=pl.Int32),
            "digital": [s.digital for s in SERVICES],
        }
    )
    offices = pl.DataFrame(
        {
            "office_id": [o.office_id for o in OFFICES],
            "name": [o.name for o in OFFICES],
            "region": [dict((r[0], r[1]) for r in REGIONS)[o.region] for o in OFFICES],
            "kind": [o.kind for o in OFFICES],
            "timezone": [TIMEZONE] * len(OFFICES),
        }
    )
    hours_rows = []
    for office in OFFICES:
        for weekday, (opens, closes) in HOURS[office.kind].items():
            hours_rows.append(
                (
                    office.office_id,
                    weekday,
                    timedelta(hours=opens),
                    timedelta(hours=closes),
                )
            )
    office_hours = pl.DataFrame(
        hours_rows, schema=["office_id", "weekday", "opens_at", "closes_at"], orient="row"
    ).with_columns(
        pl.col("weekday").cast(pl.Int16),
        # 24:00 has no Polars Time; the loader writes it as text.
        pl.col("opens_at").map_elements(_hhmmss, return_dtype=pl.String),
        pl.col("closes_at").map_elements(_hhmmss, return_dtype=pl.String),
    )
    closure_rows = []
    last = cal.end + timedelta(days=CLOSURE_HORIZON_DAYS)
    for day, name in sorted(cal.holidays.items()):
        if not (cal.start <= day <= last):
            continue
        for office in OFFICES:
            if office.kind != "online" and day.isoweekday() in HOURS[office.kind]:
                closure_rows.append((office.office_id, day, f"Public holiday: {name}"))
    office_closures = pl.DataFrame(closure_rows, schema=["office_id", "closed_on", "reason"], orient="row")
    return {
        "departments": departments,
        "services": services,
        "offices": offices,
        "office_hours": office_hours,
        "office_closures": office_closures,
    }


def _hhmmss(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# --------------------------------------------------------------------------- demand


def _region_of(office_index: int) -> int:
    return [r[0] for r in REGIONS].index(OFFICES[office_index].region)


def _offices_of(region: int, kind: str) -> list[int]:
    return [i for i, o in enumerate(OFFICES) if o.region == REGIONS[region][0] and o.kind == kind]


@dataclass
class _Demand:
    """Expected daily demand, kept for rosters, calls and costs."""

    expected: np.ndarray  # [service, region, channel, day] cases, no noise, no incidents
    completion: np.ndarray  # [service, web or app, day] share of started journeys that complete
    surge: np.ndarray  # [office, day] multiplier of walk-in demand


def _cases_and_journeys(rng: np.random.Generator, cal: _Calendar, scale: float, incidents: list[_Incident]):
    n_s, n_r, n_c = len(SERVICES), len(REGIONS), len(CHANNELS)
    expected = np.zeros((n_s, n_r, n_c, cal.n))
    weekly = {c: _weekly_factor(cal, c) for c in CHANNELS}
    for s, spec in enumerate(SERVICES):
        season = SEASONS[spec.season](cal.doy)
        season = season / SEASONS[spec.season](np.arange(1, 366, dtype=float)).mean()
        christmas = 1 - 0.35 * _bump(cal.doy, 359, 4)
        trend = 1 + 0.03 * YEARS * cal.t
        base = spec.daily_volume * scale * season * christmas * trend
        if spec.digital:
            digital_share = spec.digital_start + (spec.digital_end - spec.digital_start) * (3 * cal.t**2 - 2 * cal.t**3)
            app_share = 0.15 + 0.25 * cal.t
            split = ASSISTED_SPLIT
        else:
            digital_share = np.zeros(cal.n)
            app_share = np.zeros(cal.n)
            split = ASSISTED_SPLIT_IN_PERSON_ONLY if spec.service_id in ("birth_registration", "marriage_notice") else ASSISTED_SPLIT
        for c, channel in enumerate(CHANNELS):
            if channel == "online":
                share = digital_share * (1 - app_share)
                holiday = np.where(cal.is_holiday, 0.55, 1.0)
            elif channel == "mobile_app":
                share = digital_share * app_share
                holiday = np.where(cal.is_holiday, 0.65, 1.0)
            else:
                share = (1 - digital_share) * split[channel]
                holiday = np.where(cal.is_holiday, 0.0, np.where(cal.after_holiday, 1.3, 1.0))
            for r, (_, _, weight) in enumerate(REGIONS):
                expected[s, r, c] = base * weight * share * weekly[channel] * holiday

    # Share of started journeys that complete, per [service, web or app, day].
    completion = np.zeros((n_s, 2, cal.n))
    for s, spec in enumerate(SERVICES):
        completion[s] = (0.70 + 0.10 * cal.t) * (1.0 if spec.service_id != "housing_benefit" else 0.85)
    surge = np.ones((len(OFFICES), cal.n))
    for incident in incidents:
        span = slice(incident.day, incident.day + incident.days)
        if incident.kind == "online_outage":
            affected = [incident.service] if incident.service is not None else [i for i, s in enumerate(SERVICES) if s.digital]
            for s in affected:
                completion[s, 0, span] *= 0.12  # the web service fails; the app is separate
        elif incident.kind == "demand_surge":
            surge[incident.office, span] = 2.6
    demand = _Demand(expected, completion, surge)

    # Draw counts. Walk-in demand at a surging office is multiplied at the office below.
    counts = _negative_binomial(rng, expected)  # digital counts are redrawn from journeys
    c_online, c_app = CHANNELS.index("online"), CHANNELS.index("mobile_app")
    usual_completion = np.array([(0.70 + 0.10 * cal.t) * (1.0 if s.service_id != "housing_benefit" else 0.85) for s in SERVICES])
    starts = np.zeros((n_s, n_r, 2, cal.n), dtype=np.int64)
    completed = np.zeros_like(starts)
    for k, c in enumerate((c_online, c_app)):
        starts[:, :, k] = _negative_binomial(rng, expected[:, :, c] / usual_completion[:, None, :])
        completed[:, :, k] = rng.binomial(starts[:, :, k], np.clip(completion[:, None, k, :], 0, 1))
        counts[:, :, c] = completed[:, :, k]

    # Expand counts into cases: service, region, channel, day, office.
    cells = np.argwhere(counts > 0)
    n_per_cell = counts[counts > 0]
    s_idx = np.repeat(cells[:, 0], n_per_cell)
    r_idx = np.repeat(cells[:, 1], n_per_cell)
    c_idx = np.repeat(cells[:, 2], n_per_cell)
    d_idx = np.repeat(cells[:, 3], n_per_cell)
    office = np.zeros(len(s_idx), dtype=np.int64)
    for r in range(n_r):
        online_office = _offices_of(r, "online")[0]
        contact_office = _offices_of(r, "contact_centre")[0]
        centres = _offices_of(r, "service_centre")
        shares = np.array([OFFICES[i].share for i in centres])
        in_region = r_idx == r
        office[in_region & np.isin(c_idx, [c_online, c_app])] = online_office
        office[in_region & (c_idx == CHANNELS.index("phone"))] = contact_office
        walk = in_region & np.isin(c_idx, [CHANNELS.index(c) for c in ("in_person", "mail", "other")])
        office[walk] = np.array(centres)[rng.choice(len(centres), size=int(walk.sum()), p=shares / shares.sum())]
    # A demand surge: extra walk-in cases at the office on the surge days.
    extra = []
    for o in range(len(OFFICES)):
        for d in np.flatnonzero(surge[o] > 1):
            walk_in = np.flatnonzero((office == o) & (d_idx == d) & (c_idx == CHANNELS.index("in_person")))
            n_extra = int(round(len(walk_in) * (surge[o, d] - 1)))
            if n_extra and len(walk_in):
                extra.append(rng.choice(walk_in, size=n_extra, replace=True))
    if extra:
        picked = np.concatenate(extra)
        s_idx, r_idx, c_idx, d_idx, office = (np.r_[a, a[picked]] for a in (s_idx, r_idx, c_idx, d_idx, office))

    # Times of day: digital around the clock, the rest in opening hours.
    weekday = cal.iso_weekday[d_idx]
    seconds = np.zeros(len(s_idx), dtype=np.int64)
    groups = {
        "digital": (np.isin(c_idx, [c_online, c_app]), _slot_cdfs("online", INTRADAY["digital"])),
        "phone": (c_idx == CHANNELS.index("phone"), _slot_cdfs("contact_centre", INTRADAY["phone"])),
        "in_person": (c_idx == CHANNELS.index("in_person"), _slot_cdfs("service_centre", INTRADAY["in_person"])),
        "office": (np.isin(c_idx, [CHANNELS.index("mail"), CHANNELS.index("other")]), _slot_cdfs("service_centre", INTRADAY["office"])),
    }
    for mask, cdfs in groups.values():
        seconds[mask] = _sample_times(rng, cdfs, weekday[mask])
    submitted_local = cal.local_seconds(d_idx) + seconds

    # Journeys: the completed ones are the digital cases; the rest were abandoned.
    digital_case = np.isin(c_idx, [c_online, c_app])
    journeys = _journeys(rng, cal, starts, completed, s_idx, r_idx, c_idx, submitted_local, digital_case)

    order = np.argsort(submitted_local, kind="stable")
    cases = {
        "case_id": np.arange(1, len(order) + 1, dtype=np.int64),
        "service": s_idx[order],
        "region": r_idx[order],
        "channel": c_idx[order],
        "day": d_idx[order],
        "office": office[order],
        "submitted_local": submitted_local[order],
    }
    return cases, journeys, demand


def _journeys(rng, cal, starts, completed, s_idx, r_idx, c_idx, submitted_local, digital_case):
    """Online sessions: one completed journey per digital case, plus the abandoned ones."""
    c_online = CHANNELS.index("online")
    n_complete = int(digital_case.sum())
    complete_service = s_idx[digital_case]
    complete_app = c_idx[digital_case] != c_online
    duration = np.exp(rng.normal(np.log(14 * 60), 0.6, n_complete)).astype(np.int64) + 60
    complete_end = submitted_local[digital_case]
    complete_start = complete_end - duration

    abandoned = starts - completed  # [s, r, k, d]
    cells = np.argwhere(abandoned > 0)
    n_per_cell = abandoned[abandoned > 0]
    a_service = np.repeat(cells[:, 0], n_per_cell)
    a_app = np.repeat(cells[:, 2], n_per_cell) == 1
    a_day = np.repeat(cells[:, 3], n_per_cell)
    a_start = cal.local_seconds(a_day) + _sample_times(rng, _slot_cdfs("online", INTRADAY["digital"]), cal.iso_weekday[a_day])

    # A few completions resumed a session the user had left earlier that day or the day before.
    resumed = rng.random(n_complete) < 0.06
    n_resumed = int(resumed.sum())
    first_start = complete_start[resumed] - rng.integers(3600, 36 * 3600, n_resumed)

    service = np.r_[complete_service, a_service, complete_service[resumed]]
    app = np.r_[complete_app, a_app, complete_app[resumed]]
    start = np.r_[complete_start, a_start, first_start]
    end = np.r_[complete_end, np.full(len(a_start), -1), np.full(n_resumed, -1)]
    kind = np.r_[np.where(resumed, 2, 0), np.ones(len(a_start), dtype=np.int64), np.full(n_resumed, 3)]
    # kind: 0 completed, 1 abandoned, 2 completed resuming an earlier session, 3 that earlier session
    order = np.argsort(start, kind="stable")
    journey_id = np.empty(len(order), dtype=np.int64)
    journey_id[order] = np.arange(1, len(order) + 1)
    resumed_from = np.full(len(order), -1, dtype=np.int64)
    resumed_rows = np.flatnonzero(kind == 2)
    earlier_rows = len(complete_service) + len(a_service) + np.arange(n_resumed)
    resumed_from[resumed_rows] = journey_id[earlier_rows]
    device_roll = rng.random(len(order))
    device = np.where(app, 3, np.where(device_roll < 0.62, 0, np.where(device_roll < 0.93, 1, 2)))
    return {
        "journey_id": journey_id[order],
        "service": service[order],
        "start_local": start[order],
        "end_local": end[order],
        "device": device[order],
        "resumed_from": resumed_from[order],
        "app": app[order],
    }


# --------------------------------------------------------------------------- processing


def _process_cases(rng, cal, cases, incidents, demand) -> tuple[np.ndarray, np.ndarray]:
    """Work each (service, region) queue first in, first out.

    Returns the overdue open cases per [region, day] (they bring chasing calls) and the
    back-office capacity in cases per [service * regions + region, day] (it is costed)."""
    n = len(cases["case_id"])
    n_s, n_r = len(SERVICES), len(REGIONS)
    # Administrative closes (duplicates noted and closed at once) skip the queue.
    admin = rng.random(n) < 0.012
    entry = cases["day"] + 1  # work starts the day after submission
    queue = cases["service"] * n_r + cases["region"]
    n_q = n_s * n_r
    arrivals = np.zeros((n_q, cal.n + 1), dtype=np.int64)
    np.add.at(arrivals, (queue[~admin], np.minimum(entry[~admin], cal.n)), 1)
    arrivals = arrivals[:, : cal.n]  # cases entering after the last day are simply open

    capacity = np.zeros((n_q, cal.n))
    slowdown = np.ones((n_s, cal.n))
    for incident in incidents:
        if incident.kind == "processing_slowdown":
            end = incident.day + incident.days
            recovery = slowdown[incident.service, end : end + RECOVERY_DAYS]
            slowdown[incident.service, end : end + RECOVERY_DAYS] = np.maximum(recovery, RECOVERY_CAPACITY)
    for incident in incidents:  # a slowdown wins over the catch-up of an earlier one
        if incident.kind == "processing_slowdown":
            slowdown[incident.service, incident.day : incident.day + incident.days] = SLOWDOWN_CAPACITY
    august = 1 - 0.12 * _bump(cal.doy, 225, 12)  # summer leave
    # Staff are planned from the expected demand's level and trend, and follow its
    # season only partly: peaks outrun them.
    working_share = cal.working.mean() * 7
    for s, spec in enumerate(SERVICES):
        season = SEASONS[spec.season](cal.doy)
        season = season / SEASONS[spec.season](np.arange(1, 366, dtype=float)).mean()
        for r in range(n_r):
            q = s * n_r + r
            level = _smooth_week(demand.expected[s, r].sum(axis=0)) / season
            per_working_day = level * 7 / working_share
            capacity[q] = per_working_day * 1.07 * (1 + 0.8 * (season - 1)) * august * slowdown[s] * cal.working
    # Cumulative departures: D[d] = min(A[d], D[d-1] + capacity[d])
    cumulative_arrivals = np.cumsum(arrivals, axis=1)
    departures = np.zeros_like(capacity)
    served_so_far = np.zeros(n_q)
    for d in range(cal.n):
        served_so_far = np.minimum(cumulative_arrivals[:, d], served_so_far + capacity[:, d])
        departures[:, d] = served_so_far
    departures = np.floor(departures + 1e-9).astype(np.int64)

    # Cases are in submission order, so within a queue the k-th regular case is served on
    # the first day on which cumulative departures exceed k.
    regular = np.flatnonzero(~admin)
    by_queue = regular[np.argsort(queue[regular], kind="stable")]
    bounds = np.searchsorted(queue[by_queue], np.arange(n_q + 1))
    served_day = entry.copy()
    for q in range(n_q):
        rows = by_queue[bounds[q] : bounds[q + 1]]
        served_day[rows] = np.searchsorted(departures[q], np.arange(len(rows)), side="right")

    # After the queue, the checks a case goes through take a while (median a quarter of
    # the service standard, in working days); some wait for the applicant's documents; a
    # few get stuck for months.
    sla_days = np.array([s.sla_days for s in SERVICES], dtype=float)[cases["service"]]
    pipeline = np.exp(rng.normal(np.log(0.3 * sla_days * 5 / 7), 0.5))
    waiting = rng.random(n) < 0.12
    pipeline = pipeline + np.where(waiting, rng.exponential(0.2 * sla_days), 0.0)
    stuck = rng.random(n) < 0.006
    pipeline = pipeline + np.where(stuck, rng.integers(40, 360, n), 0)
    close_day = cal.add_working_days(served_day, np.floor(pipeline).astype(np.int64))
    close_day = _slowed_checks(cal, incidents, cases["service"], served_day, np.floor(pipeline), close_day, admin)
    close_local = cal.local_seconds(close_day) + rng.integers(9 * 3600, 17 * 3600 + 1800, n)
    submitted = cases["submitted_local"]
    close_local = np.where(admin, submitted + rng.integers(15, 59, n), np.maximum(close_local, submitted + 600))
    end_of_data = cal.local_seconds(np.array([cal.n]))[0]
    is_closed = (close_local < end_of_data) & (served_day < cal.n) | admin

    sla = np.array([s.sla_days for s in SERVICES])[cases["service"]]
    due_local = submitted + sla * DAY
    has_due = np.array([s.has_due_dates for s in SERVICES])[cases["service"]]
    outcome_roll = rng.random(n)
    outcome = np.where(admin, 3, np.where(outcome_roll < 0.84, 0, np.where(outcome_roll < 0.95, 1, 2)))
    cases.update(
        closed=is_closed,
        close_local=np.where(is_closed, close_local, -1),
        due_local=np.where(has_due, due_local, -1),
        outcome=outcome,
        admin=admin,
    )

    # Overdue open cases per region and day: open at the day's end and past due.
    overdue = np.zeros((n_r, cal.n + 1))
    due_day = (due_local // DAY - cal.day0.astype("int64")).clip(0, cal.n)
    close_day = np.where(is_closed, (close_local // DAY - cal.day0.astype("int64")).clip(0, cal.n), cal.n)
    late = close_day > due_day
    np.add.at(overdue, (cases["region"][late], due_day[late]), 1)
    np.add.at(overdue, (cases["region"][late], close_day[late]), -1)
    return np.cumsum(overdue, axis=1)[:, : cal.n], capacity


def _slowed_checks(cal, incidents, service, served_day, work, close_day, admin) -> np.ndarray:
    """A processing slowdown slows the checks of cases already in them too, not only the
    queue in front of them: on each working day of the incident a case's checks advance
    a quarter of a day (the back office's share of capacity). So closures fall on the
    incident's first day, as they would in a real back office, and recover after it.

    On a clock that counts 1 a working day (0.25 inside the incident, 0 on days off),
    a case closes on the day its (work + 1)-th unit falls, exactly as add_working_days
    counts outside incidents; cases whose checks never touch the incident keep their day.
    """
    slowed = [incident for incident in incidents if incident.kind == "processing_slowdown"]
    if not slowed:
        return close_day
    working = cal.working_ahead().astype(float)
    close_day = close_day.copy()
    for incident in slowed:
        rate = working.copy()
        rate[incident.day : incident.day + incident.days] *= SLOWDOWN_CAPACITY
        clock = np.r_[0.0, np.cumsum(rate)]  # work done before each day
        touched = (service == incident.service) & ~admin & (close_day >= incident.day) & (served_day < incident.day + incident.days)
        start = np.clip(served_day[touched], 0, len(rate))
        target = clock[start] + work[touched] + 1  # the unit of work the case closes in
        close_day[touched] = np.searchsorted(clock, target, side="left").clip(0, len(rate)) - 1
    return close_day


# --------------------------------------------------------------------------- contacts


def _contacts(rng, cal, scale, incidents, demand, cases, overdue_by_region):
    """Calls to contact centres and visits to service centres, queued for rostered staff."""
    c_phone = CHANNELS.index("phone")
    c_walk = CHANNELS.index("in_person")
    expected = demand.expected
    phone_weekly = _weekly_factor(cal, "phone")
    open_phone = (cal.iso_weekday <= 6) & ~cal.is_holiday
    phone_cdfs = _slot_cdfs("contact_centre", INTRADAY["phone"])
    walk_cdfs = _slot_cdfs("service_centre", INTRADAY["in_person"])
    all_expected = expected.sum(axis=2)  # [s, r, d] every channel

    records = []  # (office, service, channel, day, second-of-day)
    rosters = {}  # office -> [day, slot] agents
    for o, office in enumerate(OFFICES):
        r = _region_of(o)
        if office.kind == "contact_centre":
            # Enquiries follow all demand in the region; chasing calls follow the overdue backlog.
            mix = all_expected[:, r, :]
            planned = 0.42 * _smooth_week(mix.sum(axis=0)) * phone_weekly * open_phone
            chasing = 0.004 * overdue_by_region[r] * phone_weekly * open_phone
            actual = _negative_binomial(rng, planned + chasing)
            service_share = mix / np.maximum(mix.sum(axis=0), 1e-9)
            cdfs, channel, aht, cover = phone_cdfs, c_phone, 300.0, 1.0
        elif office.kind == "service_centre":
            mix = expected[:, r, c_walk, :] * office.share
            planned = 1.5 * mix.sum(axis=0)
            actual = _negative_binomial(rng, planned * demand.surge[o])
            service_share = mix / np.maximum(mix.sum(axis=0), 1e-9)
            cdfs, channel, aht, cover = walk_cdfs, c_walk, 720.0, 1.0
        else:
            continue
        days = np.repeat(np.arange(cal.n), actual)
        u = rng.random(len(days))
        cumulative = np.cumsum(service_share, axis=0)  # [s, d]
        services = (u[None, :] > cumulative[:, days]).sum(axis=0).clip(0, len(SERVICES) - 1)
        seconds = _sample_times(rng, cdfs, cal.iso_weekday[days])
        records.append((np.full(len(days), o), services, np.full(len(days), channel), days, seconds))
        # Roster per slot from the planned (expected) demand: square-root staffing.
        profile = np.diff(np.c_[np.zeros(8), cdfs], axis=1)  # [weekday, slot] share of the day
        planned_slot = planned[:, None] * profile[cal.iso_weekday]  # [d, slot]
        load = planned_slot * aht / 1800
        agents = np.where(planned_slot > 0.05, np.ceil(load + cover * np.sqrt(load) + 0.3), 0)
        rosters[o] = (agents, aht)

    office = np.concatenate([r[0] for r in records])
    service = np.concatenate([r[1] for r in records])
    channel = np.concatenate([r[2] for r in records])
    day = np.concatenate([r[3] for r in records])
    second = np.concatenate([r[4] for r in records])
    slot = second // 1800
    n = len(office)

    # Queue per (office, day, slot): Erlang C waits for the rostered agents.
    key = (office * cal.n + day) * SLOTS + slot
    unique_keys, inverse, arrivals = np.unique(key, return_inverse=True, return_counts=True)
    k_office = unique_keys // (cal.n * SLOTS)
    k_day = unique_keys // SLOTS % cal.n
    k_slot = unique_keys % SLOTS
    agents = np.zeros(len(unique_keys))
    handle = np.zeros(len(unique_keys))
    for o, (roster, aht) in rosters.items():
        mask = k_office == o
        agents[mask] = np.maximum(roster[k_day[mask], k_slot[mask]], 1)
        handle[mask] = aht
    load = arrivals * handle / 1800
    p_wait = _erlang_c(agents, load)
    utilisation = load / agents
    # The mean wait of those who wait: AHT / (N - A) below saturation, bounded near it,
    # plus the queue that builds over the half hour when arrivals exceed what staff serve.
    mean_wait = handle / np.maximum(agents - load, 0.3 * np.sqrt(agents)) + np.maximum(utilisation - 1, 0) * 900
    mean_wait = np.minimum(mean_wait, 2.5 * 3600)
    is_phone = channel == c_phone
    waits = np.where(rng.random(n) < p_wait[inverse], rng.exponential(1.0, n) * mean_wait[inverse], 0.0)
    # Ringing, or walking from the ticket machine to the counter, takes a moment too.
    waits = waits + np.where(is_phone, rng.uniform(3, 12, n), rng.uniform(20, 150, n))
    patience = rng.exponential(np.where(is_phone, 300.0, 60 * 60.0))
    service_aht = np.array([s.phone_aht_seconds for s in SERVICES])[service]
    handle_time = np.exp(rng.normal(np.log(np.where(is_phone, service_aht, 700.0)) - 0.125, 0.5))
    abandoned = waits > patience
    # A phone-system fault drops a share of the day's calls after a short wait.
    for incident in incidents:
        if incident.kind == "phone_fault":
            hit = (office == incident.office) & (day == incident.day) & (rng.random(n) < 0.65)
            abandoned = abandoned | hit
            patience = np.where(hit, rng.uniform(8, 60, n), patience)
    arrived_local = cal.local_seconds(day) + second
    order = np.argsort(arrived_local, kind="stable")
    return (
        {
            "contact_id": np.arange(1, n + 1, dtype=np.int64),
            "office": office[order],
            "service": service[order],
            "channel": channel[order],
            "day": day[order],
            "arrived_local": arrived_local[order],
            "wait": np.round(waits[order]).astype(np.int64),
            "patience": np.round(patience[order]).astype(np.int64),
            "handle": np.round(handle_time[order]).astype(np.int64) + 20,
            "abandoned": abandoned[order],
            "unknown_service": rng.random(n) < 0.04,
        },
        rosters,
    )


# --------------------------------------------------------------------------- feedback


def _feedback(rng, cal, cases, contacts, journeys, incidents):
    """Ratings 1-5: lower when a case ran late, when the wait was long, when a journey failed."""
    end_of_data = cal.local_seconds(np.array([cal.n]))[0]
    parts = []
    # After a case closes (not the administrative closes).
    closed = cases["closed"] & ~cases["admin"]
    n = len(closed)
    digital = np.isin(cases["channel"], [CHANNELS.index(c) for c in DIGITAL_CHANNELS])
    asks = closed & (rng.random(n) < np.where(digital, 0.05, 0.08))
    sla = np.array([s.sla_days for s in SERVICES])[cases["service"]] * DAY
    elapsed = (cases["close_local"] - cases["submitted_local"]) / sla
    latent = 4.35 - 0.9 * (elapsed > 1) - 0.35 * np.clip(elapsed, 0, 2) + rng.normal(0, 0.85, n)
    when = cases["close_local"] + (rng.exponential(0.8, n) * DAY).astype(np.int64)
    parts.append((cases["service"][asks], cases["office"][asks], cases["channel"][asks], when[asks], latent[asks]))
    # After a call or visit.
    n = len(contacts["contact_id"])
    answered = ~contacts["abandoned"]
    asks = rng.random(n) < np.where(answered, 0.06, 0.015)
    wait_minutes = contacts["wait"] / 60
    latent = np.where(
        answered,
        4.45 - 0.045 * np.clip(wait_minutes - 1, 0, 45) + rng.normal(0, 0.8, n),
        2.0 + rng.normal(0, 0.9, n),
    )
    when = contacts["arrived_local"] + contacts["wait"] + contacts["handle"] + 60
    parts.append((contacts["service"][asks], contacts["office"][asks], contacts["channel"][asks], when[asks], latent[asks]))
    # At the end of an online journey (or on giving up).
    n = len(journeys["journey_id"])
    completed = journeys["end_local"] >= 0
    asks = rng.random(n) < np.where(completed, 0.12, 0.02)
    latent = np.where(completed, 4.2 + rng.normal(0, 0.8, n), 1.8 + rng.normal(0, 0.9, n))
    when = np.where(completed, journeys["end_local"], journeys["start_local"] + 900) + 30
    online_office = np.array([_offices_of(r, "online")[0] for r in range(len(REGIONS))])
    region = rng.choice(len(REGIONS), size=n, p=[w for _, _, w in REGIONS])
    channel = np.where(journeys["app"], CHANNELS.index("mobile_app"), CHANNELS.index("online"))
    parts.append((journeys["service"][asks], online_office[region][asks], channel[asks], when[asks], latent[asks]))

    service = np.concatenate([p[0] for p in parts])
    office = np.concatenate([p[1] for p in parts])
    channel = np.concatenate([p[2] for p in parts])
    when = np.concatenate([p[3] for p in parts])
    rating = np.clip(np.round(np.concatenate([p[4] for p in parts])), 1, 5).astype(np.int64)
    keep = when < end_of_data
    order = np.argsort(when[keep], kind="stable")
    # Online ratings are not tied to an office a tenth of the time (anonymous survey).
    no_office = (rng.random(int(keep.sum())) < 0.1) & np.isin(channel[keep], [0, 1])
    return {
        "feedback_id": np.arange(1, int(keep.sum()) + 1, dtype=np.int64),
        "service": service[keep][order],
        "office": np.where(no_office, -1, office[keep])[order],
        "channel": channel[keep][order],
        "submitted_local": when[keep][order],
        "rating": rating[keep][order],
    }


# --------------------------------------------------------------------------- costs


def _costs(cal, demand, rosters, journeys, capacity) -> pl.DataFrame:
    """Daily staff hours and cost per office and service (shrinkage 30% on top of rosters)."""
    shrinkage = 0.30
    rows = {"office_id": [], "service_id": [], "channel": [], "day": [], "staff_hours": [], "cost": []}
    expected = demand.expected
    n_s = len(SERVICES)

    def add(o: int, hours: np.ndarray, cost: np.ndarray, channel: str | None = None) -> None:  # hours, cost: [s, d]
        s_index, d_index = np.nonzero((hours > 0) | (cost > 0))
        rows["office_id"].append(np.full(len(s_index), o))
        rows["channel"].append(np.full(len(s_index), -1 if channel is None else CHANNELS.index(channel)))
        rows["service_id"].append(s_index)
        rows["day"].append(d_index)
        rows["staff_hours"].append(hours[s_index, d_index])
        rows["cost"].append(cost[s_index, d_index])

    journeys_per_day = np.zeros((n_s, cal.n))
    start_day = (journeys["start_local"] // DAY - cal.day0.astype("int64")).clip(0, cal.n - 1)
    np.add.at(journeys_per_day, (journeys["service"], start_day), 1)
    for o, office in enumerate(OFFICES):
        r = _region_of(o)
        if office.kind in ("contact_centre", "service_centre"):
            agents, _ = rosters[o]
            paid = agents.sum(axis=1) * 0.5 / (1 - shrinkage)  # [d]
            if office.kind == "contact_centre":
                mix = expected[:, r, :, :].sum(axis=1)
                rate = 27.5
            else:
                mix = expected[:, r, CHANNELS.index("in_person"), :]
                rate = 31.0
            share = mix / np.maximum(mix.sum(axis=0), 1e-9)
            hours = paid[None, :] * share
            # The rostered phone agents or counter staff, by the channel they serve.
            add(o, hours, hours * rate, "phone" if office.kind == "contact_centre" else "in_person")
            if office.kind == "service_centre":
                # The region's back office works from its service centres: its rostered
                # capacity (cases a day) times the staff hours a case takes. No channel:
                # it processes cases from every channel.
                work = np.array([s.work_hours for s in SERVICES])[:, None]
                region_capacity = capacity[np.arange(n_s) * len(REGIONS) + r]
                back_office = region_capacity * work * office.share / (1 - shrinkage)
                add(o, back_office, back_office * rate)
        else:
            share_of_region = [w for _, _, w in REGIONS][r]
            digital = np.array([s.digital for s in SERVICES])[:, None]
            hours = journeys_per_day * share_of_region * 0.004 * digital
            platform = np.where(digital, 160.0, 0.0) * np.ones((1, cal.n)) * share_of_region
            add(o, hours, hours * 35.0 + platform + journeys_per_day * share_of_region * 0.12)

    day = np.concatenate(rows["day"])
    dates = (cal.day0 + day).astype("datetime64[D]")
    frame = pl.DataFrame(
        {
            "office_id": np.array([o.office_id for o in OFFICES])[np.concatenate(rows["office_id"])],
            "service_id": np.array([s.service_id for s in SERVICES])[np.concatenate(rows["service_id"])],
            "channel": _ids(np.concatenate(rows["channel"]), list(CHANNELS)),
            "period_start": dates,
            "period_end": dates,
            "staff_hours": np.round(np.concatenate(rows["staff_hours"]), 2),
            "cost": np.round(np.concatenate(rows["cost"]), 2),
        }
    ).sort("period_start", "office_id", "service_id", "channel", nulls_last=True)
    return frame.select(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("cost_id"),
        pl.all(),
    )


# --------------------------------------------------------------------------- frames


def _ids(values: np.ndarray, names: list[str], missing: int = -1) -> pl.Series:
    lookup = pl.Series(names + [None], dtype=pl.String)
    return lookup.gather(np.where(values == missing, len(names), values))


def _cases_frame(cal: _Calendar, cases) -> pl.DataFrame:
    services = [s.service_id for s in SERVICES]
    offices = [o.office_id for o in OFFICES]
    outcomes = np.array(["approved", "rejected", "withdrawn", "duplicate"], dtype=object)
    submitted = cal.to_utc(cases["submitted_local"])
    closed = cal.to_utc(np.maximum(cases["close_local"], 0))
    due = cal.to_utc(np.maximum(cases["due_local"], 0))
    frame = pl.DataFrame(
        {
            "case_id": cases["case_id"],
            "service_id": _ids(cases["service"], services),
            "office_id": _ids(cases["office"], offices),
            "channel": _ids(cases["channel"], list(CHANNELS)),
            "submitted_at": submitted,
            "due_at": due,
            "closed_at": np.maximum(closed, submitted),
            "is_closed": cases["closed"],
            "has_due": cases["due_local"] >= 0,
            "outcome": outcomes[cases["outcome"]],
        }
    )
    return frame.select(
        "case_id",
        "service_id",
        "office_id",
        "channel",
        "submitted_at",
        pl.when("has_due").then("due_at").alias("due_at"),
        pl.when("is_closed").then("closed_at").alias("closed_at"),
        # a withdrawn application ended without being handled: cancelled, not closed
        pl.when(~pl.col("is_closed")).then(pl.lit("open"))
        .when(pl.col("outcome") == "withdrawn").then(pl.lit(CANCELLED))
        .otherwise(pl.lit("closed")).alias("status"),
        pl.when("is_closed").then("outcome").alias("outcome"),
    )


def _first_contact_resolution(seed: int, contacts) -> np.ndarray:
    """Whether each answered call was settled in that call (None for visits and abandoned
    calls, and for the 3% of answered calls whose outcome the agent did not record). About
    four in five are; fewer after a long wait (the caller is short of time, the agent under
    pressure) and for services with long calls (complex matters). A random stream of its
    own, so that every other table stays as it was for a seed."""
    rng = np.random.default_rng([seed, 1])
    n = len(contacts["contact_id"])
    aht = np.array([s.phone_aht_seconds for s in SERVICES], dtype=float)[contacts["service"]]
    chance = 0.84 - 0.10 * (contacts["wait"] > 120) - 0.08 * (aht > np.median(aht))
    resolved = rng.random(n) < chance
    recorded = rng.random(n) >= 0.03
    answered_call = (contacts["channel"] == CHANNELS.index("phone")) & ~contacts["abandoned"]
    return np.where(answered_call & recorded, resolved, None)


def _contacts_frame(cal: _Calendar, contacts, resolved: np.ndarray) -> pl.DataFrame:
    arrived = cal.to_utc(contacts["arrived_local"])
    wait = contacts["wait"].astype("timedelta64[s]")
    answered = arrived + wait
    ended = np.where(
        contacts["abandoned"],
        arrived + contacts["patience"].astype("timedelta64[s]"),
        answered + contacts["handle"].astype("timedelta64[s]"),
    )
    frame = pl.DataFrame(
        {
            "contact_id": contacts["contact_id"],
            "office_id": _ids(contacts["office"], [o.office_id for o in OFFICES]),
            "service_id": _ids(np.where(contacts["unknown_service"], -1, contacts["service"]), [s.service_id for s in SERVICES]),
            "channel": _ids(contacts["channel"], list(CHANNELS)),
            "arrived_at": arrived,
            "answered_at": answered,
            "ended_at": ended,
            "abandoned": contacts["abandoned"],
            "resolved_first_contact": pl.Series(resolved.tolist(), dtype=pl.Boolean),
        }
    )
    return frame.with_columns(pl.when(~pl.col("abandoned")).then("answered_at").alias("answered_at"))


def _journeys_frame(cal: _Calendar, journeys) -> pl.DataFrame:
    devices = np.array(["desktop", "mobile", "tablet", "app"], dtype=object)
    started = cal.to_utc(journeys["start_local"])
    completed = cal.to_utc(np.maximum(journeys["end_local"], 0))
    frame = pl.DataFrame(
        {
            "journey_id": journeys["journey_id"],
            "service_id": _ids(journeys["service"], [s.service_id for s in SERVICES]),
            "started_at": started,
            "completed_at": np.maximum(completed, started),
            "done": journeys["end_local"] >= 0,
            "device": devices[journeys["device"]],
            "resumed_from": journeys["resumed_from"],
        }
    )
    return frame.select(
        "journey_id",
        "service_id",
        "started_at",
        pl.when("done").then("completed_at").alias("completed_at"),
        "device",
        pl.when(pl.col("resumed_from") > 0).then("resumed_from").alias("resumed_from"),
    )


def _feedback_frame(cal: _Calendar, feedback) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "feedback_id": feedback["feedback_id"],
            "service_id": _ids(feedback["service"], [s.service_id for s in SERVICES]),
            "office_id": _ids(feedback["office"], [o.office_id for o in OFFICES]),
            "channel": _ids(feedback["channel"], list(CHANNELS)),
            "submitted_at": cal.to_utc(feedback["submitted_local"]),
            "rating": pl.Series(feedback["rating"], dtype=pl.Int16),
        }
    )


def _incidents_frame(cal: _Calendar, incidents: list[_Incident]) -> pl.DataFrame:
    rows = []
    for number, incident in enumerate(incidents, start=1):
        service = SERVICES[incident.service] if incident.service is not None else None
        office = OFFICES[incident.office] if incident.office is not None else None
        first = cal.start + timedelta(days=incident.day)
        last = first + timedelta(days=incident.days - 1)
        where = service.name if service else (office.name if office else "every digital service")
        description = {
            "online_outage": f"Online outage: {where}'s online journeys failed all day, completion collapsed",
            "demand_surge": f"Demand surge: walk-in demand at {where} rose to 2.6 times normal for {incident.days} days",
            "processing_slowdown": (
                f"Processing slowdown: {where} back offices worked at 25% of capacity for {incident.days} days, "
                f"then caught up at {RECOVERY_CAPACITY:.0%} for {RECOVERY_DAYS} days"
            ),
            "phone_fault": f"Phone-system fault: {where} dropped 65% of calls after a short wait",
        }[incident.kind]
        start_local = cal.local_seconds(np.array([incident.day]))
        end_local = cal.local_seconds(np.array([incident.day + incident.days]))
        rows.append(
            {
                "incident_id": number,
                "kind": incident.kind,
                "starts_at": cal.to_utc(start_local)[0].item(),
                "ends_at": cal.to_utc(end_local)[0].item(),
                "department_id": service.department_id if service else None,
                "service_id": service.service_id if service else None,
                "office_id": office.office_id if office else None,
                "channel": incident.channel,
                "description": f"{description} ({first:%a %d %b %Y}" + (f" to {last:%a %d %b %Y})" if incident.days > 1 else ")"),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "incident_id": pl.Int32,
            "kind": pl.String,
            "starts_at": pl.Datetime("us"),
            "ends_at": pl.Datetime("us"),
            "department_id": pl.String,
            "service_id": pl.String,
            "office_id": pl.String,
            "channel": pl.String,
            "description": pl.String,
        },
    )
