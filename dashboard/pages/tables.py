"""Tables: what is in the database, and when it was loaded."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import components, state, tables_data, tables_figures
from data.database import describe

context = state.open_or_stop("rows", "The tables of individual records")
st.title("Tables")
state.data_as_of(context)
st.caption(f"Data from {describe(context.engine)}")

counts = tables_figures.counts_table(tables_data.table_counts(context))
st.subheader("Tables and their rows")
components.table(counts, "table-counts", column_config={"Rows": st.column_config.NumberColumn(format="localized")})
loads = tables_data.loads(context)
st.subheader("Loads")
if loads.height:
    components.table(loads, "data-loads")
else:
    components.empty("No data has been loaded yet.", "Run `python -m data generate`, or import an export with `python -m data import`.")
