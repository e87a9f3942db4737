"""Erlang B/C/A check values and properties, intraday profiles and plans."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import ForecastInputError
from forecasting.staffing import (
    asa_c,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    intraday_profile,
    offered_load,
    required_agents,
    scheduled_staff,
    service_level_c,
    split_daily_forecast,
    staff_hours,
    staffing_plan,
)


def test_domain_check_values() -> None:
    load = offered_load(100, 30 * 60, 180)
    assert load == 10.0
    assert service_level_c(13, load, 180, 20) == pytest.approx(0.796, abs=5e-4)
    assert service_level_c(14, load, 180, 20) == pytest.approx(0.888, abs=5e-4)
    assert asa_c(14, load, 180) == pytest.approx(7.8, abs=0.05)
    result = required_agents(100, 1800, 180, 20, service_level=0.8)
    assert result.agents == 14
    assert 13 < result.fractional_agents < 14


def test_erlang_b_and_c_small_cases_by_hand() -> None:
    assert erlang_b(1, 2.0) == pytest.approx(2 / 3)
    assert erlang_b(2, 2.0) == pytest.approx((2 * 2 / 3) / (2 + 2 * 2 / 3))
    # M/M/1: P(wait) = rho
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert erlang_c(3, 3.0) == 1.0 and asa_c(3, 3.0, 180) == math.inf


def test_two_hundred_plus_agents_stay_finite() -> None:
    assert 0 < erlang_c(260, 240.0) < 1
    metrics = erlang_a_metrics(260, 240.0, 180, 20, 300)
    assert 0 < metrics.service_level < 1 and 0 <= metrics.p_abandon < 0.05
    assert math.isfinite(metrics.asa_seconds)


def test_erlang_a_overload_abandons_the_excess() -> None:
    metrics = erlang_a_metrics(5, 20.0, 180, 20, 300)
    assert metrics.p_abandon == pytest.approx(
        0.75, abs=1e-3
    )  # 5 agents can serve 1/4 of 20 Erlangs
    assert metrics.occupancy == pytest.approx(1.0, abs=1e-3)


def test_erlang_a_needs_no_more_agents_than_erlang_c() -> None:
    c = required_agents(100, 1800, 180, 20, 0.8, 0.85)
    a = required_agents(100, 1800, 180, 20, 0.8, 0.85, patience_seconds=300)
    assert a.agents <= c.agents
    assert a.fractional_agents <= c.fractional_agents


def test_occupancy_cap_binds() -> None:
    result = required_agents(1000, 1800, 180, 60, 0.5, max_occupancy=0.8)
    assert result.agents == 125  # 100 Erlangs / 0.8
    assert result.fractional_agents == pytest.approx(125.0)


def test_scheduled_staff_and_rounding_once() -> None:
    assert scheduled_staff(14, 0.3) == pytest.approx(20.0)
    plan = pl.DataFrame({"scheduled_erlang_a": [1.2, 1.2, 1.2]})  # 3 half hours
    assert staff_hours(plan) == 2  # 1.8 staff-hours -> 2, not 3 x ceil(0.6)
    with pytest.raises(ForecastInputError, match="shrinkage must be a share"):
        scheduled_staff(10, 30)


@settings(max_examples=40, deadline=None)
@given(load=st.floats(0.5, 80), extra=st.integers(1, 30), target=st.floats(0, 120))
def test_service_level_increases_with_agents(load: float, extra: int, target: float) -> None:
    agents = math.floor(load) + extra
    c_now = erlang_c_metrics(agents, load, 180, target).service_level
    c_next = erlang_c_metrics(agents + 1, load, 180, target).service_level
    assert 0 <= c_now <= c_next <= 1 + 1e-12
    a_now = erlang_a_metrics(agents, load, 180, target, 240).service_level
    a_next = erlang_a_metrics(agents + 1, load, 180, target, 240).service_level
    assert a_now <= a_next + 1e-9


@settings(max_examples=40, deadline=None)
@given(load=st.floats(0.1, 60), agents=st.integers(1, 80), patience=st.floats(5, 3600))
def test_erlang_a_probabilities_are_shares(load: float, agents: int, patience: float) -> None:
    metrics = erlang_a_metrics(agents, load, 180, 20, patience)
    for share in (metrics.p_abandon, metrics.p_wait, metrics.service_level, metrics.occupancy):
        assert 0 <= share <= 1


@settings(max_examples=25, deadline=None)
@given(load=st.floats(0.5, 40), extra=st.integers(1, 10))
def test_erlang_a_with_infinite_patience_approaches_erlang_c(load: float, extra: int) -> None:
    agents = math.ceil(load + 0.5) + extra - 1  # at least half an Erlang of slack
    c = erlang_c_metrics(agents, load, 180, 20)
    a = erlang_a_metrics(agents, load, 180, 20, patience_seconds=1e9)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-4)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-3, abs=1e-3)


def test_intraday_profile_from_timestamps_and_counts() -> None:
    monday = dt.datetime(2024, 1, 1)
    arrivals = pl.DataFrame(
        {
            "arrived_at": [
                monday.replace(hour=9, minute=5),
                monday.replace(hour=9, minute=40),
                monday.replace(hour=9, minute=50),
                monday.replace(hour=10),
            ]
        }
    )
    profile = intraday_profile(arrivals)
    assert profile.rows() == [(1, 540, 0.25), (1, 570, 0.5), (1, 600, 0.25)]
    counts = pl.DataFrame(
        {"start": [monday.replace(hour=8), monday.replace(hour=8, minute=30)], "calls": [30, 10]}
    )
    assert intraday_profile(counts, "start", "calls")["share"].to_list() == [0.75, 0.25]
    with pytest.raises(ForecastInputError, match="missing column 'arrived_at'"):
        intraday_profile(counts)


def test_daily_forecast_splits_into_intervals_and_plans_both_models() -> None:
    profile = pl.DataFrame(
        {"weekday": [1, 1], "slot": [540, 570], "share": [0.4, 0.6]},
        schema_overrides={"weekday": pl.Int8, "slot": pl.Int32},
    )
    forecast = pl.DataFrame(
        {
            "series_id": ["x", "x"],
            "ds": [dt.date(2024, 1, 1), dt.date(2024, 1, 7)],
            "yhat": [250.0, 99.0],
        }
    )
    intervals = split_daily_forecast(forecast, profile)
    assert intervals["arrivals"].to_list() == [100.0, 150.0]  # Sunday has no profile: closed
    assert intervals["interval_start"].to_list()[0] == dt.datetime(2024, 1, 1, 9, 0)
    plan = staffing_plan(
        forecast, profile, aht_seconds=180, target_seconds=20, service_level=0.8, shrinkage=0.3
    )
    first = plan.row(0, named=True)
    assert first["load"] == 10.0
    assert 13 < first["agents_erlang_c"] < 14
    assert first["agents_erlang_a"] <= first["agents_erlang_c"]
    assert first["scheduled_erlang_c"] == pytest.approx(first["agents_erlang_c"] / 0.7)


def _simulate_erlang_a(
    agents: int, load: float, aht: float, patience: float, target: float, calls: int = 120_000
) -> tuple[float, float, float]:
    """FCFS M/M/N+M by event simulation: (service level, ASA seconds, P(abandon))."""
    import heapq

    import numpy as np

    rng = np.random.default_rng(7)
    arrivals = np.cumsum(rng.exponential(aht / load, calls))
    handle = rng.exponential(aht, calls)
    patience_draws = rng.exponential(patience, calls)
    free_at = [0.0] * agents
    in_time, abandoned, waits = 0, 0, []
    for arrival, service, limit in zip(arrivals, handle, patience_draws, strict=True):
        start = max(arrival, free_at[0])
        if start - arrival > limit:
            abandoned += 1
            continue
        heapq.heapreplace(free_at, start + service)
        waits.append(start - arrival)
        in_time += start - arrival <= target
    return in_time / calls, float(np.mean(waits)), abandoned / calls


def test_erlang_a_matches_a_simulation() -> None:
    simulated_sl, simulated_asa, simulated_abandon = _simulate_erlang_a(9, 10.0, 180, 120, 20)
    metrics = erlang_a_metrics(9, 10.0, 180, 20, 120)
    assert metrics.service_level == pytest.approx(simulated_sl, abs=0.015)
    assert metrics.asa_seconds == pytest.approx(simulated_asa, rel=0.05)
    assert metrics.p_abandon == pytest.approx(simulated_abandon, abs=0.01)
