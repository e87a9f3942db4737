"""Links into the dashboard with the right filters (pages read them from the URL).

The drill-down page takes ``kpi``, ``department``, ``service``, ``office``, ``channel``
and ``week``; the Overview ``department``, ``service`` and ``week``; the Anomalies page
``scope``, ``kpi``, ``grain`` and ``flag``. A link names only the filters it sets.
"""

from __future__ import annotations

from urllib.parse import urlencode


def _url(base: str, page: str, params: dict[str, str | None]) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return f"{base.rstrip('/')}/{page}" + (f"?{query}" if query else "")


def scope_filters(scope_kind: str, scope_id: str, department_id: str | None) -> dict[str, str | None]:
    """The drill-down's scope filters for a flag's scope."""
    return {
        "department": department_id if scope_kind in ("department", "service") else None,
        "service": scope_id if scope_kind == "service" else None,
        "office": scope_id if scope_kind == "office" else None,
        "channel": scope_id if scope_kind == "channel" else None,
    }


def drilldown_url(flag: dict, base: str = "") -> str:
    """The drill-down at the flag's KPI, scope and ISO week."""
    return _url(base, "drilldown", {"kpi": flag["kpi"], **scope_filters(flag["scope_kind"], flag["scope_id"], flag.get("department_id")), "week": flag["week"]})


def anomaly_url(flag: dict, base: str = "") -> str:
    """The Anomalies page with this flag selected."""
    return _url(base, "anomalies", {
        "grain": flag["grain"] if flag["grain"] != "day" else None,
        "scope": f"{flag['scope_kind']}:{flag['scope_id']}", "kpi": flag["kpi"], "flag": flag["flag_key"],
    })


def overview_url(week: str, department: str | None = None, service: str | None = None, base: str = "") -> str:
    """The weekly scorecard of a scope and week."""
    return _url(base, "overview", {"department": department, "service": service, "week": week})
