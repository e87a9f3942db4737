"""The catalogue page: the registry, the targets file and the rule counts, as the page shows
them, checked against the registry, the targets file and the metric engine."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.database import create_engine
from data.extracts import run_extract
from data.facts import data_extent, load_facts, organisation_timezone
from metrics.engine import compute
from metrics.periods import parse_week
from metrics.registry import METRICS, METRICS_LIST
from metrics.rules import RULES
from metrics.scorecard import latest_complete_week
from metrics.targets import load_targets
from tests.conftest import BACKENDS, ROOT
from tests.dashboard.conftest import app_on, page_file

PAGE = str(ROOT / "dashboard" / "pages" / "catalogue.py")


@pytest.fixture(autouse=True)
def _page_alone(monkeypatch):
    """Run the page as its own script (as a deep link's first run does): pages import
    dashboard/_boot.py by its bare name, which the entry script otherwise makes findable."""
    monkeypatch.syspath_prepend(str(ROOT / "dashboard"))


def open_page(query: dict[str, str] | None = None) -> AppTest:
    """The page as a shared link opens it: its own first run, with the URL's query string."""
    at = AppTest.from_file(PAGE, default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def frame_titled(at: AppTest, first_column: str):
    """The first table whose first column is ``first_column`` (pandas, as AppTest gives it)."""
    for element in at.dataframe:
        if element.value.columns[0] == first_column:
            return element.value
    raise AssertionError(f"no table starts with {first_column!r}: {[e.value.columns[0] for e in at.dataframe]}")


def text(at: AppTest) -> str:
    return "\n".join(element.value for element in at.markdown)


@pytest.fixture(scope="module")
def window(duckdb_url: str, all_departments: list[str]):
    """The small world's engine, facts of the year to its last complete week, and that week."""
    engine = create_engine(duckdb_url)
    offices = run_extract(engine, "offices", departments=all_departments)
    first, last = data_extent(engine, all_departments, organisation_timezone(offices))
    week = latest_complete_week(last)
    monday = parse_week(week)
    yield engine, week, monday, (first, last)
    engine.dispose()


def expected_counts(engine, departments: list[str], monday, weeks: int) -> dict[str, int]:
    facts = load_facts(engine, departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
    result = compute(facts, None, by=(), first_day=monday - timedelta(weeks=weeks - 1), last_day=monday + timedelta(days=6))
    return result.rule_counts


def test_every_measure_is_listed_as_the_registry_defines_it(app_env):
    at = open_page()
    assert at.title[0].value == "Metric catalogue and data quality"
    assert any("Data as of" in caption.value for caption in at.caption)
    table = pl.from_pandas(frame_titled(at, "Measure"))  # the catalogue table comes first
    assert table["Name"].to_list() == [metric.name for metric in METRICS_LIST]
    for row in table.iter_rows(named=True):
        metric = METRICS[row["Name"]]
        assert row["Measure"] == metric.label
        assert row["Definition"] == metric.description
        assert row["Formula"] == metric.formula
        assert row["Unit"] == metric.unit
        assert row["Better"] == metric.better.value
        assert row["Minimum observations"] == metric.min_n
        assert (row["Default target"] is None or row["Default target"] != row["Default target"]) if metric.target is None else row["Default target"] == metric.target
        assert row["Rules"] == ", ".join(rule.name for rule in RULES.values() if metric.name in rule.affects)
    cards = text(at)
    for metric in METRICS_LIST:  # the readable list: one card per measure, with its description
        assert f'id="kpi-{metric.name}"' in cards
    assert "GOV.UK Service Manual, &quot;Digital take-up&quot;" in cards
    # on-time rate: default 90%, with the targets file's two service overrides in words
    on_time = table.filter(pl.col("Name") == "on_time_rate").row(0, named=True)
    assert on_time["Targets"].startswith("90.0% (")
    assert "85.0% for service" in on_time["Targets"] and "95.0% for service" in on_time["Targets"]
    assert on_time["Rules"] == "admin_close_60s, no_due_date"


def test_target_overrides_come_from_the_targets_file_with_its_version(app_env):
    targets = load_targets()
    at = open_page()
    tables = [pl.from_pandas(element.value) for element in at.dataframe if "Applies to" in element.value.columns]
    assert len(tables) == 1
    shown = tables[0]
    assert shown.height == len(targets.rows)
    assert sorted(zip(shown["Name"], shown["Target"], strict=True)) == sorted((row.kpi, row.value) for row in targets.rows)
    passport = shown.filter((pl.col("Name") == "on_time_rate") & (pl.col("service_id") == "passport")).row(0, named=True)
    assert passport["Target"] == 85.0 and passport["Default target"] == 90.0
    assert passport["Reason"] == "Agreed peak-season standard for passports"
    assert f"version **{targets.version}**" in text(at)


def test_one_measure_from_the_url_shows_only_its_card_and_targets(app_env):
    at = open_page({"kpi": "on_time_rate"})
    assert at.selectbox(key="param-kpi").value == "on_time_rate"
    cards = text(at)
    assert 'id="kpi-on_time_rate"' in cards and 'id="kpi-volume"' not in cards
    overrides = next(pl.from_pandas(e.value) for e in at.dataframe if "Applies to" in e.value.columns)
    assert sorted(overrides["service_id"].to_list()) == ["disability", "passport"]
    # a measure without overrides says so
    at = open_page({"kpi": "volume"})
    assert any("no targets of its own" in info.value for info in at.info)


def test_loads_and_the_data_extent_are_shown(app_env, window, all_departments):
    engine, _week, _monday, (first, last) = window
    loads = run_extract(engine, "data_loads", departments=all_departments)
    at = open_page()
    shown = pl.from_pandas(frame_titled(at, "Load"))
    assert shown["Load"].to_list() == loads["load_id"].to_list()
    assert shown["Rows"].to_list() == loads["rows_loaded"].to_list()
    assert shown["Kind"].to_list() == loads["kind"].to_list()
    body = text(at)
    assert f"{loads['rows_loaded'][0]:,} rows" in body
    assert f"**{first:%A %d %B %Y}** to **{last:%A %d %B %Y}**" in body


@pytest.mark.parametrize("weeks", ["13", "4"])
def test_rule_counts_are_the_engines_over_the_window(app_env, window, all_departments, weeks):
    engine, week, monday, _ = window
    expected = expected_counts(engine, all_departments, monday, int(weeks))
    at = open_page({"weeks": weeks} if weeks != "13" else None)
    shown = pl.from_pandas(frame_titled(at, "Rule"))
    counts = dict(zip(shown["Rule"], shown["Rows touched"], strict=True))
    assert counts == expected
    assert expected["admin_close_60s"] > 0 and expected["short_abandon_5s"] > 0 and expected["resumed_journey"] > 0
    first_day = monday - timedelta(weeks=int(weeks) - 1)
    body = text(at)
    assert f"From {first_day:%d %B %Y} to {monday + timedelta(days=6):%d %B %Y} ({weeks} weeks), all departments" in body
    assert f"**admin close 60s**: {expected['admin_close_60s']:,} of " in body
    # the shares are the rows touched over the rows the rule was applied to
    admin = shown.filter(pl.col("Rule") == "admin_close_60s").row(0, named=True)
    assert admin["Share (%)"] == pytest.approx(100 * admin["Rows touched"] / admin["Out of"])


def test_rule_counts_of_one_department(app_env, window, small_tables):
    engine, _week, monday, _ = window
    department = small_tables["departments"]["department_id"][0]
    expected = expected_counts(engine, [department], monday, 13)
    at = open_page({"department": department})
    assert at.selectbox(key="param-department").value == department
    shown = pl.from_pandas(frame_titled(at, "Rule"))
    assert dict(zip(shown["Rule"], shown["Rows touched"], strict=True)) == expected


def test_without_imports_the_page_says_there_were_none(app_env):
    at = open_page()
    assert "There have been no imports" in text(at)


def test_imports_are_shown_with_their_reconciliation_when_the_extract_exists(app_env, monkeypatch):
    """Any frame with rows_read and outcome counts is reconciled (one that does not add up is marked)."""
    import data.extracts
    from dashboard import state

    imports = pl.DataFrame(
        {
            "load_id": [2, 3], "file_name": ["boston.csv", "calls.csv"], "rows_read": [100, 50],
            "rows_inserted": [90, 40], "rows_excluded": [6, 5], "rows_quarantined": [4, 4],
        }
    )
    real_names, real_run = data.extracts.extract_names, state.run_extract
    monkeypatch.setattr(data.extracts, "extract_names", lambda: sorted({*real_names(), "imports"} - {"import_rule_counts"}))
    monkeypatch.setattr(state, "run_extract", lambda engine, name, **kw: imports if name == "imports" else real_run(engine, name, **kw))
    at = open_page()
    body = text(at)
    assert "2 imports; rows read = rows loaded + excluded + quarantined does **not** hold for 1 of them" in body
    shown = pl.from_pandas([e.value for e in at.dataframe if "Accounted for" in e.value.columns][0])
    assert shown["Accounted for"].to_list() == [100, 49]
    assert shown["Adds up"].to_list() == ["✔ yes", "✖ no"]


def test_the_page_is_reached_through_the_navigation(app_env):
    from tests.dashboard.conftest import APP

    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(page_file("pages/catalogue.py")).run()
    assert not at.exception
    assert at.title[0].value == "Metric catalogue and data quality"


def test_the_facts_window_covers_each_weeks_year_and_is_shared_by_a_quarter_of_weeks():
    from datetime import date

    from dashboard.state import FACTS_BLOCK_WEEKS, facts_window

    as_of = date(2026, 11, 25)  # a Wednesday: its week is in progress
    latest = date(2026, 11, 23)
    windows = {}
    for back in range(104):
        monday = latest - timedelta(weeks=back)
        first, last = facts_window(monday, as_of)
        assert first <= monday - timedelta(weeks=52) and last >= monday + timedelta(days=6)
        assert (last - first).days + 1 == 7 * (52 + FACTS_BLOCK_WEEKS)
        windows.setdefault((first, last), []).append(back)
    assert all(len(backs) == FACTS_BLOCK_WEEKS for backs in windows.values())
    assert windows[facts_window(latest, as_of)] == list(range(FACTS_BLOCK_WEEKS))  # this week and the 12 before


def test_an_empty_database_still_shows_the_catalogue_and_says_what_to_do(tmp_path, monkeypatch):

    with app_on(f"duckdb:///{tmp_path / 'empty.duckdb'}", monkeypatch):
        at = open_page()
        assert len([e for e in at.dataframe if "Definition" in e.value.columns][0].value) == len(METRICS_LIST)
        infos = " ".join(info.value for info in at.info)
        assert "No data has been loaded yet. Run `python -m data generate`" in infos
        assert "There are no cases or contacts in the database" in infos


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_real_import_is_listed_with_its_reconciliation(tmp_path, monkeypatch, request, backend):
    """An export in Boston 311's layout imported into an empty database: the page lists
    the import as the importer recorded it (the imports extracts, on both databases), and
    says its rows add up."""

    from data.importer import import_file
    from tests.imports import boston

    export = boston.write(tmp_path / "export.csv", [
        boston.case(101, "01/05/2015 09:00:00 AM", "01/06/2015 10:00:00 AM"),
        boston.case(102, "01/05/2015 09:30:00 AM"),
        boston.case(103, "01/05/2015 10:00:00 AM", source="Citizens Connect App"),
    ])
    url = f"duckdb:///{tmp_path / 'imported.duckdb'}" if backend == "duckdb" else request.getfixturevalue("make_postgres_database")()
    result = import_file(export, "boston311", url)
    with app_on(url, monkeypatch):
        at = open_page()
        shown = pl.from_pandas([e.value for e in at.dataframe if "Accounted for" in e.value.columns][0])
        row = shown.row(0, named=True)
        assert (row["Load"], row["Into"], row["Read"]) == (result.load_id, "cases", result.reconciliation.read)
        assert row["Inserted"] == result.reconciliation.inserted == 3
        assert row["Accounted for"] == row["Read"] and row["Adds up"] == "✔ yes"
        assert "1 import; rows read = rows loaded + excluded + quarantined holds for every one." in text(at)
        assert "3 read = 3 loaded (3 new, 0 updated, 0 unchanged) + 0 excluded + 0 quarantined: ✔ adds up" in text(at)
        loads = pl.from_pandas(frame_titled(at, "Load"))
        assert loads["Kind"].to_list() == ["import"]


def test_a_viewer_of_one_department_sees_only_its_targets(app_env):
    """The targets file sets targets for other departments' services (vehicle_tax,
    housing_benefit, benefits...): a civil viewer sees civil's rows (passport,
    building_permit) and none of theirs, in the cards or the overrides' table."""
    from data.access import Viewer
    from data.demo_world import DEPARTMENTS, SERVICES
    from tests.dashboard.test_viewer import open_app

    targets = load_targets()
    foreign = {row.service_id for row in targets.rows if row.service_id} - {"passport", "building_permit", "birth_registration", "marriage_notice"}
    assert {"vehicle_tax", "housing_benefit"} <= foreign  # the file does name others' services
    at = open_app(Viewer("civil analyst", {"civil"}, {"analyst"}), page="pages/catalogue.py")
    assert not at.exception, at.exception
    overrides = next(element.value for element in at.dataframe if "Applies to" in element.value.columns)
    shown = text(at) + "\n" + "\n".join(element.value.to_csv() for element in at.dataframe)
    others = [name for department, name in DEPARTMENTS if department != "civil"]
    others += [spec.name for spec in SERVICES if spec.department_id != "civil"]
    others += [spec.service_id for spec in SERVICES if spec.department_id != "civil"]
    assert [word for word in others if word in shown] == []
    assert "Passport application" in shown and "Building permit" in shown  # civil's own targets stay
    assert overrides.shape[0] == sum(1 for row in targets.rows if row.service_id in {"passport", "building_permit"} or
                                     (row.office_id and not row.service_id and not row.department_id) or row.department_id == "civil")
