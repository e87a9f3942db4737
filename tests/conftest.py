"""Shared fixtures: a small generated database on DuckDB and on PostgreSQL.

PostgreSQL: the server named by KPI_TEST_POSTGRES_URL (default the local one at
127.0.0.1:5432, user postgres). Each test session creates its own database, named
kpi_test_<pid>_<random>, and drops it afterwards; no other database is touched. Where no
server answers, PostgreSQL tests are skipped with the reason, unless
KPI_REQUIRE_POSTGRES=1 (CI sets it), which makes them fail instead.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.components.v2 import manifest_scanner

from data.build import build
from data.database import create_engine
from data.generate import Scenario, generate
from data.samples import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]


SHARED_DATA = shared_data_dir() or ROOT.parent / "shared" / "data"
# The tests' webhook receivers listen on this machine; an administrator must allow that
# explicitly (notify/webhooks.py), and the tests of the rule itself set their own lists.
os.environ.setdefault("KPI_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")

# Every AppTest scans each installed distribution's metadata for Streamlit components
# (about a tenth of an AppTest-heavy file's CPU); the installed packages do not change
# during a test session, so one scan serves every AppTest of the process.
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)

POSTGRES_SERVER_URL = os.environ.get(
    "KPI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# A small but complete world: every service, office, shape and incident, ~220,000 cases.
SMALL = Scenario(seed=7, scale=0.2, end=date(2026, 11, 22))
# Every PostgreSQL parameter carries the `postgres` marker, so `-m "not postgres"` (make
# test-fast) leaves the server out; pytest_collection_modifyitems below marks the rest.
BACKENDS = ("duckdb", pytest.param("postgresql", marks=pytest.mark.postgres))
POSTGRES_FIXTURES = frozenset({"postgres_server", "make_postgres_database", "postgres_url"})
# Per-test ceilings (s) over the default of pyproject's `timeout` (600), for the tiers that
# need them on a loaded 2-core machine: a browser test waits on a page many times (each up
# to devtools.serving.READY_TIMEOUT_MS); the scale-1 anomaly quality test took 251 s while
# other work ran beside it. A test's own `timeout` mark wins.
TIER_TIMEOUTS = {"e2e": 1800, "slow": 1200}
# Fixtures heavy enough to make every test using them `slow` (left out of make test-fast,
# part of make test); setups measured with make test-fast at load 6 to 17 on 2 cores.
SLOW_FIXTURES = frozenset({
    "anomaly_world",  # a whole detection run over the small world: 166 s
    "planner_url",  # a forecast run stored for the planner page, whose AppTests take 5-16 s each
    "live_planner_url",  # the same with an earlier run (tests/dashboard/test_planner_live.py)
})


# Tests `slow` by what they do, by node id prefix (left out of make test-fast, part of make
# test): make test-fast measured 133 s on 2 quiet cores against a goal of 90 s, and these
# took about a third of its test time. Each has a faster sibling that stays in the fast tier.
SLOW_TESTS = (
    "tests/imports/test_malformed.py::test_damaged_files_never_crash_and_never_lose_a_row",  # every damage of every real file: 16-29 s
    "tests/imports/test_real_files.py::",  # imports the real public files of ../shared/data
    "tests/imports/test_dashboard.py::",  # imports Boston 311, then opens the pages on it
    "tests/imports/test_implausible.py::test_a_file_without_line_ends_fails_fast_in_bounded_memory",  # writes and reads a large file
    "tests/metrics/test_properties.py::",  # properties over many random scopes and splits
    "tests/metrics/test_against_sql.py::test_every_kpi_by_service_matches_plain_sql[duckdb-2026-10-19]",  # the spring week stays fast
    # the rows behind every KPI: "all, spring clock change" and "a service, last week" stay fast
    "tests/sql/test_rows_behind.py::test_the_rows_behind_every_kpi_give_the_engines_figure[duckdb-a department",
    "tests/sql/test_rows_behind.py::test_the_rows_behind_every_kpi_give_the_engines_figure[duckdb-an office",
    "tests/sql/test_rows_behind.py::test_the_rows_behind_every_kpi_give_the_engines_figure[duckdb-a channel",
    "tests/sql/test_rows_behind.py::test_the_rows_behind_every_kpi_give_the_engines_figure[duckdb-a service at an office",
    "tests/sql/test_rows_behind.py::test_the_rows_behind_every_kpi_give_the_engines_figure[duckdb-online by app",
    "tests/public/test_publish.py::test_the_same_data_gives_byte_identical_files",  # publishes twice
    "tests/forecasting/test_fleet_database.py::",  # forecasts every series of the database
    "tests/forecasting/test_frequency.py::",  # fits Prophet through the command line
    # draws two briefings in Chromium (charts and PDF) and sends them over SMTP: 15 s
    "tests/notify/test_briefing.py::test_each_subscriber_receives_one_briefing_with_its_pdf_and_none_again_after_a_restart",
)


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection reads the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `postgres` every test that reaches the PostgreSQL server: through a fixture it
    names (directly or through its fixtures), or through a "postgresql" parameter of any
    parametrisation (which covers fixtures that call make_postgres_database by
    request.getfixturevalue, invisible in the fixture names). Mark `slow` every test using
    a fixture of SLOW_FIXTURES and every test of SLOW_TESTS. Give the e2e and slow tests their longer timeouts."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {}).values()
        by_parameter = any(isinstance(value, str) and value == "postgresql" for value in params)
        if by_parameter or POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
        tiers = [seconds for marker, seconds in TIER_TIMEOUTS.items() if item.get_closest_marker(marker)]
        if tiers and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(max(tiers)))


def _server_engine() -> Engine | str:
    """An AUTOCOMMIT engine on the server's maintenance database, or why there is none."""
    url = sa.engine.make_url(POSTGRES_SERVER_URL).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as error:
        engine.dispose()
        return f"no PostgreSQL server answers at {url.host}:{url.port}: {str(error.orig).splitlines()[0]}"
    return engine


@contextlib.contextmanager
def held_open(url: str) -> Iterator[str]:
    """Keep a DuckDB file open in this process for the block (other URLs: nothing).

    The app opens the file anew for every unit of work (NullPool, data/database.py), and
    each open and close of the small world costs 15-110 ms, a third of an AppTest-heavy
    file's CPU; while one connection stays open, DuckDB hands every new connection of the
    same file the open database (about 4 ms each), so the code under test runs the same
    queries. Not for a block that removes or replaces the file, or that lets another
    process open it (the open database would hide the first and lock out the second)."""
    if not url.startswith("duckdb:///"):
        yield url
        return
    engine = create_engine(url)
    keeper = engine.raw_connection()
    try:
        yield url
    finally:
        keeper.close()
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    server = _server_engine()
    if isinstance(server, str):
        if os.environ.get("KPI_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"KPI_REQUIRE_POSTGRES=1 but {server}")
        pytest.skip(server)
    yield server
    server.dispose()


@pytest.fixture(scope="session")
def make_postgres_database(postgres_server: Engine) -> Iterator:
    """A factory of throwaway databases on the test server, all dropped at the end."""
    created: list[str] = []

    def make() -> str:
        name = f"kpi_test_{os.getpid()}_{secrets.token_hex(4)}"
        with postgres_server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return str(sa.engine.make_url(POSTGRES_SERVER_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False))

    yield make
    with postgres_server.connect() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def small_tables() -> dict[str, pl.DataFrame]:
    """The small world's tables, generated in memory once per session."""
    return generate(SMALL, quiet=True)


@pytest.fixture(scope="session")
def duckdb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB file holding the small world."""
    path = tmp_path_factory.mktemp("duckdb") / "small.duckdb"
    url = f"duckdb:///{path}"
    build(url, SMALL, quiet=True)
    return url


@pytest.fixture(scope="session")
def postgres_url(make_postgres_database) -> str:
    """A throwaway PostgreSQL database holding the small world."""
    url = make_postgres_database()
    build(url, SMALL, quiet=True)
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def db_url(backend_name: str, request: pytest.FixtureRequest) -> str:
    """The small world on each backend in turn."""
    return request.getfixturevalue("duckdb_url" if backend_name == "duckdb" else "postgres_url")


@pytest.fixture(scope="session")
def db(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def all_departments(small_tables: dict[str, pl.DataFrame]) -> list[str]:
    return small_tables["departments"]["department_id"].to_list()
