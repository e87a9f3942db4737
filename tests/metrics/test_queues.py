"""The queue computations against small cases worked out by hand: the weekday-by-hour
profile across both daylight-saving changes, and the visit measures."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from data.fact_frames import Facts
from metrics.engine import compute
from metrics.queues import QUEUE_KINDS, VISIT_METRICS, clock_hours, metric_of, weekday_hour_profile
from tests.metrics.builders import ZONE, contacts, facts

MONDAY, SUNDAY = 1, 7


def cell(profile: pl.DataFrame, weekday: int, hour: int) -> dict:
    rows = profile.filter(pl.col("weekday") == weekday, pl.col("hour") == hour)
    assert rows.height == 1
    return rows.row(0, named=True)


def calls_at_utc(*rows: tuple[str, float | None]) -> Facts:
    """Calls given by their UTC arrival and their wait in seconds (None: abandoned)."""
    records = []
    for number, (arrived, wait) in enumerate(rows, start=1):
        records.append({"contact_id": number, "arrived_at": datetime.fromisoformat(arrived), "wait": wait})
    frame = pl.DataFrame(records, schema={"contact_id": pl.Int64, "arrived_at": pl.Datetime("us"), "wait": pl.Float64})
    frame = frame.with_columns(
        pl.lit("s1").alias("service_id"), pl.lit("o1").alias("office_id"), pl.lit("phone").alias("channel"),
        pl.lit(ZONE).alias("timezone"),
        (pl.col("arrived_at") + pl.duration(microseconds=(pl.col("wait") * 1e6).cast(pl.Int64))).alias("answered_at"),
        pl.col("wait").is_null().alias("abandoned"),
    ).with_columns(
        pl.coalesce(pl.col("answered_at") + pl.duration(minutes=5), pl.col("arrived_at") + pl.duration(seconds=30)).alias("ended_at"),
    )
    return Facts(contacts=frame.drop("wait"), timezone=ZONE)


# ----------------------------------------------------------------- clock hours


def test_a_plain_week_has_every_hour_once():
    hours = clock_hours(date(2026, 3, 2), date(2026, 3, 8), ZONE)
    assert hours.height == 7 * 24
    assert hours["clock_hours"].to_list() == [1] * 168


def test_the_hour_the_clocks_skip_did_not_occur():
    # Sunday 29 March 2026: 01:00 GMT jumps to 02:00 BST in Europe/London.
    hours = clock_hours(date(2026, 3, 23), date(2026, 3, 29), ZONE)
    lookup = {(row["weekday"], row["hour"]): row["clock_hours"] for row in hours.iter_rows(named=True)}
    assert (SUNDAY, 1) not in lookup
    assert lookup[(SUNDAY, 0)] == lookup[(SUNDAY, 2)] == 1
    assert hours["clock_hours"].sum() == 167


def test_the_hour_the_clocks_repeat_occurred_twice():
    # Sunday 25 October 2026: 02:00 BST falls back to 01:00 GMT.
    hours = clock_hours(date(2026, 10, 19), date(2026, 10, 25), ZONE)
    lookup = {(row["weekday"], row["hour"]): row["clock_hours"] for row in hours.iter_rows(named=True)}
    assert lookup[(SUNDAY, 1)] == 2
    assert hours["clock_hours"].sum() == 169


# ----------------------------------------------------------------- weekday by hour


def test_arrivals_are_placed_in_local_time_and_averaged_over_the_weeks():
    data = calls_at_utc(
        ("2026-10-11 22:30", 10),  # Sunday 11 Oct 23:30 BST: the day before the window
        ("2026-10-12 08:10", 10),  # Monday 12 Oct 09:10 BST
        ("2026-10-12 08:50", 20),  # Monday 12 Oct 09:50 BST
        ("2026-10-19 08:20", 30),  # Monday 19 Oct 09:20 BST
        ("2026-10-19 08:40", 40),  # Monday 19 Oct 09:40 BST
        ("2026-10-19 08:59", 100),  # Monday 19 Oct 09:59 BST
        ("2026-10-19 08:30", None),  # abandoned: an arrival, not a wait
        ("2026-10-26 00:10", 10),  # Monday 26 Oct 00:10 GMT: the day after the window
    )
    profile = weekday_hour_profile(data, date(2026, 10, 12), date(2026, 10, 25))
    assert profile.height == 7 * 24
    nine = cell(profile, MONDAY, 9)
    assert nine["day"] == "Monday"
    assert nine["arrivals"] == 6
    assert nine["clock_hours"] == 2
    assert nine["mean_arrivals"] == pytest.approx(3.0)
    assert nine["answered"] == 5
    assert nine["wait_median"] == pytest.approx(30.0)
    # p90 by linear interpolation over 10, 20, 30, 40, 100: position 3.6 -> 40 + 0.6 x 60
    assert nine["wait_p90"] == pytest.approx(76.0)
    assert nine["note"] is None
    assert cell(profile, MONDAY, 8)["arrivals"] == 0  # 08:xx UTC is 09:xx BST
    assert profile["arrivals"].sum() == 6  # the two calls outside the window are left out


def test_in_the_repeated_hour_two_arrivals_are_one_an_hour():
    data = calls_at_utc(
        ("2026-10-25 00:30", 15),  # 01:30 BST, the first 01:00-02:00
        ("2026-10-25 01:30", 25),  # 01:30 GMT, the second
    )
    profile = weekday_hour_profile(data, date(2026, 10, 19), date(2026, 10, 25), min_waits=2)
    repeated = cell(profile, SUNDAY, 1)
    assert repeated["arrivals"] == 2
    assert repeated["clock_hours"] == 2
    assert repeated["mean_arrivals"] == pytest.approx(1.0)
    assert repeated["wait_median"] == pytest.approx(20.0)
    assert profile["clock_hours"].sum() == 169


def test_in_the_skipped_hour_nothing_arrives_and_the_next_is_summer_time():
    data = calls_at_utc(
        ("2026-03-29 00:30", 60),  # 00:30 GMT
        ("2026-03-29 01:30", 120),  # 02:30 BST: 01:30 local never happened
    )
    profile = weekday_hour_profile(data, date(2026, 3, 23), date(2026, 3, 29), wait_unit="minutes", min_waits=1)
    skipped = cell(profile, SUNDAY, 1)
    assert (skipped["arrivals"], skipped["clock_hours"], skipped["mean_arrivals"]) == (0, 0, 0.0)
    assert skipped["note"] == "no answered contacts"
    assert cell(profile, SUNDAY, 0)["arrivals"] == 1
    after = cell(profile, SUNDAY, 2)
    assert (after["arrivals"], after["mean_arrivals"]) == (1, 1.0)
    assert after["wait_median"] == pytest.approx(2.0)  # 120 s in minutes


def test_too_few_answered_in_a_cell_give_no_wait_but_say_why():
    data = calls_at_utc(("2026-03-03 10:00", 10), ("2026-03-03 10:20", 30))  # Tuesday 10:xx GMT
    profile = weekday_hour_profile(data, date(2026, 3, 2), date(2026, 3, 8))
    ten = cell(profile, 2, 10)
    assert (ten["arrivals"], ten["answered"], ten["wait_median"], ten["wait_p90"]) == (2, 2, None, None)
    assert ten["note"] == "fewer than 5 answered (2)"


def test_the_profile_refuses_an_unknown_unit_and_a_backward_window():
    data = calls_at_utc(("2026-03-03 10:00", 10))
    with pytest.raises(ValueError, match="wait_unit must be one of seconds, minutes, not 'hours'"):
        weekday_hour_profile(data, date(2026, 3, 2), date(2026, 3, 8), wait_unit="hours")
    with pytest.raises(ValueError, match=r"the window ends \(2026-03-01\) before it starts \(2026-03-02\)"):
        weekday_hour_profile(data, date(2026, 3, 2), date(2026, 3, 1))


def test_an_office_with_no_contacts_has_an_all_zero_profile():
    profile = weekday_hour_profile(Facts(timezone=ZONE), date(2026, 3, 2), date(2026, 3, 8))
    assert profile.height == 168
    assert profile["arrivals"].sum() == 0
    assert profile["wait_median"].null_count() == 168


def test_offices_in_two_zones_add_their_own_rates():
    london = calls_at_utc(("2026-03-02 09:15", 10))  # Monday 09:15 GMT in London
    dublin_like = london.contacts.with_columns(pl.lit("Europe/Helsinki").alias("timezone"), pl.lit("o2").alias("office_id"))
    both = Facts(contacts=pl.concat([london.contacts, dublin_like]), timezone=ZONE)
    profile = weekday_hour_profile(both, date(2026, 3, 2), date(2026, 3, 8), min_waits=1)
    assert cell(profile, MONDAY, 9)["arrivals"] == 1  # London
    assert cell(profile, MONDAY, 11)["arrivals"] == 1  # Helsinki is 2 hours ahead in winter
    assert cell(profile, MONDAY, 9)["clock_hours"] is None  # differs by zone in general


# ----------------------------------------------------------------- visits

W10 = dict(first_day=date(2026, 3, 2), last_day=date(2026, 3, 8))


def visit_facts() -> Facts:
    return facts(contacts=contacts(
        {"arrived": "2026-03-02 09:00", "channel": "in_person", "wait": 60, "handle": 5 * 60},
        {"arrived": "2026-03-03 09:00", "channel": "in_person", "wait": 60, "handle": 10 * 60},
        {"arrived": "2026-03-04 09:00", "channel": "in_person", "wait": 60, "handle": 15 * 60},
        {"arrived": "2026-03-05 09:00", "channel": "in_person", "wait": 60, "handle": 30 * 60},
        {"arrived": "2026-03-08 23:30", "channel": "in_person", "wait": 60, "handle": 40 * 60},  # Sunday night: still W10
        {"arrived": "2026-03-06 09:00", "channel": "in_person", "wait": None, "gave_up": 600},
        {"arrived": "2026-03-06 09:05", "channel": "in_person", "wait": None, "gave_up": 2},  # no 5-second rule for visits
        {"arrived": "2026-03-09 00:10", "channel": "in_person", "wait": 60, "handle": 60},  # Monday after: W11
        {"arrived": "2026-03-04 10:00", "channel": "phone", "wait": None, "gave_up": 30},  # a call: never a visit
        {"arrived": "2026-03-04 10:00", "channel": "in_person", "wait": 60, "handle": 60, "office_id": "o2"},
        {"arrived": "2026-03-04 10:05", "channel": "in_person", "wait": None, "gave_up": 60, "office_id": "o2"},
    ))


def visit_row(values: pl.DataFrame, kpi: str, **cell: str) -> dict:
    rows = values.filter(pl.col("kpi") == kpi, *[pl.col(k) == v for k, v in cell.items()])
    assert rows.height == 1
    return rows.row(0, named=True)


def test_visitors_who_left_and_visit_handle_time_by_office():
    values = compute(visit_facts(), ["visit_abandonment_rate", "visit_handle_time"], by=["week", "office_id"], **W10).values
    left = visit_row(values, "visit_abandonment_rate", office_id="o1")
    assert left["period"] == "2026-W10"
    assert (left["numerator"], left["denominator"], left["n"]) == (2, 7, 7)
    assert left["value"] == pytest.approx(200 / 7)
    handle = visit_row(values, "visit_handle_time", office_id="o1")
    assert (handle["numerator"], handle["denominator"]) == (100, 5)
    assert handle["value"] == pytest.approx(20.0)  # (5 + 10 + 15 + 30 + 40) / 5 minutes
    small = visit_row(values, "visit_abandonment_rate", office_id="o2")
    assert small["value"] is None
    assert small["note"] == "fewer than 5 visits (2)"


def test_visit_measures_over_all_offices_and_an_empty_week():
    values = compute(visit_facts(), ["visit_abandonment_rate", "visit_handle_time"], by=["week"], first_day=date(2026, 3, 2), last_day=date(2026, 3, 15)).values
    left = visit_row(values, "visit_abandonment_rate", period="2026-W10")
    assert (left["numerator"], left["denominator"]) == (3, 9)
    after = visit_row(values, "visit_handle_time", period="2026-W11")
    assert (after["n"], after["value"], after["note"]) == (1, None, "fewer than 5 visits (1)")
    assert values.columns == ["period", "period_start", "kpi", "value", "numerator", "denominator", "n", "note"]


def test_the_engine_reads_the_same_visits_for_its_wait_metrics():
    engine = compute(visit_facts().where(office_id="o1"), ["wait_within_target"], **W10)
    ours = compute(visit_facts().where(office_id="o1"), ["visit_abandonment_rate", "visit_handle_time"], by=["week"], **W10).values
    # the engine's answered visits are the denominator of handle time
    assert engine.values["denominator"].item() == visit_row(ours, "visit_handle_time")["denominator"] == 5


def test_each_kind_of_office_reads_one_channel_and_its_own_metrics():
    assert QUEUE_KINDS["contact_centre"].channel == "phone"
    assert QUEUE_KINDS["service_centre"].channel == "in_person"
    assert set(QUEUE_KINDS["contact_centre"].metrics) == {"service_level", "asa", "abandonment_rate", "aht"}
    assert set(QUEUE_KINDS["service_centre"].own_metrics) == set(VISIT_METRICS)
    assert metric_of("asa").unit == "seconds"
    assert metric_of("visit_handle_time").unit == "minutes"
    with pytest.raises(KeyError, match="unknown metric 'nope'"):
        metric_of("nope")


# ----------------------------------------------------------------- scopes

OFFICES = pl.DataFrame({
    "office_id": ["web", "b_sc", "a_sc", "z_cc", "y_cc"],
    "name": ["Online", "B Service Centre", "A Service Centre", "Z Contact Centre", "Y Contact Centre"],
    "kind": ["online", "service_centre", "service_centre", "contact_centre", "contact_centre"],
})


def test_scopes_are_the_two_groups_then_each_queueing_office():
    from metrics.queues import resolve_scope, scope_options

    assert scope_options(OFFICES) == ["contact_centres", "service_centres", "y_cc", "z_cc", "a_sc", "b_sc"]
    group = resolve_scope(OFFICES, "service_centres")
    assert (group.office_ids, group.name, group.kind.channel, group.is_group) == (("a_sc", "b_sc"), "All service centres", "in_person", True)
    one = resolve_scope(OFFICES, "z_cc")
    assert (one.office_ids, one.name, one.kind.channel, one.is_group) == (("z_cc",), "Z Contact Centre", "phone", False)
    with pytest.raises(ValueError, match="'web' is not a contact centre or service centre"):
        resolve_scope(OFFICES, "web")
