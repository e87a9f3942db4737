"""Run the SQL extracts of sql/ and return checked Polars frames.

An extract is a file ``sql/<name>.sql`` whose leading comment declares it::

    -- grain: one row per case ...
    -- params:
    --   :departments  the department ids the viewer may see (list)
    --   :start        first instant, UTC timestamp, inclusive
    -- columns:
    --   case_id       Int64
    --   service_id    String

Values are always bound, never formatted into the text. Every extract takes
``:departments``, the set of departments the viewer may see: that is the seam access
control uses, so ``run_extract`` refuses a file that does not declare it.

The Arrow path is used on both databases: DuckDB hands back Arrow natively; on
PostgreSQL, ADBC streams the result as binary COPY decoded to Arrow (inside a caller's
open SQLAlchemy connection, COPY ... TO STDOUT as CSV, which Polars parses in one pass).
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Connection, Engine

from data.adbc_pool import POOL
from data.database import DatabaseError, busy_error, connect, describe, libpq_uri
from data.row_security import setting_value, viewer_scope

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

DTYPES: dict[str, pl.DataType] = {
    "Int16": pl.Int16(),
    "Int32": pl.Int32(),
    "Int64": pl.Int64(),
    "Float64": pl.Float64(),
    "String": pl.String(),
    "Boolean": pl.Boolean(),
    "Date": pl.Date(),
    "Time": pl.Time(),
    "Datetime": pl.Datetime("us"),
}


# PostgreSQL's dialect with $1-style placeholders, which is what ADBC binds.
_NUMBERED_POSTGRESQL = PGDialect_psycopg(paramstyle="numeric_dollar")


class ExtractError(ValueError):
    """An extract file is malformed, called wrongly, or returned the wrong shape."""


@dataclass(frozen=True)
class Extract:
    """One parsed extract file."""

    name: str
    grain: str
    params: tuple[str, ...]
    columns: dict[str, pl.DataType]
    sql: str
    path: Path


def extract_names() -> list[str]:
    """Every extract in sql/ (schema files excluded)."""
    return sorted(path.stem for path in SQL_DIR.glob("*.sql"))


@functools.cache
def load_extract(name: str) -> Extract:
    """Parse ``sql/<name>.sql`` (see ``parse_extract``)."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ExtractError(f"not an extract name: {name!r}")
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise ExtractError(
            f"no extract named {name!r}; known extracts: {', '.join(extract_names())}"
        )
    return parse_extract(name, path.read_text(), path)


def parse_extract(name: str, text: str, path: Path | None = None) -> Extract:
    """Parse an extract's text (header comment and SQL); raise ExtractError listing every
    problem found."""
    path = path or SQL_DIR / f"{name}.sql"
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:].rstrip())
    section = None
    grain_lines: list[str] = []
    params: list[str] = []
    columns: dict[str, pl.DataType] = {}
    problems: list[str] = []
    for line in header:
        stripped = line.strip()
        key = re.match(r"^(grain|params|columns):\s*(.*)$", stripped)
        if key:
            section = key.group(1)
            if section == "grain" and key.group(2):
                grain_lines.append(key.group(2))
            continue
        if not stripped:
            continue
        if section == "grain":
            grain_lines.append(stripped)
        elif section == "params":
            match = re.match(r"^:([a-z_][a-z0-9_]*)\b", stripped)
            if match:
                params.append(match.group(1))
        elif section == "columns":
            match = re.match(r"^([a-z_][a-z0-9_]*)\s+(\w+)", stripped)
            if not match:
                problems.append(f"cannot read column line {stripped!r}")
            elif match.group(2) not in DTYPES:
                problems.append(
                    f"column {match.group(1)} has unknown type {match.group(2)!r} "
                    f"(known: {', '.join(DTYPES)})"
                )
            else:
                columns[match.group(1)] = DTYPES[match.group(2)]
    sql = "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()
    sql = sql.rstrip(";").strip()
    used = set(re.findall(r"(?<![:\w]):([a-z_][a-z0-9_]*)", sql))
    if not grain_lines:
        problems.append("the header has no 'grain:'")
    if not columns:
        problems.append("the header declares no 'columns:'")
    if "departments" not in params:
        problems.append("it does not declare :departments (every extract must filter by it)")
    for missing in sorted(used - set(params)):
        problems.append(f"the SQL uses :{missing} but the header does not declare it")
    for unused in sorted(set(params) - used):
        problems.append(f"the header declares :{unused} but the SQL does not use it")
    if problems:
        raise ExtractError(f"sql/{name}.sql: " + "; ".join(problems))
    return Extract(name, " ".join(grain_lines), tuple(params), columns, sql, path)


def _statement(extract: Extract, values: Mapping[str, Any]) -> sa.TextClause:
    statement = sa.text(extract.sql)
    binds = []
    for key, value in values.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
            # An empty list still needs a type, or the empty IN compares with INTEGER.
            kind = None if items else sa.String()
            binds.append(sa.bindparam(key, value=items, expanding=True, type_=kind))
        else:
            binds.append(sa.bindparam(key, value=value))
    return statement.bindparams(*binds)


def _bound_values(extract: Extract, departments: Sequence[str], params: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(departments, str):
        raise ExtractError("departments must be a list of department ids, not one string")
    values = {"departments": list(departments), **params}
    missing = [name for name in extract.params if name not in values]
    unknown = [name for name in values if name not in extract.params]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f":{m}" for m in missing))
        if unknown:
            parts.append("unknown " + ", ".join(f":{u}" for u in unknown))
        raise ExtractError(
            f"extract {extract.name}: {'; '.join(parts)} (it takes "
            f"{', '.join(':' + p for p in extract.params)})"
        )
    for key, value in values.items():
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise ExtractError(
                f"extract {extract.name}: :{key} has a time zone; pass a naive UTC datetime"
            )
    return values


BATCH_ROWS = 1_000_000


def _from_batches(reader, categorical: Sequence[str]) -> pl.DataFrame:
    """A Polars frame from an Arrow record batch reader, a batch at a time, turning the
    ``categorical`` columns into categoricals as it goes: a million-row extract never
    holds its strings twice."""
    parts = []
    for batch in reader:
        frame = pl.from_arrow(batch)
        if categorical:
            frame = frame.with_columns(pl.col(c).cast(pl.Categorical) for c in categorical)
        parts.append(frame)
    if not parts:
        frame = pl.from_arrow(reader.schema.empty_table())
        return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in categorical)
    return pl.concat(parts, rechunk=False)


def _run_duckdb(conn: Connection, statement: sa.TextClause, categorical: Sequence[str] = ()) -> pl.DataFrame:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[key] for key in compiled.positiontup or ()]
    raw = conn.connection.driver_connection
    reader = raw.execute(compiled.string, params).fetch_record_batch(BATCH_ROWS)
    return _from_batches(reader, categorical)


def _run_postgresql(conn: Connection, statement: sa.TextClause, extract: Extract) -> pl.DataFrame:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.connection.driver_connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({compiled.string}) TO STDOUT (FORMAT CSV)", compiled.params) as copy:
        for block in copy:
            buffer.write(block)
    names = list(extract.columns)
    if buffer.tell() == 0:
        return pl.DataFrame(schema=extract.columns)
    # PostgreSQL writes booleans as t/f and an empty unquoted field for NULL.
    read_schema = {
        name: (pl.String() if dtype == pl.Boolean else dtype) for name, dtype in extract.columns.items()
    }
    frame = pl.read_csv(
        buffer.getvalue(),
        has_header=False,
        new_columns=names,
        schema=read_schema,
        missing_utf8_is_empty_string=False,
    )
    booleans = [name for name, dtype in extract.columns.items() if dtype == pl.Boolean]
    if booleans:
        frame = frame.with_columns(
            pl.col(name).replace_strict({"t": True, "f": False}, default=None, return_dtype=pl.Boolean)
            for name in booleans
        )
    return frame


def _check(extract: Extract, frame: pl.DataFrame, categorical: Sequence[str] = ()) -> pl.DataFrame:
    """Match the declared columns and types; widen where lossless, else raise. A declared
    String asked for as categorical comes back Categorical."""
    if frame.columns != list(extract.columns):
        raise ExtractError(
            f"extract {extract.name} returned columns {frame.columns}, "
            f"but its header declares {list(extract.columns)}"
        )
    casts = []
    for name, expected in extract.columns.items():
        if name in categorical:
            expected = pl.Categorical()
        actual = frame.schema[name]
        if actual == expected:
            continue
        compatible = (
            actual == pl.Null
            or (actual.is_numeric() and expected.is_numeric())
            or (isinstance(actual, pl.Datetime) and isinstance(expected, pl.Datetime))
            or (isinstance(actual, pl.Decimal) and expected.is_numeric())
            or (actual == pl.String and expected == pl.Categorical)
        )
        if not compatible:
            raise ExtractError(
                f"extract {extract.name}: column {name} came back as {actual}, "
                f"declared {expected}"
            )
        casts.append(pl.col(name).cast(expected, strict=True))
    return frame.with_columns(casts) if casts else frame


def _run_adbc(engine: Engine, statement: sa.TextClause, departments: str, categorical: Sequence[str] = ()) -> pl.DataFrame:
    """PostgreSQL through ADBC: binary COPY decoded to Arrow in C, with bound parameters,
    on a connection of the process's pool (data/adbc_pool.py). ``departments``: the value
    of kpi.departments (row-level security), set on that connection before the query; the
    pool resets it when the extract gives the connection back."""
    compiled = statement.compile(dialect=_NUMBERED_POSTGRESQL, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[key] for key in compiled.positiontup or ()]
    with POOL.borrow(libpq_uri(engine)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT set_config('kpi.departments', $1, false)", [departments])
        cursor.fetchall()
        cursor.execute(compiled.string, params)
        return _from_batches(cursor.fetch_record_batch(), categorical)


def _setting(extract: Extract, departments: Sequence[str]) -> str:
    try:
        return setting_value(departments)
    except ValueError as error:
        raise ExtractError(f"extract {extract.name}: {error}") from None


def run_extract(
    engine: Engine | Connection,
    name: str,
    *,
    departments: Sequence[str],
    categorical: Sequence[str] = (),
    **params: Any,
) -> pl.DataFrame:
    """Run ``sql/<name>.sql`` with bound values; return its checked Polars frame.

    ``departments`` is the list of department ids the viewer may see; the other keyword
    arguments are the extract's own :named parameters (dates, naive UTC datetimes,
    strings, numbers, or lists for IN clauses). String columns named in ``categorical``
    come back as Polars categoricals (for ids repeated millions of times).

    On PostgreSQL the query runs with ``kpi.departments`` set to ``departments`` (for its
    transaction, or the session of ADBC's own connection), which row-level security
    (data/row_security.py) binds the dashboard's role to: an extract that forgot its
    filter would still return only these departments' rows. On a caller's connection the
    setting's earlier value is put back after the extract.
    """
    extract = load_extract(name)
    unknown = [column for column in categorical if column not in extract.columns]
    if unknown:
        raise ExtractError(f"extract {name} has no column(s) {', '.join(unknown)} to make categorical")
    values = _bound_values(extract, departments, params)
    statement = _statement(extract, values)
    if isinstance(engine, Connection):
        return _check(extract, _execute(engine, statement, extract, values["departments"], categorical), categorical)
    if engine.dialect.name == "postgresql":
        setting = _setting(extract, values["departments"])
        try:
            return _check(extract, _run_adbc(engine, statement, setting, categorical), categorical)
        except ExtractError:
            raise
        except Exception as error:  # noqa: BLE001 - ADBC's errors carry no common base
            busy = busy_error(engine, error)
            if busy is not None:
                raise busy from error
            first_line = str(error).strip().splitlines()[0]
            if "connect" in first_line.lower() or "could not" in first_line.lower():
                raise DatabaseError(f"cannot connect to {describe(engine)}: {first_line}") from error
            raise DatabaseError(f"extract {extract.name} failed: {first_line}") from error
    with connect(engine) as conn:
        return _check(extract, _execute(conn, statement, extract, values["departments"], categorical), categorical)


def _execute(
    conn: Connection, statement: sa.TextClause, extract: Extract, departments: Sequence[str], categorical: Sequence[str] = ()
) -> pl.DataFrame:
    try:
        if conn.dialect.name == "duckdb":
            return _run_duckdb(conn, statement, categorical)
        if conn.dialect.name == "postgresql":
            _setting(extract, departments)  # an id the setting cannot carry is the caller's mistake, said as such
            with viewer_scope(conn, departments):
                frame = _run_postgresql(conn, statement, extract)
            return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in categorical)
    except (DatabaseError, ExtractError):
        raise
    except Exception as error:  # the driver's own error types differ; name the extract
        first_line = str(error).strip().splitlines()[0]
        raise DatabaseError(f"extract {extract.name} failed: {first_line}") from error
    raise DatabaseError(f"extracts are not supported on {conn.dialect.name}")


__all__ = [
    "Extract",
    "ExtractError",
    "extract_names",
    "load_extract",
    "parse_extract",
    "run_extract",
]

