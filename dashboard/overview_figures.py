"""Tables and sentences of the weekly scorecard page: pure functions of the scorecard's
frames (the tiles themselves are components.tiles)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from metrics.formatting import number
from metrics.periods import parse_week, week_label
from metrics.registry import METRICS
from metrics.scorecard import YEAR_WEEKS, Scorecard

RANKED = 5  # measures listed furthest above and below target


def ranked(rows: pl.DataFrame, kpis: list[str], limit: int = RANKED) -> str:
    """The first ``limit`` of ``kpis`` as a Markdown list: value, target and score."""
    scores = dict(zip(rows["kpi"], rows["score"], strict=True))
    values = dict(zip(rows["kpi"], rows["value"], strict=True))
    targets = dict(zip(rows["kpi"], rows["target"], strict=True))
    lines = [
        f"- {METRICS[k].label}: {number(values[k], k)} (target {number(targets[k], k)}, score {scores[k]:.2f})"
        for k in kpis[:limit]
    ]
    return "\n".join(lines) if lines else "- none"


def scorecard_table(rows: pl.DataFrame) -> pl.DataFrame:
    """The scorecard as a table (the page gives the number columns their titles)."""
    return rows.select(
        pl.col("label").alias("Measure"), "value", "last_week", "same_week_last_year", "target",
        pl.col("status").alias("Status"), pl.col("n").alias("Observations"), pl.col("note").alias("Note"), pl.col("kpi").alias("KPI"),
    )


def sparkline_table(history: pl.DataFrame) -> pl.DataFrame:
    """The sparklines' numbers: one row per measure, one column per week."""
    named = history.with_columns(pl.col("kpi").replace_strict({k: m.label for k, m in METRICS.items()}).alias("Measure"))
    return named.pivot(on="period", index="Measure", values="value", maintain_order=True)


def rules_caption(card: Scorecard, week: str) -> str | None:
    """The rows each rule left out in the weeks the comparisons read, and the targets'
    version; None when no rule left anything out."""
    counts = card.rule_counts
    if not counts:
        return None
    return (
        f"Left out by rule in the {YEAR_WEEKS + 1} weeks the comparisons read ({week_label(parse_week(week) - timedelta(weeks=YEAR_WEEKS))} "
        f"to {week}): "
        + "; ".join(f"{name.replace('_', ' ')}: {count:,} rows" for name, count in counts.items())
        + f". Targets: metrics/targets.toml version {card.targets_version}."
    )
