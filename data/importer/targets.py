"""The canonical fact tables an import can write, described as data.

Each target lists its columns with their Polars and SQL types, which of them must be
present, the longest text each may hold, and the table's invariants (the CHECK clauses of
sql/schema/010_tables.sql) as conditions over the row. The importer quarantines a row that
breaks one of them instead of letting the database refuse the whole load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from data.vocabulary import CASE_STATUSES, CHANNELS, OFFICE_KINDS

_CHANNEL_LIST = ", ".join(f"'{c}'" for c in CHANNELS)


@dataclass(frozen=True)
class Column:
    """One column of a target table."""

    dtype: pl.DataType
    sql_type: str
    required: bool = False
    max_length: int | None = None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """An invariant of the table: rows where ``condition`` is false are quarantined."""

    rule: str
    condition: str  # Polars SQL over the row's fields; NULL counts as satisfied
    column: str  # the column the message points at


# An invariant over a row and its series: an observation of a share (a ratio series in %)
# whose numerator is above its denominator, above 100%, is quarantined under this name
# (data/importer/validating.py). Other ratios (cost per transaction in £, speed of answer
# in seconds) may well have a numerator above the denominator.
SHARE_RULE = "numerator_above_denominator"
SHARE_CHECK = (f"`{SHARE_RULE}`: `numerator <= denominator` where the row's series is a share (kind ratio, unit %), "
               "read from the database's series table, or else from the mapping's [dimensions.series] (points at `numerator`)")


@dataclass(frozen=True)
class Target:
    """A fact table an import can write."""

    table: str
    id_column: str
    columns: dict[str, Column]
    checks: tuple[Check, ...] = ()
    # Columns naming a dimension row that must exist: column -> dimension table.
    references: dict[str, str] = field(default_factory=dict)
    # When things happened (not deadlines): each must lie between [source] earliest_date
    # and the import's time plus its tolerance, or the row is quarantined.
    events: tuple[str, ...] = ()
    # A column the importer fills with the mapping's [source] name (never a field).
    source_column: str | None = None
    # References whose unknown values quarantine the row under the rule named here (other
    # references stop the import): a roster's shift at an office the database lacks.
    quarantine_unknown: dict[str, str] = field(default_factory=dict)
    # (who, start, end): rows of one who whose [start, end) overlap; the later-starting one
    # is quarantined as overlapping_shift (data/importer/overlaps.py), judged over the file.
    no_overlap: tuple[str, str, str] | None = None

    def required(self) -> list[str]:
        return [name for name, column in self.columns.items() if column.required]


_TEXT64 = Column(pl.String(), "VARCHAR(64)", required=True, max_length=64)
_TS = Column(pl.Datetime("us"), "TIMESTAMP")
_TS_REQUIRED = Column(pl.Datetime("us"), "TIMESTAMP", required=True)
_CHANNEL = Column(pl.String(), "VARCHAR(16)", required=True, max_length=16, allowed=CHANNELS)
_TEXT64_OPTIONAL = Column(pl.String(), "VARCHAR(64)", max_length=64)
_FLOAT = Column(pl.Float64(), "DOUBLE PRECISION")
# The grains an aggregate observation may have (sql/schema/060_observations.sql).
GRAINS = ("week", "month", "quarter", "financial_year")
SERIES_KINDS = ("ratio", "count", "value")
MAX_SHIFT_HOURS = 16  # a longer shift of one person is a mistake in the file (a wrong day)
DIRECTIONS = ("higher", "lower", "context")

TARGETS: dict[str, Target] = {
    "cases": Target(
        table="cases",
        id_column="case_id",
        columns={
            "service_id": _TEXT64,
            "office_id": _TEXT64,
            "channel": _CHANNEL,
            "submitted_at": _TS_REQUIRED,
            "due_at": _TS,
            "closed_at": _TS,
            "status": Column(pl.String(), "VARCHAR(16)", required=True, max_length=16, allowed=CASE_STATUSES),
            "outcome": Column(pl.String(), "VARCHAR(32)", max_length=32),
        },
        checks=(
            Check("closed_before_submitted", "closed_at IS NULL OR closed_at >= submitted_at", "closed_at"),
            Check("status_disagrees_with_closed_at", "(status = 'open') = (closed_at IS NULL)", "status"),
            Check("due_before_submitted", "due_at IS NULL OR due_at >= submitted_at", "due_at"),
        ),
        references={"service_id": "services", "office_id": "offices"},
        events=("submitted_at", "closed_at"),
    ),
    "contacts": Target(
        table="contacts",
        id_column="contact_id",
        columns={
            "office_id": _TEXT64,
            "service_id": Column(pl.String(), "VARCHAR(64)", max_length=64),
            "channel": _CHANNEL,
            "arrived_at": _TS_REQUIRED,
            "answered_at": _TS,
            "ended_at": _TS,
            "abandoned": Column(pl.Boolean(), "BOOLEAN", required=True),
            "resolved_first_contact": Column(pl.Boolean(), "BOOLEAN"),
        },
        checks=(
            Check("answered_before_arrival", "answered_at IS NULL OR answered_at >= arrived_at", "answered_at"),
            Check("ended_before_arrival", "ended_at IS NULL OR ended_at >= arrived_at", "ended_at"),
            Check(
                "ended_before_answer",
                "ended_at IS NULL OR answered_at IS NULL OR ended_at >= answered_at",
                "ended_at",
            ),
            Check("abandoned_but_answered", "NOT abandoned OR answered_at IS NULL", "abandoned"),
        ),
        references={"service_id": "services", "office_id": "offices"},
        events=("arrived_at", "answered_at", "ended_at"),
    ),
    "feedback": Target(
        table="feedback",
        id_column="feedback_id",
        columns={
            "service_id": _TEXT64,
            "office_id": Column(pl.String(), "VARCHAR(64)", max_length=64),
            "channel": _CHANNEL,
            "submitted_at": _TS_REQUIRED,
            "rating": Column(pl.Int16(), "SMALLINT", required=True),
        },
        checks=(Check("rating_out_of_range", "rating BETWEEN 1 AND 5", "rating"),),
        references={"service_id": "services", "office_id": "offices"},
        events=("submitted_at",),
    ),
    "journeys": Target(
        table="journeys",
        id_column="journey_id",
        columns={
            "service_id": _TEXT64,
            "started_at": _TS_REQUIRED,
            "completed_at": _TS,
            "device": Column(pl.String(), "VARCHAR(16)", required=True, max_length=16),
        },
        checks=(Check("completed_before_start", "completed_at IS NULL OR completed_at >= started_at", "completed_at"),),
        references={"service_id": "services"},
        events=("started_at", "completed_at"),
    ),
    "costs": Target(
        table="costs",
        id_column="cost_id",
        columns={
            "office_id": _TEXT64,
            "service_id": Column(pl.String(), "VARCHAR(64)", max_length=64),
            "channel": Column(pl.String(), "VARCHAR(16)", max_length=16, allowed=CHANNELS),
            "period_start": Column(pl.Date(), "DATE", required=True),
            "period_end": Column(pl.Date(), "DATE", required=True),
            "staff_hours": Column(pl.Float64(), "DOUBLE PRECISION", required=True),
            "cost": Column(pl.Float64(), "DOUBLE PRECISION", required=True),
        },
        checks=(
            Check("period_ends_before_start", "period_end >= period_start", "period_end"),
            Check("negative_staff_hours", "staff_hours >= 0", "staff_hours"),
            Check("negative_cost", "cost >= 0", "cost"),
        ),
        references={"service_id": "services", "office_id": "offices"},
        events=("period_start",),
    ),
    # Aggregate series as governments publish them: a figure per scope and period. A ratio
    # carries numerator and denominator, a count its numerator; value is a figure published
    # without its parts (metrics/aggregate.py never combines those into a coarser one).
    "observations": Target(
        table="observations",
        id_column="observation_id",
        columns={
            "source": Column(pl.String(), "VARCHAR(100)", max_length=100),
            "series": _TEXT64,
            "department_id": _TEXT64_OPTIONAL,
            "service_id": _TEXT64_OPTIONAL,
            "office_id": _TEXT64_OPTIONAL,
            "channel": Column(pl.String(), "VARCHAR(16)", max_length=16, allowed=CHANNELS),
            "grain": Column(pl.String(), "VARCHAR(16)", required=True, max_length=16, allowed=GRAINS),
            "period_start": Column(pl.Date(), "DATE", required=True),
            "period_end": Column(pl.Date(), "DATE", required=True),
            "numerator": _FLOAT,
            "denominator": _FLOAT,
            "value": _FLOAT,
            "n": Column(pl.Int64(), "BIGINT"),
            "target": _FLOAT,
        },
        checks=(
            Check("period_ends_before_start", "period_end >= period_start", "period_end"),
            Check("no_figure", "numerator IS NOT NULL OR value IS NOT NULL", "numerator"),
            Check("negative_numerator", "numerator >= 0", "numerator"),
            Check("denominator_not_positive", "denominator > 0", "denominator"),
            Check("negative_n", "n >= 0", "n"),
        ),
        references={"series": "series", "department_id": "departments", "service_id": "services",
                    "office_id": "offices"},
        events=("period_start",),
        source_column="source",
    ),
    # Shifts of a roster (sql/schema/090_rosters.sql), one row per shift of a person or team
    # (an id such as "agent-017", never a name) at an office, as UTC instants.
    "rosters": Target(
        table="roster_shifts",
        id_column="shift_id",
        columns={
            "source": Column(pl.String(), "VARCHAR(100)", max_length=100),
            "person_or_team": _TEXT64,
            "office_id": _TEXT64,
            "shift_start": _TS_REQUIRED,
            "shift_end": _TS_REQUIRED,
            "break_minutes": Column(pl.Int32(), "INTEGER"),
        },
        checks=(
            Check("shift_ends_before_start", "shift_end > shift_start", "shift_end"),
            Check("shift_longer_than_16_hours", f"shift_end - shift_start <= INTERVAL '{MAX_SHIFT_HOURS} hours'", "shift_end"),
            Check("negative_break", "break_minutes >= 0", "break_minutes"),
            Check("break_not_shorter_than_shift", "shift_end - shift_start > INTERVAL '1 minute' * break_minutes", "break_minutes"),
        ),
        references={"office_id": "offices"},
        quarantine_unknown={"office_id": "unknown_office"},
        no_overlap=("person_or_team", "shift_start", "shift_end"),
        source_column="source",
    ),
}


@dataclass(frozen=True)
class DimensionTable:
    """A dimension an import may add rows to (never changes existing rows)."""

    table: str
    id_column: str
    columns: dict[str, Column]


DIMENSIONS: dict[str, DimensionTable] = {
    "departments": DimensionTable(
        "departments",
        "department_id",
        {
            "department_id": _TEXT64,
            "name": Column(pl.String(), "VARCHAR(200)", required=True, max_length=200),
        },
    ),
    "services": DimensionTable(
        "services",
        "service_id",
        {
            "service_id": _TEXT64,
            "department_id": _TEXT64,
            "name": Column(pl.String(), "VARCHAR(200)", required=True, max_length=200),
            "sla_days": Column(pl.Int32(), "INTEGER"),
            "digital": Column(pl.Boolean(), "BOOLEAN", required=True),
        },
    ),
    "offices": DimensionTable(
        "offices",
        "office_id",
        {
            "office_id": _TEXT64,
            "name": Column(pl.String(), "VARCHAR(200)", required=True, max_length=200),
            "region": Column(pl.String(), "VARCHAR(100)", required=True, max_length=100),
            "kind": Column(
                pl.String(),
                "VARCHAR(20)",
                required=True,
                max_length=20,
                allowed=OFFICE_KINDS,
            ),
            "timezone": _TEXT64,
        },
    ),
    # What an aggregate series measures (observations.series names one).
    "series": DimensionTable(
        "series",
        "series_id",
        {
            "series_id": _TEXT64,
            "label": Column(pl.String(), "VARCHAR(200)", required=True, max_length=200),
            "unit": Column(pl.String(), "VARCHAR(32)", required=True, max_length=32),
            "direction": Column(pl.String(), "VARCHAR(16)", required=True, max_length=16, allowed=DIRECTIONS),
            "kind": Column(pl.String(), "VARCHAR(16)", required=True, max_length=16, allowed=SERIES_KINDS),
        },
    ),
}
