"""Published series at their own grain (metrics/published.py): latest period, previous
period, same period last year, target and status, by hand; the same read through the
observations extract on DuckDB and PostgreSQL from the small imported set
(tests/published_set.py), scoped to the viewer's departments by the service's department."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from data.database import create_engine
from data.extracts import run_extract
from metrics import published
from tests.published_set import import_published_set

WHOLE = {"first_day": date(1990, 1, 1), "last_day": date(9999, 12, 31)}


def _obs(start: date, end: date, numerator: float, denominator: float, *, grain: str = "month", office: str = "a",
         target: float | None = 0.8) -> dict:
    return {"series": "s", "kind": "ratio", "label": "Share", "unit": "%", "direction": "higher", "department_id": "d",
            "service_id": "v", "office_id": office, "channel": None, "grain": grain, "period_start": start, "period_end": end,
            "numerator": numerator, "denominator": denominator, "value": None, "n": None, "target": target}


def test_a_quarterly_series_is_compared_with_the_quarter_before_and_the_same_quarter_last_year():
    frame = pl.DataFrame([
        _obs(date(2024, 1, 1), date(2024, 3, 31), 70, 100, grain="quarter"),
        _obs(date(2024, 10, 1), date(2024, 12, 31), 81, 100, grain="quarter"),
        _obs(date(2025, 1, 1), date(2025, 3, 31), 39, 50, grain="quarter"),
        _obs(date(2025, 1, 1), date(2025, 3, 31), 40, 50, grain="quarter", office="b"),
    ])
    row = published.latest(frame, date(2025, 4, 6)).row(0, named=True)
    assert (row["grain"], row["period_start"], row["value"]) == ("quarter", date(2025, 1, 1), 0.79)
    assert (row["previous_start"], row["previous_value"]) == (date(2024, 10, 1), 0.81)
    assert (row["last_year_start"], row["last_year_value"]) == (date(2024, 1, 1), 0.70)
    assert (row["target"], row["status"]) == (0.8, "amber")  # 79% is within 5% of 80%
    # A day inside the quarter: the quarter is not over, the one before is the latest.
    early = published.latest(frame, date(2025, 3, 30)).row(0, named=True)
    assert (early["period_start"], early["previous_start"], early["previous_value"]) == (date(2024, 10, 1), date(2024, 7, 1), None)


def test_a_weekly_series_goes_back_one_week_and_52_weeks():
    frame = pl.DataFrame([_obs(date(2024, 3, 4), date(2024, 3, 10), 9, 10, grain="week"),
                          _obs(date(2025, 2, 24), date(2025, 3, 2), 8, 10, grain="week"),
                          _obs(date(2025, 3, 3), date(2025, 3, 9), 7, 10, grain="week")])
    row = published.latest(frame, date(2025, 3, 9)).row(0, named=True)
    assert (row["previous_start"], row["previous_value"]) == (date(2025, 2, 24), 0.8)
    assert (row["last_year_start"], row["last_year_value"]) == (date(2024, 3, 4), 0.9)


def test_targets_that_differ_give_no_target_and_say_so():
    frame = pl.DataFrame([_obs(date(2025, 1, 1), date(2025, 1, 31), 9, 10, target=0.8),
                          _obs(date(2025, 1, 1), date(2025, 1, 31), 9, 10, office="b", target=0.9)])
    row = published.latest(frame, date(2025, 2, 1)).row(0, named=True)
    assert (row["target"], row["status"]) == (None, "grey")
    assert row["note"] == "the observations' targets differ, so there is no one target"


def test_depth_and_where_the_drill_down_stops():
    frame = pl.DataFrame([_obs(date(2025, 1, 1), date(2025, 1, 31), 9, 10)])
    assert published.depth(frame) == ["department_id", "service_id", "office_id"]
    assert published.next_level(frame, {"department_id": "d"}) == "service_id"
    assert published.next_level(frame, {"department_id": "d", "service_id": "v", "office_id": "a"}) is None
    assert published.stops_here(frame, "Share") == (
        "Share is published per department, service and office, by month; there are no individual cases, calls or "
        "ratings behind it, so the drill-down stops there. It has no channel breakdown.")


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_the_extract_and_latest_on_each_backend(backend, tmp_path, request):
    url = f"duckdb:///{tmp_path / 'set.duckdb'}" if backend == "duckdb" else request.getfixturevalue("make_postgres_database")()
    assert import_published_set(url, tmp_path).reconciliation.loaded == 7
    engine = create_engine(url)
    try:
        civil = run_extract(engine, "observations", departments=["civil"], **WHOLE)
        revenue = run_extract(engine, "observations", departments=["revenue"], **WHOLE)
        both = run_extract(engine, "observations", departments=["civil", "revenue"], **WHOLE)
    finally:
        engine.dispose()
    assert set(civil["series"]) == {"passport_standard"} and civil.height == 6
    assert set(civil["department_id"]) == {"civil"}  # from the service: the rows carry none
    assert revenue["series"].to_list() == ["refund_standard"]
    rows = {row["series"]: row for row in published.latest(both, date(2026, 11, 22)).iter_rows(named=True)}
    passport, refund = rows["passport_standard"], rows["refund_standard"]
    assert (passport["period_start"], passport["value"], passport["target"], passport["status"]) == (date(2026, 10, 1), 0.75, 0.8, "red")
    assert (passport["previous_start"], passport["previous_value"]) == (date(2026, 9, 1), 0.8)
    assert (passport["last_year_start"], passport["last_year_value"]) == (date(2025, 10, 1), 0.9)
    assert (refund["value"], refund["status"], refund["previous_value"], refund["last_year_value"]) == (0.95, "green", None, None)
    by_office = published.periods(published.narrowed(civil, {"service_id": "passport"}).filter(
        pl.col("period_start") == date(2026, 10, 1)), by=["office_id"])
    assert dict(zip(by_office["office_id"], by_office["value"], strict=True)) == {"leeds": 0.6, "newcastle": 0.9}
