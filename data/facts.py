"""Load the facts of a scope and window from the database, for the metric engine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy.engine import Engine

from data.extracts import run_extract
from metrics.facts import Facts

# Facts are fetched with a margin so that any time zone's local day is fully inside.
MARGIN = timedelta(days=2)


def organisation_timezone(engine: Engine, departments: Sequence[str]) -> str:
    """The time zone most offices are in (it places facts that have no office)."""
    offices = run_extract(engine, "offices", departments=departments)
    zones = Counter(offices["timezone"].to_list())
    return zones.most_common(1)[0][0] if zones else "UTC"


def load_facts(
    engine: Engine,
    departments: Sequence[str],
    first_day: date,
    last_day: date,
    *,
    include: Sequence[str] = ("cases", "contacts", "journeys", "feedback", "costs"),
) -> Facts:
    """Every fact needed to compute metrics over local dates [first_day, last_day].

    Cases come with the backlog: every case open at some moment of the window.
    """
    start = datetime.combine(first_day, time()) - MARGIN
    end = datetime.combine(last_day + timedelta(days=1), time()) + MARGIN
    window = {"start": start, "end": end}
    frames = {}
    for name in ("cases", "contacts", "journeys", "feedback"):
        if name in include:
            frames[name] = run_extract(engine, name, departments=departments, **window)
    if "costs" in include:
        frames["costs"] = run_extract(engine, "costs", departments=departments, first_day=first_day, last_day=last_day)
    return Facts(**frames, timezone=organisation_timezone(engine, departments))


def data_extent(engine: Engine, departments: Sequence[str], timezone: str) -> tuple[date, date] | None:
    """The first and last local dates with cases or contacts, or None for an empty database."""
    from zoneinfo import ZoneInfo

    extent = run_extract(engine, "data_extent", departments=departments)
    first, last = extent.row(0) if extent.height else (None, None)
    if first is None or last is None:
        return None
    zone, utc = ZoneInfo(timezone), ZoneInfo("UTC")
    return (
        first.replace(tzinfo=utc).astimezone(zone).date(),
        last.replace(tzinfo=utc).astimezone(zone).date(),
    )
