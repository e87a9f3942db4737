"""Queues: arrivals and waits by weekday and hour, and the queue metrics over time, for the
contact centres (calls) and the service centres (visits), never mixed."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import components, params, state, window
from dashboard.charts import metric_lines, trend_summary, trend_table
from dashboard.queues_data import queue_view
from dashboard.queues_figures import (
    TREND_CHARTS,
    UNIT_SHORT,
    WAIT_CHOICES,
    WAIT_STATISTICS,
    arrivals_summary,
    comparison,
    comparison_columns,
    headline,
    heatmap,
    open_cells,
    profile_table,
    target_of,
    wait_summary,
)
from dashboard.text import plain
from metrics.formatting import axis_title
from metrics.queues import metric_of, resolve_scope, scope_options
from metrics.targets import load_targets

context = state.open_or_stop()
st.title("Queues")
state.data_as_of(context)
if context.as_of is None:
    components.empty("There are no calls or visits in the database yet.", "Run `python -m data generate` for demo data, or import an export with `python -m data import`.")
    st.stop()
components.missing_data(context.missing("contacts"), "there are no queues to show", stop=True)

scopes = scope_options(context.offices)
office_column, weeks_column, week_column, wait_column = st.columns([3, 2, 3, 3])
scope_key = params.choice(
    "Office", "office", scopes, "contact_centres",
    format_func=lambda key: resolve_scope(context.offices, key).name, container=office_column,
    help="Contact centres are read through their calls, service centres through their visits.",
)
chosen = window.choose(context, weeks_column, week_column)
statistic = params.choice(
    "Wait by hour", "wait", list(WAIT_STATISTICS), "p90", format_func=WAIT_CHOICES.get, container=wait_column,
    help="Which wait the weekday-by-hour heatmap shows: the median or the 90th percentile.",
)
if chosen is None:
    components.empty("No week is complete yet.", "Come back after the first Sunday of data.")
    st.stop()

scope = resolve_scope(context.offices, scope_key)
kind = scope.kind
kind_offices = tuple(resolve_scope(context.offices, "contact_centres" if kind.kind == "contact_centre" else "service_centres").office_ids)
targets = load_targets()
with st.spinner(f"Computing the queues of {plain(scope.name.lower() if scope.is_group else scope.name)}…"):
    view = queue_view(
        context.engine, str(context.engine.url), context.departments, kind.kind, scope.key, scope.office_ids,
        kind_offices, chosen.first_day, chosen.last_day, chosen.last_monday,
    )

st.subheader(f"{plain(scope.name)}, {chosen.text}", anchor=False)
st.caption(
    f"{'Calls' if kind.channel == 'phone' else 'Visits'} only ({kind.channel.replace('_', ' ')} channel): "
    f"{'contact centres answer calls' if kind.channel == 'phone' else 'service centres see visitors'}, and the two queues are never added together. "
    "Weeks are ISO weeks (Monday to Sunday) in local time."
)
st.markdown(f"**{chosen.last_week}, the last week of the window**")
st.markdown("\n".join(f"- {line}" for line in headline(view.trend, scope, targets, chosen.last_week)))

if view.profile["arrivals"].sum() == 0:
    components.empty(
        f"No {kind.contact}s arrived at {plain(scope.name)} in {chosen.text}.",
        "Choose more weeks, a later week, or another office.",
    )
    st.stop()

st.header("Arrivals and waits by weekday and hour", divider="gray", anchor=False)
cells = open_cells(view.profile)
unit = UNIT_SHORT[kind.wait_unit]
noun = f"{kind.contact}s"
left, right = st.columns(2)
with left:
    st.markdown(f"**{arrivals_summary(view.profile, kind)}**")
    st.plotly_chart(
        heatmap(cells, "mean_arrivals", title=f"Mean {noun} an hour", colour_title=f"{noun} an hour", decimals=1, kind=kind),
        config={"displaylogo": False, "responsive": True}, key="chart-arrivals-heatmap",
    )
with right:
    st.markdown(f"**{wait_summary(view.profile, statistic, kind)}**")
    st.plotly_chart(
        heatmap(
            cells, f"wait_{statistic}", title=f"{WAIT_STATISTICS[statistic]} ({unit})", colour_title=unit,
            decimals=1 if kind.wait_unit == "minutes" else 0, unit=f" {unit}", kind=kind,
        ),
        config={"displaylogo": False, "responsive": True}, key="chart-wait-heatmap",
    )
st.caption(
    f"Mean {noun} an hour: the {noun} that arrived in that hour of that weekday, divided by how often the hour occurred in the "
    "window (so the hour the clocks skip or repeat is counted right); an hour in which not one arrived in the whole window (the "
    "office was closed) is left blank. Waits are shown only where at least 5 were answered; blank cells have fewer. Local time "
    "of each office."
)
with st.expander(f"The numbers behind the two heatmaps ({cells.height:,} rows)"):
    components.table(profile_table(view.profile, kind), f"queues-by-hour-{scope.key}-{chosen.last_week}")

st.header("Over time", divider="gray", anchor=False)
charts = TREND_CHARTS[kind.kind]
for row_start in range(0, len(charts), 2):
    columns = st.columns(2)
    for column, (title, kpis) in zip(columns, charts[row_start:row_start + 2], strict=False):
        metrics = [metric_of(k) for k in kpis]
        target_values = {k: target_of(k, scope, targets) for k in kpis}
        target = next((t for t in target_values.values() if t is not None), None) if len(kpis) == 1 else None
        y_title = f"Wait ({metrics[0].unit})" if len(kpis) > 1 else axis_title(metrics[0])
        figure = metric_lines(view.trend, metrics, title=f"{title}, by week", target=target, y_title=y_title, height=320)
        with column:
            components.chart(figure, trend_summary(view.trend, kpis, target_values), trend_table(view.trend, kpis), f"{title}-{scope.key}-{chosen.last_week}")

st.header(f"Offices compared in {chosen.last_week}", divider="gray", anchor=False)
compared = comparison(view.by_office, view.overall, scope, context.office_names, targets)
config = {
    key: st.column_config.NumberColumn(spec["label"], format=spec["format"], help=spec["help"])
    for key, spec in comparison_columns(kind, targets).items()
}
components.table(compared, f"offices-compared-{kind.kind}-{chosen.last_week}", column_config=config)
st.caption(
    f"Every {kind.kind.replace('_', ' ')} in {state.week_label_text(chosen.last_week, context)}, then all of them together (sums of numerators over sums of "
    "denominators, not a mean of the offices). “Against target” names each measure near (▲) or off (✖) target; hover a column title for its definition and target."
)
if view.rule_counts.get("short_abandon_5s"):
    st.caption(f"Left out by rule in this window: {view.rule_counts['short_abandon_5s']:,} calls abandoned within 5 seconds (not counted as offered).")
