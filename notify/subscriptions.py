"""Subscriptions: who wants to hear about what (sql/schema/040_anomalies.sql), checked
when stored; and the notification log that makes ``python -m notify send`` send each
event once. Read through the department-scoped extracts ``subscriptions`` and
``notifications`` (a subscription without a department is seen only by a viewer of every
department)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import polars as pl
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Engine

from anomalies.store import stored_extract
from data.access import ALL, Viewer, may
from data.database import create_schema
from data.row_security import scoped_transaction
from notify import NotifyError
from notify.webhooks import host_problem, webhook_name, webhook_url

RULES = ("target_breach", "anomaly", "weekly_digest")
_REFUSED_BY_ROW_SECURITY = "42501"  # SQLSTATE insufficient_privilege: "new row violates row-level security policy"
CHANNELS = ("email", "webhook")


@dataclass(frozen=True)
class Subscription:
    """Who wants to hear about what (see sql/schema/040_anomalies.sql)."""

    subscriber: str
    rule: str
    channel: str
    address: str
    department_id: str | None = None
    service_id: str | None = None
    office_id: str | None = None
    scope_channel: str | None = None
    kpis: tuple[str, ...] = ()
    created_by: str = ""

    def problems(self) -> list[str]:
        from metrics.registry import METRICS

        found = []
        if not self.subscriber.strip():
            found.append("a subscriber's name is needed")
        if self.rule not in RULES:
            found.append(f"rule {self.rule!r} is not one of {', '.join(RULES)}")
        if self.channel not in CHANNELS:
            found.append(f"channel {self.channel!r} is not one of {', '.join(CHANNELS)}")
        found += address_problems(self.channel, self.address)
        unknown = [k for k in self.kpis if k not in METRICS]
        if unknown:
            found.append(f"unknown KPI(s) {', '.join(unknown)}")
        return found


def address_problems(channel: str, address: str) -> list[str]:
    """What is wrong with an address for its channel ([] when it can be used).

    Email addresses are checked strictly (email-validator, syntax only: no DNS lookup, so it
    works on a closed network): a CR or LF, which would let an address add mail headers, a
    display name, two @ or a domain without a dot are refused. Webhooks must be http(s) URLs
    without spaces or control characters, on a host the administrator allows
    (notify.webhooks). Checked when a subscription is stored and again
    before each send, so a row stored by an older, laxer version cannot stop a run."""
    if channel == "email":
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):
            return [f"{address!r} is not an email address (it holds a line break or another control character)"]
        try:
            validate_email(address.strip(" "), check_deliverability=False)
        except EmailNotValidError as problem:
            return [f"{address!r} is not an email address ({problem})"]
        return []
    if channel == "webhook":
        url, unnamed = webhook_url(address)
        if url is None:
            return [unnamed]
        name = webhook_name(address)
        if not url.lower().startswith(("http://", "https://")) or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
            return [f"the webhook {name}'s URL is not an http(s) URL"]
        problem = host_problem(url)
        if problem:
            return [problem]
    return []


def add_subscription(
    engine: Engine, subscription: Subscription, *, at: dt.datetime | None = None, departments: Sequence[str] | None = None
) -> int:
    """Store a subscription (checked first); return its id.

    ``departments``: the viewer's (the dashboard's), under which row-level security on
    PostgreSQL refuses a subscription of a department the viewer may not see; None for a
    command run as the tables' owner."""
    problems = subscription.problems()
    if problems:
        raise NotifyError("; ".join(problems))
    create_schema(engine)
    at = at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    fields = dataclasses.asdict(subscription)
    fields["kpis"] = ",".join(subscription.kpis) or None
    fields["created_by"] = (subscription.created_by or subscription.subscriber).strip()
    fields["address"] = subscription.address.strip(" ")
    fields["subscriber"] = subscription.subscriber.strip()
    try:
        with scoped_transaction(engine, departments) as conn:
            return int(conn.execute(
                sa.text(
                    "INSERT INTO subscriptions (subscriber, rule, channel, address, department_id, service_id, office_id, "
                    "scope_channel, kpis, active, created_at, created_by) VALUES (:subscriber, :rule, :channel, :address, "
                    ":department_id, :service_id, :office_id, :scope_channel, :kpis, TRUE, :at, :created_by) "
                    "RETURNING subscription_id"
                ),
                {**fields, "at": at},
            ).scalar_one())
    except sa.exc.DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != _REFUSED_BY_ROW_SECURITY or "row-level security" not in str(error.orig):
            raise
        raise NotifyError(
            "that scope is not one you may see: choose a department or service of yours (a subscription to "
            "every department, with neither, is for a viewer of every department)"
        ) from None


def set_subscription_active(engine: Engine, subscription_id: int, active: bool, *, departments: Sequence[str] | None = None) -> None:
    """Switch a subscription on or off (``departments``: as for ``add_subscription``; a
    subscription the viewer may not see is not found)."""
    with scoped_transaction(engine, departments) as conn:
        known = conn.execute(sa.text("SELECT COUNT(*) FROM subscriptions WHERE subscription_id = :id"), {"id": subscription_id}).scalar_one()
        if not known:
            raise NotifyError(f"no subscription {subscription_id}")
        conn.execute(sa.text("UPDATE subscriptions SET active = :active WHERE subscription_id = :id"), {"active": active, "id": subscription_id})


def subscriptions(engine: Engine, departments: Sequence[str]) -> pl.DataFrame:
    """The subscriptions the viewer may see (extract subscriptions)."""
    return stored_extract(engine, "subscriptions", departments, table="subscriptions")


def notification_log(engine: Engine, departments: Sequence[str]) -> pl.DataFrame:
    """What was sent or failed, per subscription the viewer may see, newest first."""
    return stored_extract(engine, "notifications", departments, table="notifications")


__all__ = ["CHANNELS", "RULES", "Subscription", "add_subscription", "notification_log", "set_subscription_active", "shown_address", "subscriptions", "whose_subscriptions"]


def may_subscribe(viewer: Viewer, subscription: Subscription, visible: Sequence[str], services: Mapping[str, str]) -> list[str]:
    """Why ``viewer`` may not store ``subscription`` ([] when they may).

    An administrator may subscribe anyone to anything. Anyone else subscribes only their
    own address (the viewer's name is their signed-in email) by email, and only to a scope
    inside the departments ``visible`` to them: a department of theirs, or a service whose
    department (``services``: service -> department) is theirs. "Any department" pools
    departments, so only a viewer of every department may choose it."""
    if may(viewer, "admin"):
        return []
    found = []
    if subscription.channel == "email" and subscription.address.strip(" ").lower() != viewer.name.strip().lower():
        found.append(f"you may subscribe only your own address ({viewer.name}); an administrator may subscribe others")
    if subscription.channel == "webhook":
        found.append("only an administrator may add a webhook")
    department = subscription.department_id or (services.get(subscription.service_id) if subscription.service_id else None)
    if department is None and viewer.departments is not ALL:
        found.append("choose one of your departments or services: a scope over every department is for a viewer of every department")
    elif department is not None and department not in visible:
        found.append("that scope is not one of your departments")
    return found


def whose_subscriptions(viewer: Viewer, subscribed: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``subscribed`` that ``viewer`` may see and manage: every one for an
    administrator; anyone else only their own, by email to their signed-in address (the
    others' addresses, and webhooks, are not theirs to read or to pause)."""
    if may(viewer, "admin"):
        return subscribed
    return subscribed.filter(
        (pl.col("channel") == "email") & (pl.col("address").str.strip_chars(" ").str.to_lowercase() == viewer.name.strip().lower())
    )


def shown_address(channel: str, address: str) -> str:
    """An address as a page may show it: an email as it is; a webhook by its scheme and
    host only, since its path and query often hold the token that lets anyone post."""
    if channel != "webhook":
        return address
    name = webhook_name(address)
    if name is not None:
        url, _ = webhook_url(address)
        host = urlsplit(url).hostname if url else None
        return f"webhook {name} ({host})" if host else f"webhook {name} (not configured)"
    parts = urlsplit(address)  # a URL stored by an older version: never sent now, and shown by host only
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "(a webhook)"
