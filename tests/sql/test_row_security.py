"""Row-level security on PostgreSQL (sql/security/postgresql_row_security.sql, python -m
data secure): connected as the dashboard's role, a query that forgets its department filter
still returns only the departments set in kpi.departments; without the setting, nothing;
writes of another department's rows are refused; run_extract sets the setting on both of
its PostgreSQL paths. Each test module gets a database and a role of its own, dropped
afterwards (the role's privileges inside that database only, then the role)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from sqlalchemy.engine import Engine

import data.extracts
from anomalies import AnomalyError
from anomalies.store import acknowledge
from data.__main__ import main
from data.access import Viewer
from data.build import build, ensure_database
from data.database import DatabaseError, connect, create_engine, schema_tables
from data.extracts import ExtractError, run_extract
from data.generate import Scenario
from data.notes import NoteError, add_note, notes
from data.rosters import editor_frame, load_shifts, save_week
from data.row_security import EVERY_DEPARTMENT, secure, set_viewer, setting_value, viewer_scope
from notify import NotifyError
from notify.subscriptions import Subscription, add_subscription, set_subscription_active

pytestmark = pytest.mark.postgres

TINY = Scenario(seed=7, scale=0.02, end=date(2026, 11, 22))
DAY = date(2026, 11, 16)
AT = dt.datetime(2026, 11, 23, 9, 0)


@dataclass(frozen=True)
class Secured:
    url: str  # the superuser's
    role: str
    role_url: str
    owner: Engine
    viewer: Engine  # connected as the role
    departments: list[str]


def _insert(conn, table: str, rows: list[dict]) -> None:
    for row in rows:
        columns = ", ".join(row)
        conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in row)})"), row)


def _flag(key: str, scope_kind: str, scope_id: str, department: str | None) -> dict:
    return dict(run_id=1, flag_key=key, grain="day", scope_kind=scope_kind, scope_id=scope_id, department_id=department,
                kpi="volume", detector="robust_z", direction="up", first_day=DAY, detected_on=DAY, last_day=DAY,
                week="2026-W47", value=10.0, expected=5.0, lower_bound=3.0, upper_bound=7.0, score=7.0, kpis="volume",
                explanation="more than expected")


REVENUE_FLAG = "day|service|self_assessment|volume|up|2026-11-16"
CIVIL_FLAG = "day|service|passport|volume|up|2026-11-16"
TOTAL_FLAG = "day|total|all|volume|up|2026-11-16"


def _fill_the_other_tables(owner: Engine) -> None:
    """A row or more in every table the generator leaves empty, of a department, of a
    service only, and of none, so that every table has rows to hide."""
    series = [("service:self_assessment", "service", "self_assessment", "revenue"),
              ("service:passport", "service", "passport", "civil"), ("total", "total", None, None)]
    with connect(owner, begin=True) as conn:
        _insert(conn, "forecast_runs", [dict(run_id=1, started_at=AT, finished_at=AT, data_end=date(2026, 11, 22), horizon=28,
                                             cutoffs="2026-10-01", series_count=3, models="seasonal_naive", code_version="test", seconds=1.0)])
        _insert(conn, "forecast_series", [dict(run_id=1, series_id=s, kind=k, member=m, department_id=d, label=s, first_day=date(2023, 11, 23),
                                               last_day=date(2026, 11, 22), open_days=900, closed_days=10, gap_days=0,
                                               recommended_model="seasonal_naive", mase=0.9, baseline_mase=0.9, seconds=0.1) for s, k, m, d in series])
        _insert(conn, "forecasts", [dict(run_id=1, series_id=s, ds=date(2026, 11, 23), model="seasonal_naive", recommended=True, closed=False,
                                         yhat=10.0, lo80=8.0, hi80=12.0, lo95=7.0, hi95=13.0) for s, *_ in series])
        _insert(conn, "forecast_backtests", [dict(run_id=1, series_id=s, model="seasonal_naive", step=0, n=10, mase=0.9, smape=10.0,
                                                  coverage_80=80.0, coverage_95=95.0, width_95=5.0, recommended=True) for s, *_ in series])
        _insert(conn, "anomaly_runs", [dict(run_id=1, started_at=AT, finished_at=AT, data_first=date(2023, 11, 23), data_end=date(2026, 11, 22),
                                            series_count=3, flag_count=3, settings="z_alone=6.0", code_version="test", seconds=1.0)])
        _insert(conn, "anomaly_flags", [_flag(REVENUE_FLAG, "service", "self_assessment", "revenue"),
                                        _flag(CIVIL_FLAG, "service", "passport", "civil"), _flag(TOTAL_FLAG, "total", "all", None)])
        _insert(conn, "anomaly_scores", [dict(run_id=1, grain="day", scope_kind=k, scope_id=m or "all", department_id=d, kpi="volume",
                                              period_start=DAY, value=1.0) for _s, k, m, d in series])
        _insert(conn, "anomaly_acks", [dict(flag_key=key, status="acknowledged", acked_by="Ada", acked_at=AT)
                                       for key in (REVENUE_FLAG, CIVIL_FLAG, TOTAL_FLAG)])
        scopes = [dict(department_id="revenue", service_id=None), dict(department_id=None, service_id="passport"),
                  dict(department_id=None, service_id=None)]
        _insert(conn, "subscriptions", [dict(subscriber="Ada", rule="anomaly", channel="email", address="ada@example.gov", office_id=None,
                                             scope_channel=None, kpis=None, active=True, created_at=AT, created_by="Ada", **scope) for scope in scopes])
        conn.execute(sa.text(
            "INSERT INTO notifications (subscription_id, event_key, rule, status, attempts, first_attempt_at, last_attempt_at, sent_at, subject) "
            "SELECT subscription_id, 'event', 'anomaly', 'sent', 1, :at, :at, :at, 'A flag' FROM subscriptions"), {"at": AT})
        _insert(conn, "imports", [dict(load_id=100, source="src", target_table="cases", file_name="f.csv", file_checksum="0" * 64,
                                       mapping="m", mapping_checksum="0" * 64, imported_at=AT, rows_read=2, rows_inserted=1, rows_updated=0,
                                       rows_unchanged=0, rows_excluded=0, rows_quarantined=1, reconciliation="read 2")])
        _insert(conn, "import_rule_counts", [dict(load_id=100, rule="bad_date", action="quarantined", row_count=1)])
        _insert(conn, "import_rejects", [dict(load_id=100, file_name="f.csv", line=3, rule="bad_date", message="not a date", raw_row="x,y")])
        _insert(conn, "import_keys", [dict(source="src", table_name="cases", source_key="k1", row_id=1, load_id=100)])
        _insert(conn, "releases", [dict(release_id=1, version="2026-10-0", published_at=AT, grain="month", first_day=date(2025, 11, 1),
                                        last_day=date(2026, 10, 31), data_as_of=date(2026, 11, 22), folder="/tmp/r", files=4, digest="0" * 64,
                                        disclosure_rule="rule", licence="OGL-UK-3.0", publisher="p", services="passport", command="c")])
        _insert(conn, "audit_events", [dict(happened_at=AT, subject="s1", email="ada@example.gov", action="page", page="overview",
                                            detail="{}", row_count=None)])
        _insert(conn, "series", [dict(series_id="ae_four_hour", label="A&E", unit="%", direction="higher", kind="ratio")])
        _insert(conn, "observations", [dict(observation_id=i, source="src", series="ae_four_hour", grain="month", period_start=date(2026, 10, 1),
                                            period_end=date(2026, 10, 31), numerator=9.0, denominator=10.0, **scope)
                                       for i, scope in enumerate(scopes, start=1)])
        _insert(conn, "kpi_notes", [dict(kpi="volume", noted_on=DAY, note="Strike", written_by="Ada", written_at=AT, **scope)
                                    for scope in [dict(department_id="revenue", service_id=None),
                                                  dict(department_id="civil", service_id="passport"),
                                                  dict(department_id=None, service_id=None)]])
        _insert(conn, "roster_shifts", [dict(shift_id=1, source="src", person_or_team="agent-001", office_id="sheffield_cc",
                                             shift_start=dt.datetime(2026, 11, 23, 8), shift_end=dt.datetime(2026, 11, 23, 16),
                                             break_minutes=30)])


@pytest.fixture(scope="module")
def secured(make_postgres_database, postgres_server) -> Iterator[Secured]:
    url = make_postgres_database()
    build(url, TINY, quiet=True)
    owner = create_engine(url)
    _fill_the_other_tables(owner)
    role = f"kpi_test_rls_{os.getpid()}_{secrets.token_hex(4)}"
    secure(owner, role)
    role_url = sa.engine.make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
    viewer = create_engine(role_url)
    with connect(owner) as conn:
        departments = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments ORDER BY 1")]
    try:
        yield Secured(url, role, role_url, owner, viewer, departments)
    finally:
        viewer.dispose()
        database = sa.engine.make_url(url).database
        with owner.connect() as conn:  # this test's own database and role only
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role AND datname = :db"),
                         {"role": role, "db": database})
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.commit()
        owner.dispose()
        with postgres_server.connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')


def _count(engine: Engine, sql: str, departments: str | None = None, params: dict | None = None) -> int:
    with connect(engine) as conn:
        if departments is not None:
            conn.execute(sa.text("SELECT set_config('kpi.departments', :d, true)"), {"d": departments})
        return conn.execute(sa.text(sql), params or {}).scalar_one()


def _counts(engine: Engine, departments: str | None = None) -> dict[str, int]:
    return {table: _count(engine, f"SELECT COUNT(*) FROM {table}", departments) for table in schema_tables()}


def test_every_table_has_row_security_and_its_policy(secured):
    with connect(secured.owner) as conn:
        protected = {row[0] for row in conn.exec_driver_sql(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND relrowsecurity")}
        policies = sorted(tuple(row) for row in conn.exec_driver_sql(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema()"))
        role = conn.execute(sa.text("SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
                            {"r": secured.role}).one()
    assert protected == set(schema_tables())
    assert policies == sorted((table, "kpi_scope") for table in schema_tables())
    assert tuple(role) == (True, False, False, False, False)


def test_a_query_that_forgets_the_department_filter_returns_only_that_departments_rows(secured):
    for departments in (["revenue"], ["civil", "transport"]):
        setting = ",".join(departments)
        params = {"d": departments}
        in_scope = "(SELECT service_id FROM services WHERE department_id IN :d)"

        def plain(sql: str, params: dict = params) -> int:  # as the owner, filtered by hand
            with connect(secured.owner) as conn:
                statement = sa.text(sql).bindparams(sa.bindparam("d", expanding=True)) if ":d" in sql else sa.text(sql)
                return conn.execute(statement, params if ":d" in sql else {}).scalar_one()

        assert _count(secured.viewer, "SELECT COUNT(*) FROM cases", setting) == plain(f"SELECT COUNT(*) FROM cases WHERE service_id IN {in_scope}") > 0
        for table in ("journeys", "feedback", "contacts", "costs"):
            assert _count(secured.viewer, f"SELECT COUNT(*) FROM {table}", setting) == plain(
                f"SELECT COUNT(*) FROM {table} WHERE service_id IN {in_scope}"), table
        assert _count(secured.viewer, "SELECT COUNT(*) FROM services", setting) == plain("SELECT COUNT(*) FROM services WHERE department_id IN :d")
        assert _count(secured.viewer, "SELECT COUNT(*) FROM departments", setting) == len(departments)
        assert _count(secured.viewer, "SELECT COUNT(*) FROM offices", setting) == plain("SELECT COUNT(*) FROM offices") > 0
        assert _count(secured.viewer, "SELECT COUNT(*) FROM incidents", setting) == plain(
            "SELECT COUNT(*) FROM incidents WHERE department_id IS NULL OR department_id IN :d")


def test_without_a_setting_every_table_returns_no_rows(secured):
    everything = _counts(secured.owner)
    assert all(everything.values()), {t: n for t, n in everything.items() if not n}  # every table has rows to hide
    assert set(_counts(secured.viewer).values()) == {0}
    assert set(_counts(secured.viewer, "").values()) == {0}
    assert set(_counts(secured.viewer, "no_such_department").values()) == {0}


def test_a_viewer_of_every_department_sees_every_row(secured):
    everything = _counts(secured.owner)
    assert _counts(secured.viewer, EVERY_DEPARTMENT) == everything
    assert _counts(secured.viewer, ",".join(secured.departments)) == everything


def test_rows_of_no_department_are_only_a_viewer_of_every_departments(secured):
    some = ",".join(secured.departments[:-1])
    for table, none in [("contacts", "service_id IS NULL"), ("forecast_series", "department_id IS NULL"),
                        ("anomaly_flags", "department_id IS NULL"), ("observations", "department_id IS NULL AND service_id IS NULL"),
                        ("subscriptions", "department_id IS NULL AND service_id IS NULL"),
                        ("kpi_notes", "department_id IS NULL"), ("roster_shifts", "TRUE")]:
        assert _count(secured.owner, f"SELECT COUNT(*) FROM {table} WHERE {none}") > 0, table
        assert _count(secured.viewer, f"SELECT COUNT(*) FROM {table} WHERE {none}", some) == 0, table
        assert _count(secured.viewer, f"SELECT COUNT(*) FROM {table} WHERE {none}", EVERY_DEPARTMENT) > 0, table
    for table in ("import_rejects", "import_keys", "releases"):  # an administrator's
        assert _count(secured.viewer, f"SELECT COUNT(*) FROM {table}", some) == 0, table
    # a subscription, an observation of a service without a department of its own is its service's department's
    for table in ("subscriptions", "observations", "forecasts", "anomaly_acks", "notifications", "kpi_notes"):
        assert _count(secured.viewer, f"SELECT COUNT(*) FROM {table}", "civil") == 1, table


def test_writes_of_another_department_are_refused(secured):
    with connect(secured.viewer) as conn:
        set_viewer(conn, ["revenue"])
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), conn.begin_nested():
            conn.execute(sa.text("INSERT INTO subscriptions (subscriber, rule, channel, address, department_id, active, created_at, created_by) "
                                 "VALUES ('Eve', 'anomaly', 'email', 'eve@example.gov', 'civil', TRUE, :at, 'Eve')"), {"at": AT})
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), conn.begin_nested():
            conn.execute(sa.text("INSERT INTO anomaly_acks (flag_key, status, acked_by, acked_at) VALUES (:k, 'known', 'Eve', :at)"),
                         {"k": CIVIL_FLAG, "at": AT})
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), conn.begin_nested():  # only active may change
            conn.execute(sa.text("UPDATE subscriptions SET department_id = 'civil' WHERE department_id = 'revenue'"))
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), conn.begin_nested():
            conn.execute(sa.text("DELETE FROM subscriptions"))
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), conn.begin_nested():
            conn.execute(sa.text("UPDATE cases SET status = status"))
        # another department's subscription is not there to update
        assert conn.execute(sa.text("UPDATE subscriptions SET active = FALSE WHERE service_id = 'passport'")).rowcount == 0
        # its own are
        conn.execute(sa.text("INSERT INTO anomaly_acks (flag_key, status, acked_by, acked_at) VALUES (:k, 'known', 'Ada', :at)"),
                     {"k": REVENUE_FLAG, "at": AT})
        assert conn.execute(sa.text("UPDATE subscriptions SET active = TRUE WHERE department_id = 'revenue'")).rowcount == 1
        conn.rollback()


def test_the_audit_is_added_to_by_anyone_read_by_a_viewer_of_every_department_and_changed_by_nobody(secured):
    from data.audit import events, record

    record(secured.viewer, Viewer("eve@example.gov", {"revenue"}, {"head"}, subject="eve"), "page", page="overview", departments=["revenue"])
    everyone = secured.departments
    since, until = dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1)
    assert events(secured.viewer, ["revenue"], since, until).height == 0  # not even her own
    assert "eve@example.gov" in events(secured.viewer, everyone, since, until)["email"].to_list()
    assert _count(secured.viewer, "SELECT COUNT(*) FROM audit_events", "revenue") == 0  # a query without the extract's filter
    with connect(secured.viewer) as conn:
        set_viewer(conn, EVERY_DEPARTMENT)
        for statement in ("UPDATE audit_events SET subject = 'nobody'", "DELETE FROM audit_events", "TRUNCATE audit_events"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), conn.begin_nested():
                conn.execute(sa.text(statement))
        conn.rollback()


def test_the_dashboards_writes_go_through_for_its_own_departments_only(secured):
    with pytest.raises(NotifyError, match="not one you may see"):
        add_subscription(secured.viewer, Subscription("Eve", "anomaly", "email", "eve@example.gov", department_id="civil"), departments=["revenue"])
    with pytest.raises(NotifyError, match="not one you may see"):
        add_subscription(secured.viewer, Subscription("Eve", "anomaly", "email", "eve@example.gov"), departments=["revenue"])
    with pytest.raises(AnomalyError, match="no stored flag"):
        acknowledge(secured.viewer, CIVIL_FLAG, "known", "Eve", departments=["revenue"])
    number = add_subscription(secured.viewer, Subscription("Ada", "weekly_digest", "email", "ada@example.gov", service_id="tax_refund"),
                              departments=["revenue"])
    acknowledge(secured.viewer, REVENUE_FLAG, "known", "Ada", "Deadline", departments=["revenue"])
    with pytest.raises(NotifyError, match=f"no subscription {number}"):
        set_subscription_active(secured.viewer, number, False, departments=["civil"])
    set_subscription_active(secured.viewer, number, False, departments=["revenue"])
    with connect(secured.owner, begin=True) as conn:
        assert conn.execute(sa.text("SELECT active FROM subscriptions WHERE subscription_id = :n"), {"n": number}).scalar_one() is False
        assert conn.execute(sa.text("SELECT COUNT(*) FROM anomaly_acks WHERE note = 'Deadline'")).scalar_one() == 1
        conn.execute(sa.text("DELETE FROM subscriptions WHERE subscription_id = :n"), {"n": number})
        conn.execute(sa.text("DELETE FROM anomaly_acks WHERE note = 'Deadline'"))


def test_notes_on_the_record_are_written_and_read_within_the_viewers_departments(secured):
    analyst = Viewer("ada@example.gov", {"revenue"}, {"analyst"}, subject="ada")
    week = dict(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    with pytest.raises(NoteError, match="not yours"):  # the role's policy finds no such service for her
        add_note(secured.viewer, analyst, kpi="volume", service_id="passport", noted_on=DAY, note="Strike", departments=["revenue"])
    with pytest.raises(NoteError, match="not yours"):
        add_note(secured.viewer, analyst, kpi="volume", department_id="civil", noted_on=DAY, note="Strike", departments=["revenue"])
    with connect(secured.viewer) as conn:  # nor can she write one by hand
        set_viewer(conn, ["revenue"])
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), conn.begin_nested():
            conn.execute(sa.text("INSERT INTO kpi_notes (kpi, department_id, noted_on, note, written_by, written_at) "
                                 "VALUES ('volume', 'civil', :d, 'x', 'Eve', :at)"), {"d": DAY, "at": AT})
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), conn.begin_nested():  # notes are never changed
            conn.execute(sa.text("UPDATE kpi_notes SET note = 'y'"))
        conn.rollback()
    number = add_note(secured.viewer, analyst, kpi="volume", service_id="tax_refund", noted_on=DAY, note="New system",
                      departments=["revenue"])
    seen = notes(secured.viewer, ["revenue"], kpi="volume", department_id="revenue", service_id="tax_refund", **week)
    assert seen["note_id"].to_list() == [number] and seen["note"].to_list() == ["New system"]
    assert notes(secured.viewer, ["civil"], kpi="volume", department_id="revenue", service_id="tax_refund", **week).height == 0
    assert notes(secured.viewer, ["revenue"], kpi="volume", **week).height == 0  # the whole-government note is not hers
    assert notes(secured.viewer, secured.departments, kpi="volume", **week)["note"].to_list() == ["Strike"]
    with connect(secured.owner, begin=True) as conn:
        conn.execute(sa.text("DELETE FROM kpi_notes WHERE note_id = :n"), {"n": number})


def test_a_roster_is_written_by_a_planner_of_every_department_only(secured):
    planner = Viewer("ada@example.gov", {"revenue"}, {"planner"}, subject="ada")
    week = editor_frame(load_shifts(secured.owner, secured.departments, "sheffield_cc", date(2026, 11, 23), date(2026, 11, 29),
                                    "Europe/London"), "Europe/London")
    assert week["person_or_team"].to_list() == ["agent-001"]
    moved = week.with_columns(pl.col("shift_end") - dt.timedelta(hours=1))
    # a planner of only some departments: the role's policy finds no shift of hers to change, and her insert is refused
    assert load_shifts(secured.viewer, ["revenue"], "sheffield_cc", date(2026, 11, 23), date(2026, 11, 29), "Europe/London").height == 0
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        save_week(secured.viewer, planner, office_id="sheffield_cc", timezone="Europe/London", first_day=date(2026, 11, 23),
                  edited=moved, departments=["revenue"])
    assert _count(secured.owner, "SELECT COUNT(*) FROM roster_shifts WHERE shift_end = :e", params={"e": dt.datetime(2026, 11, 23, 16)}) == 1
    everyone = Viewer("bo@example.gov", set(secured.departments), {"planner"}, subject="bo")
    assert save_week(secured.viewer, everyone, office_id="sheffield_cc", timezone="Europe/London", first_day=date(2026, 11, 23),
                     edited=moved, departments=secured.departments) == (0, 1, 0)
    assert _count(secured.owner, "SELECT COUNT(*) FROM roster_shifts WHERE shift_end = :e", params={"e": dt.datetime(2026, 11, 23, 15)}) == 1
    with connect(secured.owner, begin=True) as conn:
        conn.execute(sa.text("UPDATE roster_shifts SET shift_end = :e"), {"e": dt.datetime(2026, 11, 23, 16)})


EXTRACTS = {
    "cases": dict(start=dt.datetime(2026, 10, 1), end=dt.datetime(2026, 11, 1)),
    "contacts": dict(start=dt.datetime(2026, 10, 1), end=dt.datetime(2026, 11, 1)),
    "services": {}, "offices": {}, "departments": {}, "table_counts": {}, "subscriptions": {}, "notifications": {},
    "anomaly_flags": {}, "anomaly_acks": {}, "forecast_series": {}, "forecasts": {}, "data_loads": {},
    "observations": dict(first_day=date(2026, 1, 1), last_day=date(2026, 12, 31)),
    "roster_shifts": dict(office_id="sheffield_cc", start=dt.datetime(2026, 11, 23), end=dt.datetime(2026, 11, 30)),
}


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.parametrize("departments", [["revenue"], ["civil", "transport"], None], ids=["one", "two", "all"])
def test_run_extract_as_the_role_returns_what_the_owner_gets(secured, departments):
    departments = departments or secured.departments
    for name, params in EXTRACTS.items():
        expected = _sorted(run_extract(secured.owner, name, departments=departments, **params))
        assert_frame_equal(_sorted(run_extract(secured.viewer, name, departments=departments, **params)), expected)  # ADBC
        with connect(secured.viewer) as conn:  # the SQLAlchemy connection's path
            assert_frame_equal(_sorted(run_extract(conn, name, departments=departments, **params)), expected)


def test_an_extract_that_forgets_its_filter_still_returns_only_the_viewers_rows(secured, tmp_path, monkeypatch):
    (tmp_path / "forgetful_cases.sql").write_text(
        "-- grain: one row: every case, the department filter forgotten\n"
        "-- params:\n--   :departments  department ids the viewer may see (list)\n"
        "-- columns:\n--   cases  Int64\n"
        "SELECT COUNT(*) AS cases FROM cases WHERE 'forgotten' NOT IN :departments\n"
    )
    monkeypatch.setattr(data.extracts, "SQL_DIR", tmp_path)
    data.extracts.load_extract.cache_clear()
    try:
        everything = run_extract(secured.owner, "forgetful_cases", departments=["revenue"])["cases"][0]
        revenue = _count(secured.owner, "SELECT COUNT(*) FROM cases WHERE service_id IN (SELECT service_id FROM services WHERE department_id = 'revenue')")
        assert 0 < revenue < everything
        assert run_extract(secured.viewer, "forgetful_cases", departments=["revenue"])["cases"][0] == revenue
        with connect(secured.viewer) as conn:
            assert run_extract(conn, "forgetful_cases", departments=["revenue"])["cases"][0] == revenue
            # the caller's transaction gets its setting back afterwards (none here)
            assert conn.execute(sa.text("SELECT COUNT(*) FROM cases")).scalar_one() == 0
        assert run_extract(secured.viewer, "forgetful_cases", departments=[])["cases"][0] == 0
    finally:
        data.extracts.load_extract.cache_clear()


def test_the_setting_is_set_for_one_transaction_and_put_back(secured):
    with connect(secured.viewer) as conn:
        set_viewer(conn, ["revenue"])
        with viewer_scope(conn, ["civil"]):
            assert conn.execute(sa.text("SELECT current_setting('kpi.departments')")).scalar_one() == "civil"
        assert conn.execute(sa.text("SELECT current_setting('kpi.departments')")).scalar_one() == "revenue"
        conn.rollback()
        assert conn.execute(sa.text("SELECT current_setting('kpi.departments', true)")).scalar_one() in (None, "")
    base = create_engine(secured.role_url)
    autocommit = base.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with connect(autocommit) as conn:
            with viewer_scope(conn, ["civil"]):
                assert conn.execute(sa.text("SELECT COUNT(*) FROM departments")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT COUNT(*) FROM departments")).scalar_one() == 0
    finally:
        base.dispose()


def test_department_ids_the_setting_cannot_carry_are_refused(secured):
    assert setting_value(["revenue", "civil"]) == "revenue,civil"
    assert setting_value(EVERY_DEPARTMENT) == "*"
    assert setting_value([]) == ""
    for bad in (["a,b"], [" revenue"], ["*"], [""]):
        with pytest.raises(ValueError, match="cannot be set in kpi.departments"):
            setting_value(bad)
    with pytest.raises(ExtractError, match="extract services: department id"):
        run_extract(secured.viewer, "services", departments=["revenue,civil"])
    with connect(secured.viewer) as conn, pytest.raises(ExtractError, match="extract services: department id"):
        run_extract(conn, "services", departments=["revenue,civil"])


def test_the_dashboards_role_opens_the_database_without_changing_its_schema(secured):
    engine = ensure_database(secured.role_url, quiet=True, timeouts=True)  # as dashboard/state.py does
    try:
        assert run_extract(engine, "departments", departments=["civil"])["department_id"].to_list() == ["civil"]
    finally:
        engine.dispose()


def test_applying_again_changes_nothing(secured, capsys):
    def state() -> tuple:
        with connect(secured.owner) as conn:
            policies = sorted(tuple(r) for r in conn.exec_driver_sql(
                "SELECT tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies WHERE schemaname = current_schema()"))
            grants = sorted(tuple(r) for r in conn.execute(sa.text(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = :r"), {"r": secured.role}))
        return policies, grants

    before = state()
    assert main(["secure", "--database", secured.url, "--role", secured.role]) == 0
    assert state() == before
    out = capsys.readouterr().out
    assert f"role {secured.role}: already there" in out
    assert "row-level security enabled on 32 tables, each with its policy kpi_scope" in out
    assert ("DELETE on roster_shifts; INSERT on anomaly_acks; INSERT on audit_events; INSERT on kpi_notes; INSERT on roster_shifts; "
            "INSERT on subscriptions; UPDATE (active) on subscriptions; UPDATE on roster_shifts") in out
    assert _count(secured.viewer, "SELECT COUNT(*) FROM departments", "revenue") == 1


def test_the_command_refuses_what_it_must(secured, capsys, tmp_path):
    assert main(["secure", "--database", f"duckdb:///{tmp_path / 'kpi.duckdb'}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the app layer" in err and "DuckDB" in err
    assert not (tmp_path / "kpi.duckdb").exists()
    assert main(["secure", "--database", secured.url, "--role", 'x"; DROP TABLE cases; --']) == 2
    assert "is not a role name for the dashboard" in capsys.readouterr().err
    assert main(["secure", "--database", secured.url, "--role", "postgres"]) == 2  # the superuser applying it
    assert "needs a role of its own" in capsys.readouterr().err
    with pytest.raises(DatabaseError, match="the app layer"):
        secure(create_engine(f"duckdb:///{tmp_path / 'kpi.duckdb'}"), "kpi_dashboard")
    with connect(secured.owner) as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM cases")).scalar_one() > 0


def test_a_superuser_role_is_refused_not_demoted(secured, postgres_server, capsys):
    other = f"kpi_test_rls_su_{os.getpid()}_{secrets.token_hex(4)}"
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{other}" SUPERUSER NOLOGIN')
    try:
        assert main(["secure", "--database", secured.url, "--role", other]) == 2
        assert "superuser or has BYPASSRLS" in capsys.readouterr().err
        with postgres_server.connect() as conn:
            assert conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": other}).scalar_one() is True
    finally:
        with postgres_server.connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{other}"')


def test_psycopg_reports_a_refused_row_as_insufficient_privilege(secured):
    """The SQLSTATE notify.subscriptions turns into its message."""
    with psycopg.connect(sa.engine.make_url(secured.role_url).set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        conn.execute("SELECT set_config('kpi.departments', 'revenue', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO subscriptions (subscriber, rule, channel, address, active, created_at, created_by) "
                         "VALUES ('Eve', 'anomaly', 'email', 'e@example.gov', TRUE, now(), 'Eve')")


def test_every_page_of_the_dashboard_works_connected_as_the_role(secured, monkeypatch):
    """The dashboard as it runs in production: KPI_DATABASE_URL names the role. Every page
    renders without an exception or a fault, with the figures of every department (today
    every viewer sees every department)."""
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP, app_on, page_file

    pages = ("pages/overview.py", "pages/drilldown.py", "pages/queues.py", "pages/satisfaction.py",
             "pages/catalogue.py", "pages/tables.py", "pages/anomalies.py", "pages/planner.py")
    with app_on(secured.role_url, monkeypatch):
        at = AppTest.from_file(APP, default_timeout=120).run()
        for page in pages:
            at.switch_page(page_file(page)).run()
            assert not at.exception, (page, at.exception)
            assert not [e.value for e in at.error if "database cannot be read" in e.value], page
            assert any(caption.value.startswith("Data as of ") for caption in at.caption), page  # not "No data yet"


def test_a_role_that_owns_a_table_is_refused(secured, postgres_server, capsys):
    owner_role = f"kpi_test_rls_own_{os.getpid()}_{secrets.token_hex(4)}"
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{owner_role}" NOLOGIN')
    try:
        with connect(secured.owner, begin=True) as conn:  # this test's own database
            conn.exec_driver_sql(f'ALTER TABLE releases OWNER TO "{owner_role}"')
        assert main(["secure", "--database", secured.url, "--role", owner_role]) == 2
        assert "owns the tables or is a member of their owner" in capsys.readouterr().err
    finally:
        with connect(secured.owner, begin=True) as conn:
            conn.exec_driver_sql(f'REASSIGN OWNED BY "{owner_role}" TO CURRENT_USER')
            conn.exec_driver_sql(f'DROP OWNED BY "{owner_role}"')
        with postgres_server.connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{owner_role}"')
