"""A batch job's mark: seen while the job runs, gone when it ends or dies, and what the
Anomalies and planner pages say because of it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from forecasting.progress import marker_path, marking, running
from tests.dashboard.conftest import APP, app_on, page_file


def test_a_job_is_running_only_inside_its_mark(tmp_path):
    url = f"duckdb:///{tmp_path}/a.duckdb"
    assert running(url, "detect") is None
    with marking(url, "detect"):
        assert running(url, "detect") is not None
        assert running(url, "forecast") is None  # another job
        assert running(f"duckdb:///{tmp_path}/b.duckdb", "detect") is None  # another database
    assert running(url, "detect") is None
    assert not marker_path(url, "detect").exists()


def test_a_mark_left_by_a_dead_process_is_not_believed(tmp_path):
    url = f"duckdb:///{tmp_path}/a.duckdb"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    path = marker_path(url, "forecast")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": int(finished.stdout), "job": "forecast", "started_at": "2026-12-04T01:00:00"}))
    try:
        assert running(url, "forecast") is None
        path.write_text("not json")
        assert running(url, "forecast") is None
    finally:
        path.unlink(missing_ok=True)


def test_an_unknown_job_is_refused():
    with pytest.raises(ValueError, match="known: forecast, detect"):
        marker_path("duckdb:///x", "publish")


@pytest.fixture
def plain_world(duckdb_url, monkeypatch):
    with app_on(duckdb_url, monkeypatch, hold=True) as url:
        yield url


def test_the_pages_say_a_forecast_or_detection_is_running_while_it_is(plain_world):
    from data.database import create_engine

    url = str(create_engine(plain_world).url)
    with marking(url, "detect"):
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page(page_file("pages/anomalies.py")).run()
        assert not at.exception
        assert any("Anomaly detection is running now" in info.value for info in at.info)
        assert not any("python -m anomalies detect" in info.value for info in at.info)
    with marking(url, "forecast"):
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page(page_file("pages/planner.py")).run()
        assert not at.exception
        assert any("The demand forecast is running now" in info.value for info in at.info)
        at.switch_page(page_file("pages/anomalies.py")).run()
        assert any("the demand forecast is running now" in info.value for info in at.info)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(page_file("pages/anomalies.py")).run()
    assert any("python -m anomalies detect" in info.value for info in at.info)
