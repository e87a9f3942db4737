"""What every page shares: the database engine, cached loaders, the viewer and their departments,
the scope and week in the URL, and "data as of".

Caching lives here only: ``st.cache_resource`` for the engine and for fact frames (large,
shared, never mutated), ``st.cache_data`` for small frames. The engine is passed as
``_engine`` so it stays out of the cache keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import audit_trail, faults
from dashboard.components import mend_streamlit_accessibility
from dashboard.text import plain
from data.access import ALL as EVERY_DEPARTMENT
from data.access import AccessError, AccessFile, AccessFileError, Viewer, access_file_path, named_claims, roles_that_can
from data.access import visible_departments as departments_of_viewer
from data.build import ensure_database
from data.extracts import run_extract
from data.fact_frames import Facts
from data.facts import data_extent, load_facts, organisation_timezone
from metrics.periods import parse_week, week_label
from metrics.report_periods import report_period
from metrics.scorecard import Scorecard, latest_complete_week, period_scorecard, scorecard
from metrics.targets import load_targets

CACHE_SECONDS = 600
ALL = "all"


@st.cache_resource(show_spinner="Opening the database (a first start builds the demo data: about 10 seconds)…")
def engine() -> Engine:
    """The database engine, built once per server process."""
    # a busy database says so, never hangs a page; a page's extracts share a DuckDB connection
    return ensure_database(quiet=True, timeouts=True, linger=True)


VIEWER_KEY = "viewer"  # where a session's Viewer is kept (no widget has this key)
TITLE = "Public service KPIs"  # the title of the pages that show nothing of the data (sign-in, no departments)


def sign_in_configured() -> bool:
    """Whether an identity provider is configured: an [auth] section in Streamlit's
    secrets (.streamlit/secrets.toml; see the README's "Sign-in")."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: Streamlit raises its own not-found error
        return False


def _claims() -> dict[str, Any]:
    """The signed-in user's ID-token claims, with the departments and roles claims read
    under the names the settings give (KPI_DEPARTMENTS_CLAIM, KPI_ROLES_CLAIM)."""
    return named_claims(dict(st.user.to_dict()), os.environ)


@st.cache_resource(show_spinner=False)
def _access_file(path: str, modified: float) -> AccessFile:
    return AccessFile.load(path)


def access_file() -> AccessFile | None:
    """The access file as last saved (read again when it changes); AccessFileError when
    it is malformed."""
    path = access_file_path()
    return _access_file(path, os.path.getmtime(path)) if path else None


def viewer() -> Viewer:
    """Who is looking: the one place a page's viewer comes from. The session's Viewer
    when one was put there (a test does); with sign-in configured, the signed-in user
    built from their ID token's claims (a visitor not signed in gets the sign-in page and
    nothing else); with no sign-in configured, the local administrator, who sees every
    department: the dashboard then listens on this machine only."""
    chosen = st.session_state.get(VIEWER_KEY)
    if isinstance(chosen, Viewer):
        return chosen
    if not sign_in_configured():
        return Viewer.local_admin()
    if not getattr(st.user, "is_logged_in", False):  # absent when no provider has answered yet
        st.title(TITLE, anchor=False)
        st.markdown("Sign in with your organisation's account to see the figures of your departments.")
        st.button("Sign in", on_click=st.login, icon=":material/login:", type="primary")
        st.stop()
    try:
        return Viewer.from_claims(_claims(), access=access_file())
    except AccessFileError:
        st.title(TITLE, anchor=False)
        st.error(
            "The access file that says who may see what has mistakes, so nobody can be let in until an administrator corrects it "
            "(`python -m dashboard --check-access` lists them with their lines).",
            icon=":material/error:",
        )
        st.stop()
    except AccessError as problem:
        st.title(TITLE, anchor=False)
        st.error(f"Your account cannot be used here: {plain(str(problem))}. Ask an administrator to correct it.", icon=":material/error:")
        st.stop()


def _sign_out() -> None:
    audit_trail.note("sign_out")
    st.logout()


def say_who(who: Viewer) -> None:
    """Every page says who is looking: plainly that no sign-in is configured, or who is
    signed in, with a way to sign out; a viewer of no department sees only that."""
    if not sign_in_configured() and who == Viewer.local_admin():
        st.caption(
            "No sign-in is configured: you are the local administrator and see every department. "
            "The dashboard listens on this machine only; see the README's \"Sign-in\" to connect an identity provider."
        )
    elif sign_in_configured():
        with st.sidebar:
            st.caption(f"Signed in as {plain(who.name)}")  # the name is the provider's text
            st.button("Sign out", on_click=_sign_out, icon=":material/logout:")
    if not has_departments(who):
        st.title(TITLE, anchor=False)  # the page's own title is never reached: this one says where they are
        st.warning(
            f"You are signed in as {plain(who.name)}, but no department has been given to you, so there is nothing to show. "
            "Ask an administrator to add your departments to your account.",
            icon=":material/lock:",
        )
        st.stop()
    if not who.roles:
        st.title(TITLE, anchor=False)
        st.warning(
            f"You are signed in as {plain(who.name)}, but no role (department head, analyst, planner or administrator) has been given to you, "
            "so there is nothing to show. Ask an administrator to give you one.",
            icon=":material/lock:",
        )
        st.stop()


def has_departments(who: Viewer) -> bool:
    """Whether ``who`` has been given any department (every department counts)."""
    return who.departments is EVERY_DEPARTMENT or bool(who.departments)


def refuse_unless(who: Viewer, ability: str, what: str) -> None:
    """Stop the page with a plain message unless ``who`` may do ``ability``."""
    if not who.can(ability):
        st.info(f"{what} are for the {roles_that_can(ability)} role. Ask an administrator if you need them.", icon=":material/lock:")
        st.stop()


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _departments(_engine: Engine, url: str, _who: Viewer, who_key: tuple) -> tuple[str, ...]:
    return departments_of_viewer(_engine, _who)


def visible_departments(_engine: Engine, who: Viewer | None = None) -> tuple[str, ...]:
    """The departments ``who`` (default: this session's viewer) may see (data.access)."""
    who = who or viewer()
    return _departments(_engine, str(_engine.url), who, who.key)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def extract(_engine: Engine, url: str, name: str, departments: tuple[str, ...], **params: Any) -> pl.DataFrame:
    """A cached extract; never mutate the frame it returns."""
    return run_extract(_engine, name, departments=list(departments), **params)


@dataclass(frozen=True)
class Context:
    """The database and what this viewer may see in it."""

    engine: Engine
    departments: tuple[str, ...]
    department_names: dict[str, str]
    services: pl.DataFrame  # service_id, department_id, name, sla_days, digital
    offices: pl.DataFrame  # office_id, name, region, kind, timezone
    timezone: str
    first_day: date | None
    as_of: date | None  # the last local date with data
    read_at: datetime | None = None  # when these parts were read from the database (UTC)
    viewer: Viewer = Viewer.local_admin()  # who is looking (open_or_stop sets it)

    def missing(self, *tables: str) -> list[str]:
        """Which of these fact tables hold no rows this viewer may see."""
        counts = self.get("table_counts")
        rows = dict(zip(counts["table_name"], counts["row_count"], strict=True))
        return [table for table in tables if rows.get(table, 0) == 0]

    def get(self, name: str, **params: Any) -> pl.DataFrame:
        return extract(self.engine, str(self.engine.url), name, self.departments, **params)

    @property
    def service_names(self) -> dict[str, str]:
        return dict(zip(self.services["service_id"], self.services["name"], strict=True))

    @property
    def office_names(self) -> dict[str, str]:
        return dict(zip(self.offices["office_id"], self.offices["name"], strict=True))

    def name_of(self, dimension: str, value: str | None) -> str:
        if value is None:
            return "(not recorded)"
        lookup = {"department_id": self.department_names, "service_id": self.service_names, "office_id": self.office_names}.get(dimension, {})
        return lookup.get(value, value.replace("_", " ").capitalize() if dimension == "channel" else value)


def open_or_stop(needs: str = "figures", what: str = "These pages") -> Context:
    """The viewer's context, or a clear message and a stopped page: when the database
    cannot be read, or when the viewer's roles do not allow ``needs`` (data.access
    ABILITIES; ``what`` names what the page holds, for the message)."""
    mend_streamlit_accessibility()
    who = viewer()
    if not (has_departments(who) and who.roles):
        _audit_arrival_of_nobody(who)  # say_who stops the page: their sign-in is still recorded
    say_who(who)
    refuse_unless(who, needs, what)
    try:
        current = engine()
        faults.probe(current)  # on every run: a database gone away is said, not hidden behind the caches
        departments = visible_departments(current, who)
        context = _context(current, str(current.url), departments)
    except faults.DATABASE_FAULTS as error:
        faults.show(error)
        st.stop()
    audit_trail.remember(current, who, departments)
    _note_sign_in()
    return replace(context, viewer=who)


def _note_sign_in() -> None:
    """Audit the signed-in user's sign-in, once per ID token (audit_trail.signed_in)."""
    if sign_in_configured() and getattr(st.user, "is_logged_in", False):
        user = st.user.to_dict()
        audit_trail.signed_in((user.get("sub"), user.get("iat"), user.get("nonce")))


def _audit_arrival_of_nobody(who: Viewer) -> None:
    """A viewer given no department or no role sees nothing, but an administrator reading
    the audit must see that they signed in (and out): their session is remembered with no
    departments, and a database that cannot be reached leaves it at that."""
    try:
        current = engine()
    except faults.DATABASE_FAULTS:
        return
    audit_trail.remember(current, who, ())
    _note_sign_in()


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _context_parts(_engine: Engine, url: str, departments: tuple[str, ...]) -> tuple:
    names = run_extract(_engine, "departments", departments=list(departments))
    services = run_extract(_engine, "services", departments=list(departments))
    offices = run_extract(_engine, "offices", departments=list(departments))
    timezone = organisation_timezone(offices)
    extent = data_extent(_engine, departments, timezone) if departments else None
    read_at = datetime.now(UTC)
    return dict(zip(names["department_id"], names["name"], strict=True)), services, offices, timezone, extent, read_at


def _context(_engine: Engine, url: str, departments: tuple[str, ...]) -> Context:
    names, services, offices, timezone, extent, read_at = _context_parts(_engine, url, departments)
    return Context(_engine, departments, names, services, offices, timezone, extent[0] if extent else None, extent[1] if extent else None, read_at)


def data_as_of(context: Context) -> None:
    """'Data as of' on every page, with when it was last loaded into the database and
    when this page's figures were read from it (they are cached)."""
    loads = context.get("data_loads")
    loaded = f", loaded {loads['loaded_at'][0]:%d %b %Y %H:%M} UTC" if loads.height else ""
    read = f" {read_words(context.read_at)}" if context.read_at else ""
    if context.as_of is None:
        st.caption(f"No data yet{loaded}.{read}")
    else:
        st.caption(f"Data as of {context.as_of:%A %d %B %Y}{loaded}. Times are local ({context.timezone}).{read}")


def read_words(read_at: datetime) -> str:
    """'Read from the database at 08:40 UTC (figures are kept up to 10 minutes).'"""
    return f"Read from the database at {read_at:%H:%M} UTC (figures are kept up to {CACHE_SECONDS // 60} minutes)."


# ---------------------------------------------------------------------- facts and scorecards


@st.cache_resource(ttl=CACHE_SECONDS, max_entries=3, show_spinner=False)
def facts(_engine: Engine, url: str, departments: tuple[str, ...], first_day: date, last_day: date) -> Facts:
    """The facts of some departments over a window (shared by every session; not mutated)."""
    return load_facts(_engine, departments, first_day, last_day)


def scoped_facts(context: Context, department: str | None, first_day: date, last_day: date) -> Facts:
    departments = (department,) if department and department != ALL else context.departments
    return facts(context.engine, str(context.engine.url), departments, first_day, last_day)


FACTS_BLOCK_WEEKS = 13


def facts_window(monday: date, as_of: date | None) -> tuple[date, date]:
    """The local dates of facts a week's scorecard loads: the 52 weeks before it to its
    Sunday, widened to a block of 13 weeks counted back from the latest week, so that
    every week of a quarter shares one cached load: a change of week then costs a
    scorecard, not a load and a scorecard, and the quarter is held in memory once, not
    once per week (bench/dashboard_render.py: at scale 1 a change of week fell from 2.6 s
    to 0.8 s; at scale 10, five sessions on five recent weeks from 4.0 GB to 2.1 GB). The
    scorecard is the same either way: the engine counts only what falls in its periods."""
    latest = as_of - timedelta(days=as_of.weekday()) if as_of else monday
    block = max((latest - monday).days // 7, 0) // FACTS_BLOCK_WEEKS
    last_monday = latest - timedelta(weeks=block * FACTS_BLOCK_WEEKS)
    if last_monday < monday:  # a week after the data's last (only by a hand-made URL)
        last_monday = monday
    first_monday = last_monday - timedelta(weeks=FACTS_BLOCK_WEEKS - 1)
    return first_monday - timedelta(weeks=52), last_monday + timedelta(days=6)


def _scope_facts(
    engine: Engine, url: str, departments: tuple[str, ...], department: str, service: str, first_day: date, last_day: date,
) -> tuple[Facts, dict[str, str]]:
    """The facts of a scope (all, a department, or a service of it) over a window, and the
    scope as targets read it."""
    loaded = facts(engine, url, (department,) if department != ALL else departments, first_day, last_day)
    scope: dict[str, str] = {}
    if department != ALL:
        scope["department_id"] = department
    if service != ALL:
        scope["service_id"] = service
        loaded = loaded.where(service_id=service)
    return loaded, scope


@st.cache_resource(ttl=CACHE_SECONDS, max_entries=32, show_spinner=False)
def weekly_scorecard(
    _engine: Engine, url: str, departments: tuple[str, ...], department: str, service: str, week: str, as_of: date,
    by: str | None = None, data_from: date | None = None, offline_services: tuple[str, ...] = (),
) -> Scorecard:
    """The scorecard of a scope (all, a department, or a service) for an ISO week, one per
    value of ``by`` if given; ``offline_services``: those with no online channel."""
    loaded, scope = _scope_facts(_engine, url, departments, department, service, *facts_window(parse_week(week), as_of))
    return scorecard(loaded, week, by=by, scope=scope, as_of=as_of, targets=load_targets(), data_from=data_from, offline_services=frozenset(offline_services))


@st.cache_resource(ttl=CACHE_SECONDS, max_entries=16, show_spinner=False)
def report_period_scorecard(
    _engine: Engine, url: str, departments: tuple[str, ...], department: str, service: str, kind: str, day: date,
    as_of: date, data_from: date | None = None, offline_services: tuple[str, ...] = (),
) -> Scorecard:
    """The scorecard of a scope for the month, quarter or financial year to date that
    contains ``day`` (metrics.report_periods), with its comparison spans: its own load of
    facts, from the first day of the same period a year earlier to the period's last."""
    period = report_period(kind, day, as_of, financial_year_start_month=load_targets().financial_year_start)
    loaded, scope = _scope_facts(_engine, url, departments, department, service, period.last_year.first_day, period.this.last_day)
    return period_scorecard(loaded, period, scope=scope, targets=load_targets(), data_from=data_from,
                            offline_services=frozenset(offline_services))


def week_options(context: Context, weeks: int = 104) -> list[str]:
    """ISO weeks with data, newest first: the current (partial) week, then complete ones."""
    if context.as_of is None:
        return []
    latest = context.as_of
    labels = [week_label(latest)]
    monday = latest - timedelta(days=latest.weekday())
    first = context.first_day or latest
    for back in range(1, weeks):
        start = monday - timedelta(weeks=back)
        if start + timedelta(days=6) < first:
            break
        labels.append(week_label(start))
    return labels


def default_week(context: Context) -> str | None:
    return latest_complete_week(context.as_of) if context.as_of else None


def services_of(context: Context, department: str) -> pl.DataFrame:
    """The services of ``department`` (ALL: every visible one)."""
    return context.services if department == ALL else context.services.filter(pl.col("department_id") == department)


def week_label_short(week: str) -> str:
    """A complete week in few characters, for a narrow select box: 2026-W47 · 16–22 Nov."""
    monday = parse_week(week)
    sunday = monday + timedelta(days=6)
    first = f"{monday.day}" if monday.month == sunday.month else f"{monday.day} {monday:%b}"
    return f"{week} · {first}–{sunday.day} {sunday:%b}"


def week_label_text(week: str, context: Context) -> str:
    monday = parse_week(week)
    sunday = monday + timedelta(days=6)
    text = f"{week} ({monday:%d %b} – {sunday:%d %b %Y})"
    if context.as_of and sunday > context.as_of:
        text += " · in progress"
    return text
