"""Chart layout fixes found by looking at the screenshots: legends clear of titles,
reference lines named in the legend, bar values readable, heatmap hours in order."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from dashboard import charts


def test_a_trend_with_several_lines_leaves_room_for_its_legend_under_the_title():
    weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(4)]
    frame = pl.DataFrame({"period_start": weeks * 2, "value": [80.0, 81, 82, 83] * 2, "office": ["Leeds"] * 4 + ["York"] * 4})
    figure = charts.trend(frame, "on_time_rate", group="office", target=90.0)
    assert figure.layout.title.yref == "container" and figure.layout.title.yanchor == "top"
    assert figure.layout.margin.t == charts.LEGEND_MARGIN_TOP and figure.layout.showlegend
    single = charts.trend(frame.filter(pl.col("office") == "Leeds"), "on_time_rate")
    assert single.layout.margin.t is None  # the template's: no legend, no extra room


def test_bars_name_the_target_and_overall_in_the_legend_and_print_values_outside():
    frame = pl.DataFrame({"office": ["Leeds", "York"], "value": [81.0, 92.5]})
    figure = charts.bars(frame, "on_time_rate", category="office", overall=83.0, target=90.0, highlight="York")
    bar, *references = figure.data
    assert bar.textposition == "outside" and bar.cliponaxis is False and bar.showlegend is False
    assert [trace.name for trace in references] == ["Overall 83.0%", "Target 90.0%"]
    assert [shape.x0 for shape in figure.layout.shapes] == [83.0, 90.0]
    assert not figure.layout.annotations and figure.layout.showlegend


def test_heatmap_hours_are_categories_in_numeric_order():
    frame = pl.DataFrame({"hour": [10, 9, 10, 9], "day": ["Mon", "Mon", "Tue", "Tue"], "n": [4.0, 3, 6, 5]})
    figure = charts.heatmap(frame, x="hour", y="day", value="n", title="Arrivals", value_title="Calls")
    heat = figure.data[0]
    assert list(heat.x) == ["9", "10"] and list(heat.y) == ["Mon", "Tue"]
    assert [list(row) for row in heat.z] == [[3.0, 4.0], [5.0, 6.0]]
    assert figure.layout.xaxis.type == "category"


def test_heatmap_cell_numbers_contrast_with_their_cells_by_at_least_4_5_to_1():
    """Every number written on a Cividis cell, from the darkest to the lightest and the
    mid-tones between, reads at WCAG AA against its own cell; empty cells stay blank."""
    import plotly.graph_objects as go
    from plotly.colors import get_colorscale, sample_colorscale

    values = [[float(v) for v in range(row * 10, row * 10 + 10)] for row in range(10)]
    values[3][4] = None
    text = [["" if v is None else f"{v:.0f}" for v in row] for row in values]
    figure = go.Figure()
    charts.cell_labels(figure, values, list(range(10)), list(range(10)), text, colorscale="Cividis", zmin=0.0, zmax=99.0)
    labels = figure.data[0]
    assert len(labels.text) == 99 and "34" not in labels.text
    for x, y, colour in zip(labels.x, labels.y, labels.textfont.color, strict=True):
        cell = sample_colorscale(get_colorscale("Cividis"), [values[y][x] / 99.0], colortype="rgb")[0]
        light, dark = sorted([charts.relative_luminance(cell), 0.0 if colour == "#000000" else 1.0])
        assert (dark + 0.05) / (light + 0.05) >= 4.5, (values[y][x], cell, colour)
