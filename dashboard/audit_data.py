"""What the Audit page loads: the audit's events over a period, read fresh on every run
(an audit served from a cache would hide the latest actions). Only a viewer of every
department gets rows (sql/audit_events.sql; on PostgreSQL row-level security too)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from dashboard import state
from data import audit

PERIODS = {"1": "The last day", "7": "The last 7 days", "30": "The last 30 days", "365": "The last year"}
DEFAULT_PERIOD = "7"


@dataclass(frozen=True)
class AuditView:
    events: pl.DataFrame  # data.audit.events, narrowed to the person and action chosen
    people: list[str]  # everyone with an event in the period
    since: dt.datetime
    until: dt.datetime


def load(context: state.Context, days: int, person: str, action: str, *, now: dt.datetime | None = None) -> AuditView:
    until = (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)) + dt.timedelta(seconds=1)
    since = until - dt.timedelta(days=days)
    events = audit.events(context.engine, context.departments, since, until)
    people = sorted(set(events["subject"].to_list()))
    if person != state.ALL:
        events = events.filter(pl.col("subject") == person)
    if action != state.ALL:
        events = events.filter(pl.col("action") == action)
    return AuditView(events, people, since, until)
