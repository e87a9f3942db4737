"""The metric catalogue and the data-quality figures, as plain frames (no I/O).

Everything here is read from the registry (metrics/registry.py), the rules
(metrics/rules.py), the targets file (metrics/targets.py) and a MetricResult: the
catalogue page only lays these frames out, and the command line or a test can print them.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from metrics.engine import MetricResult
from metrics.formatting import number
from metrics.registry import METRICS_LIST, Direction, Metric
from metrics.rules import RULES, Rule
from metrics.targets import SCOPE_KEYS, Targets

BETTER_WORDS = {
    Direction.HIGHER: "Higher is better",
    Direction.LOWER: "Lower is better",
    Direction.CONTEXT: "Neither: read with other figures",
}
UNIT_WORDS = {"count": "count", "%": "per cent", "£": "pounds (£)", "days": "days", "minutes": "minutes", "seconds": "seconds"}
SCOPE_WORDS = {"department_id": "department", "service_id": "service", "office_id": "office"}

# What each rule's count is a part of: the registry metric whose denominator (or
# numerator) holds the rows the rule was applied to, and whether that figure already
# leaves the rule's rows out (then they are added back).
RULE_BASES: dict[str, tuple[str, str, bool, str]] = {
    # rule: (metric, "numerator" or "denominator", rows already left out of it, the rows in words)
    "admin_close_60s": ("net_flow", "denominator", False, "cases closed"),
    "short_abandon_5s": ("service_level", "denominator", True, "calls"),
    "resumed_journey": ("completion_rate", "denominator", True, "online sessions started"),
}

NameOf = Callable[[str, str], str]


def rules_of(metric: Metric | str) -> list[Rule]:
    """The rules that leave rows out of (or repair) a metric, in the rules' order."""
    name = metric if isinstance(metric, str) else metric.name
    return [rule for rule in RULES.values() if name in rule.affects]


def minimum_text(metric: Metric) -> str:
    """'at least 10 ratings', or 'none' for counts (a count of nothing is 0)."""
    if metric.min_n <= 1:
        return "none"
    return f"at least {metric.min_n} {metric.observations}"


def overrides_of(targets: Targets, kpi: str) -> list:
    """The rows of the targets file for one KPI, most specific first."""
    return sorted((row for row in targets.rows if row.kpi == kpi), key=lambda row: -row.specificity)


def scope_text(row, name_of: NameOf | None = None) -> str:
    """'service Passport', 'Birmingham office', 'service Blue badge at office Leeds'."""
    name_of = name_of or (lambda _dimension, value: value)
    parts = [f"{SCOPE_WORDS[key]} {name_of(key, getattr(row, key))}" for key in ("service_id", "office_id", "department_id") if getattr(row, key)]
    return " at ".join(parts[:2]) if row.service_id and row.office_id else ", ".join(parts)


def target_text(metric: Metric, targets: Targets, name_of: NameOf | None = None) -> str:
    """The default target and every override, in words: '90.0% (85.0% for service Passport)'."""
    default = "no target" if metric.target is None else number(metric.target, metric)
    rows = overrides_of(targets, metric.name)
    if not rows:
        return default
    others = "; ".join(f"{number(row.value, metric)} for {scope_text(row, name_of)}" for row in rows)
    return f"{default} ({others})"


def catalogue(targets: Targets, name_of: NameOf | None = None) -> pl.DataFrame:
    """One row per KPI: everything the registry says about it, its targets and rules."""
    rows = []
    for metric in METRICS_LIST:
        rows.append(
            {
                "kpi": metric.name,
                "label": metric.label,
                "description": metric.description,
                "formula": metric.formula,
                "unit": metric.unit,
                "better": metric.better.value,
                "default_target": metric.target,
                "targets": target_text(metric, targets, name_of),
                "overrides": len(overrides_of(targets, metric.name)),
                "minimum": minimum_text(metric),
                "min_n": metric.min_n,
                "observations": metric.observations,
                "aggregation": metric.aggregation.value,
                "source": "" if metric.source in ("", "-") else metric.source,
                "rules": ", ".join(rule.name for rule in rules_of(metric)),
            }
        )
    return pl.DataFrame(rows, schema={
        "kpi": pl.String, "label": pl.String, "description": pl.String, "formula": pl.String, "unit": pl.String,
        "better": pl.String, "default_target": pl.Float64, "targets": pl.String, "overrides": pl.Int64,
        "minimum": pl.String, "min_n": pl.Int64, "observations": pl.String, "aggregation": pl.String,
        "source": pl.String, "rules": pl.String,
    })


def target_overrides(targets: Targets, name_of: NameOf | None = None) -> pl.DataFrame:
    """Every row of the targets file, with the registry default it replaces."""
    by_name = {metric.name: metric for metric in METRICS_LIST}
    rows = [
        {
            "kpi": row.kpi,
            "label": by_name[row.kpi].label,
            "scope": scope_text(row, name_of),
            **{key: getattr(row, key) for key in SCOPE_KEYS},
            "target": row.value,
            "default_target": by_name[row.kpi].target,
            "reason": row.reason,
        }
        for row in sorted(targets.rows, key=lambda row: ([m.name for m in METRICS_LIST].index(row.kpi), -row.specificity))
    ]
    return pl.DataFrame(rows, schema={
        "kpi": pl.String, "label": pl.String, "scope": pl.String, "department_id": pl.String, "service_id": pl.String,
        "office_id": pl.String, "target": pl.Float64, "default_target": pl.Float64, "reason": pl.String,
    })


def rule_counts(result: MetricResult) -> pl.DataFrame:
    """How many rows each rule touched over the result's window, and out of how many.

    ``result`` must hold the metrics named in RULE_BASES (compute every metric to get
    every rule counted). A rule the result did not count (its fact is absent) has a null
    count; a rule without a clean base has a null base and share.
    """
    labels = {metric.name: metric.label for metric in METRICS_LIST}
    totals = result.values.group_by("kpi").agg(pl.col("numerator").sum(), pl.col("denominator").sum())
    sums = {row["kpi"]: row for row in totals.iter_rows(named=True)}
    rows = []
    for rule in RULES.values():
        touched = result.rule_counts.get(rule.name)
        base, base_words = None, ""
        if rule.name in RULE_BASES and touched is not None:
            kpi, side, left_out, base_words = RULE_BASES[rule.name]
            if kpi in sums and sums[kpi][side] is not None:
                base = int(sums[kpi][side]) + (touched if left_out else 0)
        rows.append(
            {
                "rule": rule.name,
                "description": rule.description,
                "affects": ", ".join(labels[name] for name in rule.affects),
                "switchable": rule.switchable,
                "rows": touched,
                "out_of": base,
                "of_what": base_words,
                "share": (100.0 * touched / base) if base else None,
            }
        )
    return pl.DataFrame(rows, schema={
        "rule": pl.String, "description": pl.String, "affects": pl.String, "switchable": pl.Boolean,
        "rows": pl.Int64, "out_of": pl.Int64, "of_what": pl.String, "share": pl.Float64,
    })


RECONCILED_PARTS = ("rows_inserted", "rows_updated", "rows_unchanged", "rows_loaded", "rows_excluded", "rows_quarantined", "rows_rejected")


def reconcile_imports(imports: pl.DataFrame) -> pl.DataFrame:
    """Each import with ``accounted`` (the sum of its outcome counts) and ``reconciles``
    (rows read = rows accounted for), when the frame has ``rows_read`` and any of the
    outcome columns; otherwise the frame as it is."""
    parts = [column for column in RECONCILED_PARTS if column in imports.columns]
    if "rows_read" not in imports.columns or not parts:
        return imports
    accounted = pl.sum_horizontal(pl.col(parts).fill_null(0)).alias("accounted")
    return imports.with_columns(accounted).with_columns((pl.col("rows_read") == pl.col("accounted")).alias("reconciles"))
