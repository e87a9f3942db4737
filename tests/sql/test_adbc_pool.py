"""The process's pool of ADBC connections on PostgreSQL: extracts take turns on a few
connections instead of opening one each, and a connection handed on carries no viewer's
scope, no open transaction, and nothing the server has dropped."""

from __future__ import annotations

import contextlib

import pytest

from data.adbc_pool import POOL, AdbcPool, pool_size
from data.database import create_engine, libpq_uri
from data.extracts import run_extract


@pytest.fixture
def engine(postgres_url):
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


def sessions(engine) -> int:
    """Sessions ever established to the engine's database (PostgreSQL 14+)."""
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").scalar_one()


def test_ten_extracts_open_at_most_one_new_connection(engine, all_departments):
    run_extract(engine, "services", departments=all_departments)  # the pool holds one now
    before_pool, before_server = POOL.opened, sessions(engine)
    for name in ("services", "offices", "service_codes", "office_codes", "departments") * 2:
        run_extract(engine, name, departments=all_departments)
    assert POOL.opened == before_pool
    assert sessions(engine) - before_server <= 1  # the one that counted sessions (SQLAlchemy's own pool)


def test_a_connection_given_back_has_no_scope_and_no_open_transaction(engine):
    revenue = run_extract(engine, "services", departments=["revenue"])
    assert set(revenue["department_id"]) == {"revenue"}
    uri = libpq_uri(engine)
    assert POOL.idle(uri) >= 1
    with POOL.borrow(uri) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT current_setting('kpi.departments', true)")
        assert cursor.fetchall()[0][0] in ("", None)
    with engine.connect() as conn:
        waiting = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%%'"
        ).scalar_one()
    assert waiting == 0


def test_a_pooled_connection_the_server_dropped_is_replaced(engine, all_departments):
    run_extract(engine, "services", departments=all_departments)
    with engine.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'kpi-dashboard'"
        )
        conn.commit()
    services = run_extract(engine, "services", departments=all_departments)
    assert services.height > 0


def test_a_failed_extract_does_not_give_its_connection_back(engine, all_departments):
    uri = libpq_uri(engine)
    POOL.close_all()
    with pytest.raises(Exception, match="no_such_table"), POOL.borrow(uri) as conn, conn.cursor() as cursor:  # noqa: PT011
        cursor.execute("SELECT * FROM no_such_table")
    assert POOL.idle(uri) == 0
    run_extract(engine, "services", departments=all_departments)
    assert POOL.idle(uri) == 1


def test_idle_connections_are_capped_over_every_database(monkeypatch):
    closed = []

    class Fake:
        def __init__(self, uri):
            self.uri = uri

        def cursor(self):
            return contextlib.nullcontext(FakeCursor())

        def rollback(self):
            pass

        def commit(self):
            pass

        def close(self):
            closed.append(self.uri)

    class FakeCursor:
        def execute(self, *args):
            pass

        def fetchall(self):
            return [(1,)]

    monkeypatch.setenv("KPI_DB_POOL_SIZE", "2")
    pool = AdbcPool(connect=Fake)
    for uri in ("a", "b", "c"):
        with pool.borrow(uri):
            pass
    assert (pool.idle("a"), pool.idle("b"), pool.idle("c")) == (0, 1, 1)
    assert closed == ["a"]  # the least recently used went
    with pool.borrow("b"):
        assert pool.idle("b") == 0
    assert pool.opened == 3


def test_the_pool_size_setting_is_checked(monkeypatch):
    monkeypatch.setenv("KPI_DB_POOL_SIZE", "lots")
    with pytest.raises(ValueError, match="KPI_DB_POOL_SIZE='lots' is not a whole number"):
        pool_size()
    monkeypatch.setenv("KPI_DB_POOL_SIZE", "0")
    assert pool_size() == 0
