"""Tables of the tables page: pure functions of its frames."""

from __future__ import annotations

import polars as pl


def counts_table(counts: pl.DataFrame) -> pl.DataFrame:
    """The row counts as the page heads them."""
    return counts.rename({"table_name": "Table", "row_count": "Rows"})
