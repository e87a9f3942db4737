"""The catalogue frames: registry, targets and rule counts in words, by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.catalogue import catalogue, reconcile_imports, rule_counts, scope_text, target_overrides, target_text
from metrics.engine import MetricResult
from metrics.periods import Periods
from metrics.registry import METRICS, METRICS_LIST
from metrics.targets import Target, Targets

TARGETS = Targets(
    version="test-1",
    rows=(
        Target("on_time_rate", 85.0, service_id="passport", reason="peak season"),
        Target("on_time_rate", 80.0, service_id="passport", office_id="leeds"),
        Target("cost_per_transaction", 60.0, department_id="benefits"),
    ),
)


def test_catalogue_has_every_metric_with_its_targets_and_rules_in_words():
    frame = catalogue(TARGETS, lambda dimension, value: value.title())
    assert frame["kpi"].to_list() == [metric.name for metric in METRICS_LIST]
    on_time = frame.filter(pl.col("kpi") == "on_time_rate").row(0, named=True)
    # most specific first: the service at one office, then the service
    assert on_time["targets"] == "90.0% (80.0% for service Passport at office Leeds; 85.0% for service Passport)"
    assert on_time["overrides"] == 2
    assert on_time["rules"] == "admin_close_60s, no_due_date"
    assert on_time["minimum"] == "at least 5 cases"
    volume = frame.filter(pl.col("kpi") == "volume").row(0, named=True)
    assert (volume["targets"], volume["minimum"], volume["source"], volume["rules"]) == ("no target", "none", "", "")
    assert target_text(METRICS["cost_per_transaction"], TARGETS) == "£40.00 (£60.00 for department benefits)"


def test_target_overrides_in_registry_order_with_their_defaults():
    frame = target_overrides(TARGETS)
    assert frame.select("kpi", "scope", "target", "default_target").rows() == [
        ("cost_per_transaction", "department benefits", 60.0, 40.0),
        ("on_time_rate", "service passport at office leeds", 80.0, 90.0),
        ("on_time_rate", "service passport", 85.0, 90.0),
    ]
    assert scope_text(Target("wait_time_median", 6.0, office_id="birmingham")) == "office birmingham"


def result(values: list[tuple[str, float | None, float | None]], counts: dict[str, int]) -> MetricResult:
    frame = pl.DataFrame(values, schema={"kpi": pl.String, "numerator": pl.Float64, "denominator": pl.Float64}, orient="row")
    return MetricResult(frame, counts, Periods(None, date(2026, 11, 16), date(2026, 11, 22)), ())


def test_rule_counts_are_shares_of_the_rows_each_rule_was_applied_to():
    # net flow's denominator counts every close; service level and completion rate
    # already leave the rule's rows out, so those are added back to the base
    counts = {"admin_close_60s": 10, "no_due_date": 3, "short_abandon_5s": 20, "resumed_journey": 50}
    frame = rule_counts(result([("net_flow", 900, 1000), ("service_level", 70, 180), ("completion_rate", 300, 450)], counts))
    rows = {row["rule"]: row for row in frame.iter_rows(named=True)}
    assert (rows["admin_close_60s"]["out_of"], rows["admin_close_60s"]["share"]) == (1000, pytest.approx(1.0))
    assert (rows["short_abandon_5s"]["out_of"], rows["short_abandon_5s"]["share"]) == (200, pytest.approx(10.0))
    assert (rows["resumed_journey"]["out_of"], rows["resumed_journey"]["of_what"]) == (500, "online sessions started")
    assert (rows["no_due_date"]["rows"], rows["no_due_date"]["out_of"], rows["no_due_date"]["share"]) == (3, None, None)
    assert rows["no_due_date"]["switchable"] is False and rows["admin_close_60s"]["switchable"] is True


def test_a_rule_whose_data_is_absent_has_no_count():
    frame = rule_counts(result([("net_flow", 5, 5)], {"admin_close_60s": 0, "no_due_date": 0}))
    rows = {row["rule"]: row for row in frame.iter_rows(named=True)}
    assert rows["short_abandon_5s"]["rows"] is None and rows["short_abandon_5s"]["share"] is None
    assert rows["admin_close_60s"]["rows"] == 0 and rows["admin_close_60s"]["share"] == 0.0


def test_imports_reconcile_when_read_equals_the_sum_of_outcomes():
    imports = pl.DataFrame({"rows_read": [10, 10], "rows_inserted": [7, 7], "rows_excluded": [2, 1], "rows_quarantined": [1, None]})
    checked = reconcile_imports(imports)
    assert checked["accounted"].to_list() == [10, 8]
    assert checked["reconciles"].to_list() == [True, False]
    other = pl.DataFrame({"file": ["a.csv"]})
    assert reconcile_imports(other).equals(other)


def test_no_due_date_counts_only_cases_submitted_by_the_windows_end():
    """Facts loaded past a window (a wider cached load) must not change its counts."""
    from metrics.engine import compute
    from tests.metrics.builders import cases, facts

    data = facts(cases=cases(
        {"submitted_at": "2026-03-03 09:00", "sla_days": None},  # open, no due date: counted
        {"submitted_at": "2026-03-04 09:00", "sla_days": None, "closed_at": "2026-03-05 09:00"},  # closed in the week: counted
        {"submitted_at": "2026-03-10 09:00", "sla_days": None},  # submitted after the week: not this week's
    ))
    result = compute(data, ["on_time_rate"], by=["week"], first_day=date(2026, 3, 2), last_day=date(2026, 3, 8))
    assert result.rule_counts["no_due_date"] == 2
