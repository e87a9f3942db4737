"""Every KPI against a small case computed by hand, including the edges: an empty period,
everything still open, a zero denominator, a daylight-saving week, cases that cross
midnight and a week boundary, a missing due date, and each exclusion rule on and off."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics.engine import GrainError, compute
from metrics.registry import METRICS, UnknownMetricError
from tests.metrics.builders import cases as make_cases
from tests.metrics.builders import contacts, costs, facts, feedback, journeys

W10 = dict(first_day=date(2026, 3, 2), last_day=date(2026, 3, 8))  # Mon 2 to Sun 8 March 2026 (GMT)


def value(result, kpi: str, **cell):
    return result.value(kpi, **cell)


def row(result, kpi: str, **cell) -> dict:
    rows = result.values.filter(pl.col("kpi") == kpi, *[pl.col(k) == v for k, v in cell.items()])
    assert rows.height == 1
    return rows.row(0, named=True)


# ----------------------------------------------------------------- volume, digital take-up


def test_volume_and_digital_take_up():
    data = facts(cases=make_cases(
        {"submitted_at": "2026-03-01 23:59", "channel": "online"},  # Sunday of the week before
        {"submitted_at": "2026-03-02 00:00", "channel": "online"},
        {"submitted_at": "2026-03-03 10:00", "channel": "mobile_app"},
        {"submitted_at": "2026-03-04 10:00", "channel": "phone"},
        {"submitted_at": "2026-03-05 10:00", "channel": "in_person"},
        {"submitted_at": "2026-03-08 23:59", "channel": "mail"},
        {"submitted_at": "2026-03-09 00:00", "channel": "online"},  # Monday of the week after
    ))
    result = compute(data, ["volume", "digital_take_up"], **W10)
    assert value(result, "volume") == 5
    assert value(result, "digital_take_up") == pytest.approx(40.0)  # 2 of 5
    assert row(result, "digital_take_up")["numerator"] == 2
    assert row(result, "digital_take_up")["denominator"] == 5


def test_an_empty_period_has_zero_volume_and_no_rates():
    data = facts(cases=make_cases({"submitted_at": "2026-02-20 10:00"}))
    result = compute(data, ["volume", "digital_take_up", "processing_time_median"], **W10)
    assert value(result, "volume") == 0
    assert value(result, "digital_take_up") is None
    assert row(result, "digital_take_up")["note"] == "no cases"
    assert value(result, "processing_time_median") is None


def test_too_few_cases_give_no_rate_but_say_why():
    data = facts(cases=make_cases(*[{"submitted_at": "2026-03-03 10:00"}] * 4))
    result = compute(data, ["digital_take_up"], **W10)
    assert value(result, "digital_take_up") is None
    assert row(result, "digital_take_up")["note"] == "fewer than 5 cases (4)"


# ----------------------------------------------------------------- processing time


def closed_after(days: float, submitted: str = "2026-02-20 09:00", **extra) -> dict:
    from datetime import datetime, timedelta

    closed = datetime.fromisoformat(submitted) + timedelta(days=days)
    return {"submitted_at": submitted, "closed_at": closed.isoformat(sep=" "), **extra}


def five_closes_in_w10() -> list[dict]:
    # submitted so that each closes inside W10: 1, 2, 3, 4 and 10 days
    return [
        {"submitted_at": "2026-03-04 09:00", "closed_at": "2026-03-05 09:00"},
        {"submitted_at": "2026-03-03 09:00", "closed_at": "2026-03-05 09:00"},
        {"submitted_at": "2026-03-02 09:00", "closed_at": "2026-03-05 09:00"},
        {"submitted_at": "2026-03-01 09:00", "closed_at": "2026-03-05 09:00"},
        {"submitted_at": "2026-02-23 09:00", "closed_at": "2026-03-05 09:00"},
    ]


def test_processing_time_median_and_p90():
    data = facts(cases=make_cases(*five_closes_in_w10()))
    result = compute(data, ["processing_time_median", "processing_time_p90"], **W10)
    assert value(result, "processing_time_median") == pytest.approx(3.0)
    # linear interpolation: position 0.9 * 4 = 3.6 between 4 and 10 days
    assert value(result, "processing_time_p90") == pytest.approx(4 + 0.6 * 6)
    assert row(result, "processing_time_median")["n"] == 5


def test_administrative_closes_are_left_out_and_counted_and_the_rule_can_be_switched_off():
    admin = {"submitted_at": "2026-03-05 09:00:00", "closed_at": "2026-03-05 09:00:30"}
    data = facts(cases=make_cases(*five_closes_in_w10(), admin))
    on = compute(data, ["processing_time_median", "cost_per_transaction"], **W10)
    assert value(on, "processing_time_median") == pytest.approx(3.0)
    assert on.rule_counts["admin_close_60s"] == 1
    off = compute(data, ["processing_time_median"], **W10, rules=set())
    assert value(off, "processing_time_median") == pytest.approx(2.5)  # six values now
    assert off.rule_counts["admin_close_60s"] == 0


def test_cancelled_cases_are_received_volume_leave_the_backlog_and_are_never_handled_work():
    """Five handled closes in W10 (1, 2, 3, 4 and 10 days, each by its 10-day standard) and
    two cancellations: one withdrawn after 20 days, long past its due date (it would have
    been late), one cancelled 30 s after submission (not an administrative close). The
    cancelled cases are in the volume and the net flow and leave the backlog when
    cancelled, but not in processing time, the on-time rate or the cost per transaction."""
    withdrawn = {"submitted_at": "2026-02-12 09:00", "closed_at": "2026-03-04 09:00", "cancelled": True}
    quick = {"submitted_at": "2026-03-05 09:00:00", "closed_at": "2026-03-05 09:00:30", "cancelled": True}
    data = facts(cases=make_cases(*five_closes_in_w10(), withdrawn, quick), costs=costs(("2026-03-02", "2026-03-08", 700.0)))
    metrics = ["volume", "processing_time_median", "on_time_rate", "cost_per_transaction", "net_flow", "backlog"]
    result = compute(data, metrics, by=["week"], first_day=date(2026, 2, 23), last_day=date(2026, 3, 8))
    w10 = dict(period="2026-W10")
    assert value(result, "processing_time_median", **w10) == pytest.approx(3.0)
    assert row(result, "processing_time_median", **w10)["n"] == 5
    on_time = row(result, "on_time_rate", **w10)
    assert (on_time["numerator"], on_time["denominator"]) == (5, 5)
    assert value(result, "cost_per_transaction", **w10) == pytest.approx(140.0)  # 700 / 5 handled
    assert value(result, "volume", **w10) == 4  # submitted 2, 3 and 4 March, and the quick cancellation
    assert value(result, "net_flow", **w10) == 4 - 7  # seven cases left the backlog
    assert value(result, "backlog", period="2026-W09") == 3  # the withdrawn one still open then
    assert value(result, "backlog", **w10) == 0
    assert result.rule_counts["admin_close_60s"] == 0


def test_a_case_crossing_midnight_and_the_week_boundary():
    # Submitted Sunday 23:50 of W10, closed Monday 00:10 of W11: counted in W10's volume,
    # in W11's closures, and it took 20 minutes.
    crossing = [{"submitted_at": "2026-03-08 23:50", "closed_at": "2026-03-09 00:10", "case_id": i} for i in range(5)]
    data = facts(cases=make_cases(*crossing))
    result = compute(data, ["volume", "processing_time_median", "net_flow"], by=["week"], first_day=date(2026, 3, 2), last_day=date(2026, 3, 15))
    assert value(result, "volume", period="2026-W10") == 5
    assert value(result, "volume", period="2026-W11") == 0
    assert value(result, "processing_time_median", period="2026-W10") is None
    assert value(result, "processing_time_median", period="2026-W11") == pytest.approx(20 / 60 / 24)
    assert value(result, "net_flow", period="2026-W10") == 5
    assert value(result, "net_flow", period="2026-W11") == -5


def test_daylight_saving_week_places_cases_by_local_time():
    # Clocks go forward at 01:00 GMT on Sunday 29 March 2026. 00:30 BST on Monday 30 March
    # is 23:30 UTC on Sunday 29: by UTC it would fall in W13; by local time it is in W14.
    data = facts(cases=make_cases(
        {"submitted_at": "2026-03-29 00:30"},  # GMT, Sunday of W13
        {"submitted_at": "2026-03-29 23:30"},  # BST, Sunday of W13
        {"submitted_at": "2026-03-30 00:30"},  # BST, Monday of W14 (23:30 UTC on the 29th)
    ))
    result = compute(data, ["volume"], by=["week"], first_day=date(2026, 3, 23), last_day=date(2026, 4, 5))
    assert value(result, "volume", period="2026-W13") == 2
    assert value(result, "volume", period="2026-W14") == 1
    # and by day: the DST Sunday has 23 hours but both its cases
    daily = compute(data, ["volume"], by=["day"], first_day=date(2026, 3, 29), last_day=date(2026, 3, 30))
    assert value(daily, "volume", period="2026-03-29") == 2
    assert value(daily, "volume", period="2026-03-30") == 1


# ----------------------------------------------------------------- on time, backlog


def on_time_cases() -> list[dict]:
    return [
        # closed on time by their own due date (5)
        *[{"submitted_at": "2026-03-02 09:00", "due_at": "2026-03-06 17:00", "closed_at": "2026-03-05 10:00"} for _ in range(5)],
        # closed late
        {"submitted_at": "2026-02-16 09:00", "due_at": "2026-02-26 09:00", "closed_at": "2026-03-04 10:00"},
        # no due_at: due sla_days (10) calendar days after submission, 2026-03-05 09:00; closed in time
        {"submitted_at": "2026-02-23 09:00", "sla_days": 10, "closed_at": "2026-03-05 08:59"},
        # still open and overdue at the end of the week: in the denominator
        {"submitted_at": "2026-02-09 09:00", "due_at": "2026-02-19 09:00"},
        # open, but not due until after the week: not counted
        {"submitted_at": "2026-03-06 09:00", "due_at": "2026-03-16 09:00"},
        # closed with no due date and no service standard: left out, counted
        {"submitted_at": "2026-03-02 09:00", "sla_days": None, "closed_at": "2026-03-04 09:00"},
        # an administrative close: left out
        {"submitted_at": "2026-03-03 09:00:00", "due_at": "2026-03-13 09:00", "closed_at": "2026-03-03 09:00:20"},
    ]


def test_on_time_rate_counts_open_and_overdue_cases():
    data = facts(cases=make_cases(*on_time_cases()))
    result = compute(data, ["on_time_rate", "backlog", "backlog_overdue"], **W10)
    on_time = row(result, "on_time_rate")
    assert on_time["numerator"] == 6  # five by due_at, one by the service standard
    assert on_time["denominator"] == 8  # seven closed with a due date + one open and overdue
    assert on_time["value"] == pytest.approx(75.0)
    assert result.rule_counts["no_due_date"] == 1
    assert value(result, "backlog") == 2
    assert value(result, "backlog_overdue") == 1


def test_everything_still_open():
    open_cases = [{"submitted_at": f"2026-03-0{d} 09:00", "due_at": "2026-03-05 09:00"} for d in range(2, 8)]
    data = facts(cases=make_cases(*open_cases))
    result = compute(data, ["processing_time_median", "on_time_rate", "backlog", "backlog_overdue", "backlog_age_median"], **W10)
    assert value(result, "processing_time_median") is None
    assert row(result, "processing_time_median")["note"] == "no cases"
    assert value(result, "backlog") == 6
    # due 5 March, so every case is overdue at the week's end; none closed, so 0% on time
    assert value(result, "backlog_overdue") == 6
    assert value(result, "on_time_rate") == pytest.approx(0.0)
    # ages at Mon 9 March 00:00: 6d15h, 5d15h, ... 1d15h -> median between 3d15h and 4d15h
    assert value(result, "backlog_age_median") == pytest.approx((3 + 15 / 24 + 4 + 15 / 24) / 2)


def test_a_case_closed_exactly_at_midnight_was_open_at_the_period_end():
    data = facts(cases=make_cases(
        {"submitted_at": "2026-03-04 09:00", "closed_at": "2026-03-09 00:00"},
        {"submitted_at": "2026-03-04 09:00", "closed_at": "2026-03-08 23:59"},
    ))
    result = compute(data, ["backlog"], **W10)
    assert value(result, "backlog") == 1


def test_backlog_over_weeks_from_cumulative_counts():
    data = facts(cases=make_cases(
        {"submitted_at": "2026-02-25 09:00"},  # before the window, still open
        {"submitted_at": "2026-03-03 09:00", "closed_at": "2026-03-10 09:00"},
        {"submitted_at": "2026-03-11 09:00", "closed_at": "2026-03-12 09:00"},
    ))
    result = compute(data, ["backlog", "net_flow"], by=["week"], first_day=date(2026, 3, 2), last_day=date(2026, 3, 15))
    assert value(result, "backlog", period="2026-W10") == 2
    assert value(result, "backlog", period="2026-W11") == 1
    assert value(result, "net_flow", period="2026-W11") == -1


# ----------------------------------------------------------------- contacts


def call_rows() -> list[dict]:
    return [
        {"arrived": "2026-03-03 10:00", "wait": 10, "handle": 120},
        {"arrived": "2026-03-03 10:01", "wait": 20, "handle": 180},
        {"arrived": "2026-03-03 10:02", "wait": 30, "handle": 300},
        {"arrived": "2026-03-03 10:03", "wait": 5, "handle": 60},
        {"arrived": "2026-03-03 10:04", "wait": 5, "handle": 60},
        {"arrived": "2026-03-03 10:05", "gave_up": 60},  # abandoned after a minute
        {"arrived": "2026-03-03 10:06", "gave_up": 3},  # hung up within 5 s: not offered
    ]


def test_call_metrics():
    data = facts(contacts=contacts(*call_rows()))
    result = compute(data, ["service_level", "abandonment_rate", "asa", "aht"], **W10)
    assert row(result, "service_level")["denominator"] == 6
    assert value(result, "service_level") == pytest.approx(4 / 6 * 100)
    assert value(result, "abandonment_rate") == pytest.approx(1 / 6 * 100)
    assert value(result, "asa") == pytest.approx(70 / 5)
    assert value(result, "aht") == pytest.approx(720 / 5 / 60)
    assert result.rule_counts["short_abandon_5s"] == 1


def test_short_abandons_count_when_the_rule_is_off():
    data = facts(contacts=contacts(*call_rows()))
    result = compute(data, ["service_level", "abandonment_rate"], **W10, rules=set())
    assert value(result, "service_level") == pytest.approx(4 / 7 * 100)
    assert value(result, "abandonment_rate") == pytest.approx(2 / 7 * 100)


def test_in_person_waits():
    visits = [{"arrived": "2026-03-04 09:30", "wait": w, "channel": "in_person"} for w in (60, 300, 600, 900, 1200)]
    visits.append({"arrived": "2026-03-04 09:30", "gave_up": 1500, "channel": "in_person"})
    data = facts(contacts=contacts(*visits, *call_rows()))
    result = compute(data, ["wait_time_median", "wait_time_p90", "wait_within_target", "asa"], **W10)
    assert value(result, "wait_time_median") == pytest.approx(10.0)
    assert value(result, "wait_time_p90") == pytest.approx(15 + 0.6 * 5)
    assert value(result, "wait_within_target") == pytest.approx(80.0)  # 900 s is within 15 minutes
    assert value(result, "asa") == pytest.approx(14.0)  # visits do not count as calls


def test_no_calls_at_a_service_centre_is_said_not_guessed():
    visits = [{"arrived": "2026-03-04 09:30", "wait": 60, "channel": "in_person"}] * 5
    result = compute(facts(contacts=contacts(*visits)), ["service_level", "asa"], **W10)
    assert value(result, "service_level") is None
    assert row(result, "service_level")["note"] == "no calls"


# ----------------------------------------------------------------- journeys, feedback, costs


def journey_rows() -> list[dict]:
    return [
        {"id": 1, "started": "2026-03-03 10:00", "completed": "2026-03-03 10:20"},
        {"id": 2, "started": "2026-03-03 11:00"},
        {"id": 3, "started": "2026-03-03 12:00"},  # left, then resumed as 4 and completed
        {"id": 4, "started": "2026-03-04 08:00", "completed": "2026-03-04 08:10", "resumed_from": 3},
        {"id": 5, "started": "2026-03-05 12:00"},
        {"id": 6, "started": "2026-03-05 13:00", "completed": "2026-03-05 13:05", "device": "app"},
    ]


def test_completion_rate_does_not_count_a_resumed_session_as_a_new_start():
    result = compute(facts(journeys=journeys(*journey_rows())), ["completion_rate"], **W10)
    completion = row(result, "completion_rate")
    assert (completion["numerator"], completion["denominator"]) == (3, 5)
    assert completion["value"] == pytest.approx(60.0)
    assert result.rule_counts["resumed_journey"] == 1


def test_completion_rate_by_channel_and_not_by_office():
    data = facts(journeys=journeys(*journey_rows()))
    by_channel = compute(data, ["completion_rate"], by=["channel"], **W10)
    assert row(by_channel, "completion_rate", channel="mobile_app")["denominator"] == 1
    assert row(by_channel, "completion_rate", channel="online")["denominator"] == 4
    by_office = compute(data, ["completion_rate"], by=["office_id"], **W10)
    assert by_office.values["note"].to_list() == [] or set(by_office.values["note"]) == {"online journeys are not recorded by office"}


def test_satisfaction_top_two_box_and_index():
    ratings = (5, 5, 4, 3, 1, 2, 4, 5, 5, 4)
    result = compute(facts(feedback=feedback(*ratings)), ["satisfaction", "satisfaction_index"], **W10)
    assert value(result, "satisfaction") == pytest.approx(70.0)
    assert value(result, "satisfaction_index") == pytest.approx(28 / 40 * 100)
    assert row(result, "satisfaction_index")["n"] == 10


def test_satisfaction_needs_ten_ratings():
    result = compute(facts(feedback=feedback(5, 5, 5, 5, 5, 5, 5, 5, 5)), ["satisfaction", "satisfaction_index"], **W10)
    assert value(result, "satisfaction") is None
    assert row(result, "satisfaction")["note"] == "fewer than 10 ratings (9)"


def test_cost_per_transaction_spreads_a_cost_over_its_days():
    data = facts(
        cases=make_cases(*five_closes_in_w10()),
        costs=costs(("2026-03-02", "2026-03-08", 700.0), ("2026-03-02", "2026-03-15", 1400.0)),
    )
    result = compute(data, ["cost_per_transaction"], **W10)
    assert row(result, "cost_per_transaction")["numerator"] == pytest.approx(1400.0)
    assert value(result, "cost_per_transaction") == pytest.approx(280.0)


def test_zero_denominator_gives_no_value():
    data = facts(cases=make_cases({"submitted_at": "2026-02-02 09:00", "closed_at": "2026-02-03 09:00"}), costs=costs(("2026-03-02", "2026-03-08", 700.0)))
    result = compute(data, ["cost_per_transaction"], **W10)
    assert value(result, "cost_per_transaction") is None
    assert row(result, "cost_per_transaction")["note"] == "no cases"


# ----------------------------------------------------------------- the engine's contract


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(UnknownMetricError, match=r"unknown metric 'speed'; known metrics: volume, digital_take_up"):
        compute(facts(), ["speed"], **W10)


def test_unknown_grain_says_what_is_allowed():
    with pytest.raises(GrainError, match="use at most one of day, week, month, quarter"):
        compute(facts(), ["volume"], by=["week", "month"], **W10)
    with pytest.raises(GrainError):
        compute(facts(), ["volume"], by=["colour"], **W10)


def test_missing_facts_are_explained():
    result = compute(facts(cases=make_cases(*five_closes_in_w10())), ["satisfaction", "volume"], **W10)
    assert row(result, "satisfaction")["note"] == "no feedback data"


def test_every_registered_metric_is_computed():
    data = facts(
        cases=make_cases(*on_time_cases(), *five_closes_in_w10()),
        contacts=contacts(*call_rows()),
        journeys=journeys(*journey_rows()),
        feedback=feedback(5, 4, 4, 3, 5, 5, 2, 4, 5, 5),
        costs=costs(("2026-03-02", "2026-03-08", 700.0)),
    )
    result = compute(data, None, **W10)
    assert set(result.values["kpi"]) == set(METRICS)
    missing = result.values.filter(pl.col("value").is_null())
    # no visits in this small world, no call's resolution recorded, and a backlog of two
    # is too small for a median age
    assert set(missing["kpi"]) == {"wait_time_median", "wait_time_p90", "wait_within_target", "backlog_age_median", "first_contact_resolution"}


def test_cost_per_transaction_is_not_split_by_channel_when_some_costs_have_none():
    data = facts(
        cases=make_cases(*five_closes_in_w10()),
        costs=costs(("2026-03-02", "2026-03-08", 700.0)),  # no channel
    )
    result = compute(data, ["cost_per_transaction", "volume"], by=["channel"], **W10)
    notes = set(result.values.filter(pl.col("kpi") == "cost_per_transaction")["note"])
    assert notes == {"costs are not all recorded by channel"}
    assert result.values.filter(pl.col("kpi") == "cost_per_transaction")["value"].null_count() == result.values.filter(pl.col("kpi") == "cost_per_transaction").height


def test_no_cost_records_is_no_cost_per_transaction_not_zero():
    empty_costs = costs(("2026-03-02", "2026-03-08", 700.0)).clear()
    data = facts(cases=make_cases(*five_closes_in_w10()), costs=empty_costs)
    result = compute(data, ["cost_per_transaction"], **W10)
    assert value(result, "cost_per_transaction") is None
    assert row(result, "cost_per_transaction")["note"] == "no costs recorded"


# ----------------------------------------------------------------- exact durations


def test_waits_keep_their_fractions_of_a_second():
    # ten calls answered at 20.9 s: none within 20 s, and the mean wait is 20.9 s (whole
    # seconds would say 100% and 20 s)
    calls = [{"arrived": f"2026-03-04 09:{minute:02d}", "wait": 20.9, "handle": 120.5} for minute in range(10)]
    result = compute(facts(contacts=contacts(*calls)), ["service_level", "asa", "aht"], **W10)
    assert value(result, "service_level") == 0.0
    assert value(result, "asa") == pytest.approx(20.9)
    assert value(result, "aht") == pytest.approx(120.5 / 60)


def test_a_hang_up_at_4_9_seconds_is_a_short_abandon_and_at_5_0_it_is_not():
    calls = [{"arrived": "2026-03-04 09:00", "wait": 10.0}] * 5
    calls += [{"arrived": "2026-03-04 09:10", "gave_up": 4.9}, {"arrived": "2026-03-04 09:11", "gave_up": 5.0}]
    result = compute(facts(contacts=contacts(*calls)), ["abandonment_rate"], **W10)
    assert row(result, "abandonment_rate")["denominator"] == 6
    assert value(result, "abandonment_rate") == pytest.approx(1 / 6 * 100)
    assert result.rule_counts["short_abandon_5s"] == 1


def test_a_close_at_59_9_seconds_is_administrative_and_at_60_0_it_is_not():
    regular = make_cases(*[{"submitted_at": "2026-03-03 09:00", "closed_at": "2026-03-04 09:00"}] * 5)
    quick = make_cases({"submitted_at": "2026-03-04 10:00"}, {"submitted_at": "2026-03-04 11:00"}).with_columns(
        (pl.col("submitted_at") + pl.Series([timedelta(seconds=59.9), timedelta(seconds=60)])).alias("closed_at"),
        pl.Series([10, 11]).alias("case_id"),
        pl.lit("closed").alias("status"),
    )
    result = compute(facts(cases=pl.concat([regular, quick])), ["processing_time_median"], **W10)
    assert result.rule_counts["admin_close_60s"] == 1
    assert row(result, "processing_time_median")["n"] == 6


# ----------------------------------------------------------------- first-contact resolution


def test_first_contact_resolution_counts_answered_calls_whose_resolution_was_recorded():
    calls = [{"arrived": "2026-03-04 09:00", "wait": 30, "resolved": resolved} for resolved in (True, True, True, False, True, None, None)]
    calls += [{"arrived": "2026-03-04 09:30", "gave_up": 60}]  # abandoned: never resolved or not
    calls += [{"arrived": "2026-03-04 10:00", "wait": 60, "channel": "in_person", "resolved": True}]  # a visit: not a call
    result = compute(facts(contacts=contacts(*calls)), ["first_contact_resolution"], **W10)
    figure = row(result, "first_contact_resolution")
    assert (figure["numerator"], figure["denominator"], figure["n"]) == (4, 5, 5)
    assert figure["value"] == pytest.approx(80.0)
    assert result.rule_counts["no_resolution_recorded"] == 2


def test_first_contact_resolution_without_the_column_is_withheld_not_zero():
    frame = contacts(*[{"arrived": "2026-03-04 09:00", "wait": 30}] * 6).drop("resolved_first_contact")
    figure = row(compute(facts(contacts=frame), ["first_contact_resolution"], **W10), "first_contact_resolution")
    assert figure["value"] is None
    assert figure["note"] == "no calls with a recorded resolution"
