"""Numbers as people read them: units once, sensible decimals. Pure, used by every page,
the summary and the command line."""

from __future__ import annotations

import math

from metrics.registry import Direction, Metric, resolve


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, metric: Metric | str, *, unit: bool = True) -> str:
    """'81.2%', '£38.17', '6.0 days', '26 s', '2.4 min', '1,234'; '–' for no value."""
    metric = resolve(metric)[0] if isinstance(metric, str) else metric
    if value is None or _missing(value):
        return "–"
    decimals = metric.decimals
    if round(value, decimals) == 0:
        value = 0.0  # no "−0.0"
    if value < 0:
        return "−" + number(-value, metric, unit=unit)  # a true minus sign, as in the changes
    if metric.unit == "%":
        return f"{value:,.{decimals}f}%" if unit else f"{value:,.{decimals}f}"
    if metric.unit == "£":
        return f"£{value:,.{decimals}f}" if unit else f"{value:,.{decimals}f}"
    text = f"{value:,.{decimals}f}"
    if not unit or metric.unit == "count":
        return text
    short = {"seconds": "s", "minutes": "min", "days": "days"}.get(metric.unit, metric.unit)
    return f"{text} {short}"


def change(value: float | None, metric: Metric | str) -> str:
    """A signed change in the metric's unit; rates change in percentage points."""
    metric = resolve(metric)[0] if isinstance(metric, str) else metric
    if value is None or _missing(value):
        return "–"
    magnitude = abs(value)
    if round(magnitude, metric.decimals) == 0:
        value = 0.0  # a change too small to show is no change, not "−0.0"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    if metric.unit == "%":
        return f"{sign}{magnitude:,.{metric.decimals}f} pts"
    return f"{sign}{number(magnitude, metric)}"


def judged(delta: float | None, metric: Metric | str) -> str:
    """'better' or 'worse' for a change in the KPI's direction; '' when the KPI has none
    (volume, handle time), when there is no change or it is too small to show."""
    metric = resolve(metric)[0] if isinstance(metric, str) else metric
    if delta is None or _missing(delta) or metric.better == Direction.CONTEXT or round(abs(delta), metric.decimals) == 0:
        return ""
    return "better" if (delta > 0) == (metric.better == Direction.HIGHER) else "worse"


def change_judged(delta: float | None, metric: Metric | str) -> str:
    """A change with its judgement in words: '+1.2 pts, better', '−3 s, better', '+12'."""
    word = judged(delta, metric)
    return f"{change(delta, metric)}, {word}" if word else change(delta, metric)


def gap(value: float, target: float, metric: Metric | str) -> str:
    """How far a value is from its target, in words: '24.0 points below the 90.0% target',
    '0.5 days above the 7.0 days target' (rates in percentage points)."""
    metric = resolve(metric)[0] if isinstance(metric, str) else metric
    distance = abs(value - target)
    side = "below" if value < target else "above"
    if round(distance, metric.decimals) == 0:
        return f"just {side} the {number(target, metric)} target"  # 79.97 against 80: shown 80.0%, still below
    amount = f"{distance:,.{metric.decimals}f} points" if metric.unit == "%" else number(distance, metric)
    return f"{amount} {side} the {number(target, metric)} target"


def axis_title(metric: Metric | str) -> str:
    """The label with its unit, once: 'On-time rate (%)', 'Volume (cases)'."""
    metric = resolve(metric)[0] if isinstance(metric, str) else metric
    unit = {"count": "cases" if metric.observations == "cases" else metric.observations, "£": "£"}.get(metric.unit, metric.unit)
    return f"{metric.label} ({unit})"
