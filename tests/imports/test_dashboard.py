"""The dashboard on a database that holds only an imported export (Boston 311, 2015)."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.importer import import_file
from tests.dashboard.conftest import APP
from tests.imports.conftest import REAL_FILES, _require_real_data


@pytest.fixture
def boston_only(tmp_path, monkeypatch):
    _require_real_data()
    url = f"duckdb:///{tmp_path / 'boston.duckdb'}"
    import_file(REAL_FILES["boston311"], "boston311", url)
    monkeypatch.setenv("KPI_DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_tables_page_shows_imported_data_alone(boston_only):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/tables.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    shown = dict(zip(table["Table"], table["Rows"], strict=True))
    assert shown["cases"] == 121_145
    assert shown["contacts"] == shown["feedback"] == shown["journeys"] == 0
    assert any("Data as of" in c.value for c in at.caption)
