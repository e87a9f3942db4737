"""The planner page's frames, figures and sentences: pure functions (no Streamlit, no I/O).

Inputs are the stored forecast run (forecasting.store.latest_series / latest_forecasts /
latest_backtests), the recent actuals of a series (forecasting.store.load_series_window)
and a staffing plan (forecasting.planning.plan_staffing). Outputs are the frames shown as
tables and downloaded as CSV, the Plotly figures drawn from exactly those frames, and the
one-sentence summaries above them.

Units: demand in cases, calls or visits per day; staffing in staff-hours per day (paid
hours, shrinkage included) and in staff on shift per half hour.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import PALETTE, base, cell_labels, reference_entry
from forecasting import series_id as ids
from forecasting.backtest import BASELINE
from forecasting.live import LiveAccuracy, backtest_comparison
from forecasting.planning import StaffingPlan, StaffingSettings
from forecasting.series import KINDS

KIND_NAMES = {
    "total": "Total",
    "service": "Service",
    "office": "Office",
    "channel": "Channel",
    "contacts": "Calls and visits",
}
MODEL_NAMES = {
    "seasonal_naive": "Seasonal naive",
    "weekday_mean": "Weekday mean",
    "prophet": "Prophet",
    "ensemble": "Ensemble",
}
# One look per model on every chart and series (colour, line, marker), so the same colour
# always means the same model; the actuals keep PALETTE[1] and holidays PALETTE[5].
MODEL_LOOK = {
    "seasonal_naive": (PALETTE[6], "dot", "square"),
    "weekday_mean": (PALETTE[2], "dashdot", "diamond"),
    "prophet": (PALETTE[0], "dash", "circle"),
    "ensemble": (PALETTE[3], "longdash", "triangle-up"),
}
OTHER_LOOK = (PALETTE[4], "solid", "x")


def model_look(model: str) -> tuple[str, str, str]:
    """(colour, dash, marker) of a model, the same wherever it is drawn."""
    return MODEL_LOOK.get(model, OTHER_LOOK)


MODEL_WHAT = {
    "seasonal_naive": "the same weekday last week",
    "weekday_mean": "the mean of the last 4 same weekdays, with one shared public-holiday effect",
    "prophet": "Prophet on log counts with weekly seasonality and one shared public-holiday effect",
    "ensemble": "the mean of seasonal naive, weekday mean and Prophet, its intervals recalibrated",
}
STAFFING_MODELS = {"erlang_c": "Erlang C", "erlang_a": "Erlang A"}
QUEUE_KINDS = ("contact_centre", "service_centre")
# Okabe-Ito vermillion (short) through a light grey to blue (surplus): safe for the
# common colour-vision deficiencies, and every cell also carries its signed number.
GAP_SCALE = [[0.0, "#D55E00"], [0.5, "#F2F2F2"], [1.0, "#0072B2"]]
PEOPLE_SCALE = [[0.0, "#F2F2F2"], [1.0, "#0072B2"]]  # Okabe-Ito blue on grey: more people, darker


def model_name(model: str) -> str:
    return MODEL_NAMES.get(model, model.replace("_", " ").capitalize())


def day_label(day: dt.date, *, year: bool = False) -> str:
    """'Mon 30 Nov' (and the year when asked)."""
    return f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if year else "")


def short_day(day: dt.date) -> str:
    """'Mo<br>30': a two-line axis label narrow enough for a phone (the month is in the
    chart's summary and table)."""
    return f"{day:%a}"[:2] + f"<br>{day.day}"


def span_label(first: dt.date, last: dt.date) -> str:
    return f"{day_label(first)} to {day_label(last, year=True)}"


# --------------------------------------------------------------------------- series


def series_options(series: pl.DataFrame) -> list[str]:
    """Stored series ids in reading order: total, services, offices, channels, contacts."""
    order = {kind: index for index, kind in enumerate(KINDS)}
    rows = sorted(series.select("series_id", "kind", "label").iter_rows(), key=lambda r: (order.get(r[1], 99), r[2]))
    return [row[0] for row in rows]


def series_names(series: pl.DataFrame) -> dict[str, str]:
    """{series_id: 'Service · Marriage notice'} for the select box."""
    names = {}
    for row in series.iter_rows(named=True):
        if row["kind"] in ("total", "contacts"):
            names[row["series_id"]] = row["label"]
        else:
            names[row["series_id"]] = f"{KIND_NAMES.get(row['kind'], row['kind'])} · {row['label']}"
    return names


crosses_departments = ids.crosses_departments  # total, office, channel and contacts series


def unit_of(series_id: str, office_kinds: dict[str, str]) -> str:
    """What the series counts: 'calls', 'visits' or 'cases'."""
    kind, member = ids.parse(series_id)
    if kind == "contacts":
        return {"contact_centre": "calls", "service_centre": "visits"}.get(office_kinds.get(member or "", ""), "contacts")
    return "cases"


def queue_office_of(series_id: str, queue_offices: Sequence[str]) -> str | None:
    """The office a series is about, when that office has a queue to staff."""
    kind, member = ids.parse(series_id)
    return member if kind in ("office", "contacts") and member in queue_offices else None


# --------------------------------------------------------------------------- forecast


FORECAST_TABLE_SCHEMA = {
    "ds": pl.Date,
    "actual": pl.Float64,
    "forecast": pl.Float64,
    "lo80": pl.Float64,
    "hi80": pl.Float64,
    "lo95": pl.Float64,
    "hi95": pl.Float64,
    "baseline": pl.Float64,
    "closed": pl.Boolean,
    "holiday": pl.String,
}


def forecast_table(
    actuals: pl.DataFrame,
    closed_history: Sequence[dt.date],
    recommended: pl.DataFrame,
    baseline: pl.DataFrame | None,
    holidays: dict[dt.date, str],
) -> pl.DataFrame:
    """One row per day: the actuals, then the stored forecast with its intervals.

    actuals: ds, y (the window of history shown). closed_history: closed days in it.
    recommended, baseline: stored forecast rows of the series (ds, yhat, lo80.., closed).
    holidays: {day: name} of public holidays. Days of actuals and forecast may overlap
    when the data has moved on since the run: both are shown.
    """
    history = actuals.select(pl.col("ds"), pl.col("y").cast(pl.Float64).alias("actual"))
    if history.height and closed_history:
        # a closed day has no demand by design: 0, whether or not the data has a row for it
        closed_frame = pl.DataFrame({"ds": list(closed_history)}, schema={"ds": pl.Date}).filter(
            pl.col("ds").is_between(history["ds"].min(), history["ds"].max())
        ).with_columns(pl.lit(True).alias("closed"))
        history = history.join(closed_frame, on="ds", how="full", coalesce=True).with_columns(
            pl.when(pl.col("closed")).then(pl.col("actual").fill_null(0.0)).otherwise(pl.col("actual")).alias("actual")
        )
    else:
        history = history.with_columns(pl.lit(None, dtype=pl.Boolean).alias("closed"))
    future = recommended.select(
        "ds", pl.col("yhat").alias("forecast"), "lo80", "hi80", "lo95", "hi95", pl.col("closed").alias("closed_forecast")
    )
    if baseline is not None and baseline.height:
        future = future.join(baseline.select("ds", pl.col("yhat").alias("baseline")), on="ds", how="left")
    else:
        future = future.with_columns(pl.lit(None, dtype=pl.Float64).alias("baseline"))
    table = history.join(future, on="ds", how="full", coalesce=True).with_columns(
        (pl.col("closed").fill_null(False) | pl.col("closed_forecast").fill_null(False)).alias("closed")
    )
    names = pl.DataFrame(
        {"ds": list(holidays), "holiday": list(holidays.values())}, schema={"ds": pl.Date, "holiday": pl.String}
    )
    return table.join(names, on="ds", how="left").select(list(FORECAST_TABLE_SCHEMA)).sort("ds")


def forecast_display(table: pl.DataFrame) -> pl.DataFrame:
    """The forecast table with headers for people (the chart's data, as shown and downloaded)."""
    return table.select(
        pl.col("ds").alias("Date"),
        pl.col("ds").dt.strftime("%a").alias("Day"),
        pl.col("actual").alias("Actual"),
        pl.col("forecast").round(1).alias("Forecast"),
        pl.col("lo80").round(1).alias("80% low"),
        pl.col("hi80").round(1).alias("80% high"),
        pl.col("lo95").round(1).alias("95% low"),
        pl.col("hi95").round(1).alias("95% high"),
        pl.col("baseline").round(1).alias("Seasonal naive"),
        pl.when(pl.col("closed")).then(pl.lit("Closed")).otherwise(pl.lit("")).alias("Closed"),
        pl.col("holiday").fill_null("").alias("Public holiday"),
    )


def _band(figure: go.Figure, x: list, low: list, high: list, name: str, opacity: float) -> None:
    figure.add_scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip", legendgroup=name)
    figure.add_scatter(
        x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty", fillcolor=f"rgba(0,114,178,{opacity})",
        name=name, legendgroup=name, hoverinfo="skip",
    )


def forecast_figure(table: pl.DataFrame, *, title: str, unit: str, model: str, data_end: dt.date) -> go.Figure:
    """Actuals, the forecast with its 80% and 95% intervals, the baseline (legend toggle),
    public holidays (stars) and closed days (crosses at zero)."""
    figure = base(title, 430)
    future = table.filter(pl.col("forecast").is_not_null())
    x_future = future["ds"].to_list()
    if future.height:
        _band(figure, x_future, future["lo95"].to_list(), future["hi95"].to_list(), "95% interval", 0.14)
        _band(figure, x_future, future["lo80"].to_list(), future["hi80"].to_list(), "80% interval", 0.30)
    history = table.filter(pl.col("actual").is_not_null())
    figure.add_scatter(
        x=history["ds"].to_list(), y=history["actual"].to_list(), name="Actual", mode="lines+markers",
        line={"color": PALETTE[1], "width": 2}, marker={"symbol": "circle", "size": 4},
        hovertemplate="%{y:,.0f}",
    )
    if future.height:
        figure.add_scatter(
            x=x_future, y=future["forecast"].to_list(), name=f"Forecast ({model_name(model)})", mode="lines",
            line={"color": model_look(model)[0], "width": 2.5, "dash": model_look(model)[1]}, hovertemplate="%{y:,.1f}",
        )
        if future["baseline"].is_not_null().any():
            figure.add_scatter(
                x=x_future, y=future["baseline"].to_list(), name="Seasonal naive (baseline)", mode="lines",
                line={"color": model_look(BASELINE)[0], "width": 1.5, "dash": model_look(BASELINE)[1]}, visible="legendonly", hovertemplate="%{y:,.1f}",
            )
    value = pl.coalesce("actual", "forecast")
    holidays = table.filter(pl.col("holiday").is_not_null()).with_columns(value.alias("value"))
    if holidays.height:
        figure.add_scatter(
            x=holidays["ds"].to_list(), y=holidays["value"].to_list(), name="Public holiday", mode="markers",
            marker={"symbol": "star", "size": 13, "color": PALETTE[5], "line": {"width": 1, "color": "white"}},
            text=holidays["holiday"].to_list(), hovertemplate="%{text}",
        )
    closed = table.filter(pl.col("closed"))
    if closed.height:
        figure.add_scatter(
            x=closed["ds"].to_list(), y=[0] * closed.height, name="Closed (no demand by design)", mode="markers",
            marker={"symbol": "x-thin", "size": 10, "line": {"width": 2, "color": PALETTE[6]}}, hoverinfo="skip",
        )
    if future.height:
        start = dt.datetime.combine(data_end, dt.time(12))
        figure.add_shape(type="line", xref="x", yref="paper", x0=start, x1=start, y0=0, y1=1, line={"dash": "dot", "width": 1, "color": "rgba(128,128,128,0.8)"})
        figure.add_annotation(x=start, y=1, xref="x", yref="paper", text="forecast →", showarrow=False, xanchor="left", yanchor="top", font={"size": 12})
    figure.update_yaxes(title=f"{unit.capitalize()} per day", rangemode="tozero")
    figure.update_xaxes(title=None)
    figure.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.08, "xanchor": "left", "x": 0})
    return figure


def _count(value: float) -> str:
    return f"{value:,.0f}"


def forecast_summary(table: pl.DataFrame, *, label: str, unit: str, model: str) -> str:
    """'Prophet forecasts 3,120 calls to ... over the 28 days from ... (28 days before: 3,050); ...'"""
    future = table.filter(pl.col("forecast").is_not_null())
    if future.height == 0:
        return f"There is no stored forecast for {label}."
    first, last = future["ds"].min(), future["ds"].max()
    days = future.height
    history = table.filter(pl.col("actual").is_not_null() & (pl.col("ds") < first))
    before = history.filter(pl.col("ds") >= first - dt.timedelta(days=days))
    compare = ""
    if before.height == days:
        total_before = before["actual"].sum()
        compare = f" against {_count(total_before)} in the {days} days before"
    holidays = future.filter(pl.col("holiday").is_not_null())
    closed = int(future["closed"].sum())
    marks = []
    if holidays.height:
        marks.append(
            f"{holidays.height} public holiday{'s' if holidays.height != 1 else ''} ("
            + ", ".join(f"{name}, {day_label(day)}" for day, name in holidays.select("ds", "holiday").iter_rows())
            + ")"
        )
    if closed:
        marks.append(f"{closed} closed day{'s' if closed != 1 else ''} forecast as zero")
    ahead = "; ahead: " + " and ".join(marks) if marks else ""
    return (
        f"{label}: {_count(future['forecast'].sum())} {unit} forecast by {model_name(model)} over the {days} days "
        f"from {span_label(first, last)}{compare}{ahead}."
    )


# --------------------------------------------------------------------------- backtest


def backtest_table(backtests: pl.DataFrame, series_id: str) -> pl.DataFrame:
    """The overall backtest scores of one series, one row per model: the recommended
    model first, the seasonal-naive baseline always beside it, then the other candidates."""
    rows = backtests.filter((pl.col("series_id") == series_id) & (pl.col("step") == 0))
    if rows.height == 0:
        return pl.DataFrame(
            schema={"Model": pl.String, "Role": pl.String, "Days scored": pl.Int32, "MASE": pl.Float64,
                    "sMAPE %": pl.Float64, "Inside 80% interval %": pl.Float64,
                    "Inside 95% interval %": pl.Float64, "95% interval width": pl.Float64}
        )
    role = (
        pl.when(pl.col("recommended") & (pl.col("model") == BASELINE)).then(pl.lit("Recommended (the baseline)"))
        .when(pl.col("recommended")).then(pl.lit("Recommended"))
        .when(pl.col("model") == BASELINE).then(pl.lit("Baseline"))
        .otherwise(pl.lit("Candidate"))
    )
    order = pl.when(pl.col("recommended")).then(0).when(pl.col("model") == BASELINE).then(1).otherwise(2)
    return (
        rows.with_columns(role.alias("Role"), order.alias("_order"))
        .sort("_order", "mase", nulls_last=True)
        .select(
            pl.col("model").replace_strict(MODEL_NAMES, default=pl.col("model")).alias("Model"),
            "Role",
            pl.col("n").alias("Days scored"),
            pl.col("mase").round(3).alias("MASE"),
            pl.col("smape").round(1).alias("sMAPE %"),
            pl.col("coverage_80").round(1).alias("Inside 80% interval %"),
            pl.col("coverage_95").round(1).alias("Inside 95% interval %"),
            pl.col("width_95").round(1).alias("95% interval width"),
        )
    )


def _coverage_word(share: float | None, nominal: int) -> str:
    if share is None or math.isnan(share):
        return "was not scored"
    if share < nominal - 7:
        return f"held only {share:.0f}% of actual days (aim {nominal}%): the band is too narrow, plan with care"
    if share > min(nominal + 7, 99.5):
        return f"held {share:.0f}% of actual days (aim {nominal}%): the band is wider than it needs to be"
    return f"held {share:.0f}% of actual days (aim {nominal}%)"


def recommendation_text(backtests: pl.DataFrame, series_id: str, *, recommended: str, cutoffs: Sequence[dt.date], horizon: int) -> str:
    """Which model is recommended and why, from the backtest scores (Markdown)."""
    rows = backtests.filter((pl.col("series_id") == series_id) & (pl.col("step") == 0))
    scores = {row["model"]: row for row in rows.iter_rows(named=True)}
    chosen = scores.get(recommended)
    base = scores.get(BASELINE)
    windows = f"{len(cutoffs)} windows of {horizon} days" + (f" starting {', '.join(day_label(c) for c in cutoffs)}" if cutoffs else "")
    if chosen is None:
        return (
            f"**{model_name(recommended)} is used** without a backtest: the series has too little history "
            f"before the backtest windows ({windows}). Treat this forecast as a rough guide."
        )
    coverage = f"Its 95% interval {_coverage_word(chosen['coverage_95'], 95)}; its 80% interval {_coverage_word(chosen['coverage_80'], 80)}."
    what = MODEL_WHAT.get(recommended, "")
    if recommended == BASELINE or base is None:
        return (
            f"**{model_name(recommended)} is recommended** ({what}): no other model beat it on the backtest over "
            f"{windows} ({chosen['n']} days scored, MASE {chosen['mase']:.2f}). {coverage}"
        )
    better = (1 - chosen["mase"] / base["mase"]) * 100 if base["mase"] else float("nan")
    return (
        f"**{model_name(recommended)} is recommended** ({what}): on the backtest over {windows} "
        f"({chosen['n']} days scored, each forecast made only from the days before its window), its MASE of "
        f"{chosen['mase']:.2f} is the lowest of the {len(scores)} models and {better:.0f}% below the seasonal-naive "
        f"baseline's {base['mase']:.2f} (MASE below 1 beats last week's same weekday). {coverage} "
        "The choice is made on these same windows, so the scores are a little optimistic."
    )


def horizon_frame(backtests: pl.DataFrame, series_id: str, cutoffs: Sequence[dt.date] = (), holidays: dict[dt.date, str] | None = None) -> pl.DataFrame:
    """MASE by days ahead (steps 1..horizon) of the recommended model and the baseline, and
    the public holidays that fell on that day ahead in a backtest window (the window's first
    day is its cutoff: day ahead k is cutoff + k - 1), which explain most spikes."""
    rows = backtests.filter((pl.col("series_id") == series_id) & (pl.col("step") > 0))
    holidays = holidays or {}
    on_step: dict[int, list[str]] = {}
    for cutoff in cutoffs:
        for day, name in holidays.items():
            step = (day - cutoff).days + 1
            if step >= 1:
                on_step.setdefault(step, []).append(f"{name} ({day_label(day, year=True)})")
    frame = (
        rows.filter(pl.col("recommended") | (pl.col("model") == BASELINE))
        .select(
            pl.col("step").alias("Days ahead"),
            pl.col("model").alias("_model"),
            pl.col("model").replace_strict(MODEL_NAMES, default=pl.col("model")).alias("Model"),
            pl.col("n").alias("Days scored"),
            pl.col("mase").round(3).alias("MASE"),
        )
        .sort("Model", "Days ahead")
    )
    words = {step: "; ".join(names) for step, names in on_step.items()}
    return frame.with_columns(
        pl.col("Days ahead").replace_strict(words, default=None, return_dtype=pl.String).alias("Public holiday in a window")
    )


def horizon_figure(frame: pl.DataFrame) -> go.Figure:
    """MASE by days ahead per model, in each model's own look; a day ahead on which a
    backtest window held a public holiday is ringed with a star (its names on hover)."""
    figure = base("MASE by days ahead (lower is better)", 320)
    for part in frame.partition_by("_model", maintain_order=True):
        colour, dash, marker = model_look(part["_model"][0])
        figure.add_scatter(
            x=part["Days ahead"].to_list(), y=part["MASE"].to_list(), name=part["Model"][0], mode="lines+markers",
            line={"color": colour, "dash": dash}, marker={"symbol": marker, "size": 5}, hovertemplate="%{y:.2f}",
        )
    marked = frame.filter(pl.col("Public holiday in a window").is_not_null())
    if marked.height:
        figure.add_scatter(
            x=marked["Days ahead"].to_list(), y=marked["MASE"].to_list(), name="A public holiday in a window that day ahead",
            mode="markers", marker={"symbol": "star-open", "size": 14, "color": PALETTE[5], "line": {"width": 2}},
            text=marked["Public holiday in a window"].to_list(), hovertemplate="%{text}", cliponaxis=False,
        )
    line = {"dash": "dash", "color": "rgba(128,128,128,0.8)"}
    figure.add_hline(y=1, line=line)
    reference_entry(figure, "1 = as good as last week's same weekday", line)  # in the legend: on the line it hid under the data
    figure.update_yaxes(title="MASE", rangemode="tozero")
    figure.update_xaxes(title="Days ahead")
    figure.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0})
    return figure


def horizon_summary(frame: pl.DataFrame, *, model: str, windows: int) -> str:
    """What the error-by-days-ahead chart shows, spikes explained where a holiday fell."""
    chosen = frame.filter(pl.col("_model") == model)
    text = f"How the error grows with days ahead: {model_name(model)} against the seasonal-naive baseline, over {windows} backtest windows."
    if chosen.height == 0 or chosen["MASE"].is_null().all():
        return text
    worst = chosen.sort("MASE", descending=True, nulls_last=True).row(0, named=True)
    text += f" {model_name(model)}'s worst day ahead is day {worst['Days ahead']} (MASE {worst['MASE']:.2f})"
    if worst["Public holiday in a window"]:
        text += f", when a window held a public holiday: {worst['Public holiday in a window']}."
    else:
        text += "."
    holidays = chosen.filter(pl.col("Public holiday in a window").is_not_null()).height
    if holidays:
        days = "the day ahead" if holidays == 1 else f"the {holidays} days ahead"
        text += f" Stars mark {days} on which a window held a public holiday; a spike there is the holiday, not the model drifting."
    return text


def horizon_display(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("_model")


MASE_WORDS = (
    "MASE (mean absolute scaled error) divides a model's mean error on the backtest days by the mean error of "
    "repeating last week's same weekday inside the history before each window. Below 1: the model's forecasts missed by "
    "less than that simple rule typically misses day to day; above 1, by more. The seasonal-naive baseline is that rule, "
    "yet it can score below 1 too: its backtest error is scaled by its own error over the history, so a calmer "
    "backtest period than the history scores it below 1 (and a busier one above). Compare the models with each other "
    "on the same series, not with 1 alone."
)


# --------------------------------------------------------------------------- live accuracy


def live_display(live: LiveAccuracy, series_id: str) -> pl.DataFrame:
    """Each scored past day of a series: the forecast made before it (by the latest stored
    run whose data ended earlier) against what happened; the live chart's data."""
    periods = live.periods.filter(pl.col("series_id") == series_id)
    return periods.select(
        pl.col("ds").alias("Date"),
        pl.col("ds").dt.strftime("%a").alias("Day"),
        pl.col("y").alias("Actual"),
        pl.col("yhat").round(1).alias("Forecast made before"),
        (pl.col("yhat") - pl.col("y")).round(1).alias("Error (+ too high)"),
        pl.col("lead").alias("Days ahead"),
        pl.col("run_id").alias("Run"),
        pl.col("data_end").alias("Run's data to"),
        pl.col("model").replace_strict(MODEL_NAMES, default=pl.col("model")).alias("Model"),
        pl.col("lo80").round(1).alias("80% low"),
        pl.col("hi80").round(1).alias("80% high"),
        pl.col("lo95").round(1).alias("95% low"),
        pl.col("hi95").round(1).alias("95% high"),
        pl.when(pl.col("inside_80")).then(pl.lit("Yes")).otherwise(pl.lit("No")).alias("Inside 80%"),
        pl.when(pl.col("inside_95")).then(pl.lit("Yes")).otherwise(pl.lit("No")).alias("Inside 95%"),
        pl.col("baseline_yhat").round(1).alias("Seasonal naive made before"),
    )


def live_figure(display: pl.DataFrame, *, title: str, unit: str) -> go.Figure:
    """The forecast made before each day, its 80% interval, and the actual (from live_display)."""
    figure = base(title, 380)
    x = display["Date"].to_list()
    _band(figure, x, display["80% low"].to_list(), display["80% high"].to_list(), "80% interval of the forecast made before", 0.25)
    figure.add_scatter(
        x=x, y=display["Forecast made before"].to_list(), name="Forecast made before the day", mode="lines+markers",
        line={"color": PALETTE[0], "width": 2, "dash": "dash"}, marker={"symbol": "circle-open", "size": 5},
        customdata=display.select("Days ahead", "Run").rows(), hovertemplate="%{y:,.1f} (run %{customdata[1]}, %{customdata[0]} days ahead)",
    )
    figure.add_scatter(
        x=x, y=display["Actual"].to_list(), name="Actual", mode="lines+markers",
        line={"color": PALETTE[1], "width": 2}, marker={"symbol": "circle", "size": 4}, hovertemplate="%{y:,.0f}",
    )
    figure.update_yaxes(title=f"{unit.capitalize()} per day", rangemode="tozero")
    figure.update_xaxes(title=None)
    figure.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.08, "xanchor": "left", "x": 0})
    return figure


def live_summary(live: LiveAccuracy, series_id: str, *, label: str, unit: str) -> str:
    """'Over 13 days from ..., the forecasts made before each day (2 runs, 1 to 14 days ahead) missed ...'"""
    rows = live.overall.filter(pl.col("series_id") == series_id)
    if rows.height == 0:
        return f"No stored forecast of {label} has an actual to compare with yet."
    row = rows.row(0, named=True)
    periods = live.periods.filter(pl.col("series_id") == series_id)
    runs = f"{row['runs']} run{'s' if row['runs'] != 1 else ''}"
    wape = f" (WAPE {row['wape']:.1f}%)" if row["wape"] is not None else ""
    direction = "too high" if row["bias"] > 0 else "too low"
    bias = f", {abs(row['bias']):,.1f} {direction} on average" if round(abs(row["bias"]), 1) else ", with no bias on average"
    return (
        f"{label}: over {row['n']} day{'s' if row['n'] != 1 else ''} from {span_label(row['first_day'], row['last_day'])}, "
        f"the forecast made before each day ({runs}, {periods['lead'].min()} to {periods['lead'].max()} days ahead) "
        f"missed by {row['mae']:,.1f} {unit} a day{wape}{bias}; {row['coverage_80']:.0f}% of the days fell inside "
        f"the 80% interval and {row['coverage_95']:.0f}% inside the 95% one."
    )


def live_against_backtest(live: LiveAccuracy, backtests: pl.DataFrame, series_id: str) -> pl.DataFrame:
    """Live measures beside the latest backtest's, one row per measure (rounded for people)."""
    table = backtest_comparison(live, backtests, series_id)
    digits = pl.when(pl.col("measure").str.contains("seasonal naive")).then(3).otherwise(1)
    return table.select(
        pl.col("measure").alias("Measure"),
        *[
            pl.when(digits == 3).then(pl.col(c).round(3)).otherwise(pl.col(c).round(1)).alias(name)
            for c, name in (("live", "Live (made before each day)"), ("backtest", "Backtest"))
        ],
    )


def live_by_weeks_ahead(live: LiveAccuracy, series_id: str) -> pl.DataFrame:
    """Live measures per week ahead (1 = forecast 1 to 7 days before the day)."""
    return live.by_lead.filter(pl.col("series_id") == series_id).select(
        pl.col("weeks_ahead").alias("Weeks ahead"),
        pl.col("n").alias("Days scored"),
        pl.col("mae").round(1).alias("Mean absolute error"),
        pl.col("wape").round(1).alias("WAPE %"),
        pl.col("bias").round(1).alias("Bias (+ too high)"),
        pl.col("coverage_80").round(1).alias("Inside 80% interval %"),
        pl.col("coverage_95").round(1).alias("Inside 95% interval %"),
        pl.col("relative_mae").round(3).alias("Error against seasonal naive's"),
    )


def no_live_words(label: str, *, weeks: int, data_end: dt.date) -> tuple[str, str]:
    """Why there is no live accuracy to show, and what makes it appear."""
    return (
        f"No stored forecast of {label} has actuals to compare with yet in the last {weeks} weeks: the runs kept so far "
        f"forecast only days after the data they were made from, and the data end on {day_label(data_end, year=True)}.",
        "Every run of `python -m forecasting run` is kept; once a data load brings days a run forecast (and the next run "
        "is made, as `make run` does at start), this section scores them against what happened. A longer "
        "\"Actuals shown\" window reaches older runs.",
    )


# --------------------------------------------------------------------------- staffing


def days_table(plan: StaffingPlan, *, unit: str) -> pl.DataFrame:
    """Per day: arrivals, staff-hours needed (Erlang C and A, fractional and rounded up
    once), rostered hours and the gap (rostered - needed; negative is short)."""
    days = plan.days
    return days.select(
        pl.col("ds").alias("Date"),
        pl.col("ds").dt.strftime("%a").alias("Day"),
        pl.col("arrivals").round(1).alias(f"Forecast {unit}"),
        pl.col("hours_needed_erlang_c").round(1).alias("Needed, Erlang C (staff-hours)"),
        pl.col("hours_needed_erlang_a").round(1).alias("Needed, Erlang A (staff-hours)"),
        pl.col("rostered_hours").round(1).alias("Rostered (staff-hours)"),
        pl.col("gap_hours_erlang_c").round(1).alias("Gap, Erlang C"),
        pl.col("gap_hours_erlang_a").round(1).alias("Gap, Erlang A"),
        pl.col("peak_staff_erlang_c").alias("Peak staff, Erlang C"),
        pl.col("peak_staff_erlang_a").alias("Peak staff, Erlang A"),
        pl.col("rostered_source").alias("Roster from"),
    )


def days_figure(plan: StaffingPlan, *, title: str) -> go.Figure:
    """Staff-hours needed per day under Erlang C and A (bars) against the roster (line)."""
    days = plan.days
    figure = base(title, 400)
    figure.update_layout(barmode="group", bargap=0.25)
    x = [short_day(d) for d in days["ds"].to_list()]
    figure.add_bar(x=x, y=days["hours_needed_erlang_c"].round(1).to_list(), name="Needed, Erlang C", marker={"color": PALETTE[0]}, hovertemplate="%{y:,.1f} h")
    figure.add_bar(
        x=x, y=days["hours_needed_erlang_a"].round(1).to_list(), name="Needed, Erlang A (callers hang up)",
        marker={"color": PALETTE[4], "pattern": {"shape": "/", "fgcolor": "rgba(0,0,0,0.45)", "fillmode": "overlay"}}, hovertemplate="%{y:,.1f} h",
    )
    figure.add_scatter(
        x=x, y=days["rostered_hours"].round(1).to_list(), name="Rostered", mode="lines+markers",
        line={"color": PALETTE[1], "width": 2.5}, marker={"symbol": "diamond", "size": 9}, hovertemplate="%{y:,.1f} h",
    )
    closed = days.filter(pl.col("rostered_source") == "closed")
    if closed.height:
        figure.add_scatter(
            x=[short_day(d) for d in closed["ds"].to_list()], y=[0] * closed.height, name="Closed", mode="markers",
            marker={"symbol": "x-thin", "size": 10, "line": {"width": 2, "color": PALETTE[6]}}, hoverinfo="skip",
        )
    figure.update_yaxes(title="Staff-hours per day", rangemode="tozero")
    figure.update_xaxes(title=None, type="category", tickangle=0)
    figure.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.24, "xanchor": "left", "x": 0})
    return figure


def _hours(value: float) -> str:
    size = abs(value)
    return f"{size:,.1f} staff-hours" if size < 10 else f"{size:,.0f} staff-hours"


def days_summary(plan: StaffingPlan, *, office: str) -> str:
    days = plan.days
    if days.height == 0:
        return f"No days to plan at {office}."
    first, last = days["ds"].min(), days["ds"].max()
    rostered = days["rostered_hours"].sum()
    need_c, need_a = days["hours_needed_erlang_c"].sum(), days["hours_needed_erlang_a"].sum()
    gap = rostered - need_c
    balance = f"a surplus of {_hours(gap)}" if gap >= 0 else f"a shortfall of {_hours(gap)}"
    short = days.filter(pl.col("gap_hours_erlang_c") < -0.05).sort("gap_hours_erlang_c")
    if short.height:
        worst = short.row(0, named=True)
        detail = (
            f"; {short.height} of {days.height} days are short under Erlang C, the worst {day_label(worst['ds'])} "
            f"({_hours(worst['gap_hours_erlang_c'])} short)"
        )
    else:
        detail = "; no day is short under Erlang C"
    return (
        f"From {span_label(first, last)}, {office} has {rostered:,.0f} staff-hours rostered against {need_c:,.0f} needed "
        f"by Erlang C and {need_a:,.0f} by Erlang A: {balance} under Erlang C{detail}."
    )


def intervals_table(plan: StaffingPlan) -> pl.DataFrame:
    """Per half hour: arrivals, load, agents and staff needed under both models, roster, gap."""
    return plan.intervals.select(
        pl.col("ds").alias("Date"),
        pl.col("interval_start").dt.strftime("%H:%M").alias("From"),
        pl.col("arrivals").round(2).alias("Arrivals"),
        pl.col("load").round(2).alias("Load (Erlangs)"),
        pl.col("agents_erlang_c").round(2).alias("Agents, Erlang C"),
        (pl.col("service_level_erlang_c") * 100).round(1).alias("Service level %, Erlang C"),
        pl.col("staff_needed_erlang_c").round(2).alias("Staff needed, Erlang C"),
        pl.col("staff_erlang_c").alias("Staff needed (rounded up), Erlang C"),
        pl.col("gap_erlang_c").round(2).alias("Gap, Erlang C"),
        pl.col("agents_erlang_a").round(2).alias("Agents, Erlang A"),
        (pl.col("service_level_erlang_a") * 100).round(1).alias("Service level %, Erlang A"),
        (pl.col("abandon_erlang_a") * 100).round(1).alias("Abandoned %, Erlang A"),
        pl.col("staff_needed_erlang_a").round(2).alias("Staff needed, Erlang A"),
        pl.col("staff_erlang_a").alias("Staff needed (rounded up), Erlang A"),
        pl.col("gap_erlang_a").round(2).alias("Gap, Erlang A"),
        pl.col("rostered_staff").round(2).alias("Rostered staff"),
        pl.col("scheduled_people").alias("Scheduled on the roster (whole people)"),
        pl.col("short_erlang_c").alias("Short on the roster, Erlang C (people)"),
        pl.col("short_erlang_a").alias("Short on the roster, Erlang A (people)"),
    )


def gap_frame(plan: StaffingPlan, model: str, days: Sequence[dt.date]) -> pl.DataFrame:
    """The heatmap's data: one row per half hour, one column per day, the gap in staff
    (rostered - needed) under `model`; empty where the office takes no contacts."""
    return _half_hours(plan, pl.col(f"gap_{model}").round(1), days, pl.Float64)


def people_frame(plan: StaffingPlan, model: str, days: Sequence[dt.date]) -> pl.DataFrame:
    """Whole people needed on the floor per half hour and day under `model` (agents ÷
    (1 − shrinkage), rounded up: 3.2 needs 4); empty where the office takes no contacts."""
    return _half_hours(plan, pl.col(f"staff_{model}"), days, pl.Int64)


def _half_hours(plan: StaffingPlan, value: pl.Expr, days: Sequence[dt.date], dtype: pl.DataType) -> pl.DataFrame:
    intervals = plan.intervals.select(
        pl.col("interval_start").dt.strftime("%H:%M").alias("Half hour from"), pl.col("ds"), value.alias("value"),
    )
    slots = sorted(intervals["Half hour from"].unique().to_list())
    lookup = {(row[0], row[1]): row[2] for row in intervals.iter_rows()}
    columns = {"Half hour from": slots}
    for day in days:
        columns[day_label(day)] = [lookup.get((slot, day)) for slot in slots]
    return pl.DataFrame(columns, schema={"Half hour from": pl.String, **{day_label(d): dtype for d in days}})


def people_heatmap(frame: pl.DataFrame, *, title: str, closed: Sequence[dt.date] = ()) -> go.Figure:
    """People needed per half hour and day: darker is more, and every cell says its whole
    number (never colour alone)."""
    z = _grid(frame)
    text = [["" if v is None else f"{v:,}" for v in row] for row in z]
    top = max(max((v for row in z for v in row if v is not None), default=1), 1)
    return _half_hour_heatmap(frame, z, text, title=title, closed=closed, colorscale=PEOPLE_SCALE, zmin=0, zmax=top,
                              legend="People needed", unit="people")


def people_summary(plan: StaffingPlan, model: str) -> str:
    """The most people needed at once, when, and the busiest day's peak, in words."""
    intervals = plan.intervals
    name = STAFFING_MODELS[model]
    if intervals.height == 0:
        return "The office takes no calls or visits on these days."
    peak = intervals.sort([f"staff_{model}", "ds", "interval_start"], descending=[True, False, False]).row(0, named=True)
    open_slots = intervals.filter(pl.col(f"staff_{model}") > 0)
    return (
        f"Under {name}, at most {peak[f'staff_{model}']:,} people are needed at once, on {day_label(peak['ds'])} from "
        f"{peak['interval_start']:%H:%M}; {open_slots.height:,} of {intervals.height:,} half hours need someone. "
        "Whole people: each half hour's staff (agents ÷ (1 − shrinkage)) rounded up."
    )


def _column_label(label: str, closed: bool) -> str:
    """'Mon 30 Nov' -> 'Mo<br>30' (narrow enough for a phone), '<br>closed' when closed."""
    weekday, day, _ = label.split(" ")
    return f"{weekday[:2]}<br>{day}" + ("<br>closed" if closed else "")


def gap_heatmap(frame: pl.DataFrame, *, title: str, closed: Sequence[dt.date] = ()) -> go.Figure:
    """Rostered minus needed staff per half hour and day: vermillion short, blue surplus,
    each cell also labelled with its signed number (never colour alone)."""
    z = _grid(frame)
    text = [["" if v is None else f"{v + 0.0:+.1f}".replace("-", "−").replace("+0.0", "0.0") for v in row] for row in z]
    reach = max(max((abs(v) for row in z for v in row if v is not None), default=1.0), 0.5)
    return _half_hour_heatmap(frame, z, text, title=title, closed=closed, colorscale=GAP_SCALE, zmin=-reach, zmax=reach,
                              legend="Staff: − short, + surplus", unit="staff", zmid=0)


def _grid(frame: pl.DataFrame) -> list[list]:
    days = [c for c in frame.columns if c != "Half hour from"]
    return [[frame[day][i] for day in days] for i in range(frame.height)]


def _half_hour_heatmap(
    frame: pl.DataFrame, z: list[list], text: list[list[str]], *, title: str, closed: Sequence[dt.date], colorscale: list,
    zmin: float, zmax: float, legend: str, unit: str, zmid: float | None = None,
) -> go.Figure:
    """A half hour x day heatmap, every cell labelled with ``text``, days as narrow columns
    on top ('closed' under a day the office is shut), half hours down the side."""
    days = [c for c in frame.columns if c != "Half hour from"]
    slots = frame["Half hour from"].to_list()
    closed_labels = {day_label(d) for d in closed}
    x = [_column_label(day, day in closed_labels) for day in days]
    figure = base(title, max(320, 22 * len(slots) + 150))
    figure.add_heatmap(
        z=z, x=x, y=slots, zmin=zmin, zmax=zmax, zmid=zmid, colorscale=colorscale, xgap=1, ygap=1, text=text, hoverongaps=False,
        colorbar={"title": {"text": legend, "side": "right"}, "thickness": 12},
        customdata=[days] * len(slots), hovertemplate=f"%{{customdata}} %{{y}}: %{{text}} {unit}<extra></extra>",
    )
    cell_labels(figure, z, x, slots, text, colorscale=colorscale, zmin=zmin, zmax=zmax, size=10)
    figure.update_yaxes(autorange="reversed", title="Half hour from (local time)", type="category")
    figure.update_xaxes(title=None, type="category", side="top", tickangle=0, tickfont={"size": 10})
    figure.update_layout(hovermode="closest", margin={"t": 125})
    return figure


def gap_summary(plan: StaffingPlan, model: str) -> str:
    intervals = plan.intervals
    name = STAFFING_MODELS[model]
    if intervals.height == 0:
        return "The office takes no calls or visits on these days."
    short = intervals.filter(pl.col(f"gap_{model}") < -0.05)
    if short.height == 0:
        return f"Under {name}, the roster covers every one of the {intervals.height} half hours with contacts."
    worst = short.sort(f"gap_{model}").row(0, named=True)
    busiest = (
        short.group_by(pl.col("interval_start").dt.strftime("%H:%M").alias("slot")).len().sort("len", "slot", descending=[True, False]).row(0)
    )
    return (
        f"Under {name}, {short.height} of {intervals.height} half hours are short of staff, most often the one from "
        f"{busiest[0]} ({busiest[1]} days); the largest gap is {abs(worst[f'gap_{model}']):.1f} staff short on "
        f"{day_label(worst['ds'])} at {worst['interval_start']:%H:%M}."
    )


# --------------------------------------------------------------------------- the shift plan (an imported roster)

SHORT_SCALE = [[0.0, "#0072B2"], [0.5, "#F2F2F2"], [1.0, "#D55E00"]]  # + short: vermillion, as the gap's short


def roster_sources(office: str, plan_days: Sequence[dt.date], roster_days: Sequence[dt.date]) -> list[str]:
    """One sentence per week of the plan saying where its scheduled staff come from: the
    roster where one is imported (or edited), else the hours inferred from staff costs."""
    weeks: dict[dt.date, list[dt.date]] = {}
    for day in plan_days:
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(day)
    covered = set(roster_days)
    words = []
    for monday, days in weeks.items():
        span = f"{day_label(days[0])} to {day_label(days[-1])}"
        week = f"week of {day_label(monday, year=True)}" + (f" ({span})" if len(days) < 7 else "")
        if covered.intersection(days):
            words.append(f"{week[0].upper()}{week[1:]}: scheduled staff come from the roster of {office} "
                         "(people on shift per half hour, off their breaks).")
        else:
            words.append(f"No roster imported for {office} in {week}; scheduled hours are "
                         "inferred from staff costs (the last 4 weeks' hours carry on after the last record, spread over the day "
                         "like the arrivals).")
    return words


def office_timezone(offices: pl.DataFrame, office_id: str) -> str:
    """The office's time zone (the offices extract), in which its shifts are shown."""
    return offices.filter(pl.col("office_id") == office_id)["timezone"][0]


def shift_gap_table(plan: StaffingPlan, model: str) -> pl.DataFrame:
    """Per half hour of the roster's days: whole people needed, scheduled and short."""
    rows = plan.intervals.filter(pl.col("scheduled_people").is_not_null())
    return rows.select(
        pl.col("ds").alias("Date"),
        pl.col("interval_start").dt.strftime("%H:%M").alias("From"),
        pl.col(f"staff_{model}").alias("Needed (people)"),
        pl.col("rostered_staff").round(2).alias("On shift (people, off breaks)"),
        pl.col("scheduled_people").alias("Scheduled (whole people)"),
        pl.col(f"short_{model}").alias("Short (needed − scheduled)"),
    )


def shift_gap_frame(plan: StaffingPlan, model: str, days: Sequence[dt.date]) -> pl.DataFrame:
    """The heatmap's data: people short per half hour (needed − scheduled, whole people;
    minus: to spare), one column per roster day."""
    return _half_hours(plan, pl.col(f"short_{model}"), days, pl.Int64)


def shift_gap_heatmap(frame: pl.DataFrame, *, title: str, closed: Sequence[dt.date] = ()) -> go.Figure:
    """People short (+, vermillion) or to spare (−, blue) per half hour of the shift plan,
    each cell labelled with its signed whole number (never colour alone)."""
    z = _grid(frame)
    text = [["" if v is None else (f"+{v}" if v > 0 else f"{v}".replace("-", "−")) for v in row] for row in z]
    reach = max(max((abs(v) for row in z for v in row if v is not None), default=1), 1)
    return _half_hour_heatmap(frame, z, text, title=title, closed=closed, colorscale=SHORT_SCALE, zmin=-reach, zmax=reach,
                              legend="People: + short, − to spare", unit="people", zmid=0)


def shift_gap_summary(plan: StaffingPlan, model: str) -> str:
    """How many half hours of the shift plan are short of people, by how many at most."""
    table = plan.intervals.filter(pl.col("scheduled_people").is_not_null())
    name = STAFFING_MODELS[model]
    if table.height == 0:
        return "No half hour with contacts falls on the roster's days."
    short = table.filter(pl.col(f"short_{model}") > 0)
    spare = table.filter(pl.col(f"short_{model}") < 0)
    if short.height == 0:
        head = f"Under {name}, the shift plan covers every one of its {table.height:,} half hours with contacts"
    else:
        worst = short.sort([f"short_{model}", "ds", "interval_start"], descending=[True, False, False]).row(0, named=True)
        head = (f"Under {name}, the shift plan is short in {short.height:,} of its {table.height:,} half hours with contacts, "
                f"{short[f'short_{model}'].sum():,} person-half-hours in all; at most {worst[f'short_{model}']:,} "
                f"{'person' if worst[f'short_{model}'] == 1 else 'people'} short, on {day_label(worst['ds'])} from "
                f"{worst['interval_start']:%H:%M}")
    return (f"{head}; {spare.height:,} half hours have people to spare. Whole people: needed staff rounded up, people on shift "
            "(off their breaks) rounded down.")


def settings_columns(settings: StaffingSettings, *, aht_seconds: float, patience_seconds: float) -> dict[str, float | str]:
    """The what-if values a plan was made with, as constant columns of its CSV export."""
    return {
        "Volume change %": round(settings.volume_change * 100, 1),
        "Planned for": {"yhat": "forecast", "hi80": "upper 80% bound", "hi95": "upper 95% bound"}.get(settings.forecast_column, settings.forecast_column),
        "Handle time s": round(aht_seconds, 1),
        "Shrinkage %": round(settings.shrinkage * 100, 1),
        "Service level target %": round(settings.service_level * 100, 1),
        "Answer within s": settings.target_seconds,
        "Caller patience s": round(patience_seconds, 1),
        "Maximum occupancy %": round(settings.max_occupancy * 100, 1),
    }


def plan_export(table: pl.DataFrame, plan: StaffingPlan, *, office: str) -> pl.DataFrame:
    """A plan table with the office and the what-if values it was made with, for CSV."""
    extra = {"Office": office, **settings_columns(plan.settings, aht_seconds=plan.aht_seconds, patience_seconds=plan.patience_seconds)}
    return table.with_columns(pl.lit(office).alias("Office")).select("Office", *table.columns).with_columns(
        *[pl.lit(value).alias(name) for name, value in extra.items() if name != "Office"]
    )


def series_actuals(values: pl.DataFrame, closed_days: pl.DataFrame, series_id: str) -> tuple[pl.DataFrame, list[dt.date]]:
    """(ds, y) of one series from load_series_window's values, and its closed days."""
    actual = values.filter(pl.col("series_id") == series_id).select("ds", "y").sort("ds")
    closed = closed_days.filter(pl.col("series_id") == series_id)["ds"].to_list()
    return actual, closed


def queue_offices(offices: pl.DataFrame, series_ids: Sequence[str]) -> list[str]:
    """Offices that queue (contact and service centres) with a stored contacts forecast."""
    stored = set(series_ids)
    rows = [
        (QUEUE_KINDS.index(row["kind"]), row["name"], row["office_id"])
        for row in offices.iter_rows(named=True)
        if row["kind"] in QUEUE_KINDS and ids.format_id("contacts", row["office_id"]) in stored
    ]
    return [office_id for _, _, office_id in sorted(rows)]


def horizon_days(forecasts: pl.DataFrame, series_id: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of a series' stored forecast."""
    days = forecasts.filter(pl.col("series_id") == series_id)["ds"]
    return (days.min(), days.max()) if days.len() else None  # type: ignore[return-value]


def what_if_settings(
    base: StaffingSettings,
    *,
    volume_percent: float,
    aht_seconds: float | None,
    shrinkage_percent: float,
    service_level_percent: float,
    target_seconds: float,
    patience_seconds: float | None,
    max_occupancy_percent: float,
    forecast_column: str = "yhat",
) -> StaffingSettings:
    """StaffingSettings from the page's what-if inputs (percent as shown; None: history's)."""
    import dataclasses

    return dataclasses.replace(
        base,
        volume_change=volume_percent / 100,
        aht_seconds=aht_seconds,
        shrinkage=shrinkage_percent / 100,
        service_level=service_level_percent / 100,
        target_seconds=float(target_seconds),
        patience_seconds=patience_seconds,
        max_occupancy=max_occupancy_percent / 100,
        forecast_column=forecast_column,
    )


def closed_plan_days(plan: StaffingPlan) -> list[dt.date]:
    """Days of a plan on which the office is closed."""
    return plan.days.filter(pl.col("rostered_source") == "closed")["ds"].to_list()


def no_run_words(started: dt.datetime | None) -> tuple[str, str]:
    """What the page says with no stored forecast: that one is running, else how to make one."""
    if started is not None:
        return (f"The demand forecast is running now (started {started:%H:%M} UTC), so there is nothing to plan from yet.",
                "It takes about a minute at scale 1 (its log: data/forecast-run.log under make run): reload the page then.")
    return ("No forecast has been stored yet, so there is nothing to plan from.",
            "Run `python -m forecasting run` (about a minute at scale 1; `make run` starts one in the background "
            "at a first start, logging to data/forecast-run.log), then reload this page.")

