"""The incidents table matches what was injected: each incident's effect is visible in the rows."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest


def window(frame: pl.DataFrame, column: str, start, end) -> pl.DataFrame:
    return frame.filter(pl.col(column).is_between(start, end, closed="left"))


def test_at_least_one_incident_of_each_kind(small_tables):
    kinds = small_tables["incidents"].group_by("kind").len()
    assert set(kinds["kind"]) == {"online_outage", "demand_surge", "processing_slowdown", "phone_fault"}
    assert kinds["len"].min() >= 3
    assert small_tables["incidents"]["description"].str.len_chars().min() > 20


def incidents_of(small_tables, kind: str) -> list[dict]:
    return small_tables["incidents"].filter(pl.col("kind") == kind).to_dicts()


def test_online_outage_collapses_completion_for_a_day(small_tables):
    journeys = small_tables["journeys"].filter(pl.col("device") != "app", pl.col("resumed_from").is_null())
    for outage in incidents_of(small_tables, "online_outage"):
        scope = journeys if outage["service_id"] is None else journeys.filter(pl.col("service_id") == outage["service_id"])
        during = window(scope, "started_at", outage["starts_at"], outage["ends_at"])
        week_before = window(scope, "started_at", outage["starts_at"] - timedelta(days=7), outage["starts_at"])
        assert during.height > 0
        assert during["completed_at"].is_not_null().mean() < 0.3
        assert week_before["completed_at"].is_not_null().mean() > 0.6


def test_demand_surge_raises_walk_ins_at_one_office(small_tables):
    contacts = small_tables["contacts"]
    for surge in incidents_of(small_tables, "demand_surge"):
        at_office = contacts.filter(pl.col("office_id") == surge["office_id"])
        during = window(at_office, "arrived_at", surge["starts_at"], surge["ends_at"]).height
        # the same weekdays in the four weeks before
        before = [
            window(at_office, "arrived_at", surge["starts_at"] - timedelta(days=days), surge["ends_at"] - timedelta(days=days)).height
            for days in (7, 14, 21, 28)
        ]
        # 2.6 times normal, over three days of a few dozen walk-ins at this scale: measured
        # 1.7 to 3.4 as the random stream shifts (a change of the back office's catch-up
        # moved one from 2.2 to 1.73), while the four weeks before stay within 0.6 to 1.3
        # of their mean; 1.6 tells the one from the other
        assert during > 1.6 * (sum(before) / len(before))


def test_processing_slowdown_stretches_processing_times(small_tables):
    cases = small_tables["cases"].with_columns(
        (pl.col("closed_at") - pl.col("submitted_at")).dt.total_days().alias("days")
    )
    for slowdown in incidents_of(small_tables, "processing_slowdown"):
        service = cases.filter(pl.col("service_id") == slowdown["service_id"], pl.col("closed_at").is_not_null())
        during = window(service, "submitted_at", slowdown["starts_at"], slowdown["ends_at"])
        before = window(service, "submitted_at", slowdown["starts_at"] - timedelta(days=42), slowdown["starts_at"] - timedelta(days=14))
        assert during["days"].median() > 1.3 * before["days"].median()


def test_a_service_recovers_within_the_trail_after_a_processing_slowdown(small_tables):
    """The incidents are the ground truth anomaly quality is measured against, and a
    slowdown's trail there is 28 days (anomalies.quality.TRAIL_DAYS): the back office
    catches up within it, so cases submitted from four weeks after the slowdown ended are
    on time about as often as before it (without the catch-up, the queue it left took
    months to clear at the usual 7% headroom: the demo's birth registration stayed at 1%
    on time from September to December)."""
    cases = small_tables["cases"].filter(pl.col("due_at").is_not_null(), pl.col("closed_at").is_not_null())
    on_time = (pl.col("closed_at") <= pl.col("due_at")).mean()
    for slowdown in incidents_of(small_tables, "processing_slowdown"):
        service = cases.filter(pl.col("service_id") == slowdown["service_id"])
        before = window(service, "submitted_at", slowdown["starts_at"] - timedelta(days=56), slowdown["starts_at"] - timedelta(days=14))
        after = window(service, "submitted_at", slowdown["ends_at"] + timedelta(days=28), slowdown["ends_at"] + timedelta(days=70))
        if after.height < 20:
            continue  # the slowdown ended too close to the data's end to judge
        was, now = before.select(on_time).item(), after.select(on_time).item()
        assert now > was - 0.15, (slowdown["service_id"], slowdown["starts_at"], was, now)


def test_phone_fault_makes_abandonment_spike(small_tables):
    contacts = small_tables["contacts"]
    for fault in incidents_of(small_tables, "phone_fault"):
        centre = contacts.filter(pl.col("office_id") == fault["office_id"])
        during = window(centre, "arrived_at", fault["starts_at"], fault["ends_at"])
        month_before = window(centre, "arrived_at", fault["starts_at"] - timedelta(days=28), fault["starts_at"])
        assert during["abandoned"].mean() > max(0.4, 2.5 * month_before["abandoned"].mean())


@pytest.mark.parametrize("kind", ["online_outage", "demand_surge", "processing_slowdown", "phone_fault"])
def test_incident_scope_names_where_it_happened(small_tables, kind):
    for incident in incidents_of(small_tables, kind):
        if kind == "processing_slowdown":
            assert incident["service_id"] and incident["department_id"]
        if kind in ("demand_surge", "phone_fault"):
            assert incident["office_id"]
        if kind == "online_outage":
            assert incident["channel"] == "online"
