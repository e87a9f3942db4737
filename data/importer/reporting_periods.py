"""Reading the periods aggregate statistics are published for (no I/O).

A period field (``period = "month"`` and the like in a mapping's [fields]) turns each
text into the first and last day of its period and the period's grain, the way
observations store them (sql/schema/060_observations.sql). What each form accepts:

=====================  ===========================================  ===============
``period =``           texts                                        grain stored
=====================  ===========================================  ===============
``month``              2017-03-01 (the 1st), 2017-03, Mar 2017      month
``week_ending``        2019-03-03 (the week's last day)             week
``week_starting``      2019-02-25 (the week's first day)            week
``quarter``            2017 Q3, 2017-Q3, Q3 2017 (calendar);        quarter
                       Q3 2017-18, Q3 2017/18 (financial)
``financial_year``     2016-17, 2016/17, 2016-2017, 2016/2017       financial_year
``any``                any of the labelled forms above (not the     as read
                       dates, which need their grain said, nor
                       2011-12, December or the year 2011-12)
=====================  ===========================================  ===============

A financial year starts on the 1st of ``year_starts`` (a month number, default 4: the
UK's April to March); its quarter 1 is its first three months. A text that fits no form,
or a month given as a day other than the 1st, gives None (quarantined as ``bad_period``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

PERIOD_FORMS = ("month", "week_ending", "week_starting", "quarter", "financial_year", "any")
DEFAULT_YEAR_STARTS = 4

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CALENDAR_QUARTER = re.compile(r"^(\d{4})[ -]?Q([1-4])$|^Q([1-4])[ -]?(\d{4})$", re.IGNORECASE)
_FINANCIAL_QUARTER = re.compile(r"^Q([1-4])[ -]?(\d{4})[-/](\d{2}|\d{4})$", re.IGNORECASE)
_FINANCIAL_YEAR = re.compile(r"^(?:FY ?)?(\d{4})[-/](\d{2}|\d{4})$", re.IGNORECASE)

# What each form looks like, for the message of a value that is not one.
EXAMPLES = {
    "month": "a month like 2017-03-01 or 2017-03",
    "week_ending": "a week-ending date like 2019-03-03",
    "week_starting": "a week-starting date like 2019-02-25",
    "quarter": "a quarter like 2017 Q3 or Q3 2017-18",
    "financial_year": "a financial year like 2016-17 or 2016/17",
    "any": "a period like 2017-03, 2017 Q3, Q3 2017-18 or 2016-17",
}

Period = tuple[date, date, str]  # first day, last day (both included), grain


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months(start: date, count: int, grain: str) -> Period:
    return start, _add_months(start, count) - timedelta(days=1), grain


def _second_year(first: int, text: str) -> bool:
    """'17' or '2017' after 2016: the financial year's second calendar year."""
    return int(text) == first + 1 if len(text) == 4 else int(text) == (first + 1) % 100


def _iso_date(text: str) -> date | None:
    match = _ISO_DATE.match(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _labelled(text: str, year_starts: int) -> list[Period]:
    """Every reading of the forms that say their own grain: months as 2017-03, quarters,
    financial years ("2011-12" is both December 2011 and the year 2011-12)."""
    found: list[Period] = []
    match = _ISO_MONTH.match(text)
    if match and 1 <= int(match[2]) <= 12:
        found.append(_months(date(int(match[1]), int(match[2]), 1), 1, "month"))
    match = _FINANCIAL_QUARTER.match(text)
    if match and _second_year(int(match[2]), match[3]):
        found.append(_months(_add_months(date(int(match[2]), year_starts, 1), 3 * (int(match[1]) - 1)), 3, "quarter"))
    match = _CALENDAR_QUARTER.match(text)
    if match:
        year, quarter = (int(match[1]), int(match[2])) if match[1] else (int(match[4]), int(match[3]))
        found.append(_months(date(year, 3 * quarter - 2, 1), 3, "quarter"))
    match = _FINANCIAL_YEAR.match(text)
    if match and _second_year(int(match[1]), match[2]):
        found.append(_months(date(int(match[1]), year_starts, 1), 12, "financial_year"))
    return found


def parse_period(value: str | date | datetime | None, form: str, year_starts: int = DEFAULT_YEAR_STARTS) -> Period | None:
    """The period ``value`` names under ``form`` (one of PERIOD_FORMS), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else None
        if value is None:
            return None
    day = value if isinstance(value, date) else None
    text = "" if day is not None else str(value).strip()
    if form in ("week_ending", "week_starting"):
        day = day or _iso_date(text)
        if day is None:
            return None
        if form == "week_ending":
            return day - timedelta(days=6), day, "week"
        return day, day + timedelta(days=6), "week"
    if form == "month":
        day = day or _iso_date(text)
        if day is not None:
            return _months(day, 1, "month") if day.day == 1 else None
        months = [p for p in _labelled(text, year_starts) if p[2] == "month"]
        if months:
            return months[0]
        for fmt in ("%b %Y", "%B %Y"):
            try:
                return _months(datetime.strptime(text, fmt).date(), 1, "month")
            except ValueError:
                continue
        return None
    if day is not None:
        return None  # a date says nothing of its grain
    readings = [p for p in _labelled(text, year_starts) if form == "any" or p[2] == form]
    return readings[0] if len(readings) == 1 else None  # "any" refuses a text with two readings
