"""DuckDB connections are pooled while a page works through its extracts and closed when
the pool has been idle for the linger, so that the file's lock goes to other processes
(an import, the forecast run) between pages."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool, QueuePool

from data.build import build
from data.database import DatabaseError, create_engine, duckdb_linger_seconds
from data.extracts import run_extract
from tests.conftest import SMALL

OPEN_IN_ANOTHER_PROCESS = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("linger") / "small.duckdb"
    build(f"duckdb:///{path}", SMALL, quiet=True)
    return path


def opened(engine) -> list[int]:
    count = [0]
    sa.event.listen(engine, "connect", lambda *_: count.__setitem__(0, count[0] + 1))
    return count


def until(condition, seconds: float = 20.0) -> bool:
    """Wait for a condition the linger thread brings about (not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_burst_of_extracts_shares_one_connection_and_the_lock_is_released_after_the_linger(small_file, all_departments, monkeypatch):
    monkeypatch.setenv("KPI_DUCKDB_LINGER_SECONDS", "0.3")
    engine = create_engine(f"duckdb:///{small_file}", linger=True)
    assert isinstance(engine.pool, QueuePool)
    count = opened(engine)
    for name in ("services", "offices", "service_codes", "office_codes", "departments") * 4:
        run_extract(engine, name, departments=all_departments)
    assert count[0] == 1
    # once the pool has been idle for the linger another process can take the file
    assert until(lambda: engine.pool.checkedin() == 0)
    free = subprocess.run([sys.executable, "-c", OPEN_IN_ANOTHER_PROCESS, str(small_file)], capture_output=True, text=True)
    assert free.returncode == 0, free.stderr
    run_extract(engine, "services", departments=all_departments)  # and the engine opens it again when asked
    assert count[0] == 2
    engine.dispose()


def test_the_linger_survives_engine_dispose(small_file, all_departments, monkeypatch):
    monkeypatch.setenv("KPI_DUCKDB_LINGER_SECONDS", "0.3")
    engine = create_engine(f"duckdb:///{small_file}", linger=True)
    engine.dispose()  # a new pool: the idle watch must follow it
    run_extract(engine, "services", departments=all_departments)
    assert engine.pool.checkedin() == 1
    assert until(lambda: engine.pool.checkedin() == 0)
    engine.dispose()


def test_a_linger_of_zero_is_a_connection_per_unit_of_work(small_file, all_departments, monkeypatch):
    monkeypatch.setenv("KPI_DUCKDB_LINGER_SECONDS", "0")
    engine = create_engine(f"duckdb:///{small_file}", linger=True)
    assert isinstance(engine.pool, NullPool)
    count = opened(engine)
    for name in ("services", "offices"):
        run_extract(engine, name, departments=all_departments)
    assert count[0] == 2
    engine.dispose()


def test_batch_work_opens_and_closes_the_file_itself(small_file, monkeypatch):
    monkeypatch.setenv("KPI_DUCKDB_LINGER_SECONDS", "5")
    assert isinstance(create_engine(f"duckdb:///{small_file}").pool, NullPool)  # imports, builds, commands


def test_the_linger_setting_is_checked(monkeypatch):
    monkeypatch.setenv("KPI_DUCKDB_LINGER_SECONDS", "soon")
    with pytest.raises(DatabaseError, match="KPI_DUCKDB_LINGER_SECONDS='soon' is not a number of seconds"):
        duckdb_linger_seconds()
    monkeypatch.setenv("KPI_DUCKDB_LINGER_SECONDS", "-1")
    with pytest.raises(DatabaseError, match="cannot be negative"):
        duckdb_linger_seconds()
    monkeypatch.delenv("KPI_DUCKDB_LINGER_SECONDS")
    assert duckdb_linger_seconds() == 0.0  # off unless asked for
