"""Pages run through Streamlit's AppTest against the small world in DuckDB."""

from __future__ import annotations

import pytest
import streamlit as st

from tests.conftest import ROOT

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture
def app_env(duckdb_url, monkeypatch):
    """Point the app at the small world and start each test with empty caches."""
    monkeypatch.setenv("KPI_DATABASE_URL", duckdb_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield duckdb_url
    st.cache_data.clear()
    st.cache_resource.clear()
