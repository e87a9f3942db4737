"""The real-series harness (bench/anomaly_quality_real.py): its injections by hand, and
(slow) the issue 16 goals on Boston 311 with injected incidents."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from bench import anomaly_quality_real as harness

DAY = dt.date(2025, 3, 3)

needs_files = pytest.mark.skipif(
    not harness.BOSTON_CSV.is_file(),
    reason="the real sample files (../shared/data/) are not on this machine; set KPI_SHARED_DATA",
)


def frame(values: list[float]) -> pl.DataFrame:
    return pl.DataFrame({
        "series_id": ["s"] * len(values), "ds": [DAY + dt.timedelta(days=i) for i in range(len(values))], "y": values,
    })


def test_injections_multiply_the_days_they_cover_and_no_other():
    drop = {"series_id": "s", "kind": "drop", "size": 0.7, "direction": "down", "first_day": DAY + dt.timedelta(days=1),
            "last_day": DAY + dt.timedelta(days=1), "ramp_days": 0}
    drift = {"series_id": "s", "kind": "drift", "size": 0.5, "direction": "up", "first_day": DAY + dt.timedelta(days=3),
             "last_day": DAY + dt.timedelta(days=6), "ramp_days": 2}
    out = harness.inject(frame([100.0] * 8), [drop, drift])["y"].to_list()
    # day 1: 100 x 0.3; days 3-4: the ramp 1.25, 1.5; days 5-6 stay at 1.5
    assert out == [100.0, 30.0, 100.0, 125.0, 150.0, 150.0, 150.0, 100.0]


def test_judging_counts_a_flag_in_the_incidents_direction_within_its_allowance():
    shift = {"series_id": "s", "kind": "shift", "size": 0.3, "direction": "down", "first_day": DAY, "last_day": DAY + dt.timedelta(days=20), "ramp_days": 0}
    spike = {"series_id": "s", "kind": "spike", "size": 3.0, "direction": "up", "first_day": DAY + dt.timedelta(days=60),
             "last_day": DAY + dt.timedelta(days=60), "ramp_days": 0}
    flags = pl.DataFrame({
        "series_id": ["s", "s", "s"],
        "ds": [DAY + dt.timedelta(days=6), DAY + dt.timedelta(days=62), DAY + dt.timedelta(days=100)],
        "direction": ["down", "up", "up"],
    })
    judged, inside, total = harness.judge([shift, spike], flags)
    # the shift is found on day 6 (allowed: 7); the spike's flag is 2 days late (allowed: 1)
    assert [j["detected"] for j in judged] == [True, False]
    # inside: day 6 (in the shift) and day 62 (within 7 days after the spike); day 100 is not
    assert (inside, total) == (2, 3)


def test_incidents_are_drawn_on_scored_days_six_weeks_apart():
    days = {"s": [DAY + dt.timedelta(days=i) for i in range(300) if i % 7 != 6]}
    incidents = harness.draw_incidents(days, np.random.default_rng(0))
    assert incidents
    allowed = set(days["s"])
    for before, after in zip(incidents, incidents[1:], strict=False):
        assert (after["first_day"] - before["last_day"]).days >= harness.GAP_DAYS
    assert all(i["first_day"] in allowed for i in incidents)


@pytest.fixture(scope="module")
def boston_measured():
    """Boston 311's daily requests (2015, US/MA holidays known) and its busy channels and
    departments, 200 injected copies each (seed 11: neither the seed 3 the thresholds
    were chosen on nor the README's seed 0). About a minute."""
    total, parts = harness.sources(None)[:2]
    return harness.measure(total, runs=200, seed=11), harness.measure(parts, runs=40, seed=11)


@pytest.mark.slow
@needs_files
def test_boston_with_injected_incidents_meets_the_goals(boston_measured):
    """The issue 16 goals that are met: one-day drops of 50% or more found (measured
    0.90 over 200 runs), at most one false alarm per month on the daily requests as they
    are (measured 0.71: 6 flags in 8.4 scored months, 4 of them Christmas week). Shifts
    of 30% or more: measured 0.78 (0.70 before the level-shift test), held here so that
    a regression shows; the goal of 0.9 is the next test's."""
    total, _parts = boston_measured
    recalls = harness.goal_recalls([total])
    assert total.false_alarm_rate <= 1.0
    assert recalls[("real", "drop")] >= 0.9
    assert recalls[("real", "shift")] >= 0.75


@pytest.mark.slow
@needs_files
@pytest.mark.xfail(strict=True, reason=(
    "issue 16 goals not met (README): shifts of 30% or more on Boston's daily requests 0.78 < 0.9 (20 of the 32 misses "
    "come while a flag in the same direction is already open, from a real rise or fall, or start before the shift); its channels and "
    "departments raise 1.41 false alarms per series-month > 1 (the internal-worker channels halve from day to day)"))
def test_boston_meets_the_shift_and_false_alarm_goals(boston_measured):
    total, parts = boston_measured
    assert harness.goal_recalls([total])[("real", "shift")] >= 0.9
    assert parts.false_alarm_rate <= 1.0
