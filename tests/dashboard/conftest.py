"""Pages run through Streamlit's AppTest against the small world in DuckDB."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import streamlit as st

from tests.conftest import ROOT

APP = str(ROOT / "dashboard" / "app.py")


@contextlib.contextmanager
def app_on(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app pointed at the database ``url`` for the block, with Streamlit's caches
    empty at its start and its end (a test never sees another's cached data)."""
    monkeypatch.setenv("KPI_DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        yield url
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


@pytest.fixture
def app_env(duckdb_url, monkeypatch):
    """Point the app at the small world and start each test with empty caches."""
    with app_on(duckdb_url, monkeypatch) as url:
        yield url
