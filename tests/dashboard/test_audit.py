"""The audit (data.audit, dashboard/audit_trail.py): each action a person takes leaves
exactly one row, however often Streamlit reruns the page; administrators read it on the
Audit page, and nobody else can."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import polars as pl
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import audit_trail
from data.access import ALL, Viewer
from data.audit import events
from data.database import connect, create_engine
from metrics.periods import parse_week
from tests.dashboard.test_viewer import open_app


def someone(roles: set[str], departments=ALL) -> Viewer:
    """A viewer of their own, so that this test's events are told apart from others'."""
    return Viewer(f"audit-{uuid.uuid4().hex[:8]}@example.gov", departments, frozenset(roles), subject=uuid.uuid4().hex)


def events_of(url: str, viewer: Viewer) -> pl.DataFrame:
    with connect(create_engine(url)) as conn:
        rows = conn.execute(sa.text("SELECT action, page, detail, row_count FROM audit_events WHERE email = :e ORDER BY event_id"), {"e": viewer.name})
        return pl.DataFrame([dict(row._mapping) for row in rows], schema={"action": pl.String, "page": pl.String, "detail": pl.String, "row_count": pl.Int64})


def test_a_page_opened_is_one_row_whatever_the_reruns_and_another_filter_is_another(app_env):
    viewer = someone({"head"})
    at = open_app(viewer)
    at.run()
    at.run()
    assert events_of(app_env, viewer)["action"].to_list() == ["page"]
    assert events_of(app_env, viewer)["page"].to_list() == ["overview"]
    year, number, _ = (parse_week(at.selectbox(key="param-week").value) - dt.timedelta(weeks=3)).isocalendar()
    earlier = f"{year}-W{number:02d}"
    at.selectbox(key="param-week").set_value(earlier).run()
    pages = events_of(app_env, viewer)
    assert pages["action"].to_list() == ["page", "page"]
    assert json.loads(pages["detail"][1])["week"] == earlier


def test_the_rows_behind_a_number_are_recorded_with_how_many_were_shown(app_env):
    viewer = someone({"analyst"})
    at = open_app(viewer, "pages/drilldown.py", query={"kpi": "on_time_rate", "department": "civil"})
    assert not at.exception
    at.run()
    listed = events_of(app_env, viewer).filter(pl.col("action") == "rows")
    shown = next(d for d in at.dataframe if "Case" in d.value.columns).value
    assert listed.height == 1
    assert listed["row_count"][0] == len(shown)
    detail = json.loads(listed["detail"][0])
    assert (detail["kpi"], detail["page"]) == ("on_time_rate", 1) and detail["of"] >= len(shown)


def test_a_download_is_recorded_with_its_file_and_rows(app_env):
    """What a download button's on_click runs (AppTest cannot press a download button;
    tests/e2e/test_drilldown.py presses them in Chromium)."""

    def press_download() -> None:
        from dashboard import audit_trail

        audit_trail.download("weekly-scorecard.csv", 20)

    viewer = someone({"head"})
    at = AppTest.from_function(press_download)
    at.session_state[audit_trail.SESSION_KEY] = (create_engine(app_env), viewer, ())
    at.run()
    assert not at.exception
    downloads = events_of(app_env, viewer)
    assert downloads["action"].to_list() == ["download"] and downloads["row_count"].to_list() == [20]
    assert json.loads(downloads["detail"][0])["file"] == "weekly-scorecard.csv"


def test_the_audit_page_is_for_administrators_and_lists_what_people_did(app_env):
    head = someone({"head"}, {"civil"})
    open_app(head)
    admin = someone({"admin"})
    at = open_app(admin, "pages/audit.py")
    assert not at.exception
    assert "Audit" in [t.value for t in at.title]
    table = next(d for d in at.dataframe if "Who" in d.value.columns).value
    assert head.name in set(table["Who"]) and "Opened a page" in set(table["What"])
    person = at.selectbox(key="param-person")
    person.set_value(head.subject).run()
    narrowed = next(d for d in at.dataframe if "Who" in d.value.columns).value
    assert set(narrowed["Who"]) == {head.name}

    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in a head's menu
        open_app(head, "pages/audit.py")


def test_a_viewer_of_one_department_reads_no_audit_even_from_the_extract(app_env):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine = create_engine(app_env)
    assert events(engine, ["civil"], now - dt.timedelta(days=1), now + dt.timedelta(days=1)).height == 0
