"""The planner page with a roster (AppTest): the staffing comparison uses the imported
shifts in the week they cover and says plainly where it falls back to hours from costs;
the shift plan's gaps per half hour are whole people (needed - scheduled); a week edited
on the page is saved, and a bad row saves nothing and says which row and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from data.database import create_engine
from data.importer import import_file
from tests.dashboard.conftest import app_on
from tests.dashboard.planner_world import make_planner_world
from tests.dashboard.test_planner import frame_with, open_planner
from tests.fixtures.rosters import EXAMPLE

MONDAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def roster_url(small_tables, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = make_planner_world(tmp_path_factory.mktemp("planner-roster"), small_tables)
    result = import_file(EXAMPLE, "rosters_example", url)
    assert result.reconciliation.loaded == 32
    return url


@pytest.fixture
def roster_env(roster_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with app_on(roster_url, monkeypatch) as url:
        yield url


def notes(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def office_name(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT name FROM offices WHERE office_id = 'sheffield_cc'")).scalar_one()
    finally:
        engine.dispose()


def test_the_roster_is_used_where_imported_and_the_fallback_is_said(roster_env):
    at = open_planner(office="sheffield_cc")
    name = office_name(roster_env)
    shown = notes(at)
    assert plain(f"Week of Mon 23 Nov 2026: scheduled staff come from the roster of {name} (people on shift per half hour, "
                 "off their breaks).") in shown
    assert any(text.startswith(f"No roster imported for {name} in week of Mon 30 Nov 2026; scheduled hours are inferred from staff costs")
               for text in shown), shown
    days = frame_with(at, "Roster from")
    sources = dict(zip([pd.Timestamp(d).date() for d in days["Date"]], days["Roster from"], strict=True))
    assert [sources[MONDAY + dt.timedelta(days=i)] for i in range(7)] == ["roster"] * 7
    assert "roster" not in {sources[MONDAY + dt.timedelta(days=i)] for i in range(7, 14)}
    # Monday's rostered hours: 6 shifts of 8 hours less 30 minutes' break each, 45 staff-hours on the queue
    assert days.loc[[pd.Timestamp(d).date() == MONDAY for d in days["Date"]], "Rostered (staff-hours)"].item() == 45.0
    # the shift plan: whole people needed, scheduled and short, by hand from the example
    gaps = frame_with(at, "Short (needed − scheduled)")
    monday = gaps[[pd.Timestamp(d).date() == MONDAY for d in gaps["Date"]]].set_index("From")
    # 08:00 the three early shifts; 11:30 all three on break (08:00-16:00's middle less 15 min, back to the half hour),
    # before the late shifts start at 12:00; 13:00 all six; 15:30 the late ones on break
    for slot, people in {"08:00": 3, "11:30": 0, "13:00": 6, "15:30": 3, "19:30": 3}.items():
        if slot in monday.index:
            assert monday.loc[slot, "Scheduled (whole people)"] == people, slot
    assert "13:00" in monday.index and "08:00" in monday.index
    assert (gaps["Short (needed − scheduled)"] == gaps["Needed (people)"] - gaps["Scheduled (whole people)"]).all()
    # the needed people are the people-per-half-hour chart's, and the days are the roster's week only
    people = frame_with(at, "Half hour from")
    assert int(people.set_index("Half hour from").loc["13:00", "Mon 23 Nov"]) == monday.loc["13:00", "Needed (people)"]
    assert {pd.Timestamp(d).date() for d in gaps["Date"]} <= {MONDAY + dt.timedelta(days=i) for i in range(7)}
    assert any("the shift plan is short in" in m.value or "the shift plan covers every one" in m.value for m in at.markdown)


def test_without_a_roster_the_page_says_so(roster_env):
    at = open_planner(office="sheffield_cc", **{"from": "2026-11-30", "to": "2026-12-06"})
    name = office_name(roster_env)
    assert plain(f"No roster imported for {name} in week of Mon 30 Nov 2026; scheduled hours are inferred from staff costs (the "
                 "last 4 weeks' hours carry on after the last record, spread over the day like the arrivals).") in notes(at)
    assert any("no shift plan to compare" in i.value for i in at.info)


def editor(at: AppTest):
    (table,) = at.data_editor
    return table


def test_editing_a_week_saves_it_and_a_bad_row_saves_nothing(roster_env):
    at = open_planner(office="sheffield_cc")
    shown = editor(at).value
    assert len(shown) == 32 and shown["person_or_team"].iloc[0] == "agent-001"
    key = editor(at).key
    # a bad edit: agent-001's first shift made to end before it starts, and a new overlapping shift
    at.session_state[key] = {"edited_rows": {0: {"shift_end": "2026-11-23T07:00:00"}},
                             "added_rows": [{"person_or_team": "agent-002", "shift_start": "2026-11-23T09:00:00",
                                             "shift_end": "2026-11-23T10:00:00", "break_minutes": 0}], "deleted_rows": []}
    at.button[-1].click().run()
    assert not at.exception, at.exception
    assert any("Nothing was saved" in e.value for e in at.error)
    texts = [t.value for t in at.text]
    assert "Row 1: the shift ends before (or when) it starts" in texts
    assert any(t.startswith("Row 33: it overlaps row") and "of the same person or team" in t for t in texts), texts
    engine = create_engine(roster_env)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM roster_shifts")).scalar_one() == 32
            assert conn.execute(sa.text("SELECT MIN(shift_end) FROM roster_shifts")).scalar_one() == dt.datetime(2026, 11, 23, 16)
        # a good edit: agent-001 stays an hour longer on Monday, a new shift for agent-007, Saturday's agent-002 removed
        saturday_002 = int(shown.index[(shown["person_or_team"] == "agent-002") & (shown["shift_start"].dt.dayofweek == 5)][0])
        at.session_state[key] = {"edited_rows": {0: {"shift_end": "2026-11-23T17:00:00"}},
                                 "added_rows": [{"person_or_team": "agent-007", "shift_start": "2026-11-24T10:00:00",
                                                 "shift_end": "2026-11-24T14:00:00", "break_minutes": 0}],
                                 "deleted_rows": [saturday_002]}
        at.button[-1].click().run()
        assert not at.exception, at.exception
        assert any("Saved the week of 23 November 2026: 1 shift added, 1 changed, 1 removed." in s.value for s in at.success)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT person_or_team, shift_start, shift_end, source FROM roster_shifts "
                                        "WHERE person_or_team IN ('agent-001', 'agent-007') AND shift_start < :tue"),
                                {"tue": dt.datetime(2026, 11, 25)}).all()
            assert sorted(tuple(r) for r in rows) == [
                ("agent-001", dt.datetime(2026, 11, 23, 8), dt.datetime(2026, 11, 23, 17), "rosters_example"),
                ("agent-001", dt.datetime(2026, 11, 24, 8), dt.datetime(2026, 11, 24, 16), "rosters_example"),
                ("agent-007", dt.datetime(2026, 11, 24, 10), dt.datetime(2026, 11, 24, 14), "planner page"),
            ]
            assert conn.execute(sa.text("SELECT COUNT(*) FROM roster_shifts")).scalar_one() == 32
        # the plan follows: Monday now has 45.5 staff-hours rostered
        days = frame_with(at, "Roster from")
        assert days.loc[[pd.Timestamp(d).date() == MONDAY for d in days["Date"]], "Rostered (staff-hours)"].item() == 46.0
    finally:
        engine.dispose()
