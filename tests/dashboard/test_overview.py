"""The weekly scorecard page through AppTest: the numbers on the page are the scorecard's,
and a different week, department or service gives that scope's and week's values."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.database import create_engine
from data.facts import data_extent, load_facts
from metrics.formatting import number
from metrics.periods import parse_week
from metrics.scorecard import latest_complete_week, scorecard
from metrics.targets import load_targets
from tests.dashboard.conftest import APP, app_on


@pytest.fixture
def world(app_env, all_departments):
    engine = create_engine(app_env)
    first, as_of = data_extent(engine, all_departments, "Europe/London")
    yield engine, all_departments, first, as_of
    engine.dispose()


def open_overview(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def expected(engine, departments, week: str, as_of: date, first: date, scope: dict | None = None) -> pl.DataFrame:
    monday = parse_week(week)
    facts = load_facts(engine, departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
    if scope and "service_id" in scope:
        facts = facts.where(service_id=scope["service_id"])
    card = scorecard(facts, week, scope=scope or {}, as_of=as_of, targets=load_targets(), data_from=first)
    return card.rows


def tiles_html(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown if "kpi-grid" in m.value)


def shown_value(html: str, label: str) -> str:
    """The value printed in the tile headed ``label``."""
    start = html.index(f"<h3>{label}</h3>")
    value = html.index('class="kpi-value">', start) + len('class="kpi-value">')
    return html[value : html.index("</span>", value)]


def test_the_default_is_the_last_complete_week_of_every_department(world):
    engine, departments, first, as_of = world
    week = latest_complete_week(as_of)
    at = open_overview()
    assert at.title[0].value == "Weekly scorecard"
    assert week in at.subheader[0].value
    html = tiles_html(at)
    rows = expected(engine, departments, week, as_of, first)
    for row in rows.iter_rows(named=True):
        assert shown_value(html, row["label"]) == number(row["value"], row["kpi"]), row["kpi"]
    composite = [m for m in at.metric if m.label == "Composite score"][0]
    scores = rows.filter(pl.col("score").is_not_null())["score"]
    assert composite.value == f"{scores.mean():.2f}"


def test_another_week_gives_that_weeks_values(world):
    engine, departments, first, as_of = world
    week = "2026-W40"
    html = tiles_html(open_overview(week=week))
    rows = expected(engine, departments, week, as_of, first)
    for kpi in ("volume", "on_time_rate", "asa", "satisfaction", "backlog"):
        row = rows.filter(pl.col("kpi") == kpi).row(0, named=True)
        assert shown_value(html, row["label"]) == number(row["value"], kpi), kpi
    # and it differs from the default week's volume
    default = tiles_html(open_overview())
    assert shown_value(default, "Volume") != shown_value(html, "Volume")


def test_a_department_and_a_service_narrow_the_scorecard(world):
    engine, _departments, first, as_of = world
    week = latest_complete_week(as_of)
    at = open_overview(department="civil", service="passport", week=week)
    assert "Passport application" in at.subheader[0].value
    rows = expected(engine, ["civil"], week, as_of, first, {"department_id": "civil", "service_id": "passport"})
    html = tiles_html(at)
    on_time = rows.filter(pl.col("kpi") == "on_time_rate").row(0, named=True)
    assert on_time["target"] == 85.0  # the passport target of metrics/targets.toml
    assert shown_value(html, "On-time rate") == number(on_time["value"], "on_time_rate")
    assert "85.0%" in html


def test_the_week_in_progress_is_marked_partial_and_not_judged(tmp_path, monkeypatch):
    """Data to a Wednesday: its week is offered, marked in progress, and not judged."""

    from data.build import build
    from data.generate import Scenario

    url = f"duckdb:///{tmp_path / 'wednesday.duckdb'}"
    build(url, Scenario(seed=5, scale=0.02, end=date(2026, 11, 18)), quiet=True)
    with app_on(url, monkeypatch):
        at = open_overview(week="2026-W47")
        assert "in progress" in at.subheader[0].value
        assert any("not over yet" in w.value for w in at.warning)
        html = tiles_html(at)
        assert "Week in progress" in html and "Off target" not in html and "On target" not in html


def test_an_unknown_week_in_a_link_falls_back_to_the_default(world):
    _engine, _departments, _first, as_of = world
    at = open_overview(week="1999-W01")
    assert latest_complete_week(as_of) in at.subheader[0].value


def test_a_generated_world_lacks_nothing(world):
    at = open_overview()
    assert not any("This database has no" in info.value for info in at.info)
