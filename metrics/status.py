"""Status against target and the composite score: pure functions every page uses."""

from __future__ import annotations

import math
from collections.abc import Iterable

from metrics.registry import Direction

TOLERANCE = 0.05  # amber within 5% of the target
SCORE_CAP = 1.25  # Boston's CityScore caps each metric's score

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
STATUS_WORDS = {GREEN: "On target", AMBER: "Near target", RED: "Off target", GREY: "No target or too little data"}
STATUS_ICONS = {GREEN: "✔", AMBER: "▲", RED: "✖", GREY: "–"}


def status_word(state: str, value: float | None, target: float | None, *, partial: bool = False, applicable: bool = True) -> str:
    """The status in words, where grey has four reasons and says which: the week is in
    progress, the measure does not apply (digital take-up of a service with no online
    channel), too little data, or no target."""
    if state != GREY:
        return STATUS_WORDS[state]
    if partial:
        return "Week in progress"
    if not applicable:
        return "Not applicable"
    return "Too little data" if value is None else "No target" if target is None else STATUS_WORDS[state]


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def status(value: float | None, target: float | None, better: Direction, tolerance: float = TOLERANCE) -> str:
    """green when the target is met; amber within ``tolerance`` of it (a share of the
    target); red otherwise; grey when there is no target, no value, or no direction."""
    if value is None or target is None or _missing(value) or _missing(target) or better == Direction.CONTEXT:
        return GREY
    margin = abs(target) * tolerance
    if better == Direction.HIGHER:
        if value >= target:
            return GREEN
        return AMBER if value >= target - margin else RED
    if value <= target:
        return GREEN
    return AMBER if value <= target + margin else RED


def metric_score(value: float | None, target: float | None, better: Direction) -> float | None:
    """actual / target when higher is better, target / actual when lower is better,
    capped at 1.25 (CityScore); None without a value, a target or a direction."""
    if value is None or target is None or _missing(value) or _missing(target) or better == Direction.CONTEXT:
        return None
    if better == Direction.HIGHER:
        if target == 0:
            return SCORE_CAP
        return min(max(value / target, 0.0), SCORE_CAP)
    if value <= 0:
        return SCORE_CAP
    return min(target / value, SCORE_CAP)


def miss(value: float | None, target: float | None, better: Direction | str) -> float | None:
    """How far ``value`` falls short of ``target``, as a share of the target (0.25: a
    quarter of the target short); 0.0 on or beyond target; None without a value, a
    target or a direction. Unrounded: 79.97 against 80 is a miss of 0.000375."""
    better = Direction(better)
    if _missing(value) or _missing(target) or better == Direction.CONTEXT:
        return None
    short = target - value if better == Direction.HIGHER else value - target
    if short <= 0:
        return 0.0
    return short / abs(target) if target else short


def composite(scores: Iterable[float | None]) -> float | None:
    """The mean of the metric scores that exist; 1.0 means on target."""
    present = [score for score in scores if score is not None]
    return sum(present) / len(present) if present else None


def composite_status(score: float | None, *, red: int = 0) -> str:
    """The composite's status: green at an average of 1.00 or more, amber within 5% below,
    red further below; but never green while ``red`` measures are off target: an average
    on target with a measure off target is amber (a good average must not hide a bad KPI)."""
    if score is None:
        return GREY
    if score >= 1.0:
        return AMBER if red else GREEN
    return AMBER if score >= 1.0 - TOLERANCE else RED
