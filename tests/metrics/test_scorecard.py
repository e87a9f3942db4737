"""The weekly scorecard on the small world: the numbers are the engine's, the comparisons
are the right weeks, targets and statuses follow the rules, the unfinished week is partial."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date, timedelta

import polars as pl
import pytest

from data.facts import load_facts
from metrics.engine import compute
from metrics.registry import METRICS
from metrics.scorecard import latest_complete_week, scorecard
from metrics.status import status
from tests.conftest import ROOT, SMALL

WEEK = "2026-W45"
MONDAY = date(2026, 11, 2)


@pytest.fixture(scope="module")
def year_of_facts(duckdb_url, all_departments):
    from data.database import create_engine

    engine = create_engine(duckdb_url)
    facts = load_facts(engine, all_departments, MONDAY - timedelta(weeks=52), SMALL.end)
    engine.dispose()
    return facts


def weekly(facts, monday: date, by: list[str] | None = None) -> pl.DataFrame:
    return compute(facts, None, by=["week"] + (by or []), first_day=monday, last_day=monday + timedelta(days=6)).values


def test_values_and_comparisons_are_the_engines_for_the_right_weeks(year_of_facts):
    card = scorecard(year_of_facts, WEEK, as_of=SMALL.end)
    assert not card.partial
    rows = {row["kpi"]: row for row in card.rows.iter_rows(named=True)}
    assert set(rows) == set(METRICS)
    for label, monday, column in (("this", MONDAY, "value"), ("last", MONDAY - timedelta(weeks=1), "last_week"), ("year", MONDAY - timedelta(weeks=52), "same_week_last_year")):
        expected = weekly(year_of_facts, monday)
        for kpi, value in zip(expected["kpi"], expected["value"], strict=True):
            assert rows[kpi][column] == pytest.approx(value, nan_ok=True) if value is not None else rows[kpi][column] is None, (label, kpi)
    volume = rows["volume"]
    assert volume["change_on_last_week"] == pytest.approx(volume["value"] - volume["last_week"])
    assert volume["change_on_last_year"] == pytest.approx(volume["value"] - volume["same_week_last_year"])


def test_statuses_follow_targets_and_direction(year_of_facts):
    card = scorecard(year_of_facts, WEEK, as_of=SMALL.end)
    for row in card.rows.iter_rows(named=True):
        assert row["status"] == status(row["value"], row["target"], METRICS[row["kpi"]].better)
    assert card.rows.filter(pl.col("kpi") == "volume")["status"].item() == "grey"


def test_by_service_uses_service_targets_and_adds_up(year_of_facts):
    card = scorecard(year_of_facts, WEEK, by="service_id", as_of=SMALL.end)
    passport = card.rows.filter(pl.col("scope") == "passport", pl.col("kpi") == "on_time_rate")
    assert passport["target"].item() == 85.0
    whole = scorecard(year_of_facts, WEEK, as_of=SMALL.end).rows
    total_volume = whole.filter(pl.col("kpi") == "volume")["value"].item()
    assert card.rows.filter(pl.col("kpi") == "volume")["value"].sum() == total_volume


def test_composite_score_lists_metrics_above_and_below_target(year_of_facts):
    card = scorecard(year_of_facts, WEEK, as_of=SMALL.end)
    composite = card.composite.row(0, named=True)
    scores = card.rows.filter(pl.col("score").is_not_null())
    assert composite["score"] == pytest.approx(scores["score"].mean())
    assert composite["metrics_scored"] == scores.height
    assert set(composite["below"]) == set(scores.filter(pl.col("score") < 1)["kpi"])
    assert set(composite["above"]) == set(scores.filter(pl.col("score") >= 1)["kpi"])


def test_the_unfinished_week_is_partial_and_not_compared(year_of_facts):
    as_of = date(2026, 11, 19)  # a Thursday
    card = scorecard(year_of_facts, "2026-W47", as_of=as_of)
    assert card.partial
    assert set(card.rows["status"]) == {"grey"}
    assert card.rows["change_on_last_week"].null_count() == card.rows.height
    assert card.rows["note"].str.starts_with("week in progress: data to Thu 19 Nov").all()
    assert latest_complete_week(as_of) == "2026-W46"
    assert latest_complete_week(date(2026, 11, 22)) == "2026-W47"  # a Sunday ends its week


def test_history_has_thirteen_weeks_for_sparklines(year_of_facts):
    card = scorecard(year_of_facts, WEEK, as_of=SMALL.end)
    volume = card.history.filter(pl.col("kpi") == "volume")
    assert volume.height == 13
    assert volume["period"].to_list()[-1] == WEEK


def run_cli(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", "scorecard", *args, "--database", url], cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ)


def test_command_line_prints_exactly_the_scorecard(duckdb_url, year_of_facts):
    result = run_cli("--week", WEEK, "--format", "csv", url=duckdb_url)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"week", "scope", "kpi", "value", "last_week", "same_week_last_year", "target", "status", "n"} <= set(rows[0])
    printed = {row["kpi"]: row for row in rows}
    card = scorecard(year_of_facts, WEEK, as_of=SMALL.end)
    for row in card.rows.iter_rows(named=True):
        shown = printed[row["kpi"]]["value"]
        assert (float(shown) if shown else None) == (pytest.approx(row["value"]) if row["value"] is not None else None)
        assert printed[row["kpi"]]["status"] == row["status"]
    assert "composite_score" in printed


def test_command_line_by_service_for_a_department(duckdb_url):
    result = run_cli("--week", WEEK, "--department", "transport", "--by", "service", "--format", "json", url=duckdb_url)
    assert result.returncode == 0, result.stderr
    import json

    scopes = {row["scope"] for row in json.loads(result.stdout)}
    assert {"driving_licence", "vehicle_tax", "parking_permit", "blue_badge"} <= scopes
    assert "passport" not in scopes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--week", "2026-W60"), "error: '2026-W60': 2026 has no ISO week 60"),
        (("--week", "last week"), "error: 'last week' is not an ISO week; write it like 2026-W47"),
        (("--department", "magic"), "error: unknown department 'magic'; known: benefits, civil, revenue, transport"),
    ],
)
def test_command_line_errors_are_one_line(duckdb_url, args, message):
    result = run_cli(*args, url=duckdb_url)
    assert result.returncode == 2
    assert result.stderr.strip() == message


def test_a_comparison_week_before_the_data_began_has_no_value(year_of_facts):
    """Not a count of zero: the same week last year is before the data starts."""
    card = scorecard(year_of_facts, WEEK, as_of=SMALL.end, data_from=MONDAY - timedelta(weeks=10))
    volume = card.rows.filter(pl.col("kpi") == "volume").row(0, named=True)
    assert volume["same_week_last_year"] is None
    assert volume["change_on_last_year"] is None
    assert volume["last_week"] is not None
