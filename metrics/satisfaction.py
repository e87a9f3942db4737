"""Satisfaction beyond the registry's two figures: how the ratings of a window spread
over 1 to 5. Pure: no database, no dashboard."""

from __future__ import annotations

from datetime import date

import polars as pl

from data.fact_frames import Facts
from metrics.periods import Periods, index_of

RATING_LABELS = {
    1: "Very dissatisfied",
    2: "Dissatisfied",
    3: "Neither satisfied nor dissatisfied",
    4: "Satisfied",
    5: "Very satisfied",
}
SUPPRESS_BELOW = 5  # published counts under 5 are suppressed (DOMAIN.md section 2)


def ratings_in_window(facts: Facts, first_day: date, last_day: date) -> pl.DataFrame:
    """The ratings submitted on the local dates [first_day, last_day]: each is placed in
    the time zone of the office it was given at, or the organisation's when anonymous."""
    feedback = facts.feedback
    if feedback is None or feedback.height == 0:
        return pl.DataFrame(schema={"rating": pl.Int16})
    if "timezone" in feedback.columns or ("office_id" in feedback.columns and facts.offices is not None):
        zone = facts.column(feedback, "timezone").fill_null(facts.timezone)
    else:
        zone = pl.lit(facts.timezone)
    slim = feedback.select("submitted_at", pl.col("rating").cast(pl.Int16), zone.alias("timezone"))
    window = Periods(None, first_day, last_day)
    inside = [
        slim.filter(pl.col("timezone") == each).filter(index_of(pl.col("submitted_at"), window.utc_boundaries(each)) == 0)
        for each in slim["timezone"].unique().to_list()
    ]
    return pl.concat(inside).select("rating")


def rating_distribution(facts: Facts, first_day: date, last_day: date, *, suppress_below: int = SUPPRESS_BELOW) -> pl.DataFrame:
    """How many ratings of each value 1 to 5 were given on the local dates [first_day,
    last_day], and their share of all ratings in per cent.

    One row per rating value, always five: ``rating``, ``label``, ``ratings``, ``share``,
    ``note``. A count from 1 to ``suppress_below`` - 1 is suppressed (null, with the
    reason), and so is its share; zero is shown. Shares are of every rating, suppressed
    ones included, so the shares shown may add up to less than 100.
    """
    rated = ratings_in_window(facts, first_day, last_day)
    total = rated.height
    counts = rated.group_by("rating").agg(pl.len().cast(pl.Int64).alias("_count"))
    grid = pl.DataFrame({"rating": list(RATING_LABELS), "label": list(RATING_LABELS.values())}, schema={"rating": pl.Int16, "label": pl.String})
    table = grid.join(counts, on="rating", how="left").with_columns(pl.col("_count").fill_null(0))
    hidden = (pl.col("_count") > 0) & (pl.col("_count") < suppress_below)
    return table.select(
        "rating",
        "label",
        pl.when(~hidden).then(pl.col("_count")).alias("ratings"),
        pl.when(~hidden & (total > 0)).then(pl.col("_count") / total * 100).cast(pl.Float64).alias("share"),
        pl.when(hidden).then(pl.lit(f"fewer than {suppress_below}: suppressed")).cast(pl.String).alias("note"),
    )
