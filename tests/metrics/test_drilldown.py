"""The drill-down's pure logic: the path, the next level, the window, peers, histogram
bins, the sentences, and the individual values behind a cell's distributions (whose
medians must be the engine's)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from data.database import create_engine
from data.facts import load_facts
from metrics import drilldown as drill
from metrics.drilldown import Scope
from metrics.engine import compute
from metrics.registry import METRICS
from metrics.targets import load_targets

SERVICES = pl.DataFrame({"service_id": ["passport", "jobseeker"], "department_id": ["civil", "benefits"]})


def test_a_scope_from_the_url_keeps_only_what_the_viewer_may_see():
    scope = drill.scope_from(
        {"department": "benefits", "service": "passport", "office": "nowhere", "channel": "phone"},
        departments=["civil", "benefits"], services=SERVICES, offices=["leeds"],
    )
    assert scope == Scope(department_id="civil", service_id="passport", office_id=None, channel="phone")  # the service's department wins
    assert drill.scope_from({"department": "secret", "service": "jobseeker"}, departments=["civil"], services=SERVICES, offices=[]) == Scope()
    assert drill.scope_from({"channel": "carrier pigeon"}, departments=["civil"], services=SERVICES, offices=[]) == Scope()


def test_walking_down_and_back_up():
    scope = Scope().down("department_id", "civil").down("service_id", "passport").down("office_id", "leeds").down("channel", "phone")
    assert list(scope.chosen()) == list(drill.LEVELS)
    assert scope.up_to("service_id") == Scope(department_id="civil", service_id="passport")
    assert scope.up_to(None) == Scope()
    assert scope.narrowing() == {"service_id": "passport", "office_id": "leeds", "channel": "phone"}
    assert scope.deepest == "channel"


def test_the_next_level_skips_levels_a_measure_is_not_recorded_by():
    on_time, completion = METRICS["on_time_rate"], METRICS["completion_rate"]
    assert drill.next_level(on_time, Scope()) == ("department_id", [])
    assert drill.next_level(on_time, Scope(department_id="civil", service_id="passport")) == ("office_id", [])
    assert drill.next_level(completion, Scope(department_id="civil", service_id="passport")) == ("channel", ["office_id"])
    assert drill.next_level(on_time, Scope(office_id="leeds", channel="phone")) == (drill.WEEK, [])
    assert drill.not_recorded(completion, "office_id") == "online journeys are not recorded by office"
    assert drill.blocked_by(completion, Scope(office_id="leeds")) == (
        "Completion rate cannot be shown for one office: online journeys are not recorded by office."
    )
    assert drill.blocked_by(on_time, Scope(office_id="leeds")) is None
    assert [rule.name for rule in drill.rules_of(on_time)] == ["admin_close_60s", "no_due_date"]
    assert drill.rules_of(METRICS["satisfaction"]) == []


def test_the_window_ends_at_the_latest_week_unless_the_chosen_week_is_outside_it():
    latest = "2026-W47"  # Monday 16 November 2026
    assert drill.window("2026-W47", latest, 13) == (date(2026, 8, 24), date(2026, 11, 22))
    assert drill.window("2026-W40", latest, 13) == (date(2026, 8, 24), date(2026, 11, 22))  # inside: the window stays
    assert drill.window("2026-W20", latest, 13) == (date(2026, 2, 16), date(2026, 5, 17))  # before it: ends at the week
    assert drill.window("2026-W48", latest, 13) == (date(2026, 8, 31), date(2026, 11, 29))  # the week in progress
    assert drill.week_days("2026-W47") == (date(2026, 11, 16), date(2026, 11, 22))


def test_histogram_bins_count_every_value_once_with_round_widths():
    values = pl.Series([0.0, 0.4, 1.0, 2.5, 2.5, 9.9])
    bins = drill.histogram_bins(values, bins=10, clip=1.0)
    assert bins["count"].sum() == values.len()
    assert bins["bin_from"][0] == 0.0
    widths = (bins["bin_to"] - bins["bin_from"]).unique().to_list()
    assert widths == [1.0]
    assert bins.filter(pl.col("bin_from") == 2.0)["count"].item() == 2
    assert bins.filter(pl.col("bin_from") == 5.0)["count"].item() == 0  # gaps are kept


def test_a_long_tail_goes_into_an_open_ended_last_bin():
    values = pl.Series([float(v) for v in range(100)] + [10_000.0])
    bins = drill.histogram_bins(values, bins=20)
    assert bins["count"].sum() == values.len()
    assert bins["bin_to"][-1] is None  # "and over"
    assert bins["bin_from"][-1] < 200  # the tail did not stretch the bins
    assert drill.histogram_bins(pl.Series([], dtype=pl.Float64)).height == 0


def test_peers_sort_best_first_and_say_how_far_from_overall():
    values = pl.DataFrame(
        {"office_id": ["a", "b", "c", None], "value": [80.0, 95.0, None, 70.0], "n": [20, 30, 3, 8], "note": [None, None, "fewer than 5 cases (3)", None]}
    )
    table = drill.peers(values, METRICS["on_time_rate"], "office_id", {"a": "Alpha", "b": "Beta", "c": "Gamma"}, overall=85.0, targets=load_targets())
    assert table["name"].to_list() == ["Beta", "Alpha", "(not recorded)", "Gamma"]
    assert table["gap_to_overall"].to_list()[:3] == [10.0, -5.0, -15.0]
    assert table["status"].to_list() == ["green", "red", "red", "grey"]
    lower = drill.peers(values.with_columns(pl.lit("x").alias("note")), METRICS["processing_time_median"], "office_id", {}, overall=None)
    assert lower["member"].to_list()[:3] == [None, "a", "b"]  # lower is better: 70 first


def test_sentences_give_the_numbers():
    series = pl.DataFrame({"period": ["2026-W45", "2026-W46", "2026-W47"], "value": [70.0, 90.5, 81.0]})
    metric = METRICS["on_time_rate"]
    assert drill.trend_sentence(metric, series, "2026-W47", "Leeds", 90.0) == (
        "On-time rate in Leeds was 81.0% in 2026-W47 against a target of 90.0%; "
        "over the 3 weeks shown it ranged from 70.0% (2026-W45) to 90.5% (2026-W46)."
    )
    table = pl.DataFrame({"name": ["A", "B", "C"], "value": [70.0, 90.5, None]})
    assert drill.peer_sentence(metric, table, "office_id", 81.0, "2026-W47") == (
        "Of 3 offices, B had the highest on-time rate (90.5%) and A the lowest (70.0%); overall 81.0%; 1 without a value (too few cases)."
    )
    assert drill.distribution_sentence(pl.Series([1.0, 2.0, 3.0]), what="cases closed", unit="days") == (
        "Median 2.0 days; nine in ten within 2.8 days; 3 cases closed."
    )
    assert drill.how_counted(metric, {"numerator": 6208.0, "denominator": 9315.0, "n": 9315}) == "6,208 ÷ 9,315 × 100, from 9,315 cases"
    assert drill.how_counted(METRICS["processing_time_median"], {"n": 12}) == "the median of 12 cases"
    assert drill.how_counted(METRICS["net_flow"], {"numerator": 10.0, "denominator": 12.0, "n": 22}) == "10 submitted − 12 closed"


@pytest.fixture(scope="module")
def small_facts(duckdb_url, all_departments):
    engine = create_engine(duckdb_url)
    facts = load_facts(engine, all_departments, date(2026, 10, 12), date(2026, 11, 22))
    engine.dispose()
    return facts


@pytest.mark.parametrize("scope", [Scope(), Scope(service_id="passport"), Scope(office_id="leeds"), Scope(channel="phone")], ids=str)
def test_the_values_behind_the_distributions_give_the_engines_medians(small_facts, scope):
    monday, sunday = date(2026, 10, 19), date(2026, 10, 25)  # the clocks go back on the 25th
    facts = small_facts.where(**scope.narrowing()) if scope.narrowing() else small_facts
    values = drill.cell_values(facts, monday, sunday)
    engine = compute(
        facts, ["processing_time_median", "processing_time_p90", "wait_time_median", "wait_time_p90", "asa"],
        by=["week"], first_day=monday, last_day=sunday,
    ).values
    figure = {row["kpi"]: row for row in engine.iter_rows(named=True)}
    processing = drill.quantiles(values["processing_days"])
    assert processing["n"] == figure["processing_time_median"]["n"]
    if figure["processing_time_median"]["value"] is not None:
        assert processing["median"] == pytest.approx(figure["processing_time_median"]["value"])
        assert processing["p90"] == pytest.approx(figure["processing_time_p90"]["value"])
    visits = drill.quantiles(values["visit_wait_minutes"])
    assert visits["n"] == figure["wait_time_median"]["n"]
    if figure["wait_time_median"]["value"] is not None:
        assert visits["median"] == pytest.approx(figure["wait_time_median"]["value"])
    calls = values["call_wait_seconds"]
    assert calls.len() == figure["asa"]["n"]
    if figure["asa"]["value"] is not None:
        assert calls.mean() == pytest.approx(figure["asa"]["value"])


def test_an_empty_scope_has_no_values(small_facts):
    values = drill.cell_values(small_facts.where(service_id="no_such_service"), date(2026, 10, 19), date(2026, 10, 25))
    assert all(series.len() == 0 for series in values.values())
    assert drill.distribution_sentence(values["processing_days"], what="cases closed", unit="days") == "No cases closed."


def test_window_days_line_up_with_iso_weeks():
    first, last = drill.window("2026-W47", "2026-W47", 52)
    assert first.weekday() == 0 and last.weekday() == 6
    assert (last - first + timedelta(days=1)).days == 52 * 7
