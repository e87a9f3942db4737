"""Targets: registry defaults, overridden per department, service, office or service at an
office by a versioned TOML file (metrics/targets.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from metrics.breaches import BREACH_WEEKS
from metrics.registry import METRICS
from metrics.report_periods import FINANCIAL_YEAR_START

TARGETS_FILE = Path(__file__).resolve().parent / "targets.toml"
SCOPE_KEYS = ("department_id", "service_id", "office_id")


class TargetsError(ValueError):
    """The targets file is wrong; the message lists every problem with its row."""


@dataclass(frozen=True)
class Target:
    kpi: str
    value: float
    department_id: str | None = None
    service_id: str | None = None
    office_id: str | None = None
    reason: str = ""

    @property
    def specificity(self) -> int:
        # service at an office > service > office > department
        return (
            (4 if self.service_id else 0)
            + (2 if self.office_id else 0)
            + (1 if self.department_id and not self.service_id else 0)
        )


@dataclass(frozen=True)
class Targets:
    version: str
    rows: tuple[Target, ...]
    breach_weeks: int = BREACH_WEEKS  # complete weeks below target in a row that make a breach (metrics.breaches)
    financial_year_start: int = FINANCIAL_YEAR_START  # the month (1-12) the financial year starts in (metrics.report_periods)

    def for_scope(self, kpi: str, department_id: str | None = None, service_id: str | None = None, office_id: str | None = None) -> tuple[float | None, str]:
        """The target of ``kpi`` in a scope and where it comes from ('default', or the row)."""
        matching = [
            row for row in self.rows
            if row.kpi == kpi
            and (row.service_id is None or row.service_id == service_id)
            and (row.office_id is None or row.office_id == office_id)
            and (row.department_id is None or row.department_id == department_id)
        ]
        if matching:
            best = max(matching, key=lambda row: row.specificity)
            where = ", ".join(f"{key}={getattr(best, key)}" for key in SCOPE_KEYS if getattr(best, key))
            return best.value, f"targets.toml {self.version} ({where})"
        return METRICS[kpi].target, "default"


def load_targets(path: Path = TARGETS_FILE) -> Targets:
    """Read and check a targets file; every problem is reported at once."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise TargetsError(f"no targets file at {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise TargetsError(f"{path}: not valid TOML: {error}") from None
    problems = []
    version = document.get("version")
    if not isinstance(version, str) or not version:
        problems.append("it needs a version = \"...\" line")
    breach_weeks = document.get("breach_weeks", BREACH_WEEKS)
    if isinstance(breach_weeks, bool) or not isinstance(breach_weeks, int) or not 1 <= breach_weeks <= 52:
        problems.append(f"breach_weeks must be a whole number of weeks from 1 to 52, not {breach_weeks!r}")
        breach_weeks = BREACH_WEEKS
    year_start = document.get("financial_year_start", FINANCIAL_YEAR_START)
    if isinstance(year_start, bool) or not isinstance(year_start, int) or not 1 <= year_start <= 12:
        problems.append(f"financial_year_start must be a month number from 1 (January) to 12, not {year_start!r}")
        year_start = FINANCIAL_YEAR_START
    rows = []
    for number, raw in enumerate(document.get("targets", []), start=1):
        unknown_keys = set(raw) - {"kpi", "value", "reason", *SCOPE_KEYS}
        if unknown_keys:
            problems.append(f"target {number}: unknown key(s) {', '.join(sorted(unknown_keys))}")
        kpi = raw.get("kpi")
        if kpi not in METRICS:
            problems.append(f"target {number}: unknown kpi {kpi!r}; known: {', '.join(METRICS)}")
            continue
        if not isinstance(raw.get("value"), (int, float)):
            problems.append(f"target {number} ({kpi}): value must be a number")
            continue
        if not any(raw.get(key) for key in SCOPE_KEYS):
            problems.append(f"target {number} ({kpi}): name a department_id, service_id or office_id (defaults live in the registry)")
            continue
        rows.append(Target(kpi=kpi, value=float(raw["value"]), reason=raw.get("reason", ""), **{k: raw.get(k) for k in SCOPE_KEYS}))
    if problems:
        raise TargetsError(f"{path}: " + "; ".join(problems))
    return Targets(version=version, rows=tuple(rows), breach_weeks=breach_weeks, financial_year_start=year_start)
