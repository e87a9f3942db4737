"""Helpers shared by the benchmarks: throwaway databases and honest timing."""

from __future__ import annotations

import contextlib
import os
import secrets
import statistics
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa

POSTGRES_SERVER_URL = os.environ.get(
    "KPI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def throwaway_postgres(prefix: str = "kpi_bench") -> Iterator[str]:
    """A PostgreSQL database of our own for the length of the block, then dropped."""
    server_url = sa.engine.make_url(POSTGRES_SERVER_URL).set(drivername="postgresql+psycopg")
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def best_of(function: Callable[[], object], repeats: int = 3) -> tuple[float, float, object]:
    """(median seconds, fastest seconds, last result) over ``repeats`` runs."""
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), result
