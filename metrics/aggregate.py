"""Aggregate series (published counts and ratios per scope and period) at any coarser grain.

Observations come from the ``observations`` extract (sql/observations.sql): one figure of
a series per scope and period, at the grain it was published (week, month, quarter,
financial year). ``aggregate(frame, grain="quarter", by=["service_id"])`` rolls them up:

- a ratio is the sum of its numerators over the sum of its denominators over the cell,
  never the mean of the published ratios (the 4-hour standard of England is not the mean
  of 274 providers' percentages);
- a count (kept in ``numerator``) is the sum;
- a value published without its parts cannot be combined: a cell of more than one such
  observation (a coarser grain, or several scopes pooled) has no value, and its note says
  why. The same for a ratio observation published without its parts.

A grain finer than the stored one cannot be made (a quarter does not split into months),
nor months from weeks (a week may straddle two months): those cells are empty with a note.
A cell missing some of its periods (two months of a quarter) keeps its figure, over the
periods present, and says so in ``note``. Ratios are fractions (0.95 for 95%). No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

GRAIN_ORDER = ("week", "month", "quarter", "financial_year")
SCOPES = ("department_id", "service_id", "office_id", "channel")
# Stored periods in one period of the coarser grain (for the note on incomplete cells).
_PARTS = {("month", "quarter"): 3, ("month", "financial_year"): 12, ("quarter", "financial_year"): 4}
_LENGTH = {"month": "1mo", "quarter": "3mo", "financial_year": "1y"}
REQUIRED = ("series", "kind", "grain", "period_start", "period_end", "numerator", "denominator", "value")
RESULT_SCHEMA = {
    "series": pl.String(), "grain": pl.String(), "period_start": pl.Date(), "period_end": pl.Date(),
    "numerator": pl.Float64(), "denominator": pl.Float64(), "value": pl.Float64(),
    "observations": pl.UInt32(), "periods": pl.UInt32(), "note": pl.String(),
}


class AggregateError(ValueError):
    """The frame or the request cannot be aggregated (a column or a grain unknown)."""


def period_of(grain: str, year_starts: int = 4) -> pl.Expr:
    """The first day of the ``grain`` period each ``period_start`` falls in."""
    start = pl.col("period_start")
    if grain == "week":
        return start
    if grain == "month":
        return start.dt.truncate("1mo")
    if grain == "quarter":
        return start.dt.truncate("1q")
    year = start.dt.year()
    first = pl.when(start.dt.month() >= year_starts).then(year).otherwise(year - 1)
    return pl.date(first, year_starts, 1)


def aggregate(frame: pl.DataFrame, grain: str | None = None, by: Sequence[str] = (), *, year_starts: int = 4) -> pl.DataFrame:
    """Each series' figure per ``by`` scope and ``grain`` period (None: the stored grain).

    Returns one row per series, cell and period: numerator, denominator, value (ratio:
    numerator / denominator; count: numerator; value series: the published value where
    the cell holds exactly one), observations, periods (distinct stored periods in the
    cell) and note (why value is empty, or that periods are missing; else null).
    """
    unknown = [c for c in by if c not in SCOPES]
    if unknown:
        raise AggregateError(f"cannot aggregate by {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    missing = [c for c in (*REQUIRED, *by) if c not in frame.columns]
    if missing:
        raise AggregateError(f"the observations lack {', '.join(missing)}; read them with the observations extract")
    if grain is not None and grain not in GRAIN_ORDER:
        raise AggregateError(f"grain {grain!r} is not one of {', '.join(GRAIN_ORDER)}")
    by = list(by)
    pieces = []
    for (stored,), rows in frame.group_by(["grain"], maintain_order=True):
        wanted = grain or str(stored)
        pieces.append(_at_grain(rows, str(stored), wanted, by, year_starts))
    if not pieces:
        return pl.DataFrame(schema={"series": pl.String(), **{c: pl.String() for c in by},
                                    **{k: v for k, v in RESULT_SCHEMA.items() if k != "series"}})
    return pl.concat(pieces, how="vertical").sort(["series", "period_start", *by], nulls_last=True)


def _impossible(stored: str, wanted: str) -> str | None:
    if GRAIN_ORDER.index(wanted) < GRAIN_ORDER.index(stored):
        return f"published by {stored}: it cannot be split into {wanted}s"
    if stored == "week" and wanted != "week":
        return f"published by week: weeks straddle {wanted}s, so they do not add up to one"
    return None


def _at_grain(rows: pl.DataFrame, stored: str, wanted: str, by: list[str], year_starts: int) -> pl.DataFrame:
    refused = _impossible(stored, wanted)
    columns = ["series", *by]
    if refused:
        cells = rows.group_by([*columns, "period_start", "period_end"]).agg(
            observations=pl.len(), periods=pl.lit(1, dtype=pl.UInt32))
        return cells.with_columns(
            grain=pl.lit(stored), numerator=pl.lit(None, dtype=pl.Float64), denominator=pl.lit(None, dtype=pl.Float64),
            value=pl.lit(None, dtype=pl.Float64), note=pl.lit(refused),
        ).select(*columns, *list(RESULT_SCHEMA)[1:])
    start = period_of(wanted, year_starts) if wanted != stored else pl.col("period_start")
    has_parts = pl.col("numerator").is_not_null() & (pl.col("denominator").is_not_null() | (pl.col("kind") != "ratio"))
    cells = (
        rows.with_columns(_cell=start)
        .group_by([*columns, "_cell"])
        .agg(
            kind=pl.col("kind").first(),
            numerator=pl.col("numerator").sum(),
            denominator=pl.col("denominator").sum(),
            published=pl.col("value").first(),
            observations=pl.len(),
            without_parts=(~has_parts).sum(),
            periods=pl.col("period_start").n_unique(),
            last=pl.col("period_end").max(),
        )
    )
    end = pl.col("last") if wanted == stored else pl.col("_cell").dt.offset_by(_LENGTH[wanted]).dt.offset_by("-1d")
    expected = _PARTS.get((stored, wanted))
    one = pl.col("observations") == 1
    value = (
        pl.when(pl.col("kind") == "value").then(pl.when(one).then(pl.col("published")))
        .when(pl.col("without_parts") > 0).then(pl.when(one).then(pl.col("published")))
        .when(pl.col("kind") == "ratio").then(pl.col("numerator") / pl.col("denominator"))
        .otherwise(pl.col("numerator"))
    )
    only_value = (
        f"{{}} of {{}} observations publish only their value, not their parts: values are not averaged into "
        f"a {'coarser ' if wanted != stored else ''}figure"
    )
    note = (
        pl.when(((pl.col("kind") == "value") | (pl.col("without_parts") > 0)) & ~one)
        .then(pl.format(only_value, pl.col("without_parts"), pl.col("observations")))
    )
    if expected:
        note = note.when(pl.col("periods") < expected).then(
            pl.format(f"{{}} of the {expected} {stored}s of this {wanted.replace('_', ' ')} are published", pl.col("periods")))
    parts = pl.col("kind").is_in(["ratio", "count"]) & (pl.col("without_parts") == 0)
    return cells.with_columns(
        grain=pl.lit(wanted),
        period_start=pl.col("_cell"),
        period_end=end,
        value=value,
        numerator=pl.when(parts).then(pl.col("numerator")),
        denominator=pl.when(parts & (pl.col("kind") == "ratio")).then(pl.col("denominator")),
        note=note.otherwise(pl.lit(None, dtype=pl.String)),
    ).select(*columns, *list(RESULT_SCHEMA)[1:]).cast({"observations": pl.UInt32, "periods": pl.UInt32})
