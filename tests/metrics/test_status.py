"""Status against target and the CityScore composite, by hand."""

from __future__ import annotations

import pytest

from metrics.registry import Direction
from metrics.status import AMBER, GREEN, GREY, RED, composite, composite_status, metric_score, status, status_word


@pytest.mark.parametrize(
    ("value", "target", "better", "expected"),
    [
        (90.0, 90.0, Direction.HIGHER, GREEN),
        (85.6, 90.0, Direction.HIGHER, AMBER),  # within 5% of 90 (4.5 points)
        (85.5, 90.0, Direction.HIGHER, AMBER),
        (85.4, 90.0, Direction.HIGHER, RED),
        (30.0, 30.0, Direction.LOWER, GREEN),
        (31.5, 30.0, Direction.LOWER, AMBER),
        (31.6, 30.0, Direction.LOWER, RED),
        (None, 30.0, Direction.LOWER, GREY),  # too little data
        (12.0, None, Direction.LOWER, GREY),  # no target
        (1200.0, 1000.0, Direction.CONTEXT, GREY),  # volumes have no good direction
    ],
)
def test_status(value, target, better, expected):
    assert status(value, target, better) == expected


def test_metric_score_is_capped_and_turned_for_lower_is_better():
    assert metric_score(45.0, 90.0, Direction.HIGHER) == pytest.approx(0.5)
    assert metric_score(200.0, 90.0, Direction.HIGHER) == pytest.approx(1.25)
    assert metric_score(60.0, 30.0, Direction.LOWER) == pytest.approx(0.5)
    assert metric_score(10.0, 30.0, Direction.LOWER) == pytest.approx(1.25)
    assert metric_score(0.0, 30.0, Direction.LOWER) == pytest.approx(1.25)
    assert metric_score(None, 30.0, Direction.LOWER) is None
    assert metric_score(5.0, None, Direction.LOWER) is None


def test_composite_is_the_mean_of_the_scores_that_exist():
    assert composite([1.25, 0.75, None, 1.0]) == pytest.approx(1.0)
    assert composite([None]) is None
    assert composite_status(1.0) == GREEN
    assert composite_status(0.96) == AMBER
    assert composite_status(0.9) == RED
    assert composite_status(None) == GREY


@pytest.mark.parametrize(
    ("state", "value", "target", "partial", "word"),
    [
        (GREEN, 91.0, 90.0, False, "On target"),
        (AMBER, 86.0, 90.0, False, "Near target"),
        (RED, 50.0, 90.0, False, "Off target"),
        (GREY, 50.0, 90.0, True, "Week in progress"),  # a partial week is never judged
        (GREY, None, 90.0, False, "Too little data"),
        (GREY, 120.0, None, False, "No target"),
    ],
)
def test_status_word_says_which_of_grey_s_reasons(state, value, target, partial, word):
    assert status_word(state, value, target, partial=partial) == word
