"""Overview: the weekly scorecard of a scope, for department heads."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from anomalies import links
from dashboard import components, overview_data, overview_figures, params, published_data, published_sections, state
from dashboard.text import plain
from metrics.report_periods import PERIOD_KINDS, PERIOD_WORDS
from metrics.summary import sentences

context = state.open_or_stop()
st.title("Weekly scorecard")
state.data_as_of(context)
if context.as_of is None and published_sections.overview_section(context, state.ALL, state.ALL, published_data.today(), "All departments"):
    st.stop()  # only published series so far: no week to score
components.stop_without_data(context, "There are no cases or contacts in the database yet.")

components.missing_data(
    context.missing("contacts", "feedback", "journeys", "costs"),
    "the measures built on them are shown as \"too little data\"",
)
left, middle, right = st.columns([1, 1, 1])
department = params.department(context, container=left)
service = params.service(context, department, container=middle)
weeks = state.week_options(context)
week = params.choice("Week", links.WEEK, weeks, state.default_week(context), format_func=lambda w: state.week_label_text(w, context), container=right)
params.keep(links.WEEK, week)

with st.spinner("Computing the scorecard…"):
    card = overview_data.scorecard(context, department, service, week)
    where = overview_data.where_matrix(context, department, service, week)
scope_name = params.scope_name(context, department, service)
child_names = overview_data.child_names(context, where.dimension)
in_department, in_service = overview_data.level(department), overview_data.level(service)
rows = card.rows

breaches = overview_figures.breaches_in_view(card, where, scope_name, child_names)
st.subheader(f"{plain(scope_name)}, {state.week_label_text(week, context)}")
st.markdown("\n".join(f"- {plain(sentence)}" for sentence in [*sentences(card, where=where, names=child_names), *overview_figures.breach_headline(breaches, week)]))
if card.partial:
    st.warning(f"{week} is not over yet: its figures are partial and are not compared or judged.", icon=":material/schedule:")

# A scope with no cases, calls or ratings but published series (a department that imported
# only published figures) shows those first: its weekly measures are all empty.
published_first = overview_data.without_events(card) and published_sections.overview_section(
    context, department, service, overview_data.week_end(week), scope_name, no_events=True)

composite = card.composite.row(0, named=True)
score_column, above_column, below_column = st.columns([1, 2, 2])
with score_column:
    score = composite["score"]
    st.metric("Composite score", "–" if score is None else f"{score:.2f}", help="Boston's CityScore: each measure's actual ÷ target (target ÷ actual where lower is better), capped at 1.25, averaged. 1.00 means on target.")
    st.markdown(components.status_badge(composite["status"], overview_figures.composite_badge_word(composite)), unsafe_allow_html=True)
    st.caption(plain(overview_figures.composite_caption(composite, rows)))
with above_column:
    st.markdown("**Furthest above target**")
    st.markdown(overview_figures.ranked(rows, composite["above"]))
with below_column:
    st.markdown("**Furthest below target**")
    st.markdown(overview_figures.ranked(rows, composite["below"]))

components.tiles(rows, card.history, overview_figures.tile_hrefs(rows, week, in_department, in_service))
if not published_first:
    published_sections.overview_section(context, department, service, overview_data.week_end(week), scope_name)

st.subheader("Where", anchor=False)
if where.ranking.height:
    st.markdown(overview_figures.matrix_html(where, child_names, scope_name, rows, in_department, in_service), unsafe_allow_html=True)
    components.csv_download(overview_figures.matrix_table(where, child_names), f"where-{scope_name}-{week}", label="Download the matrix as CSV")
else:
    components.empty(f"{scope_name} has no figures split further this week.", "Pick another week or scope.")

st.subheader("For how long", anchor=False)
if breaches.height:
    st.markdown("\n".join(f"- {plain(line)}" for line in overview_figures.breach_lines(breaches, week)))
    st.dataframe(overview_figures.breach_table(breaches), hide_index=True, width="stretch")
    components.csv_download(overview_figures.breach_csv(breaches), f"breaches-{scope_name}-{week}", label="Download the breaches as CSV")
elif card.partial:
    st.markdown(f"{week} is not over yet: breaches are judged on complete weeks only.")
else:
    st.markdown(f"No measure of {plain(scope_name)} or its parts has been below target for {card.breach_weeks} weeks in a row.")
st.caption(overview_figures.BREACH_NOTE.format(weeks=card.breach_weeks))

st.subheader("What it will take", anchor=False)
earliest, proposed = overview_data.clear_by_choices(week)
date_column, _rest = st.columns([1, 3])
clear_by = params.day("Clear the backlog by", "clear_by", proposed, min_value=earliest, container=date_column,
                      help="The closing rate that would clear the backlog by this date, if submissions go on as in the last four weeks.")
st.markdown("\n".join(f"- {plain(line)}" for line in overview_figures.backlog_lines(card, clear_by)))
if not where.partial:
    by_child = overview_figures.projection_table(where, child_names, clear_by)
    if by_child.height:
        st.dataframe(by_child, hide_index=True, width="stretch")
st.caption(overview_figures.BACKLOG_NOTE)

st.subheader("Month, quarter and financial year", anchor=False)
kind_column, _rest = st.columns([1, 3])
kind = params.choice("Period", "period", list(PERIOD_KINDS), "month", format_func=PERIOD_WORDS.__getitem__, container=kind_column,
                     help="The month, quarter or financial year to date that holds the chosen week's last day.")
with st.spinner("Computing the period…"):
    period_card, period = overview_data.period_card(context, department, service, week, kind)
st.markdown(plain(overview_figures.period_summary(period_card, period)))
if caption := overview_figures.period_caption(period):
    st.caption(plain(caption))
st.dataframe(overview_figures.scorecard_table(period_card.rows, overview_figures.period_headings(period)), hide_index=True, width="stretch")
components.csv_download(overview_figures.period_csv(period_card, period), f"scorecard-{scope_name}-{period.label}")
st.caption(overview_figures.period_note(overview_data.financial_year_start()))

with st.expander("The scorecard as a table", expanded=False):
    st.dataframe(overview_figures.scorecard_table(rows), hide_index=True, width="stretch")
    components.csv_download(overview_figures.scorecard_csv(rows), f"scorecard-{scope_name}-{week}")
with st.expander("The last 13 weeks of every measure (the sparklines)", expanded=False):
    st.dataframe(overview_figures.sparkline_table(card.history), hide_index=True, width="stretch")
    components.csv_download(overview_figures.sparkline_csv(card.history), f"sparklines-{scope_name}-{week}")

if caption := overview_figures.rules_caption(card, week):
    st.caption(caption)
