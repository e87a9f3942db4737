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
        assert during > 1.8 * (sum(before) / len(before))


def test_processing_slowdown_stretches_processing_times(small_tables):
    cases = small_tables["cases"].with_columns(
        (pl.col("closed_at") - pl.col("submitted_at")).dt.total_days().alias("days")
    )
    for slowdown in incidents_of(small_tables, "processing_slowdown"):
        service = cases.filter(pl.col("service_id") == slowdown["service_id"], pl.col("closed_at").is_not_null())
        during = window(service, "submitted_at", slowdown["starts_at"], slowdown["ends_at"])
        before = window(service, "submitted_at", slowdown["starts_at"] - timedelta(days=42), slowdown["starts_at"] - timedelta(days=14))
        assert during["days"].median() > 1.3 * before["days"].median()


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
