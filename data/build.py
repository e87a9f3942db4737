"""Build a database from generated data, and make sure the default one exists.

Generation replaces the generated tables as a whole: on a DuckDB file it builds a new
file beside the old one and swaps it in when complete (a running dashboard keeps reading
the old file until then); on PostgreSQL it empties and reloads the tables inside one
transaction. Either way a failure halfway leaves the database as it was. What people
decided in the dashboard (acknowledged flags, subscriptions and the notifications sent
for them: USER_TABLES) survives a rebuild on both: PostgreSQL never empties those
tables, and a new DuckDB file gets the old file's rows.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data.database import (
    DEFAULT_DUCKDB_PATH,
    DatabaseError,
    backend,
    bulk_load,
    connect,
    create_engine,
    create_schema,
    database_url,
    describe,
    duckdb_path,
    index_statements,
    schema_statements,
)
from data.generate import Scenario, generate

# What the default database is built from when it is first needed.
DEFAULT_SCENARIO = Scenario()

# Load order; also the order in which a rebuild empties them (facts first).
GENERATED_TABLES = (
    "departments",
    "services",
    "offices",
    "office_hours",
    "office_closures",
    "cases",
    "contacts",
    "journeys",
    "feedback",
    "costs",
    "incidents",
)


# Tables people write through the dashboard and the notifier, with the sequence behind
# each one's id: a rebuilt DuckDB file takes them over from the old one.
USER_TABLES = {"subscriptions": ("subscription_id", "subscription_ids"), "notifications": None,
               "anomaly_acks": ("ack_id", "anomaly_ack_ids"), "releases": None,  # releases: the audit of open data
               "audit_events": ("event_id", "audit_ids"), "kpi_notes": ("note_id", "kpi_note_ids")}


def _carry_user_tables(old: Path, engine: Engine, quiet: bool) -> int:
    """Copy USER_TABLES from the DuckDB file ``old`` into the new database behind
    ``engine`` and move each id sequence past the largest id copied; returns the rows
    copied. A missing table in the old file (an older version) is skipped."""
    if not old.exists():
        return 0
    kept: dict[str, pl.DataFrame] = {}
    old_engine = create_engine(f"duckdb:///{old}")
    try:
        with connect(old_engine) as conn:  # waits while another process holds the file
            present = set(sa.inspect(conn).get_table_names())
            raw = conn.connection.driver_connection
            for table in USER_TABLES:
                if table in present:
                    kept[table] = raw.execute(f"SELECT * FROM {table}").pl()
    except (DatabaseError, sa.exc.DBAPIError) as error:
        print(f"  warning: could not read {', '.join(USER_TABLES)} from the old {old.name} ({str(error).splitlines()[0]}); "
              "they are not carried over to the new file", flush=True)
        return 0
    finally:
        old_engine.dispose()
    copied = 0
    with connect(engine, begin=True) as conn:
        columns = {table: [c["name"] for c in sa.inspect(conn).get_columns(table)] for table in kept}
        for table, frame in kept.items():
            shared = [c for c in frame.columns if c in columns[table]]
            copied += bulk_load(conn, table, frame.select(shared))
            identity = USER_TABLES[table]
            if identity and frame.height:
                column, sequence = identity
                # DuckDB has no setval: draw the sequence up to the largest id copied
                conn.exec_driver_sql(f"SELECT max(nextval('{sequence}')) FROM range({int(frame[column].max())})")
    if copied and not quiet:
        print(f"  kept {copied:,} rows people wrote ({', '.join(f'{t} {f.height:,}' for t, f in kept.items())}) from the old file", flush=True)
    return copied


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (another process building the same file waits)."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_tables(engine: Engine, tables: dict[str, pl.DataFrame], scenario: Scenario, quiet: bool) -> int:
    started = time.monotonic()
    total = 0
    with connect(engine, begin=True) as conn:
        for statement in schema_statements(include_indexes=False):
            conn.exec_driver_sql(statement)
        for name in reversed(GENERATED_TABLES):
            conn.exec_driver_sql(f"TRUNCATE TABLE {name}")
        for name in GENERATED_TABLES:
            written = bulk_load(conn, name, tables[name])
            total += written
            if not quiet:
                print(f"  [{time.monotonic() - started:5.1f} s] loaded {written:>9,} rows into {name}", flush=True)
        for statement in index_statements(conn.dialect.name):
            conn.exec_driver_sql(statement)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")  # fresh statistics for the planner after a bulk load
        next_id = conn.execute(sa.text("SELECT COALESCE(MAX(load_id), 0) + 1 FROM data_loads")).scalar_one()
        details = json.dumps(
            {"seed": scenario.seed, "scale": scenario.scale, "end": scenario.end_date().isoformat()}
        )
        conn.execute(
            sa.text(
                "INSERT INTO data_loads (load_id, kind, source, loaded_at, rows_loaded, details) "
                "VALUES (:load_id, 'generated', 'python -m data generate', :loaded_at, :rows, :details)"
            ),
            {
                "load_id": next_id,
                "loaded_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                "rows": total,
                "details": details,
            },
        )
    if not quiet:
        print(f"  [{time.monotonic() - started:5.1f} s] indexes built, load recorded", flush=True)
    return total


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _build_duckdb_file(path: Path, scenario: Scenario, quiet: bool) -> int:
    """Build a fresh file beside ``path`` and swap it in whole (the caller holds the lock)."""
    partial = path.with_name(path.name + ".building")
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)
    tables = generate(scenario, quiet=quiet)
    partial_engine = create_engine(f"duckdb:///{partial}")
    try:
        total = _load_tables(partial_engine, tables, scenario, quiet)
        _carry_user_tables(path, partial_engine, quiet)
        with connect(partial_engine) as conn:
            conn.exec_driver_sql("CHECKPOINT")
    finally:
        partial_engine.dispose()
    os.replace(partial, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    return total


def build(url: str | None = None, scenario: Scenario | None = None, *, quiet: bool = False) -> int:
    """Generate data for ``scenario`` and load it into the database at ``url``.

    Returns the number of rows loaded. Prints progress unless ``quiet``.
    """
    scenario = scenario or Scenario()
    url = database_url(url)
    engine = create_engine(url)
    if not quiet:
        print(
            f"Generating scale {scenario.scale:g}, seed {scenario.seed}, ending "
            f"{scenario.end_date()} into {describe(engine)}",
            flush=True,
        )
    started = time.monotonic()
    path = duckdb_path(url) if backend(engine) == "duckdb" else None
    if path is None:
        tables = generate(scenario, quiet=quiet)
        total = _load_tables(engine, tables, scenario, quiet)
    else:
        with _file_lock(_lock_path(path)):
            total = _build_duckdb_file(path, scenario, quiet)
    engine.dispose()
    if not quiet:
        print(f"Done: {total:,} rows in {time.monotonic() - started:.1f} s", flush=True)
    return total


def ensure_database(url: str | None = None, *, quiet: bool = False, timeouts: bool = False, linger: bool = False) -> Engine:
    """An engine for ``url``, building the default DuckDB file first if it is missing.

    A database named by the user is never built behind their back: its schema is created
    if absent, and an empty database is left for ``python -m data generate`` or an import.
    ``timeouts``, ``linger``: see ``create_engine`` (the dashboard's sessions).
    """
    url = database_url(url)
    engine = create_engine(url, timeouts=timeouts, linger=linger)
    path = duckdb_path(url) if backend(engine) == "duckdb" else None
    if path is not None and path == DEFAULT_DUCKDB_PATH and not path.exists():
        with _file_lock(_lock_path(path)):
            if not path.exists():  # another process may have built it while we waited
                if not quiet:
                    print(f"No database yet: building {path} from generated data (scale 1).", flush=True)
                _build_duckdb_file(path, DEFAULT_SCENARIO, quiet)
    create_schema(engine)
    return engine


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each table of the data model (for checks and messages)."""
    counts = {}
    with connect(engine) as conn:
        for name in GENERATED_TABLES + ("data_loads",):
            try:
                counts[name] = conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
            except sa.exc.DBAPIError as error:
                raise DatabaseError(f"{describe(engine)} has no table {name}: run python -m data generate") from error
    return counts
