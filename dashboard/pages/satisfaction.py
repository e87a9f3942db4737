"""Satisfaction: being built (see the open issue); registered here so the navigation is stable."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import state

context = state.open_or_stop()
st.title("Satisfaction")
state.data_as_of(context)
st.info("This page is being built.")
