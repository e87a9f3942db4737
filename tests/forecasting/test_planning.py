"""Staffing plans from frames: gap arithmetic by hand, roster spreads, what-ifs, history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import polars as pl
import pytest

from forecasting import ForecastInputError
from forecasting.planning import (
    QueueHistory,
    StaffingSettings,
    default_settings,
    plan_staffing,
    queue_history,
    rostered_hours,
)
from forecasting.staffing import required_agents

MONDAY = dt.date(2024, 1, 8)


def queue(shares: tuple[float, float] = (0.5, 0.5), aht: float = 180.0, patience: float | None = 300.0) -> QueueHistory:
    """A Monday-only queue with two half hours, 09:00 and 09:30."""
    profile = pl.DataFrame(
        {"weekday": [1, 1], "slot": [540, 570], "share": list(shares)},
        schema={"weekday": pl.Int8, "slot": pl.Int32, "share": pl.Float64},
    )
    return QueueHistory("o", "phone", profile, aht, patience, 0, 0, 0, MONDAY, MONDAY)


def forecast(calls: float = 200.0) -> pl.DataFrame:
    return pl.DataFrame({"ds": [MONDAY], "yhat": [calls], "hi80": [calls * 1.5]})


def roster(hours: float = 20.0) -> pl.DataFrame:
    return pl.DataFrame({"ds": [MONDAY], "rostered_hours": [hours], "source": ["costs"]})


SETTINGS = StaffingSettings(service_level=0.8, target_seconds=20, max_occupancy=0.85, shrinkage=0.3)


def test_gaps_by_hand_on_the_domain_check_case() -> None:
    # 100 calls in each half hour, AHT 180 s: 10 Erlangs, the DOMAIN.md section 4 case
    plan = plan_staffing(forecast(200), queue(), roster(20), SETTINGS)
    c = required_agents(100, 1800, 180, 20, 0.8, 0.85)
    a = required_agents(100, 1800, 180, 20, 0.8, 0.85, patience_seconds=300)
    assert c.agents == 14 and c.fractional_agents == pytest.approx(13.05, abs=0.01)
    first = plan.intervals.row(0, named=True)
    assert first["arrivals"] == 100 and first["load"] == pytest.approx(10.0)
    assert first["agents_erlang_c"] == pytest.approx(c.fractional_agents)
    assert first["agents_erlang_a"] == pytest.approx(a.fractional_agents)
    assert first["agents_erlang_a"] < first["agents_erlang_c"]  # callers who hang up need no agent
    # staff = agents / (1 - 30%); 20 rostered hours, half per half hour: 10 h / 0.5 h = 20 on shift
    needed_c = c.fractional_agents / 0.7
    assert first["staff_needed_erlang_c"] == pytest.approx(needed_c)  # 18.64
    assert first["rostered_staff"] == pytest.approx(20.0)
    assert first["gap_erlang_c"] == pytest.approx(20.0 - needed_c)  # +1.36: a small surplus
    assert first["staff_erlang_c"] == math.ceil(needed_c) == 19  # rounded once, at the end
    day = plan.days.row(0, named=True)
    assert day["hours_needed_erlang_c"] == pytest.approx(2 * needed_c * 0.5)
    assert day["gap_hours_erlang_c"] == pytest.approx(20.0 - needed_c)
    assert day["hours_erlang_c"] == 19 and day["peak_staff_erlang_c"] == 19
    assert day["hours_needed_erlang_a"] == pytest.approx(a.fractional_agents / 0.7)
    assert day["rostered_hours"] == 20.0 and day["rostered_source"] == "costs"


def test_a_shortfall_is_negative_and_rounding_happens_once_per_figure() -> None:
    plan = plan_staffing(forecast(200), queue(), roster(10), SETTINGS)
    needed = required_agents(100, 1800, 180, 20, 0.8, 0.85).fractional_agents / 0.7
    assert plan.intervals["gap_erlang_c"].to_list() == pytest.approx([10 - needed] * 2)  # -8.64 each
    day = plan.days.row(0, named=True)
    # 18.64 h needed, rounded once to 19; rounding each half hour up, 2 x ceil(9.32 h), says 20
    assert day["hours_erlang_c"] == 19 and day["gap_hours_erlang_c"] == pytest.approx(10 - needed)


def test_roster_spread_by_profile_or_evenly() -> None:
    by_profile = plan_staffing(forecast(200), queue((0.75, 0.25)), roster(20), SETTINGS)
    assert by_profile.intervals["rostered_staff"].to_list() == pytest.approx([30.0, 10.0])
    even = plan_staffing(
        forecast(200), queue((0.75, 0.25)), roster(20), dataclasses.replace(SETTINGS, roster_spread="even")
    )
    assert even.intervals["rostered_staff"].to_list() == pytest.approx([20.0, 20.0])
    assert even.days["rostered_hours"].to_list() == by_profile.days["rostered_hours"].to_list() == [20.0]


def test_what_ifs_recompute_from_the_same_frames() -> None:
    base = plan_staffing(forecast(200), queue(), roster(20), SETTINGS)
    busier = plan_staffing(forecast(200), queue(), roster(20), dataclasses.replace(SETTINGS, volume_change=0.1))
    assert busier.intervals["arrivals"].to_list() == pytest.approx([110.0, 110.0])
    assert (busier.intervals["agents_erlang_c"] > base.intervals["agents_erlang_c"]).all()
    bound = plan_staffing(forecast(200), queue(), roster(20), dataclasses.replace(SETTINGS, forecast_column="hi80"))
    assert bound.intervals["arrivals"].to_list() == pytest.approx([150.0, 150.0])
    slower = plan_staffing(forecast(200), queue(), roster(20), dataclasses.replace(SETTINGS, aht_seconds=240))
    assert slower.aht_seconds == 240 and slower.intervals["load"].to_list() == pytest.approx([40 / 3] * 2)
    shrunk = plan_staffing(forecast(200), queue(), roster(20), dataclasses.replace(SETTINGS, shrinkage=0.4))
    assert shrunk.intervals["staff_needed_erlang_c"].to_list() == pytest.approx(
        (base.intervals["agents_erlang_c"] / 0.6).to_list()
    )
    impatient = plan_staffing(forecast(200), queue(), roster(20), dataclasses.replace(SETTINGS, patience_seconds=60))
    assert (impatient.intervals["agents_erlang_a"] < base.intervals["agents_erlang_a"]).all()
    assert impatient.intervals["agents_erlang_c"].to_list() == base.intervals["agents_erlang_c"].to_list()
    lenient = plan_staffing(forecast(200), queue(), roster(20), dataclasses.replace(SETTINGS, service_level=0.5))
    assert (lenient.intervals["agents_erlang_c"] < base.intervals["agents_erlang_c"]).all()


def test_settings_errors_name_every_problem() -> None:
    bad = StaffingSettings(service_level=80, shrinkage=1.0, roster_spread="random", forecast_column="mean")
    with pytest.raises(ForecastInputError) as caught:
        plan_staffing(forecast(), queue(), roster(), bad)
    message = str(caught.value)
    assert message.startswith("staffing settings: service_level must be a share in (0, 1), got 80; ")
    for part in ("shrinkage must be a share in [0, 1)", "forecast_column must be one of yhat, lo80", "roster_spread must be one of profile, even"):
        assert part in message


def test_default_targets_per_kind_of_office() -> None:
    assert default_settings("contact_centre").target_seconds == 20
    assert default_settings("service_centre").target_seconds == 900


def test_queue_history_profile_aht_and_patience() -> None:
    rows = pl.DataFrame(
        {
            "office_id": ["o", "o", "o", "o", "x"],
            "channel": ["phone"] * 5,
            "ds": [MONDAY, MONDAY, MONDAY + dt.timedelta(days=1), MONDAY - dt.timedelta(days=7 * 20), MONDAY],
            "slot": [540, 570, 540, 540, 540],
            "arrivals": [3, 1, 2, 50, 9],
            "answered": [3, 0, 2, 50, 9],
            "abandoned": [0, 1, 0, 0, 0],
            "handle_seconds": [600.0, 0.0, 400.0, 1.0, 1.0],
            "wait_seconds": [30.0, 90.0, 0.0, 0.0, 0.0],
        }
    )
    history = queue_history(rows, "o", weeks=12)  # the row 20 weeks back is outside
    assert (history.arrivals, history.answered, history.abandoned) == (6, 5, 1)
    assert history.aht_seconds == pytest.approx(1000 / 5)
    assert history.patience_seconds == pytest.approx(120.0)  # 120 s of waiting per hang-up
    assert history.profile.rows() == [(1, 540, 0.75), (1, 570, 0.25), (2, 540, 1.0)]
    with pytest.raises(ForecastInputError, match=r"no calls or visits at office 'nowhere'"):
        queue_history(rows, "nowhere")


def test_rostered_hours_from_costs_and_assumed_for_future_days() -> None:
    costs = pl.DataFrame(
        {
            "office_id": ["o", "o", "o", "o", "o", "p"],
            "channel": [None, None, None, None, "phone", None],
            "period_start": [MONDAY - dt.timedelta(days=7), MONDAY, MONDAY, MONDAY + dt.timedelta(days=1), MONDAY, MONDAY],
            "period_end": [MONDAY - dt.timedelta(days=7), MONDAY, MONDAY, MONDAY + dt.timedelta(days=2), MONDAY, MONDAY],
            "staff_hours": [10.0, 8.0, 6.0, 10.0, 99.0, 50.0],
        }
    )
    next_monday, next_tuesday = MONDAY + dt.timedelta(days=7), MONDAY + dt.timedelta(days=8)
    days = [MONDAY, MONDAY + dt.timedelta(days=2), next_monday, next_tuesday]
    frame = rostered_hours(costs, "o", days, closed_days=[next_tuesday], reference_weeks=2)
    assert frame.rows() == [
        (MONDAY, 14.0, "costs"),  # two services' records
        (MONDAY + dt.timedelta(days=2), 5.0, "costs"),  # half of a two-day record
        (next_monday, 12.0, "last 2 weeks"),  # mean of the Mondays 10 and 14
        (next_tuesday, 0.0, "closed"),
    ]
    by_channel = rostered_hours(costs, "o", [MONDAY], channel="phone")
    assert by_channel["rostered_hours"].to_list() == [99.0]
    with pytest.raises(ForecastInputError, match=r"no cost records \(staff hours\) for office 'q'"):
        rostered_hours(costs, "q", [MONDAY])


def test_a_roster_replaces_the_hours_from_costs_on_its_days() -> None:
    # 19 people on shift at 09:00 and 17.5 at 09:30 (one half-present); costs would say 20 and 20
    at = dt.datetime.combine(MONDAY, dt.time(9))
    scheduled = pl.DataFrame({"ds": [MONDAY, MONDAY], "interval_start": [at, at + dt.timedelta(minutes=30)], "scheduled": [19.0, 17.5]})
    plan = plan_staffing(forecast(200), queue(), roster(20), SETTINGS, scheduled=scheduled, roster_days=[MONDAY])
    c = required_agents(100, 1800, 180, 20, 0.8, 0.85)
    needed = math.ceil(c.fractional_agents / 0.7)  # 18.64 -> 19 people
    assert plan.intervals["rostered_staff"].to_list() == [19.0, 17.5]
    assert plan.intervals["scheduled_people"].to_list() == [19, 17]  # whole people: half a person is none
    assert plan.intervals["short_erlang_c"].to_list() == [needed - 19, needed - 17]  # 0 and 2 short
    day = plan.days.row(0, named=True)
    assert day["rostered_source"] == "roster" and day["rostered_hours"] == pytest.approx((19 + 17.5) * 0.5)
    # without the roster's day the costs stay, and nothing is a shift plan
    fallback = plan_staffing(forecast(200), queue(), roster(20), SETTINGS, scheduled=scheduled, roster_days=[])
    assert fallback.days["rostered_source"].to_list() == ["costs"]
    assert fallback.intervals["rostered_staff"].to_list() == [20.0, 20.0]
    assert fallback.intervals["short_erlang_c"].to_list() == [None, None]
