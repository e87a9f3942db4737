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


def status_word(state: str, value: float | None, target: float | None, *, partial: bool = False) -> str:
    """The status in words, where grey has three reasons and says which: the week is in
    progress, too little data, or no target."""
    if state != GREY:
        return STATUS_WORDS[state]
    if partial:
        return "Week in progress"
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


def composite(scores: Iterable[float | None]) -> float | None:
    """The mean of the metric scores that exist; 1.0 means on target."""
    present = [score for score in scores if score is not None]
    return sum(present) / len(present) if present else None


def composite_status(score: float | None) -> str:
    if score is None:
        return GREY
    if score >= 1.0:
        return GREEN
    return AMBER if score >= 1.0 - TOLERANCE else RED
