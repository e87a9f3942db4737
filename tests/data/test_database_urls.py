"""A bad KPI_DATABASE_URL gives one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from data.database import DatabaseError, check, create_engine, database_url, default_url
from tests.conftest import ROOT


def test_default_is_the_embedded_duckdb_file(monkeypatch):
    monkeypatch.delenv("KPI_DATABASE_URL", raising=False)
    assert database_url() == default_url()
    assert default_url().endswith("data/kpi.duckdb")


def test_environment_variable_is_used_and_plain_postgresql_means_psycopg(monkeypatch):
    monkeypatch.setenv("KPI_DATABASE_URL", "postgresql://me@db.example:5432/kpi")
    assert database_url() == "postgresql+psycopg://me@db.example:5432/kpi"


def test_unknown_scheme_is_named_with_what_to_use():
    with pytest.raises(DatabaseError, match=r"unknown scheme 'oracle'.*duckdb:///.*postgresql\+psycopg://"):
        create_engine("oracle://scott@db/orcl")


def test_not_a_url():
    with pytest.raises(DatabaseError, match="is not a database URL"):
        create_engine("just some words")


def test_missing_folder_of_a_duckdb_file(tmp_path):
    missing = tmp_path / "no" / "such" / "folder" / "kpi.duckdb"
    with pytest.raises(DatabaseError, match=rf"the folder {tmp_path}/no/such/folder does not exist"):
        create_engine(f"duckdb:///{missing}")


def test_unreachable_postgresql_host():
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/kpi")
    with pytest.raises(DatabaseError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1/kpi: "):
        check(engine)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("oracle://scott@db/orcl", "unknown scheme 'oracle'"),
        ("postgresql://postgres@127.0.0.1:1/kpi", "cannot connect to PostgreSQL at 127.0.0.1:1/kpi"),
        ("duckdb:////no/such/folder/kpi.duckdb", "the folder /no/such/folder does not exist"),
    ],
)
def test_command_line_prints_one_line_and_exits_2(url, expected):
    environment = {**os.environ, "KPI_DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "data", "counts"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: KPI_DATABASE_URL") or lines[0].startswith("error: cannot connect")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_generate_rejects_impossible_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "data", "generate", "--end", "2026-02-30", "--database", "duckdb:///:memory:"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "'2026-02-30' is not a date in the form YYYY-MM-DD" in result.stderr
