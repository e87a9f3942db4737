"""One import from start to end: read, map, validate, stage, write, reconcile."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from data.database import create_engine, describe
from data.importer.errors import ImportFailed, close_matches
from data.importer.loading import Written, database_file_missing, known_references, known_series, write
from data.importer.mapping import Mapping, load_mapping
from data.importer.reading import DelimitedReader, Reader, detect_format, guess_delimiter, open_reader
from data.importer.reconciling import Reconciliation
from data.importer.staging import Stage, Staged, staging_folder

# Parse failures are judged once this many values have been seen (or at the end).
EARLY_VERDICT_VALUES = 10_000
READER_RULES = ("bad_encoding", "wrong_field_count", "unbalanced_quote", "malformed_quoting")


@dataclass
class ImportResult:
    """What an import did, for the command line and the tests."""

    file: Path
    mapping: Mapping
    database: str
    dry_run: bool
    checksum: str
    reconciliation: Reconciliation
    written: Written
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds: read, finish, write

    @property
    def load_id(self) -> int | None:
        return self.written.load_id if self.written.committed else None

    @property
    def rows_per_second(self) -> float:
        return self.reconciliation.read / self.seconds if self.seconds else 0.0

    def report(self) -> str:
        """The text printed at the end of the import."""
        mapping = self.mapping
        head = "Dry run (nothing written): " if self.dry_run else "Imported "
        lines = [f"{head}{self.file.name} into {mapping.target.table} of {self.database}, mapping {mapping.name}"
                 + (f", load {self.load_id}" if self.load_id else "")]
        if self.written.already and not self.written.committed and not self.dry_run:
            load_id, when = self.written.already
            lines.append(f"  this file was already imported (load {load_id}, {when:%Y-%m-%d %H:%M} UTC) and nothing "
                         "has changed since: nothing written")
        lines += self.reconciliation.report(dry_run=self.dry_run)
        created = {table: n for table, n in self.written.created.items() if n}
        if created:
            verb = "would create" if self.dry_run else "created"
            lines.append(f"  {verb} dimension rows: " + ", ".join(f"{table} {n:,}" for table, n in created.items())
                         + " (existing ones are kept as they are)")
        if self.written.kept:
            lines.append(f"  {self.written.kept:,} row(s) from earlier imports of {mapping.source.name} are not in this "
                         "file; they are kept")
        lines += [f"  warning: {text}" for text in self.warnings]
        lines.append(f"  {self.reconciliation.read:,} rows in {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)")
        return "\n".join(lines)


def _read_ahead(batches: Iterator, depth: int = 2) -> Iterator:
    """The batches, read by a second thread while this one maps and stages the previous
    ones (parsing and decompressing release the GIL, so the two overlap)."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as error:  # handed to the consumer, which raises it
            slots.put(error)

    worker = threading.Thread(target=produce, name="import-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _check_header(reader: Reader, mapping: Mapping, path: Path) -> None:
    """Stop with one line when the file lacks columns the mapping reads."""
    header = reader.header
    made: set[str] = set()
    unpivot = mapping.source.unpivot
    if unpivot is not None:
        made = {unpivot.name, unpivot.value}
        if unpivot.pattern is None:
            absent = [c for c in unpivot.columns if c not in header]
            if absent:
                raise ImportFailed(f"{path.name} lacks the column(s) {', '.join(map(repr, absent))} that [source] unpivot "
                                   f"of mapping {mapping.name} names; its header has: {', '.join(header[:12])}")
        if not unpivot.chosen(header):
            raise ImportFailed(f"[source] unpivot pattern {unpivot.pattern!r} of mapping {mapping.name} matches no column "
                               f"of {path.name}; its header has: {', '.join(header[:12])}")
        clash = made & set(header)
        if clash:
            raise ImportFailed(f"{path.name} already has a column {', '.join(map(repr, sorted(clash)))}: give [source] "
                               f"unpivot other name/value in mapping {mapping.name}")
    missing = [c for c in mapping.source_columns() if c not in header and c not in mapping.field_names() and c not in made]
    if not missing:
        return
    if isinstance(reader, DelimitedReader):
        used = reader.delimiter
        other = guess_delimiter(reader.raw_header, used)
        if other is not None:
            name = {"\t": "'\\t' (tab)", ",": "','", ";": "';'", "|": "'|'"}[other]
            shown = "'\\t' (tab)" if used == "\t" else repr(used)
            raise ImportFailed(
                f"{path.name}: the header does not split on {shown} into columns but does on {name}: "
                f"set delimiter = {name.split(' ')[0]} in the [source] of mapping {mapping.name}"
            )
    parts = []
    for column in missing:
        matches = close_matches(column, header)
        parts.append(f"{column!r}" + (f" (did you mean {' or '.join(repr(m) for m in matches)}?)" if matches else ""))
    shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    raise ImportFailed(
        f"{path.name} lacks column{'s' if len(missing) > 1 else ''} {', '.join(parts)} that mapping "
        f"{mapping.name} reads; its header has: {shown}"
    )


def _unread_columns(reader: Reader, mapping: Mapping, path: Path) -> list[str]:
    """A warning naming the file's columns the mapping neither reads nor lists in
    [source] ignore, so that no column is left out without a word."""
    source = mapping.source
    if not source.key:
        return []  # the whole row is the key: every column is read
    read = set(mapping.source_columns()) | set(source.ignore)
    if source.unpivot is not None:
        read |= set(source.unpivot.chosen(reader.header))
    unread = [c for c in reader.header if c not in read]
    if not unread:
        return []
    shown = ", ".join(unread[:12]) + (f" and {len(unread) - 12} more" if len(unread) > 12 else "")
    return [f"{len(unread)} column(s) of {path.name} are not read by mapping {mapping.name}: {shown} (list them in "
            "[source] ignore = [...] to say they are left out on purpose)"]


def _check_unparseable(stage: Stage, mapping: Mapping, path: Path, *, final: bool) -> None:
    """Stop when so many values fail that the mapping (a format, a map) must be wrong."""
    limit = mapping.source.max_unparseable
    for (column, rule), stats in stage.parse_stats.items():
        if not stats.failed or (not final and stats.seen < EARLY_VERDICT_VALUES):
            continue
        share = stats.failed / max(stats.seen, 1)
        if share > limit:
            field_name = next((f.name for f in mapping.fields if f.column == column or column in f.inputs), column)
            what = {
                "bad_timestamp": "are not timestamps in the format the mapping gives",
                "bad_date": "are not dates in the format the mapping gives",
                "bad_time": "are not times in the format the mapping gives",
                "bad_number": "are not numbers",
                "bad_period": "are not periods in the form the mapping gives",
                "bad_boolean": "are not true/false",
                "unmapped_value": "are not in the field's map",
                "nonexistent_local_time": "are local times that do not exist in the time zone",
            }.get(rule, f"fail {rule}")
            raise ImportFailed(
                f"{path.name}: {stats.failed:,} of {stats.seen:,} values of {column} ({share:.0%}) {what}, e.g. "
                f"{'; '.join(stats.examples)}. Fix [fields.{field_name}] in mapping {mapping.name} (or raise "
                f"[source] max_unparseable above {limit:g} to quarantine such rows instead)"
            )
    read = max(stage.read, 1)
    if not final and stage.read < EARLY_VERDICT_VALUES:
        return
    for rule in READER_RULES:
        count = stage.quarantined.get(rule, 0)
        if count and count / read > limit:
            examples = "; ".join(stage.examples.get(rule, []))
            advice = (
                f"is the file in another encoding? set encoding = 'cp1252' (or the file's own) in the [source] of {mapping.name}"
                if rule == "bad_encoding"
                else "is the delimiter or the quote character right? set delimiter / quote in [source]"
            )
            raise ImportFailed(f"{path.name}: {count:,} of {stage.read:,} lines ({count / read:.0%}) fail {rule} "
                               f"(e.g. {examples}); {advice}")


def _check_quarantined(read: int, quarantined: dict[str, int], examples: dict[str, list[str]], mapping: Mapping,
                       path: Path, *, final: bool) -> None:
    """The stop rule, for every rule: when one rule quarantines more than [source]
    max_quarantined of the rows read, the mapping or the file must be wrong; stop, write
    nothing (a typo in a map once quarantined half a file and committed the rest)."""
    source = mapping.source
    limit = source.max_quarantined if source.max_quarantined is not None else source.max_unparseable
    if not read or (not final and read < EARLY_VERDICT_VALUES):
        return
    for rule, count in sorted(quarantined.items(), key=lambda item: -item[1]):
        if count / read > limit:
            shown = "; ".join(examples.get(rule, [])[:2])
            raise ImportFailed(
                f"{path.name}: {count:,} of {read:,} rows ({count / read:.0%}) would be quarantined by {rule}"
                + (f" (e.g. {shown})" if shown else "")
                + f"; so large a share means the mapping or the file is wrong, so nothing was written. Fix them, "
                f"or raise [source] max_quarantined above {limit:g} in mapping {mapping.name} to import the rest"
            )


def import_file(
    path: str | Path,
    mapping: str | Path | Mapping,
    database: str | None = None,
    *,
    dry_run: bool = False,
    quiet: bool = True,
    progress: bool | None = None,
    block_bytes: int | None = None,
) -> ImportResult:
    """Import one export file with a mapping (its name, its path, or a loaded Mapping).

    Returns the ImportResult; raises ImportFailed (one line, nothing written) for a
    mistake in the file or the mapping, DatabaseError when the database cannot be used.
    ``progress``: a progress bar on stderr (None: only on a terminal).
    """
    started = time.perf_counter()
    path = Path(path)
    mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    fmt = detect_format(path, mapping.source.format)
    engine = create_engine(database)
    bar = tqdm(total=path.stat().st_size if path.is_file() else None, unit="B", unit_scale=True,
               desc=f"reading {path.name}", disable=(not progress) if progress is not None else None, leave=False)
    try:
        options = {"block_bytes": block_bytes} if block_bytes else {}
        reader = open_reader(path, fmt=fmt, source=mapping.source, on_bytes=bar.update, **options)
        _check_header(reader, mapping, path)
        unread = _unread_columns(reader, mapping, path)
        from data.importer.validating import plausible_window, validate

        plausible = plausible_window(mapping.source)
        series = known_series(engine) if mapping.target.table == "observations" else None
        known = known_references(engine, mapping)

        phases: dict[str, float] = {}
        with staging_folder() as (folder, notes):
            stage = Stage(folder, mapping)
            mark = time.perf_counter()
            for batch in _read_ahead(reader.batches()):
                stage.add(validate(batch, mapping, reader.line_label, plausible, known_series=series, known=known))
                bar.set_postfix(rows=f"{stage.read:,}", refresh=False)
                _check_unparseable(stage, mapping, path, final=False)
                _check_quarantined(stage.read, stage.quarantined, stage.examples, mapping, path, final=False)
            _check_unparseable(stage, mapping, path, final=True)
            phases["read, map, validate, stage"] = time.perf_counter() - mark
            mark = time.perf_counter()
            staged = stage.finish()
            _check_quarantined(staged.read, staged.quarantined, staged.examples, mapping, path, final=True)
            phases["repeated keys, dimensions"] = time.perf_counter() - mark
            checksum = reader.checksum()
            bar.close()
            reconciliation = _reconciliation(staged, mapping)
            target_engine = engine
            if dry_run and database_file_missing(engine):
                target_engine = create_engine("duckdb:///:memory:")  # rehearse on an empty database
            mark = time.perf_counter()
            written = write(target_engine, staged, mapping, reconciliation, file_name=str(path.resolve()),
                            checksum=checksum, dry_run=dry_run, quiet=quiet)
            phases["database transaction"] = time.perf_counter() - mark
    finally:
        bar.close()
    engine.dispose()
    if not reconciliation.balanced:  # a bug, never the data's fault: say so loudly
        raise ImportFailed(
            f"the counts of {path.name} do not add up ({reconciliation.as_dict()}): a fault in the importer, not in the file; "
            "the database refuses such an import (the CHECK on imports), so nothing was kept: please report it with the file's first lines"
        )
    return ImportResult(
        file=path,
        mapping=mapping,
        database=describe(engine),
        dry_run=dry_run,
        checksum=checksum,
        reconciliation=reconciliation,
        written=written,
        warnings=notes + unread + staged.warnings,
        seconds=time.perf_counter() - started,
        phases=phases,
    )


def _reconciliation(staged: Staged, mapping: Mapping) -> Reconciliation:
    actions = {rule.name: rule.action for rule in mapping.rules}
    why = {rule.name: rule.why for rule in mapping.rules if rule.why}
    return Reconciliation(
        read=staged.read,
        unchanged=0,
        inserted=staged.rows,  # until the database says how many are new
        excluded=dict(staged.excluded),
        quarantined=dict(staged.quarantined),
        repaired={name: n for name, n in staged.marks.items() if actions.get(name) == "repair"},
        flagged={name: n for name, n in staged.marks.items() if actions.get(name) != "repair"},
        examples=staged.examples,
        why=why,
        lines=staged.lines if mapping.source.unpivot is not None else None,
    )
