"""The tables page lists the tables and the rows the viewer may see."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from data.build import row_counts
from data.database import create_engine
from tests.dashboard.conftest import APP, app_on, page_file


def test_tables_page_lists_every_table_with_its_row_count(app_env):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(page_file("pages/tables.py")).run()
    assert not at.exception
    assert at.title[0].value == "Tables"
    table = at.dataframe[0].value
    shown = dict(zip(table["Table"], table["Rows"], strict=True))
    expected = row_counts(create_engine(app_env))
    for name in ("cases", "contacts", "journeys", "feedback", "costs", "incidents"):
        assert shown[name] == expected[name] > 0
    assert any("Data as of" in c.value for c in at.caption)


def test_a_database_that_cannot_be_reached_is_explained(monkeypatch):

    with app_on("postgresql://postgres@127.0.0.1:1/kpi", monkeypatch):
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert not at.exception
        shown = at.error[0].value.replace("\\", "")  # as it reads (the text is escaped Markdown)
        assert "cannot connect to PostgreSQL at 127.0.0.1:1/kpi" in shown
        assert "tries again every 30 seconds" in shown
