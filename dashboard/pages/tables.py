"""Tables: what is in the database, and when it was loaded."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import components, state
from data.database import describe

context = state.open_or_stop()
st.title("Tables")
state.data_as_of(context)
st.caption(f"Data from {describe(context.engine)}")

counts = context.get("table_counts").rename({"table_name": "Table", "row_count": "Rows"})
st.subheader("Tables and their rows")
components.table(counts, "table-counts", column_config={"Rows": st.column_config.NumberColumn(format="localized")})
loads = context.get("data_loads")
st.subheader("Loads")
if loads.height:
    components.table(loads, "data-loads")
else:
    components.empty("No data has been loaded yet.", "Run `python -m data generate`, or import an export with `python -m data import`.")
