"""Published series (metrics/published.py) as sentences, tables and a trend chart: pure
builders, frame in, text, table or figure out. Figures keep the source's own grain: a
month is shown as "Feb 2019", a quarter as "2019 Q1", a financial year as "2018-19"."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import plotly.graph_objects as go
import polars as pl

from anomalies import links
from dashboard import charts
from dashboard.badges import status_badge
from dashboard.text import html_text
from metrics.published import DIMENSION_WORDS, GRAIN_WORDS
from metrics.status import STATUS_ICONS, status_word

PER_GRAIN = {"week": "per week", "month": "per month", "quarter": "per quarter", "financial_year": "per financial year"}
# How a change on the previous period or last year reads for a series that has a direction.
_BETTER = {"higher": 1, "lower": -1}


def period_label(start: date | None, grain: str) -> str:
    """'Feb 2019', '2019 Q1', '2018-19', 'week of 04 Mar 2019'; '–' for none."""
    if start is None:
        return "–"
    if grain == "month":
        return f"{start:%b %Y}"
    if grain == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if grain == "financial_year":
        return f"{start.year}-{(start.year + 1) % 100:02d}"
    return f"week of {start:%d %b %Y}"


def value_text(value: float | None, unit: str) -> str:
    """'84.23%' (a ratio in %), '£38.17', '1,234' (a count); '–' for none."""
    if value is None:
        return "–"
    if unit == "%":
        return f"{100 * value:,.2f}%"
    if unit == "£":
        return f"£{value:,.2f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f} {unit}"


def change_text(now: float | None, then: float | None, unit: str, direction: str) -> str:
    """'−0.89 pts, worse' (% in percentage points), '+1,234, better'; '–' without both."""
    if now is None or then is None:
        return "–"
    delta = now - then
    shown = 100 * delta if unit == "%" else delta
    decimals = 0 if unit == "count" else 2
    if round(abs(shown), decimals) == 0:
        return "no change"
    sign = "+" if delta > 0 else "−"
    amount = f"{abs(shown):,.{decimals}f}" + (" pts" if unit == "%" else "" if unit == "count" else f" {unit}")
    if unit == "£":
        amount = f"£{abs(shown):,.2f}"
    better = _BETTER.get(direction)
    word = "" if better is None else (", better" if delta * better > 0 else ", worse")
    return f"{sign}{amount}{word}"


def status_text(state: str, value: float | None, target: float | None) -> str:
    """The status as icon and word (never colour alone): '✖ Off target'."""
    return f"{STATUS_ICONS[state]} {status_word(state, value, target)}"


def scorecard_table(rows: pl.DataFrame) -> pl.DataFrame:
    """The published series of a scope at their own grain, in words, one row each."""
    out = []
    for row in rows.iter_rows(named=True):
        unit, direction, grain = row["unit"], row["direction"], row["grain"]
        out.append({
            "Series": row["label"],
            "Published": PER_GRAIN[grain],
            "Latest period": period_label(row["period_start"], grain),
            "Value": value_text(row["value"], unit),
            "Status": status_text(row["status"], row["value"], row["target"]),
            "Target": value_text(row["target"], unit),
            "Previous period": period_label(row["previous_start"], grain),
            "Previous value": value_text(row["previous_value"], unit) if row["previous_value"] is not None else "not published",
            "Change on previous": change_text(row["value"], row["previous_value"], unit, direction),
            "Same period last year": period_label(row["last_year_start"], grain),
            "Value last year": value_text(row["last_year_value"], unit) if row["last_year_value"] is not None else "not published",
            "Change on last year": change_text(row["value"], row["last_year_value"], unit, direction),
            "Note": row["note"] or "",
        })
    return pl.DataFrame(out, schema={name: pl.String for name in (
        "Series", "Published", "Latest period", "Value", "Status", "Target", "Previous period", "Previous value",
        "Change on previous", "Same period last year", "Value last year", "Change on last year", "Note")})


def scorecard_csv(rows: pl.DataFrame) -> pl.DataFrame:
    """The same rows with numbers as numbers (ratios as fractions), for the CSV."""
    return rows.select(
        "series", "label", "unit", "grain", "period_start", "period_end", "value", "numerator", "denominator", "target", "status",
        "previous_start", "previous_value", "last_year_start", "last_year_value", "observations", "note",
    )


def sentence(row: dict) -> str:
    """One series in words: 'A&E 4-hour standard, per month: 84.23% in Feb 2019, off
    target (95.00%); Jan 2019 85.06% (−0.83 pts, worse); Feb 2018 85.00% (...).'"""
    unit, grain, direction = row["unit"], row["grain"], row["direction"]
    word = status_word(row["status"], row["value"], row["target"]).lower()
    target = f" ({value_text(row['target'], unit)})" if row["target"] is not None else ""
    head = f"{row['label']}, published {PER_GRAIN[grain]}: {value_text(row['value'], unit)} in {period_label(row['period_start'], grain)}, {word}{target}"
    parts = []
    for start, value, what in ((row["previous_start"], row["previous_value"], "the previous " + GRAIN_WORDS[grain]),
                               (row["last_year_start"], row["last_year_value"], "the same " + GRAIN_WORDS[grain] + " last year")):
        if value is None:
            parts.append(f"{what} ({period_label(start, grain)}) is not published")
        else:
            parts.append(f"{period_label(start, grain)} {value_text(value, unit)} ({change_text(row['value'], value, unit, direction)})")
    note = f" {row['note']}." if row["note"] else ""
    return f"{head}; " + "; ".join(parts) + "." + note


def summary(rows: pl.DataFrame, scope_name: str) -> str:
    """How many published series the scope has, how many are on target."""
    if rows.is_empty():
        return f"{scope_name} has no published series."
    judged = rows.filter(pl.col("status") != "grey")
    met = judged.filter(pl.col("status") == "green").height
    counted = f"; {met} of the {judged.height} with a published target on target" if judged.height else "; none has a published target"
    grains = sorted({PER_GRAIN[g] for g in rows["grain"]})
    return (f"{scope_name} has {rows.height} published series ({', '.join(grains)}){counted}. Each is compared with its own "
            f"previous period and the same period a year before, never with a week it was not published for.")


def drill_href(series: str, where: dict[str, str]) -> str:
    """The published series' drill-down at the scope ``where`` ({column: value})."""
    params = {"series": series, **{links.SCOPE_PARAMS[column]: value for column, value in where.items()}}
    return f"/{links.PAGES['published']}?{urlencode(params)}"


def section_html(rows: pl.DataFrame, where: dict[str, str]) -> str:
    """The series as a list: status badge (icon, word, colour), the sentence, a link to
    its drill-down in this tab. Every text escaped."""
    items = []
    for row in rows.iter_rows(named=True):
        badge = status_badge(row["status"], status_word(row["status"], row["value"], row["target"]))
        link = f'<a href="{html_text(drill_href(row["series"], where))}" target="_self">Trend and breakdown</a>'
        items.append(f"<li>{badge} {html_text(sentence(row))} {link}</li>")
    return '<ul class="kpi-published">' + "".join(items) + "</ul>"


def trend_figure(trend: pl.DataFrame, label: str, unit: str, grain: str) -> go.Figure:
    """The series at its own grain, with the source's target as a dashed line."""
    scale = 100 if unit == "%" else 1
    axis = {"%": "% of the total", "count": "Count", "£": "£"}.get(unit, unit)
    figure = charts.base(f"{label}, {PER_GRAIN[grain]}", 360, legend_above=True)
    figure.add_scatter(
        x=trend["period_start"].to_list(), y=[None if v is None else scale * v for v in trend["value"]], name=label,
        mode="lines+markers", line={"color": charts.PALETTE[0], "width": 2}, marker={"size": 6},
        hovertemplate="%{x|%b %Y}: %{y:,.2f}<extra></extra>",
    )
    targets = trend["target"].drop_nulls().unique()
    if targets.len() == 1:
        charts.target_line(figure, scale * float(targets[0]), f"Target {value_text(float(targets[0]), unit)}")
    figure.update_yaxes(title=axis, rangemode="tozero")
    figure.update_xaxes(title=None)
    # the legend (series and target) under the title, not on it
    figure.update_layout(showlegend=True, margin={"t": charts.LEGEND_MARGIN_TOP}, height=360 + charts.LEGEND_MARGIN_TOP - 40)
    return figure


def trend_summary(trend: pl.DataFrame, label: str, unit: str, grain: str, scope_name: str) -> str:
    """'A&E 4-hour standard for NHS England A&E per month, Apr 2016 to Mar 2019: lowest
    84.23% in Feb 2019, highest 90.98% in Aug 2016; latest 87.39% in Mar 2019.'"""
    present = trend.filter(pl.col("value").is_not_null())
    if present.is_empty():
        return f"{label} for {scope_name} has no figure that can be shown ({trend.height} periods, each with a note)."
    ordered = present.sort("value")
    low, high, last = ordered.row(0, named=True), ordered.row(-1, named=True), present.sort("period_start").row(-1, named=True)
    first = present.sort("period_start").row(0, named=True)
    return (f"{label} for {scope_name}, {PER_GRAIN[grain]}, {period_label(first['period_start'], grain)} to "
            f"{period_label(last['period_start'], grain)}: lowest {value_text(low['value'], unit)} in {period_label(low['period_start'], grain)}, "
            f"highest {value_text(high['value'], unit)} in {period_label(high['period_start'], grain)}; "
            f"latest {value_text(last['value'], unit)} in {period_label(last['period_start'], grain)}.")


def trend_table(trend: pl.DataFrame, unit: str, grain: str) -> pl.DataFrame:
    """The trend's numbers: period, its dates, value, parts, observations, target, note."""
    return pl.DataFrame({
        "Period": [period_label(s, grain) for s in trend["period_start"]],
        "From": trend["period_start"], "To": trend["period_end"],
        "Value": [value_text(v, unit) for v in trend["value"]],
        "Numerator": trend["numerator"], "Denominator": trend["denominator"],
        "Observations": trend["observations"], "Target": [value_text(v, unit) for v in trend["target"]],
        "Note": trend["note"].fill_null(""),
    })


def peers_table(peers: pl.DataFrame, column: str, names: dict[str, str], unit: str) -> pl.DataFrame:
    """The scope's parts (services, offices) in one period, lowest value first."""
    ordered = peers.sort("value", nulls_last=True)
    return pl.DataFrame({
        DIMENSION_WORDS[column].capitalize(): [names.get(v, v) if v is not None else "(not recorded)" for v in ordered[column]],
        "Value": [value_text(v, unit) for v in ordered["value"]],
        "Status": [status_text(s, v, t) for s, v, t in zip(ordered["status"], ordered["value"], ordered["target"], strict=True)],
        "Numerator": ordered["numerator"], "Denominator": ordered["denominator"],
        "Target": [value_text(v, unit) for v in ordered["target"]],
        "Note": ordered["note"].fill_null(""),
    }, schema_overrides={"Numerator": pl.Float64, "Denominator": pl.Float64})


def peers_summary(peers: pl.DataFrame, column: str, names: dict[str, str], unit: str, period: str) -> str:
    """'In Feb 2019, 3 services: lowest Type 1 (76.81%), highest Other (98.46%).'"""
    present = peers.filter(pl.col("value").is_not_null()).sort("value")
    noun = DIMENSION_WORDS[column]
    if present.is_empty():
        return f"In {period}, no {noun} has a figure that can be shown."
    low, high = present.row(0, named=True), present.row(-1, named=True)
    judged = present.filter(pl.col("status") != "grey")
    met = f"; {judged.filter(pl.col('status') == 'green').height} of {judged.height} on target" if judged.height else ""
    if present.height == 1:
        return f"In {period}, one {noun}: {names.get(low[column], low[column])} ({value_text(low['value'], unit)}){met}."
    return (f"In {period}, {present.height} {noun}{'s' if present.height != 1 else ''}: lowest {names.get(low[column], low[column])} "
            f"({value_text(low['value'], unit)}), highest {names.get(high[column], high[column])} ({value_text(high['value'], unit)}){met}.")


def go_down(noun: str) -> str:
    """'Pick an office above to go down a level. '"""
    article = "an" if noun[:1] in "aeiou" else "a"
    return f"Pick {article} {noun} above to go down a level. "
