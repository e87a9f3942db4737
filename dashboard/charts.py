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
from metrics.queues import metric_of
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


def style(figure: go.Figure, title: str, height: int, *, legend_above: bool = False) -> go.Figure:
    """The one layout of every figure: the template, a left-aligned title, a height.
    ``legend_above``: the title hangs from the top of the figure, so that a legend above
    the plot (the template's) sits under it rather than on it."""
    if legend_above:
        heading = {"text": title, "x": 0, "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 10}}
    else:
        heading = {"text": title, "x": 0, "xanchor": "left"}
    figure.update_layout(template=TEMPLATE, height=height, title=heading)
    return figure


def base(title: str, height: int = 340, *, legend_above: bool = False) -> go.Figure:
    """An empty figure in the one layout (see style)."""
    return style(go.Figure(), title, height, legend_above=legend_above)


def _with_legend(figure: go.Figure) -> go.Figure:
    figure.update_layout(showlegend=True, margin={"t": LEGEND_MARGIN_TOP}, height=figure.layout.height + LEGEND_MARGIN_TOP - 40)
    return figure


def relative_luminance(rgb: str) -> float:
    """WCAG relative luminance of 'rgb(r, g, b)'."""
    channels = [float(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


# On a narrow screen (a phone) heatmap cells are too narrow for their numbers (they ran
# together: "104105"): a chart with a heatmap hides its text-only traces (cell_labels), and
# an element of class narrow-note (saying where the numbers are) shows instead. Plotly draws
# in the page, so the page's styles reach it.
NARROW_HEATMAP_CSS = (
    ".narrow-note{display:none}"
    "@media (max-width: 700px){.stPlotlyChart:has(.heatmaplayer .hm) .scatterlayer .trace:not(:has(path.js-line, path.point)) .textpoint"
    "{display:none}.narrow-note{display:block}}"
)


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


def target_line(figure: go.Figure, value: float, name: str, *, width: float | None = None, row: int | None = None, col: int | None = None) -> None:
    """A target as a dashed grey horizontal line, named in the legend (not on the line,
    where a label hid under the data or ran off a narrow chart)."""
    line = {"dash": "dash", "color": "rgba(128,128,128,0.9)"} | ({"width": width} if width is not None else {})
    figure.add_hline(y=value, line=line, **({"row": row, "col": col} if row is not None else {}))
    reference_entry(figure, name, line)


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
    figure = base(title or f"{axis_title(metric)} by week", 360, legend_above=True)
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
        target_line(figure, target, f"Target {number(target, metric)}")
    figure.update_yaxes(title=axis_title(metric), **_y_range(metric, frame["value"]))
    figure.update_xaxes(title=None)
    if len(groups) > 1 or target is not None:
        _with_legend(figure)
    return figure


def note_marks(figure: go.Figure, notes: pl.DataFrame, series: pl.DataFrame, *, x: str = "period_start") -> go.Figure:
    """Notes on the record (data/notes.py: ``noted_on``, ``note``, ``written_by``) on a
    weekly trend: a dotted line on each note's day and one marker per note, on the line
    at the week that holds the day, whose hover says the note. The note's text is escaped:
    Plotly would read tags in it. A legend entry names them, so colour is not the only cue."""
    if notes.height == 0:
        return figure
    weeks = series.filter(pl.col("value").is_not_null()).sort(x)
    days, ys, texts = [], [], []
    for row in notes.sort("noted_on").iter_rows(named=True):
        day = row["noted_on"]
        figure.add_vline(x=day.isoformat(), line={"color": PALETTE[3], "dash": "dot", "width": 1.5})
        held = weeks.filter(pl.col(x) <= day)  # the week holding the day, or the first week if it is before them
        y = held["value"][-1] if held.height else (weeks["value"][0] if weeks.height else None)
        days.append(day)
        ys.append(y)
        texts.append(f"{day:%d %b %Y}: {html.escape(row['note'])}<br>({html.escape(row['written_by'])})")
    figure.add_scatter(
        x=days, y=ys, mode="markers", name="Note on the record", hovertext=texts, hoverinfo="text",
        marker={"symbol": "star-diamond", "size": 14, "color": PALETTE[3], "line": {"width": 1, "color": "#000"}},
    )
    _with_legend(figure)
    return figure


def bars(frame: pl.DataFrame, metric: Metric | str, *, category: str, overall: float | None = None, target: float | None = None, title: str | None = None, highlight: str | None = None) -> go.Figure:
    """A metric by category (horizontal bars, sorted), with the overall figure and target."""
    metric = METRICS[metric] if isinstance(metric, str) else metric
    ordered = frame.sort("value", descending=False, nulls_last=False)
    colours = [PALETTE[1] if highlight is not None and str(c) == highlight else PALETTE[0] for c in ordered[category].to_list()]
    figure = base(title or axis_title(metric), max(260, 28 * ordered.height + 90), legend_above=True)
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
    figure = base(title, max(300, 34 * len(rows) + 120), legend_above=True)
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


# ---------------------------------------------------------------------- metrics over time
# Shared by the queues and the satisfaction pages. Weeks without a value (too few
# observations) are gaps in the line, and a marker on the axis says why.

GAP_COLOUR = "rgba(128,128,128,0.95)"


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


def add_gap_markers(
    figure: go.Figure, missing: pl.DataFrame, *, x: str = "period_start", name: str = "No value: too little data",
    row: int | None = None, col: int | None = None,
) -> None:
    """Open markers on the axis for the weeks that have no value, with the reason."""
    if missing.height == 0:
        return
    figure.add_scatter(
        x=missing[x].to_list(), y=[0] * missing.height, mode="markers", name=name,
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
        target_line(figure, target, f"Target {number(target, shown)}", width=1.5)
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
