"""Periods of local time: days, ISO weeks (Monday to Sunday), months, quarters.

Timestamps are stored in UTC and periods are local to the office. Rather than convert
millions of timestamps, the engine converts the few period boundaries to UTC, once per
time zone, and places each timestamp with a binary search: exact across daylight-saving
changes, and fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

GRAINS = ("day", "week", "month", "quarter")
WEEK_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(label: str) -> date:
    """The Monday of an ISO week label such as '2026-W47'."""
    match = WEEK_LABEL.match(label.strip())
    if not match:
        raise ValueError(f"{label!r} is not an ISO week; write it like 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{label!r}: {year} has no ISO week {week}") from None


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_start(day: date, grain: str) -> date:
    """The first day of the period of ``grain`` that contains ``day``."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    raise ValueError(f"unknown time grain {grain!r}; use one of {', '.join(GRAINS)}")


def next_start(start: date, grain: str) -> date:
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    months = 1 if grain == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def label(start: date, grain: str | None) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        return week_label(start)
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return "all"


@dataclass(frozen=True)
class Periods:
    """Consecutive periods covering the local dates [first_day, last_day].

    With ``grain`` None there is a single period: the whole window.
    """

    grain: str | None
    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.grain is not None and self.grain not in GRAINS:
            raise ValueError(f"unknown time grain {self.grain!r}; use one of {', '.join(GRAINS)}")
        if self.last_day < self.first_day:
            raise ValueError(f"the window ends ({self.last_day}) before it starts ({self.first_day})")

    @property
    def starts(self) -> list[date]:
        """The first local day of each period, and one past the last (n + 1 boundaries)."""
        if self.grain is None:
            return [self.first_day, self.last_day + timedelta(days=1)]
        starts = [period_start(self.first_day, self.grain)]
        while starts[-1] <= self.last_day:
            starts.append(next_start(starts[-1], self.grain))
        return starts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def utc_boundaries(self, timezone: str) -> pl.Series:
        """Local midnight at each boundary, as naive UTC datetimes (microseconds)."""
        zone = ZoneInfo(timezone)
        instants = [
            datetime.combine(day, datetime.min.time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
            for day in self.starts
        ]
        return pl.Series("boundary", instants, dtype=pl.Datetime("us"))

    def frame(self) -> pl.DataFrame:
        """One row per period: index, start date, end date (exclusive), label."""
        starts = self.starts
        return pl.DataFrame(
            {
                "period_index": pl.Series(range(len(starts) - 1), dtype=pl.Int32),
                "period_start": starts[:-1],
                "period_end": starts[1:],
                "period": [label(start, self.grain) for start in starts[:-1]],
            },
            schema={"period_index": pl.Int32, "period_start": pl.Date, "period_end": pl.Date, "period": pl.String},
        )


def index_of(timestamps: pl.Expr, boundaries: pl.Series) -> pl.Expr:
    """Period index of each naive UTC timestamp: -1 before the first period, n after the
    last, null for null. ``boundaries`` are the n + 1 UTC boundaries."""
    found = pl.lit(boundaries).search_sorted(timestamps, side="right").cast(pl.Int32) - 1
    return pl.when(timestamps.is_not_null()).then(found)


def date_index_of(dates: pl.Expr, periods: Periods) -> pl.Expr:
    """Period index of local dates (for costs, which are recorded by local date)."""
    starts = pl.Series(periods.starts, dtype=pl.Date)
    found = pl.lit(starts).search_sorted(dates, side="right").cast(pl.Int32) - 1
    return pl.when(dates.is_not_null()).then(found)
