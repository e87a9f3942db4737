"""The dashboard on a database that holds only an imported export (Boston 311, 2015):
every page works and says plainly what is missing."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data.importer import import_file
from tests.dashboard.conftest import APP, app_on, page_file
from tests.imports.conftest import REAL_FILES, _require_real_data


@pytest.fixture(scope="module")
def boston_url(tmp_path_factory):
    _require_real_data()
    url = f"duckdb:///{tmp_path_factory.mktemp('boston') / 'boston.duckdb'}"
    import_file(REAL_FILES["boston311"], "boston311", url)
    return url


@pytest.fixture
def boston_only(boston_url, monkeypatch):
    with app_on(boston_url, monkeypatch) as url:
        yield url


def open_page(page: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        at.switch_page(page_file(f"pages/{page}.py")).run()
    assert not at.exception, at.exception
    return at


def test_the_tables_page_shows_imported_data_alone(boston_only):
    at = open_page("tables")
    table = at.dataframe[0].value
    shown = dict(zip(table["Table"], table["Rows"], strict=True))
    assert shown["cases"] == 121_145
    assert shown["contacts"] == shown["feedback"] == shown["journeys"] == 0
    assert any("Data as of Thursday 31 December 2015" in c.value for c in at.caption)


def test_the_overview_scores_boston_and_says_what_is_missing(boston_only):
    at = open_page(None)
    notices = " ".join(info.value for info in at.info)
    assert "no calls or visits, satisfaction ratings, online journeys or costs" in notices
    # the case measures have values; the missing ones say why instead of showing zero
    assert "2015-W52" in at.subheader[0].value
    html = " ".join(m.value for m in at.markdown)
    assert "no ratings" in html and "no calls" in html
    assert "£0.00" not in html  # no costs is not "free"


def test_the_drill_down_walks_boston_cases(boston_only):
    at = open_page("drilldown")
    assert "On-time rate" in " ".join(h.value for h in at.subheader)


@pytest.mark.parametrize(("page", "says"), [("queues", "no calls or visits"), ("satisfaction", "no satisfaction ratings or online journeys")])
def test_pages_without_their_data_say_so(boston_only, page, says):
    at = open_page(page)
    assert says in " ".join(info.value for info in at.info)


def test_the_planner_explains_there_is_no_forecast_yet(boston_only):
    at = open_page("planner")
    assert "python -m forecasting run" in " ".join(info.value for info in at.info)
