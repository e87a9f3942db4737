"""Building and rebuilding a database; the default file is built when first needed."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

import data.build
import data.database
from data.build import build, ensure_database, row_counts
from data.database import create_engine
from data.generate import Scenario

TINY = Scenario(seed=11, scale=0.01, end=date(2026, 3, 31))


def test_a_rebuild_replaces_rather_than_appends(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    first = build(url, TINY, quiet=True)
    counts_after_first = row_counts(create_engine(url))
    second = build(url, TINY, quiet=True)
    counts_after_second = row_counts(create_engine(url))
    assert first == second
    assert {k: v for k, v in counts_after_second.items() if k != "data_loads"} == {
        k: v for k, v in counts_after_first.items() if k != "data_loads"
    }
    assert counts_after_second["data_loads"] == 1  # a fresh file each time


def test_rebuilding_postgresql_replaces_in_one_transaction(make_postgres_database):
    url = make_postgres_database()
    build(url, TINY, quiet=True)
    build(url, TINY, quiet=True)
    counts = row_counts(create_engine(url))
    assert counts["cases"] == row_counts(create_engine(url))["cases"] > 0
    assert counts["data_loads"] == 2  # both loads are recorded


def test_the_default_database_is_built_the_first_time_it_is_needed(tmp_path, monkeypatch):
    path = tmp_path / "kpi.duckdb"
    monkeypatch.setattr(data.build, "DEFAULT_DUCKDB_PATH", path)
    monkeypatch.setattr(data.database, "DEFAULT_DUCKDB_PATH", path)
    monkeypatch.setattr(data.build, "DEFAULT_SCENARIO", TINY)
    monkeypatch.delenv("KPI_DATABASE_URL", raising=False)
    engine = ensure_database(quiet=True)
    assert path.exists()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM cases")).scalar_one() > 1000
    # a second call finds it and builds nothing
    modified = path.stat().st_mtime_ns
    ensure_database(quiet=True)
    assert path.stat().st_mtime_ns == modified


def test_a_named_empty_database_gets_the_schema_but_no_data(tmp_path):
    url = f"duckdb:///{tmp_path / 'mine.duckdb'}"
    engine = ensure_database(url, quiet=True)
    assert row_counts(engine)["cases"] == 0
