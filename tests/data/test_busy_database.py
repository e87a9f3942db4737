"""The dashboard's PostgreSQL sessions stop a query that runs or waits too long and say
"the database is busy" in one line (issue 15 item 10), on both ways of reading: SQLAlchemy
(psycopg) and the extracts' ADBC. The lock is held by another connection of a database
made for the test."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from data.build import build
from data.database import DatabaseError, connect, create_engine
from data.extracts import run_extract
from tests.conftest import SMALL


@pytest.fixture(scope="module")
def small_postgres(make_postgres_database) -> str:
    url = make_postgres_database()
    build(url, SMALL, quiet=True)
    return url


def test_the_dashboards_sessions_have_a_30_s_statement_and_5_s_lock_timeout_by_default(small_postgres):
    engine = create_engine(small_postgres, timeouts=True)
    try:
        with connect(engine) as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "5s"
    finally:
        engine.dispose()
    batch = create_engine(small_postgres)  # imports, generation, batch commands: no limit
    try:
        with connect(batch) as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    finally:
        batch.dispose()


def test_a_table_locked_by_another_session_gives_busy_not_a_hang(small_postgres, monkeypatch):
    monkeypatch.setenv("KPI_LOCK_TIMEOUT_SECONDS", "1")
    holder = sa.create_engine(small_postgres)
    engine = create_engine(small_postgres, timeouts=True)
    try:
        with holder.connect() as locking:
            locking.exec_driver_sql("BEGIN")
            locking.exec_driver_sql("LOCK TABLE departments IN ACCESS EXCLUSIVE MODE")
            for read in (lambda: run_extract(engine, "departments", departments=["x"]),  # ADBC
                         lambda: _count(engine)):  # SQLAlchemy
                started = time.monotonic()
                with pytest.raises(DatabaseError) as error:
                    read()
                assert time.monotonic() - started < 4
                assert str(error.value).startswith("the database is busy: a query on PostgreSQL at ")
                assert str(error.value).endswith(
                    " waited more than 1 s for data another session has locked and was stopped "
                    "(KPI_LOCK_TIMEOUT_SECONDS); try again in a moment")
            locking.exec_driver_sql("ROLLBACK")
        assert _count(engine) > 0  # free again: it reads
    finally:
        engine.dispose()
        holder.dispose()


def test_a_query_longer_than_the_statement_timeout_gives_busy(small_postgres, monkeypatch):
    monkeypatch.setenv("KPI_STATEMENT_TIMEOUT_SECONDS", "0.5")
    engine = create_engine(small_postgres, timeouts=True)
    try:
        with pytest.raises(DatabaseError) as error, connect(engine) as conn:
            conn.exec_driver_sql("SELECT pg_sleep(3)")
        assert str(error.value).endswith(" ran longer than 0.5 s and was stopped (KPI_STATEMENT_TIMEOUT_SECONDS); "
                                         "try again in a moment")
    finally:
        engine.dispose()
    monkeypatch.setenv("KPI_STATEMENT_TIMEOUT_SECONDS", "soon")
    with pytest.raises(DatabaseError, match="KPI_STATEMENT_TIMEOUT_SECONDS 'soon' is not a number of seconds"):
        create_engine(small_postgres, timeouts=True)


def _count(engine) -> int:
    with connect(engine) as conn:
        return int(conn.exec_driver_sql("SELECT COUNT(*) FROM departments").scalar_one())
