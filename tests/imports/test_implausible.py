"""Exports that question the importer (issue 15, items 1-5): repeated keys with a history,
values that do not fit, dates no service could have, mapping typos, files without line
ends. Every input is a small file written here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

from data.__main__ import main
from data.database import create_engine
from data.extracts import run_extract
from data.importer import ImportFailed, import_file, load_mapping
from data.importer.mapping import MAPPINGS_DIR
from tests.imports import boston
from tests.imports.conftest import rows, scalar


def _mapping(tmp_path, name: str, *, source: str = "", replace: tuple[str, str] | None = None, extra: str = ""):
    """boston311 with lines added to [source], one text replaced, or a section appended."""
    text = (MAPPINGS_DIR / "boston311.toml").read_text()
    if source:
        text = text.replace('timezone = "America/New_York"   #', f'{source}\ntimezone = "America/New_York"   #', 1)
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / f"{name}.toml"
    path.write_text(text + extra)
    return path


def _history(tmp_path):
    """Case 101 three times as it moved on (opened, then closed, then reclosed), among 20 others."""
    cases = [boston.case(200 + i, "01/05/2015 09:00:00 AM") for i in range(20)]
    cases.insert(3, boston.case(101, "01/05/2015 09:00:00 AM"))
    cases.insert(8, boston.case(101, "01/05/2015 09:00:00 AM", "01/06/2015 10:00:00 AM"))
    cases.insert(15, boston.case(101, "01/05/2015 09:00:00 AM", "01/07/2015 11:00:00 AM"))
    for case in cases:
        case["Updated"] = case["CLOSED_DT"] or case["OPEN_DT"]
    return boston.write(tmp_path / "history.csv", cases, header=[*boston.HEADER, "Updated"])


# Item 1 -------------------------------------------------------------------------------


def test_three_rows_with_one_key_that_differ_are_quarantined_not_a_crash(tmp_path):
    """Three versions of one key: the first is kept, the two later ones are quarantined,
    each naming the line kept (this crashed in Polars before)."""
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    result = import_file(_history(tmp_path), "boston311", url)
    r = result.reconciliation
    assert (r.read, r.inserted, r.quarantined) == (23, 21, {"conflicting_duplicate": 2})
    assert rows(url, "SELECT line, column_name, rule FROM import_rejects ORDER BY line") == [
        (10, "CASE_ENQUIRY_ID", "conflicting_duplicate"), (17, "CASE_ENQUIRY_ID", "conflicting_duplicate")]
    (message,), _ = rows(url, "SELECT message FROM import_rejects ORDER BY line")
    assert message.startswith("CASE_ENQUIRY_ID 101 is also on line 5 with different values; the first is kept")
    assert scalar(url, "SELECT status FROM cases c JOIN import_keys k ON k.row_id = c.case_id WHERE k.source_key = '101'") == "open"


def test_latest_by_keeps_the_latest_version_of_a_case_and_excludes_its_history(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    mapping = _mapping(tmp_path, "boston_history", source='latest_by = "updated_at"', replace=(
        "[fields.status]", '[fields.updated_at]\nfrom = "Updated"\ntimestamp = "%m/%d/%Y %I:%M:%S %p"\n\n[fields.status]'))
    result = import_file(_history(tmp_path), mapping, url)
    r = result.reconciliation
    assert (r.read, r.inserted, r.excluded, r.quarantined) == (23, 21, {"superseded": 2}, {})
    assert rows(url, "SELECT status, closed_at FROM cases c JOIN import_keys k ON k.row_id = c.case_id "
                     "WHERE k.source_key = '101'") == [("closed", datetime(2015, 1, 7, 16, 0))]
    assert scalar(url, "SELECT COUNT(*) FROM import_rejects") == 0


def test_latest_by_must_name_a_field(tmp_path):
    with pytest.raises(ImportFailed) as error:
        load_mapping(_mapping(tmp_path, "bad_latest", source='latest_by = "updated"'))
    assert "[source] latest_by = 'updated' must name a field" in str(error.value)


# Item 3 -------------------------------------------------------------------------------


def _long_name(tmp_path):
    cases = [boston.case(300 + i, "01/05/2015 09:00:00 AM") for i in range(20)]
    cases[6]["TYPE"] = "Street light " + "x" * 188  # 201 characters: line 8
    return boston.write(tmp_path / "long.csv", cases)


def test_a_service_name_too_long_quarantines_its_row_naming_line_and_column(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    result = import_file(_long_name(tmp_path), "boston311", url)
    assert result.reconciliation.quarantined == {"too_long": 1}
    assert result.reconciliation.inserted == 19
    assert rows(url, "SELECT line, column_name, rule, message FROM import_rejects") == [
        (8, "TYPE", "too_long", "services.name (service_name) has 201 characters; it may have 200 (shorten it in the "
                                "file, or add a repair rule that truncates it)")]


def test_a_repair_rule_can_truncate_a_long_name_instead(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    mapping = _mapping(tmp_path, "boston_truncate", extra="""
[[rules]]
name = "name_truncated"
action = "repair"
when = "LENGTH(service_name) > 200"
set = { service_name = "LEFT(service_name, 200)" }
why = "names longer than the catalogue holds are cut at 200 characters"
""")
    result = import_file(_long_name(tmp_path), mapping, url)
    assert result.reconciliation.quarantined == {}
    assert result.reconciliation.repaired == {"closed_seconds_before_opened": 0, "name_truncated": 1}
    assert scalar(url, "SELECT MAX(LENGTH(name)) FROM services") == 200


# Item 2 -------------------------------------------------------------------------------


def _dated(tmp_path):
    """20 cases of January 2015 and three no service could have: 2099, 1900 and year 1."""
    cases = [boston.case(400 + i, f"01/{i + 1:02d}/2015 09:00:00 AM") for i in range(20)]
    cases += [boston.case(500, "01/01/2099 12:00:00 AM"), boston.case(501, "03/04/1900 10:00:00 AM"),
              boston.case(502, "01/01/0001 12:00:00 AM")]
    return boston.write(tmp_path / "dated.csv", cases)


def test_events_in_2099_1900_and_year_1_are_quarantined_and_not_the_data_as_of(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    result = import_file(_dated(tmp_path), "boston311", url)
    assert result.reconciliation.quarantined == {"after_import_time": 1, "before_earliest_date": 2}
    assert result.reconciliation.inserted == 20
    found = rows(url, "SELECT line, column_name, rule, message FROM import_rejects ORDER BY line")
    assert [row[:3] for row in found] == [(22, "OPEN_DT", "after_import_time"), (23, "OPEN_DT", "before_earliest_date"),
                                         (24, "OPEN_DT", "before_earliest_date")]
    assert found[0][3].startswith("submitted_at 2099-01-01 05:00:00 (UTC) is after the import's time, ")
    assert found[0][3].endswith(" plus 24 h: an event cannot be in the future (set [source] future_tolerance_hours to allow more)")
    assert found[1][3] == ("submitted_at 1900-03-04 15:00:00 (UTC) is before 1990-01-01, the earliest date taken as "
                           "plausible (set [source] earliest_date if the records go back further)")
    engine = create_engine(url)
    try:
        extent = run_extract(engine, "data_extent", departments=["public_works_department"])
    finally:
        engine.dispose()
    assert extent.row(0) == (datetime(2015, 1, 1, 14, 0), datetime(2015, 1, 20, 14, 0))


def test_the_earliest_date_comes_from_the_mapping_or_the_setting(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    mapping = _mapping(tmp_path, "boston_old", source="earliest_date = 1800-01-01\nfuture_tolerance_hours = 1000000")
    result = import_file(_dated(tmp_path), mapping, url, dry_run=True)
    assert result.reconciliation.quarantined == {"before_earliest_date": 1}  # only year 1
    monkeypatch.setenv("KPI_IMPORT_EARLIEST_DATE", "1850-01-01")
    result = import_file(_dated(tmp_path), "boston311", url, dry_run=True)
    assert result.reconciliation.quarantined == {"after_import_time": 1, "before_earliest_date": 1}
    monkeypatch.setenv("KPI_IMPORT_EARLIEST_DATE", "soon")
    with pytest.raises(ImportFailed, match="KPI_IMPORT_EARLIEST_DATE 'soon' is not a date such as 1990-01-01"):
        import_file(_dated(tmp_path), "boston311", url, dry_run=True)


# Item 4 -------------------------------------------------------------------------------


def test_a_map_target_that_the_column_does_not_allow_is_named_when_the_mapping_loads(tmp_path):
    mapping = _mapping(tmp_path, "boston_typo", replace=('"Constituent Call" = "phone"', '"Constituent Call" = "telephone"'))
    with pytest.raises(ImportFailed) as error:
        load_mapping(mapping)
    assert str(error.value) == (
        "mapping boston_typo.toml: [fields.channel] map 'Constituent Call' = 'telephone' is not a value cases.channel "
        "allows (did you mean 'phone'?); allowed: online, mobile_app, phone, in_person, mail, other"
    )
    with pytest.raises(ImportFailed, match="otherwise 'closed_ok' is not a value cases.status allows"):
        load_mapping(_mapping(tmp_path, "boston_otherwise", replace=(
            'map = { "Open" = "open", "Closed" = "closed" }', 'map = { "Open" = "open", "Closed" = "closed" }\notherwise = "closed_ok"')))


def test_the_stop_rule_applies_to_every_rule_and_commits_nothing(tmp_path, capsys):
    """A quarantine rule of the mapping that catches half the file stops the import with
    exit 2, and the database is as it was (here: not even created)."""
    cases = [boston.case(600 + i, "01/05/2015 09:00:00 AM", source="Self Service" if i % 2 else "Constituent Call")
             for i in range(20)]
    rule = """
[[rules]]
name = "online_not_wanted"
action = "quarantine"
when = "channel = 'online'"
why = "a rule written too broadly"
"""
    mapping = _mapping(tmp_path, "boston_strict", extra=rule)
    database = tmp_path / "kpi.duckdb"
    code = main(["import", str(boston.write(tmp_path / "half.csv", cases)), "--mapping", str(mapping),
                 "--database", f"duckdb:///{database}", "--quiet"])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: half.csv: 10 of 20 rows (50%) would be quarantined by online_not_wanted (e.g. line 3: a rule written "
        "too broadly; line 5: a rule written too broadly); so large a share means the mapping or the file is wrong, so "
        "nothing was written. Fix them, or raise [source] max_quarantined above 0.1 in mapping boston_strict to import "
        "the rest\n")
    assert not database.exists()
    loose = _mapping(tmp_path, "boston_loose", source="max_quarantined = 0.5", extra=rule)
    result = import_file(tmp_path / "half.csv", loose, f"duckdb:///{database}")
    assert result.reconciliation.quarantined == {"online_not_wanted": 10}


# Item 5 -------------------------------------------------------------------------------

MEASURE = """
import resource, sys, time
from data.importer import ImportFailed, import_file
started = time.monotonic()
try:
    import_file(sys.argv[1], "boston311", sys.argv[2])
    print("imported")
except ImportFailed as error:
    print(error)
print(f"{time.monotonic() - started:.1f} s, {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
"""


def test_a_file_without_line_ends_fails_fast_in_bounded_memory(tmp_path):
    """64 MB with no line end after the header: one line, quickly, well under 64 MB more
    than an empty import (it took 37 s and 1.7 GB for 128 MB)."""
    export = boston.write(tmp_path / "one_line.csv", [])
    with open(export, "ab") as handle:
        for _ in range(64):
            handle.write(b"x" * (1024 * 1024))
    database = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    done = subprocess.run([sys.executable, "-c", MEASURE, str(export), database], capture_output=True, text=True,
                          timeout=120, cwd=MAPPINGS_DIR.parent.parent)
    message, measured = done.stdout.strip().splitlines()
    assert message == ("one_line.csv: line 2 runs past 8 MB without a line end; this is not a CSV or TSV file of one "
                       "record per line (was it saved as text, with line ends?)")
    seconds, megabytes = float(measured.split(" s, ")[0]), int(measured.split(", ")[1].removesuffix(" MB"))
    baseline = subprocess.run([sys.executable, "-c", MEASURE, str(boston.write(tmp_path / "empty.csv", [])), database],
                              capture_output=True, text=True, timeout=120, cwd=MAPPINGS_DIR.parent.parent)
    base_megabytes = int(baseline.stdout.strip().splitlines()[-1].split(", ")[1].removesuffix(" MB"))
    assert megabytes - base_megabytes < 120, (megabytes, base_megabytes)
    assert seconds < 10


def test_a_header_without_a_line_end_is_refused_the_same_way(tmp_path):
    export = tmp_path / "no_end.csv"
    export.write_bytes(b"a," * (5 * 1024 * 1024))
    with pytest.raises(ImportFailed, match="no_end.csv: line 1 runs past 8 MB without a line end"):
        import_file(export, "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")


def test_cr_only_line_ends_from_excel_for_mac_are_read(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    cases = [boston.case(700 + i, f"01/{i + 1:02d}/2015 09:00:00 AM") for i in range(20)]
    cases[4]["OPEN_DT"] = "31/01/2015 09:00:00 AM"  # line 6 does not parse
    export = boston.write(tmp_path / "mac.csv", cases, line_end="\r")
    assert b"\n" not in export.read_bytes()
    result = import_file(export, "boston311", url)
    assert (result.reconciliation.read, result.reconciliation.inserted) == (20, 19)
    assert rows(url, "SELECT line, rule FROM import_rejects") == [(6, "bad_timestamp")]


def test_a_timestamp_format_with_both_24_hour_and_am_pm_is_refused_naming_the_field(tmp_path):
    mapping = _mapping(tmp_path, "boston_clock", replace=(
        '[fields.closed_at]\nfrom = "CLOSED_DT"              # empty while open (16%: right-censored at the export date)\n'
        'timestamp = "%m/%d/%Y %I:%M:%S %p"',
        '[fields.closed_at]\nfrom = "CLOSED_DT"\ntimestamp = "%m/%d/%Y %H:%M:%S %p"'))
    with pytest.raises(ImportFailed) as error:
        load_mapping(mapping)
    assert str(error.value) == (
        "mapping boston_clock.toml: [fields.closed_at] timestamp format '%m/%d/%Y %H:%M:%S %p' has both %H (hour of a "
        "24-hour clock) and %p (AM/PM): write %I with %p for a 12-hour clock, or %H without %p")


HOLD_STAGING = """
import sys, time
from data.importer.staging import staging_folder
with staging_folder() as (folder, notes):
    (folder / "rows-00000.parquet").write_bytes(b"x" * 1_000_000)
    print(folder, flush=True)
    time.sleep(60)
"""


def test_staging_folders_of_killed_imports_are_removed_by_the_next_and_running_ones_kept(tmp_path, monkeypatch):
    root = tmp_path / "tmp"
    root.mkdir()
    environment = {**os.environ, "TMPDIR": str(root)}
    started = [subprocess.Popen([sys.executable, "-c", HOLD_STAGING], stdout=subprocess.PIPE, text=True,
                                env=environment, cwd=MAPPINGS_DIR.parent.parent) for _ in range(2)]
    try:
        killed, running = (Path(p.stdout.readline().strip()) for p in started)
        started[0].send_signal(signal.SIGKILL)
        started[0].wait()
        assert killed.is_dir() and running.is_dir()
        monkeypatch.setattr(tempfile, "tempdir", str(root))
        result = import_file(boston.write(tmp_path / "export.csv", [boston.case(1, "01/05/2015 09:00:00 AM")]),
                             "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")
        assert not killed.exists()
        assert running.is_dir()  # its import is still running
        assert f"removed 1 staging folder(s) in {root} (1.0 MB) left by imports that were stopped" in result.warnings
        assert sorted(p.name for p in root.iterdir()) == [running.name]  # and this import's own is gone
    finally:
        started[1].kill()
        started[1].wait()
