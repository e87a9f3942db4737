"""The where-matrix, the judged wording and the composite's rule, on hand-made scorecards
whose every number is worked out here."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.formatting import change_judged, gap, judged
from metrics.registry import METRICS, Direction
from metrics.scorecard import UNKNOWN_SCOPE, Scorecard
from metrics.status import AMBER, GREEN, RED, composite_status, metric_score, miss, status
from metrics.summary import composite_words, sentences
from metrics.where import child_dimension, where

WEEK = "2026-W47"


def card(cells: list[tuple[str, str, float | None, float | None]], *, last_week: dict | None = None, partial: bool = False) -> Scorecard:
    """A scorecard of (scope, kpi, value, target) cells, statuses by the shared rule."""
    last_week = last_week or {}
    rows = []
    for scope, kpi, value, target in cells:
        metric = METRICS[kpi]
        rows.append({
            "week": WEEK, "scope": scope, "kpi": kpi, "label": metric.label, "unit": metric.unit, "value": value,
            "last_week": last_week.get((scope, kpi)), "same_week_last_year": None, "target": target, "target_source": "default",
            "change_on_last_week": None, "change_on_last_year": None,
            "status": status(value, target, metric.better) if not partial else "grey", "n": 100, "note": None,
            "partial": partial, "score": None if partial else metric_score(value, target, metric.better), "better": metric.better.value, "applicable": True,
        })
    frame = pl.DataFrame(rows)
    composite = pl.DataFrame(schema={"scope": pl.String})
    history = pl.DataFrame(schema={"scope": pl.String, "kpi": pl.String, "value": pl.Float64})
    return Scorecard(WEEK, frame, composite, history, {}, partial, date(2026, 11, 22), "test")


# A: two off target, the larger a half short (on time 45 against 90: 0.5; satisfaction 60 against 80: 0.25)
# B: two off target, the larger 0.4 (cost £56 against £40, lower is better: 16 / 40)
# C: one off target, the largest miss of all (answer 90 s against 30 s: 2.0): after A and B
# D: none off, one near (satisfaction 78 against 80, within 5%)
# E: none off, none near
# (unknown): three off target, but no child a head can act on: last
WORLD = [
    ("a", "on_time_rate", 45.0, 90.0), ("a", "satisfaction", 60.0, 80.0), ("a", "asa", 20.0, 30.0),
    ("b", "on_time_rate", 72.0, 90.0), ("b", "cost_per_transaction", 56.0, 40.0), ("b", "asa", 25.0, 30.0),
    ("c", "on_time_rate", 95.0, 90.0), ("c", "asa", 90.0, 30.0), ("c", "volume", 1200.0, None),
    ("d", "on_time_rate", 90.0, 90.0), ("d", "satisfaction", 78.0, 80.0),
    ("e", "on_time_rate", 99.0, 90.0),
    (UNKNOWN_SCOPE, "asa", 99.0, 30.0), (UNKNOWN_SCOPE, "abandonment_rate", 20.0, 8.0), (UNKNOWN_SCOPE, "service_level", 10.0, 80.0),
]


def test_miss_is_the_shortfall_in_target_units_unrounded():
    assert miss(45.0, 90.0, Direction.HIGHER) == pytest.approx(0.5)
    assert miss(56.0, 40.0, Direction.LOWER) == pytest.approx(0.4)
    assert miss(79.97, 80.0, Direction.HIGHER) == pytest.approx(0.000375)  # shown "80.0%", still below
    assert miss(95.0, 90.0, Direction.HIGHER) == 0.0
    assert miss(None, 90.0, Direction.HIGHER) is None
    assert miss(1200.0, None, Direction.CONTEXT) is None


def test_children_are_ordered_worst_first_by_the_documented_rule():
    matrix = where(card(WORLD), "department_id")
    assert matrix.order == ["a", "b", "c", "d", "e", UNKNOWN_SCOPE]
    ranking = {row["scope"]: row for row in matrix.ranking.iter_rows(named=True)}
    assert (ranking["a"]["red"], ranking["a"]["largest_miss"], ranking["a"]["worst_kpi"]) == (2, pytest.approx(0.5), "on_time_rate")
    assert (ranking["b"]["red"], ranking["b"]["largest_miss"], ranking["b"]["worst_kpi"]) == (2, pytest.approx(0.4), "cost_per_transaction")
    assert (ranking["c"]["red"], ranking["c"]["largest_miss"]) == (1, pytest.approx(2.0))
    assert (ranking["d"]["red"], ranking["d"]["amber"]) == (0, 1)
    # the columns: KPIs judged somewhere, in the registry's order; volume has no target
    assert matrix.kpis == [kpi for kpi in METRICS if kpi in {"on_time_rate", "satisfaction", "asa", "cost_per_transaction", "abandonment_rate", "service_level"}]


def test_a_tie_is_broken_by_near_target_then_by_id():
    tied = [("z", "on_time_rate", 45.0, 90.0), ("y", "on_time_rate", 45.0, 90.0), ("x", "on_time_rate", 45.0, 90.0), ("x", "satisfaction", 78.0, 80.0)]
    assert where(card(tied), "service_id").order == ["x", "y", "z"]


def test_furthest_below_lists_only_children_below_target_largest_miss_first():
    matrix = where(card(WORLD), "department_id")
    assert [(row["scope"], row["value"]) for row in matrix.furthest_below("on_time_rate")] == [("a", 45.0), ("b", 72.0)]
    # d is exactly on target (90 against 90), c and e above: none of them is named
    assert [row["scope"] for row in matrix.furthest_below("on_time_rate", limit=5)] == ["a", "b"]
    just = where(card([("p", "service_level", 79.97, 80.0), ("q", "service_level", 80.0, 80.0)]), "office_id")
    assert [row["scope"] for row in just.furthest_below("service_level")] == ["p"]


def test_the_child_of_each_level():
    assert child_dimension("all", "all") == "department_id"
    assert child_dimension("civil", "all") == "service_id"
    assert child_dimension("civil", "passport") == "office_id"


@pytest.mark.parametrize(
    ("delta", "kpi", "word", "text"),
    [
        (6.0, "on_time_rate", "better", "+6.0 pts, better"),  # higher is better
        (-1.5, "on_time_rate", "worse", "−1.5 pts, worse"),
        (4.0, "asa", "worse", "+4 s, worse"),  # lower is better
        (-3.0, "asa", "better", "−3 s, better"),
        (56.0, "volume", "", "+56"),  # no direction: no judgement
        (0.01, "on_time_rate", "", "±0.0 pts"),  # too small to show
    ],
)
def test_changes_are_judged_in_words_by_direction(delta, kpi, word, text):
    assert judged(delta, kpi) == word
    assert change_judged(delta, kpi) == text


def test_gap_in_words():
    assert gap(66.0, 90.0, "on_time_rate") == "24.0 points below the 90.0% target"
    assert gap(7.5, 7.0, "processing_time_median") == "0.5 days above the 7.0 days target"
    assert gap(79.97, 80.0, "service_level") == "just below the 80.0% target"


def test_a_red_kpi_that_improved_says_so_against_its_target_and_where():
    world = card(
        [("all", "on_time_rate", 66.0, 90.0)],
        last_week={("all", "on_time_rate"): 60.0},
    )
    children = where(card([("civil", "on_time_rate", 47.9, 90.0), ("revenue", "on_time_rate", 70.2, 90.0), ("transport", "on_time_rate", 91.0, 90.0)]), "department_id")
    said = sentences(world, where=children, names={"civil": "Civil registration", "revenue": "Revenue"})
    assert said[0] == (
        "On-time rate rose to 66.0% (better than last week), still 24.0 points below the 90.0% target: "
        "furthest below in Civil registration (47.9%) and Revenue (70.2%)"
    )


def test_a_red_kpi_that_worsened_lower_is_better():
    world = card([("all", "asa", 45.0, 30.0)], last_week={("all", "asa"): 40.0})
    children = where(card([("leeds", "asa", 80.0, 30.0), ("york", "asa", 20.0, 30.0)]), "office_id")
    assert sentences(world, where=children, names={"leeds": "Leeds"})[0] == (
        "Average speed of answer rose to 45 s (worse than last week), 15 s above the 30 s target: furthest above in Leeds (80 s)"
    )


def test_the_composite_is_never_green_beside_a_measure_off_target():
    assert composite_status(1.02) == GREEN
    assert composite_status(1.02, red=1) == AMBER
    assert composite_status(0.90, red=3) == RED


def test_the_composite_says_how_many_are_below_and_the_worst():
    rows = card([("all", "on_time_rate", 59.2, 90.0), ("all", "cost_per_transaction", 60.0, 40.0), ("all", "asa", 20.0, 30.0)]).rows
    entry = {"score": 1.02, "above": ["asa"], "below": ["cost_per_transaction", "on_time_rate"], "metrics_scored": 3, "off_target": 2, "worst": "cost_per_transaction"}
    assert composite_words(entry, rows) == (
        "Composite score 1.02 (1.00 is on target): 1 of 3 measures on or above target, 2 below (2 off target); "
        "the furthest below is Cost per transaction at £60.00, £20.00 above the £40.00 target"
    )


def test_an_offices_digital_take_up_is_left_out_of_its_matrix():
    """An office serves one channel: 0% digital at a service centre says nothing."""
    offices = where(card([("leeds", "digital_take_up", 0.0, 70.0), ("leeds", "on_time_rate", 95.0, 90.0), ("online_north", "digital_take_up", 100.0, 70.0), ("online_north", "on_time_rate", 80.0, 90.0)]), "office_id")
    assert offices.kpis == ["on_time_rate"]
    assert offices.order == ["online_north", "leeds"]  # leeds's 0% digital is no miss: only online_north is off target
    services = where(card([("passport", "digital_take_up", 50.0, 70.0)]), "service_id")
    assert services.kpis == ["digital_take_up"]
