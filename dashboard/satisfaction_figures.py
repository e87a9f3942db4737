"""Figures, tables and sentences of the satisfaction and digital page: pure functions of
the metric engine's long frames and of metrics/satisfaction.py."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboard.charts import (
    DASHES,
    MARKERS,
    PALETTE,
    add_gap_markers,
    base,
    gaps,
    hover,
    style,
    target_line,
    value_range,
)
from metrics.formatting import number
from metrics.registry import METRICS

SATISFACTION = ("satisfaction", "satisfaction_index")
TOO_FEW_COLOUR = "rgba(128,128,128,0.55)"


def satisfaction_figure(values: pl.DataFrame, *, target: float | None) -> go.Figure:
    """Top-2 box and the GOV.UK index by week (top panel), with the number of ratings
    each week stands on (bottom panel). Weeks with too few ratings are gaps in the lines
    and hatched bars, and their hover says why."""
    frame = values.filter(pl.col("kpi").is_in(SATISFACTION)).sort("period_start")
    counts = frame.filter(pl.col("kpi") == "satisfaction")
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.1)
    style(figure, "User satisfaction by week, and ratings", 480)
    for index, kpi in enumerate(SATISFACTION):
        metric = METRICS[kpi]
        part = frame.filter(pl.col("kpi") == kpi)
        figure.add_scatter(
            x=part["period_start"].to_list(), y=part["value"].to_list(), name=metric.label + (" (top-2 box)" if kpi == "satisfaction" else " (GOV.UK)"),
            mode="lines+markers", connectgaps=False,
            line={"color": PALETTE[index], "dash": DASHES[index], "width": 2},
            marker={"symbol": MARKERS[index], "size": 6, "color": PALETTE[index]},
            customdata=list(zip(part["period"].to_list(), part["n"].fill_null(0).to_list(), strict=True)),
            hovertemplate=hover(metric), row=1, col=1,
        )
    add_gap_markers(figure, gaps(frame), name="No value: too few ratings", row=1, col=1)
    if target is not None:  # in the legend, not on the data
        target_line(figure, target, f"Top-2 target {number(target, 'satisfaction')}", width=1.5, row=1, col=1)
    enough = counts["value"].is_not_null().to_list()
    figure.add_bar(
        x=counts["period_start"].to_list(), y=counts["n"].fill_null(0).to_list(), name="Ratings",
        marker={"color": [PALETTE[4] if ok else TOO_FEW_COLOUR for ok in enough], "pattern": {"shape": ["" if ok else "/" for ok in enough]}},
        customdata=list(zip(counts["period"].to_list(), counts["note"].fill_null("enough to show").to_list(), strict=True)),
        hovertemplate="%{customdata[0]}: %{y:,} ratings (%{customdata[1]})<extra></extra>", row=2, col=1,
    )
    minimum = METRICS["satisfaction"].min_n
    figure.add_hline(y=minimum, line={"dash": "dot", "color": "rgba(128,128,128,0.9)", "width": 1}, row=2, col=1)
    figure.update_yaxes(title="Satisfaction (%)", row=1, col=1, **value_range("%", frame["value"]))
    figure.update_yaxes(title="Ratings", rangemode="tozero", row=2, col=1)
    figure.update_xaxes(tickformat="%d %b<br>%Y", row=2, col=1)
    figure.update_layout(bargap=0.25, legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0})
    return figure


def satisfaction_summary(values: pl.DataFrame, whole: pl.DataFrame) -> str:
    """The window's top-2 box and index, the number of ratings, and the weeks not shown."""
    top = whole.filter(pl.col("kpi") == "satisfaction").row(0, named=True)
    index = whole.filter(pl.col("kpi") == "satisfaction_index").row(0, named=True)
    weekly = values.filter(pl.col("kpi") == "satisfaction")
    hidden = weekly.filter(pl.col("value").is_null()).height
    hidden_text = (
        f"; {hidden} of {weekly.height} weeks had fewer than {METRICS['satisfaction'].min_n} ratings and are not shown"
        if hidden else ""
    )
    if top["value"] is None:
        return f"Too few ratings in this window to show satisfaction ({top['note']})."
    return (
        f"{number(top['value'], 'satisfaction')} of {top['n']:,} ratings in the window were 4 or 5 out of 5 "
        f"(index {number(index['value'], 'satisfaction_index')}){hidden_text}."
    )


def satisfaction_table(values: pl.DataFrame) -> pl.DataFrame:
    wide = values.filter(pl.col("kpi").is_in(SATISFACTION)).pivot(on="kpi", index=["period", "period_start"], values="value", maintain_order=True)
    counts = values.filter(pl.col("kpi") == "satisfaction").select("period", "n", "note")
    return wide.join(counts, on="period", how="left").select(
        pl.col("period").alias("Week"),
        pl.col("period_start").alias("Monday"),
        pl.col("satisfaction").round(1).alias("Top-2 box (%)"),
        pl.col("satisfaction_index").round(1).alias("Satisfaction index (%)"),
        pl.col("n").alias("Ratings"),
        pl.col("note").alias("Note"),
    )


# ---------------------------------------------------------------------- distribution


def distribution_figure(spread: pl.DataFrame) -> go.Figure:
    """Ratings 1 to 5 of the window as horizontal bars (5 at the top), each labelled with
    its share and count; a suppressed count says so instead of a bar."""
    ordered = spread.sort("rating")
    labels = [f"{row['rating']} {row['label']}" for row in ordered.iter_rows(named=True)]
    text = [
        "suppressed (fewer than 5)" if row["note"] else f"{row['share'] or 0:.0f}% ({row['ratings']:,})"
        for row in ordered.iter_rows(named=True)
    ]
    figure = base("Ratings in the window, 1 to 5", height=300)
    figure.add_bar(
        y=labels, x=ordered["share"].fill_null(0).to_list(), orientation="h", text=text, textposition="outside", cliponaxis=False,
        marker={"color": [PALETTE[5], PALETTE[5], PALETTE[6], PALETTE[0], PALETTE[0]]},
        customdata=ordered["ratings"].to_list(),
        hovertemplate="%{y}: %{x:.1f}% of ratings (%{customdata:,})<extra></extra>",
    )
    top = float(ordered["share"].max() or 0)
    figure.update_xaxes(title="Share of ratings (%)", range=[0, min(100.0, top * 1.6 + 5)])  # room for "42% (6,877)" on a phone
    figure.update_yaxes(title=None)
    figure.update_layout(showlegend=False, hovermode="closest")
    return figure


def distribution_summary(spread: pl.DataFrame) -> str:
    total = spread["ratings"].sum()
    if not total:
        return "No ratings in this window."
    shares = {row["rating"]: row["share"] for row in spread.iter_rows(named=True)}
    top = (shares[4] or 0) + (shares[5] or 0)
    low = (shares[1] or 0) + (shares[2] or 0)
    return f"{top:.0f}% of ratings were 4 or 5 and {low:.0f}% were 1 or 2 (shares of every rating in the window)."


def distribution_table(spread: pl.DataFrame) -> pl.DataFrame:
    return spread.select(
        pl.col("rating").alias("Rating"), pl.col("label").alias("Meaning"), pl.col("ratings").alias("Ratings"),
        pl.col("share").round(1).alias("Share (%)"), pl.col("note").alias("Note"),
    )


# ---------------------------------------------------------------------- digital take-up


def take_up_bars(frame: pl.DataFrame) -> go.Figure:
    """Digital take-up per service over the window (bars, sorted), each with its own
    target as a marker. ``frame``: name, value, n, target, selected."""
    ordered = frame.sort("value", nulls_last=False)
    metric = METRICS["digital_take_up"]
    names = ordered["name"].to_list()
    selected = ordered["selected"].to_list()
    figure = base("Digital take-up by service", height=max(280, 30 * ordered.height + 110))
    figure.add_bar(
        y=names, x=ordered["value"].to_list(), orientation="h", name="Digital take-up",
        marker={"color": [PALETTE[1] if s else PALETTE[0] for s in selected], "pattern": {"shape": ["/" if s else "" for s in selected]}},
        text=[number(v, metric) for v in ordered["value"].to_list()], textposition="inside", insidetextanchor="start",
        customdata=list(zip(ordered["n"].fill_null(0).to_list(), ordered["target"].to_list(), strict=True)),
        hovertemplate="%{y}: %{x:.1f}% of %{customdata[0]:,} cases<extra></extra>",
    )
    figure.add_scatter(
        y=names, x=ordered["target"].to_list(), mode="markers", name="Target",
        marker={"symbol": "diamond", "size": 12, "color": PALETTE[5], "line": {"width": 1.5, "color": "#FFFFFF"}},
        hovertemplate="%{y}: target %{x:.0f}%<extra></extra>",
    )
    figure.update_xaxes(title="Digital take-up (%)", range=[0, 100])
    figure.update_yaxes(title=None, automargin=True)
    # no legend: the caption and the hover name the target mark, and a legend crowds a phone
    figure.update_layout(hovermode="closest", showlegend=False, bargap=0.3)
    return figure


def take_up_summary(frame: pl.DataFrame) -> str:
    shown = frame.filter(pl.col("value").is_not_null(), pl.col("digital"))
    if shown.height == 0:
        return "No service here can be used online, or too few cases in this window to show digital take-up."
    judged = shown.filter(pl.col("target").is_not_null())
    met = judged.filter(pl.col("value") >= pl.col("target")).height
    best = shown.sort("value", descending=True).row(0, named=True)
    worst = shown.sort("value").row(0, named=True)
    if shown.height == 1:
        return f"{best['name']}: {number(best['value'], 'digital_take_up')} of cases were made online or in the app (target {number(best['target'], 'digital_take_up')})."
    return (
        f"{met} of {judged.height} services with a target meet it; the highest is {best['name']} "
        f"({number(best['value'], 'digital_take_up')}), the lowest {worst['name']} ({number(worst['value'], 'digital_take_up')})."
    )


def take_up_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("value", descending=True, nulls_last=True).select(
        pl.col("name").alias("Service"), pl.col("value").round(1).alias("Digital take-up (%)"),
        pl.col("target").alias("Target (%)"), pl.col("n").alias("Cases"), pl.col("note").alias("Note"),
    )


def take_up_trend_summary(trend: pl.DataFrame, names: dict[str, str], total: str) -> str:
    """The total's first and last week, and the group highest in the last week."""
    shown = trend.filter(pl.col("value").is_not_null()).sort("period_start")
    overall = shown.filter(pl.col("group") == total)
    if overall.height == 0:
        return "Too few cases in this window to show digital take-up by week."
    first, last = overall.row(0, named=True), overall.row(-1, named=True)
    text = (
        f"{names[total]}: {number(last['value'], 'digital_take_up')} of cases were digital in {last['period']}, "
        f"against {number(first['value'], 'digital_take_up')} in {first['period']}"
    )
    groups = shown.filter(pl.col("group") != total, pl.col("period") == last["period"])
    if groups.height > 1:
        best = groups.sort("value", descending=True).row(0, named=True)
        text += f"; highest that week: {names.get(best['group'], best['group'])} ({number(best['value'], 'digital_take_up')})"
    return text + "."


def take_up_trend_table(trend: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    return trend.sort("period_start").select(
        pl.col("period").alias("Week"), pl.col("period_start").alias("Monday"),
        pl.col("group").replace_strict(names, default=pl.col("group")).alias("Group"),
        pl.col("value").round(1).alias("Digital take-up (%)"), pl.col("n").alias("Cases"), pl.col("note").alias("Note"),
    )


def no_journeys_text(scope_name: str, window_text: str, *, one_service: bool) -> str:
    """Why there is no completion rate: no online journey was started (Markdown-safe
    ``scope_name`` is the caller's)."""
    why = "it has no online service." if one_service else "none of its services is online."
    return f"No online journeys were started for {scope_name} in {window_text}: {why}"


def take_up_trend_title(*, all_departments: bool) -> str:
    """Take-up over time is drawn by department across all, by service within one."""
    return f"Digital take-up by week and {'department' if all_departments else 'service'}"
