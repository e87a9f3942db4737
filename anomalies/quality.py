"""Detection quality against the generator's ``incidents`` table.

Definitions (also in bench/anomaly_quality.py, which prints the figures):

- An incident's *scopes* are its service, office and channel and every parent of them:
  a service's department and the total; an office's or a channel's parent is the total
  (regions are not scopes). An online outage of "every digital service" (no service
  recorded) names every digital service, so each of them and their departments count.
- An incident's *days* are the local dates from its start to its end. A flag may trail
  its incident by ``TRAIL_DAYS[kind]`` days: ratings are given after the event (one
  day), walk-in surges leave a queue of cases behind (three days), and a processing
  slowdown shows in processing times, on-time rates and backlogs as the queue it leaves
  clears (28 days).
- A daily flag is *inside* an incident when its scope is one of the incident's scopes
  and its first day lies within the incident's days or the trail after them.
- *Recall*: the share of incidents with a daily flag inside them whose first day is at
  most ``DETECT_DAYS[kind]`` days after the incident's start: one day for every kind (a
  processing slowdown cuts closures from its first day, as the checks under way slow
  down too; see data/generate.py ``_slowed_checks``).
- *Precision*: the share of flagged scope-days (distinct scope and first day of a daily
  flag, whatever its KPI) that are inside an incident.
- *False alarms per series per month*: daily flags not inside any incident, divided by
  the series-months scored (a series is one KPI of one scope at one grain; its months
  are its scored days / 30.44).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import polars as pl

TRAIL_DAYS = {"online_outage": 1, "phone_fault": 1, "demand_surge": 3, "processing_slowdown": 28}
# How long after its start a flag still counts as detecting the incident "within a day".
DETECT_DAYS = {"online_outage": 1, "phone_fault": 1, "demand_surge": 1, "processing_slowdown": 1}
DAYS_PER_MONTH = 30.44


def incident_days(incidents: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """incident_id, kind, first_day, last_day (local dates) of each incident."""
    zone, utc = ZoneInfo(timezone), ZoneInfo("UTC")
    rows = []
    for row in incidents.iter_rows(named=True):
        start = row["starts_at"].replace(tzinfo=utc).astimezone(zone)
        end = (row["ends_at"] - timedelta(microseconds=1)).replace(tzinfo=utc).astimezone(zone)
        rows.append({"incident_id": row["incident_id"], "kind": row["kind"], "first_day": start.date(), "last_day": end.date()})
    return pl.DataFrame(rows, schema={"incident_id": pl.Int32, "kind": pl.String, "first_day": pl.Date, "last_day": pl.Date})


def incident_scopes(incidents: pl.DataFrame, services: pl.DataFrame) -> pl.DataFrame:
    """incident_id, scope_kind, scope_id: the scopes each incident is matched in."""
    department_of = dict(zip(services["service_id"], services["department_id"], strict=True))
    digital = services.filter(pl.col("digital"))["service_id"].to_list()
    rows: list[tuple[int, str, str]] = []
    for row in incidents.iter_rows(named=True):
        number = row["incident_id"]
        rows.append((number, "total", "all"))
        named_services = [row["service_id"]] if row["service_id"] else (digital if row["kind"] == "online_outage" else [])
        for service in named_services:
            rows.append((number, "service", service))
            if department_of.get(service):
                rows.append((number, "department", department_of[service]))
        if row["office_id"]:
            rows.append((number, "office", row["office_id"]))
        if row["channel"]:
            rows.append((number, "channel", row["channel"]))
    return pl.DataFrame(rows, schema={"incident_id": pl.Int32, "scope_kind": pl.String, "scope_id": pl.String}, orient="row").unique(maintain_order=True)


@dataclass(frozen=True)
class Quality:
    recall: float
    precision: float
    false_alarms_per_series_month: float
    incidents: pl.DataFrame  # one row per incident: detected, delay_days, flags inside
    flagged: pl.DataFrame  # one row per flagged scope-day: inside, incident_id
    series: int
    series_months: float
    false_flags: int


def evaluate(
    flags: pl.DataFrame,
    scores: pl.DataFrame,
    incidents: pl.DataFrame,
    services: pl.DataFrame,
    timezone: str,
    *,
    grain: str = "day",
    detect_days: dict[str, int] | None = None,
) -> Quality:
    """Recall, precision and false alarms of ``flags`` (see the module docstring).
    detect_days: how late a flag may start and still detect an incident, per kind."""
    allowance = detect_days or DETECT_DAYS
    days = incident_days(incidents, timezone)
    scopes = incident_scopes(incidents, services)
    windows = days.join(scopes, on="incident_id").with_columns(
        (pl.col("last_day") + pl.duration(days=pl.col("kind").replace_strict(TRAIL_DAYS, return_dtype=pl.Int64))).alias("trail_end"),
        (pl.col("first_day") + pl.duration(days=pl.col("kind").replace_strict(allowance, return_dtype=pl.Int64))).alias("detect_end"),
    )
    mine = flags.filter(pl.col("grain") == grain)
    step = 1 if grain == "day" else 7
    matched = mine.join(windows, on=["scope_kind", "scope_id"], how="inner").filter(
        (pl.col("first_day") + pl.duration(days=step - 1) >= pl.col("first_day_right")) & (pl.col("first_day") <= pl.col("trail_end"))
    )
    flagged = (
        mine.select("scope_kind", "scope_id", "first_day").unique()
        .join(matched.group_by("scope_kind", "scope_id", "first_day").agg(pl.col("incident_id").min()), on=["scope_kind", "scope_id", "first_day"], how="left")
        .with_columns(pl.col("incident_id").is_not_null().alias("inside"))
        .sort("first_day", "scope_kind", "scope_id")
    )
    detections = matched.filter(pl.col("first_day") <= pl.col("detect_end")).group_by("incident_id").agg(
        (pl.col("first_day") - pl.col("first_day_right")).dt.total_days().min().alias("delay_days"),
        pl.col("detected_on").min().alias("detected_on"),
    )
    inside_counts = matched.group_by("incident_id").agg(pl.len().alias("flags_inside"), pl.col("scope_id").unique().sort().str.join(",").alias("scopes_flagged"))
    per_incident = (
        days.join(incidents.select("incident_id", "service_id", "office_id", "channel"), on="incident_id")
        .join(detections, on="incident_id", how="left")
        .join(inside_counts, on="incident_id", how="left")
        .with_columns(pl.col("delay_days").is_not_null().alias("detected"), pl.col("flags_inside").fill_null(0))
        .sort("first_day")
    )
    mine_keys = mine.join(flagged.select("scope_kind", "scope_id", "first_day", "inside"), on=["scope_kind", "scope_id", "first_day"])
    false_flags = mine_keys.filter(~pl.col("inside")).height
    scored = scores.filter((pl.col("grain") == grain) & pl.col("scored")).group_by("scope_kind", "scope_id", "kpi").agg(pl.len().alias("periods"))
    series = scored.height
    series_months = float(scored["periods"].sum() or 0) * step / DAYS_PER_MONTH
    recall = per_incident["detected"].mean() if per_incident.height else float("nan")
    precision = flagged["inside"].mean() if flagged.height else float("nan")
    rate = false_flags / series_months if series_months else float("nan")
    return Quality(float(recall), float(precision), rate, per_incident, flagged, series, series_months, false_flags)
