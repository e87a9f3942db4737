"""Aggregate series rolled up by hand: ratios of sums, sums of counts, and no figure (with
the reason) where only values were published or the grain cannot be made."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics.aggregate import AggregateError, aggregate


def _observations(*rows: tuple) -> pl.DataFrame:
    """(series, kind, grain, start, end, office, numerator, denominator, value)."""
    return pl.DataFrame(
        rows,
        schema={"series": pl.String, "kind": pl.String, "grain": pl.String, "period_start": pl.Date,
                "period_end": pl.Date, "office_id": pl.String, "numerator": pl.Float64, "denominator": pl.Float64,
                "value": pl.Float64},
        orient="row",
    )


M = "month"
RATIO = [
    ("seen", "ratio", M, date(2018, 4, 1), date(2018, 4, 30), "a", 90.0, 100.0, None),
    ("seen", "ratio", M, date(2018, 4, 1), date(2018, 4, 30), "b", 1.0, 10.0, None),
    ("seen", "ratio", M, date(2018, 5, 1), date(2018, 5, 31), "a", 80.0, 100.0, None),
    ("seen", "ratio", M, date(2018, 6, 1), date(2018, 6, 30), "a", 70.0, 100.0, None),
    ("seen", "ratio", M, date(2018, 7, 1), date(2018, 7, 31), "a", 50.0, 50.0, None),
]


def test_a_ratio_is_the_sum_of_numerators_over_the_sum_of_denominators_at_every_grain():
    frame = _observations(*RATIO)
    months = aggregate(frame)
    assert months.select("period_start", "numerator", "denominator", "value").rows() == [
        (date(2018, 4, 1), 91.0, 110.0, 91 / 110),  # not the mean of 90% and 10%
        (date(2018, 5, 1), 80.0, 100.0, 0.8),
        (date(2018, 6, 1), 70.0, 100.0, 0.7),
        (date(2018, 7, 1), 50.0, 50.0, 1.0),
    ]
    quarters = aggregate(frame, "quarter")
    assert quarters.select("period_start", "period_end", "value", "observations", "periods", "note").rows() == [
        (date(2018, 4, 1), date(2018, 6, 30), 241 / 310, 4, 3, None),
        (date(2018, 7, 1), date(2018, 9, 30), 1.0, 1, 1, "1 of the 3 months of this quarter are published"),
    ]
    year = aggregate(frame, "financial_year")
    assert year.select("period_start", "period_end", "numerator", "denominator", "value").rows() == [
        (date(2018, 4, 1), date(2019, 3, 31), 291.0, 360.0, 291 / 360)]
    assert year.get_column("note").to_list() == ["4 of the 12 months of this financial year are published"]
    by_office = aggregate(frame, "quarter", by=["office_id"]).filter(pl.col("period_start") == date(2018, 4, 1))
    assert by_office.select("office_id", "value").rows() == [("a", 240 / 300), ("b", 0.1)]


def test_a_financial_year_may_start_in_january():
    year = aggregate(_observations(*RATIO), "financial_year", year_starts=1)
    assert year.select("period_start", "period_end").rows() == [(date(2018, 1, 1), date(2018, 12, 31))]


def test_counts_add_up():
    frame = _observations(
        ("calls", "count", M, date(2018, 1, 1), date(2018, 1, 31), "a", 10.0, None, None),
        ("calls", "count", M, date(2018, 2, 1), date(2018, 2, 28), "a", 5.0, None, None),
        ("calls", "count", M, date(2018, 2, 1), date(2018, 2, 28), "b", 7.0, None, None),
    )
    quarter = aggregate(frame, "quarter")
    assert quarter.select("numerator", "denominator", "value", "observations").rows() == [(22.0, None, 22.0, 3)]


def test_values_without_their_parts_are_never_averaged():
    frame = _observations(
        ("cost", "value", M, date(2018, 1, 1), date(2018, 1, 31), "a", None, None, 4.5),
        ("cost", "value", M, date(2018, 2, 1), date(2018, 2, 28), "a", None, None, 5.5),
        ("cost", "value", M, date(2018, 2, 1), date(2018, 2, 28), "b", None, None, 9.0),
    )
    by_office = aggregate(frame, by=["office_id"])
    assert by_office.select("period_start", "office_id", "value", "note").rows() == [
        (date(2018, 1, 1), "a", 4.5, None), (date(2018, 2, 1), "a", 5.5, None), (date(2018, 2, 1), "b", 9.0, None)]
    pooled = aggregate(frame)  # two offices' February: no figure
    assert pooled.get_column("value").to_list() == [4.5, None]
    assert pooled.get_column("note").to_list() == [
        None, "2 of 2 observations publish only their value, not their parts: values are not averaged into a figure"]
    quarter = aggregate(frame, "quarter", by=["office_id"])
    assert quarter.select("office_id", "value", "note").rows() == [
        ("a", None, "2 of 2 observations publish only their value, not their parts: values are not averaged into a "
                    "coarser figure"),
        ("b", 9.0, "1 of the 3 months of this quarter are published"),
    ]


def test_a_ratio_published_without_its_parts_is_not_combined_either():
    frame = _observations(
        ("seen", "ratio", M, date(2018, 4, 1), date(2018, 4, 30), "a", 90.0, 100.0, None),
        ("seen", "ratio", M, date(2018, 5, 1), date(2018, 5, 31), "a", None, None, 0.5),
    )
    quarter = aggregate(frame, "quarter")
    assert quarter.select("numerator", "denominator", "value").rows() == [(None, None, None)]
    assert quarter.get_column("note")[0].startswith("1 of 2 observations publish only their value")


def test_a_grain_that_cannot_be_made_is_said_so():
    weeks = _observations(("visits", "count", "week", date(2018, 1, 29), date(2018, 2, 4), "a", 3.0, None, None))
    refused = aggregate(weeks, "month")
    assert refused.select("grain", "period_start", "value", "note").rows() == [
        ("week", date(2018, 1, 29), None, "published by week: weeks straddle months, so they do not add up to one")]
    years = _observations(("visits", "count", "financial_year", date(2018, 4, 1), date(2019, 3, 31), "a", 3.0, None, None))
    assert aggregate(years, "quarter").get_column("note").to_list() == [
        "published by financial_year: it cannot be split into quarters"]


def test_wrong_requests_are_named():
    frame = _observations(*RATIO)
    with pytest.raises(AggregateError, match="grain 'year' is not one of week, month, quarter, financial_year"):
        aggregate(frame, "year")
    with pytest.raises(AggregateError, match="cannot aggregate by region; choose from department_id, service_id"):
        aggregate(frame, by=["region"])
    with pytest.raises(AggregateError, match="the observations lack kind"):
        aggregate(frame.drop("kind"))


def test_no_observations_give_an_empty_frame_of_the_same_shape():
    empty = aggregate(_observations().head(0), "quarter", by=["office_id"])
    full = aggregate(_observations(*RATIO), "quarter", by=["office_id"])
    assert_frame_equal(empty, full.head(0))
