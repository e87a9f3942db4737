"""Satisfaction and digital: satisfaction over time with the ratings behind it, their
spread, completion rate, and digital take-up per service and over time."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import components, params, satisfaction_data, satisfaction_figures, state, window
from dashboard.charts import metric_lines, trend_summary, trend_table
from dashboard.text import plain
from metrics.registry import METRICS

context = state.open_or_stop()
st.title("Satisfaction and digital")
state.data_as_of(context)
components.stop_without_data(context, "There are no cases, journeys or ratings in the database yet.")
components.missing_data(context.missing("feedback", "journeys"), "satisfaction or completion cannot be shown (digital take-up, from cases, still can)")

department_column, service_column, weeks_column, week_column = st.columns([3, 3, 2, 3])
department = params.department(context, container=department_column)
service = params.service(context, department, container=service_column)
chosen = window.choose(context, weeks_column, week_column)
if chosen is None:
    components.empty("No week is complete yet.", "Come back after the first Sunday of data.")
    st.stop()

scope_name = params.scope_name(context, department, service)
targets = satisfaction_data.scope_targets(context, department, service)
with st.spinner(f"Computing satisfaction and take-up for {plain(scope_name)}…"):
    view = satisfaction_data.view_of(context, department, service, chosen)
name = f"{scope_name}-{chosen.last_week}-{chosen.weeks}w"
st.subheader(f"{plain(scope_name)}, {chosen.text}", anchor=False)

st.header("User satisfaction", divider="gray", anchor=False)
st.caption(
    "Top-2 box: the share of ratings that are 4 or 5 out of 5. GOV.UK index: the mean rating rescaled so that all 1s give 0 "
    f"and all 5s give 100. A week needs at least {METRICS['satisfaction'].min_n} ratings to be shown."
)
if view.ratings == 0:
    components.empty(f"No ratings were given for {plain(scope_name)} in {chosen.text}.", "Choose more weeks, or a department or service with ratings.")
else:
    components.chart(
        satisfaction_figures.satisfaction_figure(view.weekly, target=targets["satisfaction"]),
        satisfaction_figures.satisfaction_summary(view.weekly, view.whole), satisfaction_figures.satisfaction_table(view.weekly), f"satisfaction-{name}",
    )
    components.chart(
        satisfaction_figures.distribution_figure(view.spread), satisfaction_figures.distribution_summary(view.spread), satisfaction_figures.distribution_table(view.spread), f"ratings-{name}",
    )
    st.caption("Counts from 1 to 4 are suppressed so that no small group can be picked out; shares are of every rating.")

st.header("Completion rate", divider="gray", anchor=False)
if view.journeys == 0:
    components.empty(
        satisfaction_figures.no_journeys_text(plain(scope_name), chosen.text, one_service=service != state.ALL),
        "Choose a service that can be used online, or all services.",
    )
else:
    completion, completion_target = view.completion, targets["completion_rate"]
    components.chart(
        metric_lines(completion, [METRICS["completion_rate"]], title="Completion rate by week", target=completion_target, height=320),
        trend_summary(completion, ("completion_rate",), {"completion_rate": completion_target}),
        trend_table(completion, ("completion_rate",)), f"completion-{name}",
    )
    st.caption(METRICS["completion_rate"].description)

st.header("Digital take-up", divider="gray", anchor=False)
st.caption(METRICS["digital_take_up"].description + " Each service has its own target (the orange diamond).")
components.chart(satisfaction_figures.take_up_bars(view.take_up), satisfaction_figures.take_up_summary(view.take_up), satisfaction_figures.take_up_table(view.take_up), f"take-up-by-service-{name}")
components.chart(
    metric_lines(
        view.take_up_trend, [METRICS["digital_take_up"]], title=satisfaction_figures.take_up_trend_title(all_departments=department == state.ALL),
        group="group", group_names=view.trend_names, emphasise=satisfaction_data.TOTAL, height=440,
    ),
    satisfaction_figures.take_up_trend_summary(view.take_up_trend, view.trend_names, satisfaction_data.TOTAL),
    satisfaction_figures.take_up_trend_table(view.take_up_trend, view.trend_names),
    f"take-up-trend-{name}",
)
