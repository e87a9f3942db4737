"""The periods a department head reports in beside the ISO week: the calendar month, the
calendar quarter and the financial year to date, each with the spans it is compared with.

A period is named by a day in it (the Overview passes the chosen week's Sunday). A period
that is not over by the last day of data is a period *to date*: it is marked partial, it
covers its first day to that day, and it is compared like for like, with the same number
of days from the start of the previous period and of the same period a year earlier (a
month to the 3rd against the previous month to the 3rd), never a few days against a whole
month. The financial year is always to date (to the chosen day, or the last day of data
if earlier); its previous period *is* the same span a year earlier, so it has one
comparison, not the same one twice.

Pure: dates in, dates out; the engine computes the figures (metrics.scorecard.period_scorecard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from metrics.periods import next_start, period_start

PERIOD_KINDS = ("month", "quarter", "fytd")
PERIOD_WORDS = {"month": "Month", "quarter": "Quarter", "fytd": "Financial year to date"}
PREVIOUS_WORDS = {"month": "previous month", "quarter": "previous quarter", "fytd": "same span last year"}
FINANCIAL_YEAR_START = 4  # April, the UK government's financial year; a setting in metrics/targets.toml
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


@dataclass(frozen=True)
class Span:
    """Local dates [first_day, last_day], both included, and how a person names them."""

    first_day: date
    last_day: date
    label: str

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class ReportPeriod:
    """A month, quarter or financial year to date, and what it is compared with.

    ``this``: the span judged (to the last day of data when the period is not over).
    ``whole_last_day``: the period's last day when complete. ``partial``: not over by the
    last day of data. ``previous``: the previous period over the same number of days (None
    for the financial year, whose previous period is ``last_year``). ``last_year``: the
    same period a year earlier, over the same number of days.
    """

    kind: str
    this: Span
    whole_last_day: date
    partial: bool
    previous: Span | None
    last_year: Span

    @property
    def words(self) -> str:
        return PERIOD_WORDS[self.kind]

    @property
    def label(self) -> str:
        return self.this.label

    def heading(self) -> str:
        """'November 2026' or 'December 2026 to date (to Thu 3 Dec)'."""
        if self.partial or self.kind == "fytd":
            return f"{self.this.label} to {_day_words(self.this.last_day)}"
        return self.this.label


def financial_year_start(day: date, start_month: int = FINANCIAL_YEAR_START) -> date:
    """The first day of the financial year that contains ``day``."""
    _check_month(start_month)
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def financial_year_label(first_day: date) -> str:
    """'FY 2026-27' for a year starting in April 2026; 'FY 2026' for one starting in January."""
    if first_day.month == 1:
        return f"FY {first_day.year}"
    return f"FY {first_day.year}-{(first_day.year + 1) % 100:02d}"


def report_period(kind: str, day: date, as_of: date, *, financial_year_start_month: int = FINANCIAL_YEAR_START) -> ReportPeriod:
    """The ``kind`` of period ('month', 'quarter' or 'fytd') that contains ``day``, judged on
    data to ``as_of`` (the last local day the data covers)."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown report period {kind!r}; use one of {', '.join(PERIOD_KINDS)}")
    if kind == "fytd":
        start = financial_year_start(day, financial_year_start_month)
        end = min(day, as_of)
        if end < start:
            raise ValueError(f"no data in {financial_year_label(start)}: the data ends on {as_of}")
        last_year_start = _year_before(start)
        this = Span(start, end, financial_year_label(start))
        last_year = Span(last_year_start, min(_year_before(end), start - timedelta(days=1)), financial_year_label(last_year_start))
        return ReportPeriod(kind, this, _year_after(start) - timedelta(days=1), True, None, last_year)
    start = period_start(day, kind)
    whole_end = next_start(start, kind) - timedelta(days=1)
    if as_of < start:
        raise ValueError(f"no data in {_label(start, kind)}: the data ends on {as_of}")
    partial = whole_end > as_of
    end = as_of if partial else whole_end
    previous_start = _previous_start(start, kind)
    last_year_start = _year_before(start)
    previous_end = start - timedelta(days=1)
    last_year_end = next_start(last_year_start, kind) - timedelta(days=1)
    if partial:  # the same number of days from each period's start, never a whole period
        offset = timedelta(days=(end - start).days)
        previous_end = min(previous_start + offset, previous_end)
        last_year_end = min(last_year_start + offset, last_year_end)
    previous = Span(previous_start, previous_end, _label(previous_start, kind))
    last_year = Span(last_year_start, last_year_end, _label(last_year_start, kind))
    return ReportPeriod(kind, Span(start, end, _label(start, kind)), whole_end, partial, previous, last_year)


def _label(start: date, kind: str) -> str:
    if kind == "month":
        return f"{MONTHS[start.month - 1]} {start.year}"
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def _previous_start(start: date, kind: str) -> date:
    months = 1 if kind == "month" else 3
    month = start.month - 1 - months
    return date(start.year + month // 12, month % 12 + 1, 1)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _day_words(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def _check_month(month: object) -> None:
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"the financial year's first month must be a month number from 1 to 12, not {month!r}")
