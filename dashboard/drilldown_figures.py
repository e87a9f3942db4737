"""Figures and tables of the drill-down page: pure functions from frames to Plotly figures
and to the readable tables people see and download. Built on dashboard/charts.py (one
template, the Okabe-Ito palette)."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from dashboard import charts
from metrics import drilldown as drill
from metrics.breaches import breach_sentence, find_breaches
from metrics.formatting import axis_title, change, number
from metrics.periods import parse_week
from metrics.registry import Direction, Metric
from metrics.status import STATUS_ICONS, status_word

RULE_WORDS = {
    "admin_close_60s": "Administrative close (within 60 s)",
    "no_due_date": "No due date",
    "short_abandon_5s": "Hung up within 5 s",
    "resumed_journey": "Resumed session (not a new start)",
}
CHANNEL_WORDS = {
    "online": "Online", "mobile_app": "Mobile app", "phone": "Phone", "in_person": "In person", "mail": "Mail", "other": "Other",
}
# The columns people see, per fact: (extract column, header). Ids first, then names,
# local times, durations, what counted and what a rule left out.
ROW_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "cases": [  # what triage reads first, left: visible without scrolling at 1280 px
        ("case_id", "Case"), ("triage", "State"), ("service", "Service"), ("office", "Office"), ("channel", "Channel"),
        ("due_at", "Due"), ("days_late", "Days late"), ("age_days", "Age (days)"), ("submitted_at", "Submitted"),
        ("closed_at", "Closed"), ("processing_days", "Processing time (days)"), ("event", "Counted as"), ("on_time", "On time"),
        ("left_out_by", "Left out by rule"), ("status", "Status now"), ("digital", "Digital"),
    ],
    "contacts": [  # what triage reads first, left
        ("contact_id", "Contact"), ("office", "Office"), ("service", "Service"), ("channel", "Channel"),
        ("wait_seconds", "Wait (s)"), ("abandoned_after_seconds", "Hung up after (s)"), ("within_target", "Within target"),
        ("handle_seconds", "Handle time (s)"), ("abandoned", "Abandoned"), ("arrived_at", "Arrived"), ("answered_at", "Answered"),
        ("ended_at", "Ended"), ("left_out_by", "Left out by rule"),
    ],
    "journeys": [
        ("journey_id", "Journey"), ("started_at", "Started"), ("completed_at", "Completed at"), ("completed", "Completed"),
        ("resumed_from", "Resumes journey"), ("left_out_by", "Left out by rule"), ("service", "Service"), ("channel", "Channel"),
    ],
    "feedback": [
        ("feedback_id", "Rating"), ("submitted_at", "Given"), ("rating", "Score (1–5)"), ("top_2", "Satisfied (4 or 5)"),
        ("service", "Service"), ("office", "Office"), ("channel", "Channel"),
    ],
}

# The columns the rows behind a number can be counted by (which office holds the overdue pile?).
COUNT_BY: dict[str, tuple[str, ...]] = {
    "cases": ("triage", "office", "service", "channel", "event", "status"),
    "contacts": ("office", "service", "channel", "within_target", "abandoned"),
    "journeys": ("service", "channel", "completed"),
    "feedback": ("service", "office", "channel", "rating"),
}


def header_of(fact: str, column: str) -> str:
    return dict(ROW_COLUMNS[fact])[column]

def _yes_no(column: str) -> pl.Expr:
    return pl.col(column).replace_strict({True: "yes", False: "no"}, default=None, return_dtype=pl.String)


def on_screen(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows as text where a table on screen would print 'None': times as
    'YYYY-MM-DD HH:MM:SS' and empty cells empty. The CSV is written the same way."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S").fill_null(""),
        pl.col(pl.String).fill_null(""),
    )


def display_rows(rows: pl.DataFrame, fact: str) -> pl.DataFrame:
    """The rows behind a number as people read them: readable headers, yes/no, channel
    and rule names in words, durations to two decimals, no paging columns."""
    columns = ROW_COLUMNS[fact]
    exprs = []
    for column, header in columns:
        dtype = rows.schema[column]
        if dtype == pl.Boolean:
            expr = _yes_no(column)
        elif column == "channel":
            expr = pl.col(column).replace_strict(CHANNEL_WORDS, default=pl.col(column), return_dtype=pl.String)
        elif column == "left_out_by":
            expr = pl.col(column).replace_strict(RULE_WORDS, default=pl.col(column), return_dtype=pl.String)
        elif dtype == pl.Float64:
            expr = pl.col(column).round(2)
        elif column == "office" and fact == "feedback":
            expr = pl.col(column).fill_null("(no office: anonymous survey)")
        elif column == "service" and fact == "contacts":
            expr = pl.col(column).fill_null("(service not recorded)")
        else:
            expr = pl.col(column)
        exprs.append(expr.alias(header))
    return rows.select(exprs)


def week_change(value: float | None, before: float | None, metric: Metric) -> str | None:
    """The change on the week before, in words that say which way is better:
    '−2.1 pts on the week before (worse)'. Never colour alone."""
    if value is None or before is None:
        return None
    difference = value - before
    judgement = ""
    if difference and metric.better != Direction.CONTEXT:
        improved = (difference > 0) == (metric.better == Direction.HIGHER)
        judgement = " (better)" if improved else " (worse)"
    return f"{change(difference, metric)} on the week before{judgement}"


def trend(series: pl.DataFrame, metric: Metric, *, target: float | None, week: str, where: str, notes: pl.DataFrame | None = None) -> go.Figure:
    """The KPI over the weeks of the window, its target dashed, the chosen week ringed,
    the notes on the record marked on their days."""
    figure = charts.trend(series, metric, target=target, title=f"{axis_title(metric)} by week")
    if notes is not None:
        charts.note_marks(figure, notes, series)
    # the legend goes under the plot: above it, it collides with a long title
    figure.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0}, height=380)
    chosen = series.filter((pl.col("period") == week) & pl.col("value").is_not_null())
    if chosen.height:
        figure.add_scatter(
            x=chosen["period_start"].to_list(), y=chosen["value"].to_list(), mode="markers", name=f"Week {week}",
            marker={"symbol": "circle-open", "size": 16, "line": {"width": 3}, "color": charts.PALETTE[5]},
            hovertemplate="%{y:,." + str(metric.decimals) + "f}",
        )
    return figure


def peer_bars(table: pl.DataFrame, metric: Metric, level: str, *, overall: float | None, target: float | None, highlight: str | None = None) -> go.Figure:
    """Each member of the next level against the others, the overall figure and the
    target. The two lines are named in a legend under the chart rather than labelled on
    it, where long bars and a phone's width would cover or cut the labels."""
    frame = table.select(pl.col("name"), pl.col("value"))
    figure = charts.bars(frame, metric, category="name", highlight=highlight, title=f"{axis_title(metric)} by {drill.LEVEL_WORDS[level][0]}")
    figure.update_traces(showlegend=False, selector={"type": "bar"})
    for value, name, line in (
        (overall, "Overall", {"color": charts.PALETTE[5], "dash": "dot", "width": 2}),
        (target, "Target", {"color": "rgba(128,128,128,0.9)", "dash": "dash", "width": 2}),
    ):
        if value is None:
            continue
        figure.add_vline(x=value, line=line)
        figure.add_scatter(x=[None], y=[None], mode="lines", line=line, name=f"{name} {number(value, metric)}", hoverinfo="skip")
    height = max(320, 28 * frame.height + 150)
    below_axis_title = 64 / (height - 110)  # the legend's offset under the plot, as a share of the plot's height
    figure.update_layout(
        showlegend=True, legend={"orientation": "h", "yanchor": "top", "y": -below_axis_title, "xanchor": "left", "x": 0},
        height=height, margin={"b": 60},
    )
    return figure


def peer_table(table: pl.DataFrame, metric: Metric, level: str) -> pl.DataFrame:
    """The peer view as a table: the same numbers as the bars, with n, target and status
    (icon and word, never colour alone)."""
    words = [
        f"{STATUS_ICONS[row['status']]} {status_word(row['status'], row['value'], row['target'])}"
        for row in table.iter_rows(named=True)
    ]
    return table.with_columns(pl.Series("status_words", words, dtype=pl.String)).select(
        pl.col("name").alias(drill.LEVEL_WORDS[level][0].capitalize()),
        pl.col("value").round(metric.decimals).alias(axis_title(metric)),
        pl.col("gap_to_overall").round(metric.decimals).alias("Gap to overall"),
        pl.col("target").alias("Target"),
        pl.col("status_words").alias("Status"),
        pl.col("n").alias(f"Observations ({metric.observations})"),
        pl.col("note").fill_null("").alias("Note"),
    )


def trend_table(series: pl.DataFrame, metric: Metric, notes: pl.DataFrame | None = None) -> pl.DataFrame:
    """The trend as a table: each week's value with its numerator, denominator and n, and
    the notes on the record dated in the week."""
    table = series.select(
        pl.col("period").alias("Week"), pl.col("period_start").alias("Starts"), pl.col("value").round(metric.decimals).alias(axis_title(metric)),
        pl.col("numerator").alias("Numerator"), pl.col("denominator").alias("Denominator"), pl.col("n").alias("Observations"),
        pl.col("note").fill_null("").alias("Note"),
    )
    if notes is None or notes.height == 0:
        return table
    by_week = (notes.sort("noted_on")
               .with_columns((pl.col("noted_on") - pl.duration(days=pl.col("noted_on").dt.weekday() - 1)).alias("Starts"),
                             pl.format("{}: {}", pl.col("noted_on").dt.strftime("%d %b"), pl.col("note")).alias("said"))
               .group_by("Starts", maintain_order=True).agg(pl.col("said").str.join("; ").alias("On the record")))
    return table.join(by_week, on="Starts", how="left").with_columns(pl.col("On the record").fill_null(""))


def notes_sentence(notes: pl.DataFrame) -> str:
    """'On the record: 5 Oct 2026, “New case system went live”.' (the first three, oldest
    first, and how many more), or '' when there is none."""
    if notes.height == 0:
        return ""
    said = [f"{row['noted_on']:%d %b %Y}, \u201c{row['note']}\u201d" for row in notes.sort("noted_on").head(3).iter_rows(named=True)]
    more = f" and {notes.height - 3:,} more" if notes.height > 3 else ""
    return f"On the record ({notes.height:,} {'note' if notes.height == 1 else 'notes'}, marked on the chart): {'; '.join(said)}{more}."


def record_display(record: pl.DataFrame) -> pl.DataFrame:
    """The scope's record as a person reads it: days as dates, the time written to the minute."""
    return record.with_columns(pl.col("Day").cast(pl.Date).dt.strftime("%Y-%m-%d"), pl.col("Written (UTC)").dt.strftime("%Y-%m-%d %H:%M"))


def peer_members(table: pl.DataFrame) -> list[str]:
    """The peers one can go down to (a member without a key, such as 'not recorded', not)."""
    return table.filter(pl.col("member").is_not_null())["member"].to_list()


def histogram(bins: pl.DataFrame, *, title: str, x_title: str, y_title: str) -> go.Figure:
    """A distribution from its bins (metrics.drilldown.histogram_bins): the chart draws
    exactly the table's counts; an open-ended last bin is marked "and over"."""
    figure = charts.base(title, 320)
    if bins.height:
        width = float(bins["bin_from"][1] - bins["bin_from"][0]) if bins.height > 1 else float(bins["bin_to"][0] or 1.0)
        labels = [
            f"{start:,.4g} and over" if end is None else f"{start:,.4g} to {end:,.4g}"
            for start, end in zip(bins["bin_from"], bins["bin_to"], strict=True)
        ]
        figure.add_bar(
            x=[start + width / 2 for start in bins["bin_from"]], y=bins["count"].to_list(), width=[width] * bins.height,
            marker_color=charts.PALETTE[0], marker_line={"width": 0.5, "color": "rgba(255,255,255,0.6)"},
            customdata=labels, hovertemplate="%{customdata}: %{y:,}<extra></extra>",
        )
        if bins["bin_to"][-1] is None:
            figure.add_annotation(
                x=float(bins["bin_from"][-1]) + width / 2, y=int(bins["count"][-1]), text="and over", showarrow=False, yshift=10, font={"size": 11},
            )
    figure.update_xaxes(title=x_title, rangemode="tozero")
    figure.update_yaxes(title=y_title, rangemode="tozero")
    figure.update_layout(hovermode="closest", bargap=0, showlegend=False)
    return figure


def bins_table(bins: pl.DataFrame, *, unit: str, what: str) -> pl.DataFrame:
    """The histogram as a table; an open-ended last bin has no upper bound."""
    return bins.select(
        pl.col("bin_from").alias(f"From ({unit})"),
        pl.col("bin_to").alias(f"To, not including ({unit}; empty: and over)"),
        pl.col("count").alias(what.capitalize()),
    )


def breach_words(series: pl.DataFrame, metric: Metric, target: float | None, week: str, *, partial: bool, weeks: int, where: str) -> str | None:
    """The sustained breach (metrics.breaches) the chosen week is in or ended, read from the
    trend's complete weeks up to it; None when there is none."""
    monday = parse_week(week)
    last = monday - timedelta(weeks=1) if partial else monday
    judged = series.filter(pl.col("period_start") <= last).select(
        pl.lit(where).alias("scope"), pl.lit(metric.name).alias("kpi"), "period", "period_start", "value"
    )
    found = find_breaches(judged, lambda _scope, _kpi: target, weeks=weeks)
    current = found.filter(pl.col("ongoing") | (pl.col("ended_week") == week))
    if current.height == 0:
        return None
    sentence = breach_sentence(current.row(-1, named=True), where, week=week)
    return f"A sustained breach: {sentence}"


def count_table(shown: pl.DataFrame, header: str) -> pl.DataFrame:
    """The rows as shown (``display_rows``) counted by one of their columns, most first:
    the value, how many rows and their share of all (%, one decimal)."""
    total = shown.height
    counts = shown.group_by(header).len("Rows").with_columns(pl.col(header).cast(pl.String).fill_null("(none)"))
    return counts.with_columns((pl.col("Rows") * 100 / max(total, 1)).round(1).alias("Share (%)")).sort(["Rows", header], descending=[True, False])


def count_summary(counts: pl.DataFrame, header: str, observations: str) -> str:
    """One sentence over a count table: where most of the rows are."""
    if counts.height == 0:
        return f"No {observations} to count."
    total = int(counts["Rows"].sum())
    top = counts.row(0, named=True)
    more = f"; then {counts[header][1]} ({int(counts['Rows'][1]):,})" if counts.height > 1 else ""
    return (
        f"{total:,} {observations} by {header.lower()}: most in {top[header]} ({int(top['Rows']):,}, {top['Share (%)']:.1f}%){more}; "
        f"{counts.height:,} different values."
    )
