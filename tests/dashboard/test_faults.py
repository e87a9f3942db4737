"""A database that goes away mid-session (issue 15, item 9): every page, even one whose
figures are cached, says in one line what is wrong and that it will try again, with no
traceback; while the database answers, each page says when its figures were read."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data.build import build
from tests.conftest import SMALL
from tests.dashboard.conftest import APP, app_on, page_file

PAGES = ("pages/overview.py", "pages/drilldown.py", "pages/queues.py", "pages/satisfaction.py", "pages/catalogue.py", "pages/tables.py", "pages/anomalies.py", "pages/planner.py")


def shown(at: AppTest) -> str:
    """The page's error text as it reads (the Markdown escapes taken out)."""
    return " ".join(error.value for error in at.error).replace("\\", "")


def assert_one_line_fault(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert len(at.error) == 1
    text = shown(at)
    assert "\n" not in text and text.startswith("The database cannot be read just now (")
    assert text.endswith("The page tries again every 30 seconds.")
    assert "Traceback" not in text and ".py" not in text and "site-packages" not in text


def visit_every_page(at: AppTest) -> Iterator[str]:
    """Open each page in turn in ``at`` (the same AppTest, so caches carry over); yield its name."""
    for page in PAGES:
        at.switch_page(page_file(page)).run()
        yield page


def test_each_page_says_when_its_figures_were_read(app_env):
    at = AppTest.from_file(APP, default_timeout=120).run()
    for page in visit_every_page(at):
        assert not at.exception, page
        assert any("Read from the database at " in caption.value and "UTC" in caption.value for caption in at.caption), page


def test_a_removed_duckdb_file_gives_one_line_on_every_page(duckdb_url, tmp_path, monkeypatch):
    path = tmp_path / "going.duckdb"
    shutil.copy(duckdb_url.removeprefix("duckdb:///"), path)
    # A pooled connection goes on reading a removed file (it holds it open) until the idle
    # linger closes it (tests/data/test_duckdb_linger.py); here: what a page says once no
    # connection can open it.
    monkeypatch.setenv("KPI_DUCKDB_LINGER_SECONDS", "0")
    with app_on(f"duckdb:///{path}", monkeypatch):
        at = AppTest.from_file(APP, default_timeout=120).run()
        for page in visit_every_page(at):  # every page once: its figures are cached
            assert not at.exception, page
        path.unlink()
        for page in visit_every_page(at):
            assert_one_line_fault(at)
            assert "departments" in shown(at), page  # what is wrong: the tables are gone


@pytest.fixture
def own_postgres(make_postgres_database) -> str:
    """A PostgreSQL database of this test's own, holding the small world."""
    url = make_postgres_database()
    build(url, SMALL, quiet=True)
    return url


def test_a_postgres_database_that_goes_away_gives_one_line_on_every_page(own_postgres, postgres_server, monkeypatch):
    name = sa.engine.make_url(own_postgres).database
    with app_on(own_postgres, monkeypatch):
        at = AppTest.from_file(APP, default_timeout=120).run()
        for page in visit_every_page(at):
            assert not at.exception, page
        with postgres_server.connect() as conn:  # this test's own database only
            conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        for page in visit_every_page(at):
            assert_one_line_fault(at)
            assert "does not exist" in shown(at), page
