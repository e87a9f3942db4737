"""Entry point: ``streamlit run dashboard/app.py``. It only routes; each page is a module."""

from __future__ import annotations

import sys
from pathlib import Path

# The packages live one level up; pages import dashboard/_boot.py by its bare name, which
# Streamlit's runner finds on its own (it puts this folder on sys.path) and tests need told.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (ROOT, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import streamlit as st  # noqa: E402
from streamlit.runtime.scriptrunner import get_script_run_ctx  # noqa: E402

from anomalies.links import PAGES as PATHS  # noqa: E402  (each page's path in the URL, shared with notify's links)
from dashboard import audit_trail, faults, state  # noqa: E402

PAGES = HERE / "pages"
# What a viewer must be able to do (data.access ABILITIES) to be offered a page; the
# page itself refuses anyone else who finds its address.
NEEDS = {"planner": "plan", "tables": "rows", "audit": "administer"}


def offered(sections: dict[str, list[st.Page]], who) -> dict[str, list[st.Page]]:
    """The sections and pages ``who`` may open (a section left empty is dropped); a viewer
    of no department, or of no role, keeps only the default page, which says so
    (state.say_who)."""
    if not state.has_departments(who):
        return {name: pages[:1] for name, pages in list(sections.items())[:1]}
    kept = {name: [page for page in pages if who.can(NEEDS.get(page.url_path, "figures"))] for name, pages in sections.items()}
    kept = {name: pages for name, pages in kept.items() if pages}
    # a viewer without a role keeps the default page, which says so (state.say_who)
    return kept or {name: pages[:1] for name, pages in list(sections.items())[:1]}


def overview_by_its_path() -> None:
    """Let /overview open the Overview. Streamlit serves its default page at "/" only and
    ignores its url_path, so /overview?week=... (the scorecard's own links, the emails'
    links from anomalies.links) said "Page not found" over the default page: a request for
    the Overview's path is taken as one for the default page, query string and all."""
    context = get_script_run_ctx()
    manager = context.pages_manager if context else None
    if manager is not None and not manager.intended_page_script_hash and manager.intended_page_name == PATHS["overview"]:
        manager.set_script_intent("", "")


def run() -> None:
    overview_by_its_path()
    st.set_page_config(page_title="Public service KPIs", page_icon=":material/monitoring:", layout="wide")
    sections = offered(
        {
            "Performance": [
                st.Page(PAGES / "overview.py", url_path=PATHS["overview"], title="Weekly scorecard", icon=":material/dashboard:", default=True),
                st.Page(PAGES / "drilldown.py", url_path=PATHS["drilldown"], title="Drill-down", icon=":material/account_tree:"),
                st.Page(PAGES / "published.py", url_path=PATHS["published"], title="Published series", icon=":material/query_stats:"),
                st.Page(PAGES / "queues.py", url_path=PATHS["queues"], title="Queues", icon=":material/groups:"),
                st.Page(PAGES / "satisfaction.py", url_path=PATHS["satisfaction"], title="Satisfaction and digital", icon=":material/sentiment_satisfied:"),
                st.Page(PAGES / "anomalies.py", url_path=PATHS["anomalies"], title="Anomalies", icon=":material/notifications_active:"),
            ],
            "Planning": [
                st.Page(PAGES / "planner.py", url_path=PATHS["planner"], title="Demand and staffing", icon=":material/calendar_month:"),
            ],
            "About the data": [
                st.Page(PAGES / "catalogue.py", url_path=PATHS["catalogue"], title="Measures and data quality", icon=":material/menu_book:"),
                st.Page(PAGES / "tables.py", url_path=PATHS["tables"], title="Tables", icon=":material/table_chart:"),
                st.Page(PAGES / "audit.py", url_path=PATHS["audit"], title="Audit", icon=":material/policy:"),
            ],
        },
        state.viewer(),
    )
    page = st.navigation(sections)
    st.session_state[audit_trail.PAGE_KEY] = page.url_path or PATHS["overview"]
    try:
        faults.guarded(page.run)
    finally:
        audit_trail.page_viewed()  # after the page: its filters as it left them in the address


run()
