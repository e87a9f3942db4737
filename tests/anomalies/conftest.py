"""A copy of the small world with one stored anomaly run, shared by the tests here.

The copy keeps the session's shared small world (tests/conftest.py) free of anomaly
tables, which other tests compare across DuckDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine

from data.database import create_engine, duckdb_path
from forecasting.anomaly.store import Detection, run_detection, store_detection


@dataclass(frozen=True)
class StoredWorld:
    url: str
    detection: Detection
    run_id: int


@pytest.fixture(scope="session")
def anomaly_world(duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> StoredWorld:
    """The small world (DuckDB copy) after `python -m forecasting detect` would have run."""
    source = duckdb_path(duckdb_url)
    assert source is not None
    target = tmp_path_factory.mktemp("anomalies") / "small_with_flags.duckdb"
    shutil.copy(source, target)
    url = f"duckdb:///{target}"
    engine = create_engine(url)
    detection = run_detection(engine)
    run_id = store_detection(engine, detection, started_at=dt.datetime(2026, 11, 23, 6, 0), seconds=1.0)
    engine.dispose()
    return StoredWorld(url, detection, run_id)


@pytest.fixture
def anomaly_engine(anomaly_world: StoredWorld) -> Iterator[Engine]:
    engine = create_engine(anomaly_world.url)
    yield engine
    engine.dispose()
