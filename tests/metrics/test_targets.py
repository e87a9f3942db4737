"""Targets: registry defaults, overridden by the versioned file, most specific row first."""

from __future__ import annotations

import pytest

from metrics.registry import METRICS
from metrics.targets import TargetsError, load_targets


def test_the_shipped_file_loads_and_overrides_per_service():
    targets = load_targets()
    assert targets.version
    value, source = targets.for_scope("on_time_rate", department_id="civil", service_id="passport")
    assert value == 85.0 and "service_id=passport" in source
    value, source = targets.for_scope("on_time_rate", department_id="civil", service_id="birth_registration")
    assert value == METRICS["on_time_rate"].target and source == "default"


def test_the_most_specific_row_wins(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        'version = "t1"\n'
        '[[targets]]\nkpi = "asa"\ndepartment_id = "d1"\nvalue = 40\n'
        '[[targets]]\nkpi = "asa"\nservice_id = "s1"\nvalue = 20\n'
        '[[targets]]\nkpi = "asa"\nservice_id = "s1"\noffice_id = "o1"\nvalue = 10\n'
    )
    targets = load_targets(path)
    assert targets.for_scope("asa", department_id="d1")[0] == 40
    assert targets.for_scope("asa", department_id="d1", service_id="s1")[0] == 20
    assert targets.for_scope("asa", department_id="d1", service_id="s1", office_id="o1")[0] == 10
    assert targets.for_scope("asa", department_id="d2")[0] == METRICS["asa"].target


def test_every_problem_in_a_targets_file_is_reported(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        '[[targets]]\nkpi = "speed"\nservice_id = "s1"\nvalue = 1\n'
        '[[targets]]\nkpi = "asa"\nvalue = 20\n'
        '[[targets]]\nkpi = "asa"\nservice_id = "s1"\nvalue = "fast"\n'
    )
    with pytest.raises(TargetsError) as caught:
        load_targets(path)
    message = str(caught.value)
    assert "version" in message
    assert "target 1: unknown kpi 'speed'" in message
    assert "target 2 (asa): name a department_id, service_id or office_id" in message
    assert "target 3 (asa): value must be a number" in message


def test_backlog_and_overdue_backlog_take_targets_from_the_file(tmp_path, duckdb_url):
    """Backlogs have no default target (a count depends on the scope's size), but a row of
    the file gives one a scope's target: it then has a status, a score and counts in the
    composite, lower being better."""
    from datetime import date, timedelta

    from data.database import create_engine
    from data.facts import load_facts
    from metrics.scorecard import scorecard
    from metrics.status import status

    path = tmp_path / "targets.toml"
    path.write_text(
        'version = "t2"\n'
        '[[targets]]\nkpi = "backlog"\ndepartment_id = "civil"\nvalue = 100\n'
        '[[targets]]\nkpi = "backlog_overdue"\ndepartment_id = "civil"\nvalue = 100000\n'
    )
    targets = load_targets(path)
    assert METRICS["backlog"].target is None and METRICS["backlog_overdue"].target is None
    engine = create_engine(duckdb_url)
    monday = date(2026, 11, 16)
    facts = load_facts(engine, ["civil"], monday - timedelta(weeks=1), monday + timedelta(days=6))
    engine.dispose()
    card = scorecard(facts, "2026-W47", scope={"department_id": "civil"}, targets=targets)
    rows = {row["kpi"]: row for row in card.rows.iter_rows(named=True)}
    assert rows["backlog"]["target"] == 100 and rows["backlog_overdue"]["target"] == 100000
    assert rows["backlog"]["value"] > 100 and rows["backlog"]["status"] == "red" == status(rows["backlog"]["value"], 100, METRICS["backlog"].better)
    assert rows["backlog_overdue"]["status"] == "green" and rows["backlog_overdue"]["score"] == 1.25
    composite = card.composite.row(0, named=True)
    assert "backlog" in composite["below"] and "backlog_overdue" in composite["above"]
