"""Fixtures of the fleet tests: databases of their own holding the small world.

Runs are stored in these, never in the shared session databases of tests/conftest.py,
whose extracts tests/sql compares across backends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from data.build import GENERATED_TABLES
from data.database import bulk_load, connect, create_engine, create_schema


def load_world(url: str, tables: dict[str, pl.DataFrame]) -> str:
    """Create the schema at `url` and bulk-load the generated tables into it."""
    engine = create_engine(url)
    try:
        create_schema(engine, include_indexes=False)
        with connect(engine, begin=True) as conn:
            for name in GENERATED_TABLES:
                bulk_load(conn, name, tables[name])
        create_schema(engine)  # the indexes, after the bulk load
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def fresh_world(
    small_tables: dict[str, pl.DataFrame], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[str], str]:
    """A factory: fresh_world("duckdb" | "postgresql") -> URL of a new database of the small world."""

    def make(backend: str) -> str:
        if backend == "duckdb":
            folder: Path = tmp_path_factory.mktemp("fleet")
            return load_world(f"duckdb:///{folder / 'world.duckdb'}", small_tables)
        return load_world(request.getfixturevalue("make_postgres_database")(), small_tables)

    return make
