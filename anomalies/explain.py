"""Where a flag came from: the sub-scope (service, office or channel) whose change
accounts for most of the deviation, with its share, expected and actual values.

For a flag on KPI k of scope P in period t, each child c of P (a service, office or
channel inside P) gets an expected value, the median of its own same-weekday values
over the 8 weeks before (weekly flags: the 8 weeks before), and a contribution to P's
deviation, in k's unit:

- counts and net flow: actual_c - expected_c (they add up to P's);
- rates and means (ratio KPIs): (scale x numerator_c - expected_c x denominator_c) /
  denominator_P: what P would have moved had only c changed (they add up to P's
  deviation from the mix-adjusted expectation);
- medians and percentiles: (actual_c - expected_c) x n_c / n_P, an approximation (a
  median does not add up).

A child's *share* is its contribution over the sum of the contributions in the flag's
direction (so shares of the children that moved the same way add up to 1). The
explanation names the child with the largest share over every child dimension of P,
passing over a dimension in which one child holds 95% or more of P's observations (the
phone channel holds every call: it cannot say where abandoned calls came from).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from anomalies.detect import SCOPE_DIMENSION, kpi_kind
from data.fact_frames import Facts
from metrics.engine import compute
from metrics.formatting import number
from metrics.registry import METRICS

# The child dimensions of each scope kind, in the order they are named.
CHILDREN: dict[str, tuple[str, ...]] = {
    "total": ("service_id", "office_id", "channel"),
    "department": ("service_id", "office_id", "channel"),
    "service": ("office_id", "channel"),
    "office": ("service_id", "channel"),
    "channel": ("service_id", "office_id"),
}
DIMENSION_WORDS = {"service_id": "service", "office_id": "office", "channel": "channel"}
LAGS = 8
UNINFORMATIVE = 0.95  # a child with this share of its parent's observations is its parent
EXPLAIN_SCHEMA = {
    "grain": pl.String, "scope_kind": pl.String, "scope_id": pl.String, "kpi": pl.String, "first_day": pl.Date,
    "explain_dimension": pl.String, "explain_member": pl.String, "explain_share": pl.Float64,
    "explain_expected": pl.Float64, "explain_actual": pl.Float64,
}


@dataclass(frozen=True)
class Names:
    """Display names of scope members, for the sentence of an explanation."""

    services: dict[str, str]
    offices: dict[str, str]
    departments: dict[str, str]

    def of(self, dimension: str, member: str | None) -> str:
        if member is None:
            return "(not recorded)"
        lookup = {"service_id": self.services, "office_id": self.offices, "department_id": self.departments}.get(dimension, {})
        return lookup.get(member, member.replace("_", " ").capitalize())


def child_values(facts: Facts, flags: pl.DataFrame, first_day: date, last_day: date) -> pl.DataFrame:
    """The flagged KPIs of every (parent, child) split the flags need, per period:
    grain, scope_kind, scope_id, child_dimension, child, kpi, period_start, value, n,
    numerator, denominator."""
    parts: list[pl.DataFrame] = []
    for (grain, kind), part in flags.partition_by(["grain", "scope_kind"], as_dict=True).items():
        kpis = sorted(set(part["kpi"].to_list()))
        parent = SCOPE_DIMENSION.get(kind)
        for child in CHILDREN[kind]:
            if child == parent:
                continue
            by = [grain] + ([parent] if parent else []) + [child]
            values = compute(facts, kpis, by=by, first_day=first_day, last_day=last_day).values
            member = pl.col(parent).cast(pl.String) if parent else pl.lit("all")
            parts.append(values.select(
                pl.lit(grain).alias("grain"), pl.lit(kind).alias("scope_kind"), member.alias("scope_id"),
                pl.lit(child).alias("child_dimension"), pl.col(child).cast(pl.String).alias("child"),
                "kpi", "period_start", "value", "n", "numerator", "denominator",
            ))
    if not parts:
        return pl.DataFrame(schema={
            "grain": pl.String, "scope_kind": pl.String, "scope_id": pl.String, "child_dimension": pl.String,
            "child": pl.String, "kpi": pl.String, "period_start": pl.Date, "value": pl.Float64, "n": pl.Int64,
            "numerator": pl.Float64, "denominator": pl.Float64,
        })
    return pl.concat(parts, how="vertical_relaxed")


def contributions(flags: pl.DataFrame, children: pl.DataFrame) -> pl.DataFrame:
    """One row per flag and child: expected_c, actual_c, contribution and share."""
    keys = ["grain", "scope_kind", "scope_id", "kpi", "first_day"]
    targets = flags.select(*keys, "direction").unique(keys)
    # the same weekday (daily flags) or simply the week (weekly flags) k weeks back
    lagged = targets.join(pl.DataFrame({"lag": list(range(LAGS + 1))}), how="cross").with_columns(
        (pl.col("first_day") - pl.duration(weeks=pl.col("lag"))).alias("period_start")
    )
    rows = lagged.join(children, on=["grain", "scope_kind", "scope_id", "kpi", "period_start"], how="inner")
    per_child = rows.group_by(*keys, "direction", "child_dimension", "child").agg(
        pl.col("value").filter(pl.col("lag") == 0).first().alias("actual"),
        pl.col("numerator").filter(pl.col("lag") == 0).first().alias("numerator"),
        pl.col("denominator").filter(pl.col("lag") == 0).first().alias("denominator"),
        pl.col("n").filter(pl.col("lag") == 0).first().alias("n"),
        pl.col("value").filter(pl.col("lag") > 0).median().alias("expected"),
    )
    kinds = {kpi: kpi_kind(kpi) for kpi in METRICS}
    scales = {kpi: METRICS[kpi].scale for kpi in METRICS}
    kind = pl.col("kpi").replace_strict(kinds, return_dtype=pl.String)
    scale = pl.col("kpi").replace_strict(scales, return_dtype=pl.Float64)
    group = [*keys, "child_dimension"]
    actual = pl.col("actual").fill_null(0.0)
    expected = pl.col("expected").fill_null(0.0)
    contribution = (
        pl.when(kind.is_in(["count", "difference"])).then(actual - expected)
        .when(kind.is_in(["rate", "ratio"])).then(
            (scale * pl.col("numerator").fill_null(0.0) - expected * pl.col("denominator").fill_null(0.0))
            / pl.col("denominator").fill_null(0.0).sum().over(group)
        )
        .otherwise((actual - expected) * pl.col("n").fill_null(0) / pl.col("n").fill_null(0).sum().over(group))
    )
    sign = pl.when(pl.col("direction") == "up").then(1.0).otherwise(-1.0)
    with_share = per_child.with_columns(contribution.fill_nan(None).alias("contribution")).with_columns(
        (pl.col("contribution") * sign).clip(lower_bound=0.0).alias("_same_way")
    )
    return with_share.with_columns(
        (pl.col("_same_way") / pl.col("_same_way").sum().over(group)).fill_nan(None).alias("share")
    ).drop("_same_way")


def explain(flags: pl.DataFrame, children: pl.DataFrame) -> pl.DataFrame:
    """EXPLAIN_SCHEMA: the child with the largest share for each flag (null when no
    child moved the flag's way)."""
    keys = ["grain", "scope_kind", "scope_id", "kpi", "first_day"]
    if flags.height == 0:
        return pl.DataFrame(schema=EXPLAIN_SCHEMA)
    found = contributions(flags, children)
    # A split where one child holds (nearly) all the observations says nothing: the
    # phone channel "explains" every call. Such dimensions are passed over.
    weight = pl.col("n").fill_null(0).cast(pl.Float64)
    found = found.with_columns(
        (weight / weight.sum().over(*keys, "child_dimension")).alias("_weight")
    ).with_columns(pl.col("_weight").max().over(*keys, "child_dimension").alias("_largest"))
    found = found.filter(
        pl.col("share").is_not_null() & (pl.col("share") > 0) & (pl.col("_largest").fill_nan(1.0) < UNINFORMATIVE)
    )
    # Ties (equal shares of a few cases) are broken the same way on every run and
    # backend: shares are compared to 9 places (sums of floats differ in the last bits
    # between databases), then the smaller child, then the dimension (service, office,
    # channel: DIMENSION_WORDS' order), then the member's name.
    rank = {dimension: index for index, dimension in enumerate(DIMENSION_WORDS)}
    best = (
        found.with_columns(
            pl.col("share").round(9).alias("_share"), pl.col("_weight").round(9).alias("_weight_rounded"),
            pl.col("child_dimension").replace_strict(rank, default=len(rank), return_dtype=pl.Int32).alias("_rank"),
        )
        .sort([*keys, "_share", "_weight_rounded", "_rank", "child"], descending=[False] * len(keys) + [True, False, False, False], nulls_last=True)
        .unique(keys, keep="first", maintain_order=True)
    )
    return best.select(
        *keys,
        pl.col("child_dimension").alias("explain_dimension"), pl.col("child").alias("explain_member"),
        pl.col("share").alias("explain_share"), pl.col("expected").alias("explain_expected"), pl.col("actual").alias("explain_actual"),
    ).cast(EXPLAIN_SCHEMA)


def sentence(row: dict, names: Names) -> str:
    """'Completion rate fell to 22.3% against 71.9% expected; most of the fall came from
    the Online channel (93% of it: 8.8% against 71.4%).' for a flag row with its
    explanation columns."""
    metric = METRICS[row["kpi"]]
    if row.get("detector") == "isolation_forest":
        others = [METRICS[k].label.lower() for k in (row.get("kpis") or "").split(",") if k and k != row["kpi"]]
        head = (
            f"An unusual combination: {metric.label.lower()} at {number(row['value'], metric)} against "
            f"{number(row['expected'], metric)} expected, with {', '.join(others)} also off"
        )
    else:
        moved = "rose" if row["direction"] == "up" else "fell"
        head = f"{metric.label} {moved} to {number(row['value'], metric)} against {number(row['expected'], metric)} expected"
        head += noise_words(row, lambda value: number(value, metric))
    tail = status_words(row)
    member = row.get("explain_member")
    if member is None or row.get("explain_share") is None:
        return head + "." + tail
    dimension = row["explain_dimension"]
    word = DIMENSION_WORDS.get(dimension, dimension)
    change = "rise" if row["direction"] == "up" else "fall"
    values = f"{number(row['explain_actual'], metric)} against {number(row['explain_expected'], metric)} expected"
    if row["explain_share"] >= 0.5:
        return f"{head}; most of the {change} came from the {word} {names.of(dimension, member)} ({row['explain_share']:.0%} of it: {values})." + tail
    return (
        f"{head}; no single {word} accounts for most of the {change}: the largest part, {row['explain_share']:.0%}, "
        f"came from {names.of(dimension, member)} ({values})."
    ) + tail


def noise_words(row: dict, show) -> str:
    """' (3.2 noise scales of 12 below it)' when the flag row carries its scale and z."""
    scale, score = row.get("scale"), row.get("score")
    if scale is None or score is None or not scale > 0:
        return ""
    side = "above" if score > 0 else "below"
    return f" ({abs(score):.1f} noise scales of {show(scale)} {side} it)"


def status_words(row: dict) -> str:
    """' Still outside since 2026-09-01.' for an open flag that has run on past its first
    period, ' Back to its earlier level on 2026-10-02.' for a recovered one; '' when
    the row does not say (no recovered_on) or the flag was a single period."""
    if "recovered_on" not in row or row.get("detector") == "isolation_forest":
        return ""
    if row["recovered_on"] is None:
        return f" Still outside since {row['first_day']}."
    if row.get("last_day") is not None and row["last_day"] > row["first_day"]:
        return f" Back to its earlier level on {row['recovered_on']}."
    return ""
