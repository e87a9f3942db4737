"""Audit: who did what and when, for administrators; filters and an export, no edits."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import audit_data, audit_figures, components, params, state
from data.audit import ACTION_WORDS

context = state.open_or_stop("administer", "The audit")
st.title("Audit")
state.data_as_of(context)
st.caption(
    "Every sign-in and sign-out, page opened (with its filters), listing of the rows behind a number, download, "
    "acknowledgement, subscription and import, as it happened. Nobody can change or remove an entry from the dashboard. "
    "The audit itself is read afresh each time this page opens, never from the figures' cache."
)
left, middle, right = st.columns(3)
days = params.choice("Period", "days", list(audit_data.PERIODS), audit_data.DEFAULT_PERIOD, format_func=audit_data.PERIODS.get, container=left)
action = params.choice("Action", "action", [state.ALL, *ACTION_WORDS], state.ALL, format_func=lambda a: "Every action" if a == state.ALL else ACTION_WORDS[a], container=right)
unfiltered = audit_data.load(context, int(days), state.ALL, state.ALL)
person = params.choice("Person", "person", [state.ALL, *unfiltered.people], state.ALL, format_func=lambda p: "Everyone" if p == state.ALL else p, container=middle)
view = audit_data.load(context, int(days), person, action)

st.markdown(audit_figures.summary(view.events, audit_data.PERIODS[days]))
if view.events.height:
    table = audit_figures.events_table(view.events)
    components.table(table, f"audit-{days}-days", column_config={"Rows": st.column_config.NumberColumn(format="localized")})
else:
    components.empty("No actions match these filters.", "Choose a longer period, everyone or every action.")
