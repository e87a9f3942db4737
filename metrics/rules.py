"""Named rules that leave rows out of a figure. Each is counted and reported with the result.

Switchable rules can be turned off (``compute(..., rules=...)``) to see their effect; the
others are part of a definition and are only counted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    affects: tuple[str, ...]  # metric names
    switchable: bool = True


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "admin_close_60s",
            "Cases closed within 60 seconds of submission are administrative closes (duplicates, 'case noted'), not work: left out of processing times, the on-time rate and cost per transaction.",
            ("processing_time_median", "processing_time_p90", "on_time_rate", "cost_per_transaction"),
        ),
        Rule(
            "short_abandon_5s",
            "Calls abandoned within 5 seconds of arriving are left out of calls offered, so of both sides of service level and abandonment.",
            ("service_level", "abandonment_rate"),
        ),
        Rule(
            "no_due_date",
            "Cases with neither a due date nor a service standard (sla_days) cannot be on time or late: left out of the on-time rate and the overdue backlog.",
            ("on_time_rate", "backlog_overdue"),
            switchable=False,
        ),
        Rule(
            "resumed_journey",
            "A session that resumes an earlier one is not a new start; its completion completes the original.",
            ("completion_rate",),
            switchable=False,
        ),
    )
}

DEFAULT_RULES: frozenset[str] = frozenset(name for name, rule in RULES.items() if rule.switchable)


def check_rules(enabled: frozenset[str] | set[str] | list[str]) -> frozenset[str]:
    unknown = [name for name in enabled if name not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {', '.join(unknown)}; known rules: {', '.join(RULES)}")
    return frozenset(enabled)
