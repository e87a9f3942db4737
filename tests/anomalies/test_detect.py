"""The detector on hand-made series: what flags, when, and what does not."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from anomalies.detect import (
    DetectionSettings,
    adverse_signs,
    detect,
    kpi_kind,
    score,
    watched,
)
from tests.anomalies.frames import START, binomial_rate, days, poisson_days, series

QUIET = DetectionSettings(isolation=False)


def flags_of(values: pl.DataFrame, known: pl.DataFrame | None = None, settings: DetectionSettings = QUIET) -> pl.DataFrame:
    return detect(values, known, settings)[1]


def test_a_one_day_collapse_is_flagged_on_that_day_with_its_expected_value():
    counts = poisson_days(200, 400.0)
    counts[150] = 150.0
    found = flags_of(series(counts))
    assert found.height == 1
    flag = found.row(0, named=True)
    assert flag["first_day"] == START + timedelta(days=150)
    assert flag["detector"] == "robust_z" and flag["direction"] == "down"
    assert flag["value"] == 150.0
    assert flag["expected"] == pytest.approx(400, rel=0.1)
    assert flag["lower"] > 150.0


def test_plain_noise_and_a_weekday_shape_raise_nothing():
    shape = (1.4, 1.2, 1.1, 1.0, 0.9, 0.3, 0.1)  # Mondays busy, Sundays almost empty
    counts = poisson_days(400, 300.0, weekday_shape=shape, seed=3)
    assert flags_of(series(counts)).height == 0


def test_a_zero_baseline_still_flags():
    counts = np.zeros(160)
    counts[140] = 9.0
    daily = flags_of(series(counts, kpi="volume")).row(0, named=True)
    assert (daily["first_day"], daily["expected"], daily["value"]) == (START + timedelta(days=140), 0.0, 9.0)
    weekly = flags_of(series(counts, kpi="backlog_overdue", scope_kind="service", scope_id="s", grain="week")).row(0, named=True)
    assert (weekly["first_day"], weekly["expected"], weekly["value"]) == (START + timedelta(weeks=140), 0.0, 9.0)


def test_a_level_shift_is_flagged_once_when_it_starts():
    counts = np.concatenate([poisson_days(150, 200.0, seed=4), poisson_days(150, 400.0, seed=5)])
    found = flags_of(series(counts))
    assert found.height == 1
    assert found["first_day"][0] == START + timedelta(days=150)
    assert found["last_day"][0] > found["first_day"][0]  # it stays open while the baseline catches up


def test_the_worse_direction_of_a_rate_flags_and_the_better_one_does_not():
    rate, n = binomial_rate(200, 0.75, 600)
    worse, better = rate.copy(), rate.copy()
    worse[160], better[160] = 40.0, 99.0
    assert flags_of(series(worse, kpi="completion_rate", n=n))["direction"].to_list() == ["down"]
    assert flags_of(series(better, kpi="completion_rate", n=n)).height == 0
    assert adverse_signs("completion_rate") == (-1,)
    assert adverse_signs("volume") == (1, -1)
    assert adverse_signs("cost_per_transaction") == (1, -1)  # watched both ways


def test_known_days_are_neither_scored_nor_history():
    counts = poisson_days(200, 400.0)
    counts[120] = 0.0  # a public holiday: closed
    known = pl.DataFrame({"scope_kind": ["total"], "scope_id": ["all"], "day": [START + timedelta(days=120)]})
    scores = score(series(counts), known, QUIET)
    assert not scores.filter(pl.col("period_start") == START + timedelta(days=120))["scored"][0]
    assert flags_of(series(counts), known).height == 0
    assert flags_of(series(counts)).height == 1  # unknown, the same day is an anomaly


def test_last_years_peak_is_expected_this_year():
    count = 364 + 200
    yearly = np.ones(count)
    for year in (0, 1):
        yearly[150 + 364 * year : 180 + 364 * year] = 3.0  # a month-long rush, every year
    counts = np.random.default_rng(6).poisson(200 * yearly).astype(float)
    found = flags_of(series(counts))
    # the first rush has no history: its start (and its end) flag; the second is expected
    assert found["first_day"].to_list() == [START + timedelta(days=150), START + timedelta(days=180)]


def test_a_moderate_deviation_needs_a_kpi_of_another_family_to_corroborate_it():
    rate, n = binomial_rate(200, 0.75, 2000, seed=7)
    volume = poisson_days(200, 2000.0, seed=8)
    lone = series(rate, kpi="completion_rate", n=n)
    scores = score(lone, None, QUIET)
    scale = scores.filter(pl.col("period_start") == START + timedelta(days=170))["scale"][0]
    expected = scores.filter(pl.col("period_start") == START + timedelta(days=170))["expected"][0]
    rate[170] = expected - 5.5 * scale  # between z_threshold (5) and z_alone (6)
    alone = flags_of(series(rate, kpi="completion_rate", n=n))
    assert alone.height == 0
    volume[170] = 2000 - 8 * np.sqrt(2000)  # volume falls the same day: another family
    together = flags_of(pl.concat([series(rate, kpi="completion_rate", n=n), series(volume)]))
    assert together.filter(pl.col("kpi") == "completion_rate")["first_day"].to_list() == [START + timedelta(days=170)]


def test_a_small_shift_that_lasts_in_the_back_office_is_caught_by_the_cusum():
    rng = np.random.default_rng(9)
    net = rng.normal(0, 10, 220)
    net[180:] += 25  # about 2.5 scales, every day from day 180
    found = flags_of(series(net, kpi="net_flow", scope_kind="service", scope_id="s", n=[100] * 220))
    assert found.height == 1
    flag = found.row(0, named=True)
    assert flag["detector"] in ("sustained_shift", "forecast_interval")
    assert START + timedelta(days=180) <= flag["first_day"] <= flag["detected_on"] <= START + timedelta(days=188)


def test_isolation_forest_flags_a_day_odd_in_combination():
    kpis = ["volume", "digital_take_up", "completion_rate", "satisfaction"]
    rng = np.random.default_rng(10)
    frames = []
    for kpi in kpis:
        if kpi == "volume":
            values, n = poisson_days(300, 1000.0, seed=11), None
        else:
            values, n = binomial_rate(300, 0.7, 1000, seed=int(rng.integers(100)))
        frames.append(series(values, kpi=kpi, scope_kind="service", scope_id="s", n=n))
    values = pl.concat(frames)
    scores = score(values, None, QUIET)
    day = START + timedelta(days=250)
    at = scores.filter(pl.col("period_start") == day)
    changed = values
    for row in at.iter_rows(named=True):  # every KPI 4 scales the worse way: none alone would flag
        shift = 4.0 * row["scale"] * (1 if row["kpi"] == "volume" else -1)
        changed = changed.with_columns(
            pl.when((pl.col("kpi") == row["kpi"]) & (pl.col("period_start") == day)).then(pl.col("value") + shift).otherwise(pl.col("value")).alias("value")
        )
    found = detect(changed, None, DetectionSettings(isolation_quantile=0.01))[1]
    combination = found.filter(pl.col("detector") == "isolation_forest")
    assert combination["first_day"].to_list() == [day]
    assert len(combination["kpis"][0].split(",")) >= 3
    assert found.filter(pl.col("detector") != "isolation_forest").height == 0


def test_scores_use_only_earlier_periods():
    counts = poisson_days(200, 300.0, seed=12)
    before = score(series(counts), None, QUIET)
    changed = counts.copy()
    changed[190:] = 5000.0  # the future changes; the past's expectations must not
    after = score(series(changed), None, QUIET)
    cut = START + timedelta(days=190)
    left = before.filter(pl.col("period_start") <= cut).select("expected", "scale")
    right = after.filter(pl.col("period_start") <= cut).select("expected", "scale")
    assert left.equals(right)


def test_watched_series_and_kinds():
    values = pl.concat([
        series([1.0] * 10, kpi="backlog", scope_kind="service", scope_id="s"),
        series([1.0] * 10, kpi="backlog", scope_kind="service", scope_id="s", grain="week"),
        series([1.0] * 10, kpi="wait_time_p90", scope_kind="office", scope_id="o"),
    ])
    kept = watched(values).select("grain", "kpi").unique().sort("grain")
    assert kept.rows() == [("week", "backlog")]
    assert [kpi_kind(k) for k in ("volume", "on_time_rate", "net_flow", "asa", "wait_time_median")] == [
        "count", "rate", "difference", "ratio", "quantile",
    ]


def test_a_series_too_short_to_score_raises_nothing():
    assert flags_of(series(poisson_days(60, 100.0))).height == 0
    assert days(3)[-1] == START + timedelta(days=2)
