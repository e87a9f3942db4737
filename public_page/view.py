"""What the public page says about one service, from a release: plain-language sentences,
tables and figures. Pure: a Release in, text and frames out (no Streamlit, no database).

Written for a reading age a citizen can follow: short sentences, everyday words ("half
were decided within 6 days"), every number with its unit and its period, and a hidden
figure said in words ("hidden to protect privacy") rather than as a bare ``*``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import plotly.graph_objects as go
import polars as pl

from public_page.release import SUPPRESSED, Release

HIDDEN_WORDS = "hidden to protect privacy (too few people)"
NO_VALUE = "not measured"
PALETTE = ("#0072B2", "#D55E00", "#009E73")  # Okabe and Ito: safe for colour-blind readers
UNITS = {  # the datapackage's units, said in words
    "days": "days", "minutes": "minutes", "seconds": "seconds",
}


@dataclass(frozen=True)
class Figure:
    """A chart, the sentence that says what it shows, and the same numbers as a table."""

    figure: go.Figure
    summary: str
    table: pl.DataFrame
    name: str


@dataclass(frozen=True)
class Section:
    title: str
    sentences: list[str]
    table: pl.DataFrame | None = None
    figure: Figure | None = None
    tables: list[tuple[str, pl.DataFrame]] = field(default_factory=list)  # (heading, table) after the main one


def long_date(text: str) -> str:
    """'2026-11-30' -> '30 November 2026'."""
    day = date.fromisoformat(text)
    return f"{day.day} {day:%B %Y}"


def month_name(period: str) -> str:
    """'2026-11' -> 'November 2026'."""
    return f"{date.fromisoformat(period + '-01'):%B %Y}"


def shown(text: str | None, unit: str = "") -> str:
    """A published cell in words: '94.4%', '£50.30', '6.1 days', '13,925', or why it is not there."""
    if text is None or text == "":
        return NO_VALUE
    if text == SUPPRESSED:
        return HIDDEN_WORDS
    if unit == "%":
        return f"{text}%"
    if unit == "£":
        return f"£{text}"
    if unit == "count":
        return f"{int(float(text)):,}"
    if unit in UNITS:
        return f"{text} {UNITS[unit]}"
    return text


def usable(text: str | None) -> bool:
    return text not in (None, "", SUPPRESSED)


def _words(frame: pl.DataFrame, columns: list[tuple[str, str, str]]) -> pl.DataFrame:
    """A table of published cells in words: (column, unit, heading) each."""
    return pl.DataFrame(
        {heading: [shown(value, unit) if unit else (value or "") for value in frame[column].to_list()] for column, unit, heading in columns},
        schema={heading: pl.String for _, _, heading in columns},
    )


def services(release: Release) -> pl.DataFrame:
    """The published services: department, service id and name, in name order."""
    return (
        release.frames["service_performance"]
        .select("department_id", "department", "service_id", "service")
        .unique()
        .sort("department", "service")
    )


def _rows(release: Release, dataset: str, service_id: str) -> pl.DataFrame:
    return release.frames[dataset].filter(pl.col("service_id") == service_id)


def _latest(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("period_type") == "3 months")


def _months(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("period_type") == "month").sort("period")


def _period_words(row: dict) -> str:
    return f"between {long_date(row['period_start'])} and {long_date(row['period_end'])}"


def how_long(release: Release, service_id: str) -> Section:
    """'How long it takes': of applications decided in the last 3 months, half within X
    days and 9 in 10 within Y; the standard and the share that met it; by office; 12 months."""
    rows = _rows(release, "processing_times", service_id)
    latest = _latest(rows)
    overall = latest.filter(pl.col("office_id") == "all")
    if overall.is_empty():
        return Section("How long it takes", ["No applications to this service were decided in the period published."])
    row = overall.row(0, named=True)
    sentences = [f"These figures are for applications decided {_period_words(row)}."]
    if usable(row["applications_decided"]):
        sentences.append(f"{shown(row['applications_decided'], 'count')} applications were decided.")
    if usable(row["half_within_days"]) and usable(row["nine_in_ten_within_days"]):
        sentences.append(f"Half were decided within {shown(row['half_within_days'], 'days')}.")
        sentences.append(f"9 in 10 were decided within {shown(row['nine_in_ten_within_days'], 'days')}.")
    else:
        sentences.append(f"How long they took is {HIDDEN_WORDS}.")
    if usable(row["service_standard_days"]):
        standard = f"Our standard is to decide an application within {shown(row['service_standard_days'], 'days')}."
        if usable(row["met_standard"]):
            standard += f" {shown(row['met_standard'], '%')} of applications met it."
        sentences.append(standard)
    offices = latest.filter(pl.col("office_id") != "all")
    table = None
    if offices.height:
        table = _words(offices, [
            ("office", "", "Office"), ("applications_decided", "count", "Applications decided"),
            ("half_within_days", "days", "Half decided within"), ("nine_in_ten_within_days", "days", "9 in 10 decided within"),
            ("met_standard", "%", "Met the standard"),
        ])
    months = _months(rows.filter(pl.col("office_id") == "all"))
    return Section("How long it takes", sentences, table, _standard_trend(months))


def _standard_trend(months: pl.DataFrame) -> Figure | None:
    """The share decided within the standard, month by month (12 months)."""
    points = [(r["period"], float(r["met_standard"])) for r in months.iter_rows(named=True) if usable(r["met_standard"])]
    if not points:
        return None
    labels = [f"{date.fromisoformat(p + '-01'):%b %Y}" for p, _ in points]
    values = [v for _, v in points]
    figure = go.Figure(go.Scatter(
        x=labels, y=values, mode="lines+markers", line={"color": PALETTE[0], "width": 3}, marker={"size": 8},
        name="Met the standard", hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
    ))
    figure.update_layout(
        height=320, margin={"l": 10, "r": 10, "t": 50, "b": 10}, showlegend=False,
        title={"text": "Decided within the standard", "x": 0, "xanchor": "left"},
        yaxis={"title": "Within the standard", "range": [0, 105], "ticksuffix": "%"},
        xaxis={"title": None, "type": "category"},
        font={"family": "Source Sans Pro, sans-serif", "size": 14},
    )
    best = max(points, key=lambda p: p[1])
    worst = min(points, key=lambda p: p[1])
    summary = (
        f"Over the {len(points)} months to {month_name(points[-1][0])}, the share decided within the standard was between "
        f"{worst[1]:.1f}% ({month_name(worst[0])}) and {best[1]:.1f}% ({month_name(best[0])}); "
        f"in {month_name(points[-1][0])} it was {points[-1][1]:.1f}%."
    )
    table = _words(months.with_columns(pl.col("period").map_elements(month_name, return_dtype=pl.String)), [
        ("period", "", "Month"), ("applications_decided", "count", "Applications decided"),
        ("half_within_days", "days", "Half decided within"), ("nine_in_ten_within_days", "days", "9 in 10 decided within"),
        ("met_standard", "%", "Met the standard"),
    ])
    return Figure(figure, summary, table, "met the standard each month")


KPI_WORDS = (  # column, unit, heading, what it means in plain words
    ("cost_per_transaction", "£", "Cost of each application", "What it cost us to handle one application, on average."),
    ("user_satisfaction", "%", "Satisfied users", "The share of people who rated the service 4 or 5 out of 5."),
    ("completion_rate", "%", "Finished online", "The share of people who started an application online and finished it."),
    ("digital_take_up", "%", "Applied online", "The share of applications made online or in the app."),
)


def performance(release: Release, service_id: str) -> Section:
    """The four GOV.UK KPIs for the latest 3 months, each with its meaning and period."""
    latest = _latest(_rows(release, "service_performance", service_id))
    if latest.is_empty():
        return Section("How the service is doing", ["No figures were published for this service in the period."])
    row = latest.row(0, named=True)
    sentences = [f"These figures are for the 3 months from {long_date(row['period_start'])} to {long_date(row['period_end'])}."]
    if usable(row["applications_received"]):
        sentences.append(f"We received {shown(row['applications_received'], 'count')} applications.")
    table = pl.DataFrame(
        {
            "Measure": [heading for _, _, heading, _ in KPI_WORDS],
            "Value": [shown(row[column], unit) for column, unit, _, _ in KPI_WORDS],
            "What it means": [meaning for _, _, _, meaning in KPI_WORDS],
            "Definition": [release.description("service_performance", column) for column, _, _, _ in KPI_WORDS],
        }
    )
    return Section("How the service is doing", sentences, table)


WAIT_PHRASES = {  # place -> its opening, then (column, unit, phrase with {} for the value)
    "service centre": ("At our service centres", (
        ("visit_wait_median_minutes", "minutes", "half of visitors were seen within {}"),
        ("visit_wait_p90_minutes", "minutes", "9 in 10 within {}"),
        ("seen_within_15_minutes", "%", "{} were seen within 15 minutes"),
    )),
    "phone": ("On the phone", (
        ("average_answer_seconds", "seconds", "calls were answered in {} on average"),
        ("answered_within_20_seconds", "%", "{} within 20 seconds"),
        ("calls_abandoned", "%", "{} of callers hung up before they were answered"),
    )),
}


def _wait_sentence(row: dict) -> str:
    opening, phrases = WAIT_PHRASES["service centre" if row["place"] == "service centre" else "phone"]
    parts = [phrase.format(shown(row[column], unit)) for column, unit, phrase in phrases if usable(row[column])]
    return f"{opening}, {_period_words(row)}: " + ("; ".join(parts) if parts else f"the waits are {HIDDEN_WORDS}") + "."


def waits(release: Release, service_id: str) -> Section:
    """Waits to be seen at a service centre and to be answered on the phone (latest 3 months)."""
    latest = _latest(_rows(release, "waits", service_id))
    overall = latest.filter(pl.col("office_id") == "all")
    sentences = [_wait_sentence(row) for row in overall.iter_rows(named=True)]
    if not sentences:
        sentences = ["This service has no service centre or phone line figures published."]
    places = latest.filter(pl.col("office_id") != "all")
    centres = places.filter(pl.col("place") == "service centre")
    phones = places.filter(pl.col("place") != "service centre")
    tables = []
    if centres.height:
        tables.append(("Service centres", _words(centres, [
            ("office", "", "Service centre"), ("visit_wait_median_minutes", "minutes", "Half seen within"),
            ("visit_wait_p90_minutes", "minutes", "9 in 10 seen within"), ("seen_within_15_minutes", "%", "Seen within 15 minutes"),
        ])))
    if phones.height:
        tables.append(("Phone lines", _words(phones, [
            ("office", "", "Contact centre"), ("average_answer_seconds", "seconds", "Average wait for an answer"),
            ("answered_within_20_seconds", "%", "Answered within 20 seconds"), ("calls_abandoned", "%", "Hung up before an answer"),
        ])))
    return Section("Waiting times", sentences, tables=tables)


def about(release: Release) -> list[str]:
    """When it was updated, by whom, under which licence and disclosure rule."""
    licence = release.licence
    lines = [
        f"Last updated: these figures use data up to {long_date(release.data_as_of)} (release {release.version}).",
        f"Published by {release.publisher} under the {licence.get('title', licence.get('name', 'stated'))} licence.",
        "To protect people's privacy, small numbers are hidden and other numbers are rounded to the nearest 5. "
        + release.disclosure_rule,
    ]
    return lines
