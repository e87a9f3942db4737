"""Numbers as people read them: units once, sensible decimals. Pure, used by every page,
the summary and the command line."""

from __future__ import annotations

import math

from metrics.registry import Metric, resolve


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


def axis_title(metric: Metric | str) -> str:
    """The label with its unit, once: 'On-time rate (%)', 'Volume (cases)'."""
    metric = resolve(metric)[0] if isinstance(metric, str) else metric
    unit = {"count": "cases" if metric.observations == "cases" else metric.observations, "£": "£"}.get(metric.unit, metric.unit)
    return f"{metric.label} ({unit})"
