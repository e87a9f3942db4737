"""Load the facts of a scope and window from the database, for the metric engine.

The engine reads the coded *_facts extracts: services, offices and channels arrive as
small integers and become Polars enums here, which moves ten million rows several times
faster than their strings would and keeps them at four bytes a value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.engine import Engine

from data.extracts import run_extract
from data.fact_frames import Facts
from data.vocabulary import CHANNELS

# Facts are fetched with a margin so that any time zone's local day is fully inside.
MARGIN = timedelta(days=2)
# The channel codes of the *_facts extracts, in code order.
CHANNEL_CODES = CHANNELS
FACT_EXTRACTS = {
    "cases": "case_facts",
    "contacts": "contact_facts",
    "journeys": "journey_facts",
    "feedback": "feedback_facts",
    "costs": "cost_facts",
}


def organisation_timezone(offices: pl.DataFrame) -> str:
    """The time zone most offices are in (it places facts that have no office)."""
    zones = Counter(offices["timezone"].to_list())
    return zones.most_common(1)[0][0] if zones else "UTC"


def load_facts(
    engine: Engine,
    departments: Sequence[str],
    first_day: date,
    last_day: date,
    *,
    include: Sequence[str] = tuple(FACT_EXTRACTS),
) -> Facts:
    """Every fact needed to compute metrics over local dates [first_day, last_day].

    Cases come with the backlog: every case open at some moment of the window.
    """
    start = datetime.combine(first_day, time()) - MARGIN
    end = datetime.combine(last_day + timedelta(days=1), time()) + MARGIN
    services = run_extract(engine, "services", departments=departments)
    offices = run_extract(engine, "offices", departments=departments)
    enums = {
        "service": pl.Enum(run_extract(engine, "service_codes", departments=departments).sort("code")["service_id"]),
        "office": pl.Enum(run_extract(engine, "office_codes", departments=departments).sort("code")["office_id"]),
        "channel": pl.Enum(CHANNEL_CODES),
    }
    frames: dict[str, pl.DataFrame] = {}
    for fact, extract in FACT_EXTRACTS.items():
        if fact not in include:
            continue
        window = {"first_day": first_day, "last_day": last_day} if fact == "costs" else {"start": start, "end": end}
        frames[fact] = decode(run_extract(engine, extract, departments=departments, **window), enums)
    return Facts(**frames, services=services, offices=offices, timezone=organisation_timezone(offices))


def decode(frame: pl.DataFrame, enums: dict[str, pl.Enum]) -> pl.DataFrame:
    """Turn the ``*_code`` columns into enum columns named by the dimension's id."""
    names = {"service": "service_id", "office": "office_id", "channel": "channel"}
    return frame.with_columns(
        pl.col(f"{kind}_code").cast(pl.UInt32).cast(dtype).alias(names[kind])
        for kind, dtype in enums.items()
        if f"{kind}_code" in frame.columns
    ).drop([f"{kind}_code" for kind in enums if f"{kind}_code" in frame.columns])


def data_extent(engine: Engine, departments: Sequence[str], timezone: str) -> tuple[date, date] | None:
    """The first and last local dates with cases or contacts, or None for an empty database."""
    extent = run_extract(engine, "data_extent", departments=departments)
    first, last = extent.row(0) if extent.height else (None, None)
    if first is None or last is None:
        return None
    zone, utc = ZoneInfo(timezone), ZoneInfo("UTC")
    return (
        first.replace(tzinfo=utc).astimezone(zone).date(),
        last.replace(tzinfo=utc).astimezone(zone).date(),
    )
