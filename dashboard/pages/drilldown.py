"""Drill-down, for analysts: one measure, walked down from all departments to a service,
an office, a channel and a week, with the peers of each level, distributions, and the
rows behind the number."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from anomalies import links
from dashboard import components, drilldown_data, drilldown_sections, params, state
from metrics import drilldown as drill
from metrics.registry import METRICS
from metrics.targets import load_targets

context = state.open_or_stop()
st.title("Drill-down", anchor=False)
state.data_as_of(context)
components.stop_without_data(context, "There are no cases or contacts in the database yet.")

measure_column, window_column, week_column = st.columns([2, 1, 2])
kpi = params.choice("Measure", links.KPI, list(METRICS), "on_time_rate", format_func=lambda k: METRICS[k].label, container=measure_column)
weeks = params.choice("Weeks shown", "weeks", [str(w) for w in drill.WINDOWS], "13", format_func=lambda w: f"{w} weeks", container=window_column)
latest = state.default_week(context)
week = params.choice("Week", links.WEEK, state.week_options(context), latest, format_func=lambda w: state.week_label_text(w, context), container=week_column)
drilldown_data.pin("week", week)
metric, where = METRICS[kpi], drilldown_data.scope(context)
st.markdown(f"{metric.description} *Formula:* {metric.formula}.")

drilldown_sections.breadcrumbs(context, where, week)
blocked = drill.blocked_by(metric, where) or drill.not_applicable(
    metric, where, drilldown_data.offline_services(context), context.name_of("service_id", where.service_id or ""))
if blocked:
    components.empty(blocked, "Go up a level with the breadcrumbs above, or pick another measure.")
    st.stop()

with st.spinner("Working out the figures…"):
    facts, facts_key = drilldown_data.facts_for(context, drill.window(week, latest, int(weeks))[1])
    view = drilldown_data.View(context, metric, where, week, latest, int(weeks), load_targets(), facts, facts_key)
    series = view.values(("week",))

cell = drilldown_sections.headline(view, series)
if drilldown_data.no_observations(series):
    components.empty(
        f"{view.words.capitalize()} has no {metric.observations} in any of the {weeks} weeks shown, so {metric.label.lower()} has no trend and no peers here.",
        "Pick another measure, or go up a level with the breadcrumbs.",
    )
else:
    drilldown_sections.trend(view, series)
    drilldown_sections.peers(view, series, cell)
drilldown_sections.distributions(view)
drilldown_sections.rows_behind(view, cell)
