"""Notes on the record (data/notes.py): who may write one, what is refused and why, and
which trend finds it (exactly its scope, its KPI or every KPI, its days, its viewer's
departments). Row-level security on PostgreSQL: tests/sql/test_row_security.py."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from data.access import ALL, Viewer
from data.database import create_engine, duckdb_path
from data.notes import NOTE_CHARACTERS, NoteError, add_note, clean_note, notes

TODAY = dt.date(2026, 11, 23)
DAY = dt.date(2026, 11, 16)
NOVEMBER = dict(first_day=dt.date(2026, 11, 1), last_day=dt.date(2026, 11, 30))
ANALYST = Viewer("Ada Lovelace", {"civil"}, {"analyst"}, subject="ada")
HEAD = Viewer("Hal", {"civil"}, {"head"}, subject="hal")
EVERYONE = Viewer("Root", ALL, {"admin"}, subject="root")
DEPARTMENTS = ["benefits", "civil", "revenue", "transport"]


@pytest.fixture
def engine(duckdb_url: str, tmp_path: Path) -> Iterator:
    target = tmp_path / "notes.duckdb"
    shutil.copy(duckdb_path(duckdb_url), target)
    engine = create_engine(f"duckdb:///{target}")
    yield engine
    engine.dispose()


def write(engine, viewer=ANALYST, **scope):
    values = dict(kpi="on_time_rate", noted_on=DAY, note="New case system went live", today=TODAY)
    values.update(scope)
    return add_note(engine, viewer, **values)


def test_a_note_is_one_line_of_plain_text_of_at_most_500_characters():
    assert clean_note("  New IT system\n went   live ") == "New IT system went live"
    assert clean_note("**bold** <b>x</b> =SUM(A1)") == "**bold** <b>x</b> =SUM(A1)"  # kept as typed: shown as text
    with pytest.raises(NoteError, match="empty"):
        clean_note(" \n ")
    assert len(clean_note("x" * NOTE_CHARACTERS)) == NOTE_CHARACTERS
    with pytest.raises(NoteError, match="501 characters long; keep it to 500"):
        clean_note("x" * (NOTE_CHARACTERS + 1))


def test_a_note_is_read_back_on_exactly_its_scope_and_kpi(engine):
    number = write(engine, department_id="civil", service_id="birth_registration")
    found = notes(engine, ["civil"], kpi="on_time_rate", department_id="civil", service_id="birth_registration", **NOVEMBER)
    assert found.select("note_id", "kpi", "noted_on", "note", "written_by").rows() == [
        (number, "on_time_rate", DAY, "New case system went live", "Ada Lovelace")]
    # not on the department's own trend, another service's, an office of the service, another KPI
    assert notes(engine, ["civil"], kpi="on_time_rate", department_id="civil", **NOVEMBER).height == 0
    assert notes(engine, ["civil"], kpi="on_time_rate", department_id="civil", service_id="passport", **NOVEMBER).height == 0
    assert notes(engine, ["civil"], kpi="on_time_rate", department_id="civil", service_id="birth_registration",
                 office_id="leeds", **NOVEMBER).height == 0
    assert notes(engine, ["civil"], kpi="volume", department_id="civil", service_id="birth_registration", **NOVEMBER).height == 0
    # any KPI of the scope (the list beside the acknowledgements) finds it
    assert notes(engine, ["civil"], kpi=None, department_id="civil", service_id="birth_registration", **NOVEMBER).height == 1


def test_a_note_on_every_kpi_is_on_each_kpis_trend(engine):
    write(engine, kpi=None, department_id="civil", note="Strike")
    for kpi in ("on_time_rate", "volume", "call_abandonment"):
        assert notes(engine, ["civil"], kpi=kpi, department_id="civil", **NOVEMBER)["note"].to_list() == ["Strike"]


def test_only_the_days_asked_for_oldest_first(engine):
    write(engine, department_id="civil", noted_on=dt.date(2026, 11, 20), note="Second")
    write(engine, department_id="civil", noted_on=dt.date(2026, 10, 30), note="Before")
    write(engine, department_id="civil", noted_on=dt.date(2026, 11, 2), note="First")
    found = notes(engine, ["civil"], kpi="on_time_rate", department_id="civil", **NOVEMBER)
    assert found["note"].to_list() == ["First", "Second"]


def test_a_service_note_is_filed_under_the_services_own_department(engine):
    write(engine, department_id="revenue", service_id="passport")  # the page's department is ignored
    assert notes(engine, ["civil"], kpi="on_time_rate", department_id="civil", service_id="passport", **NOVEMBER).height == 1


def test_a_departments_notes_are_its_viewers_only(engine):
    write(engine, department_id="civil")
    assert notes(engine, ["revenue"], kpi="on_time_rate", department_id="civil", **NOVEMBER).height == 0
    assert notes(engine, DEPARTMENTS, kpi="on_time_rate", department_id="civil", **NOVEMBER).height == 1


def test_a_note_across_departments_is_for_a_viewer_of_every_department(engine):
    with pytest.raises(NoteError, match="viewer of every department"):
        write(engine)
    write(engine, EVERYONE, note="Payment platform outage")
    assert notes(engine, DEPARTMENTS, kpi="on_time_rate", **NOVEMBER)["note"].to_list() == ["Payment platform outage"]
    assert notes(engine, ["civil", "revenue"], kpi="on_time_rate", **NOVEMBER).height == 0
    assert notes(engine, [], kpi="on_time_rate", **NOVEMBER).height == 0


def test_what_is_refused_says_why_and_writes_nothing(engine):
    refusals = [
        (dict(viewer=HEAD, department_id="civil"), "Only an analyst or administrator may add notes"),
        (dict(department_id="revenue"), "not yours"),
        (dict(service_id="self_assessment"), "not yours"),
        (dict(service_id="no_such_service"), "not yours or not found"),
        (dict(department_id="civil", noted_on=dt.date(2026, 11, 24)), "24 November 2026 is in the future"),
        (dict(department_id="civil", noted_on=dt.date(1926, 11, 24)), "before 2000: check the year"),
        (dict(department_id="civil", noted_on=dt.datetime(2026, 11, 16, 9)), "must be a date"),
        (dict(department_id="civil", note=""), "empty"),
    ]
    for scope, message in refusals:
        viewer = scope.pop("viewer", ANALYST)
        with pytest.raises(NoteError, match=message):
            write(engine, viewer, **scope)
    assert notes(engine, DEPARTMENTS, kpi=None, **NOVEMBER).height == 0
    assert all(notes(engine, DEPARTMENTS, kpi=None, department_id=d, **NOVEMBER).height == 0 for d in DEPARTMENTS)

