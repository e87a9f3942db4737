"""The importer's reference, generated from its own definitions: ``python -m data targets``.

Every target table and dimension with its columns (type, required, longest text, allowed
values), invariants, references and plausible-date columns, read from
data/importer/targets.py; every mapping key with what it does, checked against the keys
data/importer/mapping.py accepts (a key without a description fails the tests); and the
answers to what a new user asks when writing a mapping. docs/import-targets.md is this
output, kept equal to it by tests/imports/test_reference.py.
"""

from __future__ import annotations

from data.importer.mapping import FIELD_OPTIONS, RESERVED_RULES, RULE_OPTIONS, SOURCE_OPTIONS, UNPIVOT_OPTIONS
from data.importer.targets import DIMENSIONS, SHARE_CHECK, TARGETS, Column

SOURCE_KEYS = {
    "name": "required: the source's stable name; ties its imports together (a newer export updates the rows an earlier one made)",
    "key": "required: the columns that identify a row across exports (a list), or \"*\" for the whole row",
    "timezone": "required: the zone of the export's local times (e.g. Europe/London); times are stored in UTC",
    "format": "csv, tsv, parquet or excel; by default from the file name (.gz allowed)",
    "delimiter": "the field separator of a CSV (default ,)",
    "quote": "the quote character of a CSV (default \"; \"\" for none)",
    "encoding": "the text encoding (default utf-8; e.g. cp1252)",
    "sheet": "Excel: the sheet's name or position",
    "skip_lines": "lines above the header to skip",
    "null_values": "texts that mean empty, e.g. [\"NULL\", \"N/A\"], in every column",
    "trim": "remove blanks around every value (default true)",
    "max_unparseable": "the share of a column's values that may fail to parse before the mapping is taken to be wrong and the import stops (default 0.1)",
    "max_quarantined": "the share of rows any one rule may quarantine before the import stops with exit 2 and writes nothing (default: max_unparseable)",
    "latest_by": "a field: of rows with the same key keep the greatest (the later line on a tie), exclude the others as superseded",
    "earliest_date": "events before this date are quarantined as before_earliest_date (default KPI_IMPORT_EARLIEST_DATE or 1990-01-01)",
    "future_tolerance_hours": "events later than the import's time plus this are quarantined as after_import_time (default KPI_IMPORT_FUTURE_TOLERANCE_HOURS or 24)",
    "unpivot": "a wide sheet (one column per period) read as one row per cell: see [source] unpivot below",
    "ignore": "columns of the file left out on purpose (others that no field reads get a warning)",
}
UNPIVOT_KEYS = {
    "columns": "the columns to turn into rows (a list), or",
    "pattern": "a regular expression their headers match",
    "name": "the field name that holds each column's header (e.g. period)",
    "value": "the field name that holds the cell (e.g. transactions)",
    "keep_empty": "keep empty cells as rows (default false: they are excluded as empty_cell and counted)",
}
FIELD_KEYS = {
    "from": "kind: a column of the file",
    "value": "kind: a constant",
    "slug": "kind: a stable id from names (a list of fields or columns), with prefix",
    "combine": "kind: a date and a time of day into a timestamp (with after, a time more than 12 hours before that timestamp is on the next day)",
    "coalesce": "kind: the first of several that is not empty",
    "add_seconds": "kind: a timestamp plus a number of seconds",
    "sql": "kind: a Polars SQL expression over fields and columns",
    "timestamp": "read a from-column as a timestamp: one strftime format or a list tried in order (%H with %p is refused; %I goes with %p)",
    "date": "read as a date (formats as for timestamp)",
    "time": "read as a time of day",
    "type": "read as integer, float, boolean or string (\"21289.0\" is the integer 21289; \"21289.5\" is bad_number)",
    "map": "translate codes to allowed values; codes not in the map are quarantined as unmapped_value unless otherwise is given",
    "period": "read a period (month, week_ending, week_starting, quarter, financial_year or any) into period_start, period_end and grain",
    "extract": "keep a regular expression's first group of the column first",
    "otherwise": "with map: the value for codes not in the map (counted, not quarantined)",
    "when": "an SQL condition: the field is empty where it is false, and nothing fails there",
    "null": "texts that mean empty in this column (e.g. [\"0:00:00\"])",
    "timezone": "this field's zone, if not the source's",
    "after": "with combine: the timestamp a time of day must follow",
    "prefix": "with slug: text put before the id",
    "required": "quarantine the row as missing_value when the field is empty",
    "date_format": "with combine: the date column's format",
    "time_format": "with combine: the time column's format",
    "year_starts": "with period: the financial year's first month (default 4, April)",
    "ignore": "the field is computed (and may be used by rules) but not written; without it, a field nothing uses stops the mapping",
}
RULE_KEYS = {
    "name": "the rule's name (lower case; not one of the importer's own rules)",
    "action": "exclude (drop and count), quarantine (to import_rejects with the reason), repair (change fields with set, load, count) or flag (load and count)",
    "when": "an SQL condition over the fields (and the raw columns no field shadows)",
    "on": "\"source\": test the raw columns before anything is parsed",
    "set": "repair: field = SQL expression, e.g. { closed_at = \"submitted_at\" }",
    "why": "the reason shown in the report and stored with quarantined rows",
    "column": "the column a quarantined row's message points at",
}
ANSWERS = (
    ("Are empty cells NULL?", "Yes. After blanks are trimmed (trim = true), an empty text, and any text in [source] null_values or a field's null, is NULL, in every column, before any field is computed."),
    ("Do rules see raw or converted values?", "Both, named apart: the fields (typed, mapped, times converted to UTC), and under the names no field shadows the file's columns as text (trimmed, empty as NULL). A field shadows a column of the same name."),
    ("In which zone are times in a rule?", "UTC: local times are converted with the source's (or the field's) timezone as the field is made. Compare with UTC instants (in winter London time is UTC)."),
    ("Can a rule use raw columns before parsing?", "Yes, with on = \"source\": it sees only the raw columns, runs before anything is parsed, and so can exclude rows whose values would not parse."),
    ("Does a map on a field switched off by when still quarantine?", "No. Where when is false the field is empty and a value it would not have used cannot fail: no unmapped_value, bad_date or bad_number there."),
    ("What happens to a row?", "It takes the first fate that applies: a line that cannot be split; rules on = \"source\"; missing_key; values that do not parse; the mapping's other rules in order; empty required columns and values that do not fit (missing_value, wrong_type, too_long, not_allowed_value); events outside the plausible dates; the table's invariants; then a key seen twice (duplicate_row excluded, conflicting_duplicate quarantined, or superseded with latest_by). Every row read is loaded, excluded or quarantined."),
    ("How do I load cancelled or withdrawn cases?", "Map them to status cancelled, with closed_at the moment they were cancelled (an open case has no closed_at; a closed or cancelled one must have it, else status_disagrees_with_closed_at). A cancelled case counts in the volume received and leaves the backlog when cancelled, but is never handled work: processing time, the on-time rate and the cost per transaction leave it out. Dropping such rows instead would understate the volume."),
    ("Can a place be an area rather than an office?", "Yes: an offices row of kind area (a ward, a council district) for sources that place requests by where they are rather than by who handled them. An area has no queue and no opening hours, so the queue pages and the planner's staffing do not list it."),
    ("What about a column no field reads, or a field nothing uses?", "A column no field reads gets a warning unless [source] ignore lists it; a field that is neither a target column, a dimension attribute, nor used by a rule or another field stops the mapping unless it says ignore = true."),
)


def _column_line(name: str, column: Column) -> str:
    allowed = ", ".join(f"`{value}`" for value in column.allowed) or ""
    longest = str(column.max_length) if column.max_length else ""
    return f"| `{name}` | {column.sql_type} | {'yes' if column.required else ''} | {longest} | {allowed} |"


def _keys(title: str, keys: dict[str, str]) -> list[str]:
    return [f"### {title}", "", "| key | what it does |", "|---|---|", *(f"| `{key}` | {text} |" for key, text in keys.items()), ""]


def targets_reference() -> str:
    """The reference as Markdown (docs/import-targets.md)."""
    out = [
        "# Import targets and mapping keys",
        "",
        "Generated by `python -m data targets` from the importer's own definitions",
        "(data/importer/targets.py and mapping.py); do not edit by hand. How to write a mapping:",
        "README, \"Importing your own exports\".",
        "",
        "## Questions a new mapping raises",
        "",
    ]
    for question, answer in ANSWERS:
        out += [f"**{question}** {answer}", ""]
    out += ["## Target tables", ""]
    for name, target in TARGETS.items():
        out += [
            f"### `{target.table}`" + (f" (in a mapping: `[target] table = \"{name}\"`)" if target.table != name else ""), "",
            f"Rows get `{target.id_column}` from the importer (above 10^12); the source's own key goes in `[source] key`.", "",
            "| column | type | required | longest | allowed values |", "|---|---|---|---|---|",
            *(_column_line(name, column) for name, column in target.columns.items()), "",
        ]
        if target.checks:
            out += ["Invariants (a row that breaks one is quarantined under that name):", ""]
            out += [f"- `{check.rule}`: `{check.condition}` (points at `{check.column}`)" for check in target.checks]
            if target.table == "observations":
                out += [f"- {SHARE_CHECK}"]
            out += [""]
        if target.references:
            out += ["Must exist (or be made by `[dimensions.*]`): " + ", ".join(f"`{c}` in `{t}`" for c, t in target.references.items()) + ".", ""]
        if target.quarantine_unknown:
            out += ["Quarantined rather than stopping the import when the id is not in the database: " + ", ".join(
                f"`{c}` (as `{rule}`)" for c, rule in target.quarantine_unknown.items()) + ".", ""]
        if target.no_overlap:
            who, start, end = target.no_overlap
            out += [f"Rows of one `{who}` whose [`{start}`, `{end}`) overlap, over the whole file: the one that starts "
                    "first is kept, the other quarantined as `overlapping_shift`.", ""]
        if target.events:
            out += ["Plausible dates apply to: " + ", ".join(f"`{e}`" for e in target.events) + ".", ""]
    out += ["## Dimensions a mapping may add rows to", "", "Existing rows are never changed.", ""]
    for dimension in DIMENSIONS.values():
        out += [
            f"### `{dimension.table}`", "",
            "| column | type | required | longest | allowed values |", "|---|---|---|---|---|",
            *(_column_line(name, column) for name, column in dimension.columns.items()), "",
        ]
    out += ["## Mapping keys", ""]
    out += _keys("[source]", SOURCE_KEYS) + _keys("[source] unpivot", UNPIVOT_KEYS) + _keys("[fields.NAME]", FIELD_KEYS) + _keys("[[rules]]", RULE_KEYS)
    out += ["## The importer's own rules", "", "A mapping's rules may not take these names: " + ", ".join(f"`{r}`" for r in sorted(RESERVED_RULES)) + ".", ""]
    return "\n".join(out)


def undescribed() -> list[str]:
    """Mapping keys the importer accepts that this reference does not describe."""
    pairs = ((SOURCE_OPTIONS, SOURCE_KEYS, "[source]"), (UNPIVOT_OPTIONS, UNPIVOT_KEYS, "[source] unpivot"),
             (FIELD_OPTIONS, FIELD_KEYS, "[fields]"), (RULE_OPTIONS, RULE_KEYS, "[[rules]]"))
    return [f"{where} {key}" for known, described, where in pairs for key in sorted(set(known) - set(described))]
