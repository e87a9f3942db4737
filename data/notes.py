"""Notes on the record: a dated note an analyst attaches to a KPI for a scope.

"New IT system went live", "strike at the Leeds office": the context a trend needs
before anyone reads it. A note is about one KPI (or every KPI) of one scope (each level a
department, service, office and channel id, or None for all), dated on the day it is
about; the drill-down draws it on that KPI's trend for that scope and lists it with the
acknowledgements of the scope's anomalies (sql/schema/080_notes.sql). Notes are never
edited or deleted from the app: a correction is another note.

    add_note(engine, viewer, kpi="on_time_rate", department_id="civil", service_id="birth_reg",
             noted_on=date(2026, 10, 5), note="New case system went live", departments=["civil"])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data.access import ALL, Viewer, roles_that_can
from data.audit import who
from data.extracts import run_extract
from data.row_security import scoped_transaction

NOTE_CHARACTERS = 500
EARLIEST = dt.date(2000, 1, 1)


class NoteError(ValueError):
    """A note that cannot be recorded, and why, in words for the person writing it."""


def clean_note(text: str) -> str:
    """The note as one line of plain text; NoteError if empty or too long."""
    line = " ".join((text or "").split())
    if not line:
        raise NoteError("Write the note first: it is empty.")
    if len(line) > NOTE_CHARACTERS:
        raise NoteError(f"The note is {len(line):,} characters long; keep it to {NOTE_CHARACTERS} (a sentence or two).")
    return line


def add_note(
    engine: Engine,
    viewer: Viewer,
    *,
    kpi: str | None,
    noted_on: dt.date,
    note: str,
    department_id: str | None = None,
    service_id: str | None = None,
    office_id: str | None = None,
    channel: str | None = None,
    departments: Sequence[str] | None = None,
    today: dt.date | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Record the note and return its id; NoteError, saying what to change, when the
    viewer may not write it, the day is impossible or the text is empty or too long.

    A service's note is filed under the service's own department (read from the
    database, whatever ``department_id`` says). ``departments``: the viewer's, under which
    row-level security on PostgreSQL lets the write through only for a scope they may
    see; None for a command run as the tables' owner.
    """
    if not viewer.can("annotate"):
        raise NoteError(f"Only an {roles_that_can('annotate')} may add notes on the record.")
    line = clean_note(note)
    today = today or dt.datetime.now(dt.UTC).date()
    if not isinstance(noted_on, dt.date) or isinstance(noted_on, dt.datetime):
        raise NoteError(f"The note's day must be a date, not {noted_on!r}.")
    if noted_on > today:
        raise NoteError(f"The note's day {noted_on:%d %B %Y} is in the future: note what happened, on the day it happened.")
    if noted_on < EARLIEST:
        raise NoteError(f"The note's day {noted_on:%d %B %Y} is before {EARLIEST:%Y}: check the year.")
    by, _ = who(viewer)
    at = at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with scoped_transaction(engine, departments) as conn:
        if service_id is not None:
            owner = conn.execute(sa.text("SELECT department_id FROM services WHERE service_id = :s"), {"s": service_id}).scalar()
            if owner is None:
                raise NoteError("That service is not yours or not found.")
            department_id = owner
        if department_id is None and viewer.departments is not ALL:
            raise NoteError("A note across departments is for a viewer of every department: go down to one of yours first.")
        if department_id is not None and viewer.departments is not ALL and department_id not in viewer.departments:
            raise NoteError("That scope is not yours or not found.")
        return int(conn.execute(
            sa.text(
                "INSERT INTO kpi_notes (kpi, department_id, service_id, office_id, channel, noted_on, note, written_by, written_at) "
                "VALUES (:kpi, :department_id, :service_id, :office_id, :channel, :noted_on, :note, :by, :at) RETURNING note_id"
            ),
            {"kpi": kpi, "department_id": department_id, "service_id": service_id, "office_id": office_id, "channel": channel,
             "noted_on": noted_on, "note": line, "by": (viewer.name or by)[:200], "at": at},
        ).scalar_one())


def notes(
    engine: Engine,
    departments: Sequence[str],
    *,
    kpi: str | None,
    first_day: dt.date,
    last_day: dt.date,
    department_id: str | None = None,
    service_id: str | None = None,
    office_id: str | None = None,
    channel: str | None = None,
) -> pl.DataFrame:
    """The notes on ``kpi`` (and those on every KPI; None: on any KPI) of exactly this scope, dated in
    [first_day, last_day], that a viewer of ``departments`` may see, oldest first."""
    return run_extract(
        engine, "kpi_notes", departments=departments, kpi=kpi or "", first_day=first_day, last_day=last_day,
        department_id=department_id or "", service_id=service_id or "", office_id=office_id or "", channel=channel or "",
    )


__all__ = ["NOTE_CHARACTERS", "NoteError", "add_note", "clean_note", "notes"]
