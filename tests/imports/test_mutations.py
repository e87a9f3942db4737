"""Hypothesis: rows of the real Boston 311 file, mutated the ways exports go wrong, never
lose a row and never change the database other than as the import reports (issue 15).

Each example imports a few real rows first (sometimes none), then a file of other and
the same rows, some of them mutated: repeated exactly or with other values, dated 2099,
1900 or unparseably, a 201-character service name, a channel code the mapping does not
know, an empty key, a field missing, a blank line before, closed days before opened, or
closed since (an update). Then:

- read is the number of records written, and read = loaded + excluded + quarantined;
- the cases the source's keys point at changed exactly as reported: the inserted keys
  are new, the updated ones are the ones whose values changed, earlier ones are kept;
- import_rejects gained one row per quarantined row, per rule as counted, each with a
  line inside the file; the imports row says the same;
- importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.importer import import_file, load_mapping
from data.importer.mapping import MAPPINGS_DIR
from tests.imports.conftest import REAL_FILES, rows

SAMPLE_ROWS = 300
MUTATIONS = ("none", "none", "none", "exact_repeat", "changed_repeat", "year_2099", "year_1900", "bad_date",
             "long_type", "unknown_source", "no_key", "short_row", "blank_line", "closed_before_open", "closed_since")
BOSTON_TIME = "%m/%d/%Y %I:%M:%S %p"


def _sample() -> tuple[list[str], list[dict[str, str]]]:
    path = REAL_FILES["boston311"]
    if not path.is_file():
        pytest.skip(f"the real file is not at {path}")
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        records = list(itertools.islice(reader, SAMPLE_ROWS))
        return list(reader.fieldnames or []), records


HEADER, SAMPLE = _sample() if REAL_FILES["boston311"].is_file() else ([], [])


@st.composite
def histories(draw):
    """(indices imported first, [(index, mutation)] of the second file)."""
    indices = list(range(len(SAMPLE)))
    first = draw(st.lists(st.sampled_from(indices), unique=True, max_size=15))
    second = draw(st.lists(st.sampled_from(indices), unique=True, min_size=1, max_size=30))
    return first, [(i, draw(st.sampled_from(MUTATIONS))) for i in second]


def _shift_years(text: str, year: int) -> str:
    return text[:6] + str(year) + text[10:] if len(text) >= 10 else f"01/01/{year} 12:00:00 AM"


def _records(index: int, mutation: str) -> list[list[str] | None]:
    """The CSV records (None: a blank line) a mutated row becomes."""
    row = dict(SAMPLE[index])
    if mutation == "year_2099":
        row["OPEN_DT"] = _shift_years(row["OPEN_DT"], 2099)
    elif mutation == "year_1900":
        row["OPEN_DT"] = _shift_years(row["OPEN_DT"], 1900)
    elif mutation == "bad_date":
        row["OPEN_DT"] = "31/31/2015 99:00:00 XM"
    elif mutation == "long_type":
        row["TYPE"] = ("Long " + row["TYPE"] + " " + "x" * 201)[:201]
    elif mutation == "unknown_source":
        row["Source"] = "Carrier Pigeon"
    elif mutation == "no_key":
        row["CASE_ENQUIRY_ID"] = ""
    elif mutation in ("closed_before_open", "closed_since"):
        opened = datetime.strptime(row["OPEN_DT"], BOSTON_TIME)
        closed = opened - timedelta(days=10) if mutation == "closed_before_open" else opened + timedelta(days=3, hours=1)
        row["CLOSED_DT"], row["CASE_STATUS"] = closed.strftime(BOSTON_TIME), "Closed"
    values = [row[c] for c in HEADER]
    if mutation == "short_row":
        return [values[:-1]]
    if mutation == "blank_line":
        return [None, values]
    if mutation == "exact_repeat":
        return [values, list(values)]
    if mutation == "changed_repeat":
        other = dict(row, CASE_STATUS="Open" if row["CASE_STATUS"] == "Closed" else "Closed",
                     CLOSED_DT="" if row["CASE_STATUS"] == "Closed" else row["OPEN_DT"])
        return [values, [other[c] for c in HEADER]]
    return [values]


def _write(path: Path, records: list[list[str] | None]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for record in records:
        if record is None:
            buffer.write("\n")
        else:
            writer.writerow(record)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _cases(url: str) -> dict[str, tuple]:
    """source key -> the case's values, for every imported case."""
    return {key: values for key, *values in (tuple(r) for r in rows(
        url, "SELECT k.source_key, c.case_id, c.service_id, c.office_id, c.channel, c.submitted_at, c.due_at, "
             "c.closed_at, c.status, c.outcome FROM cases c JOIN import_keys k ON k.row_id = c.case_id"))}


def _counts(url: str) -> dict[str, int]:
    return dict(rows(url, "SELECT 'rejects', COUNT(*) FROM import_rejects UNION ALL SELECT 'loads', COUNT(*) FROM "
                          "data_loads UNION ALL SELECT 'cases', COUNT(*) FROM cases"))


@pytest.mark.slow  # 30 imports of mutated real rows: 29 s at load 6 to 17
@pytest.mark.skipif(not SAMPLE, reason="the real Boston 311 file is not there")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories())
def test_mutated_real_rows_reconcile_and_change_the_database_exactly_as_reported(tmp_path_factory, history):
    first, second = history
    folder = tmp_path_factory.mktemp("mutations")
    mapping = folder / "boston_lenient.toml"
    mapping.write_text((MAPPINGS_DIR / "boston311.toml").read_text().replace(
        'timezone = "America/New_York"   #', 'max_unparseable = 1.0\nmax_quarantined = 1.0\ntimezone = "America/New_York"   #', 1))
    mapping = load_mapping(mapping)
    url = f"duckdb:///{folder / 'kpi.duckdb'}"
    if first:
        _write(folder / "first.csv", [_records(i, "none")[0] for i in first])
        import_file(folder / "first.csv", mapping, url)
    before = _cases(url) if first else {}
    counts_before = _counts(url) if first else {"rejects": 0, "loads": 0, "cases": 0}

    records = [record for index, mutation in second for record in _records(index, mutation)]
    _write(folder / "second.csv", records)
    result = import_file(folder / "second.csv", mapping, url)
    r = result.reconciliation

    assert r.read == len(records)
    assert r.read == r.loaded + r.excluded_total + r.quarantined_total
    after = _cases(url)
    counts_after = _counts(url)
    assert set(before) <= set(after)  # rows of earlier imports are kept
    new = set(after) - set(before)
    changed = {key for key in before if after[key] != before[key]}
    assert len(new) == r.inserted
    assert len(changed) == r.updated
    assert counts_after["cases"] - counts_before["cases"] == r.inserted
    assert counts_after["rejects"] - counts_before["rejects"] == (r.quarantined_total if result.load_id else 0)
    assert counts_after["loads"] - counts_before["loads"] == (1 if result.load_id else 0)
    if result.load_id:
        rejected = dict(rows(url, "SELECT rule, COUNT(*) FROM import_rejects WHERE load_id = :id GROUP BY rule",
                             id=result.load_id))
        assert rejected == {rule: n for rule, n in r.quarantined.items() if n}
        lines = [line for (line,) in rows(url, "SELECT line FROM import_rejects WHERE load_id = :id", id=result.load_id)]
        assert all(2 <= line <= len(records) + 1 for line in lines)
        (read, inserted, updated, quarantined), = rows(
            url, "SELECT rows_read, rows_inserted, rows_updated, rows_quarantined FROM imports WHERE load_id = :id",
            id=result.load_id)
        assert (read, inserted, updated, quarantined) == (r.read, r.inserted, r.updated, r.quarantined_total)
    plain = {SAMPLE[i]["CASE_ENQUIRY_ID"] for i, mutation in second if mutation == "none"}
    assert plain <= set(after)  # an unmutated row is always loaded

    again = import_file(folder / "second.csv", mapping, url)
    assert (again.reconciliation.inserted, again.reconciliation.updated) == (0, 0)
    assert _cases(url) == after and _counts(url) == counts_after
