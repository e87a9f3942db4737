"""Drill-down, for analysts: one measure, walked down from all departments to a service,
an office, a channel and a week, with the peers of each level, distributions, and the
rows behind the number."""

from __future__ import annotations

import math
from datetime import timedelta

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import polars as pl
import streamlit as st

from dashboard import components, params, state
from dashboard import drilldown_data as data
from dashboard import figures_drilldown as figures
from metrics import drilldown as drill
from metrics.formatting import axis_title, number
from metrics.registry import METRICS
from metrics.status import status
from metrics.targets import load_targets

context = state.open_or_stop()
st.title("Drill-down", anchor=False)
state.data_as_of(context)
if context.as_of is None:
    components.empty("There are no cases or contacts in the database yet.", "Run `python -m data generate` for demo data, or import an export with `python -m data import`.")
    st.stop()

# ---------------------------------------------------------------------- what, when, where
measure_column, window_column, week_column = st.columns([2, 1, 2])
kpi = params.choice("Measure", "kpi", list(METRICS), "on_time_rate", format_func=lambda k: METRICS[k].label, container=measure_column)
metric = METRICS[kpi]
weeks = int(params.choice("Weeks shown", "weeks", [str(w) for w in drill.WINDOWS], "13", format_func=lambda w: f"{w} weeks", container=window_column))
latest = state.default_week(context)
week = params.choice("Week", "week", state.week_options(context), latest, format_func=lambda w: state.week_label_text(w, context), container=week_column)
first_day, last_day = drill.window(week, latest, weeks)
monday, sunday = drill.week_days(week)
where = data.scope(context)
where_words = data.scope_words(context, where)
targets = load_targets()
target = targets.for_scope(kpi, department_id=where.department_id, service_id=where.service_id, office_id=where.office_id)[0]

st.markdown(f"{metric.description} *Formula:* {metric.formula}.")
clicked = data.breadcrumbs(data.crumbs(context, where, week))
if clicked is not None:
    data.go_to(where.up_to(None if clicked == "all" else clicked))
    st.rerun()

blocked = drill.blocked_by(metric, where)
if blocked:
    components.empty(blocked, "Go up a level with the breadcrumbs above, or pick another measure.")
    st.stop()

with st.spinner("Working out the figures…"):
    facts, facts_key = data.facts_for(context, where, last_day)
    narrowing = tuple(where.narrowing().items())
    series = data.kpi_values(facts, facts_key, narrowing, kpi, ("week",), first_day, last_day)
cell = series.filter(pl.col("period") == week).row(0, named=True)
week_before = series.filter(pl.col("period_start") == monday - timedelta(weeks=1))
before = week_before["value"][0] if week_before.height else None

# ---------------------------------------------------------------------- the number
st.subheader(f"{metric.label}, {where_words}, week {week}", anchor=False)
partial = sunday > context.as_of
number_column, target_column, status_column = st.columns([2, 1, 2])
number_column.metric(f"{metric.label}, week {week}", number(cell["value"], metric), help=metric.formula)
target_column.metric("Target", number(target, metric))
with status_column:
    state_now = "grey" if partial else status(cell["value"], target, metric.better)
    st.markdown(components.TILE_CSS + components.status_badge(state_now, "Week in progress" if partial else None), unsafe_allow_html=True)
    notes = [] if partial else [figures.week_change(cell["value"], before, metric)]
    notes.append(f"Worked out as {drill.how_counted(metric, cell)}.")
    if cell["note"] and cell["value"] is None:
        notes.append(f"{cell['note'].capitalize()}: not shown as a number.")
    st.markdown("  \n".join(note for note in notes if note))
if partial:
    st.warning(f"Week {week} is not over yet: its figures are partial.", icon=":material/schedule:")
if cell["n"] == 0:
    components.empty(
        f"There are no {metric.observations} behind {metric.label.lower()} for {where_words} in week {week}.",
        "Pick another week, or go up a level with the breadcrumbs.",
    )

# ---------------------------------------------------------------------- over the weeks
st.subheader(f"Over the {weeks} weeks to {series['period'][-1]}", anchor=False)
trend_table = series.select(
    pl.col("period").alias("Week"), pl.col("period_start").alias("Starts"), pl.col("value").round(metric.decimals).alias(axis_title(metric)),
    pl.col("numerator").alias("Numerator"), pl.col("denominator").alias("Denominator"), pl.col("n").alias("Observations"), pl.col("note").fill_null("").alias("Note"),
)
components.chart(
    figures.trend(series, metric, target=target, week=week, where=where_words),
    drill.trend_sentence(metric, series, week, where_words, target),
    trend_table, f"trend-{kpi}-{where_words}-{week}",
)

# ---------------------------------------------------------------------- the next level
level, skipped = drill.next_level(metric, where)
for missing in skipped:
    st.info(f"{metric.label} is not recorded by {drill.LEVEL_WORDS[missing][0]} ({drill.not_recorded(metric, missing)}), so the next level is the {drill.LEVEL_WORDS[level][0]}.", icon=":material/info:")
plural = drill.LEVEL_WORDS[level][1]
st.subheader(f"{plural.capitalize()} compared, week {week}" if level != drill.WEEK else f"Each week compared, {where_words}", anchor=False)
with st.spinner(f"Comparing {plural}…"):
    if level == drill.WEEK:
        values = series
        overall = data.kpi_values(facts, facts_key, narrowing, kpi, (), first_day, last_day)["value"][0]
        names: dict[str, str] = {}
    else:
        values = data.kpi_values(facts, facts_key, narrowing, kpi, ("week", level), first_day, last_day).filter(pl.col("period") == week)
        overall = cell["value"]
        names = {member: context.name_of(level, member) for member in values[level].drop_nulls().to_list()}
peer = drill.peers(values, metric, level, names, overall=overall, targets=targets, scope=where)
if peer.height == 0:
    components.empty(f"No {plural} have {metric.observations} in week {week}.", "Pick another week or measure.")
else:
    st.markdown(f"**{drill.peer_sentence(metric, peer, level, overall, week if level != drill.WEEK else f'the {weeks} weeks')}**")
    st.plotly_chart(
        figures.peer_bars(peer, metric, level, overall=overall, target=target, highlight=week if level == drill.WEEK else None),
        config={"displaylogo": False, "responsive": True}, key=f"chart-peers-{level}",
    )
    choosable = peer.filter(pl.col("member").is_not_null())
    table_key = f"peers-{level}-{'-'.join(str(v) for v in where.key())}-{week}-{kpi}"

    def open_row() -> None:
        selected = st.session_state[table_key].selection.rows
        if selected:
            member = peer["member"][selected[0]]
            if member is not None:
                open_member(member)

    def open_member(member: str) -> None:
        if level == drill.WEEK:
            data.week_choice(member, latest)
        else:
            data.go_to(where.down(level, member))

    def open_choice() -> None:
        member = st.session_state[f"down-{table_key}"]
        if member is not None:
            open_member(member)

    st.dataframe(
        figures.peer_table(peer, metric, level), hide_index=True, width="stretch", key=table_key,
        on_select=open_row, selection_mode="single-row",
    )
    st.markdown(f"Select a row, or choose below, to go down to that {drill.LEVEL_WORDS[level][0]}." if level != drill.WEEK else "Select a row, or choose below, to see that week.")
    down_column, csv_column = st.columns([2, 1], vertical_alignment="bottom")
    one = drill.with_article(drill.LEVEL_WORDS[level][0])
    # the first option says what to do (a placeholder's grey is too faint to read)
    down_column.selectbox(
        f"Go down to {one}" if level != drill.WEEK else "Go to a week",
        [None, *choosable["member"].to_list()], index=0, key=f"down-{table_key}", on_change=open_choice,
        format_func=lambda m: f"Choose {one}…" if m is None else names.get(m, m),
    )
    with csv_column:
        components.csv_download(figures.peer_table(peer, metric, level), f"{kpi}-{where_words}-by-{level}-{week}")

# ---------------------------------------------------------------------- distributions
st.subheader(f"Distributions, {where_words}, week {week}", anchor=False)
with st.spinner("Reading the individual times…"):
    individual = data.cell_values(facts, facts_key, narrowing, monday, sunday)
DISTRIBUTIONS = (
    ("processing_days", "Processing time of cases closed", "days", "Processing time (days)", "cases closed", "Cases"),
    ("visit_wait_minutes", "Wait of visitors served", "minutes", "Wait in person (minutes)", "visitors served", "Visitors"),
    ("call_wait_seconds", "Wait of calls answered", "seconds", "Wait on the phone (seconds)", "calls answered", "Calls"),
)
for column, (name, title, unit, x_title, what, y_title) in zip(st.columns(3), DISTRIBUTIONS, strict=True):
    with column:
        values_of = individual[name]
        if values_of.len() == 0:
            st.markdown(f"**{title}**")
            components.empty(f"No {what} for {where_words} in week {week}.", "Pick another week or go up a level.")
            continue
        bins = drill.histogram_bins(values_of)
        components.chart(
            figures.histogram(bins, title=title, x_title=x_title, y_title=y_title),
            drill.distribution_sentence(values_of, what=f"{what} in week {week}", unit=unit, decimals=0 if unit == "seconds" else 1),
            figures.bins_table(bins, unit=unit, what=y_title), f"distribution-{name}-{where_words}-{week}",
        )

# ---------------------------------------------------------------------- the rows behind the number
fact = drill.fact_of(metric)
st.subheader(f"The {metric.observations} behind the number", anchor=False)
st.markdown(f"The {drill.POPULATION_WORDS[metric.population]}, for {where_words}. Times are local to the office ({context.timezone}).")
cell_key = (kpi, where.key(), week)
data.keep_page_for(cell_key)
with_left_out = data.url_flag("left_out") and fact != "feedback"
page_number = data.requested_page()


def fetch(page: int, limit: int = data.PAGE_SIZE) -> pl.DataFrame:
    query = drill.rows_query(
        metric, where, context.departments, monday, sunday, timezone=facts.timezone,
        limit=limit, offset=(page - 1) * data.PAGE_SIZE, with_left_out=with_left_out,
    )
    return data.rows(context, query)


with st.spinner(f"Finding the {metric.observations}…"):
    page_rows = fetch(page_number)
    if page_rows.height == 0 and page_number > 1:
        page_number = 1
        data.first_page()
        page_rows = fetch(1)
total = int(page_rows["total_rows"][0]) if page_rows.height else 0
left_out = int(page_rows["left_out_rows"][0]) if page_rows.height and "left_out_rows" in page_rows.columns else 0
if not with_left_out and total != (cell["n"] or 0):
    st.warning(f"The rows found ({total:,}) do not match the figure's {cell['n']:,} {metric.observations}: the data may have changed since the figure was worked out. Reload the page.", icon=":material/warning:")
if fact != "feedback":
    show_left_out = st.toggle(
        "Include the rows that rules left out of the figure", value=with_left_out, key="drill-left-out",
        help="Administrative closes within 60 s, calls abandoned within 5 s, resumed online sessions: listed with the rule that left each out.",
    )
    if show_left_out != with_left_out:
        data.set_url_flag("left_out", show_left_out)
        data.first_page()
        st.rerun()
if total == 0:
    components.empty(
        f"No {metric.observations} are behind this number for {where_words} in week {week}.",
        "Pick another week, or go up a level with the breadcrumbs.",
    )
else:
    pages = max(1, math.ceil(total / data.PAGE_SIZE))
    shown_from = (page_number - 1) * data.PAGE_SIZE + 1
    st.markdown(
        f"**{total:,} {metric.observations}**"
        + (f" ({left_out:,} of them left out by rules)" if with_left_out and left_out else f"; {left_out:,} more left out by rules" if left_out else "")
        + f". Rows {shown_from:,} to {shown_from + page_rows.height - 1:,}."
    )
    st.dataframe(figures.on_screen(figures.display_rows(page_rows, fact)), hide_index=True, width="stretch", key=f"rows-{page_number}")
    back_column, page_column, next_column = st.columns([1, 2, 1], vertical_alignment="bottom")
    back_column.button(
        "Previous page", icon=":material/chevron_left:", disabled=page_number <= 1, width="stretch", key="drill-previous",
        on_click=params.set_value, args=("page", str(page_number - 1), "1"),
    )
    params.choice("Page", "page", [str(p) for p in range(1, pages + 1)], "1", format_func=lambda p: f"Page {p} of {pages:,}", container=page_column)
    next_column.button(
        "Next page", icon=":material/chevron_right:", disabled=page_number >= pages, width="stretch", key="drill-next",
        on_click=params.set_value, args=("page", str(page_number + 1), "1"),
    )

    file_name = f"{kpi}-{where_words}-{week}"
    prepared = st.session_state.get("drill-prepared") == cell_key + (with_left_out,)
    if not prepared:
        if st.button(f"Prepare the CSV and Excel files of all {min(total, data.DOWNLOAD_CAP):,} rows", icon=":material/download:", key="drill-prepare"):
            st.session_state["drill-prepared"] = cell_key + (with_left_out,)
            st.rerun()
    else:
        with st.spinner("Preparing the files…"):
            everything = fetch(1, limit=data.DOWNLOAD_CAP)
            csv_bytes, excel_bytes = data.files(figures.display_rows(everything, fact), cell_key + (with_left_out,), f"{metric.label} {week}")
        if total > data.DOWNLOAD_CAP:
            st.warning(f"The files hold the first {data.DOWNLOAD_CAP:,} of {total:,} rows. Narrow the scope (a service, an office or a channel) to get them all.", icon=":material/warning:")
        csv_column, excel_column, _ = st.columns([1, 1, 2])
        csv_column.download_button(
            "Download CSV", csv_bytes, file_name=f"{components.slug(file_name)}.csv", mime="text/csv",
            icon=":material/download:", on_click="ignore", key="drill-csv",
        )
        excel_column.download_button(
            "Download Excel", excel_bytes, file_name=f"{components.slug(file_name)}.xlsx", icon=":material/table:", on_click="ignore", key="drill-xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
