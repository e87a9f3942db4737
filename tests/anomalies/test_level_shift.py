"""The level-shift test (issue 16 item 2): a step of a few days against the days just
before it, worked by hand and on a noisy weekday-seasonal count series like Boston 311."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from anomalies.detect import DetectionSettings, level_shifts, open_flags
from anomalies.own import flag_csv_series
from tests.anomalies.frames import START, days

SHIFT = DetectionSettings(shift_z=3.5)


def test_the_step_statistic_by_hand():
    """30 residuals of 0 then 5 of 2: the best step ending on the last day is the five 2s
    against the 21 zeros before them: D = 2, sigma = 1 (the floor: the MAD of zeros is 0),
    standard error sqrt(1/5 + 1/21) = 0.49761, statistic 4.0193; taking in one zero more
    (six days) gives 1.6667 / sqrt(1/6 + 1/21) = 3.6004, less."""
    residuals = np.concatenate([np.zeros(30), np.full(5, 2.0)])
    found = level_shifts(residuals, np.ones(35, dtype=bool), SHIFT)
    statistic, start = found[1][0][34], found[1][1][34]
    assert statistic == pytest.approx(2 / np.sqrt(1 / 5 + 1 / 21), abs=1e-9)
    assert start == 30
    assert np.isnan(found[-1][0][34])  # nothing fell
    # after two days of it the shortest window (3) takes in a zero: (4/3) / sqrt(1/3 + 1/21) = 2.1602, under 3.5
    early = level_shifts(residuals[:32], np.ones(32, dtype=bool), SHIFT)
    assert early[1][0][31] == pytest.approx((4 / 3) / np.sqrt(1 / 3 + 1 / 21), abs=1e-9)


def test_a_step_opens_one_flag_at_its_first_period_and_its_return_is_not_a_second():
    """Residuals 0, then 1.5 for ten periods, then 0: one upward flag from the step's
    first period (found on its fifth: 1.5 / sqrt(1/4 + 1/21) = 2.75 < 3.5, then
    1.5 / sqrt(1/5 + 1/21) = 3.01, 1.5 / sqrt(1/6 + 1/21) = 3.24, 1.5 / sqrt(1/7 + 1/21)
    = 3.44, 1.5 / sqrt(1/8 + 1/21) = 3.61: on the eighth), closed once back; the fall
    back to 0 is its end, not a shift down."""
    z = np.concatenate([np.zeros(40), np.full(10, 1.5), np.zeros(20)])
    scored = np.ones(z.size, dtype=bool)
    settings = DetectionSettings(shift_z=3.5, cusum_h=float("inf"), reset_z=1.0)
    found = open_flags(z, np.zeros(z.size, dtype=int), scored, (1, -1), settings, shifts=level_shifts(z, scored, settings))
    assert [(first, detected, sign, detector) for first, detected, _last, sign, detector, _rec in found] == [(40, 47, 1, "level_shift")]
    assert found[0][2] == 49 and found[0][5] == 52  # last outside, then 3 calm periods close it


def noisy_counts(count: int, *, seed: int) -> np.ndarray:
    """Boston-like requests: ~430 on weekdays, ~130 at weekends, every day off by ~15%."""
    rng = np.random.default_rng(seed)
    shape = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.32, 0.28])
    weekday = np.array([d.weekday() for d in days(count)])
    return rng.poisson(430 * shape[weekday] * rng.lognormal(0.0, 0.15, count)).astype(float)


def csv_frame(values: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"series_id": "s", "ds": days(values.size), "y": values})


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_thirty_percent_shift_for_two_weeks_is_flagged_when_it_starts(seed):
    """Two weeks at 70% of the level from day 200 (a Friday): one flag down starting
    within four days of it (the noise hides the first days of some seeds) and outside
    through the middle of the fortnight, where the same series without the shift has no
    flag at all."""
    window = pl.col("ds").is_between(START + timedelta(days=180), START + timedelta(days=230))
    plain = noisy_counts(300, seed=seed)
    assert flag_csv_series(csv_frame(plain))[0].filter(window).height == 0
    shifted = plain.copy()
    shifted[200:214] = np.round(shifted[200:214] * 0.7)
    down = flag_csv_series(csv_frame(shifted))[0].filter(window & (pl.col("direction") == "down"))
    first = down.row(0, named=True)
    assert START + timedelta(days=200) <= first["ds"] <= START + timedelta(days=204)
    assert first["detector"] == "level_shift"
    assert first["last_date"] >= START + timedelta(days=209)
    assert "a step down from the level of the weeks before" in first["explanation"]
    assert "outside to" in first["explanation"] and "back on" in first["explanation"]
