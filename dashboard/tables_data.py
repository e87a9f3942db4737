"""What the tables page loads: the row count of every table and the loads, through the
context's cached extracts (state.py)."""

from __future__ import annotations

import polars as pl

from dashboard import state


def table_counts(context: state.Context) -> pl.DataFrame:
    """Every table and its number of rows (table_name, row_count)."""
    return context.get("table_counts")


def loads(context: state.Context) -> pl.DataFrame:
    """Every generation and import, the latest first."""
    return context.get("data_loads")
