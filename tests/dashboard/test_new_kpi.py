"""A KPI added as one registry entry (first-contact resolution, with its column in the
facts and rows extracts) shows on the scorecard, in the catalogue and in the drill-down
with no page edited: each page reads the registry."""

from __future__ import annotations

from datetime import timedelta

from data.database import create_engine
from data.facts import data_extent, load_facts
from metrics.formatting import number
from metrics.periods import parse_week
from metrics.registry import METRICS
from metrics.scorecard import latest_complete_week, scorecard
from metrics.targets import load_targets
from tests.dashboard import test_catalogue as catalogue_page
from tests.dashboard import test_drilldown as drilldown_page
from tests.dashboard import test_overview as overview_page

KPI = "first_contact_resolution"


def test_the_scorecard_shows_first_contact_resolution(app_env, all_departments):
    engine = create_engine(app_env)
    first, as_of = data_extent(engine, all_departments, "Europe/London")
    week = latest_complete_week(as_of)
    monday = parse_week(week)
    facts = load_facts(engine, all_departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
    engine.dispose()
    card = scorecard(facts, week, as_of=as_of, targets=load_targets(), data_from=first)
    value = card.rows.filter(card.rows["kpi"] == KPI)["value"].item()
    assert value is not None and 60 < value < 95
    tiles = overview_page.tiles_html(overview_page.open_overview())
    assert overview_page.shown_value(tiles, METRICS[KPI].label) == number(value, KPI)


def test_the_catalogue_defines_it_with_its_rule(app_env):
    at = catalogue_page.open_page()
    assert f'id="kpi-{KPI}"' in catalogue_page.text(at)
    table = catalogue_page.frame_titled(at, "Measure")
    row = table[table["Name"] == KPI].iloc[0]
    assert row["Rules"] == "no_resolution_recorded"
    assert "no_resolution_recorded leaves out answered calls whose resolution was not recorded" in row["Definition"]


def test_the_drilldown_shows_the_engines_figure_and_its_rows(app_env):
    at = drilldown_page.open_page({"kpi": KPI, "week": drilldown_page.LATEST})
    figure = drilldown_page.engine_figure(app_env, KPI, drilldown_page.LATEST)
    assert drilldown_page.headline(at) == number(figure["value"], KPI)
    assert at.metric[0].label == f"First-contact resolution, week {drilldown_page.LATEST}"
