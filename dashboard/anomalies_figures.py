"""Figures of the Anomalies page: pure functions from frames to Plotly figures.

A flag is drawn as a marker whose shape says its direction (triangle up: rose; triangle
down: fell; diamond: a combination of KPIs) with a text label, never by colour alone.
"""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import PALETTE, base
from metrics.formatting import axis_title, number
from metrics.registry import METRICS

TIMELINE_LABELS = 15
BELOW = {"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0}
SYMBOLS = {"up": "triangle-up", "down": "triangle-down", "combination": "diamond"}
DETECTOR_WORDS = {
    "robust_z": "far from expected",
    "forecast_interval": "outside the interval for days running",
    "sustained_shift": "a lasting shift",
    "isolation_forest": "an unusual combination of measures",
}


def marker_symbol(row: dict) -> str:
    return SYMBOLS["combination"] if row["detector"] == "isolation_forest" else SYMBOLS[row["direction"]]


def series_figure(scores: pl.DataFrame, flags: pl.DataFrame, kpi: str, *, title: str, selected: str | None = None) -> go.Figure:
    """The KPI against its expected band, with the series' flags as labelled markers.

    scores: period_start, value, expected, lower_bound, upper_bound. flags: the flags of
    this series (first_day, value, direction, detector, flag_key)."""
    metric = METRICS[kpi]
    figure = base(title, 420)
    x = scores["period_start"].to_list()
    lower = scores["lower_bound"]
    if metric.unit in ("count", "%", "£", "days", "minutes", "seconds") and metric.aggregation.value != "difference":
        lower = lower.clip(lower_bound=0)
    figure.add_scatter(x=x, y=scores["upper_bound"].to_list(), mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False, name="upper")
    figure.add_scatter(
        x=x, y=lower.to_list(), mode="lines", line={"width": 0}, fill="tonexty", fillcolor="rgba(128,128,128,0.22)",
        name="Expected range", hovertemplate="expected range from %{y:,." + str(metric.decimals) + "f}<extra></extra>",
    )
    figure.add_scatter(
        x=x, y=scores["expected"].to_list(), mode="lines", name="Expected", line={"color": PALETTE[6], "dash": "dash", "width": 1.5},
        hovertemplate="expected %{y:,." + str(metric.decimals) + "f}<extra></extra>",
    )
    figure.add_scatter(
        x=x, y=scores["value"].to_list(), mode="lines", name=metric.label, line={"color": PALETTE[0], "width": 1.8},
        hovertemplate="%{y:,." + str(metric.decimals) + "f}<extra></extra>",
    )
    if flags.height:
        rows = flags.sort("first_day").to_dicts()
        figure.add_scatter(
            x=[r["first_day"] for r in rows], y=[r["value"] for r in rows], mode="markers+text", name="Flag",
            marker={"symbol": [marker_symbol(r) for r in rows], "size": [18 if r["flag_key"] == selected else 13 for r in rows],
                    "color": PALETTE[5], "line": {"width": 1.5, "color": "white"}},
            text=[("▶ " if r["flag_key"] == selected else "") + f"{r['first_day']:%d %b}" for r in rows],
            textposition=["top center" if r["direction"] == "up" else "bottom center" for r in rows],
            hovertemplate="%{text}: %{y:,." + str(metric.decimals) + "f}<extra>flag</extra>",
        )
    figure.update_yaxes(title=axis_title(metric), rangemode="tozero" if metric.unit != "count" or kpi != "net_flow" else "normal")
    if metric.unit == "%":
        figure.update_yaxes(range=[0, 100])
    figure.update_xaxes(title=None)
    figure.update_layout(hovermode="x unified", legend=BELOW, margin={"t": 50})
    return figure


def timeline_figure(flags: pl.DataFrame, scope_label: dict[str, str], *, title: str) -> go.Figure:
    """Every flag on a timeline, one row per scope: shape by direction, text by KPI."""
    rows = flags.sort("first_day").to_dicts()
    scopes = sorted({scope_label[r["scope"]] for r in rows})
    figure = base(title, max(260, 30 * len(scopes) + 130))
    labelled = len(rows) <= TIMELINE_LABELS  # a crowded timeline keeps its shapes; the table has the words
    figure.add_scatter(
        x=[r["first_day"] for r in rows], y=[scope_label[r["scope"]] for r in rows], mode="markers+text" if labelled else "markers",
        marker={"symbol": [marker_symbol(r) for r in rows], "size": 13, "color": PALETTE[5], "line": {"width": 1.2, "color": "white"}},
        text=[METRICS[r["kpi"]].label for r in rows], textposition="middle right", textfont={"size": 11},
        hovertemplate="%{x|%d %b %Y}, %{y}: %{text}<extra></extra>", showlegend=False,
        customdata=[METRICS[r["kpi"]].label for r in rows],
    )
    figure.update_yaxes(title=None, categoryorder="array", categoryarray=scopes[::-1], automargin=True)
    if rows:  # room on the right for the last labels
        first, last = rows[0]["first_day"], rows[-1]["first_day"]
        span = max((last - first).days, 14)
        figure.update_xaxes(range=[first - timedelta(days=span * 0.04 + 2), last + timedelta(days=span * 0.22 + 4)])
    figure.update_xaxes(title=None)
    figure.update_layout(hovermode="closest")
    return figure


def describe(row: dict) -> str:
    """One line for a flag selector: date, scope and KPI with the direction."""
    metric = METRICS[row["kpi"]]
    arrow = "◆" if row["detector"] == "isolation_forest" else ("▲" if row["direction"] == "up" else "▼")
    return f"{row['first_day']:%d %b %Y} · {row['scope_label']} · {arrow} {metric.label} {number(row['value'], metric)}"
