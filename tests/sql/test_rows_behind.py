"""The rows behind a number (sql/case_rows.sql, contact_rows.sql, journey_rows.sql and
feedback_rows.sql) are exactly what the metric engine counted: for every KPI in cells of
several scopes and weeks (both clock changes among them), on DuckDB and PostgreSQL, the
rows give the engine's n, numerator, denominator and value; paging and the rows left out
by rules add up; times are local; values are bound, never formatted into the SQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from data.extracts import run_extract
from data.facts import load_facts
from metrics.drilldown import DrilldownError, Scope, blocked_by, fact_of, rows_query, tally
from metrics.engine import compute
from metrics.registry import ALL_METRICS, METRICS
from metrics.rules import DEFAULT_THRESHOLDS, Thresholds

EVERYTHING = 10_000_000
CELLS = {
    "all, spring clock change": (date(2026, 3, 23), Scope()),
    "a department, autumn clock change": (date(2026, 10, 19), Scope(department_id="benefits")),
    "a service, last week": (date(2026, 11, 16), Scope(department_id="civil", service_id="passport")),
    "an office's channel": (date(2026, 11, 9), Scope(office_id="leeds", channel="in_person")),
    "a channel, summer": (date(2026, 6, 8), Scope(channel="phone")),
    "a service at an office by channel": (
        date(2026, 9, 14), Scope(department_id="transport", service_id="driving_licence", office_id="sheffield_cc", channel="phone"),
    ),
    "online by app": (date(2026, 8, 3), Scope(department_id="revenue", channel="mobile_app")),
}


def engine_values(db, departments: list[str], monday: date, scope: Scope):
    """The engine's figures for one week of a scope, from facts loaded as the page loads
    them (the scope's department, a window wider than the week)."""
    if scope.department_id:
        departments = [scope.department_id]
    sunday = monday + timedelta(days=6)
    facts = load_facts(db, departments, monday - timedelta(weeks=2), sunday)
    narrowed = facts.where(**scope.narrowing()) if scope.narrowing() else facts
    result = compute(narrowed, list(ALL_METRICS), by=["week"], first_day=monday - timedelta(weeks=2), last_day=sunday)
    this_week = result.values.filter(pl.col("period_start") == monday)
    return {row["kpi"]: row for row in this_week.iter_rows(named=True)}, facts.timezone


def all_rows(db, departments, kpi: str, scope: Scope, monday: date, timezone: str, *, with_left_out: bool = False, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> pl.DataFrame:
    query = rows_query(
        ALL_METRICS[kpi], scope, departments, monday, monday + timedelta(days=6), timezone=timezone, limit=EVERYTHING,
        with_left_out=with_left_out, thresholds=thresholds,
    )
    return run_extract(db, query.extract, departments=list(query.departments), **query.params)


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


@pytest.mark.parametrize("cell", list(CELLS), ids=list(CELLS))
def test_the_rows_behind_every_kpi_give_the_engines_figure(db, all_departments, cell):
    monday, scope = CELLS[cell]
    figures, timezone = engine_values(db, all_departments, monday, scope)
    problems = []
    compared = 0
    for kpi, metric in ALL_METRICS.items():
        engine = figures[kpi]
        if blocked_by(metric, scope):
            assert engine["value"] is None and "not recorded" in engine["note"], kpi
            continue
        counted = tally(metric, all_rows(db, all_departments, kpi, scope, monday, timezone))
        expected_numerator = engine["numerator"] if kpi != "cost_per_transaction" else None  # cost is not a sum over cases
        if counted.n != engine["n"]:
            problems.append(f"{kpi}: {counted.n} rows, engine n {engine['n']}")
        if not close(counted.numerator, expected_numerator):
            problems.append(f"{kpi}: numerator {counted.numerator} from rows, engine {expected_numerator}")
        if not close(counted.denominator, engine["denominator"]):
            problems.append(f"{kpi}: denominator {counted.denominator} from rows, engine {engine['denominator']}")
        if kpi != "cost_per_transaction" and not close(counted.value, engine["value"]):
            problems.append(f"{kpi}: value {counted.value} from rows, engine {engine['value']}")
        compared += counted.n > 0
    assert not problems, "\n".join(problems)
    assert compared >= 10, f"only {compared} KPIs had rows in {cell}: pick a fuller cell"


@pytest.mark.parametrize(
    ("kpi", "rule"),
    [
        ("processing_time_median", "admin_close_60s"), ("service_level", "short_abandon_5s"), ("completion_rate", "resumed_journey"),
        ("first_contact_resolution", "no_resolution_recorded"),
    ],
)
def test_rows_left_out_are_named_and_counted_as_the_engine_counts_them(db, all_departments, kpi, rule):
    monday, scope = date(2026, 11, 16), Scope()
    sunday = monday + timedelta(days=6)
    facts = load_facts(db, all_departments, monday, sunday)
    counts = compute(facts, [kpi], by=["week"], first_day=monday, last_day=sunday).rule_counts
    counted = all_rows(db, all_departments, kpi, scope, monday, facts.timezone)
    everything = all_rows(db, all_departments, kpi, scope, monday, facts.timezone, with_left_out=True)
    left_out = everything.filter(pl.col("left_out_by").is_not_null())
    assert counts[rule] > 0
    assert left_out.height == counts[rule] == everything["left_out_rows"][0] == counted["left_out_rows"][0]
    assert set(left_out["left_out_by"]) == {rule}
    assert everything.height == counted.height + left_out.height == everything["total_rows"][0]
    assert counted["total_rows"][0] == counted.height


def test_pages_add_up_to_the_whole_set_in_a_stable_order(db, all_departments):
    kpi, monday, scope = "on_time_rate", date(2026, 11, 9), Scope(department_id="benefits")
    whole = all_rows(db, all_departments, kpi, scope, monday, "Europe/London")
    pages = []
    for page in range(4):
        query = rows_query(METRICS[kpi], scope, all_departments, monday, monday + timedelta(days=6), timezone="Europe/London", limit=50, offset=page * 50)
        pages.append(run_extract(db, query.extract, departments=list(query.departments), **query.params))
    assert [p.height for p in pages[:3]] == [50, 50, 50]
    assert all((p["total_rows"] == whole.height).all() for p in pages if p.height)
    assert_frame = pl.concat(pages)
    assert assert_frame.equals(whole.head(assert_frame.height))
    # the on-time rate's rows open on what makes it bad: overdue, then late, then on time,
    # each oldest submission first
    rank = {"overdue": 0, "late": 1, "open": 2, "on time": 3, "closed": 4}
    keys = [(rank[state], submitted) for state, submitted in zip(whole["triage"], whole["submitted_at"], strict=True)]
    assert keys == sorted(keys)
    assert whole["triage"][0] == "overdue"
    assert whole.select(pl.struct("event", "case_id").is_unique().all()).item()


def test_times_are_shown_in_the_offices_local_time(db, all_departments):
    monday = date(2026, 6, 8)  # British summer time: local is UTC + 1 hour
    rows = all_rows(db, all_departments, "volume", Scope(department_id="civil"), monday, "Europe/London")
    raw = run_extract(db, "cases", departments=all_departments, start=datetime(2026, 6, 6), end=datetime(2026, 6, 16))
    joined = rows.join(raw.select("case_id", pl.col("submitted_at").alias("utc")), on="case_id")
    assert joined.height == rows.height > 0
    assert (joined["submitted_at"] - joined["utc"] == timedelta(hours=1)).all()
    # and every case is in the week by its local date
    assert joined["submitted_at"].dt.date().is_between(monday, monday + timedelta(days=6)).all()


def test_values_are_bound_not_formatted_into_the_sql(db, all_departments):
    hostile = Scope(department_id="civil", service_id="passport' OR '1'='1")
    query = rows_query(METRICS["volume"], hostile, all_departments, date(2026, 11, 16), date(2026, 11, 22), timezone="Europe/London", limit=10)
    assert query.params["services"] == ["passport' OR '1'='1"]
    assert run_extract(db, query.extract, departments=list(query.departments), **query.params).height == 0


def test_a_cell_that_cannot_be_listed_says_why(all_departments):
    with pytest.raises(DrilldownError, match="Completion rate cannot be shown for one office: online journeys are not recorded by office"):
        rows_query(METRICS["completion_rate"], Scope(office_id="leeds"), all_departments, date(2026, 11, 16), date(2026, 11, 22), timezone="UTC", limit=10)
    with pytest.raises(DrilldownError, match="department 'secret' is not one the viewer may see"):
        rows_query(METRICS["volume"], Scope(department_id="secret"), all_departments, date(2026, 11, 16), date(2026, 11, 22), timezone="UTC", limit=10)


def test_every_population_has_its_rows():
    assert {fact_of(metric) for metric in METRICS.values()} == {"cases", "contacts", "journeys", "feedback"}


@pytest.mark.parametrize(
    ("setting", "value", "kpis"),
    [
        ("admin_close_seconds", 2 * 86400.0, ["processing_time_median", "on_time_rate", "cost_per_transaction"]),
        ("short_abandon_seconds", 40.0, ["service_level", "abandonment_rate"]),
        ("service_level_seconds", 7.5, ["service_level"]),
        ("visit_target_seconds", 240.0, ["wait_within_target"]),
    ],
)
def test_a_changed_setting_changes_the_number_and_its_rows_alike(db, all_departments, setting, value, kpis):
    monday, scope = date(2026, 11, 16), Scope()
    sunday = monday + timedelta(days=6)
    facts = load_facts(db, all_departments, monday, sunday)
    changed = Thresholds(**{setting: value})
    before = compute(facts, kpis, by=["week"], first_day=monday, last_day=sunday)
    after = compute(facts, kpis, by=["week"], first_day=monday, last_day=sunday, thresholds=changed)
    for kpi in kpis:
        figure = after.values.filter(pl.col("kpi") == kpi).row(0, named=True)
        assert figure["value"] != before.value(kpi), f"{setting} = {value} did not change {kpi}: the test would prove nothing"
        counted = tally(METRICS[kpi], all_rows(db, all_departments, kpi, scope, monday, facts.timezone, thresholds=changed))
        assert counted.n == figure["n"], kpi
        if kpi != "cost_per_transaction":
            assert close(counted.numerator, figure["numerator"]), kpi
            assert close(counted.value, figure["value"]), kpi
        assert close(counted.denominator, figure["denominator"]), kpi


def test_the_case_states_filter_and_orders_run_over_every_row_on_the_server(db, all_departments):
    """Triage: a state filter keeps exactly the rows in those states (counted in
    filtered_rows, total_rows still the figure's), each state judged from the dates as a
    person would; the backlog opens oldest first, processing times longest first."""
    kpi, monday, scope = "on_time_rate", date(2026, 11, 9), Scope(department_id="benefits")
    sunday = monday + timedelta(days=6)
    whole = all_rows(db, all_departments, kpi, scope, monday, "Europe/London")
    for row in whole.iter_rows(named=True):  # the state, judged again from the row's own dates
        closed_in = row["closed_at"] is not None and row["closed_at"].date() <= sunday
        expected = ("on time" if row["closed_at"] <= row["due_at"] else "late") if closed_in else "overdue"
        assert row["triage"] == expected, row
    query = rows_query(METRICS[kpi], scope, all_departments, monday, sunday, timezone="Europe/London", limit=10_000, triage=["late"])
    late = run_extract(db, query.extract, departments=list(query.departments), **query.params)
    assert late.height == whole.filter(pl.col("triage") == "late").height > 0
    assert (late["filtered_rows"] == late.height).all() and (late["total_rows"] == whole.height).all()
    assert late["submitted_at"].is_sorted()
    with pytest.raises(DrilldownError, match="unknown case state"):
        rows_query(METRICS[kpi], scope, all_departments, monday, sunday, timezone="Europe/London", limit=10, triage=["lost"])
    backlog = all_rows(db, all_departments, "backlog", scope, monday, "Europe/London")
    assert backlog.height > 0 and backlog["age_days"].is_sorted(descending=True)
    slowest = all_rows(db, all_departments, "processing_time_median", scope, monday, "Europe/London")
    assert slowest["processing_days"].is_sorted(descending=True)


def test_waits_open_longest_first_and_handling_longest_first(db, all_departments):
    """The rows behind a wait open on the longest waits (an abandoned call by how long it
    waited), those behind handling time on the longest handling: over every row."""
    monday = date(2026, 11, 9)
    waits = all_rows(db, all_departments, "abandonment_rate", Scope(), monday, "Europe/London")
    waited = waits.select(pl.coalesce("wait_seconds", "abandoned_after_seconds")).to_series()
    assert waits.height > 100 and waited.is_sorted(descending=True, nulls_last=True)
    handled = all_rows(db, all_departments, "aht", Scope(), monday, "Europe/London")
    assert handled.height > 100 and handled["handle_seconds"].is_sorted(descending=True, nulls_last=True)
    with pytest.raises(DrilldownError, match="can be ordered by wait, handle, arrival"):
        rows_query(ALL_METRICS["asa"], Scope(), all_departments, monday, monday + timedelta(days=6), timezone="Europe/London", limit=10, order="triage")
    with pytest.raises(DrilldownError, match="one order only"):
        rows_query(ALL_METRICS["satisfaction"], Scope(), all_departments, monday, monday + timedelta(days=6), timezone="Europe/London", limit=10, order="wait")
