"""Figures, tables and sentences of the queues page: pure functions of the frames that
metrics/queues.py and the metric engine return."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import NARROW_HEATMAP_CSS, base, cell_labels, metric_lines, trend_summary, trend_table
from metrics.formatting import axis_title, number
from metrics.queues import QueueKind, QueueScope, metric_of
from metrics.registry import METRICS
from metrics.status import STATUS_ICONS, STATUS_WORDS, status
from metrics.targets import Targets

WAIT_STATISTICS = {"median": "Median wait", "p90": "90th-percentile wait"}
WAIT_CHOICES = {"median": "Median", "p90": "90th percentile"}  # the select box's shorter words
UNIT_SHORT = {"seconds": "s", "minutes": "min"}


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def hour_span(hour: int) -> str:
    return f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"


def open_cells(profile: pl.DataFrame) -> pl.DataFrame:
    """The weekday-by-hour cells worth drawing: the weekdays with any arrival, and the
    hours from the earliest to the latest with any arrival."""
    busy = profile.filter(pl.col("arrivals") > 0)
    if busy.height == 0:
        return profile.head(0)
    first, last = busy["hour"].min(), busy["hour"].max()
    days = busy["weekday"].unique().to_list()
    return profile.filter(pl.col("weekday").is_in(days), pl.col("hour").is_between(first, last)).sort("weekday", "hour")


def closed_days(profile: pl.DataFrame) -> list[str]:
    """Weekdays without a single arrival in the window."""
    busy = set(profile.filter(pl.col("arrivals") > 0)["weekday"].to_list())
    return profile.filter(~pl.col("weekday").is_in(list(busy))).unique("weekday", maintain_order=True).sort("weekday")["day"].to_list()


def cell_text(value: float | None, decimals: int) -> str:
    """The number written in a heatmap cell: whole numbers from 10 up, so cells stay legible."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.{decimals}f}"


def heatmap(cells: pl.DataFrame, value: str, *, title: str, colour_title: str, decimals: int, unit: str = "", kind: QueueKind) -> go.Figure:
    """A weekday-by-hour heatmap of ``value`` with the number written in each cell (the
    colour is never the only carrier). Empty cells stay blank: an hour in which nothing
    arrived in the whole window (closed), or a wait from too few answered."""
    days = cells.unique("weekday", maintain_order=True).sort("weekday")["day"].to_list()
    hours = sorted(cells["hour"].unique().to_list())
    lookup = {(row["day"], row["hour"]): row for row in cells.iter_rows(named=True)}
    z, text, custom = [], [], []
    for day in days:
        z_row, text_row, custom_row = [], [], []
        for hour in hours:
            row = lookup.get((day, hour), {})
            cell = row.get(value) if row.get("arrivals") else None  # closed all window: blank, not 0
            z_row.append(cell)
            text_row.append(cell_text(cell, decimals))
            custom_row.append([
                hour_span(hour), row.get("arrivals", 0), row.get("clock_hours"), row.get("answered", 0),
                row.get("note") or "",
            ])
        z.append(z_row)
        text.append(text_row)
        custom.append(custom_row)
    figure = base(title, height=max(280, 44 * len(days) + 150))
    noun = kind.contact + "s"
    present = [value for row in z for value in row if value is not None]
    low, high = (min(present), max(present)) if present else (0.0, 1.0)
    figure.add_heatmap(
        z=z, x=[hour_label(h) for h in hours], y=days, zmin=low, zmax=high,
        customdata=custom, colorscale="Cividis", xgap=1, ygap=1, hoverongaps=False,
        colorbar={"title": {"text": colour_title, "side": "right"}, "thickness": 12, "len": 0.9},
        hovertemplate=(
            "%{y} %{customdata[0]}: %{z:,." + str(decimals) + "f}" + unit
            + f"<br>%{{customdata[1]:,}} {noun} over %{{customdata[2]}} such hours, %{{customdata[3]:,}} answered"
            + "<br>%{customdata[4]}<extra></extra>"
        ),
    )
    cell_labels(figure, z, [hour_label(h) for h in hours], days, text, colorscale="Cividis", zmin=low, zmax=high)
    figure.update_layout(hovermode="closest", margin={"l": 10, "r": 10, "t": 50, "b": 10})
    figure.update_yaxes(autorange="reversed", title=None, showgrid=False)
    figure.update_xaxes(title="Hour of arrival (local time)", showgrid=False, tickangle=-45)
    return figure


def arrivals_heatmap(cells: pl.DataFrame, kind: QueueKind) -> go.Figure:
    """Mean arrivals an hour, by weekday and hour."""
    noun = f"{kind.contact}s"
    return heatmap(cells, "mean_arrivals", title=f"Mean {noun} an hour", colour_title=f"{noun} an hour", decimals=1, kind=kind)


def wait_heatmap(cells: pl.DataFrame, statistic: str, kind: QueueKind) -> go.Figure:
    """The median or 90th-percentile wait, by weekday and hour (minutes to a decimal,
    seconds whole)."""
    unit = UNIT_SHORT[kind.wait_unit]
    return heatmap(
        cells, f"wait_{statistic}", title=f"{WAIT_STATISTICS[statistic]} ({unit})", colour_title=unit,
        decimals=1 if kind.wait_unit == "minutes" else 0, unit=f" {unit}", kind=kind,
    )


def channel_caption(kind: QueueKind) -> str:
    """Which contacts the page reads for this kind of office, and that the two queues never mix."""
    phone = kind.channel == "phone"
    return (
        f"{'Calls' if phone else 'Visits'} only ({kind.channel.replace('_', ' ')} channel): "
        f"{'contact centres answer calls' if phone else 'service centres see visitors'}, and the two queues are never added together. "
        "Weeks are ISO weeks (Monday to Sunday) in local time."
    )


def heatmap_caption(kind: QueueKind) -> str:
    noun = f"{kind.contact}s"
    return (
        f"Mean {noun} an hour: the {noun} that arrived in that hour of that weekday, divided by how often the hour occurred in the "
        "window (so the hour the clocks skip or repeat is counted right); an hour in which not one arrived in the whole window (the "
        "office was closed) is left blank. Waits are shown only where at least 5 were answered; blank cells have fewer. Local time "
        "of each office."
    )


def arrivals_summary(profile: pl.DataFrame, kind: QueueKind) -> str:
    cells = open_cells(profile)
    if cells.height == 0:
        return f"No {kind.contact}s arrived in this window."
    busiest = cells.sort("mean_arrivals", descending=True).row(0, named=True)
    total = int(profile["arrivals"].sum())
    closed = closed_days(profile)
    closed_text = f"; none arrive on {', '.join(closed)}" if closed else ""
    return (
        f"{total:,} {kind.contact}s arrived; the busiest hour is {busiest['day']} {hour_span(busiest['hour'])}, "
        f"with {busiest['mean_arrivals']:,.1f} {kind.contact}s an hour on average{closed_text}."
    )


def wait_summary(profile: pl.DataFrame, statistic: str, kind: QueueKind) -> str:
    column = f"wait_{statistic}"
    cells = open_cells(profile).filter(pl.col(column).is_not_null())
    if cells.height == 0:
        return f"Too few answered {kind.contact}s to show waits by hour."
    longest = cells.sort(column, descending=True).row(0, named=True)
    shortest = cells.sort(column).row(0, named=True)
    unit = UNIT_SHORT[kind.wait_unit]
    what = WAIT_STATISTICS[statistic].lower()
    return (
        f"The {what} is longest on {longest['day']} {hour_span(longest['hour'])} ({longest[column]:,.1f} {unit}) "
        f"and shortest on {shortest['day']} {hour_span(shortest['hour'])} ({shortest[column]:,.1f} {unit})."
    )


def profile_table(profile: pl.DataFrame, kind: QueueKind) -> pl.DataFrame:
    """The heatmaps' numbers, one row per open weekday and hour."""
    unit = UNIT_SHORT[kind.wait_unit]
    return open_cells(profile).select(
        pl.col("day").alias("Weekday"),
        pl.col("hour").map_elements(hour_span, return_dtype=pl.String).alias("Hour (local)"),
        pl.col("arrivals").alias(f"{kind.contact.capitalize()}s"),
        pl.col("clock_hours").alias("Hours in window"),
        pl.col("mean_arrivals").round(2).alias(f"{kind.contact.capitalize()}s an hour (mean)"),
        pl.col("answered").alias("Answered"),
        pl.col("wait_median").round(1).alias(f"Median wait ({unit})"),
        pl.col("wait_p90").round(1).alias(f"90th-percentile wait ({unit})"),
        pl.col("note").alias("Note"),
    )


# ---------------------------------------------------------------------- over time

# The charts over time: (title, metrics drawn together).
TREND_CHARTS = {
    "contact_centre": (
        ("Service level (20 s)", ("service_level",)),
        ("Speed of answer", ("asa",)),
        ("Call abandonment", ("abandonment_rate",)),
        ("Handle time", ("aht",)),
    ),
    "service_centre": (
        ("Wait in person", ("wait_time_median", "wait_time_p90")),
        ("Seen within 15 min", ("wait_within_target",)),
        ("Left unserved", ("visit_abandonment_rate",)),
        ("Visit handle time", ("visit_handle_time",)),
    ),
}
# Short column titles for the comparison table (the unit once, in brackets).
SHORT_LABELS = {
    "service_level": "Service level 20 s (%)",
    "asa": "Speed of answer (s)",
    "abandonment_rate": "Abandoned (%)",
    "aht": "Handle time (min)",
    "wait_time_median": "Median wait (min)",
    "wait_time_p90": "90th pct wait (min)",
    "wait_within_target": "Seen in 15 min (%)",
    "visit_abandonment_rate": "Left unserved (%)",
    "visit_handle_time": "Handle time (min)",
}


def office_target(kpi: str, targets: Targets, office_id: str | None = None) -> float | None:
    """A queue metric's target, an office's own where it has one; the visit metrics
    computed in metrics/queues.py have none."""
    if kpi not in METRICS:
        return None
    value, _ = targets.for_scope(kpi, office_id=office_id)
    return value


def target_of(kpi: str, scope: QueueScope, targets: Targets) -> float | None:
    """The target of a queue metric in a scope: a single office's own where it has one."""
    return office_target(kpi, targets, None if scope.is_group else scope.office_ids[0])


def trend_charts(trend: pl.DataFrame, scope: QueueScope, targets: Targets) -> list[tuple[str, go.Figure, str, pl.DataFrame]]:
    """The charts over time of the scope's kind: (title, figure, summary, table) each. A
    chart of one measure draws its target; one of several (the two waits) draws none."""
    charts = []
    for title, kpis in TREND_CHARTS[scope.kind.kind]:
        metrics = [metric_of(k) for k in kpis]
        target_values = {k: target_of(k, scope, targets) for k in kpis}
        target = next((t for t in target_values.values() if t is not None), None) if len(kpis) == 1 else None
        y_title = f"Wait ({metrics[0].unit})" if len(kpis) > 1 else axis_title(metrics[0])
        figure = metric_lines(trend, metrics, title=f"{title}, by week", target=target, y_title=y_title, height=320)
        charts.append((title, figure, trend_summary(trend, kpis, target_values), trend_table(trend, kpis)))
    return charts


# ---------------------------------------------------------------------- offices compared


def comparison(by_office: pl.DataFrame, overall: pl.DataFrame, scope: QueueScope, names: dict[str, str], targets: Targets) -> pl.DataFrame:
    """One row per office of the scope's kind for one week, then the kind's overall row:
    each metric's value, the contacts it counts, and the metrics off target in words."""
    kind = scope.kind
    rows = []
    frames = [(office, part) for office, part in ((str(p["office_id"][0]), p) for p in by_office.partition_by("office_id", maintain_order=True))]
    frames.sort(key=lambda item: names.get(item[0], item[0]))
    frames.append((None, overall))
    count_kpi = "service_level" if kind.kind == "contact_centre" else "visit_abandonment_rate"
    for office, part in frames:
        record: dict[str, object] = {
            "Office": f"All {kind.plural}" if office is None else names.get(office, office) + (" (selected)" if office == scope.key else ""),
        }
        counted = part.filter(pl.col("kpi") == count_kpi)
        record[f"{kind.contact.capitalize()}s"] = int(counted["n"].item()) if counted.height else 0
        off: list[str] = []
        for kpi in kind.metrics:
            metric = metric_of(kpi)
            cell = part.filter(pl.col("kpi") == kpi)
            value = cell["value"].item() if cell.height else None
            record[metric.name] = value
            target = office_target(kpi, targets, office)
            state = status(value, target, metric.better)
            if state in ("red", "amber"):
                off.append(f"{STATUS_ICONS[state]} {metric.label} {STATUS_WORDS[state].lower()}")
        record["Against target"] = "; ".join(off) if off else "✔ all on target or no target"
        rows.append(record)
    return pl.DataFrame(rows)


def comparison_columns(kind: QueueKind, targets: Targets) -> dict[str, dict]:
    """Column labels, units and targets for the comparison table (Streamlit column_config
    arguments; the page turns them into NumberColumns)."""
    columns = {}
    for kpi in kind.metrics:
        metric = metric_of(kpi)
        target = office_target(kpi, targets)
        columns[kpi] = {
            "label": SHORT_LABELS[kpi],
            "format": f"%.{metric.decimals}f",
            "help": metric.description + (f" Target: {number(target, metric)}." if target is not None else " No target."),
        }
    return columns


def headline(values: pl.DataFrame, scope: QueueScope, targets: Targets, week: str) -> list[str]:
    """One sentence per metric for the last week of the window, with status in words."""
    lines = []
    for kpi in scope.kind.metrics:
        metric = metric_of(kpi)
        cell = values.filter(pl.col("kpi") == kpi, pl.col("period") == week)
        value = cell["value"].item() if cell.height else None
        note = cell["note"].item() if cell.height else "no data"
        target = target_of(kpi, scope, targets)
        if value is None:
            lines.append(f"{metric.label}: no value ({note}).")
            continue
        state = status(value, target, metric.better)
        judged = f", {STATUS_ICONS[state]} {STATUS_WORDS[state].lower()} (target {number(target, metric)})" if target is not None else ""
        lines.append(f"{metric.label}: **{number(value, metric)}**{judged}.")
    return lines


def rules_caption(rule_counts: dict[str, int]) -> str | None:
    """The calls a rule left out of the window, if any."""
    if not rule_counts.get("short_abandon_5s"):
        return None
    return f"Left out by rule in this window: {rule_counts['short_abandon_5s']:,} calls abandoned within 5 seconds (not counted as offered)."


NARROW_HEATMAP_NOTE = (
    f"<style>{NARROW_HEATMAP_CSS}</style>"
    '<p class="narrow-note">Each cell\'s number is in the table of the numbers behind the two heatmaps: '
    "the cells are too narrow for it on this screen.</p>"
)
