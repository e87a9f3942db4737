"""The short written summary at the top of the scorecard, generated from its numbers.

"On-time rate fell to 81.0% (worse than last week), 9.0 points below the 90.0% target,
its lowest in 13 weeks: furthest below in Benefits (37.0%) and Transport (59.8%); ..."
Pure: it reads a Scorecard (and, for "furthest below in", its where-matrix) and returns
sentences. Changes are judged better or worse in words by each KPI's direction.
"""

from __future__ import annotations

import polars as pl

from metrics.formatting import gap, judged, number
from metrics.registry import METRICS, Direction, Metric
from metrics.scorecard import Scorecard
from metrics.where import Where

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
    """'rose to', 'fell to', 'held at' ('is' with nothing to compare)."""
    if before is None:
        return "is"
    if value > before:
        return "rose to"
    if value < before:
        return "fell to"
    return "held at"


def _moved(value: float, before: float | None, metric: Metric) -> str:
    """'rose to 66.0% (better than last week)', 'is 59.2%'."""
    word = judged(None if before is None else value - before, metric)
    return f"{_movement(value, before)} {number(value, metric)}" + (f" ({word} than last week)" if word else "")


def _where_words(where: Where | None, names: dict[str, str], kpi: str) -> str:
    """': furthest below in Benefits (37.0%) and Transport (59.8%)' (above, where lower is
    better): the children off target on the KPI (compared unrounded), largest miss first;
    '' when none is."""
    if where is None or where.partial:
        return ""
    below = where.furthest_below(kpi)
    if not below:
        return ""
    listed = [f"{names.get(row['scope'], row['scope'])} ({number(row['value'], kpi)})" for row in below]
    side = "above" if METRICS[kpi].better == Direction.LOWER else "below"  # off target, in the KPI's direction
    return f": furthest {side} in " + " and ".join(listed)


def sentences(card: Scorecard, scope: str | None = None, *, where: Where | None = None, names: dict[str, str] | None = None) -> list[str]:
    """The most telling facts of one scope's scorecard, worst first; with its where-matrix
    (and the children's ``names``), where each measure off target is furthest below."""
    names = names or {}
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
        improved = judged(None if row["last_week"] is None else row["value"] - row["last_week"], metric) == "better"
        said.append(
            f"{metric.label} {_moved(row['value'], row['last_week'], metric)}, {'still ' if improved else ''}{gap(row['value'], row['target'], metric)}"
            f"{_trend_note(history, metric.name, row['value'])}{_where_words(where, names, metric.name)}"
        )
    if len(said) < MAX_SENTENCES:
        # then the biggest improvements among those on target
        for row in scored.filter(pl.col("status") == "green").sort("score", descending=True).iter_rows(named=True):
            metric = METRICS[row["kpi"]]
            note = _trend_note(history, metric.name, row["value"])
            good_high = metric.better == Direction.HIGHER and note.startswith(", its highest")
            good_low = metric.better == Direction.LOWER and note.startswith(", its lowest")
            if good_high or good_low:
                said.append(f"{metric.label} {_moved(row['value'], row['last_week'], metric)}{note}, on target")
            if len(said) >= MAX_SENTENCES:
                break
    composite = card.composite if scope is None else card.composite.filter(pl.col("scope") == scope)
    if composite.height:
        entry = composite.row(0, named=True)
        if entry["score"] is not None:
            said.insert(0, composite_words(entry, rows))
    volume = rows.filter(pl.col("kpi") == "volume")
    if volume.height and volume["value"][0] is not None:
        entry = volume.row(0, named=True)
        if entry["same_week_last_year"]:
            change = (entry["value"] - entry["same_week_last_year"]) / entry["same_week_last_year"] * 100
            said.append(f"{entry['value']:,.0f} cases were submitted, {abs(change):.0f}% {'more' if change >= 0 else 'fewer'} than the same week last year")
    return said


def composite_words(entry: dict, rows: pl.DataFrame) -> str:
    """The composite with how many measures are below target and the worst (the largest
    miss in target units): never an average on target alone."""
    text = f"Composite score {entry['score']:.2f} (1.00 is on target): {len(entry['above'])} of {entry['metrics_scored']} measures on or above target"
    below = len(entry["below"])
    if not below:
        return text
    text += f", {below} below ({entry['off_target']} off target)"
    worst = rows.filter(pl.col("kpi") == entry["worst"])
    if worst.height:
        row = worst.row(0, named=True)
        text += f"; the furthest below is {METRICS[row['kpi']].label} at {number(row['value'], row['kpi'])}, {gap(row['value'], row['target'], row['kpi'])}"
    return text


def summary(card: Scorecard, scope: str | None = None) -> str:
    """The sentences as one paragraph."""
    parts = sentences(card, scope)
    return "; ".join(parts) + "." if parts else "No figures for this week."
