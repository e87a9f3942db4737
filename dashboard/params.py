"""Filters that live in the URL: every choice is read from and written to the query string,
so a copied link reproduces the view."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

import streamlit as st

from anomalies import links
from dashboard import state
from dashboard.text import plain

SHOWN_CHARACTERS = 40  # of a refused URL value, in the message that refuses it


def remember(key: str, value: str | None) -> None:
    """``?key=value`` in the URL; None takes the key out (the default needs no mention)."""
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


def keep(key: str, value: str) -> None:
    """``?key=value`` in the address on every run, the default included: a shared link
    keeps its meaning when the default moves on (the Overview's week, next Monday), and
    the address shows it even where the browser dropped the query string on the way in
    (/overview opened as the default page)."""
    st.query_params[key] = value  # sent even when unchanged: the browser's address may lack it


def choice(
    label: str,
    key: str,
    options: Sequence[str],
    default: str,
    *,
    format_func: Callable[[str], str] = str,
    container=st,
    help: str | None = None,
    widget: str | None = None,
    scoped: bool = False,
) -> str:
    """A select box whose value is ``?key=value`` in the URL (an unknown value falls back
    to the default: a shared link never breaks the page). ``widget``: the widget's own
    name, where another page's select box of the same ``key`` offers other options (a
    widget whose options change starts again from its first option, whatever the URL).
    ``scoped``: the options are what the viewer may see (their departments, services), so
    a link's value outside them is said to be "not yours or not found", without telling
    which."""
    options = list(options)
    if not options:
        return default
    widget_key = f"param-{widget or key}"
    wanted = st.query_params.get(key, default)
    if wanted not in options:
        if scoped and widget_key not in st.session_state:  # the link's own value, not one a change of another filter left behind
            not_yours(key, wanted)
        wanted = default if default in options else options[0]
    if widget_key in st.session_state and st.session_state[widget_key] not in options:
        del st.session_state[widget_key]
    if widget_key not in st.session_state:
        st.session_state[widget_key] = wanted
    value = container.selectbox(label, options, format_func=format_func, key=widget_key, help=help)
    remember(key, None if value == default else value)
    return value


def not_yours(key: str, raw: str) -> None:
    """Say that the link's ``?key=raw`` names nothing this viewer may see. The same words
    whether it exists in another department or nowhere: the page tells nothing of it."""
    shown = raw if len(raw) <= SHOWN_CHARACTERS else raw[:SHOWN_CHARACTERS] + "…"
    st.info(f"The link's {key}={plain(shown)} is not yours or not found: it is left out.", icon=":material/link_off:")  # the value is the visitor's text


def choices(
    label: str,
    key: str,
    options: Sequence[str],
    *,
    format_func: Callable[[str], str] = str,
    container=st,
    help: str | None = None,
    placeholder: str = "All",
) -> list[str]:
    """A multiselect whose values are ``?key=a,b`` in the URL, in the options' order (an
    unknown value is dropped: a shared link never breaks the page); none chosen: none in
    the URL."""
    options = list(options)
    wanted = [value for value in options if value in (st.query_params.get(key) or "").split(",")]
    widget_key = f"param-{key}"
    if widget_key in st.session_state and not set(st.session_state[widget_key]) <= set(options):
        del st.session_state[widget_key]
    if widget_key not in st.session_state:
        st.session_state[widget_key] = wanted
    picked = container.multiselect(label, options, format_func=format_func, key=widget_key, help=help, placeholder=placeholder)
    values = [value for value in options if value in picked]
    remember(key, ",".join(values) or None)
    return values


def day(label: str, key: str, default: date, *, min_value: date, container=st, help: str | None = None) -> date:
    """A date input whose value is ``?key=YYYY-MM-DD`` in the URL (the default needs no
    mention; a value that is no date, or before ``min_value``, falls back to the default)."""
    wanted = default
    raw = st.query_params.get(key)
    if raw:
        try:
            wanted = max(date.fromisoformat(raw), min_value)
        except ValueError:
            wanted = default
    widget_key = f"param-{key}"
    if widget_key in st.session_state and (not isinstance(st.session_state[widget_key], date) or st.session_state[widget_key] < min_value):
        del st.session_state[widget_key]
    if widget_key not in st.session_state:
        st.session_state[widget_key] = wanted
    value = container.date_input(label, min_value=min_value, key=widget_key, format="DD/MM/YYYY", help=help)
    remember(key, None if value == default else value.isoformat())
    return value


def set_value(key: str, value: str, default: str) -> None:
    """Change a filter from code (a click on a chart or a breadcrumb), URL included."""
    st.session_state[f"param-{key}"] = value
    remember(key, None if value == default else value)


def text(key: str, default: str = "") -> str:
    return st.query_params.get(key, default)


def department(context: state.Context, *, container=st) -> str:
    """The department filter (``?department=``): state.ALL or a department id."""
    return choice(
        "Department", links.DEPARTMENT, [state.ALL, *context.departments], state.ALL,
        format_func=lambda d: "All departments" if d == state.ALL else context.department_names.get(d, d), container=container,
        scoped=True,
    )


def service(context: state.Context, department: str, *, container=st) -> str:
    """The service filter (``?service=``), offering the services of ``department``."""
    return choice(
        "Service", links.SERVICE, [state.ALL, *state.services_of(context, department)["service_id"].to_list()], state.ALL,
        format_func=lambda s: "All services" if s == state.ALL else context.service_names.get(s, s), container=container,
        scoped=True,
    )


def scope_name(context: state.Context, department: str, service: str) -> str:
    """The scope the department and service filters chose, by name (plain text)."""
    if service != state.ALL:
        return context.service_names.get(service, service)
    if department != state.ALL:
        return context.department_names.get(department, department)
    return "All departments"


def parse_number(key: str, raw: str | None, default: int, *, min_value: int, max_value: int) -> tuple[int, str | None]:
    """``?key=raw`` as a whole number in min_value..max_value, and what was wrong with it.

    Absent: the default. Not a finite number (text, nan, inf, -inf, 1e400): refused, the
    default. Outside the range (99999999999999999999999, -5): clamped to it. The message
    (None when nothing was wrong) says which, in one line of plain text."""
    if raw is None or raw == "":
        return default, None
    shown = raw if len(raw) <= SHOWN_CHARACTERS else raw[:SHOWN_CHARACTERS] + "…"
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        return default, f"The link's {key}={shown} is not a number: using {default:,}."
    wanted = int(round(number))
    clamped = min(max(wanted, min_value), max_value)
    if clamped != wanted:
        return clamped, f"The link's {key}={shown} is outside {min_value:,} to {max_value:,}: using {clamped:,}."
    return clamped, None


def whole_number(key: str, default: int, *, min_value: int, max_value: int) -> int:
    """``?key=`` from the URL as a whole number in range (see ``parse_number``); a value
    refused or clamped is said so on the page, and the URL forgets it."""
    value, problem = parse_number(key, st.query_params.get(key), default, min_value=min_value, max_value=max_value)
    if problem:
        st.info(plain(problem), icon=":material/link_off:")
        remember(key, None if value == default else str(value))
    return value
