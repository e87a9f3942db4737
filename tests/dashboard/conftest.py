"""Pages run through Streamlit's AppTest against the small world in DuckDB."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import streamlit as st

from tests.conftest import ROOT, held_open

APP = str(ROOT / "tests" / "dashboard" / "app_entry.py")  # runs dashboard/app.py (see there why)


def page_file(page: str) -> str:
    """The full path of ``page`` ("pages/overview.py"), as AppTest.switch_page needs it
    from APP (which is not beside dashboard/pages)."""
    return str(ROOT / "dashboard" / page)


@contextlib.contextmanager
def app_on(url: str, monkeypatch: pytest.MonkeyPatch, *, hold: bool = False) -> Iterator[str]:
    """The app pointed at the database ``url`` for the block, with Streamlit's caches
    empty at its start and its end (a test never sees another's cached data). ``hold``:
    keep a DuckDB file open meanwhile (tests.conftest.held_open: the same queries, without
    reopening the file for each; never for a block that removes or replaces the file)."""
    monkeypatch.setenv("KPI_DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        with held_open(url) if hold else contextlib.nullcontext(url):
            yield url
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


@pytest.fixture
def app_env(duckdb_url, monkeypatch):
    """Point the app at the small world and start each test with empty caches."""
    with app_on(duckdb_url, monkeypatch, hold=True) as url:
        yield url


# Names as an import could bring them: Markdown that would link or load an image, and
# cells a spreadsheet would run as formulas.
HOSTILE_SERVICE = "[x](javascript:alert(1))"  # passport
HOSTILE_OFFICE = "=cmd|' /C calc'!A0"  # leeds
HOSTILE_DEPARTMENT = "![pixel](https://tracker.example/p.png) =HYPERLINK(\"https://phish.example\",\"Civil\")"  # civil


@pytest.fixture(scope="session")
def hostile_url(duckdb_url, tmp_path_factory) -> str:
    """A copy of the small world whose passport service, Leeds office and civil
    department carry hostile names."""
    import shutil

    from data.database import create_engine

    source = duckdb_url.removeprefix("duckdb:///")
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(source, path)
    url = f"duckdb:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        for table, key, value, name in (
            ("services", "service_id", "passport", HOSTILE_SERVICE),
            ("offices", "office_id", "leeds", HOSTILE_OFFICE),
            ("departments", "department_id", "civil", HOSTILE_DEPARTMENT),
        ):
            conn.exec_driver_sql(f"UPDATE {table} SET name = ? WHERE {key} = ?", (name, value))
    engine.dispose()
    return url


@pytest.fixture
def hostile_env(hostile_url, monkeypatch):
    with app_on(hostile_url, monkeypatch, hold=True) as url:
        yield url
