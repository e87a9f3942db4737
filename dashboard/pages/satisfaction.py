"""Satisfaction and digital: satisfaction over time with the ratings behind it, their
spread, completion rate, and digital take-up per service and over time."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import polars as pl
import streamlit as st

from dashboard import components, params, state, window
from dashboard.charts import metric_lines, trend_summary, trend_table
from dashboard.satisfaction_data import TOTAL, satisfaction_view
from dashboard.satisfaction_figures import (
    distribution_figure,
    distribution_summary,
    distribution_table,
    satisfaction_figure,
    satisfaction_summary,
    satisfaction_table,
    take_up_bars,
    take_up_summary,
    take_up_table,
    take_up_trend_summary,
    take_up_trend_table,
)
from dashboard.text import plain
from metrics.registry import METRICS
from metrics.targets import load_targets

context = state.open_or_stop()
st.title("Satisfaction and digital")
state.data_as_of(context)
if context.as_of is None:
    components.empty("There are no cases, journeys or ratings in the database yet.", "Run `python -m data generate` for demo data, or import an export with `python -m data import`.")
    st.stop()
components.missing_data(context.missing("feedback", "journeys"), "satisfaction or completion cannot be shown (digital take-up, from cases, still can)")

department_column, service_column, weeks_column, week_column = st.columns([3, 3, 2, 3])
department = params.department(context, container=department_column)
service = params.service(context, department, container=service_column)
chosen = window.choose(context, weeks_column, week_column)
if chosen is None:
    components.empty("No week is complete yet.", "Come back after the first Sunday of data.")
    st.stop()

scope_name = (
    context.service_names.get(service, service) if service != state.ALL
    else context.department_names.get(department, department) if department != state.ALL
    else "All departments"
)
targets = load_targets()
department_of_service = dict(zip(context.services["service_id"], context.services["department_id"], strict=True))
scope_department = department if department != state.ALL else department_of_service.get(service)
scope_service = service if service != state.ALL else None


def target(kpi: str) -> float | None:
    return targets.for_scope(kpi, department_id=scope_department, service_id=scope_service)[0]


with st.spinner(f"Computing satisfaction and take-up for {plain(scope_name)}…"):
    view = satisfaction_view(
        context.engine, str(context.engine.url), context.departments, department, service,
        state.services_of(context, department), context.department_names, chosen.first_day, chosen.last_day,
    )
name = f"{scope_name}-{chosen.last_week}-{chosen.weeks}w"
st.subheader(f"{plain(scope_name)}, {chosen.text}", anchor=False)

st.header("User satisfaction", divider="gray", anchor=False)
st.caption(
    "Top-2 box: the share of ratings that are 4 or 5 out of 5. GOV.UK index: the mean rating rescaled so that all 1s give 0 "
    f"and all 5s give 100. A week needs at least {METRICS['satisfaction'].min_n} ratings to be shown."
)
if view.whole.filter(pl.col("kpi") == "satisfaction")["n"].item() == 0:
    components.empty(f"No ratings were given for {plain(scope_name)} in {chosen.text}.", "Choose more weeks, or a department or service with ratings.")
else:
    components.chart(
        satisfaction_figure(view.weekly, target=target("satisfaction")),
        satisfaction_summary(view.weekly, view.whole), satisfaction_table(view.weekly), f"satisfaction-{name}",
    )
    components.chart(
        distribution_figure(view.spread), distribution_summary(view.spread), distribution_table(view.spread), f"ratings-{name}",
    )
    st.caption("Counts from 1 to 4 are suppressed so that no small group can be picked out; shares are of every rating.")

st.header("Completion rate", divider="gray", anchor=False)
completion = view.weekly.filter(pl.col("kpi") == "completion_rate")
if completion["n"].sum() == 0:
    components.empty(
        f"No online journeys were started for {plain(scope_name)} in {chosen.text}: "
        + ("it has no online service." if service != state.ALL else "none of its services is online."),
        "Choose a service that can be used online, or all services.",
    )
else:
    completion_target = target("completion_rate")
    components.chart(
        metric_lines(completion, [METRICS["completion_rate"]], title="Completion rate by week", target=completion_target, height=320),
        trend_summary(completion, ("completion_rate",), {"completion_rate": completion_target}),
        trend_table(completion, ("completion_rate",)), f"completion-{name}",
    )
    st.caption(METRICS["completion_rate"].description)

st.header("Digital take-up", divider="gray", anchor=False)
st.caption(METRICS["digital_take_up"].description + " Each service has its own target (the orange diamond).")
components.chart(take_up_bars(view.take_up), take_up_summary(view.take_up), take_up_table(view.take_up), f"take-up-by-service-{name}")
group_label = "department" if department == state.ALL else "service"
components.chart(
    metric_lines(
        view.take_up_trend, [METRICS["digital_take_up"]], title=f"Digital take-up by week and {group_label}",
        group="group", group_names=view.trend_names, emphasise=TOTAL, height=440,
    ),
    take_up_trend_summary(view.take_up_trend, view.trend_names, TOTAL),
    take_up_trend_table(view.take_up_trend, view.trend_names),
    f"take-up-trend-{name}",
)
