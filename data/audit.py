"""The audit: an append-only record of who did what and when.

Every action a person takes that shows or moves data is one row of ``audit_events``
(sql/schema/070_audit.sql): signing in and out, opening a page with its filters, the
rows behind a number (with how many), a download (with its file and rows), an
acknowledgement, a subscription switched on or off, an import. Nothing here updates or
deletes a row, and on PostgreSQL the dashboard's role cannot either. Administrators read
it on the Audit page (``events``).

    record(engine, viewer, "download", page="drilldown", detail={"file": "on-time.csv"}, row_count=812)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from data.access import Viewer
from data.extracts import run_extract
from data.row_security import scoped_transaction

ACTIONS = ("sign_in", "sign_out", "page", "rows", "download", "acknowledge", "subscribe", "unsubscribe", "import")
ACTION_WORDS = {
    "sign_in": "Signed in", "sign_out": "Signed out", "page": "Opened a page", "rows": "Listed the rows behind a number",
    "download": "Downloaded a file", "acknowledge": "Acknowledged an anomaly", "subscribe": "Subscribed",
    "unsubscribe": "Switched a subscription off", "import": "Imported a file",
}
COMMAND_LINE = Viewer("command line")  # who a command (an import) runs as
DETAIL_CHARACTERS = 4000


class AuditError(ValueError):
    """An action the audit does not know."""


def who(viewer: Viewer) -> tuple[str, str | None]:
    """The subject and email an event records for ``viewer``."""
    if viewer == Viewer.local_admin():
        return "local", None
    if viewer == COMMAND_LINE:
        return "command line", None
    email = viewer.name if "@" in viewer.name else None
    return (viewer.subject or viewer.name)[:200], email


def record(
    engine: Engine,
    viewer: Viewer,
    action: str,
    *,
    page: str | None = None,
    detail: Mapping[str, Any] | None = None,
    row_count: int | None = None,
    departments: Sequence[str] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Add one event in a transaction of its own. ``departments``: the viewer's, for the
    transaction's row-level security setting on PostgreSQL (None: run as the tables'
    owner, for commands)."""
    with scoped_transaction(engine, departments) as conn:
        insert(conn, viewer, action, page=page, detail=detail, row_count=row_count, at=at)


def insert(
    conn: Connection,
    viewer: Viewer,
    action: str,
    *,
    page: str | None = None,
    detail: Mapping[str, Any] | None = None,
    row_count: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Add one event on ``conn``, inside the caller's transaction (an import records
    itself with the rows it loads: both or neither)."""
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}; use one of {', '.join(ACTIONS)}")
    subject, email = who(viewer)
    text = json.dumps(dict(detail or {}), sort_keys=True, default=str, ensure_ascii=False)
    if len(text) > DETAIL_CHARACTERS:
        text = text[: DETAIL_CHARACTERS - 20] + "... (shortened)"
    conn.execute(
        sa.text("INSERT INTO audit_events (happened_at, subject, email, action, page, detail, row_count) VALUES (:happened_at, :subject, :email, :action, :page, :detail, :rows)"),
        {"happened_at": at or dt.datetime.now(dt.UTC).replace(tzinfo=None), "subject": subject, "email": email, "action": action,
         "page": page, "detail": text, "rows": row_count},
    )


def events(engine: Engine, departments: Sequence[str], since: dt.datetime, until: dt.datetime) -> pl.DataFrame:
    """The events in [since, until) UTC, newest first; none unless ``departments`` is
    every department (the audit is for administrators)."""
    return run_extract(engine, "audit_events", departments=departments, since=since, until=until)
