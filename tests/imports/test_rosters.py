"""Rosters through the importer (target rosters, mapping rosters_example): counts
reconcile (read = loaded + quarantined), each bad shift is quarantined under its own
reason, a second import of the same file changes nothing, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from data.build import build
from data.database import create_engine
from data.extracts import run_extract
from data.generate import Scenario
from data.importer import import_file
from tests.conftest import BACKENDS
from tests.fixtures.rosters import EXAMPLE, example_text
from tests.imports.conftest import rows, scalar

TINY = Scenario(seed=3, scale=0.02, end=dt.date(2026, 11, 22))
HEADER = "person,office,start,end,break_minutes\n"
GOOD = [
    "agent-001,sheffield_cc,2026-11-23 08:00,2026-11-23 16:00,30",
    "agent-001,sheffield_cc,2026-11-24 08:00,2026-11-24 16:00,",  # no break
    "agent-002,sheffield_cc,2026-11-23 12:00,2026-11-23 20:00,60",
    "agent-003,sheffield_cc,2026-11-23 16:00,2026-11-23 20:00,0",  # starts as agent-001's first ends: no overlap
]
BAD = {
    "shift_ends_before_start": "agent-004,sheffield_cc,2026-11-23 12:00,2026-11-23 09:00,0",
    "shift_longer_than_16_hours": "agent-005,sheffield_cc,2026-11-23 06:00,2026-11-23 22:30,30",
    "negative_break": "agent-006,sheffield_cc,2026-11-23 08:00,2026-11-23 12:00,-15",
    "break_not_shorter_than_shift": "agent-007,sheffield_cc,2026-11-23 08:00,2026-11-23 09:00,60",
    "unknown_office": "agent-008,atlantis_cc,2026-11-23 08:00,2026-11-23 16:00,30",
    "overlapping_shift": "agent-001,sheffield_cc,2026-11-23 15:00,2026-11-23 19:00,0",  # inside agent-001's 08:00-16:00
}


@pytest.fixture
def world(backend_url):
    return backend_url


@pytest.fixture(params=BACKENDS)
def backend_url(request, new_database):
    url = new_database(request.param)
    build(url, TINY, quiet=True)  # the offices the shifts name
    return url


def test_the_committed_example_is_the_generated_one():
    assert EXAMPLE.read_text() == example_text()


def test_shifts_reconcile_and_each_bad_one_is_quarantined_with_its_reason(world, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + "\n".join(GOOD + list(BAD.values())) + "\n")
    result = import_file(path, "rosters_example", world)
    r = result.reconciliation
    assert (r.read, r.loaded, r.quarantined_total, r.excluded_total) == (10, 4, 6, 0)
    assert r.read == r.loaded + r.quarantined_total
    assert r.quarantined == dict.fromkeys(BAD, 1)
    rejects = dict(rows(world, "SELECT rule, line FROM import_rejects"))
    # line 1 is the header: GOOD are lines 2-5, BAD from line 6 in order
    assert rejects == {rule: 6 + i for i, rule in enumerate(BAD)}
    message = scalar(world, "SELECT message FROM import_rejects WHERE rule = 'overlapping_shift'")
    assert message == ("agent-001's 2026-11-23 15:00-19:00 UTC overlaps their 2026-11-23 08:00-16:00 UTC on line 2; "
                       "the one that starts first is kept")
    assert "atlantis_cc" in scalar(world, "SELECT message FROM import_rejects WHERE rule = 'unknown_office'")
    # London is UTC in November; an empty break is NULL
    assert rows(world, "SELECT person_or_team, shift_start, shift_end, break_minutes, source FROM roster_shifts "
                       "ORDER BY person_or_team, shift_start") == [
        ("agent-001", dt.datetime(2026, 11, 23, 8), dt.datetime(2026, 11, 23, 16), 30, "rosters_example"),
        ("agent-001", dt.datetime(2026, 11, 24, 8), dt.datetime(2026, 11, 24, 16), None, "rosters_example"),
        ("agent-002", dt.datetime(2026, 11, 23, 12), dt.datetime(2026, 11, 23, 20), 60, "rosters_example"),
        ("agent-003", dt.datetime(2026, 11, 23, 16), dt.datetime(2026, 11, 23, 20), 0, "rosters_example"),
    ]
    assert scalar(world, "SELECT rows_quarantined FROM imports") == 6

    again = import_file(path, "rosters_example", world)  # the same file: nothing changes
    assert (again.reconciliation.inserted, again.reconciliation.updated, again.reconciliation.unchanged) == (0, 0, 4)
    assert again.load_id is None
    assert scalar(world, "SELECT COUNT(*) FROM roster_shifts") == 4


def test_the_example_roster_imports_whole(world):
    result = import_file(EXAMPLE, "rosters_example", world)
    assert (result.reconciliation.read, result.reconciliation.loaded, result.reconciliation.quarantined_total) == (32, 32, 0)
    assert scalar(world, "SELECT SUM(break_minutes) FROM roster_shifts") == 30 * 30


def test_the_extract_reads_an_offices_shifts_for_a_viewer_of_every_department_only(world):
    import_file(EXAMPLE, "rosters_example", world)
    engine = create_engine(world)
    try:
        everyone = run_extract(engine, "departments", departments=["benefits", "civil", "revenue", "transport"])["department_id"].to_list()
        monday = dict(office_id="sheffield_cc", start=dt.datetime(2026, 11, 23), end=dt.datetime(2026, 11, 24))
        shifts = run_extract(engine, "roster_shifts", departments=everyone, **monday)
        assert shifts.select("person_or_team", "shift_start", "shift_end", "break_minutes").rows() == [
            *[(f"agent-00{n}", dt.datetime(2026, 11, 23, 8), dt.datetime(2026, 11, 23, 16), 30) for n in (1, 2, 3)],
            *[(f"agent-00{n}", dt.datetime(2026, 11, 23, 12), dt.datetime(2026, 11, 23, 20), 30) for n in (4, 5, 6)],
        ]
        assert run_extract(engine, "roster_shifts", departments=everyone[:-1], **monday).height == 0
        assert run_extract(engine, "roster_shifts", departments=everyone, **{**monday, "office_id": "leeds"}).height == 0
        week = run_extract(engine, "roster_shifts", departments=everyone, office_id="sheffield_cc",
                           start=dt.datetime(2026, 11, 23), end=dt.datetime(2026, 11, 30))
        assert week.height == 32
    finally:
        engine.dispose()
