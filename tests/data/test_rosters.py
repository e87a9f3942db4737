"""Rosters as people per half hour (hand-computed), the editor's checks (the importer's
rules, by row), and saving a week: all of it or, on any bad row, nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from data.access import Viewer
from data.database import connect, create_engine, schema_statements
from data.rosters import (
    RosterError,
    editor_frame,
    half_hour_schedule,
    load_shifts,
    roster_weeks,
    save_week,
    shift_problems,
)

MONDAY = dt.date(2026, 11, 23)  # London is on UTC in November


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def shifts(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame([("o", *row) for row in rows], schema={"office_id": pl.String, "shift_start": pl.Datetime("us"),
                        "shift_end": pl.Datetime("us"), "break_minutes": pl.Int32}, orient="row")


def test_three_shifts_give_exact_people_per_half_hour():
    # A 09:00-17:00 with 30 min break: its middle is 13:00, less 15 min is 12:45, back to the half hour: off 12:30-13:00.
    # B 09:15-11:00, no break: 15 of the 30 minutes of 09:00-09:30. C 12:00-14:00, break 0.
    frame = half_hour_schedule(shifts((at(9), at(17), 30), (at(9, 15), at(11), None), (at(12), at(14), 0)), "Europe/London")
    expected = {(9, 0): 1.5, (9, 30): 2, (10, 0): 2, (10, 30): 2, (11, 0): 1, (11, 30): 1, (12, 0): 2, (12, 30): 1,
                (13, 0): 2, (13, 30): 2, (14, 0): 1, (14, 30): 1, (15, 0): 1, (15, 30): 1, (16, 0): 1, (16, 30): 1}
    assert_frame_equal(frame, pl.DataFrame({
        "office_id": ["o"] * len(expected), "ds": [MONDAY] * len(expected),
        "interval_start": [at(h, m) for h, m in expected], "scheduled": [float(v) for v in expected.values()],
    }))
    # the hours add up: 7.5 + 1.75 + 2 paid hours on the queue
    assert frame["scheduled"].sum() * 0.5 == pytest.approx(7.5 + 1.75 + 2)


def test_a_break_that_is_not_whole_half_hours_and_summer_time():
    july = dt.date(2026, 7, 6)  # London is UTC+1: 07:00-15:00 UTC is 08:00-16:00 local
    frame = half_hour_schedule(shifts((at(7, day=july), at(15, day=july), 45)), "Europe/London")
    # middle 12:00 local, less 22.5 min is 11:37:30, back to 11:30: off 11:30-12:15
    by_slot = dict(zip(frame["interval_start"].dt.strftime("%H:%M").to_list(), frame["scheduled"].to_list(), strict=True))
    assert by_slot["08:00"] == 1 and "07:30" not in by_slot and by_slot["15:30"] == 1 and "16:00" not in by_slot
    assert "11:30" not in by_slot  # nobody there: the half hour is absent
    assert by_slot["12:00"] == 0.5 and by_slot["11:00"] == 1 and by_slot["12:30"] == 1
    assert sum(by_slot.values()) * 0.5 == pytest.approx(8 - 0.75)
    assert roster_weeks(shifts((at(7, day=july), at(15, day=july), 0), (at(9), at(10), 0)), "Europe/London") == [july, MONDAY]


def edited(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={"shift_id": pl.Int64, "person_or_team": pl.String, "shift_start": pl.Datetime("us"),
                        "shift_end": pl.Datetime("us"), "break_minutes": pl.Int32}, orient="row")


def test_the_editor_names_every_bad_row_with_the_importers_rules():
    problems = shift_problems(edited(
        (1, "agent-001", at(8), at(16), 30),
        (None, "agent-002", at(12), at(9), 0),            # ends before it starts
        (None, "agent-003", at(6), at(22, 30), 0),        # 16.5 h
        (None, "agent-004", at(8), at(9), 60),            # the break is the whole shift
        (None, "agent-005", at(8), at(9), -5),
        (None, "agent-001", at(15), at(19), 0),           # overlaps row 1
        (None, None, at(8), at(9), 0),                    # nobody
        (None, None, None, None, None),                   # a blank new row: ignored
    ))
    assert [(p.row, p.rule) for p in problems] == [
        (2, "shift_ends_before_start"), (3, "shift_longer_than_16_hours"), (4, "break_not_shorter_than_shift"),
        (5, "negative_break"), (6, "overlapping_shift"), (7, "missing_value")]
    assert problems[4].text() == "Row 6: it overlaps row 1 (Mon 23 Nov 08:00-16:00) of the same person or team"
    assert problems[5].text() == "Row 7: the person or team is empty"


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"duckdb:///{tmp_path / 'roster.duckdb'}")
    with connect(engine, begin=True) as conn:
        for statement in schema_statements():
            conn.exec_driver_sql(statement)
        conn.execute(sa.text("INSERT INTO departments VALUES ('civil', 'Civil')"))
        conn.execute(sa.text("INSERT INTO roster_shifts VALUES (7, 'rosters_example', 'agent-001', 'o', :s, :e, 30), "
                             "(8, 'rosters_example', 'agent-002', 'o', :s, :e, 30), (9, 'rosters_example', 'agent-009', 'o', :n, :m, 0)"),
                     {"s": at(8), "e": at(16), "n": at(8, day=MONDAY + dt.timedelta(days=7)), "m": at(12, day=MONDAY + dt.timedelta(days=7))})
    yield engine
    engine.dispose()


PLANNER = Viewer("ada@example.gov", {"civil"}, {"planner"}, subject="ada")


def week(engine) -> pl.DataFrame:
    return editor_frame(load_shifts(engine, ["civil"], "o", MONDAY, MONDAY + dt.timedelta(days=6), "Europe/London"), "Europe/London")


def test_saving_a_week_adds_changes_and_removes_only_that_weeks_shifts(engine):
    current = week(engine)
    assert current["shift_id"].to_list() == [7, 8]
    new = pl.concat([
        current.filter(pl.col("shift_id") == 7).with_columns(pl.lit(at(17)).alias("shift_end")),  # agent-001 stays an hour longer
        edited((None, " agent-010 ", at(12), at(20), 30)),                                      # agent-002's shift is removed
    ])
    assert save_week(engine, PLANNER, office_id="o", timezone="Europe/London", first_day=MONDAY, edited=new, departments=["civil"]) == (1, 1, 1)
    after = week(engine)
    assert after.select("person_or_team", "shift_end").rows() == [("agent-001", at(17)), ("agent-010", at(20))]
    assert after["shift_id"][1] == 10  # above every id so far
    with connect(engine) as conn:  # the next week is untouched; the new shift says where it came from
        assert conn.execute(sa.text("SELECT COUNT(*) FROM roster_shifts WHERE shift_id = 9")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT source FROM roster_shifts WHERE shift_id = 10")).scalar_one() == "planner page"


def test_a_bad_row_saves_nothing_and_says_which(engine):
    before = week(engine)
    bad = pl.concat([before.with_columns(pl.col("break_minutes") + 15),  # a change to keep, were it saved
                     edited((None, "agent-001", at(9), at(10), 0), (None, "agent-011", at(9, day=MONDAY + dt.timedelta(days=7)), at(10), 0))])
    with pytest.raises(RosterError) as raised:
        save_week(engine, PLANNER, office_id="o", timezone="Europe/London", first_day=MONDAY, edited=bad, departments=["civil"])
    assert str(raised.value) == ("Nothing was saved. Row 3: it overlaps row 1 (Mon 23 Nov 08:00-16:00) of the same person or team. "
                                 "Row 4: the shift ends before (or when) it starts. Row 4: it starts outside the week 23 Nov to 29 Nov 2026.")
    assert_frame_equal(week(engine), before)
    with pytest.raises(RosterError, match="Only a planner or administrator may change a roster"):
        save_week(engine, Viewer("eve", {"civil"}, {"analyst"}), office_id="o", timezone="Europe/London", first_day=MONDAY,
                  edited=before, departments=["civil"])


def test_a_local_time_the_clocks_skip_saves_nothing(engine):
    spring = dt.date(2027, 3, 28)  # London's clocks go from 01:00 to 02:00
    with pytest.raises(RosterError) as raised:
        save_week(engine, PLANNER, office_id="o", timezone="Europe/London", first_day=dt.date(2027, 3, 22),
                  edited=edited((None, "agent-001", at(1, 30, day=spring), at(6, day=spring), 0)), departments=["civil"])
    assert [p.rule for p in raised.value.problems] == ["nonexistent_local_time"]
    assert str(raised.value) == "Nothing was saved. Row 1: its start or end falls when the clocks go forward, a time that does not exist in Europe/London."
