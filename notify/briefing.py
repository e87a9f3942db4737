"""The weekly briefing: ``python -m notify briefing``.

For every active email subscription with the ``weekly_digest`` rule, a briefing of its
scope for the last complete week of data, built with the recipient's own access: the
headline sentences (what is wrong, where, since when, what would clear the backlog), the
scorecard, the where-matrix, the sustained breaches, the week's anomalies, the backlog
projection and three charts, with the scope, the filters and the data-as-of time at the
top. It is sent as an HTML email with the charts as inline PNG images and the same
briefing as a PDF attachment (notify.briefing_render draws both in one headless Chromium).

Access: the briefing reads only the departments the recipient may see. When the access
file (config/access.toml, KPI_ACCESS_FILE; data.access.AccessFile) names the recipient's
address, their grant's departments are intersected with the subscription's scope (a
subscription to every department becomes the departments they may see); a scope wholly
outside their grant is skipped with the reason. A recipient the file does not name gets the
subscription's own scope, as ``notify send`` does.

Once: each sent briefing is recorded in the ``notifications`` table under the key
``briefing:<week>`` (with the rule ``briefing``), so a second run, or a restarted
``--every`` loop, sends nothing already sent; a failure is recorded, reported and tried
again on the next run (notify.send's rules).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import polars as pl
from sqlalchemy.engine import Engine

from anomalies.links import drilldown_url, overview_url
from anomalies.store import latest_flags
from dashboard import charts
from dashboard.badges import STATUS_COLOURS
from dashboard.overview_figures import backlog_lines, breach_lines, breaches_in_view, child_name, projection_table
from data.access import AccessFile, Viewer, access_file_path, sees_every_department, visible_departments
from data.extracts import run_extract
from data.facts import data_extent, load_facts, organisation_timezone
from data.notes import notes as notes_on_record
from forecasting.store import JOB_VIEWER
from metrics.formatting import change_judged, number
from metrics.periods import parse_week
from metrics.registry import METRICS
from metrics.scorecard import Scorecard, latest_complete_week, scorecard
from metrics.status import STATUS_ICONS, STATUS_WORDS, status_word
from metrics.summary import sentences
from metrics.targets import load_targets
from metrics.where import Where, child_dimension, where
from notify.send import flags_in_scope, scope_of

logger = logging.getLogger(__name__)

RULE = "briefing"  # the rule column of the notifications log
SUBSCRIBED_RULE = "weekly_digest"  # the subscriptions a briefing is for
CLEAR_BY_WEEKS = 13  # the backlog's closing rate is given to clear it a quarter after the week
CHILD_WORDS = {"department_id": "departments", "service_id": "services", "office_id": "offices"}


def event_key(week: str) -> str:
    """The key a briefing is recorded under: one per subscription and ISO week."""
    return f"briefing:{week}"


@dataclass(frozen=True)
class Chart:
    """A chart of the briefing: its Plotly figure, the text that says what it shows (the
    image's alt text), and its PNG once drawn (notify.briefing_render)."""

    name: str
    figure: object
    alt: str
    png: bytes = b""


@dataclass
class Briefing:
    """One subscription's briefing of one week, ready to draw and send."""

    subscription_id: int
    subscriber: str
    address: str
    week: str
    scope_name: str
    subject: str
    header: list[tuple[str, str]]  # (what, value): scope, filters, week, data as of, access
    headline: list[str]
    sections: list[tuple[str, str]]  # (heading, HTML) in order; charts go where CHART_PLACE says
    charts: list[Chart]
    text: str  # the plain-text part of the email
    departments: tuple[str, ...]  # what it was built from (the recipient's access)
    pdf: bytes = b""
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return event_key(self.week)

    def html(self, *, images: dict[str, str]) -> str:
        """The briefing as one HTML document; ``images``: chart name -> image src (a cid:
        reference in the email, a data: URI in the PDF)."""
        head = "".join(
            f'<tr><th scope="row" style="{_TH}">{html.escape(what)}</th><td style="{_TD}">{html.escape(value)}</td></tr>'
            for what, value in self.header
        )
        figures = "".join(
            f'<figure style="margin:12px 0;page-break-inside:avoid"><img src="{html.escape(images[chart.name])}" '
            f'alt="{html.escape(chart.alt)}" width="640" style="max-width:100%;height:auto;display:block">'
            f'<figcaption style="font-size:12px;color:#444;margin-top:4px">{html.escape(chart.alt)}</figcaption></figure>'
            for chart in self.charts if chart.name in images
        )
        body = "".join(
            f'<h2 style="{_H2}">{html.escape(heading)}</h2>{content}' + (figures if heading == CHART_PLACE else "")
            for heading, content in self.sections
        )
        lines = "".join(f"<li style=\"margin:0 0 6px\">{html.escape(line)}</li>" for line in self.headline)
        return (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(self.subject)}</title></head>"
            f'<body style="font-family:\'DejaVu Sans\',\'Liberation Sans\',Arial,sans-serif;color:#1a1a1a;font-size:14px;line-height:1.4;max-width:760px;margin:0 auto;padding:8px">'
            f'<h1 style="font-size:22px;margin:0 0 4px">Weekly briefing: {html.escape(self.scope_name)}</h1>'
            f'<table style="border-collapse:collapse;margin:4px 0 10px;font-size:13px">{head}</table>'
            f'<h2 style="{_H2}">What needs attention</h2><ul style="padding-left:20px;margin:4px 0">{lines}</ul>'
            f"{body}"
            '<p style="font-size:12px;color:#444;margin-top:16px">You receive this weekly briefing because of a weekly-digest '
            "subscription on the KPI dashboard's Anomalies page. The same briefing is attached as a PDF.</p>"
            "</body></html>"
        )


_TH = "text-align:left;padding:3px 8px 3px 0;font-weight:600;vertical-align:top;white-space:nowrap"
_TD = "padding:3px 8px 3px 0;vertical-align:top"
_H2 = "font-size:17px;margin:18px 0 6px;border-bottom:1px solid #bbb;padding-bottom:2px;break-after:avoid;page-break-after:avoid"
_CELL = "padding:4px 6px;border-top:1px solid #ddd;vertical-align:top"
CHART_PLACE = "Charts"


# --------------------------------------------------------------------------- access


@dataclass(frozen=True)
class Reader:
    """Whose access a briefing is built with, and which departments that gives."""

    viewer: Viewer
    departments: tuple[str, ...]
    named: bool  # the access file names the recipient


def recipient_access(engine: Engine, address: str, access: AccessFile | None, every: tuple[str, ...]) -> Reader:
    """The recipient as a viewer: their grant in the access file when it names them (by
    email or not at all: a briefing has no groups claim), else the job's viewer of every
    department (the subscription's scope alone then limits what they get)."""
    if access is not None and access.grants_for(address, ()):
        viewer = Viewer.from_claims({"email": address, "sub": address}, access=access)
        return Reader(viewer, tuple(visible_departments(engine, viewer)), True)
    return Reader(JOB_VIEWER, every, False)


def briefing_departments(subscription: dict, reader: Reader, every: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """The departments the briefing reads (the subscription's scope intersected with the
    recipient's access), or () and why not."""
    department = subscription.get("department_id")
    kind, _member = scope_of(subscription)
    if department:
        if department not in reader.departments:
            return (), f"{subscription['address']} may not see department {department} (access file)"
        return (department,), None
    if kind in ("office", "channel") and not sees_every_department(reader.departments, every):
        return (), f"an {kind} pools departments, and {subscription['address']} may not see every department (access file)"
    if not reader.departments:
        return (), f"{subscription['address']} may see no department (access file)"
    return reader.departments, None


# --------------------------------------------------------------------------- building


@dataclass
class Week:
    """What every briefing of a run shares: the week, the data's extent and its names."""

    week: str
    as_of: dt.date
    first_day: dt.date
    loaded_at: dt.datetime | None
    timezone: str
    names: dict[str, dict[str, str]]
    offline: frozenset[str]
    dashboard_url: str


def week_of(engine: Engine, dashboard_url: str, week: str | None = None) -> Week | None:
    """The last complete week of data (or ``week``), None for a database without data."""
    every = visible_departments(engine, JOB_VIEWER)
    offices = run_extract(engine, "offices", departments=every)
    timezone = organisation_timezone(offices)
    extent = data_extent(engine, every, timezone)
    if extent is None:
        return None
    services = run_extract(engine, "services", departments=every)
    loads = run_extract(engine, "data_loads", departments=every)
    names = {
        "department_id": dict(run_extract(engine, "departments", departments=every).select("department_id", "name").iter_rows()),
        "service_id": dict(services.select("service_id", "name").iter_rows()),
        "office_id": dict(offices.select("office_id", "name").iter_rows()),
    }
    offline = frozenset(services.filter(~pl.col("digital").fill_null(True))["service_id"].to_list())
    return Week(week or latest_complete_week(extent[1]), extent[1], extent[0], loads["loaded_at"][0] if loads.height else None,
                timezone, names, offline, dashboard_url)


def _scope_words(subscription: dict, context: Week, departments: tuple[str, ...], every: tuple[str, ...]) -> str:
    kind, member = scope_of(subscription)
    if kind == "service":
        return context.names["service_id"].get(member, member)
    if kind == "department":
        return context.names["department_id"].get(member, member)
    named = [context.names["department_id"].get(d, d) for d in departments]
    pooled = "All departments" if set(departments) >= set(every) else ", ".join(named)
    if kind == "office":
        return f"{context.names['office_id'].get(member, member)} ({pooled})"
    if kind == "channel":
        return f"{member.replace('_', ' ').capitalize()} channel ({pooled})"
    return pooled


def build_briefing(engine: Engine, subscription: dict, context: Week, reader: Reader, every: tuple[str, ...]) -> Briefing:
    """The briefing of one subscription for ``context.week`` (see the module); raises
    BriefingSkipped when the recipient may see nothing of the scope."""
    departments, refused = briefing_departments(subscription, reader, every)
    if refused:
        raise BriefingSkipped(refused)
    kind, member = scope_of(subscription)
    week = context.week
    monday = parse_week(week)
    facts = load_facts(engine, departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
    scope: dict[str, str] = {}
    if len(departments) == 1 and kind in ("department", "service"):
        scope["department_id"] = departments[0]
    if kind == "service":
        facts, scope["service_id"] = facts.where(service_id=member), member
    elif kind == "office":
        facts, scope["office_id"] = facts.where(office_id=member), member
    elif kind == "channel":
        facts = facts.where(channel=member)
    targets = load_targets()
    card_options = {"as_of": context.as_of, "targets": targets, "data_from": context.first_day, "offline_services": context.offline}
    card = scorecard(facts, week, scope=scope, **card_options)
    matrix: Where | None = None
    child_names: dict[str, str] = {}
    if kind in ("total", "department", "service"):
        dimension = child_dimension(scope.get("department_id") if kind != "total" else None, scope.get("service_id"))
        matrix = where(scorecard(facts, week, by=dimension, scope=scope, **card_options), dimension)
        child_names = context.names[dimension]
    scope_name = _scope_words(subscription, context, departments, every)
    kpis = [k for k in (subscription.get("kpis") or "").split(",") if k]
    department = scope.get("department_id")
    base = context.dashboard_url
    link = overview_url(week, department, member if kind == "service" else None, base)

    flags = latest_flags(engine, departments)
    week_flags = pl.DataFrame()
    if flags.height:
        week_flags = flags_in_scope(flags, subscription).filter(
            pl.col("first_day").is_between(monday, monday + timedelta(days=6)) & (pl.col("status") != "known")
        ).sort("first_day", "flag_key")

    empty_where = Where("service_id", week, card.partial, pl.DataFrame(), pl.DataFrame(schema={"scope": pl.String}), [], card.history)
    breaches = breaches_in_view(card, matrix or empty_where, scope_name, child_names)
    if kpis:
        breaches = breaches.filter(pl.col("kpi").is_in(kpis))
    clear_by = monday + timedelta(days=6, weeks=CLEAR_BY_WEEKS)
    backlog = backlog_lines(card, clear_by)

    # the notes on the record for exactly this scope, over the weeks the trends show
    note_scope = dict(scope)
    if kind == "channel":
        note_scope["channel"] = member
    first_shown = card.history["period_start"].min() if card.history.height else monday - timedelta(weeks=12)
    noted = notes_on_record(engine, list(departments), kpi=None, first_day=first_shown, last_day=monday + timedelta(days=6), **note_scope)
    if kpis:
        noted = noted.filter(pl.col("kpi").is_null() | pl.col("kpi").is_in(kpis))

    headline = sentences(card, where=matrix, names=child_names)
    going = breaches.filter(pl.col("ongoing"))
    if going.height:
        longest = going.sort(["weeks", "where_name", "kpi"], descending=[True, False, False]).head(1)
        headline.append(f"{going.height:,} measure{'s' if going.height != 1 else ''} below target for weeks on end; the longest: "
                        + breach_lines(longest, week)[0])
    if backlog:
        headline.append(backlog[0])
    if week_flags.height:
        headline.append(f"{week_flags.height:,} anomal{'y' if week_flags.height == 1 else 'ies'} flagged this week (listed below).")

    filters = [f"scope {scope_name}"]
    if kpis:
        filters.append("measures " + ", ".join(METRICS[k].label for k in kpis if k in METRICS))
    header = [
        ("Scope", scope_name),
        ("Week", f"{week} (Mon {monday:%d %b} to Sun {monday + timedelta(days=6):%d %b %Y}), the last complete week"),
        ("Filters", "; ".join(filters) + ("" if kpis else "; every measure")),
        ("Data as of", f"{context.as_of:%A %d %B %Y} (local dates, {context.timezone})"
                       + (f"; loaded {context.loaded_at:%d %b %Y %H:%M} UTC" if context.loaded_at else "")),
        ("Built for", f"{subscription['subscriber']} <{subscription['address']}>, with "
                      + ("their access in the access file" if reader.named else "the subscription's scope")),
        ("Dashboard", link),
    ]
    sections = [
        ("Scorecard", _scorecard_html(card, kpis, kind, member, department, base)),
        ("Where", _where_html(matrix, child_names, card, kpis)),
        ("For how long: sustained breaches", _breaches_html(breaches, week, card.breach_weeks)),
        ("Anomalies of the week", _flags_html(week_flags)),
        ("What it will take: the backlog", _backlog_html(backlog, matrix, child_names, clear_by)),
        ("On the record", _notes_html(noted, monday)),
        (CHART_PLACE, '<p style="margin:4px 0">Each chart is described under it; the tables above hold the same figures.</p>'),
    ]
    figures = briefing_charts(card, matrix, child_names, scope_name, noted)
    subject = f"[KPI] Weekly briefing {week}: {scope_name}"
    text = "\n".join([
        f"Weekly briefing {week}: {scope_name}", "",
        *[f"{what}: {value}" for what, value in header], "",
        "What needs attention:", *[f"- {line}" for line in headline], "",
        "Scorecard:",
        *[f"- {row['label']}: {_value(row)} (target {number(row['target'], row['kpi'])}, {_word(row)})" for row in _rows(card, kpis).iter_rows(named=True)],
        *(["", "On the record:", *[f"- {line}" for line in note_lines(noted)]] if noted.height else []),
        "", "The whole briefing, with the where-matrix, the breaches, the anomalies, the backlog, the notes and charts, is attached as a PDF.",
        f"Open the scorecard: {link}",
    ]) + "\n"
    return Briefing(subscription["subscription_id"], subscription["subscriber"], subscription["address"], week, scope_name, subject,
                    header, headline, sections, figures, text, departments)


class BriefingSkipped(ValueError):
    """The recipient may see nothing of the subscription's scope; the message says why."""


# --------------------------------------------------------------------------- sections


def _rows(card: Scorecard, kpis: list[str]) -> pl.DataFrame:
    return card.rows.filter(pl.col("kpi").is_in(kpis)) if kpis else card.rows


def _value(row: dict) -> str:
    return number(row["value"], row["kpi"]) if row.get("applicable") is not False else "n/a"


def _word(row: dict) -> str:
    return status_word(row["status"], row["value"], row["target"], partial=bool(row["partial"]), applicable=row.get("applicable") is not False)


def _status(row: dict, word: str | None = None) -> str:
    """Icon and word, in the status's colour (never colour alone)."""
    colour = STATUS_COLOURS.get(row["status"], STATUS_COLOURS["grey"])
    return f'<span style="color:{colour};font-weight:600;white-space:nowrap">{STATUS_ICONS[row["status"]]} {html.escape(word or _word(row))}</span>'


def _table(headings: list[str], lines: list[list[str]], *, right: set[int] = frozenset(), caption: str = "") -> str:
    head = "".join(f'<th scope="col" style="{_CELL};text-align:{"right" if i in right else "left"};border-top:none">{html.escape(h)}</th>'
                   for i, h in enumerate(headings))
    body = "".join(
        "<tr>" + "".join(
            (f'<th scope="row" style="{_CELL};text-align:left;font-weight:600">{cell}</th>' if i == 0 else
             f'<td style="{_CELL};text-align:{"right" if i in right else "left"}">{cell}</td>')
            for i, cell in enumerate(line)
        ) + "</tr>"
        for line in lines
    )
    title = f'<caption style="text-align:left;font-size:12px;color:#444;padding-bottom:2px">{html.escape(caption)}</caption>' if caption else ""
    return f'<table style="border-collapse:collapse;font-size:12.5px;font-variant-numeric:tabular-nums;width:100%">{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _scorecard_html(card: Scorecard, kpis: list[str], kind: str, member: str, department: str | None, base: str) -> str:
    composite = card.composite.row(0, named=True) if card.composite.height else None
    intro = ""
    if composite and composite["score"] is not None:
        below = len(composite["below"])
        intro = (f'<p style="margin:4px 0">Composite score {composite["score"]:.2f} (1.00 is on target): {_status(composite, STATUS_WORDS[composite["status"]])}; '
                 f"{below} of {composite['metrics_scored']} measures below target.</p>")
    lines = []
    for row in _rows(card, kpis).iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        drill = drilldown_url({"kpi": row["kpi"], "scope_kind": kind, "scope_id": member, "department_id": department, "week": card.week}, base)
        lines.append([
            f'<a href="{html.escape(drill)}" style="color:inherit">{html.escape(metric.label)}</a>',
            html.escape(_value(row)), html.escape(number(row["target"], metric)), _status(row),
            html.escape(change_judged(row["change_on_last_week"], metric)), html.escape(number(row["same_week_last_year"], metric)),
        ])
    return intro + _table(["Measure", "This week", "Target", "Status", "On last week", "Same week last year"], lines, right={1, 2, 4, 5})


def _where_html(matrix: Where | None, names: dict[str, str], card: Scorecard, kpis: list[str]) -> str:
    if matrix is None:
        return '<p style="margin:4px 0">This scope is not split further (an office or a channel).</p>'
    if not matrix.ranking.height or not matrix.kpis:
        return '<p style="margin:4px 0">No figures split further this week.</p>'
    shown = [k for k in matrix.kpis if not kpis or k in kpis]
    children = [c for c in matrix.order if c != "(unknown)"][:8]
    cells = {(row["scope"], row["kpi"]): row for row in matrix.cells.iter_rows(named=True)}
    targets = {row["kpi"]: row["target"] for row in card.rows.iter_rows(named=True)}
    lines = []
    for kpi in shown:
        line = [f"{html.escape(METRICS[kpi].label)}<br><span style=\"font-weight:400;font-size:11px\">target {html.escape(number(targets.get(kpi), kpi))}</span>"]
        for child in children:
            row = cells.get((child, kpi))
            line.append("–" if row is None else f"{html.escape(_value(row))}<br>{_status(row)}")
        lines.append(line)
    headings = ["Measure", *[f"{rank}. {child_name(names, child, matrix.dimension)}" for rank, child in enumerate(children, start=1)]]
    more = len([c for c in matrix.order if c != "(unknown)"]) - len(children)
    note = (f'<p style="margin:4px 0;font-size:12px">The {CHILD_WORDS[matrix.dimension]} against the measures, worst first: most measures '
            "off target, then the largest miss as a share of its target, then most near target."
            + (f" The {more:,} others are on the dashboard." if more > 0 else "") + "</p>")
    return note + _table(headings, lines, right=set(range(1, len(headings))))


def _breaches_html(breaches: pl.DataFrame, week: str, weeks: int) -> str:
    if not breaches.height:
        return f'<p style="margin:4px 0">No measure has been below target for {weeks} complete weeks in a row.</p>'
    items = "".join(f'<li style="margin:0 0 4px">{html.escape(line)}</li>' for line in breach_lines(breaches, week, limit=8))
    return (f'<p style="margin:4px 0;font-size:12px">A sustained breach: below target (near target counts) for {weeks} complete weeks '
            f'or more in a row, until a week back on target.</p><ul style="padding-left:20px;margin:4px 0">{items}</ul>')


def _flags_html(flags: pl.DataFrame) -> str:
    if not flags.height:
        return '<p style="margin:4px 0">No anomaly was flagged in this week (or no detection has been stored for it).</p>'
    items = "".join(f'<li style="margin:0 0 4px">{flag["first_day"]:%a %d %b}: {html.escape(flag["explanation"])}</li>'
                    for flag in flags.head(12).iter_rows(named=True))
    more = f"<p style=\"margin:4px 0\">And {flags.height - 12:,} more on the Anomalies page.</p>" if flags.height > 12 else ""
    return f'<ul style="padding-left:20px;margin:4px 0">{items}</ul>{more}'


def note_lines(noted: pl.DataFrame) -> list[str]:
    """'Mon 05 Oct 2026, on-time rate: New case system went live (Ana Lyst)', newest first."""
    return [f"{row['noted_on']:%a %d %b %Y}, {_measure_words(row['kpi'])}: "
            f"{row['note']} ({row['written_by']})" for row in noted.sort(["noted_on", "note_id"], descending=True).iter_rows(named=True)]


def _measure_words(kpi: str | None) -> str:
    """A note's measure in a sentence: 'every measure' for a note on all of them (None),
    else its label (its registry name when the registry no longer has it)."""
    if kpi is None:
        return "every measure"
    return METRICS[kpi].label.lower() if kpi in METRICS else kpi


def _notes_html(noted: pl.DataFrame, monday: dt.date) -> str:
    if not noted.height:
        return '<p style="margin:4px 0">No note is on the record for this scope in the weeks shown.</p>'
    this_week = noted.filter(pl.col("noted_on") >= monday).height
    lead = (f'<p style="margin:4px 0;font-size:12px">Notes analysts attached to this scope\'s figures in the weeks the charts show'
            f"{f', {this_week:,} of them this week' if this_week else ''}; each is marked on the trend of its measure.</p>")
    items = "".join(f'<li style="margin:0 0 4px">{html.escape(line)}</li>' for line in note_lines(noted)[:12])
    more = f'<p style="margin:4px 0">And {noted.height - 12:,} more in the drill-down.</p>' if noted.height > 12 else ""
    return f'{lead}<ul style="padding-left:20px;margin:4px 0">{items}</ul>{more}'


def _backlog_html(lines: list[str], matrix: Where | None, names: dict[str, str], clear_by: dt.date) -> str:
    text = "".join(f'<li style="margin:0 0 4px">{html.escape(line)}</li>' for line in lines)
    table = ""
    if matrix is not None and not matrix.partial:
        frame = projection_table(matrix, names, clear_by)
        if frame.height:
            table = _table(frame.columns, [[html.escape(str(v)) for v in row] for row in frame.head(8).rows()],
                           right=set(range(1, frame.width)), caption=f"By {CHILD_WORDS[matrix.dimension][:-1]}, growing backlogs first")
    return f'<ul style="padding-left:20px;margin:4px 0">{text}</ul>{table}'


# --------------------------------------------------------------------------- charts


def briefing_charts(card: Scorecard, matrix: Where | None, names: dict[str, str], scope_name: str,
                    noted: pl.DataFrame | None = None) -> list[Chart]:
    """Three charts, each with text saying what it shows: the worst measure's last 13
    weeks against its target, that measure by child of the scope (when it splits), and the
    backlog's 13 weeks."""
    found: list[Chart] = []
    composite = card.composite.row(0, named=True) if card.composite.height else {"worst": None}
    worst = composite.get("worst") or next((k for k in ("on_time_rate", "backlog") if k in card.rows["kpi"].to_list()), None)
    if worst:
        found.append(_trend_chart(card, worst, scope_name, noted))
        if matrix is not None and not matrix.partial:
            bars = _bars_chart(card, matrix, worst, names, scope_name)
            if bars is not None:
                found.append(bars)
    if worst != "backlog" and "backlog" in card.history["kpi"].to_list():
        found.append(_trend_chart(card, "backlog", scope_name, noted))
    return [chart for chart in found if chart is not None]


def _trend_chart(card: Scorecard, kpi: str, scope_name: str, noted: pl.DataFrame | None = None) -> Chart | None:
    metric = METRICS[kpi]
    series = card.history.filter(pl.col("kpi") == kpi).sort("period_start")
    if series.filter(pl.col("value").is_not_null()).height < 2:
        return None
    target = card.rows.filter(pl.col("kpi") == kpi)["target"]
    target_value = target[0] if target.len() else None
    figure = charts.trend(series, metric, target=target_value, title=f"{metric.label}, {scope_name}: the last {series.height} weeks")
    present = series.filter(pl.col("value").is_not_null())
    first, last = present.row(0, named=True), present.row(-1, named=True)
    low = present.sort("value").row(0, named=True)
    high = present.sort("value", descending=True).row(0, named=True)
    alt = (f"Line chart of {metric.label.lower()} in {scope_name} by week, {first['period']} to {last['period']}: "
           f"{number(first['value'], metric)} then {number(last['value'], metric)}; lowest {number(low['value'], metric)} in {low['period']}, "
           f"highest {number(high['value'], metric)} in {high['period']}")
    if target_value is not None:
        misses = [v for v in present["value"].to_list() if (v < target_value if metric.better.value == "higher" else v > target_value)]
        alt += f"; target {number(target_value, metric)}, missed in {len(misses)} of {present.height} weeks"
    mine = noted.filter(pl.col("kpi").is_null() | (pl.col("kpi") == kpi)) if noted is not None else None
    if mine is not None and mine.height:
        charts.note_marks(figure, mine, series)
        alt += "; notes on the record marked: " + "; ".join(f"{row['noted_on']:%d %b}, {row['note']}" for row in mine.sort("noted_on").iter_rows(named=True))
    return Chart(f"trend-{kpi}", _for_print(figure), alt + ".")


def _bars_chart(card: Scorecard, matrix: Where, kpi: str, names: dict[str, str], scope_name: str) -> Chart | None:
    metric = METRICS[kpi]
    frame = matrix.cells.filter((pl.col("kpi") == kpi) & pl.col("value").is_not_null() & (pl.col("scope") != "(unknown)"))
    if frame.height < 2:
        return None
    frame = frame.with_columns(pl.col("scope").map_elements(lambda c: child_name(names, c, matrix.dimension), return_dtype=pl.String).alias("name"))
    own = card.rows.filter(pl.col("kpi") == kpi).row(0, named=True)
    figure = charts.bars(frame, metric, category="name", overall=own["value"], target=own["target"],
                         title=f"{metric.label} by {CHILD_WORDS[matrix.dimension][:-1]}, {matrix.week}")
    ordered = frame.sort("value", descending=metric.better.value == "lower")
    worst, best = ordered.row(0, named=True), ordered.row(-1, named=True)
    below = matrix.cells.filter((pl.col("kpi") == kpi) & (pl.col("miss") > 0) & (pl.col("scope") != "(unknown)")).height
    alt = (f"Bar chart of {metric.label.lower()} by {CHILD_WORDS[matrix.dimension][:-1]} of {scope_name} in {matrix.week}: "
           f"worst {worst['name']} at {number(worst['value'], metric)}, best {best['name']} at {number(best['value'], metric)}; "
           f"the whole scope {number(own['value'], metric)}"
           + (f" against a target of {number(own['target'], metric)}; {below} of {frame.height} below it." if own["target"] is not None else "."))
    return Chart(f"bars-{kpi}", _for_print(figure), alt)


def _for_print(figure):
    """White background and fixed colours: a briefing is read on paper and in mail, not in
    the dashboard's themes."""
    figure.update_layout(paper_bgcolor="white", plot_bgcolor="white", font={"family": "DejaVu Sans, sans-serif", "size": 13, "color": "#1a1a1a"})
    return figure


# --------------------------------------------------------------------------- the message


def email_message(briefing: Briefing, sender: str) -> EmailMessage:
    """The briefing as one email: a plain-text part, the HTML with each chart as an inline
    PNG (cid:), and the PDF attached."""
    message = EmailMessage()
    message["Subject"] = briefing.subject
    message["From"] = sender
    message["To"] = briefing.address
    message["X-KPI-Event"] = briefing.key
    ids = {chart.name: make_msgid(domain="kpi.briefing") for chart in briefing.charts if chart.png}
    message.set_content(briefing.text)
    message.add_alternative(briefing.html(images={name: f"cid:{cid[1:-1]}" for name, cid in ids.items()}), subtype="html")
    html_part = message.get_payload()[1]
    for chart in briefing.charts:
        if chart.png:
            html_part.add_related(chart.png, "image", "png", cid=ids[chart.name], filename=f"{chart.name}.png")
    if briefing.pdf:
        message.add_attachment(briefing.pdf, maintype="application", subtype="pdf", filename=f"briefing-{briefing.week}-{_slug(briefing.scope_name)}.pdf")
    return message


def _slug(text: str) -> str:
    return "".join(ch.lower() if ch.isalnum() else "-" for ch in text).strip("-")[:60] or "scope"


# --------------------------------------------------------------------------- the schedule

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Every:
    """A weekly time: ``Every.parse("monday 07:00")``."""

    weekday: int  # 0 Monday
    at: dt.time

    @classmethod
    def parse(cls, text: str) -> Every:
        parts = text.lower().replace(",", " ").split()
        if len(parts) != 2 or parts[0] not in WEEKDAYS:
            raise ValueError(f"--every {text!r}: give a weekday and a time, e.g. --every monday 07:00")
        try:
            at = dt.time.fromisoformat(parts[1])
        except ValueError:
            raise ValueError(f"--every {text!r}: {parts[1]!r} is not a time of day (HH:MM, 24-hour)") from None
        return cls(WEEKDAYS.index(parts[0]), at)

    def next_run(self, now: dt.datetime) -> dt.datetime:
        """The first time at or after ``now`` on the weekday at the time (``now``'s own
        time zone, or naive local time): a run due exactly now is now."""
        candidate = dt.datetime.combine(now.date(), self.at, tzinfo=now.tzinfo) + timedelta(days=(self.weekday - now.weekday()) % 7)
        return candidate if candidate >= now else candidate + timedelta(weeks=1)


def run_every(every: Every, once: Callable[[], object], *, clock: Callable[[], dt.datetime], sleep: Callable[[float], None],
              runs: int | None = None) -> None:
    """Run ``once`` now (a restart sends what is due and not yet sent: the log says what
    was), then at every ``every``; ``runs``: stop after that many (None: for ever)."""
    done = 0
    last_due: dt.datetime | None = None
    while runs is None or done < runs:
        if done:
            due = every.next_run(clock())
            if last_due is not None and due <= last_due:  # a run that took no time is still at its own due time
                due = last_due + timedelta(weeks=1)
            last_due = due
            while (left := (due - clock()).total_seconds()) > 0:
                sleep(min(left, 3600.0))  # wake hourly: a clock changed under us is noticed
        try:
            once()
        except Exception:  # noqa: BLE001 - a container's loop must outlive one bad run; the next run tries again
            logger.exception("briefing: the run failed; the next scheduled run tries again")
        done += 1


__all__ = ["Briefing", "BriefingSkipped", "Chart", "Every", "build_briefing", "email_message", "event_key", "run_every", "week_of"]


def access_file() -> AccessFile | None:
    """The administrators' access file, if there is one (data.access)."""
    path = access_file_path()
    return AccessFile.load(path) if path else None


def every_department(engine: Engine) -> tuple[str, ...]:
    return tuple(visible_departments(engine, JOB_VIEWER))



# --------------------------------------------------------------------------- the run


@dataclass
class BriefingReport:
    week: str | None = None
    sent: list[Briefing] = field(default_factory=list)
    already: list[int] = field(default_factory=list)  # subscriptions sent this week's briefing earlier
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would send" if self.dry_run else "sent"
        if self.week is None:
            return ["no data in the database: no briefing to send"]
        out = [f"{verb} {len(self.sent)} briefing(s) of {self.week}; {len(self.already)} already sent earlier; "
               f"{len(self.failed)} failed; {len(self.skipped)} skipped"]
        out += [f"  {verb}: subscription {b.subscription_id} ({b.subscriber}, {b.address}): {b.subject} "
                f"(PDF {len(b.pdf) / 1024:,.0f} KB, {len(b.charts)} charts)" for b in self.sent]
        out += [f"  wrote {path}" for path in self.written]
        out += [f"failed: subscription {s}: {error} (tried again next run)" for s, error in self.failed]
        out += [f"skipped: subscription {s}: {why}" for s, why in self.skipped]
        return out


def send_briefings(engine: Engine, settings, *, week: str | None = None, dry_run: bool = False, out=None,
                   now: dt.datetime | None = None, access: AccessFile | None | bool = True) -> BriefingReport:
    """Build, draw and send every due briefing once (see the module). ``settings``: the
    SMTP settings (notify.send.NotifySettings); ``week``: another week than the last
    complete one; ``out``: a folder to write each briefing's PDF and HTML into as well;
    ``access``: True reads the access file (data.access), None uses none, or one given."""
    import smtplib
    from pathlib import Path

    import sqlalchemy as sa

    from data.database import connect, create_schema
    from notify.briefing_render import Renderer
    from notify.send import Event, _record
    from notify.smtp import SmtpSettingsError
    from notify.smtp import session as smtp_session
    from notify.subscriptions import address_problems, subscriptions

    create_schema(engine)
    context = week_of(engine, settings.dashboard_url, week)
    report = BriefingReport(dry_run=dry_run)
    if context is None:
        return report
    report.week = context.week
    every = every_department(engine)
    grants = access_file() if access is True else (access or None)
    chosen = subscriptions(engine, every).filter(pl.col("active") & (pl.col("rule") == SUBSCRIBED_RULE) & (pl.col("channel") == "email"))
    with connect(engine) as conn:
        sent = {row[0] for row in conn.execute(
            sa.text("SELECT subscription_id FROM notifications WHERE event_key = :k AND status = 'sent'"), {"k": event_key(context.week)})}
        tried = {row[0]: (row[1], row[2]) for row in conn.execute(
            sa.text("SELECT subscription_id, attempts, first_attempt_at FROM notifications WHERE event_key = :k"), {"k": event_key(context.week)})}
    due = [row for row in chosen.iter_rows(named=True) if row["subscription_id"] not in sent]
    report.already = sorted(row["subscription_id"] for row in chosen.iter_rows(named=True) if row["subscription_id"] in sent)
    if not due:
        return report
    with Renderer() as draw:
        for subscription in due:
            number_ = subscription["subscription_id"]
            problems = address_problems("email", subscription["address"])
            if problems:
                report.skipped.append((number_, "; ".join(problems)))
                continue
            try:
                reader = recipient_access(engine, subscription["address"], grants, every)
                briefing = draw(build_briefing(engine, subscription, context, reader, every))
            except BriefingSkipped as why:
                report.skipped.append((number_, str(why)))
                continue
            except Exception as failure:  # noqa: BLE001 - one subscription's fault must not stop the others
                logger.exception("briefing: subscription %s could not be built", number_)
                report.skipped.append((number_, f"its briefing could not be built ({type(failure).__name__}: {failure})"))
                continue
            if out is not None:
                folder = Path(out)
                folder.mkdir(parents=True, exist_ok=True)
                stem = folder / f"briefing-{context.week}-{number_}"
                stem.with_suffix(".pdf").write_bytes(briefing.pdf)
                images = {c.name: "data:image/png;base64," + __import__("base64").b64encode(c.png).decode() for c in briefing.charts}
                stem.with_suffix(".html").write_text(briefing.html(images=images), encoding="utf-8")
                report.written.append(str(stem.with_suffix(".pdf")))
            if dry_run:
                report.sent.append(briefing)
                continue
            message = email_message(briefing, settings.sender)
            event = Event(number_, briefing.subscriber, "email", briefing.address, RULE, briefing.key, briefing.subject, "", "", {})
            stamp = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None, microsecond=0)
            attempts, first = tried.get(number_, (0, None))
            try:
                with smtp_session(settings) as server:
                    server.send_message(message)
            except (OSError, smtplib.SMTPException, SmtpSettingsError) as failure:
                error = f"{type(failure).__name__}: {failure}"[:1900]
                _record(engine, event, "failed", attempts + 1, error, stamp, first)
                report.failed.append((number_, error))
                continue
            _record(engine, event, "sent", attempts + 1, None, stamp, first)
            report.sent.append(briefing)
    return report
