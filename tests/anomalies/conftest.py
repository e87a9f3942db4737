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

from anomalies.store import Detection, run_detection, store_detection
from data.database import bulk_load, connect, create_engine, create_schema, duckdb_path
from tests.conftest import BACKENDS


@dataclass(frozen=True)
class StoredWorld:
    url: str
    detection: Detection
    run_id: int


# Built once per session even though tests/notify/conftest.py registers the fixture again.
_WORLDS: dict[str, StoredWorld] = {}


@pytest.fixture(scope="session")
def anomaly_world(duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> StoredWorld:
    """The small world (DuckDB copy) after `python -m anomalies detect` would have run."""
    if duckdb_url not in _WORLDS:
        source = duckdb_path(duckdb_url)
        assert source is not None
        target = tmp_path_factory.mktemp("anomalies") / "small_with_flags.duckdb"
        shutil.copy(source, target)
        url = f"duckdb:///{target}"
        engine = create_engine(url)
        detection = run_detection(engine)
        run_id = store_detection(engine, detection, started_at=dt.datetime(2026, 11, 23, 6, 0), seconds=1.0)
        engine.dispose()
        _WORLDS[duckdb_url] = StoredWorld(url, detection, run_id)
    return _WORLDS[duckdb_url]


@pytest.fixture
def anomaly_engine(anomaly_world: StoredWorld) -> Iterator[Engine]:
    engine = create_engine(anomaly_world.url)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def stored(request, anomaly_world, small_tables, tmp_path) -> Iterator[Engine]:
    """An engine whose database holds the small world's stored run: a private copy, so that
    what a test writes reaches no other test (on PostgreSQL: the dimensions and the run
    only; the facts are not needed to read flags back)."""
    if request.param == "duckdb":
        target = tmp_path / "stored.duckdb"
        shutil.copy(duckdb_path(anomaly_world.url), target)
        engine = create_engine(f"duckdb:///{target}")
    else:
        engine = create_engine(request.getfixturevalue("make_postgres_database")())
        create_schema(engine)
        with connect(engine, begin=True) as conn:
            for table in ("departments", "services", "offices"):
                bulk_load(conn, table, small_tables[table])
        store_detection(engine, anomaly_world.detection, started_at=dt.datetime(2026, 11, 23, 6), seconds=1.0)
    yield engine
    engine.dispose()
