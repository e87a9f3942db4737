"""Cached loaders of the satisfaction and digital page: the cases, journeys and ratings of
a window, and what the metric engine and metrics/satisfaction.py make of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import state
from dashboard.state import ALL, CACHE_SECONDS
from dashboard.window import Window
from data.fact_frames import Facts
from data.facts import load_facts
from metrics.engine import compute
from metrics.satisfaction import rating_distribution
from metrics.targets import load_targets

WEEKLY = ["satisfaction", "satisfaction_index", "completion_rate"]
TOTAL = "all"


@st.cache_resource(ttl=CACHE_SECONDS, max_entries=6, show_spinner=False)
def experience_facts(_engine: Engine, url: str, departments: tuple[str, ...], first_day: date, last_day: date) -> Facts:
    """Cases, journeys and ratings of a window (no contacts or costs: this page needs none)."""
    return load_facts(_engine, departments, first_day, last_day, include=("cases", "journeys", "feedback"))


@dataclass(frozen=True)
class SatisfactionView:
    weekly: pl.DataFrame  # WEEKLY by week, the engine's long frame
    whole: pl.DataFrame  # WEEKLY over the whole window
    spread: pl.DataFrame  # rating_distribution of the window
    take_up: pl.DataFrame  # one row per service: service_id, name, value, n, note, target, selected
    take_up_trend: pl.DataFrame  # digital take-up by week and group (a department or service, and TOTAL)
    trend_names: dict[str, str]  # group -> legend name

    @property
    def ratings(self) -> int:
        """Ratings given in the whole window."""
        return self.whole.filter(pl.col("kpi") == "satisfaction")["n"].item()

    @property
    def completion(self) -> pl.DataFrame:
        """Completion rate by week (the engine's long frame)."""
        return self.weekly.filter(pl.col("kpi") == "completion_rate")

    @property
    def journeys(self) -> int:
        """Online journeys started in the window."""
        return self.completion["n"].sum()


@st.cache_data(ttl=CACHE_SECONDS, max_entries=64, show_spinner=False)
def satisfaction_view(
    _engine: Engine, url: str, departments: tuple[str, ...], department: str, service: str,
    _services: pl.DataFrame, _department_names: dict[str, str], first_day: date, last_day: date,
) -> SatisfactionView:
    """Everything the page shows for a scope (a department or all, a service or all).
    ``_services`` and ``_department_names`` follow from ``departments`` (not hashed)."""
    services, department_names = _services, _department_names
    loaded = experience_facts(_engine, url, (department,) if department != ALL else departments, first_day, last_day)
    scoped = loaded.where(service_id=service) if service != ALL else loaded
    window = {"first_day": first_day, "last_day": last_day}
    weekly = compute(scoped, WEEKLY, by=["week"], **window).values
    whole = compute(scoped, WEEKLY, by=[], **window).values
    spread = rating_distribution(scoped, **window)

    # take-up per service of the department (or of all), the chosen service marked
    per_service = compute(loaded, ["digital_take_up"], by=["service_id"], **window).values
    targets = load_targets()
    known = services.select("service_id", "department_id", "name", "digital")
    take_up = known.join(per_service.select("service_id", "value", "n", "note"), on="service_id", how="inner")
    take_up = take_up.with_columns(
        # a service with no online service has no digital take-up target
        pl.when(pl.col("digital")).then(
            pl.struct("department_id", "service_id").map_elements(
                lambda row: targets.for_scope("digital_take_up", department_id=row["department_id"], service_id=row["service_id"])[0],
                return_dtype=pl.Float64,
            )
        ).alias("target"),
        (pl.col("service_id") == service).alias("selected"),
        pl.when(pl.col("digital")).then(pl.col("name")).otherwise(pl.col("name") + " (no online service)").alias("name"),
    )

    # take-up over time: by department (or by service within one), with the total
    group = "department_id" if department == ALL else "service_id"
    parts = compute(loaded, ["digital_take_up"], by=["week", group], **window).values.rename({group: "group"})
    total = compute(loaded, ["digital_take_up"], by=["week"], **window).values.with_columns(pl.lit(TOTAL).alias("group"))
    trend = pl.concat([parts, total.select(parts.columns)], how="vertical_relaxed")
    if department == ALL:
        names = {**department_names, TOTAL: "All departments"}
    else:
        service_names = dict(zip(services["service_id"], services["name"], strict=True))
        names = {**{k: v + (" (selected)" if k == service else "") for k, v in service_names.items()}, TOTAL: f"All of {department_names.get(department, department)}"}
    return SatisfactionView(weekly, whole, spread, take_up, trend, names)


def view_of(context: state.Context, department: str, service: str, chosen: Window) -> SatisfactionView:
    """The page's view of a department (or all) and a service (or all) over the window."""
    return satisfaction_view(
        context.engine, str(context.engine.url), context.departments, department, service,
        state.services_of(context, department), context.department_names, chosen.first_day, chosen.last_day,
    )


def scope_targets(context: state.Context, department: str, service: str, kpis: tuple[str, ...] = ("satisfaction", "completion_rate")) -> dict[str, float | None]:
    """The targets of ``kpis`` for the scope: a service's own, else its department's, else
    the default (a service chosen under all departments takes its own department's)."""
    targets = load_targets()
    department_of_service = dict(zip(context.services["service_id"], context.services["department_id"], strict=True))
    scope_department = department if department != ALL else department_of_service.get(service)
    scope_service = service if service != ALL else None
    return {kpi: targets.for_scope(kpi, department_id=scope_department, service_id=scope_service)[0] for kpi in kpis}
