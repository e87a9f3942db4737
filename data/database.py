"""Which database, how to reach it, and how to bulk-load it.

The database is named by a SQLAlchemy URL in the environment variable KPI_DATABASE_URL.
Without it the project uses an embedded DuckDB file, data/kpi.duckdb, and builds it from
generated data (scale 1) the first time it is needed. PostgreSQL works the same with
``postgresql+psycopg://user@host:port/dbname``.

Every failure to reach the database is raised as a DatabaseError whose message is one
line that says what is wrong and what to do, so that the command line and the dashboard
can show it as it is.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

ENV_VAR = "KPI_DATABASE_URL"
DATA_DIR = Path(__file__).resolve().parent
DEFAULT_DUCKDB_PATH = DATA_DIR / "kpi.duckdb"
SCHEMA_DIR = DATA_DIR.parent / "sql" / "schema"
# Files in sql/schema/ run in name order; the indexes file runs after a bulk load.
INDEX_FILE = "900_indexes.sql"
LOCK_RETRY_SECONDS = 30.0
LINGER_VAR = "KPI_DUCKDB_LINGER_SECONDS"
DEFAULT_LINGER_SECONDS = 0.0  # off: see duckdb_linger_seconds
# The dashboard's PostgreSQL sessions: a query running longer, or waiting longer for a
# lock another session holds, is stopped and said to be "busy" (0 turns a limit off).
# Imports, generation and the batch commands run without them.
STATEMENT_TIMEOUT_SETTING = "KPI_STATEMENT_TIMEOUT_SECONDS"
LOCK_TIMEOUT_SETTING = "KPI_LOCK_TIMEOUT_SECONDS"
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 30.0
DEFAULT_LOCK_TIMEOUT_SECONDS = 5.0
_STATEMENT_TIMEOUT_STATE, _LOCK_TIMEOUT_STATE = "57014", "55P03"  # SQLSTATEs: query_canceled, lock_not_available

SUPPORTED = "use duckdb:///path/to/file.duckdb or postgresql+psycopg://user@host:5432/dbname"


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one line for the user."""


def default_url() -> str:
    return f"duckdb:///{DEFAULT_DUCKDB_PATH}"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else $KPI_DATABASE_URL, else the embedded DuckDB file."""
    chosen = url or os.environ.get(ENV_VAR, "").strip() or default_url()
    # Plain postgresql:// would mean psycopg2, which is not installed: psycopg 3 is.
    return re.sub(r"^(postgres|postgresql)://", "postgresql+psycopg://", chosen)


def backend(engine: Engine) -> str:
    """'duckdb' or 'postgresql'."""
    return engine.dialect.name


def duckdb_path(url: str) -> Path | None:
    """The file of a duckdb:/// URL, or None for an in-memory database."""
    parsed = sa.engine.make_url(url)
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def busy_timeouts() -> tuple[float, float]:
    """(statement, lock) timeouts in seconds from the settings; 0 means none."""
    found = []
    for name, default in ((STATEMENT_TIMEOUT_SETTING, DEFAULT_STATEMENT_TIMEOUT_SECONDS),
                          (LOCK_TIMEOUT_SETTING, DEFAULT_LOCK_TIMEOUT_SECONDS)):
        text = os.environ.get(name, "").strip()
        try:
            value = float(text) if text else default
        except ValueError:
            value = -1.0
        if not 0 <= value < 86_400:
            raise DatabaseError(f"{name} {text!r} is not a number of seconds (0 for no limit)")
        found.append(value)
    return found[0], found[1]


def busy_error(engine: Engine, error: BaseException) -> DatabaseError | None:
    """The one-line "busy" error for a query stopped by a timeout, else None (psycopg's
    and ADBC's errors alike: by SQLSTATE, else by PostgreSQL's words)."""
    cause = getattr(error, "orig", None) or error
    state = getattr(cause, "sqlstate", None)
    text = str(cause)
    statement, lock = busy_timeouts()
    if state == _LOCK_TIMEOUT_STATE or "canceling statement due to lock timeout" in text:
        return DatabaseError(
            f"the database is busy: a query on {describe(engine)} waited more than {lock:g} s for data another "
            f"session has locked and was stopped ({LOCK_TIMEOUT_SETTING}); try again in a moment"
        )
    if state == _STATEMENT_TIMEOUT_STATE or "canceling statement due to statement timeout" in text:
        return DatabaseError(
            f"the database is busy: a query on {describe(engine)} ran longer than {statement:g} s and was stopped "
            f"({STATEMENT_TIMEOUT_SETTING}); try again in a moment"
        )
    return None


def _raise_busy(context: sa.engine.ExceptionContext) -> None:
    busy = busy_error(context.engine, context.original_exception) if context.engine is not None else None
    if busy is not None:
        raise busy from context.original_exception


def libpq_uri(engine: Engine) -> str:
    """The engine's PostgreSQL URL as libpq reads it (spaces in options as %20, not +)."""
    url = engine.url
    text = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    if url.query:
        text += "?" + urllib.parse.urlencode(url.query, doseq=True, quote_via=urllib.parse.quote)
    return text


def duckdb_linger_seconds() -> float:
    """How long the dashboard keeps an idle DuckDB connection open (KPI_DUCKDB_LINGER_SECONDS;
    default 0: a connection per unit of work). Off by default: while sessions keep
    querying, a pool is never idle for the linger, and an import or forecast run in another
    process waiting for the file's lock could wait past its 30 s and fail. On a
    single-user dashboard 1 s saves a cold drill-down its 26 openings of the file."""
    raw = os.environ.get(LINGER_VAR, "").strip()
    if not raw:
        return DEFAULT_LINGER_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise DatabaseError(f"{LINGER_VAR}={raw!r} is not a number of seconds") from None
    if seconds < 0:
        raise DatabaseError(f"{LINGER_VAR}={raw!r}: a linger cannot be negative")
    return seconds


def _close_when_idle(engine: Engine, linger: float) -> None:
    """Close the engine's pooled DuckDB connections (releasing the file's lock) once none has
    been checked out for ``linger`` seconds. Opening a DuckDB file costs 40-60 ms, and a
    cold drill-down ran 26 extracts, each on a connection of its own; pooled, a page's
    burst of extracts shares one or two, and another process waits at most about the
    linger (``connect`` retries a locked file for LOCK_RETRY_SECONDS)."""
    last_used = [time.monotonic()]
    wake = threading.Event()

    def used(*_args) -> None:
        last_used[0] = time.monotonic()
        wake.set()

    # pool events on the engine: they follow its pool through engine.dispose()
    sa.event.listen(engine, "checkout", used)
    sa.event.listen(engine, "checkin", used)

    def watch(engine_ref: weakref.ref) -> None:
        while True:
            woken = wake.wait(timeout=30)
            if woken:
                time.sleep(linger / 2)
            watched = engine_ref()
            if watched is None:  # the engine is gone, and with it its pool
                return
            pool = watched.pool
            if woken and pool.checkedout() == 0 and time.monotonic() - last_used[0] >= linger:
                wake.clear()
                pool.dispose()  # closes the idle connections; a checked-out one is untouched
            del watched, pool

    threading.Thread(target=watch, args=(weakref.ref(engine),), name="duckdb-linger", daemon=True).start()


def create_engine(url: str | None = None, *, timeouts: bool = False, linger: bool = False) -> Engine:
    """A SQLAlchemy engine for the URL, checked enough to fail with a clear message.

    Raises DatabaseError for an unknown scheme, a malformed URL or a DuckDB file whose
    folder does not exist. Reachability is checked on first use (see ``connect``).
    ``timeouts``: PostgreSQL sessions stop a query after the statement and lock timeouts
    (``busy_timeouts``) and raise the one-line "busy" DatabaseError (for the dashboard).
    ``linger``: DuckDB connections are pooled and closed after an idle linger
    (KPI_DUCKDB_LINGER_SECONDS; the dashboard's sessions); otherwise one per unit of work.
    """
    url = database_url(url)
    source = "KPI_DATABASE_URL" if os.environ.get(ENV_VAR) else "database URL"
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise DatabaseError(f"{source} {url!r} is not a database URL: {SUPPORTED}") from None
    scheme = parsed.drivername
    if scheme == "duckdb":
        path = duckdb_path(url)
        if path is not None and not path.parent.is_dir():
            raise DatabaseError(
                f"{source} {url!r}: the folder {path.parent} does not exist; create it or "
                "point the URL at an existing folder"
            )
        # The file's lock is held only while working, so that other processes (an import,
        # the forecast run) can take turns: a connection per unit of work, or (``linger``,
        # the dashboard's sessions) connections pooled while a page works through its
        # extracts and closed once the pool has been idle for the linger. Batch work
        # (imports, builds, commands) opens and closes the file itself: an import that
        # checks whether another process wrote the file must not keep it open meanwhile.
        seconds = duckdb_linger_seconds() if linger else 0
        if not seconds:
            return sa.create_engine(url, poolclass=NullPool)
        engine = sa.create_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=16, pool_timeout=LOCK_RETRY_SECONDS)
        _close_when_idle(engine, seconds)
        return engine
    if scheme in ("postgresql+psycopg",):
        if timeouts:
            statement, lock = busy_timeouts()
            given = parsed.query.get("options", "")
            options = " ".join(part for part in (given if isinstance(given, str) else " ".join(given),
                                                 f"-c statement_timeout={round(statement * 1000)}",
                                                 f"-c lock_timeout={round(lock * 1000)}") if part)
            parsed = parsed.update_query_dict({"options": options})  # ADBC's sessions read it from the URL too
        engine = sa.create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5, "application_name": "kpi-dashboard"},
        )
        sa.event.listen(engine, "handle_error", _raise_busy)
        return engine
    raise DatabaseError(f"{source} {url!r} has an unknown scheme {scheme!r}: {SUPPORTED}")


def describe(engine: Engine) -> str:
    """The database for messages, without any password."""
    url = engine.url
    if url.drivername == "duckdb":
        return f"DuckDB file {url.database}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _is_lock_error(error: BaseException) -> bool:
    text = str(error)
    return "Could not set lock on file" in text or "Conflicting lock is held" in text


@contextlib.contextmanager
def connect(engine: Engine, *, begin: bool = False) -> Iterator[Connection]:
    """A connection (in a transaction when ``begin``), with one-line errors.

    A DuckDB file locked by another process is retried for LOCK_RETRY_SECONDS before
    giving up with a message that says so.
    """
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    delay = 0.05
    while True:
        try:
            conn = engine.connect()
            break
        except sa.exc.DBAPIError as error:
            if backend(engine) == "duckdb" and _is_lock_error(error):
                if time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                raise DatabaseError(
                    f"{describe(engine)} is locked by another process (an import or a "
                    f"forecast run?); retried for {LOCK_RETRY_SECONDS:.0f} s. Try again when "
                    "it has finished."
                ) from None
            first_line = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise DatabaseError(f"cannot connect to {describe(engine)}: {first_line}") from None
    try:
        if begin:
            with conn.begin():
                yield conn
        else:
            yield conn
    finally:
        conn.close()


def check(engine: Engine) -> None:
    """Raise DatabaseError unless the database answers a trivial query."""
    with connect(engine) as conn:
        conn.execute(sa.text("SELECT 1"))


def schema_statements(include_indexes: bool = True, dialect: str = "postgresql") -> list[str]:
    """The DDL statements of sql/schema/, in file order (indexes as ``index_statements``)."""
    statements = []
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        if path.name == INDEX_FILE:
            if include_indexes:
                statements.extend(index_statements(dialect))
            continue
        statements.extend(split_statements(path.read_text()))
    return statements


def index_statements(dialect: str) -> list[str]:
    """The secondary indexes of sql/schema/900_indexes.sql, where they pay.

    The file runs unchanged on both databases (tests/sql/test_schema.py runs it on each),
    but it is applied on PostgreSQL only: DuckDB answers the extracts' range filters from
    its zone maps, while an ART index on a timestamp must be kept in memory and rebuilt
    on every bulk write (measured: it was two thirds of an import's write time and a
    third of generating scale 1).
    """
    if dialect != "postgresql":
        return []
    return split_statements((SCHEMA_DIR / INDEX_FILE).read_text())


def split_statements(script: str) -> list[str]:
    """Split a DDL script on semicolons at line ends, dropping comment-only pieces."""
    pieces = re.split(r";\s*(?:\n|$)", script)
    kept = []
    for piece in pieces:
        code = "\n".join(
            line for line in piece.splitlines() if not line.strip().startswith("--")
        ).strip()
        if code:
            kept.append(code)
    return kept


def schema_tables() -> list[str]:
    """The names of the tables sql/schema/ creates, in file order."""
    return [
        match.group(1)
        for statement in schema_statements(include_indexes=False)
        if (match := re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", statement))
    ]


def _owned_by_another_role(conn: Connection) -> bool:
    """PostgreSQL: whether this session's role is neither the owner of the data model's
    existing tables nor a member of it (the dashboard's role of row-level security, which
    may not change the schema)."""
    return bool(conn.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename IN :tables AND NOT pg_has_role(tableowner, 'USAGE'))"
        ).bindparams(sa.bindparam("tables", expanding=True)),
        {"tables": schema_tables()},
    ).scalar_one())


def create_schema(engine: Engine, *, include_indexes: bool = True) -> None:
    """Create every table (and index) that does not exist yet. Idempotent.

    On PostgreSQL a session whose role does not own the tables (the dashboard's role, see
    data/row_security.py) leaves the schema to its owner: it only checks that every table
    is there, and raises DatabaseError naming those that are not.
    """
    with connect(engine, begin=True) as conn:
        if backend(engine) == "postgresql" and _owned_by_another_role(conn):
            present = set(sa.inspect(conn).get_table_names())
            missing = [table for table in schema_tables() if table not in present]
            if missing:
                raise DatabaseError(
                    f"{describe(engine)} has no table {', '.join(missing)}, and this role does not own the others: "
                    "create them as their owner (python -m data ensure --database OWNER_URL)"
                )
            return
        for statement in schema_statements(include_indexes, backend(engine)):
            conn.exec_driver_sql(statement)
        _widen_checks(conn, backend(engine))


# Codes added to a CHECK after databases were built with the narrower list: (table, a code
# only the current list has, the column the checks are on). The current checks themselves
# come from the table's DDL in sql/schema/, the one place they are written.
WIDENED_CHECKS: tuple[tuple[str, str, str], ...] = (
    ("cases", "cancelled", "status"),
    ("offices", "area", "kind"),
)


def _current_table(table: str, dialect: str, name: str, *, temporary: bool = False) -> str:
    """The CREATE TABLE of ``table`` in sql/schema/, for a table called ``name``."""
    create = next(s for s in schema_statements(False, dialect) if re.match(rf"CREATE TABLE IF NOT EXISTS {table} \(", s))
    return create.replace(f"CREATE TABLE IF NOT EXISTS {table} (", f"CREATE {'TEMP ' if temporary else ''}TABLE {name} (", 1)


def _check_definitions(conn: Connection, table: str) -> list[tuple[str, str]]:
    """PostgreSQL: (name, definition) of the table's CHECK constraints."""
    return conn.execute(
        sa.text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(:table) AND contype = 'c'"),
        {"table": table},
    ).all()


def _widen_checks(conn: Connection, dialect: str) -> None:
    """Bring a database built before a code was added (a cancelled case, an office that is
    an area) up to the current CHECK constraints, keeping every row: CREATE TABLE IF NOT
    EXISTS leaves an existing table's checks as they were. PostgreSQL replaces the
    constraints on the column with those of a scratch table made from the current DDL;
    DuckDB, which cannot drop a constraint, copies the table into one created from the
    current DDL (rows that met the old checks meet the new ones)."""
    for table, code, column in WIDENED_CHECKS:
        if dialect == "duckdb":
            ddl = conn.execute(
                sa.text("SELECT sql FROM duckdb_tables() WHERE table_name = :table AND schema_name = current_schema()"),
                {"table": table},
            ).scalar_one_or_none()
            if ddl is None or f"'{code}'" in ddl:
                continue
            conn.exec_driver_sql(_current_table(table, dialect, f"{table}__widened"))
            conn.exec_driver_sql(f"INSERT INTO {table}__widened BY NAME SELECT * FROM {table}")
            conn.exec_driver_sql(f"DROP TABLE {table}")
            conn.exec_driver_sql(f"ALTER TABLE {table}__widened RENAME TO {table}")
        elif dialect == "postgresql":
            found = _check_definitions(conn, table)
            if any(f"'{code}'" in definition for _, definition in found):
                continue
            on_column = re.compile(rf"\b{column}\b")
            conn.exec_driver_sql(_current_table(table, dialect, f"{table}__current", temporary=True))
            current = [definition for _, definition in _check_definitions(conn, f"{table}__current") if on_column.search(definition)]
            conn.exec_driver_sql(f"DROP TABLE {table}__current")
            for name, definition in found:
                if on_column.search(definition):
                    conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for number, definition in enumerate(current):
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_check{number or ''} {definition}")


def table_names(engine: Engine) -> set[str]:
    with connect(engine) as conn:
        return set(sa.inspect(conn).get_table_names())


def bulk_load(conn: Connection, table: str, frame: pl.DataFrame) -> int:
    """Append a frame to a table in bulk (Arrow on DuckDB, COPY on PostgreSQL).

    The frame's column names must be columns of the table; ``table`` must be a trusted
    name (it is not bound). Returns the number of rows written.
    """
    if frame.height == 0:
        return 0
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"not a table name: {table!r}")
    columns = ", ".join(frame.columns)
    name = conn.dialect.name
    if name == "duckdb":
        raw = conn.connection.driver_connection
        raw.register("_bulk_frame", frame.to_arrow())
        try:
            raw.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _bulk_frame")
        finally:
            raw.unregister("_bulk_frame")
        return frame.height
    if name == "postgresql":
        raw = conn.connection.driver_connection
        # Booleans as t/f and timestamps in ISO form are what COPY's CSV reader expects.
        text_frame = frame.with_columns(
            pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Boolean
        )
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT CSV)") as copy:
            for start in range(0, text_frame.height, 200_000):
                buffer = io.BytesIO()
                text_frame.slice(start, 200_000).write_csv(
                    buffer, include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.6f"
                )
                copy.write(buffer.getvalue())
        return frame.height
    raise DatabaseError(f"bulk load is not supported on {name}")
