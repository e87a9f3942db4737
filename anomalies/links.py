"""Links into the dashboard with the right filters: the one place that names the
dashboard's pages in the URL and the URL parameters they read.

The dashboard routes its pages by PAGES (dashboard/app.py) and reads its filters by these
parameter names (dashboard/params.py, dashboard/drilldown_data.py); notifications
(notify/) build their links here. The drill-down page takes ``kpi``, ``department``,
``service``, ``office``, ``channel`` and ``week``; the Overview ``department``,
``service`` and ``week``; the Anomalies page ``scope`` (a series id:
forecasting.series_id), ``kpi``, ``grain`` and ``flag``. A link names only the filters
it sets.
"""

from __future__ import annotations

from urllib.parse import urlencode

from forecasting.series_id import format_id

# Each page's path in the URL (st.Page's url_path; the Overview is also the default, "/").
PAGES = {
    "overview": "overview",
    "drilldown": "drilldown",
    "queues": "queues",
    "satisfaction": "satisfaction",
    "anomalies": "anomalies",
    "planner": "planner",
    "catalogue": "catalogue",
    "tables": "tables",
    "audit": "audit",
    "published": "published",
}

# URL parameters shared by links and pages.
KPI = "kpi"
WEEK = "week"
DEPARTMENT = "department"
SERVICE = "service"
OFFICE = "office"
CHANNEL = "channel"
SCOPE = "scope"
GRAIN = "grain"
FLAG = "flag"
# The drill-down's scope: each level's column, and its URL parameter.
SCOPE_PARAMS = {"department_id": DEPARTMENT, "service_id": SERVICE, "office_id": OFFICE, "channel": CHANNEL}


def _url(base: str, page: str, params: dict[str, str | None]) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return f"{base.rstrip('/')}/{PAGES[page]}" + (f"?{query}" if query else "")


def scope_filters(scope_kind: str, scope_id: str, department_id: str | None) -> dict[str, str | None]:
    """The drill-down's scope filters for a flag's scope."""
    return {
        DEPARTMENT: department_id if scope_kind in ("department", "service") else None,
        SERVICE: scope_id if scope_kind == "service" else None,
        OFFICE: scope_id if scope_kind == "office" else None,
        CHANNEL: scope_id if scope_kind == "channel" else None,
    }


def drilldown_url(flag: dict, base: str = "") -> str:
    """The drill-down at the flag's KPI, scope and ISO week."""
    return _url(base, "drilldown", {KPI: flag["kpi"], **scope_filters(flag["scope_kind"], flag["scope_id"], flag.get("department_id")), WEEK: flag["week"]})


def anomaly_url(flag: dict, base: str = "") -> str:
    """The Anomalies page with this flag selected."""
    return _url(base, "anomalies", {
        GRAIN: flag["grain"] if flag["grain"] != "day" else None,
        SCOPE: format_id(flag["scope_kind"], flag["scope_id"]), KPI: flag["kpi"], FLAG: flag["flag_key"],
    })


def overview_url(week: str, department: str | None = None, service: str | None = None, base: str = "") -> str:
    """The weekly scorecard of a scope and week."""
    return _url(base, "overview", {DEPARTMENT: department, SERVICE: service, WEEK: week})
