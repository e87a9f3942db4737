"""Filters that live in the URL: every choice is read from and written to the query string,
so a copied link reproduces the view."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from dashboard import state


def remember(key: str, value: str | None) -> None:
    """``?key=value`` in the URL; None takes the key out (the default needs no mention)."""
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


def choice(
    label: str,
    key: str,
    options: Sequence[str],
    default: str,
    *,
    format_func: Callable[[str], str] = str,
    container=st,
    help: str | None = None,
) -> str:
    """A select box whose value is ``?key=value`` in the URL (an unknown value falls back
    to the default: a shared link never breaks the page)."""
    options = list(options)
    if not options:
        return default
    wanted = st.query_params.get(key, default)
    if wanted not in options:
        wanted = default if default in options else options[0]
    widget_key = f"param-{key}"
    if widget_key in st.session_state and st.session_state[widget_key] not in options:
        del st.session_state[widget_key]
    if widget_key not in st.session_state:
        st.session_state[widget_key] = wanted
    value = container.selectbox(label, options, format_func=format_func, key=widget_key, help=help)
    remember(key, None if value == default else value)
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
        "Department", "department", [state.ALL, *context.departments], state.ALL,
        format_func=lambda d: "All departments" if d == state.ALL else context.department_names.get(d, d), container=container,
    )


def service(context: state.Context, department: str, *, container=st) -> str:
    """The service filter (``?service=``), offering the services of ``department``."""
    return choice(
        "Service", "service", [state.ALL, *state.services_of(context, department)["service_id"].to_list()], state.ALL,
        format_func=lambda s: "All services" if s == state.ALL else context.service_names.get(s, s), container=container,
    )
