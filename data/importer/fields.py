"""Computing a mapping's fields over a batch of raw records (no I/O).

Fields are computed in the order the mapping lists them. Each sees the fields above it
and the source's columns (a field shadows a column of the same name; ``from`` always
reads the column). Timestamps are converted to naive UTC as soon as they are made, using
the field's or the source's time zone, so that every comparison and every sum of seconds
happens in UTC. A value that does not parse becomes NULL and is recorded as a
``ParseFailure``; validating.py decides what happens to its row.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import polars as pl

from data.importer.errors import ImportFailed
from data.importer.mapping import FieldSpec, Mapping
from data.importer.reporting_periods import EXAMPLES, parse_period

ROLLOVER = pl.duration(hours=12)  # a time this far before its anchor is on the next day
TRUE_TEXTS = ("true", "t", "yes", "y", "1")
FALSE_TEXTS = ("false", "f", "no", "n", "0")


@dataclass
class ParseFailure:
    """Rows where one field's input was present but could not be read."""

    field: str
    column: str  # the source column (or field) that held the bad value
    rule: str  # bad_timestamp, bad_date, bad_time, bad_number, bad_boolean, unmapped_value, nonexistent_local_time
    mask: pl.Series  # Boolean, True where it failed
    values: pl.Series  # the input values, as text
    expected: str  # what a good value looks like, for the message
    seen: int  # values present in the input (the share that failed decides whether to stop)

    def messages(self, rows: pl.Series) -> pl.Series:
        """One message per selected row (``rows``: Boolean mask of the batch)."""
        values = _as_text(self.values.filter(rows))
        quoted = values.map_elements(repr, return_dtype=pl.String, skip_nulls=True)
        return pl.select(pl.format(f"{self.column} {{}} {self.expected}", pl.lit(quoted))).to_series()


@dataclass
class Computed:
    """The fields of one batch, and what failed while computing them."""

    frame: pl.DataFrame  # source columns not shadowed, every field, _line
    failures: list[ParseFailure]
    otherwise: dict[str, pl.Series]  # "field_otherwise" -> mask of rows mapped by the fallback


def slugify(text: str, prefix: str = "") -> str:
    """A short stable id from a name: lower case ASCII, words joined by '_', at most 64
    characters (longer ones keep 55 and add 8 hex digits of a hash, so they stay unique)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = prefix + re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if slug == prefix:
        slug = prefix + "id_" + hashlib.sha1(text.encode()).hexdigest()[:8]
    if len(slug) > 64:
        slug = slug[:55].rstrip("_") + "_" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return slug


def to_utc(local: pl.Expr, timezone: str) -> pl.Expr:
    """Naive local times in ``timezone`` as naive UTC. In the hour repeated when clocks go
    back the earlier instant is taken; times skipped when they go forward become NULL."""
    if timezone == "UTC":
        return local
    return (
        local.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


def from_utc(utc: pl.Expr, timezone: str) -> pl.Expr:
    if timezone == "UTC":
        return utc
    return utc.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone).dt.replace_time_zone(None)


def _as_text(series: pl.Series) -> pl.Series:
    return series if series.dtype == pl.String else series.cast(pl.String)


def _parse_many(text: pl.Series, dtype: pl.DataType, formats: tuple[str, ...]) -> pl.Series:
    """The first format that reads each value."""
    attempts = [text.str.strptime(dtype, fmt, strict=False) for fmt in formats]  # type: ignore[arg-type]
    if len(attempts) == 1:
        return attempts[0]
    return pl.select(pl.coalesce(attempts)).to_series()


class _Batch:
    """The namespace fields are computed in: fields first, then source columns."""

    def __init__(self, raw: pl.DataFrame, mapping: Mapping) -> None:
        self.raw = raw
        self.mapping = mapping
        self.frame = raw
        self.fields: set[str] = set()
        self.failures: list[ParseFailure] = []
        self.otherwise: dict[str, pl.Series] = {}
        # period field -> {"period_end": ..., "grain": ...}, for the fields made with it
        self.period_parts: dict[str, dict[str, pl.Series]] = {}

    def get(self, name: str, spec: FieldSpec) -> pl.Series:
        if name in self.fields or name in self.frame.columns:
            return self.frame.get_column(name)
        raise ImportFailed(f"[fields.{spec.name}] refers to {name!r}, which is neither a field above it nor a column of the file")

    def eval(self, sql: str, where: str) -> pl.Series:
        try:
            return self.frame.select(pl.sql_expr(sql).alias("_value")).to_series()
        except Exception as error:  # noqa: BLE001 - Polars raises several kinds
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ImportFailed(f"{where}: {sql!r} failed on the data ({first}); use TRY_CAST for values that may not convert") from None

    def condition(self, sql: str, where: str) -> pl.Series:
        value = self.eval(sql, where)
        if value.dtype != pl.Boolean:
            raise ImportFailed(f"{where}: {sql!r} is not a condition (it gives {value.dtype}, not true/false)")
        return value.fill_null(False)

    def fail(self, spec: FieldSpec, column: str, rule: str, mask: pl.Series, values: pl.Series, expected: str) -> None:
        # Recorded even when nothing failed, so that the share of bad values is known.
        self.failures.append(
            ParseFailure(spec.name, column, rule, mask.fill_null(False), values, expected, int(values.is_not_null().sum()))
        )

    def add(self, name: str, values: pl.Series) -> None:
        self.frame = self.frame.with_columns(values.alias(name))
        self.fields.add(name)


def compute_fields(raw: pl.DataFrame, mapping: Mapping) -> Computed:
    """Every field of ``mapping`` over ``raw`` (source columns + _line)."""
    batch = _Batch(raw, mapping)
    for spec in mapping.fields:
        timezone = spec.timezone or mapping.source.timezone
        when = batch.condition(spec.when, f"[fields.{spec.name}] when") if spec.when else None
        before = len(batch.failures)
        values = _compute(batch, spec, timezone)
        if when is not None:
            values = pl.select(pl.when(pl.lit(when)).then(pl.lit(values))).to_series()
            for failure in batch.failures[before:]:
                failure.mask = failure.mask & when  # a value not needed cannot fail
            parts = batch.period_parts.get(spec.name, {})
            for part, series in parts.items():
                parts[part] = pl.select(pl.when(pl.lit(when)).then(pl.lit(series))).to_series()
        batch.add(spec.name, values)
    return Computed(batch.frame, batch.failures, batch.otherwise)


def _compute(batch: _Batch, spec: FieldSpec, timezone: str) -> pl.Series:
    height = batch.frame.height
    if spec.kind == "value":
        return pl.repeat(spec.value, height, eager=True)
    if spec.kind == "sql":
        if spec.sql is None:
            raise ImportFailed(f"[fields.{spec.name}] is an sql field without its sql = \"...\" expression")
        return batch.eval(spec.sql, f"[fields.{spec.name}] sql")
    if spec.kind == "from":
        return _from_column(batch, spec, timezone)
    if spec.kind in ("period_end", "grain"):
        parts = batch.period_parts.get(spec.inputs[0])
        if parts is None:
            raise ImportFailed(f"[fields.{spec.name}] comes with a period field, and {spec.inputs[0]!r} is none")
        return parts[spec.kind]
    inputs = [batch.get(name, spec) for name in spec.inputs]
    if spec.kind == "coalesce":
        try:
            return pl.select(pl.coalesce([pl.lit(s) for s in inputs])).to_series()
        except Exception as error:  # noqa: BLE001
            raise ImportFailed(f"[fields.{spec.name}] cannot coalesce {', '.join(spec.inputs)}: {error}") from None
    if spec.kind == "slug":
        return _slug(inputs, spec.prefix)
    if spec.kind == "add_seconds":
        start, seconds = inputs
        if start.dtype != pl.Datetime:
            raise ImportFailed(f"[fields.{spec.name}] add_seconds needs a timestamp first; {spec.inputs[0]} is {start.dtype}")
        if not seconds.dtype.is_numeric():
            number = _as_text(seconds).cast(pl.Float64, strict=False)
            batch.fail(spec, spec.inputs[1], "bad_number", seconds.is_not_null() & number.is_null(), seconds, "is not a number of seconds")
            seconds = number
        micros = (seconds.cast(pl.Float64) * 1_000_000).round().cast(pl.Int64)
        return pl.select(pl.lit(start) + pl.duration(microseconds=pl.lit(micros))).to_series()
    if spec.kind == "combine":
        return _combine(batch, spec, inputs, timezone)
    raise ImportFailed(f"[fields.{spec.name}] has kind {spec.kind!r}, which the importer does not know; use value, sql, from, coalesce, slug, add_seconds or combine")


def _from_column(batch: _Batch, spec: FieldSpec, timezone: str) -> pl.Series:
    if spec.column is None:
        raise ImportFailed(f"[fields.{spec.name}] reads no column: give from = \"<column of the file>\"")
    if spec.column not in batch.raw.columns:
        raise ImportFailed(f"[fields.{spec.name}] reads column {spec.column!r}, which the file does not have")
    values = batch.raw.get_column(spec.column)
    if spec.null:
        values = pl.select(pl.when(pl.lit(_as_text(values)).is_in(list(spec.null))).then(None).otherwise(pl.lit(values))).to_series()
    given = values.is_not_null()
    if spec.extract:
        # No match gives NULL; with a map and an explicit otherwise it is counted as unmatched.
        values = _as_text(values).str.extract(spec.extract, 1)
    present = values.is_not_null()
    column = spec.column
    if spec.parser == "timestamp":
        if isinstance(values.dtype, pl.Datetime):
            if values.dtype.time_zone:  # type: ignore[union-attr]
                return values.dt.convert_time_zone("UTC").dt.replace_time_zone(None).cast(pl.Datetime("us"))
            local = values.cast(pl.Datetime("us"))
        elif values.dtype == pl.Date:
            local = values.cast(pl.Datetime("us"))
        else:
            local = _parse_many(_as_text(values), pl.Datetime("us"), spec.formats)
            batch.fail(spec, column, "bad_timestamp", present & local.is_null(), values, f"is not a timestamp like {' or '.join(spec.formats)}")
        utc = pl.select(to_utc(pl.lit(local), timezone)).to_series()
        batch.fail(spec, column, "nonexistent_local_time", local.is_not_null() & utc.is_null(), values,
                   f"does not exist in {timezone} (the clocks went forward)")
        return utc
    if spec.parser == "date":
        if values.dtype == pl.Date:
            return values
        if isinstance(values.dtype, pl.Datetime):
            return values.dt.date()
        parsed = _parse_many(_as_text(values), pl.Date(), spec.formats)
        batch.fail(spec, column, "bad_date", present & parsed.is_null(), values, f"is not a date like {' or '.join(spec.formats)}")
        return parsed
    if spec.parser == "time":
        if values.dtype == pl.Time:
            return values
        if isinstance(values.dtype, pl.Datetime):
            return values.dt.time()
        parsed = _parse_many(_as_text(values), pl.Time(), spec.formats)
        batch.fail(spec, column, "bad_time", present & parsed.is_null(), values, f"is not a time like {' or '.join(spec.formats)}")
        return parsed
    if spec.parser == "type":
        return _typed(batch, spec, values, present)
    if spec.parser == "period":
        return _period(batch, spec, values, present)
    if spec.parser == "map":
        return _mapped(batch, spec, values, given if spec.extract and spec.has_otherwise else present)
    return values


def _typed(batch: _Batch, spec: FieldSpec, values: pl.Series, present: pl.Series) -> pl.Series:
    column = spec.column or spec.name
    if spec.type == "string":
        return _as_text(values)
    if spec.type == "boolean":
        if values.dtype == pl.Boolean:
            return values
        text = _as_text(values).str.to_lowercase()
        parsed = pl.select(
            pl.when(pl.lit(text).is_in(list(TRUE_TEXTS))).then(True).when(pl.lit(text).is_in(list(FALSE_TEXTS))).then(False)
        ).to_series()
        batch.fail(spec, column, "bad_boolean", present & parsed.is_null(), values, "is not true or false")
        return parsed
    number = values.cast(pl.Float64, strict=False) if values.dtype.is_numeric() else _as_text(values).str.replace_all(",", "").cast(pl.Float64, strict=False)
    if spec.type == "float":
        batch.fail(spec, column, "bad_number", present & number.is_null(), values, "is not a number")
        return number
    whole = pl.select(pl.when(pl.lit(number) == pl.lit(number).round()).then(pl.lit(number))).to_series()
    parsed = whole.cast(pl.Int64, strict=False)
    batch.fail(spec, column, "bad_number", present & parsed.is_null(), values, "is not a whole number")
    return parsed


def _period(batch: _Batch, spec: FieldSpec, values: pl.Series, present: pl.Series) -> pl.Series:
    """The period's first day; its last day and grain are kept for the fields made with it.
    Each distinct text is read once (a monthly file has a few dozen)."""
    form = spec.period or "any"
    if not (values.dtype in (pl.Date, pl.String) or isinstance(values.dtype, pl.Datetime)):
        values = _as_text(values)
    distinct = values.drop_nulls().unique()
    read = {value: parse_period(value, form, spec.year_starts) for value in distinct.to_list()}
    lookup = pl.DataFrame(
        {
            "_in": distinct,
            "_start": [p[0] if p else None for p in (read[v] for v in distinct.to_list())],
            "_end": [p[1] if p else None for p in (read[v] for v in distinct.to_list())],
            "_grain": [p[2] if p else None for p in (read[v] for v in distinct.to_list())],
        },
        schema={"_in": values.dtype, "_start": pl.Date, "_end": pl.Date, "_grain": pl.String},
    )
    parsed = pl.DataFrame({"_in": values}).join(lookup, on="_in", how="left", maintain_order="left")
    start = parsed.get_column("_start")
    batch.fail(spec, spec.column or spec.name, "bad_period", present & start.is_null(), values, f"is not {EXAMPLES[form]}")
    batch.period_parts[spec.name] = {"period_end": parsed.get_column("_end"), "grain": parsed.get_column("_grain")}
    return start


def _mapped(batch: _Batch, spec: FieldSpec, values: pl.Series, present: pl.Series) -> pl.Series:
    if spec.mapping is None:
        raise ImportFailed(f"[fields.{spec.name}] maps values but has no map: give map = {{ \"<in the file>\" = \"<allowed value>\" }}")
    column = spec.column or spec.name
    text = _as_text(values)
    mapped = text.replace_strict(spec.mapping, default=None)
    unmatched = present & mapped.is_null()
    if spec.has_otherwise:
        batch.otherwise[f"{spec.name}_otherwise"] = unmatched
        return pl.select(pl.when(pl.lit(unmatched)).then(pl.lit(spec.otherwise)).otherwise(pl.lit(mapped))).to_series()
    known = ", ".join(repr(k) for k in list(spec.mapping)[:8]) + (", ..." if len(spec.mapping) > 8 else "")
    batch.fail(spec, column, "unmapped_value", unmatched, values,
               f"is not in the map of field {spec.name} (known: {known}); add it to the map, or an explicit otherwise")
    return mapped


def _composite_slug(parts: list[str], prefix: str) -> str:
    """Each part slugged, joined by '-'; capped at 64 characters like slugify."""
    slug = "-".join(slugify(part, prefix if i == 0 else "") for i, part in enumerate(parts))
    if len(slug) > 64:
        slug = slug[:55].rstrip("_-") + "_" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:8]
    return slug


def _slug(inputs: list[pl.Series], prefix: str) -> pl.Series:
    texts = [_as_text(s) for s in inputs]
    joined = pl.select(pl.concat_str([pl.lit(t) for t in texts], separator="\x1f")).to_series()
    uniques = joined.drop_nulls().unique().to_list()
    lookup = {value: _composite_slug(value.split("\x1f"), prefix) for value in uniques}
    return joined.replace_strict(lookup, default=None, return_dtype=pl.String)


def _combine(batch: _Batch, spec: FieldSpec, inputs: list[pl.Series], timezone: str) -> pl.Series:
    day, clock = inputs
    day_name, clock_name = spec.inputs
    if day.dtype == pl.String:
        parsed = _parse_many(day, pl.Date(), (spec.date_format,))
        batch.fail(spec, day_name, "bad_date", day.is_not_null() & parsed.is_null(), day, f"is not a date like {spec.date_format}")
        day = parsed
    elif isinstance(day.dtype, pl.Datetime):
        day = day.dt.date()
    if clock.dtype == pl.String:
        parsed = _parse_many(clock, pl.Time(), (spec.time_format,))
        batch.fail(spec, clock_name, "bad_time", clock.is_not_null() & parsed.is_null(), clock, f"is not a time like {spec.time_format}")
        clock = parsed
    elif isinstance(clock.dtype, pl.Datetime):
        clock = clock.dt.time()
    if day.dtype != pl.Date or clock.dtype != pl.Time:
        raise ImportFailed(f"[fields.{spec.name}] combine needs a date and a time; got {day.dtype} and {clock.dtype}")
    local = pl.select(pl.lit(day).dt.combine(pl.lit(clock), "us")).to_series()
    if spec.after:
        anchor = batch.get(spec.after, spec)
        if not isinstance(anchor.dtype, pl.Datetime):
            raise ImportFailed(f"[fields.{spec.name}] after = {spec.after!r} must be a timestamp field")
        # Times without dates: one more than 12 hours before the anchor is on the next day
        # (a call that started before midnight and was answered after it).
        anchor_local = pl.select(from_utc(pl.lit(anchor), timezone)).to_series()
        local = pl.select(
            pl.when(pl.lit(local) < pl.lit(anchor_local) - ROLLOVER)
            .then(pl.lit(local).dt.offset_by("1d"))
            .otherwise(pl.lit(local))
        ).to_series()
    utc = pl.select(to_utc(pl.lit(local), timezone)).to_series()
    batch.fail(spec, clock_name, "nonexistent_local_time", local.is_not_null() & utc.is_null(), local,
               f"does not exist in {timezone} (the clocks went forward)")
    return utc
