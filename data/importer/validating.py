"""Deciding each record's fate: loaded, excluded by a named rule, or quarantined (no I/O).

A record takes the first fate that applies, in this order:

1. the reader could not split it into fields (blank line, wrong number of fields, stray
   quote, bytes not in the file's encoding); with [source] unpivot, each line that did is
   one record per unpivoted column, and an empty cell is excluded (``empty_cell``);
2. the mapping's rules with ``on = "source"``, in the order written;
3. its key is empty (``missing_key``);
4. a value it needs does not parse (``bad_timestamp``, ``unmapped_value``, ...);
5. the mapping's other rules, in the order written (repairs change the fields that
   later rules and checks see; flags only count);
6. a column the table requires is empty (``missing_value``), or a value does not fit
   its column or its dimension's (``wrong_type``, ``too_long``, ``not_allowed_value``);
7. an event before [source] earliest_date or after the import's time plus the tolerance
   (``before_earliest_date``, ``after_import_time``);
8. the table's own invariants (e.g. ``closed_before_submitted``); for observations also
   ``numerator_above_denominator``: a share (a ratio series in %, such as the A&E 4-hour
   standard) whose numerator exceeds its denominator, above 100%, which no share can be.
   Whether a series is a share is read from the database's ``series`` table (a row
   there wins, as the import keeps existing rows) or else from the mapping's own
   [dimensions.series]; ratios in other units (cost per transaction in £, speed of
   answer in seconds) may well have a numerator above the denominator.
9. an id its dimension lacks, for the columns a target quarantines them in (a roster's
   ``unknown_office``). Then, over the whole file (staging.py), a repeated key and an
   overlapping span (``overlapping_shift``).

Repairs and flags are counted over the rows finally loaded, so "197 repaired" means 197
rows in the table carry a repaired value.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import polars as pl

from data.importer.errors import ImportFailed
from data.importer.fields import compute_fields
from data.importer.mapping import Mapping, Source, Unpivot
from data.importer.reading import RawBatch, normalise
from data.importer.targets import DIMENSIONS, SHARE_RULE, Column

KEY_SEPARATOR = "\x1f"
REJECT_SCHEMA = {
    "line": pl.Int64(),
    "column_name": pl.String(),
    "rule": pl.String(),
    "message": pl.String(),
    "raw_row": pl.String(),
}
# How to read a text column into a typed one, for the message when a mapping forgot to.
_READ_AS = {
    pl.Datetime: 'timestamp = "FORMAT", e.g. timestamp = "%d/%m/%Y %H:%M"',
    pl.Date: 'date = "FORMAT", e.g. date = "%d/%m/%Y"',
    pl.Boolean: 'type = "boolean", a map to true/false, or sql = "..."',
    pl.Int16: 'type = "integer"',
    pl.Int32: 'type = "integer"',
    pl.Int64: 'type = "integer"',
    pl.Float64: 'type = "float"',
}
MARK_PREFIX = "_mark__"  # stage columns counting repairs and flags
DIMENSION_PREFIX = "_dim__"  # stage columns holding dimension attributes
ORDER_COLUMN = "_order"  # the [source] latest_by field: which version of a repeated key is the latest
CELL_COLUMN = "_cell"  # [source] unpivot: which of the unpivoted columns a row came from (0, 1, ...)
# An unpivoted row's staged _line is line * CELLS_PER_LINE + its column's position, so that
# every row of the stage keeps a number of its own (ids, duplicates) and its line stays known.
CELLS_PER_LINE = 10_000


EARLIEST_DATE_SETTING = "KPI_IMPORT_EARLIEST_DATE"
FUTURE_TOLERANCE_SETTING = "KPI_IMPORT_FUTURE_TOLERANCE_HOURS"
DEFAULT_EARLIEST_DATE = date(1990, 1, 1)
DEFAULT_FUTURE_TOLERANCE_HOURS = 24.0


@dataclass(frozen=True)
class Plausible:
    """When an imported event may have happened: from ``earliest`` (midnight UTC) to the
    import's time plus a tolerance (clock skew, a zone set wrong by a few hours)."""

    earliest: date
    imported_at: datetime  # naive UTC
    tolerance_hours: float

    @property
    def latest(self) -> datetime:
        return self.imported_at + timedelta(hours=self.tolerance_hours)


def plausible_window(source: Source, imported_at: datetime | None = None) -> Plausible:
    """The window for an import now: the mapping's [source] values, else the settings
    (environment variables), else 1990-01-01 and 24 hours."""
    earliest = source.earliest_date
    if earliest is None:
        text = os.environ.get(EARLIEST_DATE_SETTING, "").strip()
        try:
            earliest = date.fromisoformat(text) if text else DEFAULT_EARLIEST_DATE
        except ValueError:
            raise ImportFailed(f"{EARLIEST_DATE_SETTING} {text!r} is not a date such as 1990-01-01") from None
    tolerance = source.future_tolerance_hours
    if tolerance is None:
        text = os.environ.get(FUTURE_TOLERANCE_SETTING, "").strip()
        try:
            tolerance = float(text) if text else DEFAULT_FUTURE_TOLERANCE_HOURS
        except ValueError:
            tolerance = -1.0
        if not tolerance >= 0:
            raise ImportFailed(f"{FUTURE_TOLERANCE_SETTING} {text!r} is not a number of hours of 0 or more")
    now = imported_at or datetime.now(UTC).replace(tzinfo=None)
    return Plausible(earliest, now, tolerance)


@dataclass
class FieldStats:
    """How many values of one input were present and how many failed to parse."""

    seen: int = 0
    failed: int = 0
    examples: list[str] = field(default_factory=list)  # 'line 17: OPEN_DT '13/45/2015' ...'


@dataclass
class BatchOutcome:
    """One batch, sorted: rows to load, rows quarantined, rows excluded."""

    rows: pl.DataFrame  # target columns, dimension attributes, _key, _line, _hash, marks
    rejects: pl.DataFrame  # REJECT_SCHEMA
    read: int
    excluded: Counter[str]
    quarantined: Counter[str]
    parse_stats: dict[tuple[str, str], FieldStats]  # (column, rule) -> stats
    examples: dict[str, list[str]]  # rule -> a few 'line N: message' texts
    lines: int = 0  # lines of the file behind ``read`` (fewer than read when unpivoted)


class _Fates:
    """Who is still alive, and what happened to the others."""

    def __init__(self, raw: pl.DataFrame) -> None:
        self.raw = raw
        self.alive = pl.repeat(True, raw.height, eager=True, dtype=pl.Boolean)
        self.decided: list[tuple[pl.Series, str, str, str | None, pl.Series]] = []

    def assign(
        self,
        mask: pl.Series,
        rule: str,
        action: str,
        column: str | None,
        message: str | Callable[[pl.Series], pl.Series],
    ) -> None:
        newly = self.alive & mask.fill_null(False)
        count = int(newly.sum())
        if not count:
            return
        self.alive = self.alive & ~newly
        messages = message(newly) if callable(message) else pl.repeat(message, count, eager=True, dtype=pl.String)
        self.decided.append((newly, rule, action, column, messages))


def _key(raw: pl.DataFrame, mapping: Mapping) -> pl.Series:
    """The source key as text: the key columns joined, or the whole row for key = "*"."""
    columns = list(mapping.source.key) or [c for c in raw.columns if c != "_line"]
    parts = [pl.col(c).cast(pl.String) for c in columns]
    if not mapping.source.key:
        parts = [p.fill_null("") for p in parts]
    return raw.select(pl.concat_str(parts, separator=KEY_SEPARATOR).alias("_key")).to_series()


def _describe_values(frame: pl.DataFrame, columns: list[str], rows: pl.Series) -> pl.Series:
    selected = frame.filter(rows).select(columns)
    pieces = [pl.format(f"{c}={{}}", (pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S") if isinstance(selected.schema[c], pl.Datetime)
                                      else pl.col(c).cast(pl.String)).fill_null("NULL")) for c in columns]
    return selected.select(pl.concat_str(pieces, separator=", ").alias("m")).to_series()


def _sql_mask(frame: pl.DataFrame, sql: str, where: str, *, null_means: bool = False) -> pl.Series:
    try:
        value = frame.select(pl.sql_expr(sql).alias("_mask")).to_series()
    except Exception as error:  # noqa: BLE001 - Polars raises several kinds
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ImportFailed(f"{where}: {sql!r} failed on the data ({first}); use TRY_CAST for values that may not convert") from None
    if value.dtype != pl.Boolean:
        raise ImportFailed(f"{where}: {sql!r} is not a condition (it gives {value.dtype}, not true/false)")
    return value.fill_null(null_means)


def unpivot_frame(frame: pl.DataFrame, unpivot: Unpivot) -> pl.DataFrame:
    """One row per line and unpivoted column: the header in ``unpivot.name``, the cell in
    ``unpivot.value``, the column's position in CELL_COLUMN; in line order."""
    chosen = unpivot.chosen([c for c in frame.columns if c != "_line"])
    if not chosen:
        raise ImportFailed("[source] unpivot matches no column of the file" + (
            f" (pattern {unpivot.pattern!r})" if unpivot.pattern else f" ({', '.join(unpivot.columns)})"))
    if len(chosen) >= CELLS_PER_LINE:
        raise ImportFailed(f"[source] unpivot matches {len(chosen):,} columns; at most {CELLS_PER_LINE - 1:,} can be unpivoted")
    if len({frame.schema[c] for c in chosen}) > 1:
        frame = frame.with_columns(pl.col(chosen).cast(pl.String))
    positions = {column: position for position, column in enumerate(chosen)}
    index = [c for c in frame.columns if c not in positions]
    long = frame.unpivot(on=chosen, index=index, variable_name=unpivot.name, value_name=unpivot.value)
    long = long.with_columns(pl.col(unpivot.name).replace_strict(positions, return_dtype=pl.Int64).alias(CELL_COLUMN))
    return long.sort("_line", CELL_COLUMN)


def validate(batch: RawBatch, mapping: Mapping, line_label: str = "line", plausible: Plausible | None = None,
             known_series: dict[str, tuple[str, str]] | None = None,
             known: dict[str, frozenset[str]] | None = None) -> BatchOutcome:
    """Compute the fields of a batch and give every record exactly one fate.

    ``plausible``: the window events must fall in (default: ``plausible_window`` now).
    ``known_series``: {series id: (kind, unit)} of the database's series table, for the
    observations' share check (None: only the mapping's [dimensions.series] is known).
    ``known``: for the target's ``quarantine_unknown`` columns, the ids their dimension
    holds (read by the pipeline); a row naming another is quarantined under the rule's name.
    """
    plausible = plausible or plausible_window(mapping.source)
    source = mapping.source
    wide = batch.frame
    if source.unpivot is not None:
        wide = unpivot_frame(wide, source.unpivot)
    # Blanks around values and the null markers matter only in the columns the mapping reads
    # (all of them when the whole row is the key).
    used = [c for c in (mapping.source_columns() if source.key else wide.columns) if c in wide.columns and c != "_line"]
    raw = normalise(wide, used, trim=source.trim, null_values=source.null_values)
    target = mapping.target
    fates = _Fates(raw)
    marks: dict[str, pl.Series] = {}
    if source.unpivot is not None and not source.unpivot.keep_empty:
        value = source.unpivot.value
        fates.assign(raw.get_column(value).is_null(), "empty_cell", "excluded", value,
                     lambda rows: _as_messages(raw.get_column(source.unpivot.name), rows,  # type: ignore[union-attr]
                                               "the cell of column {} is empty"))

    for rule in mapping.rules:
        if rule.on != "source":
            continue
        mask = _sql_mask(raw, rule.when, f"[[rules]] {rule.name}")
        if rule.action == "flag":
            marks[rule.name] = mask
        else:
            fates.assign(mask, rule.name, _past(rule.action), rule.column, rule.why or f"matches {rule.when}")

    key = _key(raw, mapping)
    key_label = ", ".join(mapping.source.key) or "the row"
    fates.assign(key.is_null(), "missing_key", "quarantined", mapping.source.key[0] if mapping.source.key else None,
                 f"the key ({key_label}) is empty; every row needs one")

    computed = compute_fields(raw, mapping)
    frame = computed.frame
    field_names = set(mapping.field_names())
    for name, column in target.columns.items():
        if name in field_names and frame.schema[name] == pl.String and column.dtype != pl.String:
            raise ImportFailed(
                f"[fields.{name}] of mapping {mapping.name} is text, but {target.table}.{name} is {column.sql_type}: "
                f"read it with {_READ_AS.get(type(column.dtype), 'a type')}"
            )
    parse_stats: dict[tuple[str, str], FieldStats] = {}
    for failure in computed.failures:
        stats = parse_stats.setdefault((failure.column, failure.rule), FieldStats())
        stats.seen += failure.seen
        failed = int(failure.mask.sum())
        stats.failed += failed
        if failed and len(stats.examples) < 3:
            lines = raw.get_column("_line").filter(failure.mask).head(3 - len(stats.examples)).to_list()
            values = failure.values.filter(failure.mask).head(3 - len(stats.examples)).to_list()
            stats.examples.extend(f"{line_label} {n}: {v!r}" for n, v in zip(lines, values, strict=True))
        fates.assign(failure.mask, failure.rule, "quarantined", failure.column, failure.messages)
    marks.update(computed.otherwise)

    for rule in mapping.rules:
        if rule.on == "source":
            continue
        where = f"[[rules]] {rule.name}"
        mask = _sql_mask(frame, rule.when, where)
        if rule.action in ("exclude", "quarantine"):
            fates.assign(mask, rule.name, _past(rule.action), rule.column, rule.why or f"matches {rule.when}")
        elif rule.action == "flag":
            marks[rule.name] = mask & fates.alive
        else:  # repair
            rows = mask & fates.alive
            marks[rule.name] = rows
            if rows.any():
                changes = []
                for name, expression in rule.set:
                    try:
                        new = frame.select(pl.sql_expr(expression)).to_series()
                    except Exception as error:  # noqa: BLE001
                        raise ImportFailed(f"{where} set.{name}: {expression!r} failed on the data ({error})") from None
                    changes.append(pl.when(pl.lit(rows)).then(pl.lit(new)).otherwise(pl.col(name)).alias(name))
                frame = frame.with_columns(changes)

    sources = {spec.name: spec.column or spec.name for spec in mapping.fields}
    for spec in mapping.fields:
        if spec.required and spec.name not in target.columns:
            fates.assign(frame.get_column(spec.name).is_null(), "missing_value", "quarantined", sources[spec.name],
                         f"{spec.name} is empty (required by the mapping)")
    columns: dict[str, pl.Series] = {}
    for name, column in target.columns.items():
        if name == target.source_column:
            columns[name] = pl.repeat(source.name, raw.height, eager=True, dtype=column.dtype)
            continue
        if name not in frame.columns or name not in sources:
            columns[name] = pl.repeat(None, raw.height, eager=True, dtype=column.dtype)
            continue
        values = frame.get_column(name)
        origin = sources[name]
        if column.required:
            fates.assign(values.is_null(), "missing_value", "quarantined", origin,
                         f"{name} is empty" + (f" ({origin} has no usable value)" if origin != name else ""))
        try:
            cast = values.cast(column.dtype, strict=False) if values.dtype != column.dtype else values
        except Exception:  # noqa: BLE001 - Polars refuses some casts outright
            raise ImportFailed(
                f"[fields.{name}] of mapping {mapping.name} gives {values.dtype}, which cannot become "
                f"{target.table}.{name} ({column.sql_type})"
            ) from None
        wrong = values.is_not_null() & cast.is_null()
        fates.assign(wrong, "wrong_type", "quarantined", origin,
                     lambda rows, v=values, n=name, c=column: _as_messages(v, rows, f"{n} {{}} cannot be stored as {c.sql_type}"))
        _check_fit(fates, cast, name, column, origin)
        columns[name] = cast
    # A dimension's attributes (a service's name, an office's kind) must fit their table
    # too: the row that carries a bad one is quarantined, not the whole file.
    for dimension in mapping.dimensions:
        spec = DIMENSIONS[dimension.table]
        for name, (kind, field_name) in dimension.columns.items():
            if kind != "field":
                continue
            column, values = spec.columns[name], frame.get_column(field_name)
            label = f"{dimension.table}.{name} ({field_name})"
            if column.required:
                fates.assign(values.is_null(), "missing_value", "quarantined", sources.get(field_name, field_name),
                             f"{label} is empty")
            if values.dtype == pl.String:
                _check_fit(fates, values, label, column, sources.get(field_name, field_name))
    typed = pl.DataFrame(columns)
    _check_plausible(fates, typed, target.events, plausible, sources)
    for check in target.checks:
        mask = ~_sql_mask(typed, check.condition, f"check {check.rule}", null_means=True)
        # a column named twice in the condition (closed_at >= submitted_at OR closed_at ...) once
        names = list(dict.fromkeys(c for c in pl.sql_expr(check.condition).meta.root_names() if c in typed.columns))
        fates.assign(mask, check.rule, "quarantined", sources.get(check.column, check.column),
                     lambda rows, cond=check.condition, names=names: pl.select(pl.concat_str(
                         [pl.lit(f"breaks {cond}: "), pl.lit(_describe_values(typed, names, rows))])).to_series())
    for name, rule in target.quarantine_unknown.items():
        if known is None or name not in known:
            continue
        table = target.references[name]
        values = typed.get_column(name)
        fates.assign(values.is_not_null() & ~values.is_in(sorted(known[name])), rule, "quarantined", sources.get(name, name),
                     lambda rows, v=values, n=name, t=table: _as_messages(
                         v, rows, f"{n} {{}} is not in {t}: add it to {t} first (or correct the id in the file)"))

    if target.table == "observations":
        _check_shares(fates, typed, frame, mapping, known_series or {}, sources)

    return _outcome(batch, raw, mapping, fates, typed, frame, key, marks, parse_stats, line_label)



def _series_attribute(frame: pl.DataFrame, mapping: Mapping, column: str) -> pl.Series:
    """The mapping's [dimensions.series] ``column`` (kind, unit) per row; null without one."""
    for dimension in mapping.dimensions:
        if dimension.table == "series" and column in dimension.columns:
            kind, value = dimension.columns[column]
            if kind == "field":
                return frame.get_column(value).cast(pl.String)
            return pl.repeat(None if value is None else str(value), frame.height, eager=True, dtype=pl.String)
    return pl.repeat(None, frame.height, eager=True, dtype=pl.String)


def _check_shares(fates: _Fates, typed: pl.DataFrame, frame: pl.DataFrame, mapping: Mapping,
                  known_series: dict[str, tuple[str, str]], sources: dict[str, str]) -> None:
    """Quarantine a share's observation whose numerator is above its denominator."""
    series = typed.get_column("series")
    known_kind = series.replace_strict({k: v[0] for k, v in known_series.items()}, default=None, return_dtype=pl.String)
    known_unit = series.replace_strict({k: v[1] for k, v in known_series.items()}, default=None, return_dtype=pl.String)
    is_known = series.is_in(list(known_series))
    kind = pl.select(pl.when(pl.lit(is_known)).then(pl.lit(known_kind)).otherwise(pl.lit(_series_attribute(frame, mapping, "kind")))).to_series()
    unit = pl.select(pl.when(pl.lit(is_known)).then(pl.lit(known_unit)).otherwise(pl.lit(_series_attribute(frame, mapping, "unit")))).to_series()
    numerator, denominator = typed.get_column("numerator"), typed.get_column("denominator")
    above = ((kind == "ratio") & (unit == "%") & (numerator > denominator)).fill_null(False)
    if not above.any():
        return
    fates.assign(above, SHARE_RULE, "quarantined", sources.get("numerator", "numerator"),
                 lambda rows: pl.select(pl.format(
                     "numerator {} is above denominator {}: {} is a share (%), which cannot be above 100%",
                     pl.lit(numerator.filter(rows)), pl.lit(denominator.filter(rows)), pl.lit(series.filter(rows)))).to_series())


def _check_plausible(fates: _Fates, typed: pl.DataFrame, events: tuple[str, ...], plausible: Plausible,
                     sources: dict[str, str]) -> None:
    """Quarantine rows with an event no service could have recorded: after the import's
    time plus the tolerance (``after_import_time``: a year 2099) or before the earliest
    date (``before_earliest_date``: a year 1900 or 1, a default written for empty)."""
    earliest = datetime.combine(plausible.earliest, datetime.min.time())
    shown_now = f"{plausible.imported_at:%Y-%m-%d %H:%M} UTC"
    for name in events:
        values = typed.get_column(name)
        if values.dtype == pl.Date:
            late, early = values > plausible.latest.date(), values < plausible.earliest
        else:
            late, early = values > plausible.latest, values < earliest
        origin = sources.get(name, name)
        fates.assign(late.fill_null(False), "after_import_time", "quarantined", origin,
                     lambda rows, v=values, n=name: _as_messages(
                         v, rows, f"{n} {{}} (UTC) is after the import's time, {shown_now}, plus "
                         f"{plausible.tolerance_hours:g} h: an event cannot be in the future (set [source] "
                         "future_tolerance_hours to allow more)"))
        fates.assign(early.fill_null(False), "before_earliest_date", "quarantined", origin,
                     lambda rows, v=values, n=name: _as_messages(
                         v, rows, f"{n} {{}} (UTC) is before {plausible.earliest:%Y-%m-%d}, the earliest date taken as "
                         "plausible (set [source] earliest_date if the records go back further)"))


def _check_fit(fates: _Fates, values: pl.Series, name: str, column: Column, origin: str | None) -> None:
    """Quarantine the rows whose text is longer than the column holds (``too_long``) or
    not one of its allowed values (``not_allowed_value``)."""
    if column.max_length and values.dtype == pl.String:
        long = values.str.len_chars() > column.max_length
        fates.assign(long, "too_long", "quarantined", origin,
                     lambda rows: _as_messages(values.str.len_chars(), rows, f"{name} has {{}} characters; it may have "
                                               f"{column.max_length} (shorten it in the file, or add a repair rule "
                                               f"that truncates it)"))
    if column.allowed:
        bad = values.is_not_null() & ~values.is_in(list(column.allowed))
        fates.assign(bad, "not_allowed_value", "quarantined", origin,
                     lambda rows: _as_messages(values, rows, f"{name} {{}} is not one of {', '.join(column.allowed)}"))


def _as_messages(values: pl.Series, rows: pl.Series, template: str) -> pl.Series:
    """``template`` with its one ``{}`` replaced by each selected row's value."""
    chosen = values.filter(rows)
    chosen = chosen.dt.to_string("%Y-%m-%d %H:%M:%S") if isinstance(chosen.dtype, pl.Datetime) else chosen.cast(pl.String)
    shown = chosen.map_elements(repr, return_dtype=pl.String, skip_nulls=True) if values.dtype == pl.String else chosen
    before, after = template.split("{}", 1)
    return pl.select(pl.concat_str([pl.lit(before), pl.lit(shown).fill_null("NULL"), pl.lit(after)])).to_series()


def _past(action: str) -> str:
    return {"exclude": "excluded", "quarantine": "quarantined"}[action]


def _outcome(
    batch: RawBatch,
    raw: pl.DataFrame,
    mapping: Mapping,
    fates: _Fates,
    typed: pl.DataFrame,
    frame: pl.DataFrame,
    key: pl.Series,
    marks: dict[str, pl.Series],
    parse_stats: dict[tuple[str, str], FieldStats],
    line_label: str,
) -> BatchOutcome:
    """Split the batch by fate: rows to stage (with their marks), rejects, counts."""
    alive = fates.alive
    line = raw.get_column("_line")
    if CELL_COLUMN in raw.columns:
        line = line * CELLS_PER_LINE + raw.get_column(CELL_COLUMN)
    rows = typed.with_columns(
        _key=key,
        _line=line,
        _hash=raw.drop("_line", CELL_COLUMN, strict=False).hash_rows(),
    )
    if mapping.source.latest_by:
        rows = rows.with_columns(frame.get_column(mapping.source.latest_by).alias(ORDER_COLUMN))
    for dimension in mapping.dimensions:
        for column, (kind, name) in dimension.columns.items():
            if kind == "field":
                rows = rows.with_columns(frame.get_column(name).alias(f"{DIMENSION_PREFIX}{dimension.table}__{column}"))
    rows = rows.with_columns(pl.Series(f"{MARK_PREFIX}{name}", mask.fill_null(False)) for name, mask in marks.items())
    rows = rows.filter(alive)

    excluded: Counter[str] = Counter()
    quarantined: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    rejects = [batch.malformed.filter(pl.col("action") == "quarantined").select(
        line="_line", column_name=pl.lit(None, dtype=pl.String), rule="rule", message="message", raw_row="raw_row")]
    for rule, action in batch.malformed.select("rule", "action").iter_rows():
        (excluded if action == "excluded" else quarantined)[rule] += 1
    for row in batch.malformed.head(50).iter_rows(named=True):
        if len(examples.setdefault(row["rule"], [])) < 3:
            examples[row["rule"]].append(f"{line_label} {row['_line']}: {row['message']}")
    source_columns = [c for c in raw.columns if c not in ("_line", CELL_COLUMN)]
    for mask, rule, action, column, messages in fates.decided:
        count = int(mask.sum())
        lines = raw.get_column("_line").filter(mask)
        if len(examples.setdefault(rule, [])) < 3:
            examples[rule].extend(
                f"{line_label} {n}: {m}" for n, m in zip(lines.head(3).to_list(), messages.head(3).to_list(), strict=True)
            )
            del examples[rule][3:]
        if action == "excluded":
            excluded[rule] += count
            continue
        quarantined[rule] += count
        raw_rows = raw.filter(mask).select(pl.struct(source_columns).struct.json_encode().alias("raw_row")).to_series()
        rejects.append(
            pl.DataFrame(
                {
                    "line": lines,
                    "column_name": pl.repeat(column, count, eager=True, dtype=pl.String),
                    "rule": pl.repeat(rule, count, eager=True, dtype=pl.String),
                    "message": messages,
                    "raw_row": raw_rows,
                },
                schema=REJECT_SCHEMA,
            )
        )
    return BatchOutcome(
        rows=rows,
        rejects=pl.concat(rejects, how="vertical") if rejects else pl.DataFrame(schema=REJECT_SCHEMA),
        read=raw.height + batch.malformed.height,
        excluded=excluded,
        quarantined=quarantined,
        parse_stats=parse_stats,
        examples=examples,
        lines=batch.frame.height + batch.malformed.height,
    )
