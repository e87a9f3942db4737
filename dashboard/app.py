"""Entry point: ``streamlit run dashboard/app.py``. It only routes; each page is a module."""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit puts this file's folder on sys.path; the packages live one level up.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

PAGES = Path(__file__).resolve().parent / "pages"


def run() -> None:
    st.set_page_config(page_title="Public service KPIs", page_icon=":material/monitoring:", layout="wide")
    navigation = st.navigation(
        {
            "Performance": [
                st.Page(PAGES / "overview.py", title="Weekly scorecard", icon=":material/dashboard:", url_path="overview", default=True),
            ],
            "About the data": [
                st.Page(PAGES / "home.py", title="Tables", icon=":material/table_chart:", url_path="tables"),
            ],
        }
    )
    navigation.run()


run()
