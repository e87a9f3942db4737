"""Hand-computed metric values."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from forecasting.accuracy import coverage, mase, seasonal_naive_mae, smape, smape_terms


def test_seasonal_naive_mae_matches_hand_computation() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(9)]
    values = [1, 2, 3, 4, 5, 6, 7, 3, 0]
    # pairs 7 days apart: (day 7, day 0): |3 - 1| = 2; (day 8, day 1): |0 - 2| = 2
    assert seasonal_naive_mae(days, values) == 2.0


def test_seasonal_naive_mae_pairs_by_date_across_a_gap() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in (0, 1, 7, 9)]
    # day 7 pairs with day 0 (|5 - 1| = 4); day 9 would pair with day 2, which is missing
    assert seasonal_naive_mae(days, [1, 2, 5, 100]) == 4.0
    assert math.isnan(seasonal_naive_mae(days[:2], [1, 2]))


def test_mase_scales_mean_absolute_error() -> None:
    assert mase(np.array([10, 20, 30]), np.array([12, 18, 30]), scale=2.0) == pytest.approx(
        (2 + 2 + 0) / 3 / 2
    )
    assert (
        mase(np.array([10, np.nan]), np.array([12, 0]), scale=4.0) == 0.5
    )  # missing actual skipped
    assert math.isnan(mase(np.array([1.0]), np.array([1.0]), scale=0.0))


def test_smape_is_symmetric_and_zero_when_both_zero() -> None:
    assert smape_terms(np.array([100.0, 0.0]), np.array([50.0, 0.0])).tolist() == [
        2 * 50 / 150,
        0.0,
    ]
    assert smape(np.array([100.0, 0.0]), np.array([50.0, 0.0])) == pytest.approx(
        100 * (2 * 50 / 150) / 2
    )
    assert smape(np.array([0.0]), np.array([5.0])) == 200.0


def test_coverage_counts_bounds_as_inside() -> None:
    actual = np.array([1.0, 5.0, 10.0, 11.0, np.nan])
    assert coverage(actual, np.full(5, 1.0), np.full(5, 10.0)) == 75.0
