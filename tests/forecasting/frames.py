"""Small hand-made frames shared by the forecasting tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl


def weekly_frame(
    series: dict[str, list[float]] | None = None, start: dt.date = dt.date(2024, 1, 1)
) -> pl.DataFrame:
    """A long frame from value lists, one day per value, starting on a Monday."""
    series = series or {"a": [10, 20, 30, 40, 50, 5, 1] * 4}
    rows = [
        (sid, start + dt.timedelta(days=i), float(v))
        for sid, values in series.items()
        for i, v in enumerate(values)
    ]
    return pl.DataFrame(
        rows, schema={"series_id": pl.String, "ds": pl.Date, "y": pl.Float64}, orient="row"
    )


def noisy_weekly(
    days: int, seed: int = 1, level: float = 100.0, start: dt.date = dt.date(2024, 1, 1)
) -> pl.DataFrame:
    """A single series with a weekly cycle and Poisson noise."""
    rng = np.random.default_rng(seed)
    shape = np.array([1.0, 1.1, 1.05, 1.0, 0.9, 0.3, 0.25])
    values = rng.poisson(level * shape[np.arange(days) % 7]).astype(float)
    return weekly_frame({"s": values.tolist()}, start)
