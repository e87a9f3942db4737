"""The registry is the one place a KPI is declared: it is checked at import, reporting every
problem at once, and what other modules once kept beside it is read from it."""

from __future__ import annotations

import dataclasses
from datetime import date

import polars as pl
import pytest

from data.fact_frames import OPTIONAL
from metrics import registry
from metrics.engine import compute
from metrics.registry import ALL_METRICS, MEASURES, METRICS, POPULATIONS, REGISTRY, RegistryError, check_registry
from metrics.rules import RULES
from tests.metrics import builders


def test_a_typo_in_a_measure_names_the_metric_and_the_measure_and_every_problem_is_reported():
    volume, asa = METRICS["volume"], METRICS["asa"]
    broken = (
        dataclasses.replace(volume, numerator="submited"),
        dataclasses.replace(asa, denominator="calls_answerd", rules=("short_abandon_50s",), family="queues", population="callz"),
    )
    with pytest.raises(RegistryError) as raised:
        check_registry(broken)
    message = str(raised.value)
    assert message.startswith("the metric registry has 5 problems:")
    assert "metric volume: unknown measure 'submited' as numerator; known measures: submitted, " in message
    assert "metric asa: unknown measure 'calls_answerd' as denominator" in message
    assert "metric asa: unknown rule 'short_abandon_50s'; known rules: admin_close_60s" in message
    assert "metric asa: unknown family 'queues'" in message
    assert "metric asa: unknown population 'callz'" in message


def test_a_median_of_a_sum_and_a_duplicate_are_refused():
    with pytest.raises(RegistryError) as raised:
        check_registry((METRICS["volume"], dataclasses.replace(METRICS["volume"], aggregation=registry.Aggregation.MEDIAN)))
    assert "metric volume: declared twice" in str(raised.value)
    assert "metric volume: a median needs a measure that is a set of values, and 'submitted' is not" in str(raised.value)


def test_the_shipped_registry_is_consistent():
    check_registry()
    for metric in REGISTRY:
        assert all(name in MEASURES for name in metric.measures), metric.name
        assert metric.population in POPULATIONS


def test_every_description_names_the_rules_that_apply():
    on_time = METRICS["on_time_rate"].description
    assert "admin_close_60s leaves out cases closed within 60 seconds of submission" in on_time
    assert "no_due_date leaves out cases with neither a due date nor a service standard" in on_time
    for metric in ALL_METRICS.values():
        for rule in metric.rules:
            assert rule in metric.description, (metric.name, rule)
    assert "Rules:" not in METRICS["volume"].description


def test_rules_affect_what_the_registry_says():
    assert RULES["admin_close_60s"].affects == ("cost_per_transaction", "processing_time_median", "processing_time_p90", "on_time_rate")
    assert RULES["short_abandon_5s"].affects == ("service_level", "abandonment_rate")
    assert RULES["no_due_date"].affects == ("on_time_rate", "backlog_overdue")


def test_anomaly_watch_and_families_come_from_the_registry():
    # what forecasting/anomaly/detect.py kept as WATCHED and FAMILY
    daily, weekly = registry.watched("day"), registry.watched("week")
    assert set(daily["office"]) == {"volume", "digital_take_up", "completion_rate", "satisfaction", "satisfaction_index",
                                    "wait_time_median", "wait_within_target", "service_level", "abandonment_rate", "aht"}
    assert set(weekly["service"]) - set(daily["service"]) == {
        "backlog", "backlog_overdue", "backlog_age_median", "processing_time_median", "processing_time_p90", "on_time_rate",
    }
    assert set(weekly["total"]) - set(daily["total"]) >= {"wait_time_p90", "asa"}
    assert registry.family_of("abandonment_rate") == registry.family_of("service_level") == "phone"
    with pytest.raises(RegistryError, match="unknown anomaly grain 'month'; use one of day, week"):
        METRICS["volume"].watched_at("month")


def test_visit_metrics_are_in_the_registry_but_not_on_the_scorecard():
    assert {"visit_abandonment_rate", "visit_handle_time"} <= set(ALL_METRICS) - set(METRICS)
    assert METRICS["satisfaction_index"].n_measure == "ratings"
    assert METRICS["processing_time_median"].n_measure == "processing_days"


def test_the_series_table_knows_the_registry_kpis_that_observations_may_name(tmp_path):
    """sql/schema/061_registry_series.sql seeds series with every ratio and count KPI of the
    registry, label, unit and direction as the registry says (data/ cannot import metrics/)."""
    from data.database import connect, create_engine, create_schema
    from metrics.registry import METRICS, Aggregation

    kinds = {Aggregation.RATIO: "ratio", Aggregation.COUNT: "count"}
    expected = sorted(
        (name, metric.label, metric.unit, metric.better.value, kinds[metric.aggregation])
        for name, metric in METRICS.items() if metric.aggregation in kinds
    )
    engine = create_engine(f"duckdb:///{tmp_path / 'series.duckdb'}")
    try:
        create_schema(engine)
        create_schema(engine)  # idempotent
        with connect(engine) as conn:
            seeded = sorted(tuple(row) for row in conn.exec_driver_sql("SELECT series_id, label, unit, direction, kind FROM series"))
    finally:
        engine.dispose()
    assert seeded == expected


# ---------------------------------------------------------------------- measures as declarations


def test_a_measure_that_reads_a_column_its_rows_lack_is_named_with_what_they_have(monkeypatch):
    typo = registry.Measure("closed_late", "closed", "cases closed after their due date", (pl.col("has_due") & ~pl.col("ontime")).sum())
    no_expression = registry.Measure("calls_held", "contacts", "calls put on hold")
    monkeypatch.setitem(registry.MEASURES, typo.name, typo)
    monkeypatch.setitem(registry.MEASURES, no_expression.name, no_expression)
    with pytest.raises(RegistryError) as raised:
        check_registry()
    message = str(raised.value)
    assert message.startswith("the metric registry has 2 problems:")
    assert "measure closed_late: its expression uses 'ontime', which the rows of group 'closed' do not have; known: " in message
    assert "on_time" in message and "declare it in data/fact_frames.py OPTIONAL" in message
    assert "measure calls_held: needs an expression over the rows of group 'contacts'" in message


def test_a_kpi_on_a_new_column_is_a_registry_entry_and_the_engine_computes_it_unchanged(monkeypatch):
    """Cases reopened within 30 days of being closed, declared here as a newcomer would
    declare it (the column, the measure, the metric): the engine learns nothing. Hand case:
    in the week of 2 March 2026 four cases close; one is reopened 3 days later, one 40 days
    later (not within 30), one not at all, and one is an administrative close (reopened,
    but left out by admin_close_60s) -> 1 of 3 = 33.3%."""
    monkeypatch.setitem(OPTIONAL, "cases", {**OPTIONAL["cases"], "reopened_at": pl.Datetime("us")})
    reopened = registry.Measure(
        "closed_reopened_30d", "closed", "regular cases closed in the period and reopened within 30 days",
        (pl.col("regular") & ((pl.col("reopened_at") - pl.col("closed_at")) <= pl.duration(days=30))).fill_null(False).sum(),
    )
    monkeypatch.setitem(registry.MEASURES, reopened.name, reopened)
    metric = dataclasses.replace(
        METRICS["on_time_rate"], name="reopened_rate", label="Reopened within 30 days", better=registry.Direction.LOWER,
        numerator="closed_reopened_30d", denominator="closed", count=None, min_n=1, target=5.0, population="closed",
    )
    monkeypatch.setitem(registry.ALL_METRICS, metric.name, metric)
    check_registry()

    frame = builders.cases(
        dict(submitted_at="2026-02-20 09:00", closed_at="2026-03-02 10:00"),
        dict(submitted_at="2026-02-20 09:00", closed_at="2026-03-03 10:00"),
        dict(submitted_at="2026-02-20 09:00", closed_at="2026-03-04 10:00"),
        dict(submitted_at="2026-03-05 09:00:00", closed_at="2026-03-05 09:00:30"),
    ).with_columns(
        pl.Series("reopened_at", [builders.utc("2026-03-05 10:00"), builders.utc("2026-04-12 10:00"), None, builders.utc("2026-03-06 10:00")], dtype=pl.Datetime("us"))
    )
    result = compute(builders.facts(cases=frame), ["reopened_rate", "volume"], by=["week"], first_day=date(2026, 3, 2), last_day=date(2026, 3, 8))
    assert result.value("reopened_rate", period="2026-W10") == pytest.approx(100 / 3)
    assert result.values.filter(pl.col("kpi") == "reopened_rate").row(0, named=True)["numerator"] == 1.0
    assert result.rule_counts["admin_close_60s"] == 1

    # an export without the column still loads: the figure is 0 of 3, the others unchanged
    without = compute(builders.facts(cases=frame.drop("reopened_at")), ["reopened_rate", "volume"], by=["week"], first_day=date(2026, 3, 2), last_day=date(2026, 3, 8))
    assert without.value("reopened_rate", period="2026-W10") == 0.0
    assert without.value("volume", period="2026-W10") == result.value("volume", period="2026-W10") == 1.0
