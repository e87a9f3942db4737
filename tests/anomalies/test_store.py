"""Stored runs and acknowledgements, on DuckDB and PostgreSQL (subscriptions:
tests/notify/test_subscriptions.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from anomalies import AnomalyError
from anomalies.store import acknowledge, latest_flags, latest_run, series_scores, store_detection
from data.database import connect, create_engine


def test_a_stored_run_reads_back_whole(stored, anomaly_world, all_departments):
    flags = latest_flags(stored, all_departments)
    expected = anomaly_world.detection.flags
    assert flags.height == expected.height > 0
    assert sorted(flags["flag_key"].to_list()) == sorted(expected["flag_key"].to_list())
    assert set(flags["status"].to_list()) == {"open"}
    run = latest_run(stored, all_departments)
    assert run["flag_count"] == expected.height
    assert run["data_end"] == anomaly_world.detection.data_end
    assert "z_alone=6.0" in run["settings"]


def test_a_viewer_of_one_department_sees_only_its_flags(stored, all_departments):
    everything = latest_flags(stored, all_departments)
    mine = latest_flags(stored, ["civil"])
    assert mine.height > 0
    assert set(mine["department_id"].to_list()) == {"civil"}
    assert mine.height == everything.filter(pl.col("department_id") == "civil").height


def test_scores_of_a_flagged_series_come_with_their_band(stored, anomaly_world, all_departments):
    # a flag of a detector that judges one day against its band (a sustained shift opens on
    # the day its accumulated evidence starts, which may itself be inside the band)
    flag = anomaly_world.detection.flags.filter(
        pl.col("grain") == "day", pl.col("detector").is_in(["robust_z", "forecast_interval"])
    ).row(0, named=True)
    rows = series_scores(stored, all_departments, "day", flag["scope_kind"], flag["scope_id"], flag["kpi"])
    assert rows.height > 300
    day = rows.filter(pl.col("period_start") == flag["first_day"]).row(0, named=True)
    assert day["value"] == pytest.approx(flag["value"])
    assert day["lower_bound"] <= day["expected"] <= day["upper_bound"]
    assert not (day["lower_bound"] <= day["value"] <= day["upper_bound"])


def test_acknowledging_and_reopening_a_flag(stored, all_departments):
    key = latest_flags(stored, all_departments)["flag_key"][0]
    at = dt.datetime(2026, 11, 24, 9, 30)
    acknowledge(stored, key, "known", "Ada Lovelace", "Planned maintenance of the web form", at=at)
    row = latest_flags(stored, all_departments).filter(pl.col("flag_key") == key).row(0, named=True)
    assert (row["status"], row["acked_by"], row["acked_at"], row["note"]) == ("known", "Ada Lovelace", at, "Planned maintenance of the web form")
    acknowledge(stored, key, "open", "Ada Lovelace", at=at + dt.timedelta(hours=1))
    assert latest_flags(stored, all_departments).filter(pl.col("flag_key") == key)["status"][0] == "open"
    with pytest.raises(AnomalyError, match="no stored flag 'nope'"):
        acknowledge(stored, "nope", "known", "Ada")
    with pytest.raises(AnomalyError, match="say who you are"):
        acknowledge(stored, key, "known", "  ")
    with pytest.raises(AnomalyError, match="unknown status 'ignored'"):
        acknowledge(stored, key, "ignored", "Ada")


def test_storing_again_adds_a_run_that_pages_read(stored, anomaly_world, all_departments):
    before = latest_run(stored, all_departments)["run_id"]
    run_id = store_detection(stored, anomaly_world.detection, started_at=dt.datetime(2026, 11, 24, 6), seconds=2.0)
    assert run_id == before + 1
    assert latest_flags(stored, all_departments)["run_id"].unique().to_list() == [run_id]
    with connect(stored) as conn:
        kept = conn.execute(sa.text("SELECT COUNT(DISTINCT run_id) FROM anomaly_scores")).scalar_one()
    assert kept == 1  # only the latest run's scores are kept


@pytest.mark.postgres
@pytest.mark.slow
def test_detection_on_postgresql_finds_the_same_flags_as_on_duckdb(postgres_url, anomaly_world):
    """The detector reads the same facts through the same extracts on both backends."""
    from anomalies.store import run_detection

    engine = create_engine(postgres_url)
    found = run_detection(engine).flags
    engine.dispose()
    columns = ["flag_key", "detector", "last_day", "explain_member"]
    assert found.select(columns).sort("flag_key").equals(anomaly_world.detection.flags.select(columns).sort("flag_key"))
