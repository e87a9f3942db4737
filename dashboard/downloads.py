"""The bytes of every file the dashboard offers for download, written one way.

CSV injection (OWASP): a spreadsheet opening a CSV runs a cell that begins with ``=``,
``+``, ``-`` or ``@`` as a formula (a tab or carriage return first hides it), so a service
name or a note like ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` would run on the reader's
machine. Such text cells, and such column names, are prefixed with a single quote, which
spreadsheets show as text. Numbers stay numbers: numeric columns are written as they are,
and a text cell that is only a number (``-2.5``, ``+44``) is left alone, since no
spreadsheet reads it as a formula. Excel workbooks need none of this: Polars writes text
as text cells (tests/dashboard/test_downloads.py keeps that true).
"""

from __future__ import annotations

import io
import re

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_STARTS_PATTERN = "^[=+\\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)


def neutralise_text(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula."""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER_RE.match(text):
        return "'" + text
    return text


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell and column name that a spreadsheet would read as a
    formula prefixed with a single quote; numbers and other cells unchanged."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Categorical, pl.Enum)]
    safe = frame.with_columns(
        pl.when(pl.col(name).cast(pl.String).str.contains(_STARTS_PATTERN) & ~pl.col(name).cast(pl.String).str.contains(_PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String))
        .alias(name)
        for name in text_columns
    )
    return safe.rename({name: neutralise_text(name) for name in safe.columns if neutralise_text(name) != name})


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The CSV of ``frame`` (UTF-8, a header row), safe to open in a spreadsheet."""
    return neutralised(frame).write_csv().encode()


def excel_bytes(frame: pl.DataFrame, sheet: str, **options) -> bytes:
    """The Excel workbook of ``frame`` on one sheet (text written as text cells)."""
    buffer = io.BytesIO()
    frame.write_excel(buffer, worksheet=sheet[:31] or "data", **options)
    return buffer.getvalue()
