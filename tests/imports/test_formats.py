"""The same export as CSV, gzipped CSV, TSV with CRLF, Parquet and Excel loads the same rows."""

from __future__ import annotations

import gzip
from datetime import datetime

import polars as pl
import pytest

from data.importer import import_file
from data.importer.reading import DelimitedReader
from tests.imports import boston
from tests.imports.conftest import rows

CASES = [
    boston.case(101, "01/05/2015 09:00:00 AM", "01/06/2015 10:00:00 AM", target="01/20/2015 08:30:00 AM"),
    boston.case(102, "03/08/2015 01:59:59 AM"),  # just before the clocks went forward
    boston.case(103, "11/01/2015 01:30:00 AM", "11/01/2015 01:45:00 AM", source="Self Service"),  # the repeated hour
    boston.case(104, "07/04/2015 12:00:00 PM", source="Twitter", subject="Parks & Recreation Department",
                kind="Tree Maintenance"),
]
LOADED = [
    ("101", datetime(2015, 1, 5, 14, 0), datetime(2015, 1, 6, 15, 0), datetime(2015, 1, 20, 13, 30), "phone", "closed"),
    ("102", datetime(2015, 3, 8, 6, 59, 59), None, None, "phone", "open"),
    ("103", datetime(2015, 11, 1, 5, 30), datetime(2015, 11, 1, 5, 45), None, "online", "closed"),  # EDT, the earlier
    ("104", datetime(2015, 7, 4, 16, 0), None, None, "online", "open"),
]
LOADED_SQL = ("SELECT k.source_key, c.submitted_at, c.closed_at, c.due_at, c.channel, c.status FROM cases c "
              "JOIN import_keys k ON k.row_id = c.case_id ORDER BY k.source_key")


def _as_frame() -> pl.DataFrame:
    return pl.DataFrame([{c: row.get(c, "") for c in boston.HEADER} for row in CASES])


def _csv(tmp_path):
    return boston.write(tmp_path / "export.csv", CASES)


def _gzip(tmp_path):
    data = boston.write(tmp_path / "plain.csv", CASES).read_bytes()
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(data))
    return path


def _tsv(tmp_path):
    return boston.write(tmp_path / "export.tsv", CASES, delimiter="\t", line_end="\r\n")


def _parquet(tmp_path):
    path = tmp_path / "export.parquet"
    _as_frame().write_parquet(path)
    return path


def _excel(tmp_path):
    path = tmp_path / "export.xlsx"
    _as_frame().write_excel(path)
    return path


@pytest.mark.parametrize("make", [_csv, _gzip, _tsv, _parquet, _excel], ids=["csv", "gzip", "tsv-crlf", "parquet", "excel"])
def test_every_format_loads_the_same_rows(make, tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    result = import_file(make(tmp_path), "boston311", url)
    assert result.reconciliation.inserted == 4 and result.reconciliation.balanced
    assert rows(url, LOADED_SQL) == LOADED


def test_an_excel_sheet_with_real_dates_needs_no_format(tmp_path):
    frame = _as_frame().with_columns(
        pl.col("OPEN_DT").str.strptime(pl.Datetime("ms"), "%m/%d/%Y %I:%M:%S %p"),
        pl.col("CASE_ENQUIRY_ID").cast(pl.Int64),
    )
    path = tmp_path / "dates.xlsx"
    frame.write_excel(path)
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    import_file(path, "boston311", url)
    assert [row[:2] for row in rows(url, LOADED_SQL)] == [row[:2] for row in LOADED]


def test_line_numbers_stay_right_after_a_field_that_spans_lines(tmp_path):
    cases = [dict(c) for c in CASES]
    cases[0]["CLOSURE_REASON"] = "Case Closed Case Resolved\nfixed on the second line\nand a third"
    cases[2]["OPEN_DT"] = "not a date"
    export = boston.write(tmp_path / "multiline.csv", cases * 10)  # 40 records; record 3 starts on line 6
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    mapping = tmp_path / "lenient.toml"
    from data.importer.mapping import MAPPINGS_DIR

    mapping.write_text((MAPPINGS_DIR / "boston311.toml").read_text().replace(
        'timezone = "America/New_York"   #', 'max_unparseable = 0.5\ntimezone = "America/New_York"   #', 1))
    result = import_file(export, mapping, url)
    assert result.reconciliation.quarantined == {"bad_timestamp": 10}
    lines = [line for (line,) in rows(url, "SELECT line FROM import_rejects ORDER BY line")]
    assert lines[:2] == [6, 12]  # each group of 4 records spans 6 lines
    assert result.reconciliation.excluded == {"duplicate_row": 27}  # the same 3 good cases 10 times


def test_a_byte_order_mark_and_blank_lines_are_handled(tmp_path):
    path = boston.write(tmp_path / "bom.csv", CASES)
    text = path.read_bytes()
    lines = text.split(b"\n")
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines[:2] + [b"", b"   "] + lines[2:]))
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    result = import_file(path, "boston311", url)
    assert result.reconciliation.read == 6
    assert result.reconciliation.excluded == {"blank_line": 2}
    assert rows(url, LOADED_SQL) == LOADED


@pytest.mark.parametrize("block_bytes", [64, 200, 4096])
def test_block_boundaries_do_not_change_what_is_read(tmp_path, block_bytes):
    cases = [dict(c) for c in CASES * 5]
    cases[3]["CLOSURE_REASON"] = 'a "quoted" reason,\nover two lines'
    path = boston.write(tmp_path / "blocks.csv", cases)
    whole = list(DelimitedReader(path, delimiter=",", quote='"', encoding="utf-8").batches())
    pieces = list(DelimitedReader(path, delimiter=",", quote='"', encoding="utf-8", block_bytes=block_bytes).batches())
    assert pl.concat([b.frame for b in pieces]).equals(pl.concat([b.frame for b in whole]))
    assert sum(b.malformed.height for b in pieces) == 0
