"""Rows of one person (or team) whose time spans overlap: shared by the importer's
``overlapping_shift`` rule and the planner page's roster editor (no I/O).

Spans are half-open, [start, end): a shift ending at 13:00 and the next starting at 13:00
do not overlap. Of two overlapping rows the one that starts first (on a tie, the earlier
row) is kept; each row that starts before an earlier-starting row of the same person has
ended is marked, and told which row it runs into.
"""

from __future__ import annotations

import polars as pl


def overlapping(frame: pl.DataFrame, who: str, start: str, end: str, order: str) -> pl.DataFrame:
    """The rows of ``frame`` that overlap an earlier-starting kept row of the same ``who``.

    order: a column that breaks ties between equal starts (a line number). A marked row
    does not count against later ones (it will not be kept). Returns ``order`` of each
    marked row, ``overlaps``: the ``order`` of the kept row it runs into, and that row's
    start and end as ``other_start`` and ``other_end``. Rows with an empty who, start or
    end are never marked. One pass over the rows sorted by who and start.
    """
    rows = frame.select(who, start, end, order).drop_nulls([who, start, end]).sort(who, start, order)
    marked: list[tuple] = []
    current = None
    kept: tuple | None = None  # (order, start, end) of the kept row reaching furthest
    for person, begins, ends, line in rows.iter_rows():
        if person != current:
            current, kept = person, None
        if kept is not None and begins < kept[2]:
            marked.append((line, *kept))
            continue
        if kept is None or ends > kept[2]:
            kept = (line, begins, ends)
    schema = {order: frame.schema[order], "overlaps": frame.schema[order],
              "other_start": frame.schema[start], "other_end": frame.schema[end]}
    return pl.DataFrame(marked, schema=schema, orient="row").sort(order)
