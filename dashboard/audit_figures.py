"""Pure builders for the Audit page: the events as a table a person reads, and a summary."""

from __future__ import annotations

import polars as pl

from data.audit import ACTION_WORDS


def events_table(events: pl.DataFrame) -> pl.DataFrame:
    """One row per event, newest first: when (UTC), who, what, where, the details and rows."""
    return events.select(
        pl.col("happened_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("When (UTC)"),
        pl.coalesce("email", "subject").alias("Who"),
        pl.col("action").replace_strict(ACTION_WORDS, default=pl.col("action")).alias("What"),
        pl.col("page").fill_null("").alias("Where"),
        pl.col("detail").alias("Details"),
        pl.col("row_count").alias("Rows"),
    )


def summary(events: pl.DataFrame, period_words: str) -> str:
    """'312 actions by 4 people in the last 7 days: opened a page 280 times, ...'."""
    period = period_words[0].lower() + period_words[1:]
    if events.height == 0:
        return f"No actions were recorded in {period}."
    people = events["subject"].n_unique()
    counts = events.group_by("action").len().sort(["len", "action"], descending=[True, False])
    parts = [
        f"{ACTION_WORDS.get(row['action'], row['action']).lower()} {row['len']:,} time{'s' if row['len'] != 1 else ''}"
        for row in counts.iter_rows(named=True)
    ]
    return (
        f"{events.height:,} action{'s' if events.height != 1 else ''} by {people:,} {'person' if people == 1 else 'people'} "
        f"in {period}: " + "; ".join(parts) + "."
    )
