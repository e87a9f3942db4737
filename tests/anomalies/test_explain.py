"""Explanations: the sub-scope that accounts for most of a deviation, by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from anomalies.explain import Names, contributions, explain, sentence

DAY = date(2026, 3, 18)
KEYS = {"grain": "day", "scope_kind": "total", "scope_id": "all"}


def flag(kpi: str, direction: str) -> pl.DataFrame:
    return pl.DataFrame([{**KEYS, "kpi": kpi, "first_day": DAY, "direction": direction}])


def child_rows(kpi: str, dimension: str, child: str, history: tuple, today: tuple) -> list[dict]:
    """(value, numerator, denominator, n) on the 8 same weekdays before DAY, and on DAY."""
    rows = []
    for lag in range(9):
        value, numerator, denominator, n = today if lag == 0 else history
        rows.append({
            **KEYS, "child_dimension": dimension, "child": child, "kpi": kpi,
            "period_start": DAY - timedelta(weeks=lag), "value": value, "n": n,
            "numerator": numerator, "denominator": denominator,
        })
    return rows


def test_a_count_is_explained_by_the_child_that_lost_the_cases():
    rows = (
        child_rows("volume", "service_id", "passport", (100.0, 100.0, None, 100), (20.0, 20.0, None, 20))
        + child_rows("volume", "service_id", "vehicle_tax", (50.0, 50.0, None, 50), (50.0, 50.0, None, 50))
        + child_rows("volume", "channel", "online", (90.0, 90.0, None, 90), (30.0, 30.0, None, 30))
        + child_rows("volume", "channel", "phone", (60.0, 60.0, None, 60), (40.0, 40.0, None, 40))
    )
    children = pl.DataFrame(rows)
    parts = contributions(flag("volume", "down"), children).sort("child_dimension", "child")
    assert dict(zip(parts["child"], parts["contribution"], strict=True)) == {"online": -60.0, "phone": -20.0, "passport": -80.0, "vehicle_tax": 0.0}
    assert dict(zip(parts["child"], parts["share"], strict=True)) == {"online": 0.75, "phone": 0.25, "passport": 1.0, "vehicle_tax": 0.0}
    best = explain(flag("volume", "down"), children).row(0, named=True)
    assert (best["explain_dimension"], best["explain_member"], best["explain_share"]) == ("service_id", "passport", 1.0)
    assert (best["explain_expected"], best["explain_actual"]) == (100.0, 20.0)


def test_a_rate_is_explained_by_the_child_that_moved_it_weighted_by_its_denominator():
    # web journeys: 70% complete usually, 10% today; the app: 70% both days
    rows = (
        child_rows("completion_rate", "channel", "online", (70.0, 700.0, 1000.0, 1000), (10.0, 100.0, 1000.0, 1000))
        + child_rows("completion_rate", "channel", "mobile_app", (70.0, 350.0, 500.0, 500), (70.0, 350.0, 500.0, 500))
    )
    parts = contributions(flag("completion_rate", "down"), pl.DataFrame(rows)).sort("child")
    # (100 x 100 - 70 x 1000) / 1500 = -40 points: the whole fall of the total (30% against 70%)
    assert parts.filter(pl.col("child") == "online")["contribution"][0] == pytest.approx(-40.0)
    assert parts.filter(pl.col("child") == "mobile_app")["contribution"][0] == pytest.approx(0.0)
    assert parts.filter(pl.col("child") == "online")["share"][0] == pytest.approx(1.0)


def test_the_sentence_names_the_child_its_share_and_both_values():
    row = {
        "kpi": "completion_rate", "direction": "down", "value": 30.0, "expected": 70.0, "detector": "robust_z",
        "explain_dimension": "channel", "explain_member": "online", "explain_share": 0.93,
        "explain_expected": 70.0, "explain_actual": 10.0,
    }
    names = Names({}, {}, {})
    assert sentence(row, names) == (
        "Completion rate fell to 30.0% against 70.0% expected; most of the fall came from the channel Online "
        "(93% of it: 10.0% against 70.0% expected)."
    )
    office = {**row, "kpi": "volume", "direction": "up", "value": 120.0, "expected": 60.0, "explain_dimension": "office_id",
              "explain_member": "leeds", "explain_share": 1.0, "explain_expected": 30.0, "explain_actual": 90.0}
    assert "the office Leeds Service Centre (100% of it: 90 against 30 expected)" in sentence(office, Names({}, {"leeds": "Leeds Service Centre"}, {}))
    alone = {**row, "explain_member": None, "explain_share": None}
    assert sentence(alone, names) == "Completion rate fell to 30.0% against 70.0% expected."
