"""Imports are idempotent and incremental, in one transaction, and live beside generated data."""

from __future__ import annotations

from datetime import date, datetime

import pytest

import data.importer.loading
from data.build import build
from data.generate import Scenario
from data.importer import import_file
from tests.conftest import BACKENDS
from tests.imports import boston
from tests.imports.conftest import rows, scalar

FIRST = [
    boston.case(101, "01/05/2015 09:00:00 AM", "01/06/2015 10:00:00 AM"),
    boston.case(102, "01/05/2015 09:30:00 AM"),  # open
    boston.case(103, "01/05/2015 10:00:00 AM", source="Citizens Connect App"),  # open
]
# A month later: 102 has closed, 103 is unchanged, 104 is new; 101 is no longer in the export.
SECOND = [
    boston.case(102, "01/05/2015 09:30:00 AM", "01/20/2015 03:15:00 PM"),
    boston.case(103, "01/05/2015 10:00:00 AM", source="Citizens Connect App"),
    boston.case(104, "02/01/2015 11:00:00 AM", subject="Parks & Recreation Department", kind="Tree Maintenance"),
]

CASE_BY_KEY = ("SELECT c.status, c.closed_at FROM cases c JOIN import_keys k ON k.row_id = c.case_id "
               "WHERE k.source = 'boston311' AND k.source_key = :key")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_newer_export_updates_changed_rows_by_source_key(backend, new_database, tmp_path):
    url = new_database(backend)
    first = import_file(boston.write(tmp_path / "export1.csv", FIRST), "boston311", url)
    assert (first.reconciliation.inserted, first.load_id) == (3, 1)
    ids_before = dict(rows(url, "SELECT source_key, row_id FROM import_keys"))

    second = import_file(boston.write(tmp_path / "export2.csv", SECOND), "boston311", url)
    r = second.reconciliation
    assert (r.inserted, r.updated, r.unchanged) == (1, 1, 1)
    assert second.written.kept == 1  # case 101 is kept although the newer export lacks it
    assert "1 row(s) from earlier imports of boston311 are not in this file" in second.report()
    assert rows(url, CASE_BY_KEY, key="102") == [("closed", datetime(2015, 1, 20, 20, 15))]  # 3:15 PM EST
    ids_after = dict(rows(url, "SELECT source_key, row_id FROM import_keys"))
    assert {k: ids_after[k] for k in ids_before} == ids_before  # a case keeps its id
    assert scalar(url, "SELECT COUNT(*) FROM cases") == 4
    assert scalar(url, "SELECT COUNT(*) FROM data_loads WHERE kind = 'import'") == 2
    # each import is one row of the audit, with the rows it read
    assert rows(url, "SELECT subject, action, row_count FROM audit_events ORDER BY event_id") == [("command line", "import", 3), ("command line", "import", 3)]
    # The new department and service were created; the existing ones were left alone.
    assert second.written.created == {"departments": 1, "services": 1, "offices": 0}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failure_halfway_leaves_the_database_as_it_was(backend, new_database, tmp_path, monkeypatch):
    url = new_database(backend)
    import_file(boston.write(tmp_path / "export1.csv", FIRST), "boston311", url)
    snapshot = "SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM cases WHERE status = 'closed'), " \
               "(SELECT COUNT(*) FROM departments), (SELECT COUNT(*) FROM services), (SELECT COUNT(*) FROM import_keys), " \
               "(SELECT COUNT(*) FROM data_loads), (SELECT COUNT(*) FROM imports), (SELECT COUNT(*) FROM audit_events)"
    before = rows(url, snapshot)

    def fail_after_the_rows_are_written(*args, **kwargs):
        raise RuntimeError("disk full (injected)")

    # By then the new rows are inserted, 102 is updated, the new dimension rows are added.
    monkeypatch.setattr(data.importer.loading, "_write_records", fail_after_the_rows_are_written)
    with pytest.raises(RuntimeError, match="injected"):
        import_file(boston.write(tmp_path / "export2.csv", SECOND), "boston311", url)
    assert rows(url, snapshot) == before
    monkeypatch.undo()
    again = import_file(tmp_path / "export2.csv", "boston311", url)  # and the import can simply be run again
    assert (again.reconciliation.inserted, again.reconciliation.updated) == (1, 1)


def test_a_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "kpi.duckdb"
    url = f"duckdb:///{path}"
    export = boston.write(tmp_path / "export1.csv", FIRST)
    rehearsal = import_file(export, "boston311", url, dry_run=True)
    assert not path.exists()  # not even an empty database
    assert rehearsal.load_id is None and rehearsal.reconciliation.inserted == 3
    assert "Dry run (nothing written)" in rehearsal.report()
    import_file(export, "boston311", url)
    contents = path.read_bytes()
    newer = import_file(boston.write(tmp_path / "export2.csv", SECOND), "boston311", url, dry_run=True)
    assert (newer.reconciliation.inserted, newer.reconciliation.updated, newer.reconciliation.unchanged) == (1, 1, 1)
    assert path.read_bytes() == contents


def test_imported_rows_live_beside_generated_data_without_clashing(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    build(url, Scenario(seed=3, scale=0.01, end=date(2026, 3, 31)), quiet=True)
    generated = scalar(url, "SELECT COUNT(*) FROM cases")
    top_generated_id = scalar(url, "SELECT MAX(case_id) FROM cases")
    departments = scalar(url, "SELECT COUNT(*) FROM departments")
    result = import_file(boston.write(tmp_path / "export1.csv", FIRST), "boston311", url)
    assert result.reconciliation.inserted == 3
    assert scalar(url, "SELECT COUNT(*) FROM cases") == generated + 3
    assert scalar(url, "SELECT MIN(case_id) FROM cases WHERE office_id = 'boston_311'") > max(top_generated_id, 10**12)
    assert scalar(url, "SELECT COUNT(*) FROM departments") == departments + 1
    assert scalar(url, "SELECT COUNT(*) FROM data_loads") == 2  # the generation and the import


@pytest.mark.postgres
def test_a_dry_run_on_postgresql_writes_nothing(new_database, tmp_path):
    url = new_database("postgresql")
    import_file(boston.write(tmp_path / "export1.csv", FIRST), "boston311", url)
    snapshot = "SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM cases WHERE status = 'closed'), " \
               "(SELECT COUNT(*) FROM import_keys), (SELECT COUNT(*) FROM data_loads), (SELECT COUNT(*) FROM services)"
    before = rows(url, snapshot)
    newer = import_file(boston.write(tmp_path / "export2.csv", SECOND), "boston311", url, dry_run=True)
    assert (newer.reconciliation.inserted, newer.reconciliation.updated, newer.reconciliation.unchanged) == (1, 1, 1)
    assert newer.written.created["services"] == 1
    assert rows(url, snapshot) == before


READ_FROM_ANOTHER_PROCESS = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as the dashboard opens it
print(con.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
"""


def test_a_duckdb_file_stays_usable_by_others_until_the_final_write(tmp_path, monkeypatch):
    import subprocess
    import sys

    import data.importer.staging

    path = tmp_path / "kpi.duckdb"
    url = f"duckdb:///{path}"
    import_file(boston.write(tmp_path / "export1.csv", FIRST), "boston311", url)
    seen = []
    finish = data.importer.staging.Stage.finish

    def finish_while_another_process_reads(self):
        # The whole file has been read, mapped and staged by now: another process (the
        # dashboard) can still open the database.
        done = subprocess.run([sys.executable, "-c", READ_FROM_ANOTHER_PROCESS, str(path)],
                              capture_output=True, text=True, timeout=60)
        seen.append(done.stdout.strip() or done.stderr.strip().splitlines()[-1])
        return finish(self)

    monkeypatch.setattr(data.importer.staging.Stage, "finish", finish_while_another_process_reads)
    import_file(boston.write(tmp_path / "export2.csv", SECOND), "boston311", url)
    assert seen == ["3"]
