"""Exports that question the importer (issue 15, items 1-5): repeated keys with a history,
values that do not fit, dates no service could have, mapping typos, files without line
ends. Every input is a small file written here."""

from __future__ import annotations

from datetime import datetime

import pytest

from data.__main__ import main
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
