"""Home: what is in the database."""

from __future__ import annotations

import streamlit as st

from dashboard import state

current, departments = state.open_or_stop()
st.title("Public service KPIs")
st.caption(f"Data from {state.database_label(current)}")

counts = state.extract(current, "table_counts", departments)
loads = state.extract(current, "data_loads", departments)
if loads.height:
    latest = loads.row(0, named=True)
    st.write(f"Data as of {latest['loaded_at']:%d %b %Y %H:%M} UTC ({latest['kind']}, {latest['rows_loaded']:,} rows).")
else:
    st.info("No data has been loaded yet: run `python -m data generate` or import an export.")

st.subheader("Tables and their rows")
st.dataframe(
    counts.rename({"table_name": "Table", "row_count": "Rows"}),
    hide_index=True,
    column_config={"Rows": st.column_config.NumberColumn(format="localized")},
)
