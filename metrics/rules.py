"""Named rules that leave rows out of a figure. Each is counted and reported with the result.

Switchable rules can be turned off (``compute(..., rules=...)``) to see their effect; the
others are part of a definition and are only counted. Which metrics a rule affects is a
fact about each metric (``Metric.rules`` in metrics/registry.py); ``Rule.affects`` reads it.

The thresholds the rules and the service level use are settings (``Thresholds``): the
engine computes with them and the rows-behind extracts receive them as bound values, so
the rows behind a number agree with the number whatever they are set to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    applies: str  # the rule in one clause, naming itself, for a metric's description
    switchable: bool = True

    @property
    def affects(self) -> tuple[str, ...]:
        """The metric names this rule leaves rows out of (from the registry)."""
        from metrics.registry import affected_by  # the registry imports the rules

        return affected_by(self.name)


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "admin_close_60s",
            "Cases closed within 60 seconds of submission are administrative closes (duplicates, 'case noted'), not work: left out of processing times, the on-time rate and cost per transaction.",
            "admin_close_60s leaves out cases closed within 60 seconds of submission (administrative closes, not work)",
        ),
        Rule(
            "short_abandon_5s",
            "Calls abandoned within 5 seconds of arriving are left out of calls offered, so of both sides of service level and abandonment.",
            "short_abandon_5s leaves calls abandoned within 5 seconds of arriving out of both sides",
        ),
        Rule(
            "no_due_date",
            "Cases with neither a due date nor a service standard (sla_days) cannot be on time or late: left out of the on-time rate and the overdue backlog.",
            "no_due_date leaves out cases with neither a due date nor a service standard (sla_days), and counts them",
            switchable=False,
        ),
        Rule(
            "resumed_journey",
            "A session that resumes an earlier one is not a new start; its completion completes the original.",
            "resumed_journey counts a session that resumes an earlier one as part of the original, not as a new start",
            switchable=False,
        ),
        Rule(
            "no_resolution_recorded",
            "Answered calls whose outcome was not recorded cannot count for or against first-contact resolution: left out of it and counted.",
            "no_resolution_recorded leaves out answered calls whose resolution was not recorded, and counts them",
            switchable=False,
        ),
    )
}

DEFAULT_RULES: frozenset[str] = frozenset(name for name, rule in RULES.items() if rule.switchable)


@dataclass(frozen=True)
class Thresholds:
    """The settings the rules and the contact measures count with, in seconds."""

    admin_close_seconds: float = 60.0  # admin_close_60s: a close sooner than this is administrative
    short_abandon_seconds: float = 5.0  # short_abandon_5s: a hang-up sooner than this is not an offered call
    service_level_seconds: float = 20.0  # a call answered within this is in the service level (80/20)
    visit_target_seconds: float = 15 * 60.0  # a visitor seen within this is within the in-person target

    def __post_init__(self) -> None:
        wrong = [f"{name} = {value!r}" for name, value in vars(self).items() if not isinstance(value, int | float) or value < 0]
        if wrong:
            raise ValueError(f"thresholds must be seconds of zero or more: {', '.join(wrong)}")

    def params(self) -> dict[str, float]:
        """The thresholds as the bound values of the rows-behind extracts."""
        return {name: float(value) for name, value in vars(self).items()}


DEFAULT_THRESHOLDS = Thresholds()


def check_rules(enabled: frozenset[str] | set[str] | list[str]) -> frozenset[str]:
    unknown = [name for name in enabled if name not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {', '.join(unknown)}; known rules: {', '.join(RULES)}")
    return frozenset(enabled)
