"""Statistical disclosure control for everything published: one function, ``disclose``.

The rule (after the NHS rule for published health statistics; the thresholds are
settings, see ``DisclosureRule``):

- a count from 1 to 7 is suppressed (shown as ``*``); 0 is shown as 0;
- every other count is rounded to the nearest 5, totals included: a total is the rounded
  true total, not the sum of rounded parts, so parts need not add up to it;
- a rate, median or percentile is shown only when it is based on at least 8
  observations (otherwise ``*``);
- secondary suppression: wherever a published total equals the sum of its parts, a
  suppressed cell must not be recoverable by subtraction. Each such equation (total =
  parts) is checked; one with exactly one hidden member gets a second one hidden (the
  smallest non-zero part, else the smallest part, else the total), and the check repeats
  until no equation has exactly one hidden member. Cells that are hidden only to protect
  another are marked as such.

The function is pure Polars: a frame in, the same frame out with each disclosed column's
values replaced, and a boolean column ``<column>__hidden`` beside each, true where the
published value is ``*``. Writers (CSV, the public page) show hidden values as ``*``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

HIDDEN = "__hidden"
SECONDARY = "__secondary"


@dataclass(frozen=True)
class DisclosureRule:
    """The thresholds of the rule. ``suppress_up_to``: counts 1..this are suppressed;
    ``round_to``: other counts are rounded to the nearest multiple; ``min_base``: rates
    and medians need at least this many observations."""

    suppress_up_to: int = 7
    round_to: int = 5
    min_base: int = 8

    def __post_init__(self) -> None:
        problems = []
        if self.suppress_up_to < 0:
            problems.append(f"suppress_up_to must be 0 or more, not {self.suppress_up_to}")
        if self.round_to < 1:
            problems.append(f"round_to must be 1 or more, not {self.round_to}")
        if self.min_base < 1:
            problems.append(f"min_base must be 1 or more, not {self.min_base}")
        if problems:
            raise ValueError("disclosure rule: " + "; ".join(problems))

    @property
    def name(self) -> str:
        """The rule in words, as named in every published file."""
        return (
            f"Counts from 1 to {self.suppress_up_to} are suppressed (*); other counts, totals included, "
            f"are rounded to the nearest {self.round_to}, so parts may not add up to their total; "
            f"rates, medians and percentiles are shown only when based on at least {self.min_base}; "
            "further cells are suppressed where needed so that no suppressed count can be worked out "
            "from a total by subtraction."
        )

    @property
    def short_name(self) -> str:
        return f"suppress-1-{self.suppress_up_to}; round-{self.round_to}; min-base-{self.min_base}; secondary-suppression"


@dataclass(frozen=True)
class Margin:
    """A total within a column: the row whose ``column`` is ``total`` equals the sum of the
    rows whose ``column`` is in ``parts`` (all other members when None), the other key
    columns being equal. E.g. ``Margin("office_id", "all")`` or
    ``Margin("period", "2026-09..2026-11", ("2026-09", "2026-10", "2026-11"))``."""

    column: str
    total: str
    parts: tuple[str, ...] | None = None


def round_count(value: pl.Expr, step: int) -> pl.Expr:
    """Round a non-negative integer to the nearest multiple of ``step`` (halves up)."""
    return (((value.cast(pl.Int64) * 2 + step) // (2 * step)) * step).cast(pl.Int64)


def disclose(
    frame: pl.DataFrame,
    *,
    keys: Sequence[str],
    counts: Sequence[str] = (),
    measures: Mapping[str, str] | None = None,
    margins: Sequence[Margin] = (),
    rule: DisclosureRule | None = None,
) -> pl.DataFrame:
    """Apply the disclosure rule to ``frame`` (see the module docstring).

    ``keys``: the columns that identify a row (unique together). ``counts``: integer
    columns of true counts. ``measures``: rate, median or percentile columns, each mapped
    to the column of true counts it is based on (which may be a count column or a helper
    column; helper columns not listed in ``counts`` are dropped). ``margins``: which rows
    are totals of which (for secondary suppression of counts).
    """
    rule = rule or DisclosureRule()
    measures = dict(measures or {})
    problems = [f"no column {c!r}" for c in [*keys, *counts, *measures, *measures.values()] if c not in frame.columns]
    if problems:
        raise ValueError("disclose: " + "; ".join(dict.fromkeys(problems)))
    if frame.select(keys).is_duplicated().any():
        raise ValueError(f"disclose: rows are not unique by {list(keys)}")
    out = frame
    for column in counts:
        raw = pl.col(column).fill_null(0)
        primary = raw.is_between(1, rule.suppress_up_to)
        hidden = _secondary(frame, keys, column, margins, frame.select(primary)[column].to_list())
        hidden_series = pl.Series(f"{column}{HIDDEN}", hidden, dtype=pl.Boolean)
        out = out.with_columns(
            hidden_series,
            (hidden_series & ~frame.select(primary)[column]).alias(f"{column}{SECONDARY}"),
        ).with_columns(
            pl.when(pl.col(f"{column}{HIDDEN}") | pl.col(column).is_null()).then(None)
            .otherwise(round_count(pl.col(column), rule.round_to)).alias(column)
        )
    for column, base in measures.items():
        # a value resting on 1..min_base-1 observations is withheld (*), whether or not the
        # engine computed one; on none there is nothing to withhold (an empty cell)
        withheld = frame.select(pl.col(base).fill_null(0).is_between(1, rule.min_base - 1))[base]  # the true base
        out = out.with_columns(withheld.alias(f"{column}{HIDDEN}")).with_columns(
            pl.when(pl.col(f"{column}{HIDDEN}")).then(None).otherwise(pl.col(column)).alias(column)
        )
    helpers = [base for base in set(measures.values()) if base not in counts and base not in keys]
    return out.drop(sorted(helpers))


def _equations(frame: pl.DataFrame, keys: Sequence[str], margins: Sequence[Margin]) -> list[list[int]]:
    """Each equation as row positions, the total first then its parts."""
    indexed = frame.select(keys).with_row_index("_row")
    equations: list[list[int]] = []
    for margin in margins:
        others = [k for k in keys if k != margin.column]
        column = pl.col(margin.column).cast(pl.String)
        is_part = column.is_in(list(margin.parts)) if margin.parts is not None else column != margin.total
        totals = indexed.filter(column == margin.total).select(*others, pl.col("_row").alias("_total"))
        parts = indexed.filter(is_part & (column != margin.total))
        paired = (
            totals.join(parts.select(*others, "_row"), on=others, how="left", nulls_equal=True)
            if others else totals.join(parts.select("_row"), how="cross")
        )
        joined = (
            paired.group_by("_total", maintain_order=True).agg(pl.col("_row").drop_nulls())
            .sort("_total")
        )
        for total, rows in joined.iter_rows():
            if rows:
                equations.append([total, *sorted(rows)])
    return equations


def _secondary(frame: pl.DataFrame, keys: Sequence[str], column: str, margins: Sequence[Margin], primary: list[bool]) -> list[bool]:
    """Hidden cells of one count column: the primary ones plus those needed so that no
    equation has exactly one hidden member."""
    hidden = list(primary)
    if not margins or not any(hidden):
        return hidden
    values = frame[column].fill_null(0).to_list()
    equations = _equations(frame, keys, margins)
    changed = True
    while changed:
        changed = False
        for equation in equations:
            if sum(hidden[i] for i in equation) != 1:
                continue
            parts = [i for i in equation[1:] if not hidden[i]]
            if parts:
                nonzero = [i for i in parts if values[i] > 0]
                pick = min(nonzero or parts, key=lambda i: (values[i], i))
            else:
                pick = equation[0]
            hidden[pick] = True
            changed = True
    return hidden
