"""Hand-made stored runs with known forecasts and intervals, for the live-accuracy tests
(tests/forecasting/test_live.py, the planner page's tests).

Run 1 ends its data on Sunday 4 Jan 2026 and forecasts 5..8 Jan; run 2 ends on 6 Jan and
forecasts 7..10 Jan. Each has its recommended model (weekday_mean) and seasonal naive.
Actuals of 'total' are known for 5..9 Jan. Hand-computed, for 'total':

| day | run | lead | yhat | y  | error | in 80% | in 95% | naive |
|-----|-----|------|------|----|-------|--------|--------|-------|
| 5   | 1   | 1    | 10   | 11 | -1    | yes    | yes    | 12    |
| 6   | 1   | 2    | 10   | 13 | -3    | no     | yes    | 12    |
| 7   | 2   | 1    | 20   | 21 | -1    | yes    | yes    | 16    |
| 8   | 2   | 2    | 20   | 30 | -10   | no     | no     | 16    |
| 9   | 2   | 3    | 20   | 20 | 0     | yes    | yes    | 16    |

MAE 15 / 5 = 3; WAPE 100 x 15 / 95 = 15.789 %; bias -3 per day; coverage 60 % and 80 %;
naive MAE (1 + 1 + 5 + 14 + 4) / 5 = 5, so the error against naive's is 0.6.
'service:marriage_notice' (run 1 only): 5 Jan closed (not scored), 6 Jan yhat 5 against 4.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from forecasting.live import HISTORY_COLUMNS

JAN = dt.date(2026, 1, 1)


def day(n: int) -> dt.date:
    return JAN + dt.timedelta(days=n - 1)


def _rows(run_id: int, data_end: int, series_id: str, model: str, recommended: bool,
          days: dict[int, float], lo80: float, hi80: float, lo95: float, hi95: float,
          closed: tuple[int, ...] = ()) -> list[tuple]:
    return [
        (run_id, day(data_end), series_id, day(d), model, recommended, d in closed,
         0.0 if d in closed else yhat, lo80, hi80, lo95, hi95)
        for d, yhat in days.items()
    ]


def hand_history() -> pl.DataFrame:
    rows = [
        *_rows(1, 4, "total", "weekday_mean", True, {5: 10, 6: 10, 7: 10, 8: 10}, 8, 12, 6, 14),
        *_rows(1, 4, "total", "seasonal_naive", False, {5: 12, 6: 12, 7: 12, 8: 12}, 9, 15, 7, 17),
        *_rows(2, 6, "total", "weekday_mean", True, {7: 20, 8: 20, 9: 20, 10: 20}, 18, 22, 15, 25),
        *_rows(2, 6, "total", "seasonal_naive", False, {7: 16, 8: 16, 9: 16, 10: 16}, 12, 20, 10, 22),
        *_rows(1, 4, "service:marriage_notice", "seasonal_naive", True, {5: 0, 6: 5}, 3, 7, 2, 8, closed=(5,)),
    ]
    schema = dict(zip(HISTORY_COLUMNS, [pl.Int64, pl.Date, pl.String, pl.Date, pl.String, pl.Boolean,
                                         pl.Boolean, pl.Float64, pl.Float64, pl.Float64, pl.Float64, pl.Float64], strict=True))
    return pl.DataFrame(rows, schema=schema, orient="row")


def hand_actuals() -> pl.DataFrame:
    rows = [("total", day(d), y) for d, y in {5: 11, 6: 13, 7: 21, 8: 30, 9: 20}.items()]
    rows += [("service:marriage_notice", day(5), 0.0), ("service:marriage_notice", day(6), 4.0)]
    return pl.DataFrame(rows, schema={"series_id": pl.String, "ds": pl.Date, "y": pl.Float64}, orient="row")
