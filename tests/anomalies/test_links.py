"""anomalies.links is the one place for the dashboard's page paths and URL parameters:
the app routes its pages by it, the pages read its parameter names, and notifications'
links are built with it."""

from __future__ import annotations

import ast
from urllib.parse import parse_qs, urlsplit

from anomalies import links
from tests.conftest import ROOT

APP = ROOT / "dashboard" / "app.py"
FLAG = {"kpi": "on_time_rate", "scope_kind": "service", "scope_id": "passport", "department_id": "civil",
        "week": "2026-W47", "grain": "week", "flag_key": "week|service|passport|on_time_rate|low|2026-11-16"}


def routed_pages() -> dict[str, str]:
    """{page file stem: the PATHS key its url_path names} for every st.Page in app.py."""
    routed = {}
    for node in ast.walk(ast.parse(APP.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            stem = node.args[0].right.value.removesuffix(".py")
            url_path = next(k.value for k in node.keywords if k.arg == "url_path")
            assert isinstance(url_path, ast.Subscript) and url_path.value.id == "PATHS", f"{stem}: url_path is not PATHS[...]"
            routed[stem] = url_path.slice.value
    return routed


def test_the_app_routes_every_page_by_its_path_here():
    routed = routed_pages()
    assert routed == {page: page for page in links.PAGES}
    for page, path in links.PAGES.items():
        assert (ROOT / "dashboard" / "pages" / f"{page}.py").is_file()
        assert path == page  # Streamlit's own path for the file: old links keep working


def test_links_name_the_pages_and_parameters_the_dashboard_reads():
    from dashboard import drilldown_data

    assert drilldown_data.URL_KEYS is links.SCOPE_PARAMS
    drill = urlsplit(links.drilldown_url(FLAG, "https://kpi.example"))
    assert drill.path == f"/{links.PAGES['drilldown']}"
    assert parse_qs(drill.query) == {links.KPI: ["on_time_rate"], links.DEPARTMENT: ["civil"], links.SERVICE: ["passport"], links.WEEK: ["2026-W47"]}
    anomaly = urlsplit(links.anomaly_url(FLAG))
    assert anomaly.path == f"/{links.PAGES['anomalies']}"
    assert parse_qs(anomaly.query)[links.SCOPE] == ["service:passport"]
    assert links.overview_url("2026-W47", "civil") == "/overview?department=civil&week=2026-W47"
