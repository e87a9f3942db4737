"""The short written summary at the top of the scorecard, generated from its numbers.

"On-time rate fell to 81.0% against a target of 90%, its lowest in 13 weeks; ..."
Pure: it reads a Scorecard and returns sentences.
"""

from __future__ import annotations

import polars as pl

from metrics.formatting import number
from metrics.registry import METRICS, Direction
from metrics.scorecard import Scorecard

MAX_SENTENCES = 4


def _trend_note(history: pl.DataFrame, kpi: str, value: float) -> str:
    """', its lowest in 13 weeks' or ', its highest in 13 weeks' when it is."""
    series = history.filter(pl.col("kpi") == kpi)["value"].drop_nulls()
    if series.len() < 4:
        return ""
    weeks = series.len()
    if value <= series.min():
        return f", its lowest in {weeks} weeks"
    if value >= series.max():
        return f", its highest in {weeks} weeks"
    return ""


def _movement(value: float, before: float | None) -> str:
    if before is None:
        return "is"
    if value > before:
        return "rose to"
    if value < before:
        return "fell to"
    return "held at"


def sentences(card: Scorecard, scope: str | None = None) -> list[str]:
    """The most telling facts of one scope's scorecard, worst first."""
    rows = card.rows if scope is None else card.rows.filter(pl.col("scope") == scope)
    history = card.history if scope is None else card.history.filter(pl.col("scope") == scope)
    if card.partial:
        return [
            f"{card.week} is still in progress (data to {card.as_of:%a %d %b}): the figures so far are shown, "
            "but not judged against targets or earlier weeks. Choose the last complete week to compare."
        ]
    said: list[str] = []
    scored = rows.filter(pl.col("score").is_not_null()).sort("score")
    for row in scored.filter(pl.col("status") == "red").head(MAX_SENTENCES).iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        said.append(
            f"{metric.label} {_movement(row['value'], row['last_week'])} {number(row['value'], metric)} "
            f"against a target of {number(row['target'], metric)}{_trend_note(history, metric.name, row['value'])}"
        )
    if len(said) < MAX_SENTENCES:
        # then the biggest improvements among those on target
        for row in scored.filter(pl.col("status") == "green").sort("score", descending=True).iter_rows(named=True):
            metric = METRICS[row["kpi"]]
            note = _trend_note(history, metric.name, row["value"])
            good_high = metric.better == Direction.HIGHER and note.startswith(", its highest")
            good_low = metric.better == Direction.LOWER and note.startswith(", its lowest")
            if good_high or good_low:
                said.append(f"{metric.label} {_movement(row['value'], row['last_week'])} {number(row['value'], metric)}{note}, on target")
            if len(said) >= MAX_SENTENCES:
                break
    composite = card.composite if scope is None else card.composite.filter(pl.col("scope") == scope)
    if composite.height:
        entry = composite.row(0, named=True)
        if entry["score"] is not None:
            on_target = len(entry["above"])
            said.insert(
                0,
                f"Composite score {entry['score']:.2f} (1.00 is on target): {on_target} of {entry['metrics_scored']} measures on or above target",
            )
    volume = rows.filter(pl.col("kpi") == "volume")
    if volume.height and volume["value"][0] is not None:
        entry = volume.row(0, named=True)
        if entry["same_week_last_year"]:
            change = (entry["value"] - entry["same_week_last_year"]) / entry["same_week_last_year"] * 100
            said.append(f"{entry['value']:,.0f} cases were submitted, {abs(change):.0f}% {'more' if change >= 0 else 'fewer'} than the same week last year")
    return said


def summary(card: Scorecard, scope: str | None = None) -> str:
    """The sentences as one paragraph."""
    parts = sentences(card, scope)
    return "; ".join(parts) + "." if parts else "No figures for this week."
