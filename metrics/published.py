"""Published series (aggregate observations) at their own grain, for the scorecard and the
drill-down: the latest period against the previous period, the same period last year and
the source's own target, and how far down the source's dimensions go.

A series is read at the grain it was published (metrics/aggregate.py's stored grain): a
monthly series is compared month with month, never with a week, which it cannot be split
into. The previous period is the period just before the latest (a month, a quarter, a
week); the same period last year is the period a year before it (52 weeks for a week);
either is empty when the source did not publish it, and the table says so rather than
taking another period. Ratios are fractions (0.8423 for 84.23%). No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from metrics.aggregate import SCOPES, aggregate
from metrics.registry import Direction
from metrics.status import GREY, status

_BACK_ONE = {"week": "-7d", "month": "-1mo", "quarter": "-3mo", "financial_year": "-1y"}
_BACK_A_YEAR = {"week": "-364d", "month": "-1y", "quarter": "-1y", "financial_year": "-1y"}
GRAIN_WORDS = {"week": "week", "month": "month", "quarter": "quarter", "financial_year": "financial year"}
DIMENSION_WORDS = {"department_id": "department", "service_id": "service", "office_id": "office", "channel": "channel"}
_META = ("label", "unit", "direction", "kind")


def periods(frame: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """Each series' figure per period at its own grain over the frame's observations
    (pooled across the scopes not in ``by``), with the series' label, unit, direction and
    kind, and the source's target for the cell (empty when its observations' targets
    differ, and the note says so)."""
    by = list(by)
    cells = aggregate(frame, None, by)
    meta = frame.group_by("series").agg(*(pl.col(c).first() for c in _META))
    keys = ["series", "grain", "period_start", *by]
    targets = (
        frame.with_columns(pl.col("period_start"))
        .group_by(keys).agg(targets=pl.col("target").drop_nulls().unique())
        .with_columns(
            target=pl.when(pl.col("targets").list.len() == 1).then(pl.col("targets").list.first()),
            targets_differ=pl.col("targets").list.len() > 1,
        ).drop("targets")
    )
    joined = cells.join(meta, on="series", how="left").join(targets, on=keys, how="left", nulls_equal=True)
    differ = pl.lit("the observations' targets differ, so there is no one target")
    return joined.with_columns(
        note=pl.when(pl.col("targets_differ")).then(
            pl.when(pl.col("note").is_null()).then(differ).otherwise(pl.concat_str([pl.col("note"), pl.lit("; "), differ]))
        ).otherwise(pl.col("note")),
    ).drop("targets_differ")


def judged(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with status: each value against its target in its series' direction."""
    states = [
        status(value, target, Direction(direction)) if direction else GREY
        for value, target, direction in zip(frame["value"], frame["target"], frame["direction"], strict=True)
    ]
    return frame.with_columns(status=pl.Series(states, dtype=pl.String))


def latest(frame: pl.DataFrame, day: date) -> pl.DataFrame:
    """One row per series (and grain) of the frame's scope: its latest period over by
    ``day`` (period_end on or before it), its value and note, the previous period's and
    the same period last year's start and value (null where not published), the target
    and the status against it (metrics.status). Sorted by label."""
    cells = periods(frame.filter(pl.col("period_end") <= day))
    if cells.is_empty():
        return judged(cells.with_columns(
            previous_start=pl.lit(None, dtype=pl.Date), previous_value=pl.lit(None, dtype=pl.Float64),
            last_year_start=pl.lit(None, dtype=pl.Date), last_year_value=pl.lit(None, dtype=pl.Float64),
        ))
    newest = cells.sort("period_start").group_by(["series", "grain"], maintain_order=True).last()
    values = cells.select("series", "grain", "period_start", "value")
    back = {grain: pl.col("period_start").dt.offset_by(step) for grain, step in _BACK_ONE.items()}
    year = {grain: pl.col("period_start").dt.offset_by(step) for grain, step in _BACK_A_YEAR.items()}

    def by_grain(steps: Mapping[str, pl.Expr]) -> pl.Expr:
        expression = pl.lit(None, dtype=pl.Date)
        for grain, step in steps.items():
            expression = pl.when(pl.col("grain") == grain).then(step).otherwise(expression)
        return expression

    found = newest.with_columns(previous_start=by_grain(back), last_year_start=by_grain(year))
    found = found.join(
        values.rename({"period_start": "previous_start", "value": "previous_value"}), on=["series", "grain", "previous_start"], how="left",
    ).join(
        values.rename({"period_start": "last_year_start", "value": "last_year_value"}), on=["series", "grain", "last_year_start"], how="left",
    )
    return judged(found).sort(["label", "series", "grain"])


def depth(frame: pl.DataFrame) -> list[str]:
    """The scope columns (department, service, office, channel, in that order) the
    frame's observations fill anywhere: how far down the source goes."""
    return [column for column in SCOPES if column in frame.columns and frame[column].is_not_null().any()]


def next_level(frame: pl.DataFrame, where: Mapping[str, str]) -> str | None:
    """The first scope column the source fills that ``where`` has not fixed yet (None:
    the drill-down is as deep as the source goes)."""
    return next((column for column in depth(frame) if column not in where), None)


def narrowed(frame: pl.DataFrame, where: Mapping[str, str]) -> pl.DataFrame:
    """The observations of the scope ``where`` ({column: value})."""
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    return frame


def stops_here(frame: pl.DataFrame, label: str) -> str:
    """Where the source stops, in words: 'A&E 4-hour standard is published per
    department, service and office and month; there are no individual cases behind it.'"""
    columns = depth(frame)
    grains = sorted(set(frame["grain"].to_list())) if frame.height else []
    dimensions = [DIMENSION_WORDS[column] for column in columns]
    per = _and(dimensions) if dimensions else "no department"
    grain_words = _and([GRAIN_WORDS[g] for g in grains]) or "period"
    missing = [DIMENSION_WORDS[column] for column in SCOPES if column not in columns]
    lacking = f" It has no {_or(missing)} breakdown." if missing else ""
    return (f"{label} is published per {per}, by {grain_words}; there are no individual cases, calls or ratings "
            f"behind it, so the drill-down stops there.{lacking}")


def _and(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1] if words else ""


def _or(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1] if words else ""
