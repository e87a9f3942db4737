"""Published series on the dashboard through AppTest: the Overview's "Published series"
section (latest period at the series' own grain, previous period, same period last year,
target and status) and the Published series page (trend at that grain, the breakdown the
source has, and where it stops), on the small world with a small imported set
(tests/published_set.py, hand-computed there) and on NHS England's A&E file imported
through its mapping into a database of its own."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from data.access import Viewer
from data.importer import import_file
from tests.conftest import SHARED_DATA
from tests.dashboard.conftest import APP, app_on, page_file
from tests.published_set import import_published_set

NHS_AE_FILE = SHARED_DATA / "nhs_ae_attendances_2016_2019.csv"


@pytest.fixture(scope="module")
def published_url(duckdb_url, tmp_path_factory) -> str:
    """A copy of the small world with the small published set imported."""
    folder = tmp_path_factory.mktemp("published")
    path = folder / "published.duckdb"
    shutil.copy(duckdb_url.removeprefix("duckdb:///"), path)
    url = f"duckdb:///{path}"
    assert import_published_set(url, folder).reconciliation.loaded == 7
    return url


@pytest.fixture(scope="module")
def nhs_url(tmp_path_factory) -> str:
    """An empty database with NHS England's A&E file imported with nhs_ae and nhs_ae_admissions."""
    if not NHS_AE_FILE.is_file():
        pytest.skip(f"the real file is not at {NHS_AE_FILE}")
    url = f"duckdb:///{tmp_path_factory.mktemp('nhs_page') / 'nhs.duckdb'}"
    assert import_file(NHS_AE_FILE, "nhs_ae", url).reconciliation.loaded == 12_764
    import_file(NHS_AE_FILE, "nhs_ae_admissions", url)
    return url


def _open(viewer: Viewer | None = None, page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if viewer is not None:
        at.session_state["viewer"] = viewer
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page_file(page))
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, first_column: str):
    return next(frame.value for frame in at.dataframe if frame.value.columns[0] == first_column)


def _text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_the_overview_shows_a_departments_published_series_at_its_own_grain(published_url, monkeypatch):
    with app_on(published_url, monkeypatch):
        at = _open(department="civil")
    assert "Published series" in [s.value for s in at.subheader]
    table = _table(at, "Series")
    assert table.to_dict("records") == [{
        "Series": "Passports issued within 3 weeks", "Published": "per month", "Latest period": "Oct 2026", "Value": "75.00%",
        "Status": "✖ Off target", "Target": "80.00%", "Previous period": "Sep 2026", "Previous value": "80.00%",
        "Change on previous": "−5.00 pts, worse", "Same period last year": "Oct 2025", "Value last year": "90.00%",
        "Change on last year": "−15.00 pts, worse", "Note": "",
    }]  # revenue's refunds are not civil's
    text = _text(at)
    assert "Civil Registration and Permits has 1 published series (per month); 0 of the 1 with a published target on target." in text
    assert '<span aria-hidden="true">✖</span> Off target</span>' in text  # icon and word, not colour alone
    assert "Passports issued within 3 weeks, published per month: 75.00% in Oct 2026, off target (80.00%)" in text
    assert 'href="/published?series=passport_standard&amp;department=civil"' in text
    periods = table.iloc[0][["Published", "Latest period", "Previous period", "Same period last year"]]
    assert "week" not in " ".join(periods.tolist())  # never a weekly comparison for a monthly series


def test_an_earlier_week_shows_the_months_over_by_then_and_says_what_is_not_published(published_url, monkeypatch):
    with app_on(published_url, monkeypatch):
        at = _open(department="civil", week="2026-W43")  # ends Sunday 25 October: October is not over
    row = _table(at, "Series").iloc[0]
    assert (row["Latest period"], row["Value"], row["Status"]) == ("Sep 2026", "80.00%", "✔ On target")
    assert (row["Previous period"], row["Previous value"], row["Change on previous"]) == ("Aug 2026", "not published", "–")
    assert (row["Same period last year"], row["Value last year"]) == ("Sep 2025", "not published")
    assert "the previous month (Aug 2026) is not published" in _text(at)


def test_a_viewer_sees_only_the_published_series_of_their_departments(published_url, monkeypatch):
    with app_on(published_url, monkeypatch):
        everyone = _open()
        civil = _open(Viewer("civil head", {"civil"}, {"head"}))
        page = _open(Viewer("civil head", {"civil"}, {"head"}), page="pages/published.py")
    assert list(_table(everyone, "Series")["Series"]) == ["Passports issued within 3 weeks", "Tax refunds paid within 10 days"]
    assert list(_table(civil, "Series")["Series"]) == ["Passports issued within 3 weeks"]
    series = next(box for box in page.selectbox if box.label == "Series")
    assert [str(option) for option in series.options] == ["Passports issued within 3 weeks"]
    assert "Tax refunds" not in _text(page)


def test_the_published_page_walks_down_to_the_offices_and_says_where_it_stops(published_url, monkeypatch):
    with app_on(published_url, monkeypatch):
        top = _open(page="pages/published.py", series="passport_standard")
        service = _open(page="pages/published.py", series="passport_standard", department="civil", service="passport", at="2026-10-01")
        office = _open(page="pages/published.py", series="passport_standard", department="civil", service="passport", office="leeds")
    trend = _table(top, "Period")
    assert list(trend["Period"]) == ["Oct 2025", "Sep 2026", "Oct 2026", "Nov 2026"]
    assert list(trend["Value"]) == ["90.00%", "80.00%", "75.00%", "10.00%"]
    assert plain("Passports issued within 3 weeks for every department you may see, per month, Oct 2025 to Nov 2026: lowest 10.00% in "
                 "Nov 2026, highest 90.00% in Oct 2025; latest 10.00% in Nov 2026.") in _text(top)
    assert [box.label for box in top.selectbox] == ["Series", "Department", "Period"]  # offices only below a service
    peers = _table(service, "Office")
    assert peers[["Office", "Value", "Status"]].to_dict("records") == [
        {"Office": "Leeds Service Centre", "Value": "60.00%", "Status": "✖ Off target"},
        {"Office": "Newcastle Service Centre", "Value": "90.00%", "Status": "✔ On target"}]
    assert plain("In Oct 2026, 2 offices: lowest Leeds Service Centre (60.00%), highest Newcastle Service Centre (90.00%); 1 of 2 on target.") in _text(service)
    assert "Where it stops" in [s.value for s in office.subheader]
    assert [i.value for i in office.info] == [
        "Passports issued within 3 weeks is published per department, service and office, by month; there are no individual "
        "cases, calls or ratings behind it, so the drill-down stops there. It has no channel breakdown. Go up a level with the boxes above."]
    assert list(_table(office, "Period")["Value"]) == ["90.00%", "80.00%", "60.00%", "10.00%"]  # Leeds alone


def test_nhs_englands_a_and_e_on_the_overview_and_its_page(nhs_url, monkeypatch):
    with app_on(nhs_url, monkeypatch):
        overview = _open()  # no cases or calls: the published series are what there is
        page = _open(page="pages/published.py", series="ae_four_hour", department="nhs_england_ae", at="2019-02-01")
    row = _table(overview, "Series").set_index("Series").loc["A&E 4-hour standard: attendances seen within 4 hours"]
    assert (row["Latest period"], row["Previous period"], row["Previous value"], row["Target"]) == ("Mar 2019", "Feb 2019", "84.23%", "95.00%")
    assert row["Status"] == "✖ Off target"
    trend = _table(page, "Period").set_index("Period")
    assert trend.loc["Feb 2019", "Value"] == "84.23%" and trend.loc["Aug 2016", "Value"] == "90.98%"
    assert "lowest 84.23% in Feb 2019, highest 90.98% in Aug 2016" in _text(page)
    services = _table(page, "Service")
    assert len(services) == 3 and set(services["Status"]) <= {"✖ Off target", "▲ Near target", "✔ On target"}


def test_a_department_with_only_published_series_sees_them_first(duckdb_url, tmp_path, monkeypatch):
    """NHS England A&E imported beside the small world: its weekly measures are empty, so
    the Overview says so and shows its published series before them."""
    if not NHS_AE_FILE.is_file():
        pytest.skip(f"the real file is not at {NHS_AE_FILE}")
    path = tmp_path / "beside.duckdb"
    shutil.copy(duckdb_url.removeprefix("duckdb:///"), path)
    import_file(NHS_AE_FILE, "nhs_ae", f"duckdb:///{path}")
    with app_on(f"duckdb:///{path}", monkeypatch):
        nhs = _open(department="nhs_england_ae")
        civil = _open(department="civil")
    assert [i.value for i in nhs.info][0].startswith(plain("NHS England A&E has no cases, calls, visits or ratings in the 13 weeks to this week"))
    assert "Published series" in [s.value for s in nhs.subheader]
    assert "Published series" not in [s.value for s in civil.subheader]  # civil has none
