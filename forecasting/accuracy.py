"""Forecast accuracy metrics: MASE, sMAPE and interval coverage.

Plain functions on numpy arrays so they can be checked by hand. Missing actuals (NaN)
are skipped, never read as zeros.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np


def seasonal_naive_mae(
    days: Sequence[dt.date] | np.ndarray, values: Sequence[float] | np.ndarray, season: int = 7
) -> float:
    """In-sample MAE of the seasonal-naive forecast: mean |y[d] - y[d - season days]|.

    Pairs are matched by date, so a missing day drops its pairs instead of shifting
    the series. Returns NaN when no pair exists. Units: those of the values.
    """
    day_numbers = np.array(
        [d.toordinal() if isinstance(d, dt.date) else int(d) for d in days], dtype=np.int64
    )
    value_on = dict(
        zip(day_numbers.tolist(), np.asarray(values, dtype=np.float64).tolist(), strict=True)
    )
    errors = [
        abs(v - value_on[d - season])
        for d, v in value_on.items()
        if d - season in value_on and np.isfinite(v) and np.isfinite(value_on[d - season])
    ]
    return float(np.mean(errors)) if errors else float("nan")


def mase(actual: np.ndarray, forecast: np.ndarray, scale: float) -> float:
    """Mean absolute scaled error: mean |actual - forecast| / scale (below 1 beats the scale).

    scale is the in-sample seasonal-naive MAE of the training data (seasonal_naive_mae).
    """
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    keep = np.isfinite(actual)
    if not keep.any() or not np.isfinite(scale) or scale <= 0:
        return float("nan")
    return float(np.mean(np.abs(actual[keep] - forecast[keep])) / scale)


def smape_terms(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Per-point symmetric APE, 2|a - f| / (|a| + |f|), in 0..2; 0 where both are 0."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denominator = np.abs(actual) + np.abs(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(denominator == 0, 0.0, 2 * np.abs(actual - forecast) / denominator)
    return np.where(np.isfinite(actual), terms, np.nan)


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200): the mean of smape_terms x 100."""
    terms = smape_terms(actual, forecast)
    terms = terms[np.isfinite(terms)]
    return float(100 * terms.mean()) if terms.size else float("nan")


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals inside [lower, upper], in percent; missing actuals skipped."""
    actual = np.asarray(actual, float)
    keep = np.isfinite(actual)
    if not keep.any():
        return float("nan")
    inside = (actual[keep] >= np.asarray(lower, float)[keep]) & (
        actual[keep] <= np.asarray(upper, float)[keep]
    )
    return float(100 * inside.mean())
