"""Tiny hand-made facts for the metric tests. Times are given in UK local time (the
office's zone) and stored in UTC, as the database does."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl

from data.fact_frames import Facts

ZONE = "Europe/London"
_UTC = ZoneInfo("UTC")


def utc(local: str | None) -> datetime | None:
    """'2026-03-02 09:00' local UK time -> naive UTC datetime."""
    if local is None:
        return None
    moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(ZONE))
    return moment.astimezone(_UTC).replace(tzinfo=None)


def cases(*rows: dict) -> pl.DataFrame:
    """Rows give submitted_at, closed_at, due_at (local), and cancelled=True for a case that
    ended cancelled or withdrawn (the frame has a cancelled column only when a row names it,
    as an export without cancellations has none)."""
    defaults = dict(department_id="d1", service_id="s1", office_id="o1", region="r1", timezone=ZONE, channel="online", sla_days=10, due_at=None, closed_at=None)
    records = []
    for number, row in enumerate(rows, start=1):
        record = {**defaults, **row}
        records.append(
            {
                "case_id": record.get("case_id", number),
                "department_id": record["department_id"],
                "service_id": record["service_id"],
                "office_id": record["office_id"],
                "region": record["region"],
                "timezone": record["timezone"],
                "channel": record["channel"],
                "sla_days": record["sla_days"],
                "submitted_at": utc(record["submitted_at"]),
                "due_at": utc(record["due_at"]),
                "closed_at": utc(record["closed_at"]),
                "status": ("cancelled" if record.get("cancelled") else "closed") if record["closed_at"] else "open",
                "outcome": None,
                **({"cancelled": bool(record.get("cancelled"))} if any("cancelled" in each for each in rows) else {}),
            }
        )
    return pl.DataFrame(
        records,
        schema={
            "case_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "office_id": pl.String,
            "region": pl.String, "timezone": pl.String, "channel": pl.String, "sla_days": pl.Int32,
            "submitted_at": pl.Datetime("us"), "due_at": pl.Datetime("us"), "closed_at": pl.Datetime("us"),
            "status": pl.String, "outcome": pl.String,
            **({"cancelled": pl.Boolean} if any("cancelled" in each for each in rows) else {}),
        },
    )


def contacts(*rows: dict) -> pl.DataFrame:
    """Rows give arrived (local), wait (s, None for abandoned), handle (s) or gave_up (s),
    and resolved (first-contact resolution: True, False or None for not recorded)."""
    records = []
    for number, row in enumerate(rows, start=1):
        arrived = utc(row["arrived"])
        abandoned = row.get("wait") is None
        answered = None if abandoned else _plus(arrived, row["wait"])
        ended = _plus(arrived, row["gave_up"]) if abandoned else _plus(answered, row.get("handle", 300))
        records.append(
            {
                "contact_id": number, "department_id": row.get("department_id", "d1"), "service_id": row.get("service_id", "s1"),
                "office_id": row.get("office_id", "o1"), "region": "r1", "timezone": ZONE, "channel": row.get("channel", "phone"),
                "arrived_at": arrived, "answered_at": answered, "ended_at": ended, "abandoned": abandoned,
                "resolved_first_contact": row.get("resolved"),
            }
        )
    return pl.DataFrame(
        records,
        schema={
            "contact_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "office_id": pl.String,
            "region": pl.String, "timezone": pl.String, "channel": pl.String, "arrived_at": pl.Datetime("us"),
            "answered_at": pl.Datetime("us"), "ended_at": pl.Datetime("us"), "abandoned": pl.Boolean,
            "resolved_first_contact": pl.Boolean,
        },
    )


def _plus(moment: datetime | None, seconds: float) -> datetime | None:
    from datetime import timedelta

    return None if moment is None else moment + timedelta(seconds=seconds)


def journeys(*rows: dict) -> pl.DataFrame:
    records = [
        {
            "journey_id": row["id"], "department_id": row.get("department_id", "d1"), "service_id": row.get("service_id", "s1"),
            "started_at": utc(row["started"]), "completed_at": utc(row.get("completed")), "device": row.get("device", "desktop"),
            "resumed_from": row.get("resumed_from"),
        }
        for row in rows
    ]
    return pl.DataFrame(
        records,
        schema={
            "journey_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "started_at": pl.Datetime("us"),
            "completed_at": pl.Datetime("us"), "device": pl.String, "resumed_from": pl.Int64,
        },
    )


def feedback(*ratings: int, at: str = "2026-03-03 12:00", **extra: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "feedback_id": i, "department_id": extra.get("department_id", "d1"), "service_id": extra.get("service_id", "s1"),
                "office_id": extra.get("office_id", "o1"), "region": "r1", "timezone": ZONE, "channel": extra.get("channel", "online"),
                "submitted_at": utc(at), "rating": rating,
            }
            for i, rating in enumerate(ratings, start=1)
        ],
        schema={
            "feedback_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "office_id": pl.String,
            "region": pl.String, "timezone": pl.String, "channel": pl.String, "submitted_at": pl.Datetime("us"), "rating": pl.Int16,
        },
    )


def costs(*rows: tuple[str, str, float], **extra: str) -> pl.DataFrame:
    """Rows: (first day, last day, cost)."""
    return pl.DataFrame(
        [
            {
                "cost_id": i, "department_id": extra.get("department_id", "d1"), "service_id": extra.get("service_id", "s1"),
                "office_id": extra.get("office_id", "o1"), "region": "r1", "channel": None,
                "period_start": date.fromisoformat(first), "period_end": date.fromisoformat(last), "staff_hours": 1.0, "cost": cost,
            }
            for i, (first, last, cost) in enumerate(rows, start=1)
        ],
        schema={
            "cost_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "office_id": pl.String, "region": pl.String,
            "channel": pl.String, "period_start": pl.Date, "period_end": pl.Date, "staff_hours": pl.Float64, "cost": pl.Float64,
        },
    )


def facts(**frames: pl.DataFrame) -> Facts:
    return Facts(**frames, timezone=ZONE)
