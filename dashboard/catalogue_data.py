"""What the catalogue and data-quality page loads: the registry's catalogue and the
targets file's overrides (for one measure or all), the rows each rule touched over the
last complete weeks (cached, on the Overview's facts), and the imports with their
reconciliation. Caching lives here, never in the page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import state
from data.database import DatabaseError
from data.extracts import ExtractError, extract_names
from metrics.catalogue import catalogue, reconcile_imports, rule_counts, target_overrides
from metrics.engine import compute
from metrics.periods import parse_week
from metrics.targets import Targets

WEEKS = ("4", "13", "26", "52")
DEFAULT_WEEKS = "13"


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def rules_touched(_engine: Engine, url: str, departments: tuple[str, ...], week: str, weeks: int, as_of: date) -> pl.DataFrame:
    """Rows each rule touched over the ``weeks`` weeks ending with ``week``. The facts are
    those the Overview loads for that week (the same cache entry)."""
    monday = parse_week(week)
    facts = state.facts(_engine, url, departments, *state.facts_window(monday, as_of))
    result = compute(facts, None, by=(), first_day=monday - timedelta(weeks=weeks - 1), last_day=monday + timedelta(days=6))
    return rule_counts(result)


def visible_targets(context: state.Context, targets: Targets) -> Targets:
    """The targets file's rows the viewer may see: a row naming a department or a service
    that is not theirs is left out (its id, name and figure are another department's);
    a row of an office alone stays (offices are not a department's)."""
    services = set(context.services["service_id"])
    kept = tuple(
        row for row in targets.rows
        if (row.department_id is None or row.department_id in context.departments) and (row.service_id is None or row.service_id in services)
    )
    return replace(targets, rows=kept)


def measures(context: state.Context, targets: Targets, kpi: str) -> pl.DataFrame:
    """The catalogue of one measure, or of all (``kpi`` == state.ALL)."""
    everything = catalogue(targets, context.name_of)
    return everything if kpi == state.ALL else everything.filter(pl.col("kpi") == kpi)


def overrides(context: state.Context, targets: Targets, kpi: str) -> pl.DataFrame:
    """The targets file's rows for one measure, or for all."""
    rows = target_overrides(targets, context.name_of)
    return rows if kpi == state.ALL else rows.filter(pl.col("kpi") == kpi)


def loads(context: state.Context) -> pl.DataFrame:
    return context.get("data_loads")


def days_of_data(context: state.Context) -> int:
    """Days from the first to the last day with cases or contacts, both counted."""
    return (context.as_of - context.first_day).days + 1


@dataclass(frozen=True)
class RuleWindow:
    """The last ``weeks`` complete weeks, ending with ISO week ``week``."""

    week: str
    weeks: int
    first_day: date
    last_day: date


def rule_window(context: state.Context, weeks: int) -> RuleWindow:
    week = state.default_week(context)
    last_day = parse_week(week) + timedelta(days=6)
    return RuleWindow(week, weeks, last_day - timedelta(weeks=weeks) + timedelta(days=1), last_day)


def rules_in(context: state.Context, department: str, window: RuleWindow) -> pl.DataFrame:
    """The rows each rule touched in a department (or all) over the window."""
    chosen = context.departments if department == state.ALL else (department,)
    return rules_touched(context.engine, str(context.engine.url), chosen, window.week, window.weeks, context.as_of)


@dataclass(frozen=True)
class Imports:
    """The imports as the page can read them: ``extract`` False when this database has no
    imports extract; ``error`` when it cannot be read; else every import reconciled (rows
    read = loaded + excluded + quarantined) and the rows each import rule touched."""

    extract: bool
    error: str | None = None
    reconciled: pl.DataFrame | None = None
    rule_counts: pl.DataFrame | None = None

    @property
    def broken(self) -> int | None:
        """How many imports do not add up (None: the extract cannot tell)."""
        if self.reconciled is None or "reconciles" not in self.reconciled.columns:
            return None
        return self.reconciled.filter(~pl.col("reconciles")).height


def imports_of(context: state.Context) -> Imports:
    available = set(extract_names())
    if "imports" not in available:
        return Imports(extract=False)
    try:
        imports = context.get("imports")
    except (ExtractError, DatabaseError) as error:
        return Imports(extract=True, error=str(error))
    if imports.height == 0:
        return Imports(extract=True, reconciled=imports)
    counts = context.get("import_rule_counts") if "import_rule_counts" in available else None
    return Imports(extract=True, reconciled=reconcile_imports(imports), rule_counts=counts)


def forecast_runs(context: state.Context) -> pl.DataFrame | None:
    """The stored forecast runs, newest first (None when they cannot be read)."""
    try:
        return context.get("forecast_runs")
    except (ExtractError, DatabaseError):
        return None
