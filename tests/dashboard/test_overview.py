"""The weekly scorecard page through AppTest: the numbers on the page are the scorecard's,
and a different week, department or service gives that scope's and week's values."""

from __future__ import annotations

import re
import sys
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.database import create_engine
from data.facts import data_extent, load_facts
from metrics.formatting import number
from metrics.periods import parse_week
from metrics.registry import METRICS
from metrics.scorecard import latest_complete_week, scorecard
from metrics.targets import load_targets
from tests.conftest import ROOT
from tests.dashboard.conftest import APP, app_on

DRILLDOWN_FILE = str(ROOT / "dashboard" / "pages" / "drilldown.py")
if str(ROOT / "dashboard") not in sys.path:  # a page run on its own finds dashboard/_boot.py on the path
    sys.path.insert(0, str(ROOT / "dashboard"))


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
    start = html.index(f'<section class="kpi-tile" aria-label="{label}">')
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


# ---------------------------------------------------------------------- the where-matrix


def matrix(at: AppTest) -> str:
    return next(m.value for m in at.markdown if 'class="wm"' in m.value)


def column_heads(html: str) -> list[str]:
    """The matrix's child columns, in order, as the page shows them (after Measure and the
    whole scope)."""
    head = html[html.index("<thead>") : html.index("</thead>")]
    names = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<th scope="col">(.*?)</th>', head)]
    return [re.sub(r"^\d+\. ", "", re.sub(r"\d+ off target$|not judged$", "", name)).strip() for name in names[2:]]


def hrefs(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a href="([^"]+)" target="_self"', html)]


def worst_first(engine, departments, week: str, as_of: date, first: date, department: str) -> list[str]:
    """The services of ``department`` worst first, worked out here from the engine's
    figures by week and service, the targets and the status rule (not metrics.where)."""
    from metrics.engine import compute
    from metrics.status import status

    monday = parse_week(week)
    facts = load_facts(engine, [department], monday, monday + timedelta(days=6))
    values = compute(facts, None, by=["week", "service_id"], first_day=monday, last_day=monday + timedelta(days=6)).values
    targets = load_targets()
    offline = {"birth_registration", "marriage_notice"}
    tally: dict[str, list] = {}
    for row in values.iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        if row["kpi"] in ("digital_take_up", "completion_rate") and row["service_id"] in offline:
            continue  # not applicable to a service with no online channel
        target, _ = targets.for_scope(row["kpi"], department_id=department, service_id=row["service_id"])
        state = status(row["value"], target, metric.better)
        entry = tally.setdefault(row["service_id"], [0, 0.0, 0])
        if state == "red":
            entry[0] += 1
        if state == "amber":
            entry[2] += 1
        if state in ("red", "amber"):
            short = (target - row["value"]) if metric.better.value == "higher" else (row["value"] - target)
            entry[1] = max(entry[1], short / target)
    return sorted(tally, key=lambda service: (-tally[service][0], -tally[service][1], -tally[service][2], service))


def test_the_matrix_orders_a_departments_services_worst_first(world):
    engine, _departments, first, as_of = world
    week = latest_complete_week(as_of)
    at = open_overview(department="civil", week=week)
    html = matrix(at)
    names = {"birth_registration": "Birth registration", "passport": "Passport application", "building_permit": "Building permit", "marriage_notice": "Marriage notice"}
    expected_order = worst_first(engine, ["civil"], week, as_of, first, "civil")
    assert column_heads(html) == [names[service] for service in expected_order]
    assert "Not applicable" in html  # digital take-up of the services with no online channel
    # the summary names where on-time is furthest below: the two services with the largest miss
    summary = next(m.value for m in at.markdown if "On-time rate" in m.value and m.value.startswith("- "))
    assert "furthest below in" in summary


def test_every_cell_and_tile_links_to_the_drilldown_at_its_kpi_scope_and_week(world):
    _engine, _departments, _first, as_of = world
    week = latest_complete_week(as_of)
    at = open_overview(department="civil", week=week)
    links_in_matrix = hrefs(matrix(at))
    assert f"drilldown?kpi=on_time_rate&department=civil&service=passport&week={week}" in links_in_matrix
    assert f"drilldown?kpi=on_time_rate&department=civil&week={week}" in links_in_matrix  # the whole scope's column
    assert f"overview?department=civil&service=passport&week={week}" in links_in_matrix  # a column head: that service's scorecard
    tile_links = hrefs(tiles_html(at))
    assert f"drilldown?kpi=backlog&department=civil&week={week}" in tile_links
    assert len(tile_links) == len(METRICS)  # every tile

def test_a_matrix_link_opens_the_drilldown_at_that_view(world):
    engine, _departments, first, as_of = world
    week = "2026-W45"
    at = open_overview(department="civil", week=week)
    link = next(href for href in hrefs(matrix(at)) if href.startswith("drilldown?kpi=on_time_rate&department=civil&service=passport"))
    query = dict(parse_qsl(urlsplit(link).query))
    assert query == {"kpi": "on_time_rate", "department": "civil", "service": "passport", "week": week}
    drill = AppTest.from_file(DRILLDOWN_FILE, default_timeout=120)
    for key, value in query.items():
        drill.query_params[key] = value
    drill.run()
    assert not drill.exception, drill.exception
    assert any(header.value == f"On-time rate, Passport application, week {week}" for header in drill.subheader), [h.value for h in drill.subheader]
    cell = expected(engine, ["civil"], week, as_of, first, {"department_id": "civil", "service_id": "passport"}).filter(pl.col("kpi") == "on_time_rate").row(0, named=True)
    assert drill.metric[0].value == number(cell["value"], "on_time_rate")
    # and the value the matrix showed for that cell is the drill-down's
    assert number(cell["value"], "on_time_rate") in matrix(at)


def test_the_week_stays_in_the_address_even_when_it_is_the_default(world):
    _engine, _departments, _first, as_of = world
    at = open_overview()
    assert at.query_params["week"] == latest_complete_week(as_of)


def test_a_service_with_no_online_channel_has_digital_take_up_not_applicable(world):
    at = open_overview(department="civil", service="birth_registration")
    html = tiles_html(at)
    start = html.index('<section class="kpi-tile" aria-label="Digital take-up">')
    tile = html[start : html.index("</section>", start)]
    assert "n/a" in tile and "Not applicable" in tile and "Off target" not in tile


def test_what_it_will_take_projects_the_scopes_backlog_from_the_engines_flow(world):
    """The sentence's backlog and weekly flow are the engine's: the backlog at the week's
    end and the mean submitted and closed of the last four weeks, worked out here."""
    from metrics.engine import compute

    engine, _departments, _first, as_of = world
    week = latest_complete_week(as_of)
    monday = parse_week(week)
    facts = load_facts(engine, ["civil"], monday - timedelta(weeks=60), monday + timedelta(days=6))
    flow = compute(facts, ["net_flow", "backlog"], by=["week"], first_day=monday - timedelta(weeks=3), last_day=monday + timedelta(days=6)).values
    submitted = flow.filter(pl.col("kpi") == "net_flow")["numerator"].mean()
    closed = flow.filter(pl.col("kpi") == "net_flow")["denominator"].mean()
    backlog = flow.filter((pl.col("kpi") == "backlog") & (pl.col("period") == week))["value"].item()
    at = open_overview(department="civil", week=week)
    lines = next(m.value for m in at.markdown if "net flow" in m.value)
    assert f"{submitted:,.0f} submitted, {closed:,.0f} closed" in lines
    assert f"the backlog of {backlog:,.0f}" in lines
    assert at.date_input[0].label == "Clear the backlog by"
    by = parse_week(week) + timedelta(days=6 + 7 * 13)
    assert at.date_input[0].value == by
    assert f"close {submitted + backlog / 13:,.0f} a week" in lines


def test_the_date_to_clear_the_backlog_by_is_in_the_address(world):
    _engine, _departments, _first, as_of = world
    week = latest_complete_week(as_of)
    at = open_overview(department="civil", week=week, clear_by="2027-03-28")
    assert at.date_input[0].value == date(2027, 3, 28)
    lines = next(m.value for m in at.markdown if "net flow" in m.value)
    assert "by Sun 28 Mar 2027 (18.0 weeks)" in lines
    at = open_overview(department="civil", week=week, clear_by="not-a-date")
    assert at.date_input[0].value == parse_week(week) + timedelta(days=6 + 7 * 13)


def test_for_how_long_lists_the_departments_and_its_services_breaches(world):
    """The breaches on the page are the scorecards' (metrics.breaches), the department's own
    and its services', each with its start week and length, in words and in a table."""
    engine, _departments, first, as_of = world
    week = latest_complete_week(as_of)
    monday = parse_week(week)
    facts = load_facts(engine, ["civil"], monday - timedelta(weeks=52), monday + timedelta(days=6))
    from data.extracts import run_extract

    services = run_extract(engine, "services", departments=["civil"])
    offline = tuple(services.filter(~pl.col("digital").fill_null(True))["service_id"])
    own = scorecard(facts, week, scope={"department_id": "civil"}, as_of=as_of, data_from=first, offline_services=frozenset(offline)).current_breaches()
    split = scorecard(facts, week, by="service_id", scope={"department_id": "civil"}, as_of=as_of, data_from=first,
                      offline_services=frozenset(offline)).current_breaches()
    at = open_overview(department="civil", week=week)
    headings = [h.value for h in at.subheader]
    assert "For how long" in headings
    table = next(frame.value for frame in at.dataframe if "Weeks below" in frame.value.columns)
    assert len(table) == own.height + split.height
    assert own.height + split.height > 0, "the demo's civil registration has lasting misses"
    shown = set(zip(table["Measure"], table["Since"].str.replace(" or earlier", ""), table["Weeks below"].str.replace(",", "").astype(int), strict=True))
    for breach in pl.concat([own, split]).iter_rows(named=True):
        assert (breach["label"], breach["start_week"], breach["weeks"]) in shown
    going = pl.concat([own, split]).filter(pl.col("ongoing"))
    if going.height:
        summary = next(m.value for m in at.markdown if "below target for weeks on end" in m.value)
        assert f"{going.height:,} measure" in summary


def period_frame(at: AppTest, heading: str) -> pl.DataFrame:
    for frame in at.dataframe:
        shown = pl.from_pandas(frame.value)
        if heading in shown.columns:
            return shown
    raise AssertionError(f"no table with a column {heading!r}: {[pl.from_pandas(f.value).columns for f in at.dataframe]}")


@pytest.mark.parametrize("kind", ["month", "quarter", "fytd"])
def test_the_month_quarter_and_year_to_date_are_the_period_scorecards_of_the_scope(world, kind):
    from metrics.report_periods import report_period
    from metrics.scorecard import period_scorecard

    engine, departments, first, as_of = world
    week = latest_complete_week(as_of)
    at = open_overview(department="transport", period=kind)
    day = min(parse_week(week) + timedelta(days=6), as_of)
    period = report_period(kind, day, day, financial_year_start_month=load_targets().financial_year_start)
    facts = load_facts(engine, ("transport",), period.last_year.first_day, period.this.last_day)
    card = period_scorecard(facts, period, scope={"department_id": "transport"}, targets=load_targets(), data_from=first)
    heading = f"{period.this.label} to {period.this.last_day.day} {period.this.last_day:%b}" if period.partial else period.this.label
    shown = period_frame(at, heading)
    values = dict(zip(shown["Measure"], shown[heading], strict=True))
    checked = 0
    for row in card.rows.iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        assert values[metric.label] == (number(row["value"], metric) if row["applicable"] else "n/a"), metric.label
        checked += 1
    assert checked == card.rows.height > 10
    summary = " ".join(m.value for m in at.markdown)
    assert period.heading() in summary
    if kind == "fytd":
        assert not any(column.startswith("On ") and period.last_year.label not in column for column in shown.columns)
    if kind != "month":  # the default stays out of the address, as every filter's does
        assert at.query_params["period"] == kind
