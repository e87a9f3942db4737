"""Planner: the stored demand forecast of a series with its intervals and backtest, and the
staff an office with a queue needs (Erlang C and A) against its roster, with what-ifs.

Nothing is fitted here: forecasts come from the latest stored run (`python -m forecasting
run`); a what-if recomputes staffing from the cached inputs.
"""

from __future__ import annotations

import datetime as dt

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import components, params, planner_data, state, text
from dashboard import planner_figures as figures
from data.rosters import RosterError
from forecasting.planning import default_settings
from forecasting.store import series_forecast

WHAT_IFS = ("volume", "aht", "shrinkage", "occupancy", "sl", "answer", "patience")

context = state.open_or_stop("plan", "Demand forecasts and staffing")
planner_data.styles()
st.title("Demand and staffing")
state.data_as_of(context)
url = str(context.engine.url)
run = planner_data.latest_run(context.engine, url, context.departments)
if run is None:
    components.empty(*figures.no_run_words(planner_data.forecast_running(url)))
    st.stop()

series, forecasts, backtests = planner_data.stored(context.engine, url, context.departments, run["run_id"])
sees_every_department = planner_data.sees_every_department(context.engine, url, context.departments)
cutoffs = planner_data.run_cutoffs(run)
planner_data.note(
    f"Forecast run {run['run_id']}, made {run['finished_at']:%d %b %Y %H:%M} UTC from data to "
    f"{figures.day_label(run['data_end'], year=True)}: {run['horizon']} days ahead, models compared "
    f"{', '.join(figures.model_name(m) for m in run['models'].split(','))}; public holidays {run['holidays'] or 'none'}. "
    "The run's code version is in the catalogue (Measures and data quality)."
)
if stale := planner_data.stale_warning(context.as_of, run, figures.day_label):
    st.warning(stale, icon=":material/update:")

options = figures.series_options(series)
names = figures.series_names(series)
if not options:
    components.empty(
        "None of the stored forecast series belongs to your departments.",
        "Totals, offices, channels and calls or visits pool every department, so only a viewer of every department "
        "sees them; ask an administrator to forecast your services with `python -m forecasting run`.",
    )
    st.stop()

# ---------------------------------------------------------------------------------- forecast
st.header("Demand forecast")
wanted = st.query_params.get("series")
default_series = planner_data.default_series(options)
unavailable = planner_data.unavailable_series(
    wanted, options, sees_all_departments=sees_every_department, shown=names[default_series], run_id=run["run_id"],
)
if unavailable:
    st.info(unavailable[0], icon=unavailable[1])
left, right = st.columns([3, 1])
series_id = params.choice("Series", "series", options, default_series, format_func=lambda s: names.get(s, s), container=left)
weeks = params.choice("Actuals shown", "weeks", ["4", "8", "13", "26", "52"], "13", format_func=lambda w: f"Last {w} weeks", container=right)
if not sees_every_department:
    planner_data.note("Totals, offices, channels and calls or visits pool every department: only viewers of every department see them.")

data_end = run["data_end"]
recommended = series_forecast(forecasts, series_id)
baseline = series_forecast(forecasts, series_id, recommended=False)
model = recommended["model"][0]
first_actual = data_end - dt.timedelta(weeks=int(weeks)) + dt.timedelta(days=1)
last_actual = max(context.as_of or data_end, data_end)
with st.spinner("Reading the recent actuals…"):
    values, closed_days = planner_data.actuals(context.engine, url, context.departments, first_actual, last_actual, run["horizon"])
actual, closed_history = figures.series_actuals(values, closed_days, series_id)
holidays = planner_data.holidays(run["holidays"], first_actual, recommended["ds"].max())
table = figures.forecast_table(actual, closed_history, recommended, baseline, holidays)
office_kinds = dict(zip(context.offices["office_id"], context.offices["kind"], strict=True))
unit = figures.unit_of(series_id, office_kinds)
label = names[series_id]
components.chart(
    figures.forecast_figure(table, title=f"{unit.capitalize()} per day: actual and forecast", unit=unit, model=model, data_end=data_end),
    figures.forecast_summary(table, label=label, unit=unit, model=model),
    figures.forecast_display(table),
    f"forecast-{series_id}",
)

st.header("Which model, and how well it forecast the past")
st.markdown(figures.recommendation_text(backtests, series_id, recommended=model, cutoffs=cutoffs, horizon=run["horizon"]))
components.table(figures.backtest_table(backtests, series_id), f"backtest-{series_id}", column_config={
    "MASE": st.column_config.NumberColumn(format="%.2f"),
    **{name: st.column_config.NumberColumn(format="%.1f") for name in ("sMAPE %", "Inside 80% interval %", "Inside 95% interval %")},
    "95% interval width": st.column_config.NumberColumn(format="%.0f"),
})
planner_data.note(
    f"{figures.MASE_WORDS} "
    "sMAPE: symmetric mean absolute percentage error. Inside 80% and 95% interval: the share of actual days inside the "
    "band, about 80% and 95% when the band is honest. Width: the 95% band's mean width per day. Closed days are not scored."
)
window_holidays = planner_data.holidays(run["holidays"], min(cutoffs), max(cutoffs) + dt.timedelta(days=run["horizon"])) if cutoffs else {}
by_horizon = figures.horizon_frame(backtests, series_id, cutoffs, window_holidays)
if by_horizon.height:
    components.chart(
        figures.horizon_figure(by_horizon),
        figures.horizon_summary(by_horizon, model=model, windows=len(cutoffs)),
        figures.horizon_display(by_horizon),
        f"backtest-by-days-ahead-{series_id}",
    )

# ---------------------------------------------------------------------------------- live accuracy
st.header("How the live forecasts did")
live = planner_data.live(context.engine, url, context.departments, run["run_id"], first_actual, last_actual, run["horizon"])
live_table = figures.live_display(live, series_id)
if live_table.height == 0:
    components.empty(*figures.no_live_words(label, weeks=int(weeks), data_end=data_end))
else:
    components.chart(
        figures.live_figure(live_table, title=f"{unit.capitalize()} per day: the forecast made before each day, and the actual", unit=unit),
        figures.live_summary(live, series_id, label=label, unit=unit),
        live_table,
        f"live-forecasts-{series_id}",
    )
    st.markdown("**Live accuracy beside the backtest**")
    components.table(figures.live_against_backtest(live, backtests, series_id), f"live-against-backtest-{series_id}")
    with st.expander("Live accuracy by weeks ahead"):
        components.table(figures.live_by_weeks_ahead(live, series_id), f"live-by-weeks-ahead-{series_id}")
    planner_data.note(
        "Live: each past day scored against the forecast of the latest stored run made from data ending before it; "
        "closed days and days without data are not scored. WAPE: total absolute error over total actual. The error against "
        "seasonal naive's is the model's mean error over the seasonal-naive forecast's of the same runs (below 1 beats it); "
        "the backtest's is its MASE over the baseline's MASE, the same comparison on simulated windows."
    )

# ---------------------------------------------------------------------------------- staffing
st.header("Staffing")
offices = figures.queue_offices(context.offices, options)
if not offices:
    components.empty(*planner_data.no_offices(sees_every_department))
    st.stop()

planner_data.office_follows_series(series_id, figures.queue_office_of(series_id, offices))
default_office = figures.queue_office_of(series_id, offices) or offices[0]
top = st.columns([2, 2, 2])
office = params.choice("Office to staff", "office", offices, default_office, format_func=context.office_names.get, container=top[0])
horizon = figures.horizon_days(forecasts, planner_data.queue_series(office))
first_day, last_day = planner_data.date_range(
    "Days to plan", horizon[0], horizon[1], (horizon[0], min(horizon[0] + dt.timedelta(days=13), horizon[1])), container=top[1],
    help="Any days inside the stored forecast.",
)
plan_for = params.choice(
    "Plan for", "plan_for", ["yhat", "hi80", "hi95"], "yhat", container=top[2],
    format_func={"yhat": "The forecast", "hi80": "Its upper 80% bound (a busy period)", "hi95": "Its upper 95% bound"}.get,
)
inputs = planner_data.staffing_inputs(context.engine, url, context.departments, run["run_id"], office, first_day, last_day)
if isinstance(inputs, str):
    components.empty(f"This office cannot be planned: {inputs}", "Choose another office or other days.")
    st.stop()

queue = inputs.queue
base = default_settings(inputs.office_kind)
aht_default = round(queue.aht_seconds)
patience_default = planner_data.patience_default(queue.patience_seconds)
with st.container(border=True):
    st.markdown("**What if…** Staffing is recomputed at once from the stored forecast; nothing is refitted.")
    row = st.columns(4)
    volume = planner_data.number("Volume change (%)", "volume", 0, min_value=-50, max_value=200, step=5, container=row[0], help="Applied to every day's forecast.")
    aht = planner_data.number(
        "Average handle time (seconds)", "aht", aht_default, min_value=10, max_value=7_200, step=10, container=row[1],
        help=f"History: {queue.aht_seconds:.0f} s over {queue.answered:,} answered {queue.channel} contacts in the last 12 weeks.",
    )
    shrinkage = planner_data.number("Shrinkage (%)", "shrinkage", round(base.shrinkage * 100), min_value=0, max_value=80, container=row[2], help="Paid time off the queue: breaks, leave, training.")
    occupancy = planner_data.number("Maximum occupancy (%)", "occupancy", round(base.max_occupancy * 100), min_value=50, max_value=100, container=row[3])
    row = st.columns(4)
    service_level = planner_data.number("Service level target (%)", "sl", round(base.service_level * 100), min_value=1, max_value=99, container=row[0])
    answer = planner_data.number("Answered within (seconds)", "answer", round(base.target_seconds), min_value=1, max_value=3_600, step=5, container=row[1])
    patience = planner_data.number(
        "Caller patience (seconds)", "patience", patience_default, min_value=5, max_value=86_400, step=10, container=row[2],
        help="Mean time a waiting caller or visitor stays before giving up (Erlang A). History: "
        + (f"{queue.patience_seconds:.0f} s." if queue.patience_seconds else "nobody gave up."),
    )
    with row[3]:
        st.markdown('<div style="height:1.75rem" aria-hidden="true"></div>', unsafe_allow_html=True)
        if st.button("Reset what-ifs", icon=":material/restart_alt:", width="stretch"):
            planner_data.reset(WHAT_IFS)
            st.rerun()

settings = figures.what_if_settings(
    base,
    volume_percent=volume,
    aht_seconds=planner_data.changed(aht, aht_default),
    shrinkage_percent=shrinkage,
    service_level_percent=service_level,
    target_seconds=answer,
    patience_seconds=planner_data.changed(patience, patience_default),
    max_occupancy_percent=occupancy,
    forecast_column=plan_for,
)
timezone = figures.office_timezone(context.offices, office)
roster = planner_data.roster(context.engine, url, context.departments, office, first_day, last_day, timezone)
with st.spinner("Computing Erlang C and Erlang A for every half hour…"):
    plan = planner_data.staffing_plan(inputs, run["run_id"], office, first_day, last_day, settings,
                                      roster if roster.days else None, roster.key)
office_name = inputs.office_name
contact_unit = figures.unit_of(planner_data.queue_series(office), office_kinds)
planner_data.note(
    f"{office_name}, {queue.channel.replace('_', ' ')} queue. From the 12 weeks to {figures.day_label(queue.last_day, year=True)}: "
    f"{queue.arrivals:,} {contact_unit}, the intraday profile per weekday, handle time {queue.aht_seconds:.0f} s and "
    f"patience {queue.patience_seconds or 0:.0f} s. Staff = agents ÷ (1 − shrinkage), kept fractional and rounded up "
    "once per day."
)
days = [first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)]
for sentence in figures.roster_sources(office_name, days, roster.days):
    planner_data.note(text.plain(sentence))
for note in plan.notes:
    planner_data.note(f"Note: {note}.")

components.chart(
    figures.days_figure(plan, title="Staff-hours per day: needed and rostered"),
    figures.days_summary(plan, office=office_name),
    figures.days_table(plan, unit=contact_unit),
    f"staffing-by-day-{office}-{first_day}-{last_day}",
)
model_choice = params.choice("Half hours under", "model", list(figures.STAFFING_MODELS), "erlang_c", format_func=figures.STAFFING_MODELS.get)
people = figures.people_frame(plan, model_choice, days)
components.chart(
    figures.people_heatmap(people, title=f"People needed per half hour, {figures.STAFFING_MODELS[model_choice]}", closed=figures.closed_plan_days(plan)),
    figures.people_summary(plan, model_choice),
    people,
    f"staffing-people-{office}-{model_choice}-{first_day}-{last_day}",
)
gaps = figures.gap_frame(plan, model_choice, days)
components.chart(
    figures.gap_heatmap(gaps, title=f"Staff gap per half hour, {figures.STAFFING_MODELS[model_choice]}", closed=figures.closed_plan_days(plan)),
    figures.gap_summary(plan, model_choice),
    gaps,
    f"staffing-gaps-{office}-{model_choice}-{first_day}-{last_day}",
)
st.markdown(planner_data.NARROW_HEATMAP_NOTE, unsafe_allow_html=True)

st.subheader("The shift plan: people short per half hour")
if roster.days:
    components.chart(
        figures.shift_gap_heatmap(figures.shift_gap_frame(plan, model_choice, roster.days),
                                  title=f"People short per half hour on the roster, {figures.STAFFING_MODELS[model_choice]}",
                                  closed=figures.closed_plan_days(plan)),
        figures.shift_gap_summary(plan, model_choice),
        figures.shift_gap_table(plan, model_choice),
        f"shift-plan-gaps-{office}-{model_choice}-{first_day}-{last_day}",
    )
    planner_data.note(
        "A shift's break is taken out in the middle of the shift, starting on the half hour at or before its midpoint less "
        "half the break. Needed staff include the whole shrinkage; if yours counts breaks, lower it by their share."
    )
else:
    components.empty(
        f"No roster imported for {text.plain(office_name)} on these days, so there is no shift plan to compare.",
        "Import one (`python -m data import FILE rosters_example`) or add shifts below.",
    )

st.markdown("**Download the plan** (with the what-if values it was made with)")
left, right = st.columns(2)
with left:
    components.csv_download(
        figures.plan_export(figures.days_table(plan, unit=contact_unit), plan, office=office_name),
        f"staffing-plan-by-day-{office}-{first_day}-{last_day}", label="Plan by day (CSV)",
    )
with right:
    components.csv_download(
        figures.plan_export(figures.intervals_table(plan), plan, office=office_name),
        f"staffing-plan-by-half-hour-{office}-{first_day}-{last_day}", label="Plan by half hour (CSV)",
    )

if context.viewer.can("plan"):  # the page needs it already; the editor never shows without it
    st.subheader("Edit a week's roster")
    roster_week = st.selectbox("Week", roster.weeks, format_func=lambda monday: f"Week of {figures.day_label(monday, year=True)}",
                               key=f"roster-week-{office}")
    if saved := st.session_state.pop(planner_data.SAVED_KEY, None):
        st.success(saved, icon=":material/check:")
    edited = st.data_editor(
        planner_data.week_editor(roster, roster_week, timezone), num_rows="dynamic", hide_index=True, width="stretch",
        key=f"roster-editor-{office}-{roster_week}-{roster.key}",
        column_config=planner_data.ROSTER_EDITOR_COLUMNS,
    )
    planner_data.note("Times are the office's local time. A new row needs a person or team id (such as agent-017, never a name), "
                      "a start and an end; the break is in minutes. Saving checks every row with the importer's rules first.")
    if st.button("Save the week's roster", icon=":material/save:"):
        try:
            planner_data.save_roster(context.engine, context.viewer, context.departments, office_id=office, timezone=timezone,
                                     week=roster_week, edited=planner_data.edited_frame(edited))
            st.rerun()
        except RosterError as error:
            st.error("Nothing was saved: correct these rows and save again (your changes are still in the table).", icon=":material/error:")
            for problem in error.problems:
                st.text(problem.text())
