"""Daily demand forecasters that follow scikit-learn's contract.

Every forecaster takes ONE long Polars frame (series id, date, value; names configurable)
and forecasts every series in one call::

    model = ProphetForecaster(country="US", subdivision="MA").fit(frame, closed_days=None)
    forecast = model.predict(horizon=28)
    # -> id_col, date_col, yhat, lo80, hi80, lo95, hi95 (counts per day)

`__init__` only stores settings; `fit` validates and returns self; learned state ends in
`_`. Known closed days (series_id, ds) are removed from the history, so a zero by design
is not learned as noise, and are forecast as exactly 0 with a zero-width interval. Dates
missing from a series (gaps) are skipped, never read as zeros. Forecasts and interval
bounds are clipped at 0 because demand counts cannot be negative.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, clone

from forecasting._frame import (
    DATE,
    SERIES,
    VALUE,
    ClosedDays,
    ForecastInputError,
    check_horizon,
    validate_closed_days,
    validate_series_frame,
)
from forecasting.calendar import public_holidays

OUTPUT_COLUMNS = ("yhat", "lo80", "hi80", "lo95", "hi95")
LEVELS = (80, 95)
MIN_OPEN_DAYS = 14
_EPOCH = dt.date(1970, 1, 1)

__all__ = [
    "OUTPUT_COLUMNS",
    "BaseForecaster",
    "ConformalForecaster",
    "EnsembleForecaster",
    "ProphetForecaster",
    "SeasonalNaiveForecaster",
    "WeekdayMeanForecaster",
    "default_models",
]


@dataclass(frozen=True)
class SeriesHistory:
    """One series' open, observed days: day numbers (days since 1970-01-01) and values."""

    series_id: str
    days: np.ndarray  # int64, sorted, closed days and gaps absent
    values: np.ndarray  # float64 counts
    end_day: int  # last day of the history, observed or not


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def _weekday(days: np.ndarray | int) -> np.ndarray | int:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(days) + 3) % 7 if isinstance(days, np.ndarray) else (days + 3) % 7


def _to_dates(days: np.ndarray) -> list[dt.date]:
    return [_EPOCH + dt.timedelta(days=int(d)) for d in days]


def _conformal_quantiles(residuals: np.ndarray) -> dict[str, float]:
    """Lower/upper residual quantiles for the 80% and 95% levels, finite-sample adjusted.

    With n residuals the upper bound of a (1 - alpha) interval is the
    ceil((n + 1)(1 - alpha / 2)) / n empirical quantile, as in split conformal prediction.
    """
    residuals = residuals[np.isfinite(residuals)]
    n = residuals.size
    bounds: dict[str, float] = {}
    for level in LEVELS:
        tail = (1 - level / 100) / 2
        upper = min(1.0, math.ceil((n + 1) * (1 - tail)) / n)
        lower = max(0.0, math.floor((n + 1) * tail) / n)
        bounds[f"lo{level}"] = float(np.quantile(residuals, lower, method="lower"))
        bounds[f"hi{level}"] = float(np.quantile(residuals, upper, method="higher"))
    return bounds


class BaseForecaster(BaseEstimator):
    """Shared fit/predict plumbing: validation, closed days, gaps, output frame.

    Subclasses implement `_fit_series(history) -> state` and
    `_predict_series(state, future_days) -> dict of OUTPUT_COLUMNS arrays`.
    """

    id_col: str
    date_col: str
    value_col: str
    # True when each series' forecast depends on that series' rows only (all models here);
    # ConformalForecaster reuses such forecasts across calibration windows.
    per_series: bool = True

    def fit(
        self,
        frame: pl.DataFrame,
        closed_days: ClosedDays = None,
        *,
        history_end: dt.date | None = None,
    ) -> Self:
        """Learn every series in `frame`; return self.

        frame: one row per (series, day) with columns id_col, date_col, value_col.
        closed_days: (series, date) pairs or a frame with id_col and date_col of days on
            which a series has zero demand by design; include future days to forecast
            them as 0.
        history_end: the last day of the history for every series (default: each
            series' own last date); the forecast starts the day after. Rows after it
            are ignored.
        """
        canonical = _up_to(
            validate_series_frame(frame, self.id_col, self.date_col, self.value_col), history_end
        )
        closed = validate_closed_days(closed_days, self.id_col, self.date_col)
        self.closed_days_ = closed
        self.series_ids_: list[str] = canonical[SERIES].unique(maintain_order=True).to_list()
        ends = dict(canonical.group_by(SERIES).agg(pl.col(DATE).max()).iter_rows())
        open_rows = canonical.join(closed, on=[SERIES, DATE], how="anti")
        by_series = {
            key[0]: part for key, part in open_rows.partition_by(SERIES, as_dict=True).items()
        }
        self.histories_: dict[str, SeriesHistory] = {}
        self.states_: dict[str, Any] = {}
        for series_id in self.series_ids_:
            part = by_series.get(series_id)
            n_open = 0 if part is None else part.height
            if n_open < MIN_OPEN_DAYS:
                raise ForecastInputError(
                    f"Series {series_id!r} has {n_open} open day(s) of history; at least "
                    f"{MIN_OPEN_DAYS} are needed. Drop it or collect more history."
                )
            end = history_end if history_end is not None else ends[series_id]
            history = SeriesHistory(
                series_id=series_id,
                days=(part[DATE].cast(pl.Int32).to_numpy().astype(np.int64)),
                values=part[VALUE].to_numpy().astype(np.float64),
                end_day=_day_number(end),
            )
            self.histories_[series_id] = history
            self.states_[series_id] = self._fit_series(history)
        return self

    def predict(self, horizon: int = 28) -> pl.DataFrame:
        """Forecast `horizon` days after each series' history end.

        Returns a long frame: id_col, date_col, yhat, lo80, hi80, lo95, hi95 (daily
        counts; lo/hi are the bounds of the 80% and 95% prediction intervals).
        """
        horizon = check_horizon(horizon)
        if not hasattr(self, "states_"):
            raise ForecastInputError(f"{type(self).__name__} is not fitted; call fit(frame) first.")
        closed = {(sid, _day_number(day)) for sid, day in self.closed_days_.iter_rows()}
        parts = []
        for series_id in self.series_ids_:
            history = self.histories_[series_id]
            future = history.end_day + np.arange(1, horizon + 1, dtype=np.int64)
            columns = self._predict_series(self.states_[series_id], history, future)
            columns = _tidy_bounds(columns)
            is_closed = np.array([(series_id, int(d)) in closed for d in future])
            for name in OUTPUT_COLUMNS:
                columns[name] = np.where(is_closed, 0.0, columns[name])
            parts.append(
                pl.DataFrame(
                    {
                        self.id_col: [series_id] * horizon,
                        self.date_col: _to_dates(future),
                        **{name: columns[name] for name in OUTPUT_COLUMNS},
                    },
                    schema={
                        self.id_col: pl.String,
                        self.date_col: pl.Date,
                        **{name: pl.Float64 for name in OUTPUT_COLUMNS},
                    },
                )
            )
        return pl.concat(parts)

    def _fit_series(self, history: SeriesHistory) -> Any:
        raise NotImplementedError

    def _predict_series(
        self, state: Any, history: SeriesHistory, future: np.ndarray
    ) -> dict[str, np.ndarray]:
        raise NotImplementedError


def _up_to(canonical: pl.DataFrame, history_end: dt.date | None) -> pl.DataFrame:
    """The rows on or before history_end (all rows when it is None)."""
    if history_end is None:
        return canonical
    kept = canonical.filter(pl.col(DATE) <= history_end)
    if kept.height == 0:
        raise ForecastInputError(
            f"No rows on or before history_end={history_end}; nothing to learn from."
        )
    return kept


def _tidy_bounds(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Clip at 0 and nest the intervals: lo95 <= lo80 <= yhat <= hi80 <= hi95."""
    out = {
        name: np.maximum(np.asarray(columns[name], dtype=np.float64), 0.0)
        for name in OUTPUT_COLUMNS
    }
    out["lo80"] = np.minimum(out["lo80"], out["yhat"])
    out["hi80"] = np.maximum(out["hi80"], out["yhat"])
    out["lo95"] = np.minimum(out["lo95"], out["lo80"])
    out["hi95"] = np.maximum(out["hi95"], out["hi80"])
    return out


# --------------------------------------------------------------------------- baselines


class SeasonalNaiveForecaster(BaseForecaster):
    """Seasonal naive: each day repeats the last observed value of the same weekday.

    season: the season length in days (7: weekly). Intervals come from the in-sample
    residuals y[t] - y[t - season]: their empirical quantiles, scaled by sqrt(k) for a
    forecast k seasons after the value it repeats (k grows when that value is old).
    """

    def __init__(
        self,
        season: int = 7,
        *,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.season = season
        self.id_col = id_col
        self.date_col = date_col
        self.value_col = value_col

    def _fit_series(self, history: SeriesHistory) -> dict[str, Any]:
        if not isinstance(self.season, int) or self.season < 1:
            raise ForecastInputError(
                f"season must be a whole number of days >= 1, got {self.season!r}."
            )
        value_on = dict(zip(history.days.tolist(), history.values.tolist(), strict=True))
        residuals = np.array(
            [
                value - value_on[day - self.season]
                for day, value in value_on.items()
                if day - self.season in value_on
            ]
        )
        if residuals.size < 2:
            raise ForecastInputError(
                f"Series {history.series_id!r} has fewer than 2 pairs of days {self.season} "
                "days apart; seasonal naive cannot estimate its error."
            )
        last_of_phase: dict[int, tuple[int, float]] = {}
        for day, value in zip(history.days.tolist(), history.values.tolist(), strict=True):
            last_of_phase[day % self.season] = (day, value)
        return {"last": last_of_phase, "quantiles": _conformal_quantiles(residuals)}

    def _predict_series(
        self, state: dict[str, Any], history: SeriesHistory, future: np.ndarray
    ) -> dict[str, np.ndarray]:
        last = state["last"]
        fallback = float(np.mean([v for _, v in last.values()]))
        yhat, seasons_back = [], []
        for day in future.tolist():
            source = last.get(day % self.season)
            if source is None:  # a phase never observed (a weekday always closed or missing)
                yhat.append(fallback)
                seasons_back.append(math.ceil((day - history.end_day) / self.season))
            else:
                yhat.append(source[1])
                seasons_back.append((day - source[0]) // self.season)
        yhat_arr = np.array(yhat)
        widen = np.sqrt(np.array(seasons_back, dtype=np.float64))
        out = {"yhat": yhat_arr}
        for name, q in state["quantiles"].items():
            out[name] = yhat_arr + q * widen
        return out


class WeekdayMeanForecaster(BaseForecaster):
    """Holiday-aware weekday mean: the mean of the last `weeks` same-weekday open days.

    Public holidays (country/subdivision, from `holidays`) are left out of the means and
    get ONE shared multiplicative effect: the median ratio of each past holiday to the
    same weekday in the surrounding weeks (one effect, because each named holiday occurs
    once a year). Intervals: quantiles of the log1p errors this rule made in-sample at the
    same number of weeks ahead (a rolling origin inside the history).
    """

    def __init__(
        self,
        weeks: int = 4,
        country: str | None = None,
        subdivision: str | None = None,
        *,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.weeks = weeks
        self.country = country
        self.subdivision = subdivision
        self.id_col = id_col
        self.date_col = date_col
        self.value_col = value_col

    def _holiday_days(self, first_day: int, last_day: int) -> set[int]:
        start, end = _EPOCH + dt.timedelta(days=first_day), _EPOCH + dt.timedelta(days=last_day)
        return {_day_number(d) for d in public_holidays(self.country, self.subdivision, start, end)}

    def _fit_series(self, history: SeriesHistory) -> dict[str, Any]:
        if not isinstance(self.weeks, int) or self.weeks < 1:
            raise ForecastInputError(f"weeks must be a whole number >= 1, got {self.weeks!r}.")
        holidays = self._holiday_days(int(history.days[0]), history.end_day + 800)
        is_holiday = np.array([d in holidays for d in history.days.tolist()], dtype=bool)
        weekdays = _weekday(history.days)
        regular = {
            w: (
                history.days[(weekdays == w) & ~is_holiday],
                history.values[(weekdays == w) & ~is_holiday],
            )
            for w in range(7)
        }
        log_ratios = []
        for day, value in zip(
            history.days[is_holiday].tolist(), history.values[is_holiday].tolist(), strict=True
        ):
            days_w, values_w = regular[_weekday(day)]
            near = np.abs(days_w - day) <= 14
            if near.any():
                log_ratios.append(np.log1p(value) - np.log1p(values_w[near].mean()))
        holiday_factor = float(np.exp(np.median(log_ratios))) if log_ratios else 1.0
        return {"regular": regular, "holidays": holidays, "holiday_factor": holiday_factor}

    def _mean_before(
        self, state: dict[str, Any], weekday: int, latest_day: np.ndarray
    ) -> np.ndarray:
        """Mean of the last `weeks` regular same-weekday values on or before latest_day."""
        days_w, values_w = state["regular"][weekday]
        if days_w.size == 0:
            return np.full(latest_day.shape, np.nan)
        cumulative = np.concatenate([[0.0], np.cumsum(values_w)])
        stop = np.searchsorted(days_w, latest_day, side="right")
        start = np.maximum(stop - self.weeks, 0)
        count = stop - start
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                count > 0, (cumulative[stop] - cumulative[start]) / np.maximum(count, 1), np.nan
            )

    def _point(
        self, state: dict[str, Any], target_days: np.ndarray, latest_day: np.ndarray
    ) -> np.ndarray:
        weekdays = _weekday(target_days)
        point = np.full(target_days.shape, np.nan)
        for w in range(7):
            mask = weekdays == w
            if mask.any():
                point[mask] = self._mean_before(state, w, latest_day[mask])
        is_holiday = np.array([d in state["holidays"] for d in target_days.tolist()], dtype=bool)
        return np.where(is_holiday, point * state["holiday_factor"], point)

    def _predict_series(
        self, state: dict[str, Any], history: SeriesHistory, future: np.ndarray
    ) -> dict[str, np.ndarray]:
        latest = np.full(future.shape, history.end_day)
        yhat = self._point(state, future, latest)
        overall_mean = float(history.values.mean())
        yhat = np.where(np.isnan(yhat), overall_mean, yhat)  # weekday never open before
        weeks_ahead = (future - history.end_day + 6) // 7
        out: dict[str, np.ndarray] = {"yhat": yhat}
        for name in OUTPUT_COLUMNS[1:]:
            out[name] = np.empty_like(yhat)
        for k in np.unique(weeks_ahead).tolist():
            # In-sample errors of the same rule k weeks ahead: the mean uses only
            # values at least 7k days before the day it predicts.
            past = self._point(state, history.days, history.days - 7 * k)
            errors = np.log1p(history.values) - np.log1p(past)
            errors = errors[np.isfinite(errors)]
            if errors.size < 10:
                errors = np.log1p(history.values) - np.log1p(history.values.mean())
            quantiles = _conformal_quantiles(errors)
            mask = weeks_ahead == k
            for name, q in quantiles.items():
                out[name][mask] = np.expm1(np.log1p(yhat[mask]) + q)
        return out


# --------------------------------------------------------------------------- Prophet


def _quiet_prophet_logging() -> None:
    """Silence cmdstanpy's per-fit INFO lines and Prophet's notices (why: thousands per run)."""
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


class ProphetForecaster(BaseForecaster):
    """Prophet per series, with pandas kept inside this adapter.

    country/subdivision: public holidays from `holidays` (None: no holidays).
    holiday_mode: "shared" one effect for all public holidays (learnable from one year),
        "each" one effect per named holiday (Prophet's usual way), or "none".
    holiday_window: (days before, days after) each holiday that share its effect.
    log_transform: fit log1p(y) so weekly and holiday effects act multiplicatively and
        forecasts stay positive.
    yearly_seasonality: True/False or "auto" (Prophet's rule: on with 2+ years of data;
        with less, a yearly term would read a summer peak as a cycle it cannot check).
    Intervals: quantiles of `uncertainty_samples` posterior predictive draws (80% and
    95% from the same draws), seeded with `seed`.
    """

    def __init__(
        self,
        country: str | None = None,
        subdivision: str | None = None,
        *,
        holiday_mode: str = "shared",
        holiday_window: tuple[int, int] = (0, 0),
        log_transform: bool = True,
        yearly_seasonality: bool | str = "auto",
        weekly_seasonality: bool | str = True,
        seasonality_mode: str = "additive",
        changepoint_prior_scale: float = 0.05,
        seasonality_prior_scale: float = 10.0,
        holidays_prior_scale: float = 10.0,
        uncertainty_samples: int = 1000,
        seed: int = 0,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.country = country
        self.subdivision = subdivision
        self.holiday_mode = holiday_mode
        self.holiday_window = holiday_window
        self.log_transform = log_transform
        self.yearly_seasonality = yearly_seasonality
        self.weekly_seasonality = weekly_seasonality
        self.seasonality_mode = seasonality_mode
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seasonality_prior_scale = seasonality_prior_scale
        self.holidays_prior_scale = holidays_prior_scale
        self.uncertainty_samples = uncertainty_samples
        self.seed = seed
        self.id_col = id_col
        self.date_col = date_col
        self.value_col = value_col

    def _holidays_frame(self, history: SeriesHistory) -> Any:
        import pandas as pd

        if self.holiday_mode not in ("shared", "each", "none"):
            raise ForecastInputError(
                f"holiday_mode must be 'shared', 'each' or 'none', got {self.holiday_mode!r}."
            )
        if self.holiday_mode == "none" or self.country is None:
            return None
        start = _EPOCH + dt.timedelta(days=int(history.days[0]) - 7)
        end = _EPOCH + dt.timedelta(days=history.end_day + 800)
        days = public_holidays(self.country, self.subdivision, start, end)
        if not days:
            return None
        if self.holiday_mode == "shared":
            names = ["public_holiday"] * len(days)
        else:
            import holidays as holidays_package

            years = range(start.year, end.year + 1)
            calendar = dict(holidays_package.country_holidays(self.country, years=years))
            if self.subdivision:
                local = holidays_package.country_holidays(
                    self.country, subdiv=self.subdivision, years=years
                )
                calendar.update(local)
            names = [calendar.get(d, "public_holiday") for d in days]
        before, after = self.holiday_window
        return pd.DataFrame(
            {
                "holiday": names,
                "ds": pd.to_datetime(days),
                "lower_window": -abs(int(before)),
                "upper_window": abs(int(after)),
            }
        )

    def _fit_series(self, history: SeriesHistory) -> Any:
        import pandas as pd
        from prophet import Prophet

        _quiet_prophet_logging()
        values = np.log1p(history.values) if self.log_transform else history.values
        train = pd.DataFrame({"ds": pd.to_datetime(_to_dates(history.days)), "y": values})
        model = Prophet(
            growth="linear",
            yearly_seasonality=self.yearly_seasonality,
            weekly_seasonality=self.weekly_seasonality,
            daily_seasonality=False,
            holidays=self._holidays_frame(history),
            seasonality_mode=self.seasonality_mode,
            changepoint_prior_scale=self.changepoint_prior_scale,
            seasonality_prior_scale=self.seasonality_prior_scale,
            holidays_prior_scale=self.holidays_prior_scale,
            uncertainty_samples=self.uncertainty_samples,
        )
        model.fit(train, seed=self.seed)
        return model

    def _predict_series(
        self, state: Any, history: SeriesHistory, future: np.ndarray
    ) -> dict[str, np.ndarray]:
        import pandas as pd

        future_frame = pd.DataFrame({"ds": pd.to_datetime(_to_dates(future))})
        samples_wanted = state.uncertainty_samples
        state.uncertainty_samples = 0  # point forecast without drawing samples twice
        try:
            point = state.predict(future_frame)["yhat"].to_numpy()
        finally:
            state.uncertainty_samples = samples_wanted
        inverse = np.expm1 if self.log_transform else (lambda v: v)
        out = {"yhat": inverse(point)}
        if samples_wanted:
            saved = np.random.get_state()  # Prophet draws from numpy's global generator
            np.random.seed(self.seed)
            try:
                draws = state.predictive_samples(future_frame)["yhat"]
            finally:
                np.random.set_state(saved)
            for level in LEVELS:
                tail = (100 - level) / 200
                out[f"lo{level}"] = inverse(np.quantile(draws, tail, axis=1))
                out[f"hi{level}"] = inverse(np.quantile(draws, 1 - tail, axis=1))
        else:
            for name in OUTPUT_COLUMNS[1:]:
                out[name] = np.full(point.shape, np.nan)
        return out


# --------------------------------------------------------------------------- combinations


class EnsembleForecaster(BaseForecaster):
    """Weighted mean of member forecasts (points and interval bounds alike).

    members: [(name, forecaster), ...], fitted as clones in `members_`.
    weights: one per member (default equal). Averaging bounds ("quantile averaging") is
    a simple, usually slightly conservative, way to combine intervals; wrap the
    ensemble in ConformalForecaster to calibrate them.
    """

    def __init__(
        self,
        members: list[tuple[str, BaseForecaster]],
        weights: list[float] | None = None,
        *,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.members = members
        self.weights = weights
        self.id_col = id_col
        self.date_col = date_col
        self.value_col = value_col

    def fit(
        self,
        frame: pl.DataFrame,
        closed_days: ClosedDays = None,
        *,
        history_end: dt.date | None = None,
    ) -> Self:
        """Fit every member on the same frame; return self."""
        if not self.members:
            raise ForecastInputError("EnsembleForecaster needs at least one member.")
        if self.weights is not None and len(self.weights) != len(self.members):
            raise ForecastInputError(
                f"weights has {len(self.weights)} values for {len(self.members)} members."
            )
        super().fit(frame, closed_days, history_end=history_end)
        self.members_ = [
            (
                name,
                _with_columns(clone(member), self).fit(frame, closed_days, history_end=history_end),
            )
            for name, member in self.members
        ]
        return self

    def _fit_series(self, history: SeriesHistory) -> None:
        return None

    def predict(self, horizon: int = 28) -> pl.DataFrame:
        """Weighted mean of the members' forecasts; columns as BaseForecaster.predict."""
        horizon = check_horizon(horizon)
        weights = np.asarray(self.weights or [1.0] * len(self.members_), dtype=np.float64)
        weights = weights / weights.sum()
        forecasts = [member.predict(horizon) for _, member in self.members_]
        combined = forecasts[0].select(self.id_col, self.date_col)
        for name in OUTPUT_COLUMNS:
            stacked = np.vstack([f[name].to_numpy() for f in forecasts])
            combined = combined.with_columns(pl.Series(name, weights @ stacked))
        return combined


class _SeriesForecastCache:
    """Per-process memo of one series' forecast, keyed by everything it depends on.

    The key hashes the unfitted model (pickled settings), the series' exact history
    rows, its closed days, the history end and the horizon, so a hit is the forecast a
    refit would give. Why: a backtest's calibration windows are its earlier cutoffs, and
    refitting Prophet there would multiply its cost by calibration_windows + 1.
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, pl.DataFrame] = OrderedDict()

    @staticmethod
    def model_key(model: BaseForecaster) -> bytes:
        return hashlib.blake2b(pickle.dumps(_with_columns(clone(model), None))).digest()

    @staticmethod
    def series_key(
        model_key: bytes, rows: pl.DataFrame, closed: pl.DataFrame, end: dt.date, horizon: int
    ) -> bytes:
        digest = hashlib.blake2b(model_key)
        for frame in (rows, closed):
            digest.update(frame[DATE].cast(pl.Int32).to_numpy().tobytes())
            if VALUE in frame.columns:
                digest.update(frame[VALUE].to_numpy().tobytes())
            digest.update(b"|")
        digest.update(f"{end}|{horizon}".encode())
        return digest.digest()

    def get(self, key: bytes) -> pl.DataFrame | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: bytes, forecast: pl.DataFrame) -> None:
        self._entries[key] = forecast
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


FORECAST_CACHE = _SeriesForecastCache()


def _series_keys(
    model_key: bytes, train: pl.DataFrame, closed: pl.DataFrame, end: dt.date, horizon: int
) -> dict[str, bytes]:
    """Cache key of every series in a canonical frame."""
    closed_by_series = {k[0]: part for k, part in closed.partition_by(SERIES, as_dict=True).items()}
    empty = closed.clear()
    return {
        series_id: FORECAST_CACHE.series_key(
            model_key, part.sort(DATE), closed_by_series.get(series_id, empty), end, horizon
        )
        for (series_id,), part in train.partition_by(SERIES, as_dict=True).items()
    }


def _cached_forecasts(
    model: BaseForecaster,
    train: pl.DataFrame,
    closed: pl.DataFrame,
    end: dt.date,
    horizon: int,
) -> pl.DataFrame:
    """Canonical forecasts of `model` fitted on `train` up to `end`, refitting only misses."""
    if not model.per_series:
        fitted = _with_columns(clone(model), None).fit(train, closed, history_end=end)
        return fitted.predict(horizon)
    keys = _series_keys(FORECAST_CACHE.model_key(model), train, closed, end, horizon)
    found = {sid: FORECAST_CACHE.get(key) for sid, key in keys.items()}
    missing = [sid for sid, forecast in found.items() if forecast is None]
    if missing:
        fitted = _with_columns(clone(model), None).fit(
            train.filter(pl.col(SERIES).is_in(missing)), closed, history_end=end
        )
        for (series_id,), part in (
            fitted.predict(horizon).partition_by(SERIES, as_dict=True).items()
        ):
            FORECAST_CACHE.put(keys[series_id], part)
            found[series_id] = part
    return pl.concat([found[sid] for sid in keys])


class ConformalForecaster(BaseForecaster):
    """Replace a forecaster's intervals by ones calibrated on its own past errors.

    At fit, the base forecaster is refitted at `calibration_windows` rolling origins
    inside the history (the last non-overlapping windows of `horizon` days, each fit
    only on days before its origin, each with at least `min_train_days` open days);
    its log1p errors over those windows give each series' interval quantiles, so
    calibration never sees data after the history end. Series with fewer than 20 such
    errors keep the base model's own intervals. The point forecast is the base's.
    """

    def __init__(
        self,
        base: BaseForecaster,
        calibration_windows: int = 4,
        horizon: int = 28,
        min_train_days: int = 56,
        *,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.base = base
        self.calibration_windows = calibration_windows
        self.horizon = horizon
        self.min_train_days = min_train_days
        self.id_col = id_col
        self.date_col = date_col
        self.value_col = value_col

    def fit(
        self,
        frame: pl.DataFrame,
        closed_days: ClosedDays = None,
        *,
        history_end: dt.date | None = None,
    ) -> Self:
        """Fit the base on all the history and calibrate its intervals; return self."""
        super().fit(frame, closed_days, history_end=history_end)
        self.base_ = _with_columns(clone(self.base), self).fit(
            frame, closed_days, history_end=history_end
        )
        canonical = _up_to(
            validate_series_frame(frame, self.id_col, self.date_col, self.value_col), history_end
        )
        closed = self.closed_days_
        end = history_end or canonical[DATE].max()
        # remembered so predict() can offer its forecasts to later calibrations
        self.cache_inputs_ = (canonical, end) if history_end is not None else None
        open_rows = canonical.join(closed, on=[SERIES, DATE], how="anti")
        errors = []
        for window in range(1, self.calibration_windows + 1):
            origin = end - dt.timedelta(days=window * self.horizon - 1)
            train = canonical.filter(pl.col(DATE) < origin)
            counts = train.join(closed, on=[SERIES, DATE], how="anti").group_by(SERIES).len()
            eligible = counts.filter(pl.col("len") >= self.min_train_days)[SERIES]
            if eligible.len() == 0:
                break
            train = train.filter(pl.col(SERIES).is_in(eligible.to_list()))
            predicted = _cached_forecasts(
                self.base, train, closed, origin - dt.timedelta(days=1), self.horizon
            )
            actual = open_rows.filter(
                pl.col(DATE).is_between(origin, origin + dt.timedelta(days=self.horizon - 1))
            )
            errors.append(
                predicted.join(actual, on=[SERIES, DATE], how="inner").select(
                    SERIES, (pl.col(VALUE).log1p() - pl.col("yhat").log1p()).alias("error")
                )
            )
        self.calibration_quantiles_: dict[str, dict[str, float]] = {}
        if errors:
            for (series_id,), part in pl.concat(errors).partition_by(SERIES, as_dict=True).items():
                if part.height >= 20:
                    self.calibration_quantiles_[series_id] = _conformal_quantiles(
                        part["error"].to_numpy()
                    )
        return self

    def _fit_series(self, history: SeriesHistory) -> None:
        return None

    def predict(self, horizon: int = 28) -> pl.DataFrame:
        """The base forecast with calibrated 80% and 95% bounds."""
        forecast = self.base_.predict(horizon)
        if self.cache_inputs_ is not None and self.base.per_series:
            canonical, end = self.cache_inputs_
            keys = _series_keys(
                FORECAST_CACHE.model_key(self.base), canonical, self.closed_days_, end, horizon
            )
            renamed = forecast.rename({self.id_col: SERIES, self.date_col: DATE})
            for (series_id,), part in renamed.partition_by(SERIES, as_dict=True).items():
                FORECAST_CACHE.put(keys[series_id], part)
        if not self.calibration_quantiles_:
            return forecast
        quantiles = pl.DataFrame(
            [
                {self.id_col: sid, **{f"q_{k}": v for k, v in q.items()}}
                for sid, q in self.calibration_quantiles_.items()
            ],
        ).with_columns(pl.col(self.id_col).cast(pl.String))
        joined = forecast.join(quantiles, on=self.id_col, how="left")
        bounds = []
        for name in OUTPUT_COLUMNS[1:]:
            calibrated = ((pl.col("yhat").log1p() + pl.col(f"q_{name}")).exp() - 1).clip(
                lower_bound=0
            )
            # closed days stay exactly 0; uncalibrated series keep the base bounds
            bounds.append(
                pl.when(pl.col("yhat") == 0)
                .then(pl.col(name))
                .otherwise(pl.coalesce(calibrated, pl.col(name)))
                .alias(name)
            )
        return joined.with_columns(bounds).select(forecast.columns)


def _with_columns(model: BaseForecaster, owner: BaseForecaster | None) -> BaseForecaster:
    """Give a member the owner's column names (or the canonical ones for internal frames)."""
    names = (
        {"id_col": owner.id_col, "date_col": owner.date_col, "value_col": owner.value_col}
        if owner is not None
        else {"id_col": SERIES, "date_col": DATE, "value_col": VALUE}
    )
    return model.set_params(**names)


def default_models(
    country: str | None, subdivision: str | None = None
) -> dict[str, BaseForecaster]:
    """The candidate models the backtest compares by default, by name.

    seasonal_naive: the baseline every recommendation must beat.
    weekday_mean: holiday-aware mean of the last 4 same weekdays.
    prophet: Prophet tuned for short daily public-service series (log1p, one shared
        holiday effect, yearly seasonality only with 2+ years).
    ensemble: equal-weight mean of the three, intervals calibrated by ConformalForecaster.
    """
    naive = SeasonalNaiveForecaster()
    weekday = WeekdayMeanForecaster(weeks=4, country=country, subdivision=subdivision)
    prophet = ProphetForecaster(country=country, subdivision=subdivision)
    return {
        "seasonal_naive": naive,
        "weekday_mean": weekday,
        "prophet": prophet,
        "ensemble": ConformalForecaster(
            EnsembleForecaster(
                [("prophet", prophet), ("weekday_mean", weekday), ("seasonal_naive", naive)]
            )
        ),
    }
