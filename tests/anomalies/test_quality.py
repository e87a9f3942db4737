"""The quality definitions (anomalies/quality.py) on hand-made incidents."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from anomalies.detect import FLAG_SCHEMA
from anomalies.quality import evaluate, incident_days, incident_scopes

SERVICES = pl.DataFrame({
    "service_id": ["passport", "vehicle_tax", "disability"],
    "department_id": ["civil", "transport", "benefits"],
    "digital": [True, True, False],
})
INCIDENTS = pl.DataFrame(
    [
        # UTC instants of local midnights (British Summer Time: an hour earlier)
        {"incident_id": 1, "kind": "online_outage", "starts_at": datetime(2026, 6, 9, 23), "ends_at": datetime(2026, 6, 10, 23),
         "department_id": None, "service_id": None, "office_id": None, "channel": "online", "description": "all digital"},
        {"incident_id": 2, "kind": "processing_slowdown", "starts_at": datetime(2026, 2, 2), "ends_at": datetime(2026, 2, 23),
         "department_id": "civil", "service_id": "passport", "office_id": None, "channel": None, "description": "slow"},
        {"incident_id": 3, "kind": "phone_fault", "starts_at": datetime(2026, 1, 14), "ends_at": datetime(2026, 1, 15),
         "department_id": None, "service_id": None, "office_id": "leeds_cc", "channel": "phone", "description": "fault"},
    ]
)


def flags(rows: list[tuple[str, str, date]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"grain": "day", "scope_kind": kind, "scope_id": member, "kpi": "volume", "detector": "robust_z", "direction": "down",
             "first_day": day, "detected_on": day, "last_day": day, "value": 1.0, "expected": 2.0, "lower": 0.0, "upper": 3.0,
             "score": -7.0, "kpis": "volume"}
            for kind, member, day in rows
        ],
        schema=FLAG_SCHEMA,
    )


def scores(series: int, days: int) -> pl.DataFrame:
    return pl.DataFrame({
        "grain": ["day"] * series * days, "scope_kind": ["service"] * series * days,
        "scope_id": [f"s{i}" for i in range(series) for _ in range(days)], "kpi": ["volume"] * series * days,
        "scored": [True] * series * days,
    })


def test_incident_days_are_local_dates():
    found = incident_days(INCIDENTS, "Europe/London")
    assert found.select("first_day", "last_day").rows() == [
        (date(2026, 6, 10), date(2026, 6, 10)), (date(2026, 2, 2), date(2026, 2, 22)), (date(2026, 1, 14), date(2026, 1, 14)),
    ]


def test_an_incidents_scopes_are_its_members_and_their_parents():
    found = incident_scopes(INCIDENTS, SERVICES)
    scopes = {number: set(part.select("scope_kind", "scope_id").rows()) for (number,), part in found.partition_by(["incident_id"], as_dict=True).items()}
    # every digital service is named by an outage of "every digital service"
    assert scopes[1] == {("total", "all"), ("channel", "online"), ("service", "passport"), ("department", "civil"),
                         ("service", "vehicle_tax"), ("department", "transport")}
    assert scopes[2] == {("total", "all"), ("service", "passport"), ("department", "civil")}
    assert scopes[3] == {("total", "all"), ("office", "leeds_cc"), ("channel", "phone")}


def test_recall_precision_and_false_alarms_by_the_definitions():
    found = flags([
        ("service", "vehicle_tax", date(2026, 6, 10)),  # outage, a digital service: inside, detects 1
        ("office", "online_north", date(2026, 6, 10)),  # an office is no parent of a channel: outside
        ("department", "civil", date(2026, 2, 8)),  # slowdown day 7: inside, but 6 days late: does not detect 2
        ("service", "passport", date(2026, 3, 20)),  # 26 days after the slowdown's end: inside (trail 28)
        ("service", "passport", date(2026, 3, 24)),  # 30 days after: outside
        ("office", "leeds_cc", date(2026, 1, 16)),  # two days after a one-day fault: outside (trail 1)
    ])
    quality = evaluate(found, scores(10, 305), INCIDENTS, SERVICES, "Europe/London")
    assert quality.incidents.select("incident_id", "detected", "delay_days").rows() == [(3, False, None), (2, False, None), (1, True, 0)]
    assert quality.recall == pytest.approx(1 / 3)
    assert quality.precision == pytest.approx(3 / 6)
    assert quality.false_flags == 3
    assert quality.series == 10
    assert quality.false_alarms_per_series_month == pytest.approx(3 / (10 * 305 / 30.44))
    lenient = evaluate(found, scores(10, 305), INCIDENTS, SERVICES, "Europe/London", detect_days={"online_outage": 1, "phone_fault": 1, "demand_surge": 1, "processing_slowdown": 7})
    assert lenient.recall == pytest.approx(2 / 3)
    assert lenient.incidents.filter(pl.col("incident_id") == 2)["delay_days"].item() == 6


def test_two_kpis_flagged_on_one_scope_day_are_one_flagged_scope_day():
    found = pl.concat([flags([("service", "passport", date(2026, 2, 3))]), flags([("service", "passport", date(2026, 2, 3))]).with_columns(pl.lit("net_flow").alias("kpi"))])
    quality = evaluate(found, scores(2, 100), INCIDENTS, SERVICES, "Europe/London")
    assert quality.flagged.height == 1 and quality.precision == 1.0
