"""Measured quality against the generator's incidents: the small world in every run, a
fresh scale-1 world (the issue's goals) in the slow run. Definitions:
anomalies/quality.py and bench/anomaly_quality.py."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from anomalies.quality import evaluate
from anomalies.store import run_detection
from data.build import build
from data.database import create_engine
from data.extracts import run_extract
from data.generate import Scenario

INCIDENT_WINDOW = {"start": dt.datetime(1900, 1, 1), "end": dt.datetime(2200, 1, 1)}


def quality_of(engine, detection, departments):
    incidents = run_extract(engine, "incidents", departments=departments, **INCIDENT_WINDOW)
    services = run_extract(engine, "services", departments=departments)
    return evaluate(detection.flags, detection.scores, incidents, services, "Europe/London")


def test_small_world_quality(anomaly_world, anomaly_engine, all_departments):
    """At scale 0.2 (a fifth of the cases) incidents at small services and offices sink
    into the noise: recall is lower than at scale 1 (measured 62.5%); precision and the
    false-alarm rate hold (measured 85%, 0.0014 per series-month)."""
    quality = quality_of(anomaly_engine, anomaly_world.detection, all_departments)
    assert quality.precision >= 0.70
    assert quality.false_alarms_per_series_month <= 1.0
    assert quality.recall >= 0.50
    assert quality.series > 150


def test_explanations_point_at_the_incidents_own_sub_scope(anomaly_world, anomaly_engine, all_departments):
    """A flag on a parent of an incident's scope (the total, a department, a channel) on
    the incident's first day names the incident's own member as the cause."""
    incidents = run_extract(anomaly_engine, "incidents", departments=all_departments, **INCIDENT_WINDOW)
    flags = anomaly_world.detection.flags.filter(pl.col("grain") == "day")
    checked = 0
    for incident in incidents.iter_rows(named=True):
        day = incident["starts_at"].date() + dt.timedelta(days=1 if incident["starts_at"].hour >= 12 else 0)
        on_day = flags.filter(pl.col("first_day") == day)
        if incident["kind"] == "online_outage" and incident["service_id"] is None:
            found = on_day.filter(pl.col("scope_kind").is_in(["total", "department"]), pl.col("kpi") == "completion_rate")
            cause = ("channel", "online")
        elif incident["kind"] == "online_outage":
            found = on_day.filter(pl.col("scope_kind") == "department", pl.col("kpi") == "completion_rate")
            cause = ("service_id", incident["service_id"])
        elif incident["kind"] == "phone_fault":
            found = on_day.filter(pl.col("scope_kind").is_in(["total", "channel"]), pl.col("kpi").is_in(["abandonment_rate", "service_level"]))
            cause = ("office_id", incident["office_id"])
        elif incident["kind"] == "demand_surge":
            found = on_day.filter(pl.col("scope_kind").is_in(["total", "channel"]))
            cause = ("office_id", incident["office_id"])
        else:
            continue
        for row in found.iter_rows(named=True):
            assert (row["explain_dimension"], row["explain_member"]) == cause, row["explanation"]
            assert row["explain_share"] > 0.5, row["explanation"]
            checked += 1
    assert checked >= 3


def test_every_flag_has_an_explanation_sentence(anomaly_world):
    flags = anomaly_world.detection.flags
    assert flags.height > 0
    assert flags["explanation"].str.contains(" expected").all()
    assert flags.filter(pl.col("explain_member").is_not_null())["explanation"].str.contains("most of the").all()


@pytest.mark.slow
def test_scale_one_world_meets_the_goals(tmp_path):
    """A fresh scale-1 world (seed 23, never used to choose the thresholds, which were
    set on seeds 42 and 11): recall >= 90%, precision >= 70%, <= 1 false alarm per series
    per month. About a minute: generation, then detection."""
    url = f"duckdb:///{tmp_path / 'scale1.duckdb'}"
    build(url, Scenario(seed=23, scale=1.0, end=dt.date(2026, 11, 27)), quiet=True)
    engine = create_engine(url)
    departments = run_extract(engine, "departments", departments=["benefits", "civil", "revenue", "transport"])["department_id"].to_list()
    detection = run_detection(engine)
    quality = quality_of(engine, detection, departments)
    engine.dispose()
    assert quality.recall >= 0.90
    assert quality.precision >= 0.70
    assert quality.false_alarms_per_series_month <= 1.0
