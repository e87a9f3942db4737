"""Fixtures for the import tests: databases to import into, and the real files imported.

The three real files are imported once per session and backend (DuckDB, PostgreSQL)
into a database holding nothing else; tests that change a database make their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.database import create_engine
from data.importer import ImportResult, import_file
from tests.conftest import BACKENDS, SHARED_DATA

REAL_FILES = {
    "boston311": SHARED_DATA / "boston311_2015.csv.gz",
    "anonbank_calls": SHARED_DATA / "anonbank_calls_feb1999.tsv",
    "gp_fft": SHARED_DATA / "gp_fft_responses_2023_2024.csv",
}


def _require_real_data() -> None:
    missing = [str(path) for path in REAL_FILES.values() if not path.is_file()]
    if missing:
        pytest.skip(f"the real files are not at {SHARED_DATA}: {', '.join(missing)}")


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """A factory of empty databases: new_database('duckdb') or new_database('postgresql')."""

    made: list[str] = []

    def make(backend: str) -> str:
        if backend == "duckdb":
            made.append(f"duckdb:///{tmp_path / f'import_{len(made)}.duckdb'}")
            return made[-1]
        return request.getfixturevalue("make_postgres_database")()

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def imported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, ImportResult]]:
    """(url, {mapping: result}): the three real files imported into one empty database."""
    _require_real_data()
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('real') / 'real.duckdb'}"
    else:
        url = request.getfixturevalue("make_postgres_database")()
    results = {mapping: import_file(path, mapping, url) for mapping, path in REAL_FILES.items()}
    return url, results


def scalar(url: str, sql: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql), params).all()]
    finally:
        engine.dispose()
