"""The planner page's cached loaders and its URL-bound inputs (what-ifs and dates).

Loaders read the stored forecast run (nothing is fitted here); frames are cached by the
run's id, so a new run (for example the one `make run` starts in the background at a
first start) shows up within LATEST_RUN_SECONDS. A staffing plan is cached by its inputs
and settings: a what-if recomputes Erlang C and A from the cached inputs, never refits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import params
from dashboard.charts import NARROW_HEATMAP_CSS
from dashboard.params import remember
from data.access import Viewer
from data.access import sees_every_department as sees_all
from data.rosters import EDIT_COLUMNS, editor_frame, half_hour_schedule, load_shifts, roster_weeks, save_week
from forecasting import ForecastInputError
from forecasting import series_id as ids
from forecasting.calendar import holiday_names
from forecasting.live import LiveAccuracy, live_accuracy
from forecasting.planning import StaffingPlan, StaffingSettings, plan_staffing
from forecasting.progress import running
from forecasting.store import (
    StaffingInputs,
    forecast_history,
    forecast_runs,
    latest_backtests,
    latest_forecasts,
    latest_series,
    load_series_window,
    load_staffing_inputs,
)

CACHE_SECONDS = 600
LATEST_RUN_SECONDS = 20


@st.cache_data(ttl=LATEST_RUN_SECONDS, show_spinner=False)
def latest_run(_engine: Engine, url: str, departments: tuple[str, ...]) -> dict[str, Any] | None:
    """The latest stored forecast run (a dict of forecast_runs' columns), or None."""
    runs = forecast_runs(_engine, departments)
    return runs.row(0, named=True) if runs.height else None


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def stored(_engine: Engine, url: str, departments: tuple[str, ...], run_id: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(series, forecasts, backtests) of the latest run that the viewer may see."""
    return latest_series(_engine, departments), latest_forecasts(_engine, departments), latest_backtests(_engine, departments)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def actuals(
    _engine: Engine, url: str, departments: tuple[str, ...], first_day: dt.date, last_day: dt.date, horizon: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(values, closed_days) of every series the viewer may see over first_day..last_day."""
    try:
        window = load_series_window(_engine, first_day, last_day, departments, horizon=horizon)
    except ForecastInputError:
        empty = pl.DataFrame(schema={"series_id": pl.String, "ds": pl.Date, "y": pl.Float64})
        return empty, empty.drop("y")
    return window.values, window.closed_days


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def live(
    _engine: Engine, url: str, departments: tuple[str, ...], run_id: int, first_day: dt.date, last_day: dt.date, horizon: int
) -> LiveAccuracy:
    """Live accuracy over first_day..last_day of every series the viewer may see: each
    day against the latest stored run made before it (forecasting.live)."""
    values, _ = actuals(_engine, url, departments, first_day, last_day, horizon)
    return live_accuracy(forecast_history(_engine, departments, first_day, last_day), values)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def holidays(calendar: str | None, first_day: dt.date, last_day: dt.date) -> dict[dt.date, str]:
    """{day: name} from a run's holiday calendar such as 'GB/ENG' (None: no holidays)."""
    if not calendar:
        return {}
    country, _, subdivision = calendar.partition("/")
    try:
        return holiday_names(country, subdivision or None, first_day, last_day)
    except ForecastInputError:
        return {}


@st.cache_resource(ttl=CACHE_SECONDS, max_entries=16, show_spinner=False)
def staffing_inputs(
    _engine: Engine, url: str, departments: tuple[str, ...], run_id: int, office_id: str, first_day: dt.date, last_day: dt.date
) -> StaffingInputs | str:
    """What a plan of one office needs (shared, never mutated), or why it cannot be planned."""
    try:
        return load_staffing_inputs(_engine, office_id, first_day, last_day, list(departments))
    except ForecastInputError as error:
        return str(error)


@st.cache_resource(ttl=CACHE_SECONDS, max_entries=64, show_spinner=False)
def staffing_plan(
    _inputs: StaffingInputs, run_id: int, office_id: str, first_day: dt.date, last_day: dt.date, settings: StaffingSettings,
    _roster: Roster | None = None, roster_key: int = 0,
) -> StaffingPlan:
    """Erlang C and A against the roster for the inputs (keyed by run, office, days) and
    settings; on the days of ``_roster`` (keyed by ``roster_key``, its content's hash)
    against its shifts rather than the hours from costs."""
    if _roster is None:
        return plan_staffing(_inputs.forecast, _inputs.queue, _inputs.rostered, settings)
    return plan_staffing(_inputs.forecast, _inputs.queue, _inputs.rostered, settings,
                         scheduled=_roster.schedule, roster_days=_roster.days)


@dataclass(frozen=True)
class Roster:
    """The office's shifts over the weeks of a plan, as the page uses them."""

    shifts: pl.DataFrame  # the extract roster_shifts (UTC)
    schedule: pl.DataFrame  # people on shift per half hour (data.rosters.half_hour_schedule)
    days: list[dt.date]  # the plan's days in a week with any shift
    weeks: list[dt.date]  # the Mondays of the plan's weeks
    key: int  # a hash of the shifts, for the plan's cache


def plan_weeks(first_day: dt.date, last_day: dt.date) -> list[dt.date]:
    """The Mondays of the weeks first_day..last_day touches."""
    monday = first_day - dt.timedelta(days=first_day.weekday())
    return [monday + dt.timedelta(weeks=i) for i in range((last_day - monday).days // 7 + 1)]


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def roster_shifts(_engine: Engine, url: str, departments: tuple[str, ...], office_id: str, first_day: dt.date, last_day: dt.date,
                  timezone: str) -> pl.DataFrame:
    """The office's shifts starting on local days first_day..last_day (cleared when the page saves a week)."""
    return load_shifts(_engine, departments, office_id, first_day, last_day, timezone)


def roster(engine: Engine, url: str, departments: tuple[str, ...], office_id: str, first_day: dt.date, last_day: dt.date,
           timezone: str) -> Roster:
    """The office's roster over the whole weeks of first_day..last_day."""
    weeks = plan_weeks(first_day, last_day)
    shifts = roster_shifts(engine, url, departments, office_id, weeks[0], weeks[-1] + dt.timedelta(days=6), timezone)
    covered = set(roster_weeks(shifts, timezone))
    days = [first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    return Roster(
        shifts=shifts,
        schedule=half_hour_schedule(shifts, timezone),
        days=[d for d in days if d - dt.timedelta(days=d.weekday()) in covered],
        weeks=weeks,
        key=int(shifts.hash_rows().sum()) if shifts.height else 0,
    )


# The roster editor's columns (data.rosters.EDIT_COLUMNS), in words.
ROSTER_EDITOR_COLUMNS = {
    "shift_id": st.column_config.NumberColumn("Shift", disabled=True, help="Given when the shift is saved", format="%d"),
    "person_or_team": st.column_config.TextColumn("Person or team", max_chars=64, help="An id such as agent-017, never a name"),
    "shift_start": st.column_config.DatetimeColumn("Starts", format="ddd D MMM YYYY, HH:mm", step=60 * 15),
    "shift_end": st.column_config.DatetimeColumn("Ends", format="ddd D MMM YYYY, HH:mm", step=60 * 15),
    "break_minutes": st.column_config.NumberColumn("Break (minutes)", min_value=0, max_value=600, step=5, format="%d"),
}
SAVED_KEY = "roster-saved"  # the message of the last save, shown once after the page reloads


def week_editor(roster: Roster, week: dt.date, timezone: str) -> Any:
    """The week's shifts as the editor's table (pandas, local times)."""
    frame = editor_frame(roster.shifts, timezone).filter(pl.col("shift_start").dt.date().is_between(week, week + dt.timedelta(days=6)))
    return frame.to_pandas()


def edited_frame(edited: Any) -> pl.DataFrame:
    """The editor's table back as a frame of EDIT_COLUMNS (a cell it cannot read is empty)."""
    frame = pl.from_pandas(edited) if len(edited) else pl.DataFrame(schema=EDIT_COLUMNS)
    return frame.select([pl.col(name).cast(dtype, strict=False) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
                         for name, dtype in EDIT_COLUMNS.items()])


def save_roster(engine: Engine, viewer: Viewer, departments: tuple[str, ...], *, office_id: str, timezone: str, week: dt.date,
                edited: pl.DataFrame) -> str:
    """Save a week edited on the page (data.rosters.save_week) and say what changed;
    RosterError (nothing saved) names every bad row."""
    added, changed, removed = save_week(engine, viewer, office_id=office_id, timezone=timezone, first_day=week, edited=edited,
                                        departments=list(departments))
    roster_shifts.clear()
    message = (f"Saved the week of {week:%d %B %Y}: {added} shift{'s' if added != 1 else ''} added, {changed} changed, "
               f"{removed} removed.")
    st.session_state[SAVED_KEY] = message
    return message


# --------------------------------------------------------------------------- URL inputs


def number(
    label: str,
    key: str,
    default: int,
    *,
    min_value: int,
    max_value: int,
    step: int = 1,
    container: Any = st,
    help: str | None = None,
) -> int:
    """A whole-number input whose value is ?key=value in the URL (absent: the default).

    The widget's key carries the default, so a default that changes (the handle time of
    another office) starts a fresh widget rather than keeping the old office's number.
    """
    wanted = params.whole_number(key, default, min_value=min_value, max_value=max_value)
    widget_key = f"whatif-{key}-{default}"
    if widget_key not in st.session_state:
        st.session_state[widget_key] = wanted
    value = container.number_input(label, min_value=min_value, max_value=max_value, step=step, key=widget_key, help=help)
    value = int(value)
    remember(key, None if value == default else str(value))
    return value


def reset(keys: Sequence[str]) -> None:
    """Forget some URL inputs (their widgets start again from their defaults)."""
    for key in keys:
        if key in st.query_params:
            del st.query_params[key]
    for widget in [k for k in st.session_state if isinstance(k, str) and k.startswith("whatif-")]:
        if widget.split("-")[1] in keys:
            del st.session_state[widget]


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def date_range(
    label: str,
    first_day: dt.date,
    last_day: dt.date,
    default: tuple[dt.date, dt.date],
    *,
    keys: tuple[str, str] = ("from", "to"),
    container: Any = st,
    help: str | None = None,
) -> tuple[dt.date, dt.date]:
    """A date range inside first_day..last_day, kept in the URL as ?from=&to= (ISO dates)."""
    start = _date(st.query_params.get(keys[0])) or default[0]
    end = _date(st.query_params.get(keys[1])) or default[1]
    start, end = (min(max(d, first_day), last_day) for d in (start, end))
    if start > end:
        start, end = end, start
    widget_key = f"dates-{first_day}-{last_day}"
    if widget_key not in st.session_state:
        st.session_state[widget_key] = (start, end)
    chosen = container.date_input(label, min_value=first_day, max_value=last_day, key=widget_key, format="YYYY-MM-DD", help=help)
    if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
        start, end = chosen
    # a half-chosen range (one click so far) keeps the last whole one
    remember(keys[0], None if start == default[0] else start.isoformat())
    remember(keys[1], None if end == default[1] else end.isoformat())
    return start, end


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def every_department(_engine: Engine, url: str) -> tuple[str, ...]:
    """Every department in the database (to tell a viewer of only some what they miss)."""
    from data.access import every_department

    return every_department(_engine)


def office_follows_series(series_id: str, office_id: str | None) -> None:
    """When the chosen series changes to an office's series, staff that office."""
    previous = st.session_state.get("planner-series")
    st.session_state["planner-series"] = series_id
    if previous is not None and previous != series_id and office_id is not None:
        st.session_state.pop("param-office", None)
        if "office" in st.query_params:
            del st.query_params["office"]


# The page's own styles. Number inputs' +/- buttons have no accessible name in Streamlit
# 1.50 (axe: button-name) and are out of the tab order anyway: the what-ifs are typed.
# Notes are small but at full text colour (Streamlit's caption grey is under 4.5:1). On a
# phone the heatmap's cells are too narrow for their numbers: hidden there, with a note
# saying where they are (the table under the chart), so colour never carries them alone.
PAGE_CSS = """<style>
[class*="st-key-whatif-"] button[data-testid^="stNumberInputStep"]{display:none}
[class*="st-key-planner-note"] p{font-size:.875rem;line-height:1.5;margin-bottom:.25rem}
""" + NARROW_HEATMAP_CSS + """
</style>"""
NARROW_HEATMAP_NOTE = (
    '<p class="narrow-note">Each cell\'s number (rostered minus needed staff; minus is short) is in the '
    "table under the chart: the cells are too narrow for it on this screen.</p>"
)


def styles() -> None:
    """The page's styles; call first (it also numbers the notes of this run from 0)."""
    st.session_state["_planner_notes"] = 0
    st.html(PAGE_CSS)


def note(text: str) -> None:
    """A small note in Markdown, at full text contrast."""
    count = st.session_state.get("_planner_notes", 0)
    with st.container(key=f"planner-note-{count}"):
        st.markdown(text)
    st.session_state["_planner_notes"] = count + 1


# --------------------------------------------------------------------------- decisions the page lays out


def sees_every_department(_engine: Engine, url: str, departments: Sequence[str]) -> bool:
    """Whether this viewer sees every department: only then may totals, offices,
    channels and calls or visits (which pool departments) be shown."""
    return sees_all(departments, every_department(_engine, url))


def run_cutoffs(run: dict[str, Any]) -> list[dt.date]:
    """The backtest cutoffs a stored run records (comma-separated ISO dates)."""
    return [dt.date.fromisoformat(day) for day in (run["cutoffs"] or "").split(",") if day]


def stale_warning(as_of: dt.date | None, run: dict[str, Any], day_label) -> str | None:
    """What to say when the data runs past the forecast's last day of data, else None."""
    if as_of and as_of > run["data_end"]:
        return (
            f"The data now runs to {day_label(as_of, year=True)}, past this forecast's last day of data: "
            "run `python -m forecasting run` for a forecast from the newest data."
        )
    return None


def unavailable_series(wanted: str | None, options: Sequence[str], *, sees_all_departments: bool, shown: str, run_id: int) -> tuple[str, str] | None:
    """(message, icon) when the link asks for a series this viewer cannot have, else None."""
    if not wanted or wanted in options:
        return None
    if ids.crosses_departments(wanted) and not sees_all_departments:
        return (
            f"“{wanted}” pools the demand of every department (totals, offices, channels and calls or visits do), "
            f"so only a viewer of every department may see it. Showing {shown} instead: choose one "
            "of your departments' services below.",
            ":material/lock:",
        )
    return f"Forecast run {run_id} has no series “{wanted}”: showing {shown} instead.", ":material/info:"


def default_series(options: Sequence[str]) -> str:
    return "total" if "total" in options else options[0]


def no_offices(sees_all_departments: bool) -> tuple[str, str]:
    """(why, what to do) when no office with a queue can be planned."""
    if not sees_all_departments:
        return (
            "Staffing pools an office's whole queue of calls or visits, for every department: only a viewer of every "
            "department may plan it.",
            "Ask for access to every department to plan contact centres and service centres.",
        )
    return (
        "The stored run has no forecast of calls or visits at a contact centre or service centre.",
        "Run `python -m forecasting run` (every series) and reload this page.",
    )


def queue_series(office_id: str) -> str:
    """The series id of an office's queue of calls or visits."""
    return ids.format_id("contacts", office_id)


NO_PATIENCE_SECONDS = 86_400  # nobody gave up in the history: patience as good as unlimited


def patience_default(patience_seconds: float | None) -> int:
    return round(patience_seconds) if patience_seconds else NO_PATIENCE_SECONDS


def changed(value: float, default: float) -> float | None:
    """A what-if's value when it differs from its default (None: keep the history's)."""
    return None if value == default else value


def forecast_running(url: str) -> dt.datetime | None:
    """When the forecast running on this database now started (``make run`` starts one in
    the background at a first start), or None."""
    return running(url, "forecast")

