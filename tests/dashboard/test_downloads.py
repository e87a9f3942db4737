"""Every file the dashboard offers can be opened in a spreadsheet safely (issue 15, item 6):
a text cell that begins with =, +, -, @, a tab or a carriage return is prefixed with a
single quote in a CSV (OWASP's rule), numbers stay numbers, and Excel workbooks hold
text as text cells."""

from __future__ import annotations

import csv
import io
import sys

import openpyxl
import polars as pl
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import downloads
from tests.conftest import ROOT
from tests.dashboard.conftest import HOSTILE_OFFICE, HOSTILE_SERVICE

PAGE_FILE = str(ROOT / "dashboard" / "pages" / "drilldown.py")
if str(ROOT / "dashboard") not in sys.path:
    sys.path.insert(0, str(ROOT / "dashboard"))
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ATTACKS = ["=cmd|' /C calc'!A0", '=HYPERLINK("https://phish.example","x")', "+1+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]


def formula_cells(data: bytes) -> list[str]:
    """Every cell of a CSV that a spreadsheet would run as a formula."""
    cells = [cell for row in csv.reader(io.StringIO(data.decode())) for cell in row]
    return [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not is_number(cell)]


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_formula_cells_are_prefixed_and_numbers_stay_numbers():
    frame = pl.DataFrame({"name": [*ATTACKS, "-2.5", "+44", "Leeds", None], "count": list(range(-5, 6))})
    written = downloads.csv_bytes(frame)
    assert formula_cells(written) == []
    back = pl.read_csv(io.BytesIO(written), schema_overrides={"name": pl.String})
    assert back["name"].to_list()[: len(ATTACKS)] == ["'" + attack for attack in ATTACKS]
    assert back["name"].to_list()[len(ATTACKS):] == ["-2.5", "+44", "Leeds", None]
    assert back["count"].to_list() == list(range(-5, 6)) and back["count"].dtype == pl.Int64


def test_a_formula_in_a_column_name_is_prefixed_too():
    assert downloads.csv_bytes(pl.DataFrame({"=1+1": [1]})).decode().splitlines()[0] == "'=1+1"


def test_excel_downloads_hold_text_as_text_cells():
    workbook = openpyxl.load_workbook(io.BytesIO(downloads.excel_bytes(pl.DataFrame({"name": ATTACKS}), "rows")))
    cells = [row[0] for row in workbook.active.iter_rows(min_row=2)]
    # (openpyxl reads a carriage return back in OOXML's escaped form, _x000D_)
    assert [cell.value for cell in cells][:-1] == ATTACKS[:-1]
    assert {cell.data_type for cell in cells} == {"s"}  # strings, never formulas ("f")


@pytest.fixture
def offered(monkeypatch) -> dict[str, bytes]:
    """The bytes of every file a page offers, by MIME type (Streamlit keeps them in its
    media store; the wrapper keeps a copy)."""
    files: dict[str, bytes] = {}
    keep = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        files[mimetype] = path_or_data
        return keep(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    return files


def test_the_drilldown_csv_of_a_hostile_import_holds_no_formula(hostile_env, offered):
    at = AppTest.from_file(PAGE_FILE, default_timeout=120)
    for key, value in {"kpi": "volume", "service": "passport", "office": "leeds", "week": "2026-W47"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    at.button(key="drill-prepare").click().run()
    assert not at.exception
    data = offered["text/csv"]
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert rows and {row["Office"] for row in rows} == {"'" + HOSTILE_OFFICE}
    assert {row["Service"] for row in rows} == {HOSTILE_SERVICE}  # not a formula: unchanged
    assert formula_cells(data) == []
    workbook = openpyxl.load_workbook(io.BytesIO(offered["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]))
    header = [cell.value for cell in next(workbook.active.iter_rows(max_row=1))]
    office = [row[header.index("Office")] for row in workbook.active.iter_rows(min_row=2)]
    assert {cell.value for cell in office} == {HOSTILE_OFFICE} and {cell.data_type for cell in office} == {"s"}
