"""The database side of anomaly detection: read the facts, run the detector, store the
run; read stored flags, scores and acknowledgements (subscriptions and the notification
log are notify.subscriptions').

Everything is read through the extracts of sql/ (department-scoped, checked columns) and
written with short transactions (bulk loads for runs, one row for an acknowledgement or
a subscription), so that the dashboard on DuckDB can write through the same engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anomalies import AnomalyError
from anomalies.detect import SCOPE_KINDS, DetectionSettings, detect
from anomalies.explain import Names, child_values, explain, sentence
from anomalies.series import department_of_scope, known_days, kpi_values
from data.access import visible_departments
from data.database import bulk_load, connect, create_schema, table_names
from data.extracts import load_extract, run_extract
from data.facts import data_extent, load_facts, organisation_timezone
from data.row_security import scoped_transaction
from forecasting.store import JOB_VIEWER, code_version
from metrics.periods import week_label

ANOMALY_RUN_TABLES = ("anomaly_flags", "anomaly_scores", "anomaly_runs")
ACK_STATUSES = ("acknowledged", "known", "open")
KEEP_RUNS = 5  # flags of older runs are removed when a run is stored
HISTORY_DAYS = 3 * 366  # how far back a run looks (the detector needs a year and 8 weeks)


@dataclass(frozen=True)
class Detection:
    """What one run found: flags with their explanations, and the scores."""

    flags: pl.DataFrame
    scores: pl.DataFrame
    data_first: dt.date
    data_end: dt.date
    settings: DetectionSettings
    seconds: dict[str, float]

    @property
    def series_count(self) -> int:
        return self.scores.filter(pl.col("scored")).select("grain", "scope_kind", "scope_id", "kpi").n_unique()


def flag_key(grain: str, scope_kind: str, scope_id: str, kpi: str, direction: str, first_day: dt.date, detector: str) -> str:
    """The identity of an anomaly across runs (a combination is keyed as such)."""
    what = "combination" if detector == "isolation_forest" else kpi
    return f"{grain}|{scope_kind}|{scope_id}|{what}|{direction}|{first_day.isoformat()}"


def _names(engine: Engine, departments: Sequence[str]) -> Names:
    services = run_extract(engine, "services", departments=list(departments))
    offices = run_extract(engine, "offices", departments=list(departments))
    names = run_extract(engine, "departments", departments=list(departments))
    return Names(
        dict(zip(services["service_id"], services["name"], strict=True)),
        dict(zip(offices["office_id"], offices["name"], strict=True)),
        dict(zip(names["department_id"], names["name"], strict=True)),
    )


def run_detection(
    engine: Engine,
    settings: DetectionSettings | None = None,
    *,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Detection:
    """Read every department's facts, compute every watched series with the metric
    engine, score and flag them, and explain each flag. The run sees every department
    (flags carry their department for access control on the way out)."""
    settings = settings or DetectionSettings()
    say = progress or (lambda _message: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    departments = list(visible_departments(engine, JOB_VIEWER))
    offices = run_extract(engine, "offices", departments=departments)
    services = run_extract(engine, "services", departments=departments)
    extent = data_extent(engine, departments, organisation_timezone(offices)) if departments else None
    if extent is None:
        raise AnomalyError("no cases or contacts to look at: run python -m data generate or import data")
    data_end = min(last_day or extent[1], extent[1])
    data_first = max(first_day or extent[0], extent[0], data_end - dt.timedelta(days=HISTORY_DAYS))
    facts = load_facts(engine, departments, data_first, data_end)
    closures = run_extract(engine, "office_closures", departments=departments, first_day=data_first, last_day=data_end)
    seconds["read"] = time.perf_counter() - started
    say(f"facts read: {data_first} to {data_end} ({seconds['read']:.1f} s)")

    mark = time.perf_counter()
    values = kpi_values(facts, data_first, data_end)
    seconds["metrics"] = time.perf_counter() - mark
    say(f"{values.select('grain', 'scope_kind', 'scope_id', 'kpi').n_unique()} series computed ({seconds['metrics']:.1f} s)")

    mark = time.perf_counter()
    scores, flags = detect(values, known_days(closures, values), settings)
    seconds["detect"] = time.perf_counter() - mark
    say(f"{flags.height} flags ({seconds['detect']:.1f} s)")

    mark = time.perf_counter()
    explained = _explained(facts, flags, data_first, data_end, services, _names(engine, departments))
    seconds["explain"] = time.perf_counter() - mark
    say(f"flags explained ({seconds['explain']:.1f} s)")
    return Detection(explained, scores, data_first, data_end, settings, seconds)


def _explained(facts, flags: pl.DataFrame, first_day: dt.date, last_day: dt.date, services: pl.DataFrame, names: Names) -> pl.DataFrame:
    keys = ["grain", "scope_kind", "scope_id", "kpi", "first_day"]
    if flags.height:
        children = child_values(facts, flags.select(*keys).unique(), first_day, last_day)
        found = explain(flags.select(*keys, "direction").unique(keys), children)
        flags = flags.join(found, on=keys, how="left")
    else:
        flags = flags.with_columns(
            pl.lit(None, dtype=pl.String).alias("explain_dimension"), pl.lit(None, dtype=pl.String).alias("explain_member"),
            pl.lit(None, dtype=pl.Float64).alias("explain_share"), pl.lit(None, dtype=pl.Float64).alias("explain_expected"),
            pl.lit(None, dtype=pl.Float64).alias("explain_actual"),
        )
    rows = []
    for row in flags.iter_rows(named=True):
        rows.append({
            **row,
            "flag_key": flag_key(row["grain"], row["scope_kind"], row["scope_id"], row["kpi"], row["direction"], row["first_day"], row["detector"]),
            "department_id": department_of_scope(row["scope_kind"], row["scope_id"], services),
            "week": week_label(row["first_day"]),
            "explanation": sentence(row, names),
        })
    schema = {**flags.schema, "flag_key": pl.String, "department_id": pl.String, "week": pl.String, "explanation": pl.String}
    return pl.DataFrame(rows, schema=schema)


def store_detection(engine: Engine, detection: Detection, *, started_at: dt.datetime, seconds: float) -> int:
    """Write a run (its flags and scores) in one transaction; return its id. Flags of
    runs older than the last KEEP_RUNS and scores of every older run are removed."""
    create_schema(engine)
    finished_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    services = run_extract(engine, "services", departments=list(visible_departments(engine, JOB_VIEWER)))
    department = {sid: dep for sid, dep in zip(services["service_id"], services["department_id"], strict=True)}
    flags = detection.flags
    scores = detection.scores.filter(pl.col("scored") | pl.col("value").is_not_null())
    with connect(engine, begin=True) as conn:
        run_id = conn.execute(sa.text("SELECT COALESCE(MAX(run_id), 0) + 1 FROM anomaly_runs")).scalar_one()
        run = pl.lit(run_id, dtype=pl.Int64).alias("run_id")
        bulk_load(conn, "anomaly_flags", flags.select(
            run, "flag_key", "grain", "scope_kind", "scope_id", "department_id", "kpi", "detector", "direction",
            "first_day", "detected_on", "last_day", "week", "value", "expected",
            pl.col("lower").alias("lower_bound"), pl.col("upper").alias("upper_bound"), "score", "kpis",
            "explain_dimension", "explain_member", "explain_share", "explain_expected", "explain_actual", "explanation",
        ))
        department_of = (
            pl.when(pl.col("scope_kind") == "department").then(pl.col("scope_id"))
            .when(pl.col("scope_kind") == "service").then(pl.col("scope_id").replace_strict(department, default=None, return_dtype=pl.String))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        bulk_load(conn, "anomaly_scores", scores.select(
            run, "grain", "scope_kind", "scope_id", department_of.alias("department_id"), "kpi", "period_start", "value", "expected",
            (pl.col("expected") - detection.settings.interval_z * pl.col("scale")).alias("lower_bound"),
            (pl.col("expected") + detection.settings.interval_z * pl.col("scale")).alias("upper_bound"),
            "z",
        ))
        conn.execute(sa.text("DELETE FROM anomaly_scores WHERE run_id < :run_id"), {"run_id": run_id})
        conn.execute(sa.text("DELETE FROM anomaly_flags WHERE run_id <= :old"), {"old": run_id - KEEP_RUNS})
        settings = dataclasses.asdict(detection.settings)
        conn.execute(
            sa.text(
                "INSERT INTO anomaly_runs (run_id, started_at, finished_at, data_first, data_end, series_count, "
                "flag_count, settings, code_version, seconds) VALUES (:run_id, :started_at, :finished_at, :data_first, "
                ":data_end, :series_count, :flag_count, :settings, :code_version, :seconds)"
            ),
            {
                "run_id": run_id, "started_at": started_at, "finished_at": max(finished_at, started_at),
                "data_first": detection.data_first, "data_end": detection.data_end,
                "series_count": detection.series_count, "flag_count": flags.height,
                "settings": ", ".join(f"{k}={v}" for k, v in settings.items() if not isinstance(v, dict))[:2000],
                "code_version": code_version(), "seconds": seconds,
            },
        )
    return int(run_id)


# --------------------------------------------------------------------------- reading


def stored_extract(engine: Engine, name: str, departments: Sequence[str], table: str = "anomaly_runs", **params) -> pl.DataFrame:
    """An extract over the anomaly tables; an empty frame before any run was stored."""
    if table not in table_names(engine):
        return pl.DataFrame(schema=load_extract(name).columns)
    return run_extract(engine, name, departments=list(departments), **params)


def latest_run(engine: Engine, departments: Sequence[str]) -> dict | None:
    runs = stored_extract(engine, "anomaly_runs", departments)
    return runs.row(0, named=True) if runs.height else None


def latest_flags(engine: Engine, departments: Sequence[str]) -> pl.DataFrame:
    """The latest run's flags the viewer may see, each with its acknowledgement state
    (status, acked_by, acked_at, note; status 'open' when never acknowledged)."""
    flags = stored_extract(engine, "anomaly_flags", departments)
    states = stored_extract(engine, "anomaly_acks", departments, table="anomaly_acks")
    latest = states.sort("ack_id").unique("flag_key", keep="last").select("flag_key", "status", "acked_by", "acked_at", "note")
    return flags.join(latest, on="flag_key", how="left").with_columns(pl.col("status").fill_null("open"))


def series_scores(engine: Engine, departments: Sequence[str], grain: str, scope_kind: str, scope_id: str, kpi: str) -> pl.DataFrame:
    """The stored scores of one series of the latest run (period_start, value, expected,
    lower_bound, upper_bound, z), if the viewer may see it."""
    return stored_extract(engine, "anomaly_scores", departments, grain=grain, scope_kind=scope_kind, scope_id=scope_id, kpi=kpi)


def acknowledge(
    engine: Engine, key: str, status: str, by: str, note: str = "", *, at: dt.datetime | None = None,
    departments: Sequence[str] | None = None,
) -> None:
    """Record that ``by`` acknowledged the flag ``key``, marked it as known, or reopened it.

    ``departments``: the viewer's (the dashboard's), under which row-level security on
    PostgreSQL lets the write through only for a flag the viewer may see; None for a
    command run as the tables' owner."""
    if status not in ACK_STATUSES:
        raise AnomalyError(f"unknown status {status!r}; use one of {', '.join(ACK_STATUSES)}")
    if not by.strip():
        raise AnomalyError("say who you are: the acknowledgement records a name")
    create_schema(engine)
    at = at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with scoped_transaction(engine, departments) as conn:
        known = conn.execute(sa.text("SELECT COUNT(*) FROM anomaly_flags WHERE flag_key = :key"), {"key": key}).scalar_one()
        if not known:
            raise AnomalyError(f"no stored flag {key!r}: run python -m anomalies detect first")
        conn.execute(
            sa.text("INSERT INTO anomaly_acks (flag_key, status, acked_by, acked_at, note) VALUES (:key, :status, :by, :at, :note)"),
            {"key": key, "status": status, "by": by.strip()[:200], "at": at, "note": note.strip()[:2000] or None},
        )


__all__ = [
    "SCOPE_KINDS", "AnomalyError", "Detection", "acknowledge", "flag_key", "latest_flags", "latest_run",
    "run_detection", "series_scores", "store_detection", "stored_extract",
]
