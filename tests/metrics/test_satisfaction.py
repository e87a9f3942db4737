"""The spread of ratings over 1 to 5, by hand: local dates, suppression of small counts."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.engine import compute
from metrics.satisfaction import rating_distribution
from tests.metrics.builders import facts, feedback

W10 = dict(first_day=date(2026, 3, 2), last_day=date(2026, 3, 8))


def week_of_ratings() -> pl.DataFrame:
    return pl.concat([
        feedback(5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 1, 1, at="2026-03-03 12:00"),
        feedback(3, 3, 3, 3, 3, at="2026-03-08 23:30"),  # Sunday night, local: inside
        feedback(2, 2, 2, 2, 2, 2, at="2026-03-01 23:59"),  # the Sunday before: outside
    ]).with_columns(pl.int_range(pl.len()).alias("feedback_id"))


def test_every_rating_value_is_counted_with_its_share():
    spread = rating_distribution(facts(feedback=week_of_ratings()), **W10, suppress_below=1)
    assert spread["rating"].to_list() == [1, 2, 3, 4, 5]
    assert spread["label"].to_list()[0] == "Very dissatisfied"
    assert spread["ratings"].to_list() == [2, 0, 5, 5, 6]
    assert spread["share"].to_list() == pytest.approx([2 / 18 * 100, 0.0, 5 / 18 * 100, 5 / 18 * 100, 6 / 18 * 100])
    assert spread["note"].null_count() == 5


def test_counts_under_five_are_suppressed_but_zero_is_shown():
    spread = rating_distribution(facts(feedback=week_of_ratings()), **W10)
    ones = spread.row(0, named=True)
    assert (ones["ratings"], ones["share"], ones["note"]) == (None, None, "fewer than 5: suppressed")
    assert spread.row(1, named=True)["ratings"] == 0
    assert spread.row(4, named=True)["share"] == pytest.approx(6 / 18 * 100)  # of all 18, suppressed ones included


def test_the_distribution_adds_up_to_the_engines_ratings():
    data = facts(feedback=week_of_ratings())
    spread = rating_distribution(data, **W10, suppress_below=1)
    engine = compute(data, ["satisfaction"], by=[], **W10)
    assert spread["ratings"].sum() == engine.values["n"].item() == 18
    top_two = spread.filter(pl.col("rating") >= 4)["ratings"].sum()
    assert top_two / 18 * 100 == pytest.approx(engine.values["value"].item())


def test_no_ratings_give_five_zero_rows():
    spread = rating_distribution(facts(feedback=week_of_ratings()), first_day=date(2026, 1, 5), last_day=date(2026, 1, 11))
    assert spread["ratings"].to_list() == [0] * 5
    assert spread["share"].null_count() == 5
