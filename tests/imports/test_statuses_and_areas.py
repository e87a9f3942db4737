"""Cancelled and withdrawn cases, and places that are areas (a ward, a council district):
a request log that records both goes in through a mapping, and the figures treat a
cancelled case as received but never as handled work. Databases built before these codes
existed are widened in place, keeping their rows."""

from __future__ import annotations

import csv
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from data.database import create_engine, create_schema
from data.facts import load_facts
from data.importer import import_file
from metrics.engine import compute
from tests.conftest import BACKENDS
from tests.imports.conftest import rows, scalar

MAPPING = """
description = "A council's request log: requests placed by ward, some withdrawn or cancelled."

[source]
name = "ward_requests"
key = ["ref"]
timezone = "Europe/London"
max_unparseable = 0.5  # a tiny file: its one unknown state is an eighth of it

[target]
table = "cases"

[fields.department_id]
value = "streets"
[fields.department_name]
value = "Streets"
[fields.service_id]
slug = ["type"]
[fields.service_name]
from = "type"
[fields.office_id]
slug = ["ward"]
prefix = "ward-"
[fields.office_name]
from = "ward"
[fields.channel]
value = "online"
[fields.submitted_at]
from = "opened"
timestamp = "%Y-%m-%d %H:%M"
[fields.closed_at]
from = "ended"
timestamp = "%Y-%m-%d %H:%M"
[fields.status]
from = "state"
map = { "Open" = "open", "Closed" = "closed", "Withdrawn" = "cancelled", "Cancelled by customer" = "cancelled" }

[dimensions.departments]
department_id = "department_id"
name = "department_name"

[dimensions.services]
service_id = "service_id"
department_id = "department_id"
name = "service_name"
digital = true

[dimensions.offices]
office_id = "office_id"
name = "office_name"
region = { value = "Council" }
kind = { value = "area" }
timezone = { value = "Europe/London" }
"""

# Week of Monday 2 March 2026 (GMT). Handled closes after 1, 2, 6, 3 and 4 days; one withdrawn
# after 10 days; one cancelled by the customer within the hour; one still open; one
# "Withdrawn" without an end (impossible: quarantined); one state the mapping does not know.
LOG = [
    ("R1", "Potholes", "Abbey", "2026-03-02 09:00", "2026-03-03 09:00", "Closed"),
    ("R2", "Potholes", "Abbey", "2026-03-02 10:00", "2026-03-04 10:00", "Closed"),
    ("R3", "Potholes", "Castle", "2026-03-02 11:00", "2026-03-08 11:00", "Closed"),
    ("R4", "Potholes", "Castle", "2026-02-24 09:00", "2026-03-06 09:00", "Withdrawn"),
    ("R5", "Street lights", "Abbey", "2026-03-05 09:00", "2026-03-05 09:40", "Cancelled by customer"),
    ("R6", "Street lights", "Castle", "2026-03-06 09:00", "", "Open"),
    ("R7", "Street lights", "Castle", "2026-03-06 10:00", "", "Withdrawn"),
    ("R8", "Street lights", "Abbey", "2026-03-06 11:00", "2026-03-07 11:00", "Pending review"),
    ("R9", "Potholes", "Abbey", "2026-03-03 09:00", "2026-03-06 09:00", "Closed"),
    ("R10", "Potholes", "Castle", "2026-03-03 09:00", "2026-03-07 09:00", "Closed"),
]


def write_log(path, log=LOG):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ref", "type", "ward", "opened", "ended", "state"])
        writer.writerows(log)
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_ward_request_log_with_withdrawn_cases_imports_and_counts_them_as_received_not_handled(backend, new_database, tmp_path):
    url = new_database(backend)
    mapping = tmp_path / "ward_requests.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    result = import_file(write_log(tmp_path / "log.csv"), mapping, url)
    r = result.reconciliation
    assert (r.read, r.loaded, r.quarantined_total) == (10, 8, 2)
    assert r.quarantined == {"status_disagrees_with_closed_at": 1, "unmapped_value": 1}
    assert dict(rows(url, "SELECT rule, COUNT(*) FROM import_rejects GROUP BY rule")) == r.quarantined
    assert rows(url, "SELECT office_id, kind FROM offices ORDER BY office_id") == [("ward-abbey", "area"), ("ward-castle", "area")]
    assert dict(rows(url, "SELECT status, COUNT(*) FROM cases GROUP BY status")) == {"closed": 5, "cancelled": 2, "open": 1}

    engine = create_engine(url)
    facts = load_facts(engine, ["streets"], date(2026, 2, 23), date(2026, 3, 8))
    result = compute(facts, ["volume", "processing_time_median", "net_flow", "backlog"], by=["week"],
                     first_day=date(2026, 2, 23), last_day=date(2026, 3, 8))
    engine.dispose()
    w10 = dict(period="2026-W10")
    assert result.value("volume", **w10) == 7  # R1, R2, R3, R5, R6, R9 and R10 were received that week
    assert result.value("processing_time_median", **w10) == pytest.approx(3.0)  # 1, 2, 3, 4 and 6 days: R4 and R5 left out
    assert result.values.filter(kpi="processing_time_median", period="2026-W10")["n"].item() == 5
    assert result.value("net_flow", **w10) == 7 - 7  # five closes and two cancellations left the backlog
    assert result.value("backlog", period="2026-W09") == 1  # R4, withdrawn on 6 March, was still open
    assert result.value("backlog", **w10) == 1  # R6


def test_the_rows_behind_a_figure_name_a_cancelled_case_and_keep_it_out_of_the_closed(new_database, tmp_path):
    from data.extracts import run_extract

    url = new_database("duckdb")
    mapping = tmp_path / "ward_requests.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    import_file(write_log(tmp_path / "log.csv"), mapping, url)
    engine = create_engine(url)
    common = dict(departments=["streets"], first_day=date(2026, 3, 2), last_day=date(2026, 3, 8),
                  all_services=True, services=[""], all_offices=True, offices=[""], all_channels=True, channels=[""],
                  with_left_out=True, admin_close_seconds=60, order_by="event", all_triage=True, triage=[""],
                  limit=50, offset=0)
    closed = run_extract(engine, "case_rows", population="closed", **common)
    flow = run_extract(engine, "case_rows", population="submitted_or_closed", **common)
    engine.dispose()
    assert sorted(closed["status"].to_list()) == ["closed"] * 5
    ended = flow.filter(flow["event"] == "closed")
    assert sorted(ended["triage"].to_list()) == ["cancelled"] * 2 + ["closed"] * 5
    assert ended.filter(ended["triage"] == "cancelled")["on_time"].null_count() == 2


NARROW_CASES = """CREATE TABLE cases (
    case_id BIGINT PRIMARY KEY, service_id VARCHAR(64) NOT NULL, office_id VARCHAR(64) NOT NULL,
    channel VARCHAR(16) NOT NULL, submitted_at TIMESTAMP NOT NULL, due_at TIMESTAMP, closed_at TIMESTAMP,
    status VARCHAR(16) NOT NULL CHECK (status IN ('open', 'closed')), outcome VARCHAR(32),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)))"""
NARROW_OFFICES = """CREATE TABLE offices (
    office_id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, region VARCHAR(100) NOT NULL,
    kind VARCHAR(20) NOT NULL CHECK (kind IN ('service_centre', 'contact_centre', 'online')), timezone VARCHAR(64) NOT NULL)"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_built_before_cancellations_and_areas_is_widened_keeping_its_rows(backend, new_database):
    url = new_database(backend)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(NARROW_CASES)
        conn.exec_driver_sql(NARROW_OFFICES)
        conn.exec_driver_sql("INSERT INTO cases VALUES (1, 's', 'o', 'online', '2026-03-02 09:00', NULL, '2026-03-03 09:00', 'closed', 'approved'), "
                             "(2, 's', 'o', 'online', '2026-03-02 10:00', NULL, NULL, 'open', NULL)")
        conn.exec_driver_sql("INSERT INTO offices VALUES ('o', 'Office', 'r', 'service_centre', 'Europe/London')")
    create_schema(engine)
    create_schema(engine)  # and again: nothing left to widen
    cancelled = ("INSERT INTO cases VALUES (3, 's', 'o', 'online', '2026-03-02 11:00', NULL, '2026-03-04 09:00', 'cancelled', 'withdrawn')")
    with engine.begin() as conn:
        conn.exec_driver_sql(cancelled)
        conn.exec_driver_sql("INSERT INTO offices VALUES ('w', 'Ward', 'r', 'area', 'Europe/London')")
    assert scalar(url, "SELECT COUNT(*) FROM cases") == 3
    assert rows(url, "SELECT case_id, status FROM cases ORDER BY case_id") == [(1, "closed"), (2, "open"), (3, "cancelled")]
    # the widened checks still refuse what was impossible before
    for impossible in ("INSERT INTO cases VALUES (4, 's', 'o', 'online', '2026-03-02 11:00', NULL, NULL, 'cancelled', NULL)",
                       "INSERT INTO cases VALUES (5, 's', 'o', 'online', '2026-03-02 11:00', NULL, '2026-03-04 09:00', 'open', NULL)",
                       "INSERT INTO cases VALUES (6, 's', 'o', 'online', '2026-03-02 11:00', NULL, NULL, 'paused', NULL)",
                       "INSERT INTO offices VALUES ('x', 'X', 'r', 'kiosk', 'Europe/London')"):
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.exec_driver_sql(impossible)
    assert scalar(url, "SELECT COUNT(*) FROM cases WHERE submitted_at = :at", at=datetime(2026, 3, 2, 9)) == 1
    engine.dispose()
