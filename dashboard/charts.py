"""Figure builders: pure functions from a frame to a Plotly figure, one registered template.

The palette is Okabe and Ito's, safe for the common colour-vision deficiencies; counts
get axes from zero; every title carries its unit once (metrics.formatting.axis_title).
Meaning is never carried by colour alone: lines also differ by dash and marker, statuses
by icon and word.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from metrics.formatting import axis_title, number
from metrics.registry import METRICS, Metric

# Okabe-Ito, without black and yellow (too little contrast on one of the two themes).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C8C8C")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid")
MARKERS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross")
TEMPLATE = "kpi"

pio.templates[TEMPLATE] = go.layout.Template(
    layout=go.Layout(
        colorway=list(PALETTE),
        font={"family": "Source Sans Pro, sans-serif", "size": 14},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        xaxis={"showgrid": False, "automargin": True},
        yaxis={"gridcolor": "rgba(128,128,128,0.25)", "zerolinecolor": "rgba(128,128,128,0.5)", "automargin": True},
    )
)


LEGEND_MARGIN_TOP = 84  # room for the title and, under it, a legend of a line or two


def _base(title: str, height: int = 360) -> go.Figure:
    # The title hangs from the top of the figure, so that a legend above the plot (the
    # template's) sits under it rather than on it.
    figure = go.Figure()
    figure.update_layout(
        template=TEMPLATE, height=height,
        title={"text": title, "x": 0, "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 10}},
    )
    return figure


def _with_legend(figure: go.Figure) -> go.Figure:
    figure.update_layout(showlegend=True, margin={"t": LEGEND_MARGIN_TOP}, height=figure.layout.height + LEGEND_MARGIN_TOP - 40)
    return figure


def relative_luminance(rgb: str) -> float:
    """WCAG relative luminance of 'rgb(r, g, b)'."""
    channels = [float(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def cell_labels(
    figure: go.Figure, z: Sequence[Sequence[float | None]], x: Sequence, y: Sequence, text: Sequence[Sequence[str]],
    *, colorscale: str | list, zmin: float, zmax: float, size: int = 11,
) -> None:
    """Write each heatmap cell's text over it in black or white, whichever contrasts more
    with the cell's own colour (Plotly's automatic choice leaves grey on mid-tones)."""
    from plotly.colors import get_colorscale, sample_colorscale

    scale = get_colorscale(colorscale) if isinstance(colorscale, str) else colorscale
    span = (zmax - zmin) or 1.0
    cells = [
        (column_label, row_label, text[row][column], min(max((z[row][column] - zmin) / span, 0.0), 1.0))
        for row, row_label in enumerate(y) for column, column_label in enumerate(x)
        if z[row][column] is not None and text[row][column]
    ]
    xs, ys, labels, colours = [], [], [], []
    shades = sample_colorscale(scale, [cell[3] for cell in cells], colortype="rgb") if cells else []
    for (column_label, row_label, label, _), shade in zip(cells, shades, strict=True):
        light = relative_luminance(shade)
        xs.append(column_label)
        ys.append(row_label)
        labels.append(label)
        colours.append("#000000" if (light + 0.05) / 0.05 >= 1.05 / (light + 0.05) else "#FFFFFF")
    figure.add_scatter(x=xs, y=ys, mode="text", text=labels, textfont={"color": colours, "size": size}, hoverinfo="skip", showlegend=False)


def reference_entry(figure: go.Figure, name: str, line: dict) -> None:
    """A legend entry for a reference line drawn as a shape (shapes have none): text in
    the legend wraps at any width, where a label on the line ran off a narrow chart."""
    figure.add_scatter(x=[None], y=[None], mode="lines", name=name, line=line, hoverinfo="skip")


def _y_range(metric: Metric, values: pl.Series) -> dict:
    """Counts and rates start at zero; a rate stops at 100."""
    present = values.drop_nulls()
    if metric.unit in ("count", "%", "£", "days", "minutes", "seconds"):
        top = float(present.max()) if present.len() else 1.0
        if metric.unit == "%":
            return {"range": [0, max(100.0, top)]}
        return {"rangemode": "tozero"}
    return {}


def trend(frame: pl.DataFrame, metric: Metric | str, *, x: str = "period_start", group: str | None = None, target: float | None = None, title: str | None = None) -> go.Figure:
    """A metric over time, one line per group, with its target as a dashed line."""
    metric = METRICS[metric] if isinstance(metric, str) else metric
    figure = _base(title or f"{axis_title(metric)} by week")
    groups = frame.partition_by(group, maintain_order=True) if group else [frame]
    for index, part in enumerate(groups):
        name = str(part[group][0]) if group else metric.label
        figure.add_scatter(
            x=part[x].to_list(), y=part["value"].to_list(), name=name, mode="lines+markers",
            line={"color": PALETTE[index % len(PALETTE)], "dash": DASHES[index % len(DASHES)], "width": 2},
            marker={"symbol": MARKERS[index % len(MARKERS)], "size": 6},
            hovertemplate="%{y:,." + str(metric.decimals) + "f}",
        )
    if target is not None:
        line = {"dash": "dash", "color": "rgba(128,128,128,0.9)"}
        figure.add_hline(y=target, line=line)
        reference_entry(figure, f"Target {number(target, metric)}", line)
    figure.update_yaxes(title=axis_title(metric), **_y_range(metric, frame["value"]))
    figure.update_xaxes(title=None)
    if len(groups) > 1 or target is not None:
        _with_legend(figure)
    return figure


def bars(frame: pl.DataFrame, metric: Metric | str, *, category: str, overall: float | None = None, target: float | None = None, title: str | None = None, highlight: str | None = None) -> go.Figure:
    """A metric by category (horizontal bars, sorted), with the overall figure and target."""
    metric = METRICS[metric] if isinstance(metric, str) else metric
    ordered = frame.sort("value", descending=False, nulls_last=False)
    colours = [PALETTE[1] if highlight is not None and str(c) == highlight else PALETTE[0] for c in ordered[category].to_list()]
    figure = _base(title or axis_title(metric), height=max(260, 28 * ordered.height + 90))
    figure.add_bar(
        y=[str(c) for c in ordered[category].to_list()], x=ordered["value"].to_list(), orientation="h", marker_color=colours,
        # outside the bar: readable in both themes and on the hatched (highlighted) bar
        text=[number(v, metric) for v in ordered["value"].to_list()], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:,." + str(metric.decimals) + "f}<extra></extra>", showlegend=False,
        marker_pattern_shape=["/" if highlight is not None and str(c) == highlight else "" for c in ordered[category].to_list()],
    )
    if overall is not None:
        line = {"color": PALETTE[5], "dash": "dot", "width": 2}
        figure.add_vline(x=overall, line=line)
        reference_entry(figure, f"Overall {number(overall, metric)}", line)
    if target is not None:
        line = {"color": "rgba(128,128,128,0.9)", "dash": "dash", "width": 2}
        figure.add_vline(x=target, line=line)
        reference_entry(figure, f"Target {number(target, metric)}", line)
    figure.update_xaxes(title=axis_title(metric), **_y_range(metric, frame["value"]))
    figure.update_layout(hovermode="closest", showlegend=False, margin={"r": 56})
    if overall is not None or target is not None:
        _with_legend(figure)
    return figure


def histogram(values: pl.Series, *, title: str, unit_title: str, bins: int = 40) -> go.Figure:
    """The distribution of individual values (processing times, waits)."""
    figure = _base(title)
    figure.add_histogram(x=values.drop_nulls().to_list(), nbinsx=bins, marker_color=PALETTE[0], hovertemplate="%{x}: %{y:,} cases<extra></extra>")
    figure.update_xaxes(title=unit_title, rangemode="tozero")
    figure.update_yaxes(title="Number of cases", rangemode="tozero")
    figure.update_layout(hovermode="closest", bargap=0.05)
    return figure


def box(frame: pl.DataFrame, *, value: str, group: str, title: str, unit_title: str) -> go.Figure:
    """Distributions side by side (a box per group: quartiles, whiskers, outliers)."""
    figure = _base(title, height=max(300, 32 * frame[group].n_unique() + 120))
    for index, part in enumerate(frame.partition_by(group, maintain_order=True)):
        figure.add_box(x=part[value].to_list(), name=str(part[group][0]), orientation="h", marker_color=PALETTE[index % len(PALETTE)], boxpoints=False)
    figure.update_xaxes(title=unit_title, rangemode="tozero")
    figure.update_layout(showlegend=False, hovermode="closest")
    return figure


def heatmap(frame: pl.DataFrame, *, x: str, y: str, value: str, title: str, value_title: str, x_order: Sequence | None = None, y_order: Sequence | None = None) -> go.Figure:
    """A value by two categories (weekday by hour), in a sequential colour-blind-safe scale."""
    wide = frame.pivot(on=x, index=y, values=value, aggregate_function="sum", sort_columns=True)
    names = [c for c in wide.columns if c != y]
    if x_order is None:
        with contextlib.suppress(ValueError):  # numbers (hours) in numeric order, not "10" before "9"
            names = sorted(names, key=float)
    columns = [str(c) for c in (x_order or names)]
    rows = list(y_order or wide[y].to_list())
    lookup = {row[y]: row for row in wide.iter_rows(named=True)}
    z = [[(lookup.get(r, {}) or {}).get(c) for c in columns] for r in rows]
    figure = _base(title, height=max(300, 34 * len(rows) + 120))
    figure.add_heatmap(z=z, x=columns, y=[str(r) for r in rows], colorscale="Cividis", colorbar={"title": value_title}, hovertemplate="%{y} %{x}: %{z:,.1f}<extra></extra>")
    figure.update_layout(hovermode="closest")
    # categories, even when they look like numbers (hours 9, 10…): no "8.5" or "9.5" ticks
    figure.update_xaxes(type="category")
    figure.update_yaxes(autorange="reversed", type="category")
    return figure


def sparkline_svg(values: Sequence[float | None], *, target: float | None = None, label: str = "", width: int = 240, height: int = 34) -> str:
    """A tiny inline SVG line (currentColor, so readable in both themes), with a dashed
    target line; its aria-label says what it shows."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    ys = [v for _, v in points] + ([target] if target is not None else [])
    low, high = min(ys), max(ys)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)

    def xy(i: float, v: float) -> tuple[float, float]:
        return 2 + i * step, height - 3 - (v - low) / span * (height - 6)

    path = " ".join(f"{'M' if n == 0 else 'L'}{x:.1f},{y:.1f}" for n, (x, y) in enumerate(xy(i, v) for i, v in points))
    last_x, last_y = xy(*points[-1])
    target_line = ""
    if target is not None:
        _, ty = xy(0, target)
        target_line = f'<line x1="2" x2="{width - 2}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="currentColor" stroke-opacity="0.45" stroke-dasharray="3,3"/>'
    return (
        f'<svg role="img" aria-label="{html.escape(label)}" viewBox="0 0 {width} {height}" preserveAspectRatio="none">'
        f"{target_line}<path d=\"{path}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.6\" vector-effect=\"non-scaling-stroke\"/>"
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.6" fill="currentColor"/></svg>'
    )
