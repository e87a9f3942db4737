"""Open-data releases: ``python -m metrics publish --out DIR [--period month|quarter]``.

A release is a folder ``DIR/<version>/`` of one CSV per dataset and a Frictionless Data
Package ``datapackage.json`` describing every field (type, unit, description and the
KPI registry's definition), the licence, the disclosure rule, the publisher and the
period. ``DIR/latest.txt`` names the newest version; the public page reads that folder
and nothing else.

What is published is decided by ``config/publication.toml``: only the services a
department names there, and only the offices it names shown separately (the rest are
pooled as "Other offices"). With no departments named, nothing is published. Every
count, rate and median passes through ``metrics.disclosure.disclose``.

Releases are reproducible: the same data and settings give byte-identical files (no
clock time inside; the version is the last period and a digest of the files). Each run
is recorded in the append-only ``releases`` table (sql/schema/050_releases.sql).

The computation (``build_datasets``) reads only a ``Facts`` and does no I/O; ``publish``
loads the facts through the extract runner and writes the files and the record.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from data.fact_frames import Facts
from metrics.disclosure import HIDDEN, DisclosureRule, Margin, disclose
from metrics.engine import compute
from metrics.periods import label, next_start, period_start
from metrics.registry import METRICS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "config" / "publication.toml"
ALL = "all"
OTHER = "other"
OGL = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ------------------------------------------------------------------ settings


class PublicationError(ValueError):
    """config/publication.toml is malformed or names what does not exist."""


@dataclass(frozen=True)
class DepartmentPublication:
    services: tuple[str, ...]
    offices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Publication:
    """Who publishes what, under which licence and disclosure rule."""

    departments: dict[str, DepartmentPublication] = field(default_factory=dict)
    publisher: str = "Not named"
    licence: dict[str, str] = field(default_factory=lambda: dict(OGL))
    open_data_url: str = ""
    rule: DisclosureRule = DisclosureRule()
    source: str = "defaults"
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def services(self) -> list[str]:
        return [s for d in self.departments.values() for s in d.services]

    def check(self, services: pl.DataFrame, offices: pl.DataFrame) -> None:
        """Refuse, naming the line, a department, service or office the data lacks, or a
        service filed under another department."""
        department_of = dict(zip(services["service_id"].to_list(), services["department_id"].to_list(), strict=True))
        known_offices = set(offices["office_id"].to_list())
        problems = []
        for department, chosen in self.departments.items():
            if department not in set(department_of.values()):
                problems.append(self._at(f"departments.{department}", f"no department {department!r} in the data; known: {', '.join(sorted(set(department_of.values())))}"))
            for service in chosen.services:
                if service not in department_of:
                    problems.append(self._at(f"departments.{department}.services", f"no service {service!r} in the data"))
                elif department_of[service] != department:
                    problems.append(self._at(f"departments.{department}.services", f"service {service!r} belongs to {department_of[service]!r}, not {department!r}"))
            for office in chosen.offices:
                if office not in known_offices:
                    problems.append(self._at(f"departments.{department}.offices", f"no office {office!r} in the data; known: {', '.join(sorted(known_offices))}"))
        if problems:
            raise PublicationError("; ".join(problems))

    def _at(self, key: str, message: str) -> str:
        line = self.lines.get(key)
        return f"{self.source}{f' line {line}' if line else ''}: {key}: {message}"


_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_TABLE_LINE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"]+)\s*\]")


def _key_lines(text: str) -> dict[str, int]:
    """Line number of each table header and key, as dotted paths (for error messages)."""
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_LINE.match(line)
        if header:
            table = header.group(1).replace('"', "")
            lines.setdefault(table, number)
            continue
        key = _KEY_LINE.match(line)
        if key:
            lines.setdefault(f"{table}.{key.group(1)}" if table else key.group(1), number)
    return lines


def load_publication(path: str | Path = DEFAULT_CONFIG) -> Publication:
    """Read and check the publication settings; every problem is named with its line."""
    path = Path(path)
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    if not path.exists():
        raise PublicationError(f"{shown}: no such file (copy config/publication.toml and name the services to publish)")
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PublicationError(f"{shown}: {error}") from None
    lines = _key_lines(text)
    problems: list[str] = []

    def at(key: str, message: str) -> None:
        line = lines.get(key)
        problems.append(f"{shown}{f' line {line}' if line else ''}: {key}: {message}")

    for key in raw:
        if key not in ("release", "disclosure", "departments"):
            at(key, "unknown section; use [release], [disclosure] or [departments.ID]")
    release = raw.get("release", {})
    for key, value in release.items():
        if key not in ("publisher", "licence", "licence_title", "licence_url", "open_data_url"):
            at(f"release.{key}", "unknown key; use publisher, licence, licence_title, licence_url or open_data_url")
        elif not isinstance(value, str):
            at(f"release.{key}", f"must be text, not {value!r}")
    licence = dict(OGL)
    if "licence" in release and release.get("licence") != OGL["name"]:
        licence = {"name": str(release["licence"]), "title": str(release.get("licence_title", release["licence"]))}
        if release.get("licence_url"):
            licence["path"] = str(release["licence_url"])
    rule_settings = raw.get("disclosure", {})
    rule = DisclosureRule()
    for key, value in rule_settings.items():
        if key not in ("suppress_up_to", "round_to", "min_base"):
            at(f"disclosure.{key}", "unknown key; use suppress_up_to, round_to or min_base")
        elif not isinstance(value, int) or isinstance(value, bool):
            at(f"disclosure.{key}", f"must be a whole number, not {value!r}")
    if not problems:
        try:
            rule = DisclosureRule(**rule_settings)
        except ValueError as error:
            at("disclosure", str(error).removeprefix("disclosure rule: "))
    departments: dict[str, DepartmentPublication] = {}
    for department, chosen in raw.get("departments", {}).items():
        where = f"departments.{department}"
        if not isinstance(chosen, dict):
            at(where, "must be a table: [departments.ID] with services = [...]")
            continue
        for key in chosen:
            if key not in ("services", "offices"):
                at(f"{where}.{key}", "unknown key; use services or offices")
        lists = {}
        for key in ("services", "offices"):
            value = chosen.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                at(f"{where}.{key}", f"must be a list of ids, e.g. {key} = [\"id\"], not {value!r}")
                value = []
            elif len(set(value)) != len(value):
                at(f"{where}.{key}", "names an id twice")
            lists[key] = tuple(value)
        if "services" not in chosen:
            at(where, "names no services: add services = [...] (or remove the section)")
        departments[department] = DepartmentPublication(lists["services"], lists["offices"])
    if problems:
        raise PublicationError("; ".join(problems))
    return Publication(
        departments=departments, publisher=str(release.get("publisher", "Not named")), licence=licence,
        open_data_url=str(release.get("open_data_url", "")), rule=rule, source=shown, lines=lines,
    )


# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Window:
    """The release's periods: ``count`` complete periods of ``grain`` ending ``last_day``,
    and the latest three months pooled (for a month release)."""

    grain: str
    first_day: date
    last_day: date
    recent_first: date

    @property
    def recent_label(self) -> str:
        return f"{label(self.recent_first, 'month')} to {label(period_start(self.last_day, 'month'), 'month')}"

    @property
    def recent_parts(self) -> tuple[str, ...]:
        starts = [self.recent_first]
        while next_start(starts[-1], "month") <= self.last_day:
            starts.append(next_start(starts[-1], "month"))
        return tuple(label(s, self.grain) for s in starts)

    @property
    def pooled(self) -> bool:
        return self.grain == "month"


def window(as_of: date, grain: str) -> Window:
    """Twelve months of complete periods up to the data's last day ``as_of``."""
    if grain not in ("month", "quarter"):
        raise ValueError(f"unknown period {grain!r}; use month or quarter")
    last_start = period_start(as_of, grain)
    if next_start(last_start, grain) - timedelta(days=1) != as_of:  # the period in progress is left out
        last_start = period_start(last_start - timedelta(days=1), grain)
    last_day = next_start(last_start, grain) - timedelta(days=1)
    first = last_start
    for _ in range(11 if grain == "month" else 3):
        first = period_start(first - timedelta(days=1), grain)
    recent = period_start(last_day, "month")
    for _ in range(2):
        recent = period_start(recent - timedelta(days=1), "month")
    return Window(grain, first, last_day, recent)


# ------------------------------------------------------------------ datasets


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Frictionless: string, integer, number, date
    title: str
    description: str
    unit: str = ""
    kpi: str | None = None  # the registry metric it is, for the definition
    decimals: int = 1


def _kpi(name: str, kpi: str, title: str | None = None) -> Column:
    metric = METRICS[kpi]
    return Column(name, "number", title or metric.label, metric.description, metric.unit, kpi, metric.decimals)


PERIOD_COLUMNS = (
    Column("period", "string", "Period", "The period: a month (2026-11), a quarter (2026-Q4) or the latest three months together (2026-09 to 2026-11)."),
    Column("period_type", "string", "Kind of period", "month, quarter or 3 months."),
    Column("period_start", "date", "First day", "The first day of the period, local time."),
    Column("period_end", "date", "Last day", "The last day of the period, local time."),
)
SERVICE_COLUMNS = (
    Column("department_id", "string", "Department id", "The department's identifier."),
    Column("department", "string", "Department", "The department's name."),
    Column("service_id", "string", "Service id", "The service's identifier."),
    Column("service", "string", "Service", "The service's name."),
)
OFFICE_COLUMNS = (
    Column("office_id", "string", "Office id", "The office's identifier; 'all' for every office together, 'other' for the offices not shown separately."),
    Column("office", "string", "Office", "The office's name."),
)


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "service_performance", "Service performance",
            "The four GOV.UK service KPIs and the number of applications received, per service and period.",
            PERIOD_COLUMNS + SERVICE_COLUMNS + (
                Column("applications_received", "integer", "Applications received", METRICS["volume"].description, "count", "volume", 0),
                _kpi("cost_per_transaction", "cost_per_transaction"),
                _kpi("user_satisfaction", "satisfaction"),
                _kpi("completion_rate", "completion_rate"),
                _kpi("digital_take_up", "digital_take_up"),
            ),
            ("period", "service_id"),
        ),
        Dataset(
            "processing_times", "How long applications take",
            "Applications decided in the period: how long half of them and nine in ten of them took, the service standard and the share decided within it; per service, for every office together, for each office shown and for the other offices.",
            PERIOD_COLUMNS + SERVICE_COLUMNS + OFFICE_COLUMNS + (
                Column("applications_decided", "integer", "Applications decided", "Applications decided (closed) in the period. Administrative closes within 60 seconds are left out.", "count", None, 0),
                _kpi("half_within_days", "processing_time_median", "Half decided within (days)"),
                _kpi("nine_in_ten_within_days", "processing_time_p90", "Nine in ten decided within (days)"),
                Column("service_standard_days", "integer", "Service standard (days)", "The service's standard: the number of calendar days within which an application should be decided.", "days", None, 0),
                _kpi("met_standard", "on_time_rate", "Decided within the standard"),
            ),
            ("period", "service_id", "office_id"),
        ),
        Dataset(
            "waits", "Waits at service centres and on the phone",
            "How long people waited to be seen at a service centre and to be answered on the phone, per service and period, for every centre together, each centre shown and the other centres.",
            PERIOD_COLUMNS + SERVICE_COLUMNS + (
                Column("place", "string", "Where", "service centre (visits in person) or phone (calls to a contact centre)."),
            ) + OFFICE_COLUMNS + (
                Column("visitors_seen", "integer", "Visitors seen", "Visitors to a service centre who were seen, by arrival in the period.", "count", None, 0),
                _kpi("visit_wait_median_minutes", "wait_time_median", "Half seen within (minutes)"),
                _kpi("visit_wait_p90_minutes", "wait_time_p90", "Nine in ten seen within (minutes)"),
                _kpi("seen_within_15_minutes", "wait_within_target"),
                Column("calls_offered", "integer", "Calls", "Calls to a contact centre in the period (callers who hung up within 5 seconds are left out).", "count", None, 0),
                _kpi("average_answer_seconds", "asa", "Average wait for an answer (seconds)"),
                _kpi("answered_within_20_seconds", "service_level"),
                _kpi("calls_abandoned", "abandonment_rate", "Callers who hung up before an answer"),
            ),
            ("period", "service_id", "place", "office_id"),
        ),
        Dataset(
            "satisfaction", "User satisfaction",
            "Ratings users gave the service (1 to 5) in the period, and the share that were 4 or 5.",
            PERIOD_COLUMNS + SERVICE_COLUMNS + (
                Column("ratings", "integer", "Ratings", "Ratings given in the period.", "count", None, 0),
                _kpi("user_satisfaction", "satisfaction"),
                _kpi("satisfaction_index", "satisfaction_index"),
            ),
            ("period", "service_id"),
        ),
    )
}


def _wide(result, kpis: dict[str, str], keys: Sequence[str], bases: dict[str, str] | None = None) -> pl.DataFrame:
    """Engine long rows -> one column per output name; ``bases`` adds the n of a KPI as a
    column."""
    values = result.values.filter(pl.col("kpi").is_in(list(set(kpis.values()) | set((bases or {}).values()))))
    index = list(keys)
    frame = values.select(index).unique(maintain_order=True)
    for out, kpi in kpis.items():
        frame = frame.join(values.filter(pl.col("kpi") == kpi).select(*index, pl.col("value").alias(out)), on=index, how="left", nulls_equal=True)
    for out, kpi in (bases or {}).items():
        frame = frame.join(values.filter(pl.col("kpi") == kpi).select(*index, pl.col("n").alias(out)), on=index, how="left", nulls_equal=True)
    return frame


def _results(facts: Facts, kpis: Sequence[str], by: Sequence[str], win: Window) -> list:
    """The engine's results at ``by`` for the release's periods and, for a month
    release, for the latest three months pooled."""
    results = [compute(facts, kpis, by=[win.grain, *by], first_day=win.first_day, last_day=win.last_day)]
    if win.pooled:
        results.append(compute(facts, kpis, by=list(by), first_day=win.recent_first, last_day=win.last_day))
    return results


def _compute(facts: Facts, kpis: dict[str, str], by: Sequence[str], win: Window, bases: dict[str, str]) -> pl.DataFrame:
    """One row per period and ``by`` cell: the KPIs named by output column, and the
    numbers of observations (``bases``) they rest on."""
    parts = []
    for result in _results(facts, list(dict.fromkeys([*kpis.values(), *bases.values()])), by, win):
        if result.periods.grain:
            wide = _wide(result, kpis, ["period", "period_start", *by], bases)
            ends = result.periods.frame().select("period", (pl.col("period_end") - pl.duration(days=1)).alias("period_end"))
            wide = wide.join(ends, on="period", how="left").with_columns(pl.lit(win.grain).alias("period_type"))
        else:
            wide = _wide(result, kpis, list(by), bases).with_columns(
                pl.lit(win.recent_label).alias("period"), pl.lit("3 months").alias("period_type"),
                pl.lit(win.recent_first).alias("period_start"), pl.lit(win.last_day).alias("period_end"),
            )
        parts.append(wide)
    return pl.concat(parts, how="diagonal_relaxed")


def build_datasets(facts: Facts, publication: Publication, win: Window, names: dict[str, dict[str, str]]) -> dict[str, pl.DataFrame]:
    """Every dataset, disclosed, for the published services only. ``names`` gives the
    display names of departments, services and offices, and ``offices``' kinds
    (``names["kind"]``) and ``names["sla_days"]`` the service standards."""
    published = publication.services
    facts = facts.where(service_id=published)
    rule = publication.rule
    period_margin = [Margin("period", win.recent_label, win.recent_parts)] if win.pooled else []
    frames: dict[str, pl.DataFrame] = {}

    # service performance and satisfaction: per service
    perf = _compute(
        facts,
        {"applications_received": "volume", "cost_per_transaction": "cost_per_transaction", "user_satisfaction": "satisfaction",
         "completion_rate": "completion_rate", "digital_take_up": "digital_take_up"},
        ["service_id"], win,
        {"_n_cost": "cost_per_transaction", "_n_sat": "satisfaction", "_n_completion": "completion_rate", "_n_digital": "digital_take_up"},
    ).with_columns(pl.col("applications_received").cast(pl.Int64))
    frames["service_performance"] = disclose(
        perf, keys=["period", "service_id"], counts=["applications_received"],
        measures={"cost_per_transaction": "_n_cost", "user_satisfaction": "_n_sat", "completion_rate": "_n_completion", "digital_take_up": "_n_digital"},
        margins=period_margin, rule=rule,
    )
    sat = _compute(facts, {"user_satisfaction": "satisfaction", "satisfaction_index": "satisfaction_index"}, ["service_id"], win, {"ratings": "satisfaction"})
    frames["satisfaction"] = disclose(
        sat, keys=["period", "service_id"], counts=["ratings"],
        measures={"user_satisfaction": "ratings", "satisfaction_index": "ratings"}, margins=period_margin, rule=rule,
    )

    # processing times: per service, for all offices, each office shown, the others
    processing_kpis = {"half_within_days": "processing_time_median", "nine_in_ten_within_days": "processing_time_p90", "met_standard": "on_time_rate"}
    processing_bases = {"applications_decided": "processing_time_median", "_n_standard": "on_time_rate"}
    parts = []
    waits = []
    kinds = names["kind"]
    for chosen in publication.departments.values():
        if not chosen.services:
            continue
        scope = facts.where(service_id=list(chosen.services))
        shown = list(chosen.offices)
        others = [o for o in kinds if o not in shown]
        for office_scope, office_id in ([(None, ALL)] + [([o], o) for o in shown] + [(others, OTHER)]):
            narrowed = scope if office_scope is None else scope.where(office_id=office_scope)
            parts.append(_compute(narrowed, processing_kpis, ["service_id"], win, processing_bases).with_columns(pl.lit(office_id).alias("office_id")))
        for place, kind, kpis, bases in (
            ("service centre", "service_centre",
             {"visit_wait_median_minutes": "wait_time_median", "visit_wait_p90_minutes": "wait_time_p90", "seen_within_15_minutes": "wait_within_target"},
             {"visitors_seen": "wait_time_median", "_n_visits": "wait_within_target"}),
            ("phone", "contact_centre",
             {"average_answer_seconds": "asa", "answered_within_20_seconds": "service_level", "calls_abandoned": "abandonment_rate"},
             {"calls_offered": "service_level", "_n_answered": "asa"}),
        ):
            centres = [o for o, k in kinds.items() if k == kind]
            shown_here = [o for o in shown if o in centres]
            rest = [o for o in centres if o not in shown_here]
            for office_scope, office_id in ([(centres, ALL)] + [([o], o) for o in shown_here] + ([(rest, OTHER)] if shown_here else [])):
                narrowed = scope.where(office_id=office_scope)
                waits.append(_compute(narrowed, kpis, ["service_id"], win, bases).with_columns(pl.lit(office_id).alias("office_id"), pl.lit(place).alias("place")))
    if parts:
        processing = pl.concat(parts, how="diagonal_relaxed").with_columns(pl.col("applications_decided").cast(pl.Int64))
        processing = processing.with_columns(pl.col("service_id").replace_strict(names["sla_days"], default=None, return_dtype=pl.Int64).alias("service_standard_days"))
        frames["processing_times"] = disclose(
            processing, keys=["period", "service_id", "office_id"], counts=["applications_decided"],
            measures={"half_within_days": "applications_decided", "nine_in_ten_within_days": "applications_decided", "met_standard": "_n_standard"},
            margins=[Margin("office_id", ALL), *period_margin], rule=rule,
        )
        wait_frame = pl.concat(waits, how="diagonal_relaxed").with_columns(pl.col("visitors_seen", "calls_offered").cast(pl.Int64))
        wait_frame = wait_frame.with_columns(
            pl.when(pl.col("place") == "phone").then(None).otherwise(pl.col("visitors_seen")).alias("visitors_seen"),
            pl.when(pl.col("place") == "service centre").then(None).otherwise(pl.col("calls_offered")).alias("calls_offered"),
        )
        frames["waits"] = disclose(
            wait_frame, keys=["period", "service_id", "place", "office_id"], counts=["visitors_seen", "calls_offered"],
            measures={"visit_wait_median_minutes": "visitors_seen", "visit_wait_p90_minutes": "visitors_seen", "seen_within_15_minutes": "_n_visits",
                      "average_answer_seconds": "_n_answered", "answered_within_20_seconds": "calls_offered", "calls_abandoned": "calls_offered"},
            margins=[Margin("office_id", ALL), *period_margin], rule=rule,
        )
    else:
        for name in ("processing_times", "waits"):
            frames[name] = pl.DataFrame()
    return {name: _finish(frames[name], DATASETS[name], names) for name in DATASETS}


def _finish(frame: pl.DataFrame, dataset: Dataset, names: dict[str, dict[str, str]]) -> pl.DataFrame:
    """The dataset's columns in order (with their hidden flags), names filled in, sorted."""
    if frame.is_empty():
        return pl.DataFrame(schema={c.name: _DTYPES[c.type] for c in dataset.columns})
    frame = frame.with_columns(
        pl.col("service_id").replace_strict(names["department_of"], default=None).alias("department_id"),
        pl.col("service_id").replace_strict(names["service"], default=None).alias("service"),
    ).with_columns(pl.col("department_id").replace_strict(names["department"], default=None).alias("department"))
    if "office_id" in frame.columns:
        office_names = {ALL: "All offices", OTHER: "Other offices", **names["office"]}
        frame = frame.with_columns(
            pl.when(pl.col("office_id") == ALL).then(pl.when(pl.col("place") == "phone").then(pl.lit("All contact centres")).otherwise(pl.lit("All service centres")) if "place" in frame.columns else pl.lit("All offices"))
            .when(pl.col("office_id") == OTHER).then(pl.when(pl.col("place") == "phone").then(pl.lit("Other contact centres")).otherwise(pl.lit("Other service centres")) if "place" in frame.columns else pl.lit("Other offices"))
            .otherwise(pl.col("office_id").replace_strict(office_names, default=None)).alias("office")
        )
    columns = []
    for column in dataset.columns:
        columns.append(pl.col(column.name).cast(_DTYPES[column.type]))
        if f"{column.name}{HIDDEN}" in frame.columns:
            columns.append(pl.col(f"{column.name}{HIDDEN}"))
    order = {ALL: "0", OTHER: "2"}
    sort_keys = [pl.col("period_type") != "3 months", pl.col("period_start"), pl.col("department_id"), pl.col("service_id")]
    if "place" in frame.columns:
        sort_keys.append(pl.col("place"))
    if "office_id" in frame.columns:
        sort_keys.append(pl.col("office_id").replace_strict(order, default="1"))
        sort_keys.append(pl.col("office_id"))
    return frame.sort(sort_keys).select(columns)


_DTYPES = {"string": pl.String, "integer": pl.Int64, "number": pl.Float64, "date": pl.Date}


# ------------------------------------------------------------------ files


def neutralise(text: str) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(frame: pl.DataFrame, dataset: Dataset) -> bytes:
    """The dataset as CSV: hidden values as *, empty for no value, numbers to the
    registry's decimals, text neutralised against formula injection; \\n line ends."""
    lines = [_csv_line([c.name for c in dataset.columns])]
    hidden = {c.name for c in dataset.columns if f"{c.name}{HIDDEN}" in frame.columns}
    for row in frame.iter_rows(named=True):
        cells = []
        for column in dataset.columns:
            value = row[column.name]
            if value is None:
                cells.append("*" if column.name in hidden and row[f"{column.name}{HIDDEN}"] else "")
            elif column.type == "number":
                cells.append(f"{value:.{column.decimals}f}")
            elif column.type in ("integer",):
                cells.append(str(int(value)))
            elif column.type == "date":
                cells.append(value.isoformat())
            else:
                cells.append(neutralise(str(value)))
        lines.append(_csv_line(cells))
    return "".join(lines).encode("utf-8")


def _csv_line(cells: list[str]) -> str:
    """RFC 4180: a cell holding a comma, quote, CR or LF is quoted, quotes doubled."""
    return ",".join('"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',"\r\n') else c for c in cells) + "\n"


def _field(column: Column) -> dict:
    entry: dict = {"name": column.name, "title": column.title, "type": column.type, "description": column.description}
    if column.unit:
        entry["unit"] = column.unit
    if column.kpi:
        metric = METRICS[column.kpi]
        entry["kpi"] = metric.name
        entry["definition"] = metric.formula
        if metric.source and metric.source != "-":
            entry["source"] = metric.source
    if column.type == "date":
        entry["format"] = "%Y-%m-%d"
    if column.type in ("integer", "number") and column.unit in ("count", "%", "days", "minutes", "seconds", "£"):
        entry["constraints"] = {"minimum": 0}
    return entry


def datapackage(files: dict[str, bytes], publication: Publication, win: Window, as_of: date, version: str) -> dict:
    resources = []
    for name, dataset in DATASETS.items():
        content = files[f"{name}.csv"]
        resources.append({
            "name": name.replace("_", "-"),
            "title": dataset.title,
            "description": dataset.description,
            "path": f"{name}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": len(content),
            "hash": "sha256:" + hashlib.sha256(content).hexdigest(),
            "schema": {
                "fields": [_field(c) for c in dataset.columns],
                "missingValues": ["", "*"],
                "primaryKey": list(dataset.keys),
            },
        })
    package = {
        "name": "public-service-performance",
        "title": "Public service performance",
        "description": (
            "How the published services perform: how long applications take, the four GOV.UK service KPIs, "
            "waits at service centres and on the phone, and user satisfaction. A cell shown as * is suppressed "
            "under the disclosure rule; an empty cell has no value (no data, or not measured there)."
        ),
        "version": version,
        "profile": "tabular-data-package",
        "licenses": [publication.licence],
        "contributors": [{"title": publication.publisher, "role": "publisher"}],
        "publisher": publication.publisher,
        "period": {"grain": win.grain, "first_day": win.first_day.isoformat(), "last_day": win.last_day.isoformat(),
                   "latest_three_months": win.recent_label},
        "data_as_of": as_of.isoformat(),
        "disclosure": {"rule": publication.rule.name, "name": publication.rule.short_name,
                       "suppress_up_to": publication.rule.suppress_up_to, "round_to": publication.rule.round_to,
                       "min_base": publication.rule.min_base,
                       "totals": "Totals are rounded on their own, from the true total: parts may not add up to them."},
        "services": {department: list(chosen.services) for department, chosen in sorted(publication.departments.items())},
        "resources": resources,
    }
    if publication.open_data_url:
        package["homepage"] = publication.open_data_url  # where the releases are offered; the public page links it
    return package


def write_release(frames: dict[str, pl.DataFrame], publication: Publication, win: Window, as_of: date, out: Path) -> tuple[str, Path, str]:
    """Write the release into ``out/<version>/`` and point ``out/latest.txt`` at it.
    Returns the version, its folder and the digest of its files."""
    files = {f"{name}.csv": to_csv(frames[name], DATASETS[name]) for name in DATASETS}
    settings = json.dumps({"rule": publication.rule.short_name, "licence": publication.licence, "publisher": publication.publisher}, sort_keys=True)
    digest = hashlib.sha256(b"".join(hashlib.sha256(files[n]).digest() for n in sorted(files)) + settings.encode()).hexdigest()
    last = label(period_start(win.last_day, win.grain), win.grain)
    version = f"{last}-{digest[:10]}"
    package = datapackage(files, publication, win, as_of, version)
    files["datapackage.json"] = (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    folder = out / version
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    (out / "latest.txt").write_text(version + "\n", encoding="utf-8")
    return version, folder, digest


# ------------------------------------------------------------------ the command


def publish(engine, out: Path, *, grain: str = "month", publication: Publication | None = None, command: str = "python -m metrics publish") -> dict:
    """Compute, disclose, write and record a release. Returns what was recorded."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from data.database import connect, create_schema
    from data.extracts import run_extract
    from data.facts import data_extent, load_facts, organisation_timezone

    publication = publication or load_publication()
    if not publication.services:
        raise PublicationError(
            f"{publication.source}: no department publishes any service, so there is nothing to release; "
            "name them under [departments.ID] services = [...]"
        )
    departments = sorted(publication.departments)
    with engine.connect() as conn:
        everyone = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments ORDER BY 1")]
    publication.check(run_extract(engine, "services", departments=everyone), run_extract(engine, "offices", departments=everyone))
    services = run_extract(engine, "services", departments=departments)
    offices = run_extract(engine, "offices", departments=departments)
    extent = data_extent(engine, departments, organisation_timezone(offices))
    if extent is None:
        raise PublicationError("the database has no cases or contacts to publish")
    as_of = extent[1]
    win = window(as_of, grain)
    facts = load_facts(engine, departments, win.first_day, win.last_day)
    department_names = dict(run_extract(engine, "departments", departments=departments).select("department_id", "name").iter_rows())
    names = {
        "department": department_names,
        "department_of": dict(services.select("service_id", "department_id").iter_rows()),
        "service": dict(services.select("service_id", "name").iter_rows()),
        "sla_days": dict(services.select("service_id", "sla_days").iter_rows()),
        "office": dict(offices.select("office_id", "name").iter_rows()),
        "kind": dict(offices.select("office_id", "kind").iter_rows()),
    }
    frames = build_datasets(facts, publication, win, names)
    version, folder, digest = write_release(frames, publication, win, as_of, Path(out))
    record = {
        "version": version, "published_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        "grain": grain, "first_day": win.first_day, "last_day": win.last_day, "data_as_of": as_of,
        "folder": str(folder), "files": len(DATASETS) + 1, "digest": digest,
        "disclosure_rule": publication.rule.short_name, "licence": publication.licence["name"],
        "publisher": publication.publisher, "services": ",".join(publication.services), "command": command,
    }
    create_schema(engine)
    with connect(engine, begin=True) as conn:
        next_id = conn.execute(sa.text("SELECT COALESCE(MAX(release_id), 0) + 1 FROM releases")).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO releases (release_id, version, published_at, grain, first_day, last_day, data_as_of, folder, files, digest, "
            "disclosure_rule, licence, publisher, services, command) VALUES (:release_id, :version, :published_at, :grain, :first_day, "
            ":last_day, :data_as_of, :folder, :files, :digest, :disclosure_rule, :licence, :publisher, :services, :command)"
        ), {"release_id": next_id, **record})
    return {"release_id": next_id, **record}


def run_command(args) -> int:
    """``python -m metrics publish``: print where the release went."""
    from data.build import ensure_database

    publication = load_publication(args.config or DEFAULT_CONFIG)
    engine = ensure_database(args.database, quiet=True)
    try:
        record = publish(engine, Path(args.out), grain=args.period, publication=publication)
    finally:
        engine.dispose()
    print(f"release {record['version']} ({record['first_day']} to {record['last_day']}, by {record['grain']}) written to {record['folder']}; recorded as release {record['release_id']}")
    return 0
