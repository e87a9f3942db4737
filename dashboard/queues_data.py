"""Cached loaders of the queues page: the contacts of a window, and what the metric engine
and metrics/queues.py make of them for one scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import state
from dashboard.state import CACHE_SECONDS
from dashboard.window import Window
from data.fact_frames import Facts
from data.facts import load_facts
from metrics.engine import compute
from metrics.queues import QUEUE_KINDS, QueueScope, resolve_scope, weekday_hour_profile


@st.cache_resource(ttl=CACHE_SECONDS, max_entries=6, show_spinner=False)
def contact_facts(_engine: Engine, url: str, departments: tuple[str, ...], first_day: date, last_day: date) -> Facts:
    """The calls and visits of a window (only contacts: the queues page needs no cases)."""
    return load_facts(_engine, departments, first_day, last_day, include=("contacts",))


@dataclass(frozen=True)
class QueueView:
    profile: pl.DataFrame  # weekday_hour_profile of the scope
    trend: pl.DataFrame  # the scope's queue metrics by week (engine's long format)
    by_office: pl.DataFrame  # every office of the scope's kind, in the last week
    overall: pl.DataFrame  # all offices of the scope's kind, in the last week
    rule_counts: dict[str, int]

    @property
    def no_arrivals(self) -> bool:
        """Nothing arrived in the scope in the whole window."""
        return self.profile["arrivals"].sum() == 0


def scope_values(facts: Facts, scope: QueueScope, office_ids: tuple[str, ...], by: list[str], first_day: date, last_day: date) -> tuple[pl.DataFrame, dict[str, int]]:
    """The scope kind's metrics for some offices, from the metric engine, in one long frame."""
    narrowed = facts.where(office_id=list(office_ids), channel=scope.kind.channel)
    result = compute(narrowed, list(scope.kind.metrics), by=by, first_day=first_day, last_day=last_day)
    return result.values, result.rule_counts


@st.cache_data(ttl=CACHE_SECONDS, max_entries=64, show_spinner=False)
def queue_view(
    _engine: Engine, url: str, departments: tuple[str, ...], kind: str, scope_key: str, office_ids: tuple[str, ...],
    kind_offices: tuple[str, ...], first_day: date, last_day: date, last_monday: date,
) -> QueueView:
    """A scope's heatmap profile and weekly metrics over the window, and every office of
    its kind in the window's last week (Monday ``last_monday`` to ``last_day``)."""
    scope = QueueScope(scope_key, QUEUE_KINDS[kind], office_ids, scope_key)
    facts = contact_facts(_engine, url, departments, first_day, last_day)
    narrowed = facts.where(office_id=list(scope.office_ids), channel=scope.kind.channel)
    profile = weekday_hour_profile(narrowed, first_day, last_day, wait_unit=scope.kind.wait_unit)
    trend, rule_counts = scope_values(facts, scope, scope.office_ids, ["week"], first_day, last_day)
    by_office, _ = scope_values(facts, scope, kind_offices, ["week", "office_id"], last_monday, last_day)
    overall, _ = scope_values(facts, scope, kind_offices, ["week"], last_monday, last_day)
    return QueueView(profile, trend, by_office, overall, rule_counts)


def view_of(context: state.Context, scope: QueueScope, chosen: Window) -> QueueView:
    """The page's view of a scope over the chosen window, compared with every office of
    its kind (contact centres with contact centres, service centres with service centres)."""
    group = "contact_centres" if scope.kind.kind == "contact_centre" else "service_centres"
    kind_offices = tuple(resolve_scope(context.offices, group).office_ids)
    return queue_view(
        context.engine, str(context.engine.url), context.departments, scope.kind.kind, scope.key, scope.office_ids,
        kind_offices, chosen.first_day, chosen.last_day, chosen.last_monday,
    )
