"""Metrics over time, as lines: pure figure builders shared by the queues and the
satisfaction pages. Weeks without a value (too few observations) are gaps in the line,
and a marker on the axis says why."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import DASHES, MARKERS, PALETTE, TEMPLATE, reference_entry
from metrics.formatting import axis_title, number
from metrics.queues import metric_of
from metrics.registry import Metric

GAP_COLOUR = "rgba(128,128,128,0.95)"


def base(title: str, height: int = 340) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(template=TEMPLATE, title={"text": title, "x": 0, "xanchor": "left"}, height=height)
    return figure


def value_range(unit: str, values: pl.Series) -> dict:
    """Rates from 0 to 100 (further if a value is above), everything else from zero."""
    present = values.drop_nulls()
    if unit == "%":
        top = float(present.max()) if present.len() else 100.0
        return {"range": [0, max(100.0, top * 1.02)]}
    return {"rangemode": "tozero"}


def hover(metric: Metric, observations: str | None = None) -> str:
    """'2026-W47: 81.2% (n = 1,234 calls)'; the value is formatted by Plotly."""
    unit = {"%": "%", "£": ""}.get(metric.unit, f" {metric.unit}")
    prefix = "£" if metric.unit == "£" else ""
    noun = observations or metric.observations
    return f"%{{customdata[0]}}: {prefix}%{{y:,.{metric.decimals}f}}{unit} (n = %{{customdata[1]:,}} {noun})<extra>%{{fullData.name}}</extra>"


def gaps(values: pl.DataFrame, x: str = "period_start") -> pl.DataFrame:
    """The periods where every series has no value, and why (the first reason given)."""
    return (
        values.group_by(x, "period", maintain_order=True)
        .agg(pl.col("value").is_not_null().any().alias("_any"), pl.col("note").drop_nulls().first().alias("note"))
        .filter(~pl.col("_any"))
        .select(x, "period", pl.col("note").fill_null("no data"))
        .sort(x)
    )


def add_gap_markers(figure: go.Figure, missing: pl.DataFrame, *, x: str = "period_start", row: int | None = None, col: int | None = None) -> None:
    """Open markers on the axis for the weeks that have no value, with the reason."""
    if missing.height == 0:
        return
    figure.add_scatter(
        x=missing[x].to_list(), y=[0] * missing.height, mode="markers", name="No value: too little data",
        marker={"symbol": "x-thin-open", "size": 11, "color": GAP_COLOUR, "line": {"width": 2, "color": GAP_COLOUR}},
        customdata=list(zip(missing["period"].to_list(), missing["note"].to_list(), strict=True)),
        hovertemplate="%{customdata[0]}: no value (%{customdata[1]})<extra></extra>",
        row=row, col=col,
    )


def metric_lines(
    values: pl.DataFrame,
    metrics: Sequence[Metric],
    *,
    title: str,
    target: float | None = None,
    target_metric: Metric | None = None,
    y_title: str | None = None,
    group: str | None = None,
    group_names: dict[str, str] | None = None,
    emphasise: str | None = None,
    height: int = 340,
) -> go.Figure:
    """One line per metric (or, with ``group``, per group of one metric) over
    ``period_start``; the target as a dashed line; gaps marked with their reason.

    ``values`` is the engine's long frame (period, period_start, kpi, value, n, note and
    the group column). ``emphasise`` names a group drawn thicker (a total)."""
    figure = base(title, height)
    by_name = {metric.name: metric for metric in metrics}
    frame = values.filter(pl.col("kpi").is_in(list(by_name)))
    if group:
        series = [(str(part[group][0]), part) for part in frame.partition_by(group, maintain_order=True)]
    else:
        series = [(name, frame.filter(pl.col("kpi") == name)) for name in by_name]
    for index, (key, part) in enumerate(series):
        part = part.sort("period_start")
        metric = by_name[part["kpi"][0]] if part.height else metrics[0]
        name = (group_names or {}).get(key, key) if group else metric.label
        thick = emphasise is not None and key == emphasise
        colour = "rgba(60,60,60,0.95)" if thick else PALETTE[index % len(PALETTE)]
        figure.add_scatter(
            x=part["period_start"].to_list(), y=part["value"].to_list(), name=name, mode="lines+markers",
            line={"color": colour, "dash": "solid" if thick else DASHES[index % len(DASHES)], "width": 3.5 if thick else 2},
            marker={"symbol": MARKERS[index % len(MARKERS)], "size": 7 if thick else 6, "color": colour},
            customdata=list(zip(part["period"].to_list(), part["n"].fill_null(0).to_list(), strict=True)),
            hovertemplate=hover(metric), connectgaps=False,
        )
    if not group:
        add_gap_markers(figure, gaps(frame))
    if target is not None:
        shown = target_metric or metrics[0]
        # named in the legend, not on the line: a label on the line hid under the data
        line = {"dash": "dash", "color": "rgba(128,128,128,0.9)", "width": 1.5}
        figure.add_hline(y=target, line=line)
        reference_entry(figure, f"Target {number(target, shown)}", line)
    figure.update_yaxes(title=y_title or axis_title(metrics[0]), **value_range(metrics[0].unit, frame["value"]))
    figure.update_xaxes(title=None, tickformat="%d %b<br>%Y")
    # the legend below the plot: above it, it would collide with the title on a phone
    figure.update_layout(showlegend=len(figure.data) > 1, legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0})
    return figure


def trend_summary(values: pl.DataFrame, kpis: tuple[str, ...], targets: dict[str, float | None]) -> str:
    """'Service level was 78.3% in 2026-W47 (target 80.0%), from 81.0% in 2026-W35.'"""
    parts = []
    for kpi in kpis:
        metric = metric_of(kpi)
        series = values.filter(pl.col("kpi") == kpi, pl.col("value").is_not_null()).sort("period_start")
        if series.height == 0:
            parts.append(f"{metric.label}: no value in this window")
            continue
        last, first = series.row(-1, named=True), series.row(0, named=True)
        target = targets.get(kpi)
        target_text = f" (target {number(target, metric)})" if target is not None else ""
        parts.append(
            f"{metric.label} was {number(last['value'], metric)} in {last['period']}{target_text}, "
            f"against {number(first['value'], metric)} in {first['period']}"
        )
    return "; ".join(parts) + "."


def trend_table(values: pl.DataFrame, kpis: tuple[str, ...]) -> pl.DataFrame:
    return values.filter(pl.col("kpi").is_in(list(kpis))).select(
        pl.col("period").alias("Week"),
        pl.col("period_start").alias("Monday"),
        pl.col("kpi").replace_strict({k: f"{metric_of(k).label} ({metric_of(k).unit})" for k in kpis}).alias("Measure"),
        pl.col("value").round(2).alias("Value"),
        pl.col("numerator").alias("Numerator"),
        pl.col("denominator").alias("Denominator"),
        pl.col("n").alias("Observations"),
        pl.col("note").alias("Note"),
    )
