"""Rosters: the shifts an office has planned, as people on shift per half hour, checked
and saved a week at a time from the planner page.

Shifts come from an import (``python -m data import FILE rosters_example``, target
rosters, sql/schema/090_rosters.sql) or from the planner page's editor; they are UTC
instants, shown and edited in the office's local time.

People per half hour (``half_hour_schedule``): each shift counts, in each half hour of
local time it touches, the share of the half hour it covers, less its break. The break is
one block of ``break_minutes`` placed in the shift's middle: it starts at the shift's
midpoint less half the break, moved back to the half hour on the clock at or before it
(a 09:00-17:00 shift with 30 minutes' break is off 12:30-13:00), and never before the
shift starts or after it ends. So a shift that starts and ends on the half hour with a
break of 30 or 60 minutes counts whole people; a 09:15 start counts half a person in
09:00-09:30 (15 of 30 minutes).

    schedule = half_hour_schedule(shifts, "Europe/London")
    problems = shift_problems(edited, office_id="sheffield_cc")   # the importer's rules
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data.access import Viewer, roles_that_can
from data.extracts import run_extract
from data.importer.overlaps import overlapping
from data.importer.targets import TARGETS
from data.row_security import scoped_transaction

SLOT_MINUTES = 30
PAGE_SOURCE = "planner page"  # the source of shifts added on the planner page
TARGET = TARGETS["rosters"]
# The editor's columns: local times of the office.
EDIT_COLUMNS = {"shift_id": pl.Int64(), "person_or_team": pl.String(), "shift_start": pl.Datetime("us"),
                "shift_end": pl.Datetime("us"), "break_minutes": pl.Int32()}


def local(column: str, timezone: str) -> pl.Expr:
    """A UTC timestamp column as naive local time of ``timezone``."""
    return pl.col(column).dt.replace_time_zone("UTC").dt.convert_time_zone(timezone).dt.replace_time_zone(None)


def to_utc(column: str, timezone: str) -> pl.Expr:
    """A naive local time of ``timezone`` as naive UTC (an ambiguous autumn hour: the earlier)."""
    return (pl.col(column).dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC").dt.replace_time_zone(None))


def breaks(start: pl.Expr, end: pl.Expr, minutes: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(break start, break end) of shifts: ``minutes`` in the middle, the start moved back
    to the half hour at or before it, kept inside the shift."""
    length = pl.duration(minutes=minutes.fill_null(0))
    middle = start + (end - start) / 2 - length / 2
    begins = pl.max_horizontal(middle.dt.truncate(f"{SLOT_MINUTES}m"), start)
    begins = pl.min_horizontal(begins, end - length)
    return begins, begins + length


def half_hour_schedule(shifts: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """People on shift and not on break per office, local day and half hour.

    shifts: office_id, shift_start, shift_end (UTC), break_minutes (NULL: none).
    Returns office_id, ds (local date), interval_start (local), scheduled (people,
    fractional where a shift covers part of a half hour), sorted; half hours nobody works
    are absent.
    """
    schema = {"office_id": pl.String(), "ds": pl.Date(), "interval_start": pl.Datetime("us"), "scheduled": pl.Float64()}
    if shifts.height == 0:
        return pl.DataFrame(schema=schema)
    begins, ends = breaks(pl.col("start"), pl.col("end"), pl.col("break_minutes"))
    slot = pl.duration(minutes=SLOT_MINUTES)
    frame = (
        shifts.select("office_id", local("shift_start", timezone).alias("start"), local("shift_end", timezone).alias("end"),
                      "break_minutes")
        .with_columns(begins.alias("break_start"), ends.alias("break_end"))
        .with_columns(pl.datetime_ranges(pl.col("start").dt.truncate(f"{SLOT_MINUTES}m"), pl.col("end") - pl.duration(microseconds=1),
                                         f"{SLOT_MINUTES}m").alias("interval_start"))
        .explode("interval_start")
    )

    def covered(first: pl.Expr, last: pl.Expr) -> pl.Expr:
        """Minutes of each half hour inside [first, last)."""
        inside = pl.min_horizontal(last, pl.col("interval_start") + slot) - pl.max_horizontal(first, pl.col("interval_start"))
        return pl.max_horizontal(inside.dt.total_microseconds(), pl.lit(0)) / 60_000_000

    return (
        frame.with_columns(((covered(pl.col("start"), pl.col("end")) - covered(pl.col("break_start"), pl.col("break_end")))
                            / SLOT_MINUTES).alias("scheduled"))
        .group_by("office_id", pl.col("interval_start").dt.date().alias("ds"), "interval_start")
        .agg(pl.col("scheduled").sum())
        .filter(pl.col("scheduled") > 0)
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
        .sort("office_id", "interval_start")
    )


def roster_weeks(shifts: pl.DataFrame, timezone: str) -> list[dt.date]:
    """The Mondays of the weeks (local time) in which any shift starts."""
    if shifts.height == 0:
        return []
    mondays = shifts.select(local("shift_start", timezone).dt.date().dt.truncate("1w").alias("week")).unique().sort("week")
    return mondays.get_column("week").to_list()


def load_shifts(engine: Engine, departments: Sequence[str], office_id: str, first_day: dt.date, last_day: dt.date,
                timezone: str) -> pl.DataFrame:
    """The shifts of the office that start on local days first_day..last_day (sql/roster_shifts.sql)."""
    bounds = pl.DataFrame({"d": [dt.datetime.combine(first_day, dt.time()), dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time())]})
    start, end = bounds.select(to_utc("d", timezone)).to_series().to_list()
    return run_extract(engine, "roster_shifts", departments=list(departments), office_id=office_id, start=start, end=end)


@dataclass(frozen=True)
class Problem:
    """A row of an edited roster that cannot be saved."""

    row: int  # 1 for the editor's first row
    rule: str
    message: str

    def text(self) -> str:
        return f"Row {self.row}: {self.message}"


class RosterError(ValueError):
    """A roster that cannot be saved, and why, in words for the planner (``problems``:
    the bad rows, each with its own sentence)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def shift_problems(edited: pl.DataFrame) -> list[Problem]:
    """The problem of each bad row of an edited week (EDIT_COLUMNS, local times), by row:
    as in the importer, the first rule a row breaks, in the importer's order (empty cells,
    too long an id, targets.TARGETS['rosters'] checks, then overlaps among the rows that
    pass). Rows left wholly empty are ignored (an editor's blank new row)."""
    problems: list[Problem] = []
    rows = edited.with_row_index("_row", offset=1)
    rows = rows.filter(~pl.all_horizontal(pl.col("person_or_team", "shift_start", "shift_end").is_null()))

    def mark(condition: pl.Expr, rule: str, message: str) -> None:
        nonlocal rows
        bad = rows.filter(condition.fill_null(False))
        problems.extend(Problem(row, rule, message) for row in bad.get_column("_row").to_list())
        rows = rows.filter(~condition.fill_null(False))

    for name, label in (("person_or_team", "the person or team"), ("shift_start", "the start"), ("shift_end", "the end")):
        mark(pl.col(name).is_null(), "missing_value", f"{label} is empty")
    mark(pl.col("person_or_team").str.len_chars() > 64, "too_long", "the person or team id is longer than 64 characters")
    words = {
        "shift_ends_before_start": "the shift ends before (or when) it starts",
        "shift_longer_than_16_hours": "the shift is longer than 16 hours",
        "negative_break": "the break is negative",
        "break_not_shorter_than_shift": "the break is as long as the shift or longer",
    }
    for check in TARGET.checks:
        mark(~pl.sql_expr(check.condition), check.rule, words.get(check.rule, f"breaks {check.condition}"))
    assert TARGET.no_overlap is not None
    who, start, end = TARGET.no_overlap
    for row, other, other_start, other_end in overlapping(rows, who, start, end, "_row").iter_rows():
        problems.append(Problem(row, "overlapping_shift", f"it overlaps row {other} ({other_start:%a %d %b %H:%M}-{other_end:%H:%M}) "
                                "of the same person or team"))
    return sorted(problems, key=lambda p: p.row)


def save_week(engine: Engine, viewer: Viewer, *, office_id: str, timezone: str, first_day: dt.date, edited: pl.DataFrame,
              departments: Sequence[str] | None) -> tuple[int, int, int]:
    """Replace the office's shifts starting in the 7 local days from ``first_day`` with
    ``edited`` (EDIT_COLUMNS, local times; shift_id empty for a new shift). Returns
    (added, changed, removed). RosterError, naming every bad row, when the viewer may not
    plan or a row breaks a rule: then nothing is written. ``departments``: the viewer's,
    under which row-level security lets the write through (None: as the tables' owner)."""
    if not viewer.can("plan"):
        raise RosterError(f"Only a {roles_that_can('plan')} may change a roster.")
    edited = edited.select(list(EDIT_COLUMNS)).cast(EDIT_COLUMNS)  # type: ignore[arg-type]
    edited = edited.filter(~pl.all_horizontal(pl.col("person_or_team", "shift_start", "shift_end").is_null()))
    edited = edited.with_columns(pl.col("person_or_team").str.strip_chars())
    problems = shift_problems(edited)
    last_day = first_day + dt.timedelta(days=6)
    outside = edited.with_row_index("_row", offset=1).filter(~pl.col("shift_start").dt.date().is_between(first_day, last_day))
    problems += [Problem(row, "outside_week", f"it starts outside the week {first_day:%d %b} to {last_day:%d %b %Y}")
                 for row in outside.get_column("_row").to_list()]
    if problems:
        problems = sorted(problems, key=lambda p: p.row)
        raise RosterError("Nothing was saved. " + " ".join(p.text() + "." for p in problems), problems)
    rows = edited.with_columns(to_utc("shift_start", timezone), to_utc("shift_end", timezone))
    gap = rows.with_row_index("_row", offset=1).filter(pl.col("shift_start").is_null() | pl.col("shift_end").is_null())
    if gap.height:  # the hour the clocks go forward has no such local time
        problems = [Problem(row, "nonexistent_local_time", f"its start or end falls when the clocks go forward, a time that does not exist in {timezone}")
                    for row in gap.get_column("_row").to_list()]
        raise RosterError("Nothing was saved. " + " ".join(p.text() + "." for p in problems), problems)
    with scoped_transaction(engine, departments) as conn:
        bounds = pl.DataFrame({"d": [dt.datetime.combine(first_day, dt.time()), dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time())]})
        start, end = bounds.select(to_utc("d", timezone)).to_series().to_list()
        existing = {row[0]: tuple(row[1:]) for row in conn.execute(sa.text(
            "SELECT shift_id, person_or_team, shift_start, shift_end, break_minutes FROM roster_shifts "
            "WHERE office_id = :office AND shift_start >= :start AND shift_start < :end"),
            {"office": office_id, "start": start, "end": end})}
        kept = {i for i in rows.get_column("shift_id").drop_nulls().to_list() if i in existing}
        removed = set(existing) - kept
        for shift_id in sorted(removed):
            conn.execute(sa.text("DELETE FROM roster_shifts WHERE shift_id = :id"), {"id": shift_id})
        changed = 0
        for row in rows.filter(pl.col("shift_id").is_in(sorted(kept))).iter_rows(named=True):
            if existing[row["shift_id"]] == (row["person_or_team"], row["shift_start"], row["shift_end"], row["break_minutes"]):
                continue
            conn.execute(sa.text(
                "UPDATE roster_shifts SET person_or_team = :person_or_team, shift_start = :shift_start, shift_end = :shift_end, "
                "break_minutes = :break_minutes WHERE shift_id = :shift_id"), row)
            changed += 1
        new = rows.filter(pl.col("shift_id").is_null() | ~pl.col("shift_id").is_in(sorted(kept)))
        if new.height:
            # above every id a shift has had, imported (import_keys) or not, so that no
            # later import matches a source key to a shift made here
            top = int(conn.execute(sa.text(
                "SELECT GREATEST(COALESCE((SELECT MAX(shift_id) FROM roster_shifts), 0), "
                "COALESCE((SELECT MAX(row_id) FROM import_keys WHERE table_name = 'roster_shifts'), 0))")).scalar_one())
            for number, row in enumerate(new.iter_rows(named=True), start=1):
                conn.execute(sa.text(
                    "INSERT INTO roster_shifts (shift_id, source, person_or_team, office_id, shift_start, shift_end, break_minutes) "
                    "VALUES (:shift_id, :source, :person_or_team, :office_id, :shift_start, :shift_end, :break_minutes)"),
                    {**row, "shift_id": top + number, "source": PAGE_SOURCE, "office_id": office_id})
    return new.height, changed, len(removed)


def editor_frame(shifts: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """The shifts as the editor shows them (EDIT_COLUMNS, local times), by start."""
    return (shifts.select("shift_id", "person_or_team", local("shift_start", timezone), local("shift_end", timezone), "break_minutes")
            .cast(EDIT_COLUMNS).sort("shift_start", "person_or_team"))  # type: ignore[arg-type]


__all__ = ["EDIT_COLUMNS", "PAGE_SOURCE", "Problem", "RosterError", "editor_frame", "half_hour_schedule", "load_shifts",
           "roster_weeks", "save_week", "shift_problems"]
