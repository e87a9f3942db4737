"""Queues: arrivals and waits by weekday and hour, and the queue metrics over time, for the
contact centres (calls) and the service centres (visits), never mixed."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import components, params, queues_data, queues_figures, state, window
from dashboard.text import plain
from metrics.queues import resolve_scope, scope_options
from metrics.targets import load_targets

context = state.open_or_stop()
st.title("Queues")
state.data_as_of(context)
components.stop_without_data(context, "There are no calls or visits in the database yet.")
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
    "Wait by hour", "wait", list(queues_figures.WAIT_STATISTICS), "p90", format_func=queues_figures.WAIT_CHOICES.get, container=wait_column,
    help="Which wait the weekday-by-hour heatmap shows: the median or the 90th percentile.",
)
if chosen is None:
    components.empty("No week is complete yet.", "Come back after the first Sunday of data.")
    st.stop()

scope = resolve_scope(context.offices, scope_key)
kind = scope.kind
targets = load_targets()
with st.spinner(f"Computing the queues of {plain(scope.name.lower() if scope.is_group else scope.name)}…"):
    view = queues_data.view_of(context, scope, chosen)

st.subheader(f"{plain(scope.name)}, {chosen.text}", anchor=False)
st.caption(queues_figures.channel_caption(kind))
st.markdown(f"**{chosen.last_week}, the last week of the window**")
st.markdown("\n".join(f"- {line}" for line in queues_figures.headline(view.trend, scope, targets, chosen.last_week)))

if view.no_arrivals:
    components.empty(
        f"No {kind.contact}s arrived at {plain(scope.name)} in {chosen.text}.",
        "Choose more weeks, a later week, or another office.",
    )
    st.stop()

st.header("Arrivals and waits by weekday and hour", divider="gray", anchor=False)
cells = queues_figures.open_cells(view.profile)
left, right = st.columns(2)
with left:
    st.markdown(f"**{queues_figures.arrivals_summary(view.profile, kind)}**")
    st.plotly_chart(queues_figures.arrivals_heatmap(cells, kind), config={"displaylogo": False, "responsive": True}, key="chart-arrivals-heatmap")
with right:
    st.markdown(f"**{queues_figures.wait_summary(view.profile, statistic, kind)}**")
    st.plotly_chart(queues_figures.wait_heatmap(cells, statistic, kind), config={"displaylogo": False, "responsive": True}, key="chart-wait-heatmap")
st.caption(queues_figures.heatmap_caption(kind))
st.html(queues_figures.NARROW_HEATMAP_NOTE)
with st.expander(f"The numbers behind the two heatmaps ({cells.height:,} rows)"):
    components.table(queues_figures.profile_table(view.profile, kind), f"queues-by-hour-{scope.key}-{chosen.last_week}")

st.header("Over time", divider="gray", anchor=False)
charts = queues_figures.trend_charts(view.trend, scope, targets)
for row_start in range(0, len(charts), 2):
    for column, (title, figure, summary, table) in zip(st.columns(2), charts[row_start:row_start + 2], strict=False):
        with column:
            components.chart(figure, summary, table, f"{title}-{scope.key}-{chosen.last_week}")

st.header(f"Offices compared in {chosen.last_week}", divider="gray", anchor=False)
compared = queues_figures.comparison(view.by_office, view.overall, scope, context.office_names, targets)
config = {
    key: st.column_config.NumberColumn(spec["label"], format=spec["format"], help=spec["help"])
    for key, spec in queues_figures.comparison_columns(kind, targets).items()
}
components.table(compared, f"offices-compared-{kind.kind}-{chosen.last_week}", column_config=config)
st.caption(
    f"Every {kind.kind.replace('_', ' ')} in {state.week_label_text(chosen.last_week, context)}, then all of them together (sums of numerators over sums of "
    "denominators, not a mean of the offices). “Against target” names each measure near (▲) or off (✖) target; hover a column title for its definition and target."
)
if caption := queues_figures.rules_caption(view.rule_counts):
    st.caption(caption)
