"""Staging: the sorted batches on local disk, then the checks that need the whole file.

Batches are written as Parquet files in a temporary folder as they are read, so memory
holds one batch at a time whatever the file's size. Once the file is read, an in-process
DuckDB (spilling to that folder when needed) finds rows whose key repeats: an exact
duplicate of an earlier row is excluded (``duplicate_row``); a different row with the
same key is quarantined (``conflicting_duplicate``, the first is kept), or, when the
mapping declares ``latest_by``, the latest version is kept and the earlier ones are
excluded (``superseded``). It also derives
the dimension rows (departments, services, offices) the loaded rows refer to, and counts
repairs and flags over the rows that remain.

Nothing here touches the target database, so the database is locked only for the short
final write (loading.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from data.importer.errors import ImportFailed
from data.importer.mapping import Mapping
from data.importer.overlaps import overlapping
from data.importer.targets import DIMENSIONS
from data.importer.validating import (
    CELLS_PER_LINE,
    DIMENSION_PREFIX,
    KEY_SEPARATOR,
    MARK_PREFIX,
    ORDER_COLUMN,
    REJECT_SCHEMA,
    BatchOutcome,
    FieldStats,
)

LOCAL_MEMORY_LIMIT = "2GB"
STAGING_PREFIX = "kpi-import-"
LOCK_NAME = ".lock"  # held (flock) by the import using the folder, for as long as it runs
# A folder of an earlier version (no lock file, no process id in its name) this long
# untouched belongs to no running import.
UNLOCKED_FOLDER_SECONDS = 24 * 3600


@contextlib.contextmanager
def staging_folder() -> Iterator[tuple[Path, list[str]]]:
    """A fresh folder in $TMPDIR for one import's staged batches, removed at the end, and
    the notes of stale folders removed first (left by imports that were killed)."""
    root = Path(tempfile.gettempdir())
    notes = remove_stale_folders(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=root))
    with open(folder / LOCK_NAME, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder, notes
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _owner_gone(folder: Path) -> bool:
    lock_path = folder / LOCK_NAME
    if lock_path.exists():
        try:
            with open(lock_path) as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when closed
        except BlockingIOError:
            return False  # its import is running
        except OSError:
            return False
        return True
    pid_text = folder.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
    if pid_text.isdigit():
        return not _process_alive(int(pid_text))  # just made: the lock file follows
    try:
        return time.time() - folder.stat().st_mtime > UNLOCKED_FOLDER_SECONDS
    except OSError:
        return False


def remove_stale_folders(root: Path) -> list[str]:
    """Remove the staging folders in ``root`` whose import is gone; one note for them."""
    removed, size = 0, 0
    for folder in root.glob(f"{STAGING_PREFIX}*"):
        if not folder.is_dir() or folder.is_symlink() or not _owner_gone(folder):
            continue
        size += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
        shutil.rmtree(folder, ignore_errors=True)
        removed += not folder.exists()
    if not removed:
        return []
    return [f"removed {removed} staging folder(s) in {root} ({size / 1e6:,.1f} MB) left by imports that were stopped"]


def sql_text(value: str) -> str:
    """A SQL string literal (for file paths, which DuckDB does not take as parameters)."""
    return "'" + value.replace("'", "''") + "'"


def file_list(paths: list[Path]) -> str:
    return "[" + ", ".join(sql_text(str(p)) for p in paths) + "]"


@dataclass
class Staged:
    """Everything the loader needs, and the counts so far."""

    folder: Path
    row_files: list[Path]
    reject_files: list[Path]
    dropped_file: Path | None  # lines of duplicates removed after staging
    rows: int  # rows to load
    read: int
    lines: int  # lines of the file behind read (fewer when unpivoted: read counts cells)
    excluded: Counter[str]
    quarantined: Counter[str]
    marks: dict[str, int]  # repair/flag rule -> rows loaded that it touched
    examples: dict[str, list[str]]
    parse_stats: dict[tuple[str, str], FieldStats]
    dimensions: dict[str, pl.DataFrame]  # table -> rows the loaded rows need
    warnings: list[str] = field(default_factory=list)

    def stage_relation(self, columns: list[str]) -> str:
        """DuckDB SQL selecting the rows to load (only for a DuckDB on this machine)."""
        select = ", ".join(f'"{c}"' for c in columns)
        relation = f"SELECT {select} FROM read_parquet({file_list(self.row_files)}, union_by_name = true)"
        if self.dropped_file is not None:
            relation += f" WHERE _line NOT IN (SELECT _line FROM read_parquet({sql_text(str(self.dropped_file))}))"
        return relation


class Stage:
    """Collects batch outcomes into Parquet files and counters."""

    def __init__(self, folder: Path, mapping: Mapping) -> None:
        self.folder = folder
        self.mapping = mapping
        self.row_files: list[Path] = []
        self.reject_files: list[Path] = []
        self.read = 0
        self.lines = 0
        self.excluded: Counter[str] = Counter()
        self.quarantined: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.parse_stats: dict[tuple[str, str], FieldStats] = {}
        # Kept per batch so that, when no key repeats (the usual case), finishing needs no
        # second pass over the staged rows.
        self._rows = 0
        self._key_hashes: list[pl.Series] = []
        self._marks: Counter[str] = Counter()
        self._combinations: list[pl.DataFrame] = []

    def add(self, outcome: BatchOutcome) -> None:
        number = len(self.row_files) + len(self.reject_files)
        rows = outcome.rows
        if rows.height:
            path = self.folder / f"rows-{number:05d}.parquet"
            # lz4: cheap to write and read back; these files live for one import.
            rows.write_parquet(path, compression="lz4", statistics=False)
            self.row_files.append(path)
            self._rows += rows.height
            self._key_hashes.append(rows.get_column("_key").hash())
            marks = [c for c in rows.columns if c.startswith(MARK_PREFIX)]
            if marks:
                sums = rows.select(pl.col(marks).sum()).row(0, named=True)
                self._marks.update({name.removeprefix(MARK_PREFIX): int(value) for name, value in sums.items()})
            dimension_columns = [c for c in rows.columns if c.startswith(DIMENSION_PREFIX)]
            if dimension_columns:
                self._combinations.append(
                    rows.group_by(dimension_columns).agg(pl.col("_line").min().alias("_first"))
                )
        if outcome.rejects.height:
            path = self.folder / f"rejects-{number:05d}.parquet"
            outcome.rejects.write_parquet(path, compression="lz4", statistics=False)
            self.reject_files.append(path)
        self.read += outcome.read
        self.lines += outcome.lines
        self.excluded.update(outcome.excluded)
        self.quarantined.update(outcome.quarantined)
        for rule, texts in outcome.examples.items():
            kept = self.examples.setdefault(rule, [])
            kept.extend(texts[: 3 - len(kept)])
        for key, stats in outcome.parse_stats.items():
            total = self.parse_stats.setdefault(key, FieldStats())
            total.seen += stats.seen
            total.failed += stats.failed
            total.examples.extend(stats.examples[: 3 - len(total.examples)])

    def finish(self) -> Staged:
        """Remove repeated keys, derive dimension rows, count marks; return the Staged."""
        mapping = self.mapping
        staged = Staged(
            folder=self.folder,
            row_files=self.row_files,
            reject_files=self.reject_files,
            dropped_file=None,
            rows=self._rows,
            read=self.read,
            lines=self.lines,
            excluded=self.excluded,
            quarantined=self.quarantined,
            marks={name: self._marks.get(name, 0) for name in _mark_names(mapping)},
            examples=self.examples,
            parse_stats=self.parse_stats,
            dimensions={},
        )
        if not self.row_files:
            return staged
        # Equal keys have equal hashes: with no repeated hash, no key repeats, and the
        # counts kept per batch are final. Otherwise work it out exactly over the files.
        hashes = np.sort(pl.concat(self._key_hashes).to_numpy())  # a sort needs less memory than a hash set
        if not (hashes[1:] == hashes[:-1]).any():
            combinations = pl.concat(self._combinations) if self._combinations else None
            staged.dimensions = self._dimensions(combinations, staged)
            self._remove_overlaps(staged)
            return staged
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"SET temp_directory = {sql_text(str(self.folder / 'spill'))}")
            con.execute(f"SET memory_limit = {sql_text(LOCAL_MEMORY_LIMIT)}")
            rows = f"read_parquet({file_list(self.row_files)}, union_by_name = true)"
            self._remove_duplicates(con, rows, staged)
            final = f"(SELECT * FROM {rows}" + (
                f" WHERE _line NOT IN (SELECT _line FROM read_parquet({sql_text(str(staged.dropped_file))})))"
                if staged.dropped_file
                else ")"
            )
            columns = con.execute(f"SELECT * FROM {rows} LIMIT 0").pl().columns
            marks = [name for name in _mark_names(mapping) if f"{MARK_PREFIX}{name}" in columns]
            sums = ", ".join(f'COALESCE(SUM(CAST("{MARK_PREFIX}{m}" AS INTEGER)), 0)' for m in marks)
            counted = con.execute(f"SELECT COUNT(*){', ' + sums if sums else ''} FROM {final}").fetchone()
            if counted is None:
                raise ImportFailed("staging gave no row count for the staged rows; the staging folder may have been removed while the import ran: import again")
            staged.rows = int(counted[0])
            staged.marks.update({name: int(value) for name, value in zip(marks, counted[1:], strict=True)})
            dimension_columns = [c for c in columns if c.startswith(DIMENSION_PREFIX)]
            combinations = None
            if dimension_columns:
                quoted = ", ".join(f'"{c}"' for c in dimension_columns)
                combinations = con.execute(
                    f"SELECT {quoted}, MIN(_line) AS _first FROM {final} GROUP BY {quoted}"
                ).pl()
            staged.dimensions = self._dimensions(combinations, staged)
        finally:
            con.close()
        self._remove_overlaps(staged)
        return staged

    def _remove_overlaps(self, staged: Staged) -> None:
        """Quarantine rows of one person whose spans overlap (``overlapping_shift``, for a
        target with ``no_overlap``): of two, the one that starts first is kept. Judged over
        the whole file once repeated keys are gone; the target's rows are few (a roster),
        so they are read into memory."""
        spec = self.mapping.target.no_overlap
        if spec is None or not staged.row_files:
            return
        who, start, end = spec
        rows = pl.read_parquet(staged.row_files, columns=list(dict.fromkeys(["_line", *self.mapping.target.columns])))
        if staged.dropped_file is not None:
            rows = rows.filter(~pl.col("_line").is_in(pl.read_parquet(staged.dropped_file).get_column("_line").implode()))
        marked = overlapping(rows, who, start, end, "_line")
        if marked.height == 0:
            return
        unpivoted = self.mapping.source.unpivot is not None
        shown = (lambda n: n // CELLS_PER_LINE) if unpivoted else (lambda n: n)
        messages = [
            f"{person}'s {begins:%Y-%m-%d %H:%M}-{ends:%H:%M} UTC overlaps their {other_start:%Y-%m-%d %H:%M}-"
            f"{other_end:%H:%M} UTC on line {shown(other)}; the one that starts first is kept"
            for person, begins, ends, other, other_start, other_end in marked.join(rows, on="_line").sort("_line").select(
                who, start, end, "overlaps", "other_start", "other_end").iter_rows()
        ]
        lines = marked.get_column("_line")
        chosen = rows.filter(pl.col("_line").is_in(lines.implode())).sort("_line")
        rejects = chosen.select(
            line=pl.col("_line") // CELLS_PER_LINE if unpivoted else pl.col("_line"),
            column_name=pl.lit(start, dtype=pl.String),
            rule=pl.lit("overlapping_shift"),
            message=pl.Series(messages, dtype=pl.String),
            raw_row=pl.struct(list(self.mapping.target.columns)).struct.json_encode(),
        ).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
        path = self.folder / "rejects-overlaps.parquet"
        rejects.write_parquet(path)
        staged.reject_files.append(path)
        dropped = lines.to_frame("_line")
        if staged.dropped_file is not None:
            dropped = pl.concat([pl.read_parquet(staged.dropped_file).select("_line"), dropped])
        staged.dropped_file = self.folder / "dropped-with-overlaps.parquet"
        dropped.write_parquet(staged.dropped_file)
        staged.rows -= marked.height
        staged.quarantined["overlapping_shift"] += marked.height
        staged.examples.setdefault("overlapping_shift", [
            f"line {line}: {message}" for line, message in rejects.select("line", "message").head(3).iter_rows()
        ])

    def _remove_duplicates(self, con: duckdb.DuckDBPyConnection, rows: str, staged: Staged) -> None:
        """Keep one row per key. Without [source] latest_by the first row is kept and a later
        row with other values is quarantined (``conflicting_duplicate``); with it, the row
        with the greatest latest_by (the later line on a tie) is kept and the earlier
        versions are excluded (``superseded``). An exact repeat is ``duplicate_row``."""
        con.execute(f"CREATE TABLE repeated AS SELECT _key FROM {rows} GROUP BY _key HAVING COUNT(*) > 1")
        if con.execute("SELECT COUNT(*) FROM repeated").fetchone()[0] == 0:  # type: ignore[index]
            return  # equal hashes, different keys
        latest_by = self.mapping.source.latest_by
        order = f"{ORDER_COLUMN} DESC NULLS LAST, _line DESC" if latest_by else "_line"
        con.execute(
            f"""
            CREATE TABLE dropped AS
            SELECT * FROM (
                SELECT s.*, first_value(s._line) OVER w AS _kept_line, first_value(s._hash) OVER w AS _kept_hash
                FROM {rows} s
                WHERE s._key IN (SELECT _key FROM repeated)
                WINDOW w AS (PARTITION BY s._key ORDER BY {order})
            ) WHERE _line <> _kept_line
            """
        )
        # DuckDB hands a result over in several chunks; Polars string expressions over a
        # frame of many chunks have panicked (issue 15): one chunk.
        dropped = con.execute("SELECT * FROM dropped ORDER BY _line").pl().rechunk()
        staged.dropped_file = self.folder / "dropped.parquet"
        dropped.select("_line").write_parquet(staged.dropped_file)
        if self.mapping.source.unpivot is not None:  # the lines of the file, for the messages
            dropped = dropped.with_columns(pl.col("_line", "_kept_line") // CELLS_PER_LINE)
        same = dropped.filter(pl.col("_hash") == pl.col("_kept_hash"))
        different = dropped.filter(pl.col("_hash") != pl.col("_kept_hash"))
        key_label = ", ".join(self.mapping.source.key) or "row"
        if same.height:
            staged.excluded["duplicate_row"] += same.height
            staged.examples.setdefault("duplicate_row", [
                f"line {line}: the same as line {kept}" for line, kept in same.select("_line", "_kept_line").head(3).iter_rows()
            ])
        if not different.height:
            return
        keys = different.get_column("_key").str.replace_all(KEY_SEPARATOR, ", ", literal=True).to_list()
        kept_lines = different.get_column("_kept_line").to_list()
        if latest_by:
            staged.excluded["superseded"] += different.height
            staged.examples.setdefault("superseded", [
                f"line {line}: an earlier version of {key_label} {key}; line {kept} has the latest {latest_by}"
                for line, key, kept in zip(different.get_column("_line").head(3).to_list(), keys[:3], kept_lines[:3], strict=True)
            ])
            return
        staged.quarantined["conflicting_duplicate"] += different.height
        messages = [
            f"{key_label} {key} is also on line {kept} with different values; the first is kept (raw_row shows this "
            "row's mapped values; set [source] latest_by to keep the latest version instead)"
            for key, kept in zip(keys, kept_lines, strict=True)
        ]
        target_columns = list(self.mapping.target.columns)
        rejects = different.select(
            line=pl.col("_line"),
            column_name=pl.lit(self.mapping.source.key[0] if self.mapping.source.key else None, dtype=pl.String),
            rule=pl.lit("conflicting_duplicate"),
            message=pl.Series(messages, dtype=pl.String),
            raw_row=pl.struct(target_columns).struct.json_encode(),
        ).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
        path = self.folder / "rejects-duplicates.parquet"
        rejects.write_parquet(path)
        staged.reject_files.append(path)
        staged.examples.setdefault("conflicting_duplicate", [
            f"line {line}: {message}" for line, message in rejects.select("line", "message").head(3).iter_rows()
        ])

    def _dimensions(self, combinations: pl.DataFrame | None, staged: Staged) -> dict[str, pl.DataFrame]:
        """One row per dimension id the loaded rows use; the first row's attributes win.

        ``combinations``: the distinct dimension values of the loaded rows, each with the
        line (``_first``) where it first appears.
        """
        frames: dict[str, pl.DataFrame] = {}
        for dimension in self.mapping.dimensions:
            spec = DIMENSIONS[dimension.table]
            fields = {c: f"{DIMENSION_PREFIX}{dimension.table}__{c}" for c, (k, _) in dimension.columns.items() if k == "field"}
            if fields and combinations is not None:
                values = combinations.select([*fields.values(), "_first"]).rename({v: k for k, v in fields.items()})
            else:
                values = pl.DataFrame({"_first": [0]})
            id_kind, _ = dimension.columns[spec.id_column]
            if id_kind == "field":
                values = values.filter(pl.col(spec.id_column).is_not_null())
                group = [spec.id_column]
            else:
                group = []
            attributes = [c for c in fields if c != spec.id_column]
            if attributes and values.height:
                spread = (values.group_by(group).agg(pl.col(attributes).n_unique()) if group
                          else values.select(pl.col(attributes).n_unique()))
                for column in attributes:
                    for row_id in (spread.filter(pl.col(column) > 1).get_column(spec.id_column).head(5).to_list() if group
                                   else (["(all)"] if spread.get_column(column)[0] > 1 else [])):
                        staged.warnings.append(
                            f"{dimension.table} {row_id!r}: {column} differs between rows; the first row's is used"
                        )
            values = values.sort("_first")
            frame = values.unique(subset=group, keep="first", maintain_order=True) if group else values.head(1)
            for column, (kind, value) in dimension.columns.items():
                if kind == "value":
                    frame = frame.with_columns(pl.lit(value).alias(column))
            for column, spec_column in spec.columns.items():
                if column not in frame.columns:
                    frame = frame.with_columns(pl.lit(None, dtype=spec_column.dtype).alias(column))
            frame = frame.select(list(spec.columns)).cast({c: col.dtype for c, col in spec.columns.items()}, strict=False)
            if group:
                frame = frame.sort(spec.id_column)
            _check_dimension(dimension.table, frame)
            frames[dimension.table] = frame
        return frames


def _mark_names(mapping: Mapping) -> list[str]:
    names = [rule.name for rule in mapping.rules if rule.action in ("repair", "flag")]
    names += [f"{spec.name}_otherwise" for spec in mapping.fields if spec.has_otherwise]
    return names


def _check_dimension(table: str, frame: pl.DataFrame) -> None:
    """Dimension rows must fit their table; a problem here is in the mapping, so stop."""
    spec = DIMENSIONS[table]
    problems = []
    for name, column in spec.columns.items():
        values = frame.get_column(name)
        if column.required and values.null_count():
            problems.append(f"{name} is empty for {values.null_count()} row(s)")
        if column.max_length and values.dtype == pl.String and (values.str.len_chars() > column.max_length).any():
            problems.append(f"{name} is longer than {column.max_length} characters")
        if column.allowed:
            bad = values.drop_nulls().filter(~values.drop_nulls().is_in(list(column.allowed))).unique().to_list()
            if bad:
                problems.append(f"{name} {bad[0]!r} is not one of {', '.join(column.allowed)}")
        if name == "timezone":
            for zone in values.drop_nulls().unique().to_list():
                try:
                    zoneinfo.ZoneInfo(zone)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    problems.append(f"timezone {zone!r} is not a time zone")
    if problems:
        raise ImportFailed(f"[dimensions.{table}]: " + "; ".join(problems))
