"""Mappings: TOML files that say how a source's export becomes rows of a canonical table.

A mapping is read and checked here without touching any data: every problem found is
reported at once, each naming the section and saying what to write instead. The shipped
mappings live in data/mappings/; README.md ("Importing your own exports") explains the
format with examples. In short::

    [source]      name, key, timezone, optional format/delimiter/encoding/unpivot/ignore...
    [target]      table
    [fields]      name = { from = "COLUMN", timestamp = "%d/%m/%Y %H:%M" } ...
                  period_start = { from = "Month", period = "month" }  (observations)
    [[rules]]     name, action (exclude|quarantine|repair|flag), when, ...
    [dimensions.services]  service_id = "field", name = "field", digital = false ...

Every field must be a column of the target, a dimension's attribute, or used by a rule or
another field; any other is refused unless it says ignore = true.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from data.importer.errors import ImportFailed, did_you_mean
from data.importer.reporting_periods import DEFAULT_YEAR_STARTS, PERIOD_FORMS
from data.importer.targets import DIMENSIONS, TARGETS, Target

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"

FORMATS = ("csv", "tsv", "parquet", "excel")
ACTIONS = ("exclude", "quarantine", "repair", "flag")
TYPES = ("string", "integer", "float", "boolean")
# A field is computed by exactly one of these.
KINDS = ("from", "combine", "coalesce", "add_seconds", "slug", "value", "sql")
# Options that turn a raw column (kind "from") into a typed value; at most one.
PARSERS = ("timestamp", "date", "time", "type", "map", "period")
# The fields a period field makes besides itself (its first day): observations' columns.
PERIOD_PARTS = ("period_end", "grain")
FIELD_OPTIONS = set(KINDS) | set(PARSERS) | {
    "extract", "otherwise", "when", "null", "timezone", "after", "prefix", "required",
    "date_format", "time_format", "year_starts", "ignore",
}
SOURCE_OPTIONS = {
    "name", "key", "timezone", "format", "delimiter", "quote", "encoding", "sheet",
    "skip_lines", "null_values", "trim", "max_unparseable", "latest_by", "earliest_date",
    "future_tolerance_hours", "max_quarantined", "unpivot", "ignore",
}
UNPIVOT_OPTIONS = {"columns", "pattern", "name", "value", "keep_empty"}
RULE_OPTIONS = {"name", "action", "when", "on", "set", "why", "column"}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The importer's own rules (reading, parsing, the tables' invariants), which a mapping's
# rules must not be named after.
RESERVED_RULES = {
    "blank_line", "bad_encoding", "wrong_field_count", "unbalanced_quote", "malformed_quoting", "missing_key",
    "bad_timestamp", "bad_date", "bad_time", "bad_number", "bad_period", "bad_boolean", "unmapped_value",
    "nonexistent_local_time", "missing_value", "wrong_type", "too_long", "not_allowed_value", "duplicate_row",
    "conflicting_duplicate", "superseded", "empty_cell", "after_import_time", "before_earliest_date", "closed_before_submitted", "status_disagrees_with_closed_at", "due_before_submitted",
    "answered_before_arrival", "ended_before_arrival", "ended_before_answer", "abandoned_but_answered",
    "rating_out_of_range", "completed_before_start", "period_ends_before_start", "negative_staff_hours",
    "negative_cost", "no_figure", "negative_numerator", "denominator_not_positive", "negative_n",
    "numerator_above_denominator",
    "shift_ends_before_start", "shift_longer_than_16_hours", "negative_break", "break_not_shorter_than_shift",
    "unknown_office", "overlapping_shift",
}
_MISSING = object()


@dataclass(frozen=True)
class Unpivot:
    """A wide sheet (one column per period) read as one row per line and column: the
    column's header goes into a column ``name``, its cell into a column ``value``."""

    columns: tuple[str, ...] = ()  # the columns to unpivot, by name ...
    pattern: str | None = None  # ... or every column whose header matches this
    name: str = "period"
    value: str = "value"
    keep_empty: bool = False  # False: an empty cell is excluded as empty_cell (counted)

    def chosen(self, header: list[str]) -> list[str]:
        """The columns of ``header`` to unpivot, in the file's order."""
        if self.pattern is not None:
            compiled = re.compile(self.pattern)
            return [c for c in header if compiled.search(c)]
        return [c for c in header if c in self.columns]


@dataclass(frozen=True)
class Source:
    """How to read the export and what identifies its rows."""

    name: str  # imports of the same source update one another
    key: tuple[str, ...]  # empty: the whole row is the key
    timezone: str
    format: str | None = None  # None: from the file name
    delimiter: str | None = None  # None: from the format (tab for tsv, else comma)
    quote: str | None = '"'
    encoding: str = "utf-8"
    sheet: str | int = 0
    skip_lines: int = 0  # lines above the header (titles, notes)
    null_values: tuple[str, ...] = ()
    trim: bool = True
    max_unparseable: float = 0.1  # stop, rather than quarantine, above this share
    latest_by: str | None = None  # a field: of rows with the same key, the greatest is kept
    # Plausible events: none before earliest_date, none after the import's time plus the
    # tolerance. None: the setting (KPI_IMPORT_EARLIEST_DATE, ..._FUTURE_TOLERANCE_HOURS).
    earliest_date: date | None = None
    future_tolerance_hours: float | None = None
    max_quarantined: float | None = None  # stop when one rule quarantines more; None: max_unparseable
    unpivot: Unpivot | None = None
    ignore: tuple[str, ...] = ()  # columns of the file left out on purpose (no warning)


@dataclass(frozen=True)
class FieldSpec:
    """One field: a target column or a helper the rules and other fields use."""

    name: str
    kind: str  # one of KINDS, or "period_end" / "grain": made by a period field
    column: str | None = None  # kind "from": the source column
    parser: str | None = None  # one of PARSERS, or None for the text as it is
    formats: tuple[str, ...] = ()  # timestamp/date/time formats, tried in order
    type: str | None = None  # parser "type"
    mapping: dict[str, Any] | None = None  # parser "map"
    otherwise: Any = _MISSING  # map: value for codes not in the map (explicit, counted)
    extract: str | None = None  # regular expression whose first group is kept
    inputs: tuple[str, ...] = ()  # combine/coalesce/add_seconds/slug: names of fields or columns
    value: Any = None  # kind "value"
    sql: str | None = None  # kind "sql"
    when: str | None = None  # the field is NULL where this is not true
    null: tuple[str, ...] = ()  # raw values meaning "missing"
    timezone: str | None = None  # overrides the source's
    after: str | None = None  # combine: a timestamp field the result may not be 12 h before
    prefix: str = ""  # slug
    required: bool = False
    date_format: str = "%Y-%m-%d"  # combine, when the date is raw text
    time_format: str = "%H:%M:%S"  # combine, when the time is raw text
    period: str | None = None  # parser "period": one of reporting_periods.PERIOD_FORMS
    year_starts: int = DEFAULT_YEAR_STARTS  # period: the month a financial year starts in
    ignore: bool = False  # read on purpose but not stored (a field the target does not take)

    @property
    def has_otherwise(self) -> bool:
        return self.otherwise is not _MISSING


@dataclass(frozen=True)
class Rule:
    """A named rule: excludes, quarantines, repairs or flags the rows where ``when`` holds."""

    name: str
    action: str
    when: str
    on: str = "fields"  # "source": raw columns, checked before any parsing
    set: tuple[tuple[str, str], ...] = ()  # repair: field -> SQL expression
    why: str = ""
    column: str | None = None


@dataclass(frozen=True)
class Dimension:
    """Rows of a dimension table made from the imported rows (added when absent)."""

    table: str
    columns: dict[str, tuple[str, Any]]  # column -> ("field", name) or ("value", constant)


@dataclass(frozen=True)
class Mapping:
    """A parsed, checked mapping."""

    name: str
    path: Path
    checksum: str
    description: str
    source: Source
    target: Target
    fields: tuple[FieldSpec, ...]
    rules: tuple[Rule, ...]
    dimensions: tuple[Dimension, ...]

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads (to check against a file's header)."""
        fields: set[str] = set()
        needed: list[str] = list(self.source.key)
        for spec in self.fields:
            if spec.column:
                needed.append(spec.column)
            for name in _references(spec):
                if name not in fields:
                    needed.append(name)
            fields.add(spec.name)
        for rule in self.rules:
            for name in _sql_names(rule.when):
                if rule.on == "source" or name not in fields:
                    needed.append(name)
            for _target, expression in rule.set:
                needed.extend(n for n in _sql_names(expression) if n not in fields)
        return list(dict.fromkeys(needed))


def known_mappings() -> list[str]:
    return sorted(path.stem for path in MAPPINGS_DIR.glob("*.toml"))


def resolve(name_or_path: str) -> Path:
    """The mapping file for a shipped mapping's name or a path to a .toml file."""
    candidate = Path(name_or_path).expanduser()
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        if candidate.is_file():
            return candidate
        raise ImportFailed(f"no mapping file {name_or_path}; known mappings: {', '.join(known_mappings())}")
    path = MAPPINGS_DIR / f"{name_or_path}.toml"
    if path.is_file():
        return path
    raise ImportFailed(
        f"unknown mapping {name_or_path!r}{did_you_mean(name_or_path, known_mappings())}; known mappings: "
        f"{', '.join(known_mappings())} (or give the path of a .toml file)"
    )


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Read and check a mapping; raise ImportFailed listing every problem found."""
    path = name_or_path if isinstance(name_or_path, Path) else resolve(name_or_path)
    raw = path.read_bytes()
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ImportFailed(f"mapping {path.name} is not valid TOML: {error}") from None
    return parse_mapping(document, path, hashlib.sha256(raw).hexdigest())


def parse_mapping(document: dict[str, Any], path: Path, checksum: str = "") -> Mapping:
    """Build a Mapping from a TOML document; ImportFailed lists every problem at once."""
    problems: list[str] = []
    for key in document:
        if key not in ("description", "source", "target", "fields", "rules", "dimensions"):
            problems.append(
                f"unknown section [{key}]{did_you_mean(key, ['source', 'target', 'fields', 'rules', 'dimensions'])}"
            )
    source = _parse_source(document.get("source"), problems)
    target = _parse_target(document.get("target"), problems)
    fields = _parse_fields(document.get("fields"), source, problems)
    field_names = [f.name for f in fields]
    for position, spec in enumerate(fields):
        later = set(field_names[position + 1 :])
        for name in _references(spec):
            if name in later:
                problems.append(f"[fields.{spec.name}] uses {name!r}, which is defined below it: move {name} above")
    if source is not None and source.latest_by and source.latest_by not in field_names:
        problems.append(
            f"[source] latest_by = {source.latest_by!r} must name a field{did_you_mean(source.latest_by, field_names)} "
            'whose greatest value marks the latest version of a row, e.g. updated_at = { from = "Updated", '
            'timestamp = "%Y-%m-%d %H:%M" }'
        )
    rules = _parse_rules(document.get("rules", []), field_names, problems)
    dimensions = _parse_dimensions(document.get("dimensions", {}), field_names, problems)
    if target is not None:
        for column in target.required():
            if column not in field_names:
                problems.append(
                    f"[fields] gives no {column}, which {target.table} needs{did_you_mean(column, field_names)}"
                )
        if target.source_column in field_names:
            problems.append(
                f"[fields] must not give {target.source_column}: the importer fills it with [source] name"
            )
        if target.id_column in field_names:
            problems.append(
                f"[fields] must not give {target.id_column}: the importer numbers imported rows itself "
                "(use [source] key for the export's own identifier)"
            )
    if target is not None:
        _check_map_targets(target, fields, dimensions, problems)
        _check_unused(target, source, fields, rules, dimensions, problems)
    if problems:
        raise ImportFailed(f"mapping {path.name}: " + "; ".join(problems))
    if source is None or target is None:
        raise ImportFailed(f"mapping {path.name}: it needs a [source] table and a [target] with a known table")
    return Mapping(
        name=path.stem,
        path=path,
        checksum=checksum,
        description=str(document.get("description", "")),
        source=source,
        target=target,
        fields=tuple(fields),
        rules=tuple(rules),
        dimensions=tuple(dimensions),
    )


def _check_map_targets(target: Target, fields: list[FieldSpec], dimensions: list[Dimension], problems: list[str]) -> None:
    """A map (or its otherwise) that gives a value its column does not allow, e.g. channel
    'telephone', would quarantine every row with that code: say so before reading."""
    allowed: dict[str, tuple[str, tuple[str, ...]]] = {
        name: (f"{target.table}.{name}", column.allowed) for name, column in target.columns.items() if column.allowed
    }
    for dimension in dimensions:
        for column, (kind, field_name) in dimension.columns.items():
            values = DIMENSIONS[dimension.table].columns[column].allowed
            if kind == "field" and values:
                allowed[field_name] = (f"{dimension.table}.{column}", values)
    for spec in fields:
        if spec.parser != "map" or spec.name not in allowed:
            continue
        where, values = allowed[spec.name]
        given = [(code, value) for code, value in (spec.mapping or {}).items()]
        if spec.has_otherwise:
            given.append(("otherwise", spec.otherwise))
        for code, value in given:
            if value not in values:
                what = "otherwise" if code == "otherwise" else f"map {code!r} ="
                problems.append(
                    f"[fields.{spec.name}] {what} {value!r} is not a value {where} allows"
                    f"{did_you_mean(str(value), values)}; allowed: {', '.join(values)}"
                )


def _unknown_options(section: str, table: dict[str, Any], known: set[str], problems: list[str]) -> None:
    for key in table:
        if key not in known:
            problems.append(f"{section} has unknown option {key!r}{did_you_mean(key, known)}")


def _check_timezone(section: str, name: Any, problems: list[str]) -> bool:
    if not isinstance(name, str) or not name:
        problems.append(f"{section} needs a timezone such as 'America/New_York' or 'UTC'")
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"{section}: {name!r} is not a time zone (use an IANA name such as 'Europe/London')")
        return False
    return True


def _parse_source(table: Any, problems: list[str]) -> Source | None:
    if not isinstance(table, dict):
        problems.append("it needs a [source] section with name, key and timezone")
        return None
    _unknown_options("[source]", table, SOURCE_OPTIONS, problems)
    name = table.get("name")
    if not isinstance(name, str) or not NAME.match(name) or len(name) > 100:
        problems.append("[source] name must be a short snake_case name (it ties the imports of one source together)")
        name = "invalid"
    key = table.get("key")
    if key == "*":
        key_columns: tuple[str, ...] = ()
    elif isinstance(key, str) and key:
        key_columns = (key,)
    elif isinstance(key, list) and key and all(isinstance(k, str) and k for k in key):
        key_columns = tuple(key)
    else:
        problems.append(
            '[source] key must name the column(s) that identify a row across exports, e.g. key = ["CASE_ID"], '
            'or be "*" when only the whole row does'
        )
        key_columns = ()
    timezone = table.get("timezone")
    _check_timezone("[source]", timezone, problems)
    fmt = table.get("format")
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"[source] format {fmt!r} is not one of {', '.join(FORMATS)}")
    delimiter = table.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter.encode()) != 1):
        problems.append("[source] delimiter must be one character, e.g. ',' or '\\t' or ';'")
    quote = table.get("quote", '"')
    if quote == "":
        quote = None
    if quote is not None and (not isinstance(quote, str) or len(quote.encode()) != 1):
        problems.append("[source] quote must be one character, or '' for none")
    encoding = table.get("encoding", "utf-8")
    try:
        "".encode(encoding)
    except (LookupError, TypeError):
        problems.append(f"[source] encoding {encoding!r} is not known to Python (e.g. 'utf-8', 'cp1252', 'latin-1')")
        encoding = "utf-8"
    share = table.get("max_unparseable", 0.1)
    if not isinstance(share, (int, float)) or not 0 <= share <= 1:
        problems.append("[source] max_unparseable must be a share between 0 and 1 (e.g. 0.1 for 10%)")
        share = 0.1
    skip = table.get("skip_lines", 0)
    if not isinstance(skip, int) or skip < 0:
        problems.append("[source] skip_lines must be a whole number of lines above the header")
        skip = 0
    nulls = table.get("null_values", [])
    if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
        problems.append('[source] null_values must be a list of texts, e.g. ["NULL", "N/A"]')
        nulls = []
    earliest = table.get("earliest_date")
    if isinstance(earliest, str):
        try:
            earliest = date.fromisoformat(earliest)
        except ValueError:
            earliest = "bad"
    if earliest is not None and (not isinstance(earliest, date) or isinstance(earliest, datetime)):
        problems.append('[source] earliest_date must be a date such as 1990-01-01 (events before it are quarantined)')
        earliest = None
    tolerance = table.get("future_tolerance_hours")
    if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0):
        problems.append("[source] future_tolerance_hours must be a number of hours of 0 or more (e.g. 24)")
        tolerance = None
    max_quarantined = table.get("max_quarantined")
    if max_quarantined is not None and (not isinstance(max_quarantined, (int, float)) or not 0 <= max_quarantined <= 1):
        problems.append("[source] max_quarantined must be a share between 0 and 1 (e.g. 0.1 for 10%)")
        max_quarantined = None
    latest_by = table.get("latest_by")
    if latest_by is not None and (not isinstance(latest_by, str) or not latest_by):
        problems.append('[source] latest_by must name a field, e.g. latest_by = "updated_at"')
    unpivot = _parse_unpivot(table.get("unpivot"), key_columns, problems)
    ignore = table.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(c, str) and c for c in ignore):
        problems.append('[source] ignore must list the columns of the file left out on purpose, e.g. ignore = ["Notes"]')
        ignore = []
    sheet = table.get("sheet", 0)
    if not isinstance(sheet, (str, int)):
        problems.append("[source] sheet must be a sheet name or its position from 0")
        sheet = 0
    return Source(
        name=name,
        key=key_columns,
        timezone=timezone if isinstance(timezone, str) else "UTC",
        format=fmt if fmt in FORMATS else None,
        delimiter=delimiter if isinstance(delimiter, str) else None,
        quote=quote if isinstance(quote, str) or quote is None else '"',
        encoding=encoding,
        sheet=sheet,
        skip_lines=skip,
        null_values=tuple(nulls),
        trim=bool(table.get("trim", True)),
        max_unparseable=float(share),
        latest_by=latest_by if isinstance(latest_by, str) and latest_by else None,
        earliest_date=earliest,
        future_tolerance_hours=float(tolerance) if tolerance is not None else None,
        max_quarantined=float(max_quarantined) if max_quarantined is not None else None,
        unpivot=unpivot,
        ignore=tuple(ignore),
    )


def _parse_unpivot(options: Any, key: tuple[str, ...], problems: list[str]) -> Unpivot | None:
    if options is None:
        return None
    example = 'unpivot = { pattern = "^\\d{4}-\\d{2}$", name = "period", value = "volume" }'
    if not isinstance(options, dict):
        problems.append(f"[source] unpivot must be a table, e.g. {example}")
        return None
    _unknown_options("[source] unpivot", options, UNPIVOT_OPTIONS, problems)
    columns, pattern = options.get("columns"), options.get("pattern")
    if (columns is None) == (pattern is None):
        problems.append(f"[source] unpivot needs columns = [...] or a pattern (one of them), e.g. {example}")
        return None
    chosen = _names(columns) if columns is not None else ()
    if columns is not None and chosen is None:
        problems.append("[source] unpivot columns must list the columns to unpivot")
        return None
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError):
            problems.append(f"[source] unpivot pattern {pattern!r} is not a regular expression")
            return None
    name, value = options.get("name", "period"), options.get("value", "value")
    for option, text in (("name", name), ("value", value)):
        if not isinstance(text, str) or not text:
            problems.append(f"[source] unpivot {option} must name the column it makes")
            return None
    if name == value:
        problems.append("[source] unpivot name and value must be two different columns")
    if key and name not in key:
        problems.append(f"[source] key must include the unpivot column {name!r}: a line gives one row per unpivoted column")
    if not key:
        problems.append(f'[source] key "*" cannot be used with unpivot: name the key columns, with {name!r}')
    keep_empty = options.get("keep_empty", False)
    if not isinstance(keep_empty, bool):
        problems.append("[source] unpivot keep_empty must be true or false")
    return Unpivot(columns=chosen or (), pattern=pattern, name=name, value=value, keep_empty=keep_empty is True)


def _parse_target(table: Any, problems: list[str]) -> Target | None:
    if not isinstance(table, dict) or "table" not in table:
        problems.append(f"it needs a [target] section with table = one of {', '.join(TARGETS)}")
        return None
    _unknown_options("[target]", table, {"table"}, problems)
    name = table["table"]
    if name not in TARGETS:
        problems.append(
            f"[target] table {name!r} cannot be imported{did_you_mean(str(name), TARGETS)}; "
            f"choose one of {', '.join(TARGETS)}"
        )
        return None
    return TARGETS[name]


def _names(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    return None


def _sql_names(text: str | None) -> list[str]:
    """The column names a SQL expression refers to (empty if it does not parse)."""
    if not text:
        return []
    try:
        return pl.sql_expr(text).meta.root_names()
    except Exception:  # noqa: BLE001 - reported by _check_sql
        return []


def _check_sql(section: str, text: Any, problems: list[str]) -> bool:
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{section} needs a SQL condition, e.g. \"outcome = 'PHANTOM'\"")
        return False
    try:
        pl.sql_expr(text)
    except Exception as error:  # noqa: BLE001 - Polars raises several kinds
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        problems.append(f"{section}: cannot read {text!r} as SQL ({first})")
        return False
    return True


def _references(spec: FieldSpec) -> list[str]:
    names = list(spec.inputs) + _sql_names(spec.sql) + _sql_names(spec.when)
    if spec.after:
        names.append(spec.after)
    return names


def _clock_clash(section: str, option: str, formats: tuple[str, ...]) -> str | None:
    """A format with both %H (a 24-hour clock) and %p (AM/PM) cannot be read: say so."""
    for fmt in formats:
        if "%H" in fmt and "%p" in fmt:
            return (f"{section} {option} format {fmt!r} has both %H (hour of a 24-hour clock) and %p (AM/PM): "
                    "write %I with %p for a 12-hour clock, or %H without %p")
    return None


def _parse_fields(table: Any, source: Source | None, problems: list[str]) -> list[FieldSpec]:
    if not isinstance(table, dict) or not table:
        problems.append('it needs a [fields] section, e.g. submitted_at = { from = "OPEN_DT", timestamp = "%m/%d/%Y" }')
        return []
    fields: list[FieldSpec] = []
    for name, options in table.items():
        section = f"[fields.{name}]"
        if not NAME.match(name):
            problems.append(f"{section}: field names are snake_case (letters, digits, _)")
            continue
        if not isinstance(options, dict):
            problems.append(f'{section} must be a table, e.g. {name} = {{ from = "COLUMN" }}')
            continue
        _unknown_options(section, options, FIELD_OPTIONS, problems)
        kinds = [k for k in KINDS if k in options]
        if len(kinds) != 1:
            problems.append(
                f"{section} needs exactly one of {', '.join(KINDS)}" + (f" (it has {', '.join(kinds)})" if kinds else "")
            )
            continue
        kind = kinds[0]
        parsers = [p for p in PARSERS if p in options]
        if len(parsers) > 1:
            problems.append(f"{section} has more than one of {', '.join(PARSERS)}: choose one")
            continue
        if parsers and kind != "from":
            problems.append(f"{section}: {parsers[0]} applies to a source column (from = ...), not to {kind}")
            continue
        parser = parsers[0] if parsers else None
        spec_args: dict[str, Any] = {"name": name, "kind": kind}
        if kind == "from":
            if not isinstance(options["from"], str) or not options["from"]:
                problems.append(f"{section} from must name a column of the file")
                continue
            spec_args["column"] = options["from"]
            spec_args["parser"] = parser
            if parser in ("timestamp", "date", "time"):
                formats = _names(options[parser])
                if formats is None:
                    problems.append(f'{section} {parser} must be a format such as "%Y-%m-%d %H:%M:%S" (or a list of them)')
                    continue
                clash = _clock_clash(section, parser, formats)
                if clash:
                    problems.append(clash)  # the field is kept, so that others do not miss it
                spec_args["formats"] = formats
            elif parser == "type":
                if options["type"] not in TYPES:
                    problems.append(f"{section} type must be one of {', '.join(TYPES)}")
                    continue
                spec_args["type"] = options["type"]
            elif parser == "period":
                if options["period"] not in PERIOD_FORMS:
                    problems.append(f"{section} period must be one of {', '.join(PERIOD_FORMS)}")
                    continue
                starts = options.get("year_starts", DEFAULT_YEAR_STARTS)
                if not isinstance(starts, int) or isinstance(starts, bool) or not 1 <= starts <= 12:
                    problems.append(f"{section} year_starts must be the month a financial year starts in, 1 to 12 (4: April)")
                    continue
                spec_args["period"] = options["period"]
                spec_args["year_starts"] = starts
            elif parser == "map":
                mapping = options["map"]
                if not isinstance(mapping, dict) or not mapping:
                    problems.append(f'{section} map must be a table of codes, e.g. map = {{ "Phone" = "phone" }}')
                    continue
                kinds_of_values = {type(v) for v in mapping.values()}
                if "otherwise" in options:
                    kinds_of_values.add(type(options["otherwise"]))
                if len(kinds_of_values) != 1 or not kinds_of_values <= {str, int, float, bool}:
                    problems.append(f"{section} map values (and otherwise) must all be texts, or all numbers, or all true/false")
                    continue
                spec_args["mapping"] = dict(mapping)
                if "otherwise" in options:
                    spec_args["otherwise"] = options["otherwise"]
            if "extract" in options:
                try:
                    if re.compile(options["extract"]).groups < 1:
                        raise re.error("no group")
                except (re.error, TypeError):
                    problems.append(f"{section} extract must be a regular expression with one (group)")
                    continue
                spec_args["extract"] = options["extract"]
        elif kind in ("combine", "add_seconds"):
            inputs = _names(options[kind])
            if inputs is None or len(inputs) != 2:
                what = "[DATE, TIME]" if kind == "combine" else "[TIMESTAMP, SECONDS]"
                problems.append(f"{section} {kind} must name two fields or columns: {what}")
                continue
            spec_args["inputs"] = inputs
        elif kind in ("coalesce", "slug"):
            inputs = _names(options[kind])
            if inputs is None:
                problems.append(f"{section} {kind} must name one or more fields or columns")
                continue
            spec_args["inputs"] = inputs
        elif kind == "value":
            spec_args["value"] = options["value"]
        elif kind == "sql":
            if not _check_sql(section, options["sql"], problems):
                continue
            spec_args["sql"] = options["sql"]
        if "year_starts" in options and parser != "period":
            problems.append(f"{section}: year_starts goes with period")
        if "otherwise" in options and parser != "map":
            problems.append(f"{section}: otherwise goes with map")
        if "extract" in options and kind != "from":
            problems.append(f"{section}: extract goes with from")
        if "when" in options:
            if not _check_sql(f"{section} when", options["when"], problems):
                continue
            spec_args["when"] = options["when"]
        if "null" in options:
            nulls = _names(options["null"])
            if nulls is None:
                problems.append(f'{section} null must list the texts that mean "missing", e.g. ["0:00:00"]')
                continue
            spec_args["null"] = nulls
        if "timezone" in options:
            if not _check_timezone(section, options["timezone"], problems):
                continue
            spec_args["timezone"] = options["timezone"]
        if "after" in options:
            if kind != "combine" or not isinstance(options["after"], str):
                problems.append(f"{section}: after goes with combine and names a timestamp field")
                continue
            spec_args["after"] = options["after"]
        for option in ("prefix", "date_format", "time_format"):
            if option in options:
                if not isinstance(options[option], str):
                    problems.append(f"{section} {option} must be a text")
                    continue
                clash = _clock_clash(section, option, (options[option],)) if option == "time_format" else None
                if clash:
                    problems.append(clash)
                    continue
                spec_args[option] = options[option]
        if "required" in options:
            spec_args["required"] = bool(options["required"])
        if "ignore" in options:
            if not isinstance(options["ignore"], bool):
                problems.append(f"{section} ignore must be true or false")
            spec_args["ignore"] = options["ignore"] is True
        spec = FieldSpec(**spec_args)
        known = {f.name for f in fields}
        for reference in spec.inputs + ((spec.after,) if spec.after else ()):
            if reference == name:
                problems.append(f"{section} refers to itself")
        if spec.after and spec.after not in known:
            problems.append(f"{section} after = {spec.after!r} must name a timestamp field defined above it")
        fields.append(spec)
        if spec.parser == "period":
            # The period's last day and grain come with its first day, from the same text.
            fields.extend(FieldSpec(name=part, kind=part, column=spec.column, inputs=(name,)) for part in PERIOD_PARTS)
    periods = [f.name for f in fields if f.parser == "period"]
    if len(periods) > 1:
        problems.append(f"[fields] {', '.join(periods)} are all period fields: one gives period_start, period_end and grain")
    for part in PERIOD_PARTS:
        if periods and part in table:
            problems.append(f"[fields.{part}] is made by the period field {periods[0]}: remove it")
    return fields


def _check_unused(target: Target, source: Source | None, fields: list[FieldSpec], rules: list[Rule],
                  dimensions: list[Dimension], problems: list[str]) -> None:
    """A field that is no column of the target, no dimension attribute and used by no rule
    or other field would be read and dropped without a word: refuse it unless it says
    ignore = true (and refuse ignore on a field that is used)."""
    used: set[str] = set(target.columns)
    for dimension in dimensions:
        used.update(name for kind, name in dimension.columns.values() if kind == "field")
    for spec in fields:
        used.update(_references(spec))
    for rule in rules:
        if rule.on != "source":
            used.update(_sql_names(rule.when))
        for name, expression in rule.set:
            used.add(name)
            used.update(_sql_names(expression))
    if source is not None and source.latest_by:
        used.add(source.latest_by)
    for spec in fields:
        if spec.ignore and spec.name in target.columns:
            problems.append(f"[fields.{spec.name}] is a column of {target.table}: it cannot be ignore = true")
        elif spec.name not in used and not spec.ignore:
            problems.append(
                f"[fields.{spec.name}] is not a column of {target.table}{did_you_mean(spec.name, target.columns)}, and "
                "no rule, other field or dimension uses it, so it would be dropped: remove it, or write ignore = true "
                "if it is read on purpose"
            )


def _parse_rules(table: Any, field_names: list[str], problems: list[str]) -> list[Rule]:
    if not isinstance(table, list):
        problems.append("rules are written [[rules]], one block per rule")
        return []
    rules: list[Rule] = []
    seen: set[str] = set()
    for position, options in enumerate(table, start=1):
        name = options.get("name") if isinstance(options, dict) else None
        section = f"[[rules]] {name!r}" if isinstance(name, str) else f"[[rules]] #{position}"
        if not isinstance(options, dict):
            problems.append(f"{section} must be a table")
            continue
        _unknown_options(section, options, RULE_OPTIONS, problems)
        if not isinstance(name, str) or not NAME.match(name):
            problems.append(f"{section} needs a snake_case name (it is shown with the rows it counts)")
            continue
        if name in seen:
            problems.append(f"{section}: two rules have this name")
        if name in RESERVED_RULES:
            problems.append(f"{section}: {name} is the name of a built-in rule; choose another")
        seen.add(name)
        action = options.get("action")
        if action not in ACTIONS:
            problems.append(f"{section} action must be one of {', '.join(ACTIONS)}")
            continue
        if not _check_sql(f"{section} when", options.get("when"), problems):
            continue
        on = options.get("on", "fields")
        if on not in ("source", "fields"):
            problems.append(f"{section} on must be 'source' (raw columns, before parsing) or 'fields'")
            continue
        if on == "source" and action == "repair":
            problems.append(f"{section}: a repair changes fields, so it cannot run on the source")
            continue
        changes = options.get("set", {})
        if action == "repair":
            if not isinstance(changes, dict) or not changes:
                problems.append(f'{section}: a repair needs set = {{ field = "SQL expression" }}')
                continue
            for field_name, expression in changes.items():
                if field_name not in field_names:
                    problems.append(f"{section} sets {field_name!r}, which is not a field{did_you_mean(field_name, field_names)}")
                _check_sql(f"{section} set.{field_name}", expression, problems)
        elif changes:
            problems.append(f"{section}: only a repair has set")
        rules.append(
            Rule(
                name=name,
                action=action,
                when=options["when"],
                on=on,
                set=tuple((k, v) for k, v in changes.items()) if isinstance(changes, dict) else (),
                why=str(options.get("why", "")),
                column=options.get("column"),
            )
        )
    return rules


def _parse_dimensions(table: Any, field_names: list[str], problems: list[str]) -> list[Dimension]:
    if not isinstance(table, dict):
        problems.append("dimensions are written [dimensions.services], [dimensions.offices], ...")
        return []
    dimensions: list[Dimension] = []
    for name, options in table.items():
        section = f"[dimensions.{name}]"
        if name not in DIMENSIONS:
            problems.append(f"{section}: no such dimension{did_you_mean(name, DIMENSIONS)}; choose {', '.join(DIMENSIONS)}")
            continue
        if not isinstance(options, dict):
            problems.append(f"{section} must be a table of column = field")
            continue
        spec = DIMENSIONS[name]
        columns: dict[str, tuple[str, Any]] = {}
        for column, value in options.items():
            if column not in spec.columns:
                problems.append(f"{section} has no column {column!r}{did_you_mean(column, spec.columns)}")
                continue
            if isinstance(value, str):
                if value not in field_names:
                    problems.append(
                        f"{section} {column} = {value!r} must name a field{did_you_mean(value, field_names)} "
                        f"(write {{ value = {value!r} }} for a fixed text)"
                    )
                    continue
                columns[column] = ("field", value)
            elif isinstance(value, dict) and set(value) == {"value"}:
                columns[column] = ("value", value["value"])
            elif isinstance(value, (bool, int, float)):
                columns[column] = ("value", value)
            else:
                problems.append(f"{section} {column} must name a field, or be {{ value = ... }}")
                continue
            allowed = spec.columns[column].allowed
            kind, constant = columns[column]
            if kind == "value" and allowed and constant not in allowed:
                problems.append(f"{section} {column} must be one of {', '.join(allowed)}")
            if kind == "value" and column == "timezone":
                _check_timezone(section, constant, problems)
        missing = [c for c, col in spec.columns.items() if col.required and c not in columns]
        if missing:
            problems.append(f"{section} needs {', '.join(missing)}")
        dimensions.append(Dimension(table=name, columns=columns))
    return dimensions
