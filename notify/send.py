"""Proactive notifications: ``python -m notify send``.

Each active subscription (sql/schema/040_anomalies.sql) has a scope, some KPIs, a rule
and a channel. A run evaluates every rule against the latest stored anomaly run and the
latest complete ISO week of data, and sends each *event* once:

- ``anomaly``: one event per flag of the scope (not marked as known) whose first day is
  at most ``since_days`` before the data's end; key ``anomaly:<flag_key>``.
- ``target_breach``: a sustained breach of the scope (metrics.breaches: a KPI below its
  target for ``breach_weeks`` complete weeks running) is told once when it is found going,
  key ``breach-start:<kpi>:<first week>``, and once when a week back on target ends it
  (within the last two weeks), key ``breach-end:<kpi>:<first week>``; never every week in
  between ('long' for the first week of a breach older than the year read).
- ``weekly_digest``: one event per week: the scope's scorecard, the week's flags and
  links that open the dashboard with the right filters; key ``digest:<week>``.

A subscription's scope is its most specific filter: a service (its department follows),
else an office, else a channel, else a department, else everything. Channels: email
over SMTP (an HTML message with a plain-text part) or a webhook receiving JSON by POST.

Every attempt is recorded in ``notifications`` right after it is made, so running twice
sends nothing new. A failed send is retried ``attempts`` times within the run (with a
short back-off), recorded as failed with its error, reported, and retried on the next
runs until it succeeds or has failed ``attempts x max_runs`` times, after which every run
still reports it as given up: nothing is silently dropped.

One subscription never stops the others: its address is checked again before anything is
sent (a row stored by an older, laxer version, or written straight into the table, with a
line break in an email address is skipped with the reason), and a fault while evaluating
or sending one subscription is reported against it while the run goes on.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anomalies.links import anomaly_url, drilldown_url, overview_url
from anomalies.store import latest_flags, latest_run
from data.access import visible_departments
from data.database import connect, create_schema
from data.extracts import run_extract
from data.facts import load_facts
from forecasting.store import JOB_VIEWER
from metrics.breaches import breach_sentence
from metrics.formatting import number
from metrics.periods import parse_week, week_label
from metrics.registry import METRICS
from metrics.scorecard import latest_complete_week, scorecard
from metrics.status import STATUS_ICONS, STATUS_WORDS
from notify import smtp
from notify.subscriptions import address_problems, subscriptions
from notify.webhooks import resolved_problem, webhook_url

logger = logging.getLogger(__name__)

DEFAULT_DASHBOARD_URL = "http://localhost:8501"


@dataclass(frozen=True)
class NotifySettings:
    smtp_host: str = "localhost"
    smtp_port: int = 25
    sender: str = "kpi-dashboard@localhost"
    dashboard_url: str = DEFAULT_DASHBOARD_URL
    since_days: int = 7
    attempts: int = 3  # tries per event within one run
    max_runs: int = 5  # runs that may fail an event before it is given up (and still reported)
    backoff_seconds: float = 0.2  # before the second try; doubles
    timeout_seconds: float = 10.0
    # the login and TLS (notify/smtp.py): from the environment or Streamlit's secrets file only
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_security: str | None = None  # none, starttls or ssl; None: by the port
    smtp_ca_file: str | None = None

    @classmethod
    def from_environment(cls, **given) -> NotifySettings:
        """Settings from arguments, else the environment (KPI_SMTP_HOST, KPI_SMTP_PORT,
        KPI_SMTP_FROM, KPI_SMTP_USER, KPI_SMTP_PASSWORD, KPI_SMTP_SECURITY,
        KPI_SMTP_CA_FILE, KPI_DASHBOARD_URL), else the [smtp] section of Streamlit's
        secrets file, else the defaults (notify/smtp.py says which wins)."""
        environment = smtp.from_environment()
        if os.environ.get("KPI_DASHBOARD_URL"):
            environment["dashboard_url"] = os.environ["KPI_DASHBOARD_URL"]
        return cls(**smtp.resolved(given, environment, smtp.from_secrets()))


@dataclass(frozen=True)
class Event:
    subscription_id: int
    subscriber: str
    channel: str
    address: str
    rule: str
    key: str
    subject: str
    text: str
    html: str
    payload: dict


@dataclass
class Report:
    sent: list[Event] = field(default_factory=list)
    failed: list[tuple[Event, str, int]] = field(default_factory=list)  # event, error, attempts so far
    given_up: list[tuple[int, str, str, int]] = field(default_factory=list)  # subscription, key, error, attempts
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # subscription, subscriber, why
    already: int = 0
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would send" if self.dry_run else "sent"
        out = [f"{verb} {len(self.sent)} notification(s); {self.already} already sent earlier; {len(self.failed)} failed; {len(self.given_up)} given up" + (f"; {len(self.skipped)} subscription(s) skipped" if self.skipped else "")]
        out += [f"  {verb}: subscription {e.subscription_id} ({e.subscriber}, {e.channel} {e.address}): {e.subject}" for e in self.sent]
        out += [f"failed: subscription {e.subscription_id} ({e.subscriber}, {e.channel} {e.address}) {e.key}: {error} (attempt {n}; retried next run)" for e, error, n in self.failed]
        out += [f"gave up: subscription {s} {key} after {n} attempts: {error}" for s, key, error, n in self.given_up]
        out += [f"skipped: subscription {s} ({who!r}): {why}; correct or deactivate it on the Anomalies page" for s, who, why in self.skipped]
        return out


# --------------------------------------------------------------------------- scopes


def scope_of(subscription: dict) -> tuple[str, str]:
    """(scope_kind, scope_id) of a subscription: its most specific filter."""
    for column, kind in (("service_id", "service"), ("office_id", "office"), ("scope_channel", "channel"), ("department_id", "department")):
        if subscription.get(column):
            return kind, subscription[column]
    return "total", "all"


def flags_in_scope(flags: pl.DataFrame, subscription: dict) -> pl.DataFrame:
    """The flags of the subscription's scope (a department's include its services'),
    of its KPIs (all when none are named)."""
    kind, member = scope_of(subscription)
    if kind == "total":
        chosen = flags
    elif kind == "department":
        chosen = flags.filter(((pl.col("scope_kind") == "department") & (pl.col("scope_id") == member)) | ((pl.col("scope_kind") == "service") & (pl.col("department_id") == member)))
    else:
        chosen = flags.filter((pl.col("scope_kind") == kind) & (pl.col("scope_id") == member))
    kpis = [k for k in (subscription.get("kpis") or "").split(",") if k]
    return chosen.filter(pl.col("kpi").is_in(kpis)) if kpis else chosen


# --------------------------------------------------------------------------- events


@dataclass
class _World:
    """What every rule reads, loaded once per run."""

    engine: Engine
    departments: list[str]
    flags: pl.DataFrame
    data_end: dt.date | None
    week: str | None
    names: dict[str, dict[str, str]]
    settings: NotifySettings
    _facts: object = None

    def facts(self):
        if self._facts is None and self.week:
            monday = parse_week(self.week)
            self._facts = load_facts(self.engine, self.departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
        return self._facts

    def label(self, kind: str, member: str) -> str:
        if kind == "total":
            return "All services"
        lookup = {"department": "departments", "service": "services", "office": "offices"}.get(kind)
        return self.names.get(lookup, {}).get(member, member.replace("_", " ").capitalize()) if lookup else member.replace("_", " ").capitalize()


def _world(engine: Engine, settings: NotifySettings) -> _World:
    departments = list(visible_departments(engine, JOB_VIEWER))
    run = latest_run(engine, departments)
    flags = latest_flags(engine, departments) if run else pl.DataFrame()
    data_end = run["data_end"] if run else None
    if data_end is None:
        from data.facts import data_extent, organisation_timezone

        extent = data_extent(engine, departments, organisation_timezone(run_extract(engine, "offices", departments=departments)))
        data_end = extent[1] if extent else None
    names = {
        "departments": dict(run_extract(engine, "departments", departments=departments).select("department_id", "name").iter_rows()),
        "services": dict(run_extract(engine, "services", departments=departments).select("service_id", "name").iter_rows()),
        "offices": dict(run_extract(engine, "offices", departments=departments).select("office_id", "name").iter_rows()),
    }
    week = latest_complete_week(data_end) if data_end else None
    return _World(engine, departments, flags, data_end, week, names, settings)


def _scorecard(world: _World, subscription: dict):
    kind, member = scope_of(subscription)
    facts = world.facts()
    if facts is None:
        return None
    scope: dict[str, str] = {}
    if kind == "service":
        facts = facts.where(service_id=member)
        scope = {"service_id": member, "department_id": subscription.get("department_id") or ""}
    elif kind == "office":
        facts, scope = facts.where(office_id=member), {"office_id": member}
    elif kind == "channel":
        facts, scope = facts.where(channel=member), {"channel": member}
    elif kind == "department":
        facts, scope = facts.where(department_id=member), {"department_id": member}
    return scorecard(facts, world.week, scope={k: v for k, v in scope.items() if v}, as_of=world.data_end)


def events_for(world: _World, subscription: dict) -> list[Event]:
    """Every event the subscription's rule gives now (sent or not)."""
    rule = subscription["rule"]
    kind, member = scope_of(subscription)
    where = world.label(kind, member)
    base = world.settings.dashboard_url
    common = {"subscription_id": subscription["subscription_id"], "subscriber": subscription["subscriber"],
              "channel": subscription["channel"], "address": subscription["address"], "rule": rule}
    scope_payload = {"kind": kind, "id": member, "name": where}
    events: list[Event] = []
    if rule == "anomaly" and world.flags.height and world.data_end:
        recent = flags_in_scope(world.flags, subscription).filter(
            (pl.col("first_day") >= world.data_end - timedelta(days=world.settings.since_days)) & (pl.col("status") != "known")
        ).sort("first_day", "flag_key")
        for flag in recent.iter_rows(named=True):
            metric = METRICS[flag["kpi"]]
            moved = "rose" if flag["direction"] == "up" else "fell"
            scope_name = world.label(flag["scope_kind"], flag["scope_id"])
            subject = f"[KPI] Anomaly: {scope_name}, {metric.label} {moved} ({flag['first_day']:%d %b %Y})"
            links = {"anomaly": anomaly_url(flag, base), "drilldown": drilldown_url(flag, base)}
            text = f"{flag['explanation']}\n\nSee it: {links['anomaly']}\nDrill down: {links['drilldown']}\n"
            body = (
                f"<p>{html.escape(flag['explanation'])}</p>"
                f"<p><a href=\"{html.escape(links['anomaly'])}\">See the flag on the Anomalies page</a> · "
                f"<a href=\"{html.escape(links['drilldown'])}\">Drill down at this scope and week</a></p>"
            )
            payload = {"flag_key": flag["flag_key"], "scope": {"kind": flag["scope_kind"], "id": flag["scope_id"], "name": scope_name},
                       "kpi": flag["kpi"], "first_day": flag["first_day"].isoformat(), "direction": flag["direction"],
                       "value": flag["value"], "expected": flag["expected"], "explanation": flag["explanation"], "links": links}
            events.append(Event(**common, key=f"anomaly:{flag['flag_key']}", subject=subject, text=text, html=_page(subject, body), payload=payload))
    elif rule == "target_breach" and world.week:
        card = _scorecard(world, subscription)
        if card is not None:
            events += _breach_events(world, subscription, card, common, scope_payload)
    elif rule == "weekly_digest" and world.week:
        card = _scorecard(world, subscription)
        if card is not None:
            events.append(_digest(world, subscription, card, common, scope_payload))
    return events


BREACH_END_WEEKS = 2  # an end is told if it happened in the last two weeks (a run skipped one week still tells it)


def _breach_events(world: _World, subscription: dict, card, common: dict, scope_payload: dict) -> list[Event]:
    """A sustained breach's start (once, while it goes on) and its end (once, when a week
    is back on target), never every week in between: keyed by the KPI and the breach's
    first week ('long' for one that began before the year the scorecard reads)."""
    kind, member, where = scope_payload["kind"], scope_payload["id"], scope_payload["name"]
    base = world.settings.dashboard_url
    kpis = [k for k in (subscription.get("kpis") or "").split(",") if k]
    recent = {week_label(parse_week(world.week) - timedelta(weeks=back)) for back in range(BREACH_END_WEEKS)}
    found = card.breaches.filter(pl.col("ongoing") | pl.col("ended_week").is_in(sorted(recent)))
    if kpis:
        found = found.filter(pl.col("kpi").is_in(kpis))
    department = subscription.get("department_id") if kind in ("department", "service") else None
    link = overview_url(world.week, department, member if kind == "service" else None, base)
    this_week = {row["kpi"]: row for row in card.rows.iter_rows(named=True)}
    events = []
    for breach in found.iter_rows(named=True):
        metric = METRICS[breach["kpi"]]
        begun = "long" if breach["from_window_start"] else breach["start_week"]
        started = breach["ongoing"]
        sentence = breach_sentence(breach, where, week=world.week)
        if started:
            subject = f"[KPI] Below target for {breach['weeks']} weeks: {where}, {metric.label} (target {number(breach['target'], metric)})"
        else:
            subject = f"[KPI] Back on target in {breach['ended_week']}: {where}, {metric.label}"
        week_of_link = world.week if started else breach["ended_week"]
        drill = drilldown_url({"kpi": breach["kpi"], "scope_kind": kind, "scope_id": member, "department_id": department, "week": week_of_link}, base)
        body = f"<p>{html.escape(sentence)}</p><p><a href=\"{html.escape(link)}\">Open the weekly scorecard</a> · <a href=\"{html.escape(drill)}\">Drill down</a></p>"
        now = this_week.get(breach["kpi"], {})
        payload = {
            "event": "started" if started else "ended", "week": world.week, "scope": scope_payload, "kpi": breach["kpi"],
            "start_week": breach["start_week"], "began_before_window": breach["from_window_start"], "weeks_below": breach["weeks"],
            "worst_value": breach["worst_value"], "worst_week": breach["worst_week"], "target": breach["target"],
            "ended_week": breach["ended_week"], "value": now.get("value"), "status": now.get("status"),
            "sentence": sentence, "links": {"overview": link, "drilldown": drill},
        }
        key = f"breach-{'start' if started else 'end'}:{breach['kpi']}:{begun}"
        events.append(Event(**common, key=key, subject=subject, text=f"{sentence}\n\n{link}\n", html=_page(subject, body), payload=payload))
    return events


def _digest(world: _World, subscription: dict, card, common: dict, scope_payload: dict) -> Event:
    kind, member = scope_payload["kind"], scope_payload["id"]
    where = scope_payload["name"]
    base = world.settings.dashboard_url
    monday = parse_week(world.week)
    department = subscription.get("department_id") if kind in ("department", "service") else None
    overview = overview_url(world.week, department, member if kind == "service" else None, base)
    kpis = [k for k in (subscription.get("kpis") or "").split(",") if k]
    rows = card.rows.filter(pl.col("kpi").is_in(kpis)) if kpis else card.rows
    week_flags = flags_in_scope(world.flags, subscription).filter(pl.col("first_day").is_between(monday, monday + timedelta(days=6))) if world.flags.height else pl.DataFrame()
    composite = card.composite.row(0, named=True) if card.composite.height else {"score": None, "status": "grey"}
    table_rows = "".join(
        "<tr>"
        f"<th scope=\"row\" style=\"text-align:left;padding:4px 8px\">{html.escape(row['label'])}</th>"
        f"<td style=\"text-align:right;padding:4px 8px\">{number(row['value'], row['kpi'])}</td>"
        f"<td style=\"text-align:right;padding:4px 8px\">{number(row['target'], row['kpi'])}</td>"
        f"<td style=\"padding:4px 8px\">{STATUS_ICONS[row['status']]} {html.escape(STATUS_WORDS[row['status']])}</td>"
        f"<td style=\"padding:4px 8px\"><a href=\"{html.escape(drilldown_url({'kpi': row['kpi'], 'scope_kind': kind, 'scope_id': member, 'department_id': department, 'week': world.week}, base))}\">drill down</a></td>"
        "</tr>"
        for row in rows.iter_rows(named=True)
    )
    flag_items = "".join(
        f"<li>{flag['first_day']:%a %d %b}: {html.escape(flag['explanation'])} "
        f"<a href=\"{html.escape(anomaly_url(flag, base))}\">see it</a></li>"
        for flag in (week_flags.sort("first_day").iter_rows(named=True) if week_flags.height else [])
    ) or "<li>No anomaly flagged this week.</li>"
    score = composite["score"]
    subject = f"[KPI] Weekly digest {world.week}: {where}"
    body = (
        f"<p>The week {world.week} ({monday:%d %b} to {monday + timedelta(days=6):%d %b %Y}) for {html.escape(where)}. "
        f"Composite score {'–' if score is None else f'{score:.2f}'} ({STATUS_ICONS[composite['status']]} {html.escape(STATUS_WORDS[composite['status']])}); 1.00 is on target.</p>"
        f"<table style=\"border-collapse:collapse\"><caption style=\"text-align:left;font-weight:bold\">Scorecard</caption>"
        f"<thead><tr><th scope=\"col\" style=\"text-align:left;padding:4px 8px\">Measure</th><th scope=\"col\" style=\"text-align:right;padding:4px 8px\">This week</th>"
        f"<th scope=\"col\" style=\"text-align:right;padding:4px 8px\">Target</th><th scope=\"col\" style=\"text-align:left;padding:4px 8px\">Status</th><th scope=\"col\">Link</th></tr></thead>"
        f"<tbody>{table_rows}</tbody></table>"
        f"<h2 style=\"font-size:1.1em\">Anomalies of the week</h2><ul>{flag_items}</ul>"
        f"<p><a href=\"{html.escape(overview)}\">Open the weekly scorecard</a> · "
        f"<a href=\"{html.escape(base.rstrip('/') + '/anomalies')}\">Open the Anomalies page</a></p>"
    )
    text_lines = [f"Weekly digest {world.week} for {where}", ""]
    text_lines += [f"- {row['label']}: {number(row['value'], row['kpi'])} (target {number(row['target'], row['kpi'])}, {STATUS_WORDS[row['status']]})" for row in rows.iter_rows(named=True)]
    text_lines += ["", "Anomalies of the week:"] + ([f"- {flag['explanation']}" for flag in week_flags.iter_rows(named=True)] if week_flags.height else ["- none"])
    text_lines += ["", f"Scorecard: {overview}"]
    payload = {
        "week": world.week, "scope": scope_payload, "composite": score,
        "scorecard": [{"kpi": r["kpi"], "value": r["value"], "target": r["target"], "status": r["status"]} for r in rows.iter_rows(named=True)],
        "flags": [{"flag_key": f["flag_key"], "explanation": f["explanation"]} for f in (week_flags.iter_rows(named=True) if week_flags.height else [])],
        "links": {"overview": overview},
    }
    return Event(**common, key=f"digest:{world.week}", subject=subject, text="\n".join(text_lines) + "\n", html=_page(subject, body), payload=payload)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head><body style=\"font-family:sans-serif\">{body}"
        "<p style=\"font-size:0.85em\">You receive this because of a subscription on the KPI dashboard's Anomalies page.</p></body></html>"
    )


# --------------------------------------------------------------------------- sending


def send_email(event: Event, settings: NotifySettings) -> None:
    message = EmailMessage()
    message["Subject"] = event.subject
    message["From"] = settings.sender
    message["To"] = event.address
    message["X-KPI-Event"] = event.key
    message.set_content(event.text)
    message.add_alternative(event.html, subtype="html")
    with smtp.session(settings) as server:
        server.send_message(message)


def send_webhook(event: Event, settings: NotifySettings) -> None:
    url, unnamed = webhook_url(event.address)
    if url is None:
        raise OSError(f"not sent: {unnamed}")
    problem = resolved_problem(url)
    if problem:
        raise OSError(f"not sent: {problem}")
    body = json.dumps({"event": event.key, "rule": event.rule, "subscription_id": event.subscription_id,
                       "subscriber": event.subscriber, "subject": event.subject, **event.payload}, default=str).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", "X-KPI-Event": event.key})
    with urllib.request.urlopen(request, timeout=settings.timeout_seconds) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"the webhook answered HTTP {response.status}")


SENDERS: dict[str, Callable[[Event, NotifySettings], None]] = {"email": send_email, "webhook": send_webhook}


def _deliver(event: Event, settings: NotifySettings) -> tuple[str | None, int]:
    """Try up to settings.attempts times: (None, tries) when sent, else (last error, tries)."""
    delay = settings.backoff_seconds
    error = ""
    for attempt in range(settings.attempts):
        try:
            SENDERS[event.channel](event, settings)
            return None, attempt + 1
        except (OSError, smtplib.SMTPException, urllib.error.URLError) as failure:
            error = f"{type(failure).__name__}: {failure}"[:1900]
            if attempt + 1 < settings.attempts:
                time.sleep(delay)
                delay *= 2
        except Exception as failure:  # noqa: BLE001 - not a transport fault: trying again would fail the same way
            logger.exception("notify: subscription %s, event %s could not be sent", event.subscription_id, event.key)
            return f"{type(failure).__name__}: {failure}"[:1900], attempt + 1
    return error, settings.attempts


def _record(engine: Engine, event: Event, status: str, attempts: int, error: str | None, now: dt.datetime, first: dt.datetime | None) -> None:
    with connect(engine, begin=True) as conn:
        conn.execute(sa.text("DELETE FROM notifications WHERE subscription_id = :s AND event_key = :k"), {"s": event.subscription_id, "k": event.key})
        conn.execute(
            sa.text(
                "INSERT INTO notifications (subscription_id, event_key, rule, status, attempts, first_attempt_at, last_attempt_at, "
                "sent_at, subject, error) VALUES (:s, :k, :rule, :status, :attempts, :first, :now, :sent, :subject, :error)"
            ),
            {"s": event.subscription_id, "k": event.key, "rule": event.rule, "status": status, "attempts": attempts,
             "first": first or now, "now": now, "sent": now if status == "sent" else None, "subject": event.subject[:500], "error": error},
        )


def notify(engine: Engine, settings: NotifySettings | None = None, *, dry_run: bool = False, now: dt.datetime | None = None) -> Report:
    """Evaluate every active subscription and send its new events once (see module)."""
    settings = settings or NotifySettings()
    create_schema(engine)
    world = _world(engine, settings)
    report = Report(dry_run=dry_run)
    active = subscriptions(engine, world.departments).filter(pl.col("active"))
    with connect(engine) as conn:
        history = {
            (row[0], row[1]): (row[2], row[3], row[4], row[5])
            for row in conn.execute(sa.text("SELECT subscription_id, event_key, status, attempts, first_attempt_at, error FROM notifications")).fetchall()
        }
    limit = settings.attempts * settings.max_runs
    for subscription in active.iter_rows(named=True):
        number, who = subscription["subscription_id"], subscription["subscriber"]
        problems = address_problems(subscription["channel"], subscription["address"])
        if problems:
            report.skipped.append((number, who, "; ".join(problems)))
            continue
        try:
            events = events_for(world, subscription)
        except Exception as failure:  # noqa: BLE001 - one subscription's fault must not stop the others
            logger.exception("notify: subscription %s could not be evaluated", number)
            report.skipped.append((number, who, f"its events could not be worked out ({type(failure).__name__}: {failure})"))
            continue
        for event in events:
            status, attempts, first, error = history.get((event.subscription_id, event.key), (None, 0, None, None))
            if status == "sent":
                report.already += 1
                continue
            if attempts >= limit:
                report.given_up.append((event.subscription_id, event.key, error or "", attempts))
                continue
            if dry_run:
                report.sent.append(event)
                continue
            failure, tries = _deliver(event, settings)
            stamp = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None, microsecond=0)
            tried = attempts + tries
            if failure is None:
                _record(engine, event, "sent", tried, None, stamp, first)
                report.sent.append(event)
            else:
                _record(engine, event, "failed", tried, failure, stamp, first)
                if tried >= limit:
                    report.given_up.append((event.subscription_id, event.key, failure, tried))
                else:
                    report.failed.append((event, failure, tried))
    return report
