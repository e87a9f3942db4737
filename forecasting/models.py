"""Demand forecasters (daily, weekly or monthly) that follow scikit-learn's contract.

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

Frequency: `freq="auto"` (default) reads daily, weekly or monthly from the dates
(`forecasting.frequency`); horizons, seasons and steps count in that unit, and forecast
rows fall on the data's own weekday or day of the month.
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
from forecasting.calendar import public_holidays, working_days
from forecasting.frequency import AUTO, MIN_TRAIN, Frequency, resolve_frequency, season_for

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
    """One series' open, observed periods and values.

    periods: period numbers of the series' frequency (`Frequency.periods`: for a daily
    series, days since 1970-01-01), int64, sorted, closed days and gaps absent.
    """

    series_id: str
    periods: np.ndarray
    values: np.ndarray  # float64 counts
    end_period: int  # last period of the history, observed or not


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def _weekday(days: np.ndarray | int) -> np.ndarray | int:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(days) + 3) % 7 if isinstance(days, np.ndarray) else (days + 3) % 7


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
    freq: str = AUTO
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
        self.freq_: Frequency = resolve_frequency(canonical, self.freq)
        self._check_frequency(self.freq_)
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
                    f"Series {series_id!r} has {n_open} open {self.freq_.unit}(s) of history; "
                    f"at least {MIN_OPEN_DAYS} are needed. Drop it or collect more history."
                )
            end = history_end if history_end is not None else ends[series_id]
            history = SeriesHistory(
                series_id=series_id,
                periods=self.freq_.periods(part[DATE]),
                values=part[VALUE].to_numpy().astype(np.float64),
                end_period=self.freq_.period(end),
            )
            self.histories_[series_id] = history
            self.states_[series_id] = self._fit_series(history)
        return self

    def _check_frequency(self, frequency: Frequency) -> None:
        """Raise ForecastInputError when the model cannot forecast at this frequency."""

    def predict(self, horizon: int = 28) -> pl.DataFrame:
        """Forecast `horizon` periods (days, weeks or months) after each history end.

        Returns a long frame: id_col, date_col, yhat, lo80, hi80, lo95, hi95 (counts per
        period; lo/hi are the bounds of the 80% and 95% prediction intervals); dates in
        the data's own convention (the same weekday, the same first or last of the month).
        """
        if not hasattr(self, "states_"):
            raise ForecastInputError(f"{type(self).__name__} is not fitted; call fit(frame) first.")
        horizon = check_horizon(horizon, self.freq_.unit)
        closed = set(self.closed_days_.iter_rows())
        parts = []
        for series_id in self.series_ids_:
            history = self.histories_[series_id]
            future = history.end_period + np.arange(1, horizon + 1, dtype=np.int64)
            columns = self._predict_series(self.states_[series_id], history, future)
            columns = _tidy_bounds(columns)
            future_dates = self.freq_.dates(future)
            is_closed = np.array([(series_id, d) in closed for d in future_dates])
            for name in OUTPUT_COLUMNS:
                columns[name] = np.where(is_closed, 0.0, columns[name])
            parts.append(
                pl.DataFrame(
                    {
                        self.id_col: [series_id] * horizon,
                        self.date_col: future_dates,
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
    """Seasonal naive: each period repeats the last observed value one season earlier.

    season: the season length in periods; None (default) takes the frequency's: 7 days
    (the same weekday), 52 weeks, 12 months (the same week or month last year). A series
    with fewer than two seasons of observed periods uses season 1 (the last value: the
    non-seasonal naive), by `forecasting.frequency.season_for`; `seasons_` records the
    season each series used. Intervals come from the in-sample residuals
    y[t] - y[t - season]: their empirical quantiles, scaled by sqrt(k) for a forecast k
    seasons after the value it repeats (k grows when that value is old).
    """

    def __init__(
        self,
        season: int | None = None,
        *,
        freq: str = AUTO,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.season = season
        self.freq = freq
        self.id_col = id_col
        self.date_col = date_col
        self.value_col = value_col

    @property
    def seasons_(self) -> dict[str, int]:
        """Series id -> the season it uses (after fit)."""
        return {series_id: state["season"] for series_id, state in self.states_.items()}

    def _fit_series(self, history: SeriesHistory) -> dict[str, Any]:
        season = self.freq_.season if self.season is None else self.season
        if isinstance(season, bool) or not isinstance(season, int) or season < 1:
            raise ForecastInputError(
                f"season must be a whole number of periods >= 1, got {self.season!r}."
            )
        season = season_for(history.periods.size, season)
        value_on = dict(zip(history.periods.tolist(), history.values.tolist(), strict=True))
        residuals = np.array(
            [
                value - value_on[period - season]
                for period, value in value_on.items()
                if period - season in value_on
            ]
        )
        if residuals.size < 2:
            unit = self.freq_.unit
            raise ForecastInputError(
                f"Series {history.series_id!r} has fewer than 2 pairs of {unit}s {season} "
                f"{unit}(s) apart; seasonal naive cannot estimate its error."
            )
        last_of_phase: dict[int, tuple[int, float]] = {}
        for period, value in zip(history.periods.tolist(), history.values.tolist(), strict=True):
            last_of_phase[period % season] = (period, value)
        return {
            "season": season,
            "last": last_of_phase,
            "quantiles": _conformal_quantiles(residuals),
        }

    def _predict_series(
        self, state: dict[str, Any], history: SeriesHistory, future: np.ndarray
    ) -> dict[str, np.ndarray]:
        last, season = state["last"], state["season"]
        fallback = float(np.mean([v for _, v in last.values()]))
        yhat, seasons_back = [], []
        for period in future.tolist():
            source = last.get(period % season)
            if source is None:  # a phase never observed (a weekday always closed or missing)
                yhat.append(fallback)
                seasons_back.append(math.ceil((period - history.end_period) / season))
            else:
                yhat.append(source[1])
                seasons_back.append((period - source[0]) // season)
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
    same number of weeks ahead (a rolling origin inside the history). Daily series only:
    a weekly or monthly series has no weekdays to average (see SKIPPED_MODELS).
    """

    def __init__(
        self,
        weeks: int = 4,
        country: str | None = None,
        subdivision: str | None = None,
        *,
        freq: str = AUTO,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.weeks = weeks
        self.country = country
        self.subdivision = subdivision
        self.freq = freq
        self.id_col = id_col
        self.date_col = date_col
        self.value_col = value_col

    def _check_frequency(self, frequency: Frequency) -> None:
        if frequency.code != "D":
            raise ForecastInputError(
                f"weekday_mean needs a daily series; this one is {frequency.label}: "
                f"{SKIPPED_MODELS['weekday_mean']}."
            )

    def _holiday_days(self, first_day: int, last_day: int) -> set[int]:
        start, end = _EPOCH + dt.timedelta(days=first_day), _EPOCH + dt.timedelta(days=last_day)
        return {_day_number(d) for d in public_holidays(self.country, self.subdivision, start, end)}

    def _fit_series(self, history: SeriesHistory) -> dict[str, Any]:
        if not isinstance(self.weeks, int) or self.weeks < 1:
            raise ForecastInputError(f"weeks must be a whole number >= 1, got {self.weeks!r}.")
        holidays = self._holiday_days(int(history.periods[0]), history.end_period + 800)
        is_holiday = np.array([d in holidays for d in history.periods.tolist()], dtype=bool)
        weekdays = _weekday(history.periods)
        regular = {
            w: (
                history.periods[(weekdays == w) & ~is_holiday],
                history.values[(weekdays == w) & ~is_holiday],
            )
            for w in range(7)
        }
        log_ratios = []
        for day, value in zip(
            history.periods[is_holiday].tolist(), history.values[is_holiday].tolist(), strict=True
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
        latest = np.full(future.shape, history.end_period)
        yhat = self._point(state, future, latest)
        overall_mean = float(history.values.mean())
        yhat = np.where(np.isnan(yhat), overall_mean, yhat)  # weekday never open before
        weeks_ahead = (future - history.end_period + 6) // 7
        out: dict[str, np.ndarray] = {"yhat": yhat}
        for name in OUTPUT_COLUMNS[1:]:
            out[name] = np.empty_like(yhat)
        for k in np.unique(weeks_ahead).tolist():
            # In-sample errors of the same rule k weeks ahead: the mean uses only
            # values at least 7k days before the day it predicts.
            past = self._point(state, history.periods, history.periods - 7 * k)
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


YEARLY_ORDER = {"W": 10, "M": 4}


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
    yearly_seasonality: True/False or "auto" (daily: Prophet's rule, on with 2+ years of
        data; with less, a yearly term would read a summer peak as a cycle it cannot check.
        Weekly and monthly: on once the history holds a full year, 52 weeks or 12 months,
        since the year is then the only season such a series has, with Fourier order
        YEARLY_ORDER: Prophet's 10 for weeks, 4 for months, as 10 pairs of terms on two
        years of 12 points overfit and took 13-21 s a fit on the NHS series).
    scaling: Prophet's y scaling; "auto" is "absmax" for daily series and "minmax" for
        weekly and monthly ones, whose log1p counts (millions of A&E attendances a month)
        vary in the third digit after absmax scaling, which left Prophet's optimiser
        crawling (28 s a fit) to a worse fit.
    weekly_seasonality: daily series only; always off for weekly and monthly series.
    Holidays of a weekly or monthly series: one regressor, the working days of each
    period (Monday to Friday, public holidays of country/subdivision left out;
    `calendar.working_days`), so a week with a bank holiday or a month with fewer working
    days moves the forecast by one learned effect per working day. None without country.
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
        scaling: str = "auto",
        freq: str = AUTO,
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
        self.scaling = scaling
        self.freq = freq
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
        start = self.freq_.date(int(history.periods[0])) - dt.timedelta(days=7)
        end = self.freq_.date(history.end_period) + dt.timedelta(days=800)
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
        train = pd.DataFrame(
            {"ds": pd.to_datetime(self.freq_.dates(history.periods)), "y": values}
        )
        daily = self.freq_.code == "D"
        yearly = self.yearly_seasonality
        if not daily and yearly == "auto":
            yearly = YEARLY_ORDER[self.freq_.code] if history.periods.size >= self.freq_.season else False
        scaling = self.scaling
        if scaling == "auto":
            scaling = "absmax" if daily else "minmax"
        model = Prophet(
            growth="linear",
            yearly_seasonality=yearly,
            weekly_seasonality=self.weekly_seasonality if daily else False,
            daily_seasonality=False,
            holidays=self._holidays_frame(history) if daily else None,
            seasonality_mode=self.seasonality_mode,
            changepoint_prior_scale=self.changepoint_prior_scale,
            seasonality_prior_scale=self.seasonality_prior_scale,
            holidays_prior_scale=self.holidays_prior_scale,
            uncertainty_samples=self.uncertainty_samples,
            scaling=scaling,
        )
        if self._uses_working_days():
            model.add_regressor("working_days")
            train["working_days"] = self._working_days(history.periods)
        model.fit(train, seed=self.seed)
        return model

    def _uses_working_days(self) -> bool:
        return self.freq_.code != "D" and self.country is not None and self.holiday_mode != "none"

    def _working_days(self, periods: np.ndarray) -> np.ndarray:
        return working_days(self.freq_, periods, self.country, self.subdivision)

    def _predict_series(
        self, state: Any, history: SeriesHistory, future: np.ndarray
    ) -> dict[str, np.ndarray]:
        import pandas as pd

        future_frame = pd.DataFrame({"ds": pd.to_datetime(self.freq_.dates(future))})
        if self._uses_working_days():
            future_frame["working_days"] = self._working_days(future)
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
        freq: str = AUTO,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.members = members
        self.weights = weights
        self.freq = freq
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
        horizon = check_horizon(horizon, getattr(self, "freq_", Frequency()).unit)
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
    inside the history (the last non-overlapping windows of `horizon` periods, each fit
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
        freq: str = AUTO,
        id_col: str = SERIES,
        date_col: str = DATE,
        value_col: str = VALUE,
    ) -> None:
        self.base = base
        self.calibration_windows = calibration_windows
        self.horizon = horizon
        self.min_train_days = min_train_days
        self.freq = freq
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
            origin = self.freq_.shift(end, -(window * self.horizon - 1))
            train = canonical.filter(pl.col(DATE) < origin)
            counts = train.join(closed, on=[SERIES, DATE], how="anti").group_by(SERIES).len()
            eligible = counts.filter(pl.col("len") >= self.min_train_days)[SERIES]
            if eligible.len() == 0:
                break
            train = train.filter(pl.col(SERIES).is_in(eligible.to_list()))
            predicted = _cached_forecasts(
                self._base_at_frequency(), train, closed, self.freq_.shift(origin, -1), self.horizon
            )
            actual = open_rows.filter(
                pl.col(DATE).is_between(origin, self.freq_.shift(origin, self.horizon - 1))
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

    def _base_at_frequency(self) -> BaseForecaster:
        """The base, canonical columns, at this model's resolved frequency (cache key too)."""
        return at_frequency(self.base, self.freq_.code)

    def predict(self, horizon: int = 28) -> pl.DataFrame:
        """The base forecast with calibrated 80% and 95% bounds."""
        forecast = self.base_.predict(horizon)
        if self.cache_inputs_ is not None and self.base.per_series:
            canonical, end = self.cache_inputs_
            keys = _series_keys(
                FORECAST_CACHE.model_key(self._base_at_frequency()), canonical, self.closed_days_, end, horizon
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
    if owner is not None and "freq" in model.get_params(deep=False):
        # members forecast at the owner's frequency (resolved once the owner is fitted)
        names["freq"] = owner.freq_.code if hasattr(owner, "freq_") else owner.freq
    return model.set_params(**names)


def at_frequency(model: BaseForecaster, freq: str) -> BaseForecaster:
    """A clone of `model` (canonical columns) forecasting at `freq` ("D", "W", "M")."""
    clone_ = _with_columns(clone(model), None)
    if "freq" in clone_.get_params(deep=False):
        clone_.set_params(freq=freq)
    return clone_


SKIPPED_MODELS = {
    "weekday_mean": "it averages the same weekday of past weeks, and a weekly or monthly "
    "series has no weekdays (the ensemble combines Prophet and seasonal naive instead)",
}


def default_models(
    country: str | None, subdivision: str | None = None, freq: str = "D"
) -> dict[str, BaseForecaster]:
    """The candidate models the backtest compares by default, by name.

    seasonal_naive: the baseline every recommendation must beat (season 7, 52 or 12).
    weekday_mean: holiday-aware mean of the last 4 same weekdays (daily only).
    prophet: Prophet tuned for short public-service series (log1p, one shared holiday
        effect; daily: weekly seasonality, yearly only with 2+ years; weekly and
        monthly: yearly seasonality from one full year, working days per period).
    ensemble: equal-weight mean of the others, intervals calibrated by
        ConformalForecaster (weekly: on 4 windows of 13 weeks; monthly series rarely have
        the 20 errors calibration needs, and keep the members' mean intervals).
    Weekly and monthly sets leave out weekday_mean (SKIPPED_MODELS says why).
    """
    code = str(freq).upper()
    naive = SeasonalNaiveForecaster(freq=code)
    prophet = ProphetForecaster(country=country, subdivision=subdivision, freq=code)
    if code in ("W", "M"):
        return {
            "seasonal_naive": naive,
            "prophet": prophet,
            "ensemble": ConformalForecaster(
                EnsembleForecaster([("prophet", prophet), ("seasonal_naive", naive)], freq=code),
                horizon=13 if code == "W" else 3,
                min_train_days=MIN_TRAIN[code],
                freq=code,
            ),
        }
    weekday = WeekdayMeanForecaster(weeks=4, country=country, subdivision=subdivision, freq=code)
    return {
        "seasonal_naive": naive,
        "weekday_mean": weekday,
        "prophet": prophet,
        "ensemble": ConformalForecaster(
            EnsembleForecaster(
                [("prophet", prophet), ("weekday_mean", weekday), ("seasonal_naive", naive)],
                freq=code,
            ),
            freq=code,
        ),
    }
