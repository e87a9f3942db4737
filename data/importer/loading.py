"""Writing a staged import into the database, in one transaction.

Inside that transaction: the schema is created if absent; missing dimension rows are
added (existing ones are never changed); each staged row is matched by its source key to
the row an earlier import made of it (``import_keys``) and is inserted, updated (when a
value changed, e.g. a case closed since) or left as it is; the quarantined rows, the
reconciliation and the per-rule counts are stored with the import's ``data_loads`` row.
A failure anywhere rolls all of it back. A dry run does the same and rolls back at the
end, so its counts are exact and nothing is written.

New fact ids are ``base + line``, where base is above every id in the table and in
``import_keys`` and at least 10^12: unique, stable for the life of the row, and clear of
the generator's ids (1, 2, 3, ...).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from data import audit
from data.database import (
    _is_lock_error,
    backend,
    bulk_load,
    connect,
    create_engine,
    describe,
    duckdb_path,
    index_statements,
    schema_statements,
)
from data.importer.errors import ImportFailed
from data.importer.mapping import Mapping
from data.importer.reconciling import Reconciliation
from data.importer.staging import Staged
from data.importer.targets import DIMENSIONS

IMPORT_ID_FLOOR = 1_000_000_000_000
STAGE_TABLE = "_import_stage"
PLAN_TABLE = "_import_plan"


@dataclass
class Written:
    """What the transaction did (or, in a dry run, would have done)."""

    load_id: int | None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # rows from earlier imports of the source that this file does not have
    created: dict[str, int] = field(default_factory=dict)  # dimension table -> rows added
    already: tuple[int, datetime] | None = None  # an earlier import of this very file
    committed: bool = False


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        import sys

        print(message, file=sys.stderr, flush=True)


def _warn_if_locked(engine: Engine, quiet: bool) -> None:
    """Say so before connect() starts retrying a DuckDB file another process holds."""
    if backend(engine) != "duckdb":
        return
    try:
        engine.connect().close()
    except sa.exc.DBAPIError as error:
        if _is_lock_error(error):
            _say(f"{describe(engine)} is locked by another process; waiting for it (up to 30 s)...", quiet)


def write(
    engine: Engine,
    staged: Staged,
    mapping: Mapping,
    reconciliation: Reconciliation,
    *,
    file_name: str,
    checksum: str,
    dry_run: bool,
    quiet: bool = True,
) -> Written:
    """Write the staged rows (or rehearse it, for a dry run) and fill in the counts.

    A DuckDB file is written as a copy that is swapped in (``_write_beside``), so that
    the dashboard and the forecast runs keep reading it while the transaction runs.
    """
    arguments = {"file_name": file_name, "checksum": checksum, "dry_run": dry_run, "quiet": quiet}
    path = duckdb_path(str(engine.url)) if backend(engine) == "duckdb" else None
    if path is not None and path.is_file():
        return _write_beside(engine, path, staged, mapping, reconciliation, **arguments)
    return _transaction(engine, staged, mapping, reconciliation, **arguments)


def _fingerprint(path: Path) -> tuple[int, int, int, bool]:
    """What changes when anyone writes the file: a write ends in a checkpoint (or leaves a WAL)."""
    status = path.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns, path.with_name(path.name + ".wal").exists()


def _write_beside(engine: Engine, path: Path, staged: Staged, mapping: Mapping, reconciliation: Reconciliation,
                  **arguments) -> Written:
    """The transaction on a copy of the DuckDB file, swapped in when committed.

    The file is locked only to copy it (0.07 s for scale 1's 78 MB) and to swap the copy
    in, not for the transaction (which holds DuckDB's write lock for as long as it runs:
    more than 30 s for millions of rows, and every reader then waited and failed). When
    someone wrote the file in the meantime (an acknowledgement, a forecast run), the copy
    is dropped and the transaction runs on the file itself, so nothing is lost.
    """
    copy = path.with_name(f"{path.name}.importing-{os.getpid()}")
    leftovers = (copy, copy.with_name(copy.name + ".wal"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    _warn_if_locked(engine, arguments["quiet"])
    with connect(engine) as conn:  # waits while another process writes
        conn.exec_driver_sql("CHECKPOINT")  # everything in the file itself, none in a WAL
        before = _fingerprint(path)
        shutil.copyfile(path, copy)
    try:
        copy_engine = create_engine(f"duckdb:///{copy}")
        try:
            written = _transaction(copy_engine, staged, mapping, reconciliation, **arguments)
            if written.committed:
                with connect(copy_engine) as conn:
                    conn.exec_driver_sql("CHECKPOINT")
        finally:
            copy_engine.dispose()
        if not written.committed:
            return written  # a dry run, or nothing to record
        with connect(engine) as conn:  # no one writes the file while it is swapped
            if _fingerprint(path) == before:
                os.replace(copy, path)
                return written
        _say(f"{describe(engine)} changed during the import; writing into it directly", arguments["quiet"])
        return _transaction(engine, staged, mapping, reconciliation, **arguments)
    finally:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)


def _transaction(
    engine: Engine,
    staged: Staged,
    mapping: Mapping,
    reconciliation: Reconciliation,
    *,
    file_name: str,
    checksum: str,
    dry_run: bool,
    quiet: bool = True,
) -> Written:
    """The import's one transaction on ``engine`` (rolled back for a dry run)."""
    _warn_if_locked(engine, quiet)
    with connect(engine) as conn:
        transaction = conn.begin()
        try:
            written = _write(conn, staged, mapping, reconciliation, file_name=file_name, checksum=checksum)
            if dry_run or written.load_id is None:
                transaction.rollback()
            else:
                transaction.commit()
                written.committed = True
            return written
        except BaseException:
            transaction.rollback()
            raise


def _write(conn: Connection, staged: Staged, mapping: Mapping, reconciliation: Reconciliation, *,
           file_name: str, checksum: str) -> Written:
    target = mapping.target
    source = mapping.source.name
    for statement in schema_statements(include_indexes=False):
        conn.exec_driver_sql(statement)
    if conn.dialect.name == "postgresql":
        # One import at a time per database: they allocate ids from the same range.
        conn.exec_driver_sql("LOCK TABLE import_keys IN SHARE ROW EXCLUSIVE MODE")
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS import_keys_source_idx ON import_keys (source, table_name, source_key)")
    previous = conn.execute(
        sa.text(
            "SELECT load_id, imported_at FROM imports WHERE source = :source AND file_checksum = :checksum "
            "AND mapping_checksum = :mapping ORDER BY load_id DESC LIMIT 1"
        ),
        {"source": source, "checksum": checksum, "mapping": mapping.checksum},
    ).first()
    load_id = int(conn.execute(sa.text("SELECT COALESCE(MAX(load_id), 0) + 1 FROM data_loads")).scalar_one())
    written = Written(load_id=load_id, already=(int(previous[0]), previous[1]) if previous else None)

    columns = list(target.columns)
    _create_stage(conn, staged, mapping, columns)
    written.created = _add_dimensions(conn, staged)
    _check_references(conn, mapping)

    id_column = target.id_column
    base = max(
        IMPORT_ID_FLOOR,
        int(conn.execute(sa.text(f"SELECT COALESCE(MAX({id_column}), 0) FROM {target.table}")).scalar_one()),
        int(conn.execute(sa.text("SELECT COALESCE(MAX(row_id), 0) FROM import_keys")).scalar_one()),
    )
    known = int(conn.execute(
        sa.text("SELECT COUNT(*) FROM import_keys WHERE source = :source AND table_name = :table"),
        {"source": source, "table": target.table},
    ).scalar_one())
    column_list = ", ".join(columns)
    params = {"source": source, "table": target.table, "base": base, "load_id": load_id}
    if known == 0:
        # The first import of this source: everything is new, no matching needed.
        conn.execute(sa.text(
            f"INSERT INTO {target.table} ({id_column}, {column_list}) "
            f"SELECT :base + _line, {column_list} FROM {STAGE_TABLE}"
        ), params)
        conn.execute(sa.text(
            "INSERT INTO import_keys (source, table_name, source_key, row_id, load_id) "
            f"SELECT :source, :table, _key, :base + _line, :load_id FROM {STAGE_TABLE}"
        ), params)
        written.inserted = staged.rows
    else:
        _merge(conn, mapping, params, written, known)
    reconciliation.inserted, reconciliation.updated, reconciliation.unchanged = (
        written.inserted, written.updated, written.unchanged)

    if written.already and not written.inserted and not written.updated and not any(written.created.values()):
        written.load_id = None  # the same file again, and nothing changed: record nothing
        return written
    _write_rejects(conn, staged, load_id, file_name)
    _write_records(conn, mapping, reconciliation, load_id=load_id, file_name=file_name, checksum=checksum,
                   created=written.created, kept=written.kept)
    for statement in index_statements(conn.dialect.name):
        conn.exec_driver_sql(statement)
    if conn.dialect.name == "postgresql" and written.inserted > 10_000:
        conn.exec_driver_sql(f"ANALYZE {target.table}")
    return written


def _create_stage(conn: Connection, staged: Staged, mapping: Mapping, columns: list[str]) -> None:
    """The staged rows as a relation the SQL below can join: a view over the Parquet files
    on DuckDB (no copy), a temporary table filled by COPY on PostgreSQL."""
    wanted = [*columns, "_key", "_line"]
    if conn.dialect.name == "duckdb" and staged.row_files:
        conn.exec_driver_sql(f"CREATE OR REPLACE TEMP VIEW {STAGE_TABLE} AS {staged.stage_relation(wanted)}")
        return
    definitions = [f"{name} {column.sql_type}" for name, column in mapping.target.columns.items()]
    definitions += ["_key VARCHAR NOT NULL", "_line BIGINT NOT NULL"]
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
    suffix = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGE_TABLE} ({', '.join(definitions)}){suffix}")
    dropped = pl.read_parquet(staged.dropped_file).get_column("_line") if staged.dropped_file else None
    for path in staged.row_files:
        frame = pl.read_parquet(path, columns=wanted)
        if dropped is not None:
            frame = frame.filter(~pl.col("_line").is_in(dropped.implode()))
        bulk_load(conn, STAGE_TABLE, frame)
    if conn.dialect.name == "postgresql":
        # Temporary tables are never analysed automatically; without statistics the planner
        # picks nested loops over the whole stage for the joins below.
        conn.exec_driver_sql(f"ANALYZE {STAGE_TABLE}")


def _add_dimensions(conn: Connection, staged: Staged) -> dict[str, int]:
    """Insert the dimension rows that do not exist yet; never change existing ones."""
    created: dict[str, int] = {}
    for table in ("departments", "services", "offices", "series"):
        frame = staged.dimensions.get(table)
        if frame is None or frame.height == 0:
            continue
        id_column = DIMENSIONS[table].id_column
        ids = frame.get_column(id_column).to_list()
        existing: set[str] = set()
        for start in range(0, len(ids), 1000):
            statement = sa.text(f"SELECT {id_column} FROM {table} WHERE {id_column} IN :ids").bindparams(
                sa.bindparam("ids", expanding=True))
            existing.update(conn.execute(statement, {"ids": ids[start:start + 1000]}).scalars())
        new = frame.filter(~pl.col(id_column).is_in(list(existing)))
        created[table] = bulk_load(conn, table, new)
    return created


def _check_references(conn: Connection, mapping: Mapping) -> None:
    for column, table in mapping.target.references.items():
        id_column = DIMENSIONS[table].id_column
        missing = conn.execute(sa.text(
            f"SELECT DISTINCT s.{column} FROM {STAGE_TABLE} s WHERE s.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {table} d WHERE d.{id_column} = s.{column}) ORDER BY 1 LIMIT 5"
        )).scalars().all()
        if missing:
            raise ImportFailed(
                f"{column} {', '.join(repr(m) for m in missing)} is not in {table}: add a [dimensions.{table}] "
                f"section to mapping {mapping.name} so that the importer creates it, or map to an existing {id_column}"
            )


def _merge(conn: Connection, mapping: Mapping, params: dict, written: Written, known: int) -> None:
    """Match staged rows to earlier imports by source key; insert, update or leave them."""
    target = mapping.target
    table, id_column = target.table, target.id_column
    columns = list(target.columns)
    changed = " OR ".join(f"s.{c} IS DISTINCT FROM f.{c}" for c in columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {PLAN_TABLE}")
    suffix = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    # The plan is narrow (line, key, ids, what to do): the values stay in the stage.
    conn.execute(sa.text(
        f"CREATE TEMP TABLE {PLAN_TABLE}{suffix} AS "
        f"SELECT s._line, s._key, k.row_id AS _known_id, COALESCE(k.row_id, :base + s._line) AS _row_id, "
        f"CASE WHEN f.{id_column} IS NULL THEN 'insert' WHEN {changed} THEN 'update' ELSE 'same' END AS _change "
        f"FROM {STAGE_TABLE} s "
        f"LEFT JOIN import_keys k ON k.source = :source AND k.table_name = :table AND k.source_key = s._key "
        f"LEFT JOIN {table} f ON f.{id_column} = k.row_id"
    ), params)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {PLAN_TABLE}")
    counts = dict(conn.execute(sa.text(f"SELECT _change, COUNT(*) FROM {PLAN_TABLE} GROUP BY _change")).all())
    written.inserted = int(counts.get("insert", 0))
    written.updated = int(counts.get("update", 0))
    written.unchanged = int(counts.get("same", 0))
    # Keys are unique in the stage and in import_keys, so the earlier rows this file lacks
    # are the known keys less the ones it matched (no anti-join over two large sets).
    matched = int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {PLAN_TABLE} WHERE _known_id IS NOT NULL")).scalar_one())
    written.kept = known - matched
    column_list = ", ".join(columns)
    staged_columns = ", ".join(f"s.{c}" for c in columns)
    if written.inserted:
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({id_column}, {column_list}) "
            f"SELECT p._row_id, {staged_columns} FROM {STAGE_TABLE} s JOIN {PLAN_TABLE} p ON p._line = s._line "
            "WHERE p._change = 'insert'"
        )
    if written.updated:
        assignments = ", ".join(f"{c} = u.{c}" for c in columns)
        conn.exec_driver_sql(
            f"UPDATE {table} SET {assignments} FROM ("
            f"SELECT p._row_id, {staged_columns} FROM {STAGE_TABLE} s JOIN {PLAN_TABLE} p ON p._line = s._line "
            f"WHERE p._change = 'update') u WHERE {table}.{id_column} = u._row_id"
        )
    conn.execute(sa.text(
        "INSERT INTO import_keys (source, table_name, source_key, row_id, load_id) "
        f"SELECT :source, :table, _key, _row_id, :load_id FROM {PLAN_TABLE} WHERE _known_id IS NULL"
    ), params)


def _write_rejects(conn: Connection, staged: Staged, load_id: int, file_name: str) -> None:
    for path in staged.reject_files:
        frame = pl.read_parquet(path).select(
            pl.lit(load_id, dtype=pl.Int64).alias("load_id"),
            pl.lit(file_name).alias("file_name"),
            "line", "column_name", "rule", "message", "raw_row",
        )
        bulk_load(conn, "import_rejects", frame)


def _write_records(conn: Connection, mapping: Mapping, reconciliation: Reconciliation, *, load_id: int,
                   file_name: str, checksum: str, created: dict[str, int], kept: int) -> None:
    """The import's data_loads row, its imports row and its per-rule counts."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    summary = {
        "mapping": mapping.name,
        "source": mapping.source.name,
        "table": mapping.target.table,
        "checksum": checksum,
        "read": reconciliation.read,
        "loaded": reconciliation.loaded,
        "inserted": reconciliation.inserted,
        "updated": reconciliation.updated,
        "excluded": reconciliation.excluded_total,
        "quarantined": reconciliation.quarantined_total,
        "created": {k: v for k, v in created.items() if v},
        "kept_from_earlier_imports": kept,
    }
    conn.execute(sa.text(
        "INSERT INTO data_loads (load_id, kind, source, loaded_at, rows_loaded, details) "
        "VALUES (:load_id, 'import', :source, :loaded_at, :rows, :details)"
    ), {"load_id": load_id, "source": file_name[-500:], "loaded_at": now,
        "rows": reconciliation.inserted + reconciliation.updated, "details": json.dumps(summary)[:2000]})
    conn.execute(sa.text(
        "INSERT INTO imports (load_id, source, target_table, file_name, file_checksum, mapping, mapping_checksum, "
        "imported_at, rows_read, rows_inserted, rows_updated, rows_unchanged, rows_excluded, rows_quarantined, "
        "reconciliation) VALUES (:load_id, :source, :table, :file_name, :checksum, :mapping, :mapping_checksum, "
        ":imported_at, :read, :inserted, :updated, :unchanged, :excluded, :quarantined, :reconciliation)"
    ), {
        "load_id": load_id, "source": mapping.source.name, "table": mapping.target.table,
        "file_name": file_name[-500:], "checksum": checksum, "mapping": str(mapping.path)[-500:],
        "mapping_checksum": mapping.checksum, "imported_at": now, "read": reconciliation.read,
        "inserted": reconciliation.inserted, "updated": reconciliation.updated,
        "unchanged": reconciliation.unchanged, "excluded": reconciliation.excluded_total,
        "quarantined": reconciliation.quarantined_total, "reconciliation": reconciliation.to_json(),
    })
    audit.insert(conn, audit.COMMAND_LINE, "import", page="python -m data import", row_count=reconciliation.read, detail={
        "load_id": load_id, "file": file_name[-300:], "mapping": str(mapping.path)[-300:], "table": mapping.target.table,
        "inserted": reconciliation.inserted, "updated": reconciliation.updated, "quarantined": reconciliation.quarantined_total,
    })
    counts = reconciliation.rule_counts()
    if counts:
        bulk_load(conn, "import_rule_counts", pl.DataFrame(
            {
                "load_id": [load_id] * len(counts),
                "rule": [c[0] for c in counts],
                "action": [c[1] for c in counts],
                "row_count": [c[2] for c in counts],
                "description": [c[3][:1000] or None for c in counts],
            },
            schema={"load_id": pl.Int64, "rule": pl.String, "action": pl.String, "row_count": pl.Int64, "description": pl.String},
        ))


def known_references(engine: Engine, mapping: Mapping) -> dict[str, frozenset[str]]:
    """For each of the target's ``quarantine_unknown`` columns whose dimension the mapping
    does not add rows to, the ids that dimension holds in the database (none when the
    database or its table does not exist yet)."""
    target = mapping.target
    made = {dimension.table for dimension in mapping.dimensions}
    wanted = {column: target.references[column] for column in target.quarantine_unknown if target.references[column] not in made}
    if not wanted:
        return {}
    if database_file_missing(engine):
        return {column: frozenset() for column in wanted}
    known: dict[str, frozenset[str]] = {}
    with connect(engine) as conn:
        present = set(sa.inspect(conn).get_table_names())
        for column, table in wanted.items():
            id_column = DIMENSIONS[table].id_column
            known[column] = frozenset(conn.execute(sa.text(f"SELECT {id_column} FROM {table}")).scalars()) if table in present else frozenset()
    return known


def database_file_missing(engine: Engine) -> bool:
    """True for a DuckDB file that does not exist yet (a dry run must not create it)."""
    if backend(engine) != "duckdb":
        return False
    path = duckdb_path(str(engine.url))
    return path is not None and not Path(path).exists()


def known_series(engine: Engine) -> dict[str, tuple[str, str]]:
    """{series id: (kind, unit)} of the database's series table, for the observations'
    share check. A database not made yet (no file, or no series table) knows the series
    its first import will create it with (the registry's, sql/schema/061), read from
    the schema made in memory."""
    if not database_file_missing(engine):
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT series_id, kind, unit FROM series")).all()
            return {series_id: (kind, unit) for series_id, kind, unit in rows}
        except sa.exc.DBAPIError:  # no series table yet
            pass
    with duckdb.connect() as empty:  # in memory, gone at the end
        for statement in schema_statements(include_indexes=False, dialect="duckdb"):
            empty.execute(statement)
        rows = empty.execute("SELECT series_id, kind, unit FROM series").fetchall()
    return {series_id: (kind, unit) for series_id, kind, unit in rows}
