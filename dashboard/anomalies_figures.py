"""Figures of the Anomalies page: pure functions from frames to Plotly figures.

A flag is drawn as a marker whose shape says its direction (triangle up: rose; triangle
down: fell; diamond: a combination of KPIs) with a text label, never by colour alone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import plotly.graph_objects as go
import polars as pl

from anomalies.links import drilldown_url
from dashboard.charts import PALETTE, base
from metrics.formatting import axis_title, number
from metrics.registry import METRICS, Metric
from notify.subscriptions import shown_address

FLAG_STATUS_WORDS = {"open": "Open", "acknowledged": "Acknowledged", "known": "Known cause"}
FLAG_STATUS_BADGE = {"open": "red", "acknowledged": "amber", "known": "grey"}  # components.status_badge colours
KIND_WORDS = {"total": "Total", "department": "Department", "service": "Service", "office": "Office", "channel": "Channel"}
RULE_WORDS = {"anomaly": "Anomalies", "target_breach": "Target breaches", "weekly_digest": "Weekly digest"}
ACKNOWLEDGE_WORDS = {"acknowledged": "Seen, looking into it", "known": "Known cause", "open": "Reopen"}
MEASURE_WORDS = {k: m.label for k, m in METRICS.items()}
TIMELINE_LABELS = 15
BELOW = {"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0}
SYMBOLS = {"up": "triangle-up", "down": "triangle-down", "combination": "diamond"}
DETECTOR_WORDS = {
    "robust_z": "far from expected",
    "forecast_interval": "outside the interval for days running",
    "sustained_shift": "a lasting shift",
    "level_shift": "a step from the level before it",
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
    if metric.unit in ("count", "%", "£", "days", "minutes", "seconds") and not metric.can_be_negative:
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
    figure.update_yaxes(title=axis_title(metric), rangemode="normal" if metric.can_be_negative else "tozero")
    if metric.unit == "%":
        figure.update_yaxes(range=[0, 100])
    figure.update_xaxes(title=None)
    figure.update_layout(hovermode="x unified", legend=BELOW, margin={"t": 50})
    return figure


def timeline_figure(flags: pl.DataFrame, scope_label: dict[str, str], *, title: str, period: tuple[date, date] | None = None) -> go.Figure:
    """Every flag on a timeline, one row per scope: shape by direction, text by KPI; the
    axis covers ``period`` (the filters' period) when given, not only the flags' days."""
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
        if period is not None:
            first, last = min(first, period[0]), max(last, period[1])
        span = max((last - first).days, 14)
        figure.update_xaxes(range=[first - timedelta(days=span * 0.04 + 2), last + timedelta(days=span * 0.22 + 4)])
    figure.update_xaxes(title=None)
    figure.update_layout(hovermode="closest")
    return figure


def period_word(grain: str) -> str:
    return "daily" if grain == "day" else "weekly"


def run_text(run: dict) -> str:
    return (
        f"Flags from the detection run of {run['finished_at']:%d %b %Y %H:%M} UTC on data from {run['data_first']:%d %b %Y} "
        f"to {run['data_end']:%d %b %Y} ({run['series_count']:,} series watched). Run `python -m anomalies detect` to refresh."
    )


def flags_summary(shown: pl.DataFrame, grain: str, still_open: int) -> str:
    """How many flags, how many open, and the latest in words (Markdown)."""
    newest = shown.row(0, named=True)
    return (
        f"**{shown.height} flag{'s' if shown.height != 1 else ''} on {period_word(grain)} series, "
        f"{still_open} still open.** The latest, {newest['first_day']:%d %b %Y} ({newest['scope_label']}): {newest['explanation']}"
    )


def timeline_frame(shown: pl.DataFrame) -> pl.DataFrame:
    return shown.select("first_day", "scope", "scope_label", "kpi", "direction", "detector", "explanation", "status")


def timeline_summary(shown: pl.DataFrame) -> str:
    return f"{shown.height} flags from {shown['first_day'].min():%d %b %Y} to {shown['first_day'].max():%d %b %Y} across {shown['scope'].n_unique()} scopes."


def timeline_table(timeline: pl.DataFrame) -> pl.DataFrame:
    return timeline.select(
        pl.col("first_day").alias("First day"), pl.col("scope_label").alias("Scope"),
        pl.col("kpi").replace_strict(MEASURE_WORDS).alias("Measure"),
        pl.col("direction").alias("Direction"), pl.col("explanation").alias("Explanation"), pl.col("status").alias("Status"),
    )


def flag_title(flag: dict, metric: Metric) -> str:
    moved = "an unusual combination" if flag["detector"] == "isolation_forest" else ("rose" if flag["direction"] == "up" else "fell")
    return f"{flag['scope_label']}: {metric.label} {moved}, {flag['first_day']:%A %d %B %Y}"


def acknowledged_text(flag: dict) -> str | None:
    """Who acknowledged the flag, when, and their note; None while it is open."""
    if flag["status"] == "open":
        return None
    return f"{FLAG_STATUS_WORDS[flag['status']]} by {flag['acked_by']} on {flag['acked_at']:%d %b %Y %H:%M} UTC" + (f": {flag['note']}" if flag["note"] else "")


def flag_facts(flag: dict, metric: Metric, usual_from: float) -> str:
    """How the flag was found, its value against the expected range, its days, and (for a
    combination) the measures involved, as a Markdown list."""
    period = "day" if flag["grain"] == "day" else "week"
    combination = flag["detector"] == "isolation_forest"
    lines = [
        f"- How it was found: {DETECTOR_WORDS[flag['detector']]} "
        + (f"(isolation score {flag['score']:.2f})" if combination else f"({abs(flag['score']):.1f} times the usual spread)"),
        f"- Value {number(flag['value'], metric)}; expected {number(flag['expected'], metric)}, usual range "
        f"{number(usual_from, metric)} to {number(flag['upper_bound'], metric)}",
        f"- First {period} {flag['first_day']:%d %b %Y}, raised on {flag['detected_on']:%d %b %Y}, still outside on {flag['last_day']:%d %b %Y}",
    ]
    if combination:
        lines.append("- Measures involved: " + ", ".join(METRICS[k].label for k in flag["kpis"].split(",")))
    return "\n".join(lines)


def series_title(flag: dict, metric: Metric) -> str:
    return f"{metric.label} ({period_word(flag['grain'])}) and its expected range"


def series_summary(flag: dict, metric: Metric, scores: pl.DataFrame, outside: int) -> str:
    periods = "days" if flag["grain"] == "day" else "weeks"
    return f"{metric.label} against its expected range: {outside} of {scores.height} {periods} shown fell outside it."


def series_table(scores: pl.DataFrame) -> pl.DataFrame:
    return scores.select(
        pl.col("period_start").alias("Period start"), pl.col("value").alias("Value"), pl.col("expected").alias("Expected"),
        pl.col("lower_bound").alias("Range from"), pl.col("upper_bound").alias("Range to"), pl.col("z").round(2).alias("Score"),
    )


def picker_table(ordered: pl.DataFrame) -> pl.DataFrame:
    """The flags in triage order as a person reads them, one row to choose each: status,
    severity (a number of spreads, empty for a combination), measure, scope, direction in
    words, first day, last day outside. Severity and the days keep their types, so that a
    click on a heading sorts them as numbers and dates (the page formats them)."""
    return pl.DataFrame(
        [
            {
                "Status": FLAG_STATUS_WORDS[row["status"]],
                "Severity": None if row["severity"] is None else round(row["severity"], 1),
                "Measure": METRICS[row["kpi"]].label,
                "Scope": row["scope_label"],
                "Moved": "▲ rose" if row["direction"] == "up" else ("▼ fell" if row["direction"] == "down" else "◆ combination"),
                "First day": row["first_day"],
                "Outside until": row["last_day"],
                "Value": number(row["value"], METRICS[row["kpi"]]),
                "Expected": number(row["expected"], METRICS[row["kpi"]]),
            }
            for row in ordered.iter_rows(named=True)
        ],
        schema={"Status": pl.String, "Severity": pl.Float64, "Measure": pl.String, "Scope": pl.String, "Moved": pl.String,
                "First day": pl.Date, "Outside until": pl.Date, "Value": pl.String, "Expected": pl.String},
    )


def flags_table(shown: pl.DataFrame) -> pl.DataFrame:
    """Every flag shown, with a link into the drill-down at its scope and week."""
    return shown.select(
        pl.col("first_day").alias("First day"), pl.col("scope_label").alias("Scope"),
        pl.col("kpi").replace_strict(MEASURE_WORDS).alias("Measure"),
        pl.col("direction").alias("Direction"), pl.col("value").round(2).alias("Value"), pl.col("expected").round(2).alias("Expected"),
        pl.col("explanation").alias("Explanation"), pl.col("status").replace_strict(FLAG_STATUS_WORDS).alias("Status"),
        pl.col("acked_by").alias("By"), pl.col("note").alias("Note"),
        pl.Series("Drill-down", [drilldown_url(row) for row in shown.iter_rows(named=True)]),
    )


def subscriptions_table(subscribed: pl.DataFrame, scopes: list[str]) -> pl.DataFrame:
    """The subscriptions as a table; ``scopes``: each row's scope in words."""
    return subscribed.select(
        pl.col("subscription_id").alias("Id"), pl.col("subscriber").alias("Who"), pl.col("rule").replace_strict(RULE_WORDS).alias("Rule"),
        pl.col("channel").alias("Channel"),
        pl.Series("Address", [shown_address(channel, address) for channel, address in zip(subscribed["channel"], subscribed["address"], strict=True)], dtype=pl.String),
        pl.Series("Scope", scopes),
        pl.col("kpis").fill_null("every measure").alias("Measures"), pl.when(pl.col("active")).then(pl.lit("Active")).otherwise(pl.lit("Paused")).alias("State"),
    )


def sent_table(sent: pl.DataFrame) -> pl.DataFrame:
    return sent.select(
        pl.col("last_attempt_at").alias("Last attempt (UTC)"), pl.col("subscriber").alias("Who"), pl.col("rule").replace_strict(RULE_WORDS).alias("Rule"),
        pl.col("subject").alias("Subject"), pl.col("status").alias("Status"), pl.col("attempts").alias("Attempts"), pl.col("error").alias("Error"),
    )


BREACHES_BESIDE_FLAGS = (
    "A flag is a surprise against the measure's own recent past, so a failure that lasts stops being one. A sustained "
    "breach is judged against the target instead: a department or service below target for several complete weeks "
    "running stays listed here until a week back on target (the Weekly scorecard's 'For how long' has the same list "
    "for one scope)."
)


def breaches_summary(breaches: pl.DataFrame, week: str, *, narrowed: bool) -> str:
    """One sentence: how many sustained breaches are going in the last complete week."""
    if not week:
        return "There is no data yet."
    where = " for this scope and measure" if narrowed else " in the departments and services you may see"
    if breaches.height == 0:
        return f"No sustained target breach is going in {week}{where}."
    going = breaches.filter(pl.col("ongoing")).height
    ended = breaches.height - going
    words = f"{going:,} sustained target breach{'es' if going != 1 else ''} going in {week}{where}"
    return words + (f"; {ended:,} ended that week." if ended else ".")


def no_run_words(jobs: dict[str, datetime | None]) -> tuple[str, str]:
    """What the page says with no stored detection: that one is running (or the forecast
    that comes before it under ``make run``), else how to make one."""
    if jobs.get("detect"):
        return (f"Anomaly detection is running now (started {jobs['detect']:%H:%M} UTC).",
                "The flags appear here when it ends, about a minute at scale 1: reload the page then.")
    if jobs.get("forecast"):
        return (f"Anomaly detection has not run yet: the demand forecast is running now (started {jobs['forecast']:%H:%M} UTC) "
                "and detection follows it.", "Reload the page in two or three minutes.")
    return ("No anomaly detection has been stored yet.",
            "Run `python -m anomalies detect` (it reads the database, flags every KPI series and stores the flags for this page).")


def rerun_words(jobs: dict[str, datetime | None]) -> str | None:
    """A line while a new detection runs beside the stored one."""
    if jobs.get("detect"):
        return f"A new detection run started at {jobs['detect']:%H:%M} UTC and is running now; these flags are the last stored."
    return None

