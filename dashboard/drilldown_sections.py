"""The sections of the drill-down page, each laid out from one View (the measure, the
cell and its facts): the number, its weeks, the next level's peers, distributions, and
the rows behind the number. Numbers come from the metric engine (drilldown_data), words
from metrics.drilldown, figures from drilldown_figures. Like a page, it holds no polars,
SQL or caches (tests/dashboard/test_page_contract.py)."""

from __future__ import annotations

import math

import streamlit as st

from dashboard import audit_trail, components, drilldown_data, drilldown_figures, params, state
from dashboard.drilldown_data import View, WeekValues
from dashboard.text import plain
from data.access import roles_that_can
from metrics import drilldown as drill
from metrics.formatting import number
from metrics.status import status, status_word

DISTRIBUTIONS = (  # (values, title, unit, axis title, what they are, count axis)
    ("processing_days", "Processing time of cases closed", "days", "Processing time (days)", "cases closed", "Cases"),
    ("visit_wait_minutes", "Wait of visitors served", "minutes", "Wait in person (minutes)", "visitors served", "Visitors"),
    ("call_wait_seconds", "Wait of calls answered", "seconds", "Wait on the phone (seconds)", "calls answered", "Calls"),
)


def breadcrumb_row(path: list[tuple[str, str]]) -> str | None:
    """Breadcrumbs in one row that wraps on a phone: each level above a click away, the
    last (where we are) in bold. ``path`` is [(label, key)]; returns the key clicked.
    (Equal columns, one a crumb, squeezed six long names at 1280 pixels and stacked
    them at 390.)"""
    clicked = None
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="drill-breadcrumbs"):
        for index, (label, key) in enumerate(path):
            if index == len(path) - 1:
                st.markdown(f"**{plain(label)}**", width="content")
                continue
            if st.button(plain(label), key=f"crumb-{key}", type="tertiary", help=f"Go up to {plain(label)}"):
                clicked = key
            st.markdown('<span aria-hidden="true">›</span>', unsafe_allow_html=True, width="content")
    return clicked


def breadcrumbs(context: state.Context, where: drill.Scope, week: str) -> None:
    """The breadcrumbs of the path; a click goes up to that level."""
    clicked = breadcrumb_row(drilldown_data.crumbs(context, where, week))
    if clicked is not None:
        drilldown_data.go_to(where.up_to(None if clicked == "all" else clicked))
        st.rerun()


def headline(view: View, series: WeekValues) -> dict:
    """The number of the cell, its target and status, the change on the week before and
    how it was worked out. Returns the engine's row for the cell."""
    metric, week = view.metric, view.week
    cell = view.cell(series)
    st.subheader(f"{metric.label}, {view.words}, week {week}", anchor=False)
    number_column, target_column, status_column = st.columns([2, 1, 2])
    number_column.metric(f"{metric.label}, week {week}", number(cell["value"], metric), help=metric.formula)
    target_column.metric("Target", number(view.target, metric))
    with status_column:
        state_now = "grey" if view.partial else status(cell["value"], view.target, metric.better)
        word = status_word(state_now, cell["value"], view.target, partial=view.partial)
        st.markdown(components.TILE_CSS + components.status_badge(state_now, word), unsafe_allow_html=True)
        notes = [] if view.partial else [drilldown_figures.week_change(cell["value"], view.week_before(series), metric)]
        notes.append(f"Worked out as {drill.how_counted(metric, cell)}.")
        if cell["note"] and cell["value"] is None:
            notes.append(f"{cell['note'].capitalize()}: not shown as a number.")
        breach = drilldown_figures.breach_words(series, metric, view.target, week, partial=view.partial,
                                                weeks=view.targets.breach_weeks, where=view.words_text)
        if breach:
            notes.append(plain(breach))
        st.markdown("  \n".join(note for note in notes if note))
    if view.partial:
        st.warning(f"Week {week} is not over yet: its figures are partial.", icon=":material/schedule:")
    if not cell["n"]:
        components.empty(
            f"There are no {metric.observations} behind {metric.label.lower()} for {view.words} in week {week}.",
            "Pick another week, or go up a level with the breadcrumbs.",
        )
    return cell


def trend(view: View, series: WeekValues) -> None:
    """The measure over the weeks of the window, with its target and the notes on the
    record for this measure and scope; then what is on the record for the scope."""
    metric = view.metric
    st.subheader(f"Over the {view.weeks} weeks to {series['period'][-1]}", anchor=False)
    noted = drilldown_data.trend_notes(view)
    components.chart(
        drilldown_figures.trend(series, metric, target=view.target, week=view.week, where=view.words_text, notes=noted),
        " ".join(part for part in (drill.trend_sentence(metric, series, view.week, view.words_text, view.target),
                                   drilldown_figures.notes_sentence(noted)) if part),
        drilldown_figures.trend_table(series, metric, noted), f"trend-{metric.name}-{view.words_text}-{view.week}",
    )
    on_the_record(view)


def on_the_record(view: View) -> None:
    """The scope's notes and acknowledged anomalies, every measure, newest first, and (for
    an analyst or administrator) a form to add a dated note."""
    record = drilldown_data.scope_record(view)
    with st.expander(f"On the record for {view.words} ({record.height:,})", expanded=False):  # labels are Markdown: the escaped words
        if record.height:
            st.caption("Notes people added, and the anomalies of this scope someone acknowledged or marked as known.")
            components.table(drilldown_figures.record_display(record), f"on-the-record-{view.words_text}")
        else:
            st.caption(plain(f"Nothing is on the record for {view.words_text} yet: no note, no acknowledged anomaly."))
        if not view.context.viewer.can("annotate"):
            st.caption(f"Notes are added by the {roles_that_can('annotate')} role.")
            return
        with st.form(key="note-form", clear_on_submit=True, border=False):
            st.markdown("**Add a note** (shown on this trend, for this scope)")
            day_column, which_column = st.columns([1, 2])
            noted_on = day_column.date_input("Day it happened", value=view.days[0], max_value=drilldown_data.today(), format="YYYY-MM-DD")
            every = which_column.radio("About", [False, True], horizontal=True,
                                       format_func=lambda every: "every measure" if every else view.metric.label)
            words = st.text_input("Note", max_chars=drilldown_data.NOTE_CHARACTERS, placeholder="e.g. New case system went live")
            if st.form_submit_button("Add the note"):
                try:
                    drilldown_data.add_note(view, noted_on=noted_on, words=words, every_measure=bool(every))
                except drilldown_data.NoteError as error:
                    st.error(plain(str(error)), icon=":material/error:")
                else:
                    st.toast(plain(f"Noted for {view.words_text} on {noted_on:%d %B %Y}."), icon=":material/check:")
                    st.rerun()


def peers(view: View, series: WeekValues, cell: dict) -> None:
    """The next level's members against each other, the overall figure and the target;
    choosing one (a row, or the select box) moves down to it."""
    metric, where, week, context = view.metric, view.where, view.week, view.context
    level, skipped = drill.next_level(metric, where)
    word, plural = drill.LEVEL_WORDS[level]
    for missing in skipped:
        st.info(
            f"{metric.label} is not recorded by {drill.LEVEL_WORDS[missing][0]} ({drill.not_recorded(metric, missing)}), so the next level is the {word}.",
            icon=":material/info:",
        )
    st.subheader(f"{plural.capitalize()} compared, week {week}" if level != drill.WEEK else f"Each week compared, {view.words}", anchor=False)
    with st.spinner(f"Comparing {plural}…"):
        if level == drill.WEEK:
            values, overall, names = series, view.values(())["value"][0], {}
        else:
            values = view.peer_values(level)
            overall = cell["value"]
            names = {member: context.name_of(level, member) for member in values[level].drop_nulls().to_list()}
    table = drill.peers(values, metric, level, names, overall=overall, targets=view.targets, scope=where)
    if left_out := view.not_applicable_peers(level) if level != drill.WEEK else []:
        st.caption(plain(f"{metric.label} does not apply to {', '.join(left_out)} (no online channel): left out of this comparison, "
                         "not counted as 0%."))
    if table.height == 0:
        components.empty(f"No {plural} have {metric.observations} in week {week}.", "Pick another week or measure.")
        return
    st.markdown(f"**{plain(drill.peer_sentence(metric, table, level, overall, week if level != drill.WEEK else f'the {view.weeks} weeks'))}**")
    st.plotly_chart(
        drilldown_figures.peer_bars(table, metric, level, overall=overall, target=view.target, highlight=week if level == drill.WEEK else None),
        config={"displaylogo": False, "responsive": True}, key=f"chart-peers-{level}",
    )
    shown = drilldown_figures.peer_table(table, metric, level)
    table_key = f"peers-{level}-{'-'.join(str(v) for v in where.key())}-{week}-{metric.name}"

    def open_member(member: str | None) -> None:
        if member is None:
            return
        if level == drill.WEEK:
            drilldown_data.week_choice(member, view.latest)
        else:
            drilldown_data.go_to(where.down(level, member))

    def open_row() -> None:
        selected = st.session_state[table_key].selection.rows
        if selected:
            open_member(table["member"][selected[0]])

    st.dataframe(shown, hide_index=True, width="stretch", key=table_key, on_select=open_row, selection_mode="single-row")
    st.markdown(f"Select a row, or choose below, to go down to that {word}." if level != drill.WEEK else "Select a row, or choose below, to see that week.")
    down_column, csv_column = st.columns([2, 1], vertical_alignment="bottom")
    one = drill.with_article(word)
    # the first option says what to do (a placeholder's grey is too faint to read)
    down_column.selectbox(
        f"Go down to {one}" if level != drill.WEEK else "Go to a week",
        [None, *drilldown_figures.peer_members(table)], index=0, key=f"down-{table_key}",
        on_change=lambda: open_member(st.session_state[f"down-{table_key}"]),
        format_func=lambda m: f"Choose {one}…" if m is None else names.get(m, m),
    )
    with csv_column:
        components.csv_download(shown, f"{metric.name}-{view.words_text}-by-{level}-{week}")


def distributions(view: View) -> None:
    """Processing times and waits of the cell, one histogram each."""
    week, words = view.week, view.words
    st.subheader(f"Distributions, {words}, week {week}", anchor=False)
    with st.spinner("Reading the individual times…"):
        individual = drilldown_data.cell_values(view.facts, view.facts_key, view.narrowing, *view.days)
    for column, (name, title, unit, x_title, what, y_title) in zip(st.columns(3), DISTRIBUTIONS, strict=True):
        with column:
            values = individual[name]
            if values.len() == 0:
                st.markdown(f"**{title}**")
                components.empty(f"No {what} for {words} in week {week}.", "Pick another week or go up a level.")
                continue
            bins = drill.histogram_bins(values)
            components.chart(
                drilldown_figures.histogram(bins, title=title, x_title=x_title, y_title=y_title),
                drill.distribution_sentence(values, what=f"{what} in week {week}", unit=unit, decimals=0 if unit == "seconds" else 1),
                drilldown_figures.bins_table(bins, unit=unit, what=y_title), f"distribution-{name}-{view.words_text}-{week}",
            )


def rows_behind(view: View, cell: dict) -> None:
    """The rows behind the number, a page at a time, opening on the ones that make it bad
    (ordered and filtered by the database over every row), counted by any column, with
    the files of what the filter shows."""
    metric, week, words = view.metric, view.week, view.words
    fact = drill.fact_of(metric)
    st.subheader(f"The {metric.observations} behind the number", anchor=False)
    if not view.context.viewer.can("rows"):
        st.info(
            f"The individual {metric.observations} behind a number, and their files, are for the {roles_that_can('rows')} role. "
            "Ask an administrator if you need them.",
            icon=":material/lock:",
        )
        return
    st.markdown(
        f"The {drill.POPULATION_WORDS[metric.population]}, for {words}. Times are local to the office ({view.context.timezone}). "
        "Narrow them to a service, an office or a channel with the comparisons above."
    )
    orders = drill.ROW_ORDERS.get(fact, {})
    order_column, states_column, count_column = st.columns(3)
    order = None
    if orders:
        order = params.choice(
            "Order", "order", list(orders), drill.default_order(metric), format_func=lambda o: orders[o].capitalize(),
            container=order_column, help="Sorted by the database over every row, not only this page.",
        )
    states: tuple[str, ...] = ()
    if fact == "cases":
        states = tuple(params.choices(
            "Case states", "states", drill.TRIAGE_STATES, container=states_column, placeholder="Every state",
            help="A case's state at the end of the week: overdue (open past its due date), late (closed after it), "
                 "open (not yet due), on time, or closed (no due date).",
        ))
    counting = drilldown_figures.COUNT_BY[fact]
    count_by = params.choice(
        "Count by", "count_by", ["", *counting], "", container=count_column,
        format_func=lambda c: drilldown_figures.header_of(fact, c) if c else "Nothing (list the rows)",
        help="How many of the rows (as filtered) fall in each value: which office holds the overdue pile?",
    )
    cell_key = (metric.name, view.where.key(), week, order, states)
    drilldown_data.keep_page_for(cell_key)
    rules = drill.rules_of(metric)
    with_left_out = drilldown_data.url_flag("left_out") and bool(rules)
    page = drilldown_data.requested_page()

    def fetch(page: int, **more):
        return drilldown_data.fetch_rows(view, page, with_left_out=with_left_out, order=order, states=states, **more)

    with st.spinner(f"Finding the {metric.observations}…"):
        rows = fetch(page)
        if rows.height == 0 and page > 1:  # a page past the end (a stale link): the first
            page = 1
            drilldown_data.first_page()
            rows = fetch(page)
    total = int(rows["total_rows"][0]) if rows.height else 0
    shown_rows = int(rows["filtered_rows"][0]) if rows.height and "filtered_rows" in rows.columns else total
    left_out = int(rows["left_out_rows"][0]) if rows.height and "left_out_rows" in rows.columns else 0
    listed = {
        "kpi": metric.name, "scope": view.where.key(), "week": week, "page": page, "with_left_out": with_left_out, "of": shown_rows,
        "order": order, "states": list(states),
    }
    audit_trail.note("rows", once_per=tuple((k, str(v)) for k, v in listed.items()), detail=listed, row_count=rows.height)
    if not with_left_out and rows.height and total != (cell["n"] or 0):
        st.warning(
            f"The rows found ({total:,}) do not match the figure's {cell['n'] or 0:,} {metric.observations}: the data may have changed since the figure was worked out. Reload the page.",
            icon=":material/warning:",
        )
    if rules:
        shown = st.toggle(
            "Include the rows that rules left out of the figure", value=with_left_out, key="drill-left-out",
            help=" ".join(rule.description for rule in rules) + " Each such row names its rule.",
        )
        if shown != with_left_out:
            drilldown_data.set_url_flag("left_out", shown)
            drilldown_data.first_page()
            st.rerun()
    chosen_states = " or ".join(states)
    if rows.height == 0:
        if states:
            components.empty(f"None of the {metric.observations} behind this number for {words} in week {week} is {chosen_states}.", "Choose other case states, or every state.")
        else:
            components.empty(f"No {metric.observations} are behind this number for {words} in week {week}.", "Pick another week, or go up a level with the breadcrumbs.")
        return
    if count_by:
        counted_rows(view, fetch, fact, count_by, shown_rows, metric.observations)
    pages = max(1, math.ceil(shown_rows / drilldown_data.PAGE_SIZE))
    first_row = (page - 1) * drilldown_data.PAGE_SIZE + 1
    aside = f" ({left_out:,} of them left out by rules)" if with_left_out and left_out else f"; {left_out:,} more left out by rules" if left_out else ""
    sorted_by = f" Sorted {orders[order]}." if order else ""
    if states:
        st.markdown(
            f"**{shown_rows:,} of the {total:,} {metric.observations} are {chosen_states}**{aside}.{sorted_by} "
            f"Rows {first_row:,} to {first_row + rows.height - 1:,}."
        )
    else:
        st.markdown(f"**{total:,} {metric.observations}**{aside}.{sorted_by} Rows {first_row:,} to {first_row + rows.height - 1:,}.")
    st.dataframe(drilldown_figures.on_screen(drilldown_figures.display_rows(rows, fact)), hide_index=True, width="stretch", key=f"rows-{page}")
    back, choice, forward = st.columns([1, 2, 1], vertical_alignment="bottom")
    back.button(
        "Previous page", icon=":material/chevron_left:", disabled=page <= 1, width="stretch", key="drill-previous",
        on_click=params.set_value, args=("page", str(page - 1), "1"),
    )
    params.choice("Page", "page", [str(p) for p in range(1, pages + 1)], "1", format_func=lambda p: f"Page {p} of {pages:,}", container=choice)
    forward.button(
        "Next page", icon=":material/chevron_right:", disabled=page >= pages, width="stretch", key="drill-next",
        on_click=params.set_value, args=("page", str(page + 1), "1"),
    )
    total = shown_rows  # the files hold what the filter shows

    files_key = cell_key + (with_left_out,)
    if st.session_state.get("drill-prepared") != files_key:
        if st.button(f"Prepare the CSV and Excel files of all {min(total, drilldown_data.DOWNLOAD_CAP):,} rows", icon=":material/download:", key="drill-prepare"):
            st.session_state["drill-prepared"] = files_key
            st.rerun()
        return
    with st.spinner("Preparing the files…"):
        everything = fetch(1, limit=drilldown_data.DOWNLOAD_CAP)
        csv_bytes, excel_bytes = drilldown_data.files(drilldown_figures.display_rows(everything, fact), files_key, f"{metric.label} {week}")
    if total > drilldown_data.DOWNLOAD_CAP:
        st.warning(
            f"The files hold the first {drilldown_data.DOWNLOAD_CAP:,} of {total:,} rows. Narrow the scope (a service, an office or a channel) to get them all.",
            icon=":material/warning:",
        )
    name = components.slug(f"{metric.name}-{view.words_text}-{week}" + (f"-{'-'.join(states)}" if states else ""))
    csv_column, excel_column, _ = st.columns([1, 1, 2])
    rows_in_files = min(total, drilldown_data.DOWNLOAD_CAP)
    csv_column.download_button(
        "Download CSV", csv_bytes, file_name=f"{name}.csv", mime="text/csv", icon=":material/download:", key="drill-csv",
        on_click=audit_trail.download, args=(f"{name}.csv", rows_in_files),
    )
    excel_column.download_button(
        "Download Excel", excel_bytes, file_name=f"{name}.xlsx", icon=":material/table:", key="drill-xlsx",
        on_click=audit_trail.download, args=(f"{name}.xlsx", rows_in_files),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def counted_rows(view: View, fetch, fact: str, column: str, shown_rows: int, observations: str) -> None:
    """The rows (as filtered, every page) counted by one column, most first, with a
    sentence and its file."""
    header = drilldown_figures.header_of(fact, column)
    with st.spinner(f"Counting the {observations} by {header.lower()}…"):
        everything = fetch(1, limit=drilldown_data.DOWNLOAD_CAP)
    counts = drilldown_figures.count_table(drilldown_figures.display_rows(everything, fact), header)
    st.markdown(f"**{plain(drilldown_figures.count_summary(counts, header, observations))}**")
    if shown_rows > drilldown_data.DOWNLOAD_CAP:
        st.warning(
            f"Counted over the first {drilldown_data.DOWNLOAD_CAP:,} of {shown_rows:,} rows. Narrow the scope to count them all.",
            icon=":material/warning:",
        )
    components.table(
        counts, f"{view.metric.name}-{view.words_text}-{view.week}-by-{column}",
        column_config={"Share (%)": st.column_config.NumberColumn(format="%.1f")},
    )
