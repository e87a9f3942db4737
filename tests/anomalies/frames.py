"""Hand-made KPI series for the detector's tests."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

START = date(2024, 1, 1)  # a Monday


def days(count: int, start: date = START) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def series(
    values: list[float] | np.ndarray,
    *,
    kpi: str = "volume",
    scope_kind: str = "total",
    scope_id: str = "all",
    grain: str = "day",
    n: list[int] | np.ndarray | None = None,
    start: date = START,
) -> pl.DataFrame:
    """VALUE_SCHEMA rows of one series (n defaults to the value for counts, else 400)."""
    values = [float(v) if v is not None else None for v in values]
    step = 1 if grain == "day" else 7
    periods = [start + timedelta(days=step * i) for i in range(len(values))]
    if n is None:
        n = [int(v or 0) for v in values] if kpi in ("volume", "backlog", "net_flow") else [400] * len(values)
    return pl.DataFrame(
        {
            "grain": grain, "scope_kind": scope_kind, "scope_id": scope_id, "kpi": kpi,
            "period_start": periods, "value": values, "n": [int(x) for x in n],
        },
        schema={
            "grain": pl.String, "scope_kind": pl.String, "scope_id": pl.String, "kpi": pl.String,
            "period_start": pl.Date, "value": pl.Float64, "n": pl.Int64,
        },
    )


def poisson_days(count: int, mean: float, *, seed: int = 1, weekday_shape: tuple[float, ...] | None = None) -> np.ndarray:
    """Daily counts around ``mean`` with an optional weekday shape (Monday first)."""
    rng = np.random.default_rng(seed)
    shape = np.array(weekday_shape or (1.0,) * 7)
    weekday = np.array([d.weekday() for d in days(count)])
    return rng.poisson(mean * shape[weekday]).astype(float)


def binomial_rate(count: int, share: float, trials: int, *, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A daily rate in % and its denominators."""
    rng = np.random.default_rng(seed)
    n = np.full(count, trials)
    return 100 * rng.binomial(n, share) / n, n
