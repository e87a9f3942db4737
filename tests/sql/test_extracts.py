"""Every SQL extract runs unchanged on DuckDB and PostgreSQL, gives the same answer on both,
returns its declared columns and types, and never shows a department the viewer may not see."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.database import DatabaseError, create_engine
from data.extracts import DTYPES, ExtractError, extract_names, load_extract, parse_extract, run_extract
from metrics.rules import DEFAULT_THRESHOLDS

WINDOW = {"start": datetime(2026, 3, 2), "end": datetime(2026, 4, 6)}
DAYS = {"first_day": date(2026, 3, 2), "last_day": date(2026, 4, 5)}
EXTRACTS = extract_names()
# Filled by `python -m forecasting run`, so empty in a freshly built world; they are run
# with stored runs in tests/forecasting/test_fleet_database.py.
FILLED_BY_FORECAST_RUNS = {"forecast_runs", "forecast_series", "forecasts", "forecast_backtests", "forecast_history"}
# Filled by `python -m data import`, so empty in a generated world; run with an import in
# tests/dashboard/test_catalogue.py.
FILLED_BY_IMPORTS = {"imports", "import_rule_counts", "observations"}  # observations: tests/imports/test_nhs_ae.py
# The rows behind a number (case_rows.sql and the like): every service, office and channel,
# the rows rules leave out too, in one page. Their own tests are tests/sql/test_rows_behind.py.
ROWS_BEHIND = {
    "population": {"case_rows": "closed_or_overdue", "contact_rows": "calls_offered"},
    "timezone": "Europe/London",
    "all_services": True, "services": [], "all_offices": True, "offices": [], "all_channels": True, "channels": [],
    "with_left_out": True, "limit": 1_000_000, "offset": 0, "order_by": {"case_rows": "triage", "contact_rows": "wait"}, "all_triage": True, "triage": [],
    **DEFAULT_THRESHOLDS.params(),
}
# Filled by `python -m anomalies detect` and `python -m notify send` and by the Anomalies page; run with
# stored runs in tests/anomalies/.
# The audit is written by the running dashboard and by imports (tests/dashboard/test_audit.py).
FILLED_BY_IMPORTS |= {"audit_events"}
FILLED_BY_FORECAST_RUNS |= {"anomaly_runs", "anomaly_flags", "anomaly_acks", "anomaly_scores", "subscriptions", "notifications"}
SERIES = {"grain": "day", "scope_kind": "total", "scope_id": "all", "kpi": "volume"}
# Written by analysts on the drill-down (data/notes.py; tests/data/test_notes.py).
FILLED_BY_IMPORTS |= {"kpi_notes"}
# Imported or edited on the planner page (data/rosters.py; tests/imports/test_rosters.py).
FILLED_BY_IMPORTS |= {"roster_shifts"}
NOTE_SCOPE = {"kpi": "", "department_id": "", "service_id": "", "office_id": "", "channel": ""}


def params_for(name: str) -> dict:
    declared = load_extract(name).params
    values = {}
    if "start" in declared:
        values.update(WINDOW)
    if "first_day" in declared:
        values.update(DAYS)
    for key, value in ROWS_BEHIND.items():
        if key in declared:
            values[key] = value[name] if isinstance(value, dict) else value
    if "scope_kind" in declared:
        values.update(SERIES)
    if name == "kpi_notes":
        values.update(NOTE_SCOPE)
    if name == "roster_shifts":
        values["office_id"] = "sheffield_cc"
    if "since" in declared:  # the audit's period
        values.update({"since": datetime(2000, 1, 1), "until": datetime(2100, 1, 1)})
    return values


def test_every_extract_declares_grain_columns_and_the_departments_seam():
    assert len(EXTRACTS) >= 10
    for name in EXTRACTS:
        extract = load_extract(name)  # raises on any problem with its header
        assert "departments" in extract.params
        assert extract.grain


@pytest.mark.parametrize("name", EXTRACTS)
def test_extract_returns_its_declared_columns_and_types(db, all_departments, name):
    frame = run_extract(db, name, departments=all_departments, **params_for(name))
    declared = load_extract(name).columns
    assert frame.schema == pl.Schema(declared)
    assert frame.height > 0 or name in FILLED_BY_FORECAST_RUNS | FILLED_BY_IMPORTS, f"{name} found nothing in the small world's window"


# The audit holds what the tests did on each database (test_audit.py writes to one of them).
DIFFERENT_BY_DESIGN = {"audit_events"}


@pytest.mark.parametrize("name", [n for n in EXTRACTS if n not in DIFFERENT_BY_DESIGN])
def test_extract_gives_the_same_rows_on_duckdb_and_postgresql(duckdb_url, postgres_url, all_departments, name):
    frames = []
    for url in (duckdb_url, postgres_url):
        engine = create_engine(url)
        frames.append(run_extract(engine, name, departments=all_departments, **params_for(name)))
        engine.dispose()
    if name == "data_loads":  # the two loads ran at different moments
        frames = [frame.drop("loaded_at") for frame in frames]
    # big fact extracts leave the order to the caller
    frames = [frame.sort(frame.columns, nulls_last=True) for frame in frames]
    assert_frame_equal(frames[0], frames[1])


@pytest.mark.parametrize("name", [n for n in EXTRACTS if {"department_id", "service_id"} & set(load_extract(n).columns)])
def test_extract_shows_only_the_viewers_departments(db, all_departments, name):
    transport_services = set(run_extract(db, "services", departments=["transport"])["service_id"])
    frame = run_extract(db, name, departments=["transport"], **params_for(name))
    if "department_id" in frame.columns:
        assert set(frame["department_id"].drop_nulls().unique()) <= {"transport"}
    if "service_id" in frame.columns:
        assert set(frame["service_id"].drop_nulls().unique()) <= transport_services
        if name not in ("incidents",):  # incidents of an office or the platform have no service
            assert frame["service_id"].null_count() == 0
    everything = run_extract(db, name, departments=all_departments, **params_for(name))
    assert frame.height <= everything.height


@pytest.mark.parametrize("name", EXTRACTS)
def test_a_viewer_with_no_departments_sees_nothing(db, name):
    frame = run_extract(db, name, departments=[], **params_for(name))
    if name == "table_counts":
        assert frame["row_count"].sum() == 0
    elif name == "data_extent":  # an aggregate: one row of nulls
        assert frame.row(0) == (None, None)
    else:
        assert frame.height == 0


def test_contacts_with_unknown_service_are_seen_only_by_a_viewer_of_every_department(db, all_departments):
    everything = run_extract(db, "contacts", departments=all_departments, **WINDOW)
    three = run_extract(db, "contacts", departments=all_departments[:3], **WINDOW)
    assert everything["service_id"].null_count() > 0
    assert three["service_id"].null_count() == 0


def test_cases_window_holds_the_backlog_as_well_as_the_flow(db, all_departments):
    cases = run_extract(db, "cases", departments=all_departments, **WINDOW)
    submitted_inside = cases.filter(pl.col("submitted_at") >= WINDOW["start"])
    open_from_before = cases.filter(pl.col("submitted_at") < WINDOW["start"])
    assert submitted_inside.height > 0 and open_from_before.height > 0
    # nothing that closed before the window, nothing submitted after it
    assert cases.filter(pl.col("closed_at") < WINDOW["start"]).height == 0
    assert cases.filter(pl.col("submitted_at") >= WINDOW["end"]).height == 0


def test_missing_and_unknown_parameters_are_named(db, all_departments):
    with pytest.raises(ExtractError, match=r"missing :end"):
        run_extract(db, "cases", departments=all_departments, start=WINDOW["start"])
    with pytest.raises(ExtractError, match=r"unknown :colour"):
        run_extract(db, "cases", departments=all_departments, colour="red", **WINDOW)
    with pytest.raises(ExtractError, match=r"no extract named 'nope'; known extracts: .*cases"):
        run_extract(db, "nope", departments=all_departments)
    with pytest.raises(ExtractError, match="departments must be a list"):
        run_extract(db, "services", departments="transport")


def test_a_zoned_datetime_is_refused(db, all_departments):

    with pytest.raises(ExtractError, match="has a time zone; pass a naive UTC datetime"):
        run_extract(db, "cases", departments=all_departments, start=datetime(2026, 1, 1, tzinfo=UTC), end=WINDOW["end"])


HEADER_OK = """-- grain: one row per thing
-- params:
--   :departments  who may see
--   :start        from
-- columns:
--   thing_id  Int64
SELECT 1 AS thing_id FROM things WHERE department_id IN :departments AND at >= :start
"""


def test_a_well_formed_header_parses():
    extract = parse_extract("things", HEADER_OK)
    assert extract.params == ("departments", "start")
    assert extract.columns == {"thing_id": DTYPES["Int64"]}
    assert extract.grain == "one row per thing"


def test_header_problems_are_all_reported_at_once():
    text = """-- params:
--   :start  from
-- columns:
--   thing_id  Integer64
SELECT 1 AS thing_id FROM things WHERE at >= :start AND at < :end
"""
    with pytest.raises(ExtractError) as caught:
        parse_extract("bad", text)
    message = str(caught.value)
    assert "sql/bad.sql" in message
    assert "unknown type 'Integer64'" in message
    assert "no 'grain:'" in message
    assert "does not declare :departments" in message
    assert "uses :end but the header does not declare it" in message


def test_an_extract_that_fails_in_the_database_names_itself(tmp_path, all_departments):
    engine = create_engine(f"duckdb:///{tmp_path / 'no_tables.duckdb'}")
    with pytest.raises(DatabaseError, match="extract services failed: .*services"):
        run_extract(engine, "services", departments=all_departments)
    engine.dispose()
