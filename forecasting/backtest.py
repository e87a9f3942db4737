"""Rolling-origin backtests, per-series model recommendation and recommended forecasts.

    result = backtest(frame, models=default_models("US", "MA"), cutoffs=8, horizon=28)
    result.overall        # per series and model: MASE, sMAPE, coverage 80/95
    result.per_horizon    # the same per horizon step 1..horizon
    result.recommended    # per series: the model to use and the baseline's MASE
    forecast = recommended_forecast(frame, result.recommended, models, horizon=28)

Everything counts in the series' own frequency (daily, weekly or monthly, read from the
dates or given as `freq`): cutoffs are the first periods of the last `cutoffs`
non-overlapping windows of `horizon` periods ending at the last date in the frame; each model is fitted afresh at every cutoff on
the days before it only, so nothing after a cutoff can reach its forecast. Scores skip
missing days (gaps) and known closed days: a closed day forecast as 0 is right by
construction and would flatter every model.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from forecasting._frame import (
    DATE,
    SERIES,
    VALUE,
    ClosedDays,
    ForecastInputError,
    _gaps,
    check_horizon,
    validate_closed_days,
    validate_series_frame,
)
from forecasting.accuracy import seasonal_naive_mae
from forecasting.frequency import (
    DAILY,
    Frequency,
    resolve_frequency,
    season_for,
)
from forecasting.models import (
    OUTPUT_COLUMNS,
    BaseForecaster,
    at_frequency,
    default_models,
)
from forecasting.pool import plain_main, spawn_pool

BASELINE = "seasonal_naive"
RECOMMENDED = "recommended"
METRIC_COLUMNS = ("n", "mase", "smape", "coverage_80", "coverage_95", "width_95")


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest measured. Series and date columns carry the caller's names.

    per_horizon: series, model, step (1..horizon periods), n, mase, smape (%),
        coverage_80 (%), coverage_95 (%), width_95 (mean width of the 95% interval, counts
        per period).
    overall: the same over all steps and cutoffs, per series and model. MASE is the mean
        absolute error scaled, cutoff by cutoff, by the in-sample seasonal-naive MAE of
        the data before that cutoff (season 7, 52 or 12 by frequency; 1 for a series with
        under two seasons of history, see `seasons`). The pseudo-model "recommended"
        repeats the rows of each series' recommended model.
    recommended: series, model, mase, baseline_mase.
    gaps: series, date: periods missing inside each series' range (not closed days).
    cutoffs: first period (its date) of each test window, ascending.
    points: every scored forecast: series, model, cutoff, date, step, y, yhat, lo80,
        hi80, lo95, hi95, scale.
    seconds_per_fit: model -> mean seconds to fit and predict one series at one cutoff.
    frequency: the frequency backtested (forecasting.frequency.Frequency).
    seasons: series, cutoff, observed (open periods before the cutoff), season (of the
        baseline and the MASE scale there: the frequency's, or 1 when observed is under
        two seasons; forecasting.frequency.season_for).
    """

    per_horizon: pl.DataFrame
    overall: pl.DataFrame
    recommended: pl.DataFrame
    gaps: pl.DataFrame
    cutoffs: list[dt.date]
    points: pl.DataFrame
    seconds_per_fit: dict[str, float]
    frequency: Frequency = DAILY
    seasons: pl.DataFrame | None = None


def rolling_cutoffs(
    last_date: dt.date, n_cutoffs: int, horizon: int, frequency: Frequency = DAILY
) -> list[dt.date]:
    """First periods of the last n non-overlapping `horizon`-period windows ending at last_date.

    Periods of `frequency`: on a weekly series, 4 cutoffs of horizon 13 are four 13-week
    windows, the last ending on the last week.
    """
    if isinstance(n_cutoffs, bool) or not isinstance(n_cutoffs, int) or n_cutoffs < 1:
        raise ForecastInputError(f"cutoffs must be a whole number >= 1, got {n_cutoffs!r}.")
    return [frequency.shift(last_date, -(k * horizon - 1)) for k in range(n_cutoffs, 0, -1)]


def _forecast_at_cutoffs(
    canonical: pl.DataFrame,
    closed: pl.DataFrame,
    models: dict[str, BaseForecaster],
    cutoffs: list[dt.date],
    horizon: int,
    min_train_days: int,
    frequency: Frequency = DAILY,
) -> tuple[pl.DataFrame, dict[str, tuple[float, int]], pl.DataFrame]:
    """Fit every model at every cutoff on the periods before it; return the forecasts.

    Returns (forecasts with series_id, model, cutoff, ds, yhat..hi95, scale),
    model -> (seconds, series fits) and the season per series and cutoff (series_id,
    cutoff, observed, season). Runs in a worker process when n_jobs > 1.
    """
    parts, timings = [], {name: (0.0, 0) for name in models}
    seasons = []
    open_rows = canonical.join(closed, on=[SERIES, DATE], how="anti")
    for cutoff in cutoffs:
        open_train = open_rows.filter(pl.col(DATE) < cutoff)
        counts = open_train.group_by(SERIES).len()
        eligible = counts.filter(pl.col("len") >= min_train_days)[SERIES]
        if eligible.len() == 0:
            continue
        train = canonical.filter((pl.col(DATE) < cutoff) & pl.col(SERIES).is_in(eligible.to_list()))
        scale_rows = []
        for (sid,), part in (
            open_train.filter(pl.col(SERIES).is_in(eligible.to_list()))
            .partition_by(SERIES, as_dict=True)
            .items()
        ):
            season = season_for(part.height, frequency.season)
            seasons.append((sid, cutoff, part.height, season))
            scale_rows.append(
                (sid, seasonal_naive_mae(frequency.periods(part[DATE]), part[VALUE], season))
            )
        scales = pl.DataFrame(
            scale_rows, schema={SERIES: pl.String, "scale": pl.Float64}, orient="row"
        )
        for name, model in models.items():
            started = time.perf_counter()
            fitted = at_frequency(model, frequency.code).fit(
                train, closed, history_end=frequency.shift(cutoff, -1)
            )
            forecast = fitted.predict(horizon)
            seconds, fits = timings[name]
            timings[name] = (seconds + time.perf_counter() - started, fits + eligible.len())
            parts.append(
                forecast.with_columns(
                    pl.lit(name).alias("model"), pl.lit(cutoff).alias("cutoff")
                ).join(scales, on=SERIES, how="left")
            )
    if not parts:
        raise ForecastInputError(
            f"No series has {min_train_days} open {frequency.unit}s before the first cutoff "
            f"{cutoffs[0]}; use fewer cutoffs or a shorter horizon."
        )
    season_frame = pl.DataFrame(
        seasons,
        schema={SERIES: pl.String, "cutoff": pl.Date, "observed": pl.Int64, "season": pl.Int64},
        orient="row",
    )
    return pl.concat(parts), timings, season_frame


def backtest(
    frame: pl.DataFrame,
    models: dict[str, BaseForecaster] | None = None,
    cutoffs: int | Sequence[dt.date] = 8,
    horizon: int = 28,
    closed_days: ClosedDays = None,
    *,
    candidates: Sequence[str] | None = None,
    baseline: str = BASELINE,
    min_train_days: int | None = None,
    n_jobs: int = 1,
    freq: str | None = None,
    id_col: str = SERIES,
    date_col: str = DATE,
    value_col: str = VALUE,
) -> BacktestResult:
    """Rolling-origin backtest of every model on every series, and a recommendation.

    models: name -> unfitted forecaster; must include `baseline`. Default:
        default_models(country=None), i.e. without public holidays: pass
        default_models(country, subdivision) to model them.
        `baseline`.
    cutoffs: how many (the last non-overlapping `horizon`-period windows ending at the
        frame's last date) or explicit first dates of the test windows.
    horizon: periods (days, weeks or months) forecast at each cutoff.
    candidates: models that may be recommended (default: all). A series gets the
        candidate with the lowest overall MASE if it beats the baseline's, else the
        baseline: the recommendation is never worse than seasonal naive in the backtest.
    min_train_days: a series is skipped at a cutoff with fewer open periods before it
        (default by frequency: 28 days, 26 weeks, 14 months).
    n_jobs: processes (spawn start method) sharing the series; 1 runs in-process.
    freq: "D", "W", "M", or None / "auto" to read it from the dates
        (forecasting.frequency.resolve_frequency). Every model is fitted at it.
    """
    canonical = validate_series_frame(frame, id_col, date_col, value_col)
    frequency = resolve_frequency(canonical, freq)
    horizon = check_horizon(horizon, frequency.unit)
    min_train = frequency.min_train if min_train_days is None else min_train_days
    closed = validate_closed_days(closed_days, id_col, date_col)
    models = dict(models) if models is not None else default_models(None, freq=frequency.code)
    if baseline not in models:
        raise ForecastInputError(
            f"models must include the baseline {baseline!r} (known: {', '.join(models)}); "
            "the recommendation is judged against it."
        )
    candidates = list(candidates) if candidates is not None else list(models)
    unknown = [c for c in candidates if c not in models]
    if unknown:
        raise ForecastInputError(
            f"Unknown candidate model(s) {unknown}; known: {', '.join(models)}."
        )
    if isinstance(cutoffs, int):
        cutoff_days = rolling_cutoffs(canonical[DATE].max(), cutoffs, horizon, frequency)
    else:
        cutoff_days = sorted(cutoffs)
    if not cutoff_days:
        raise ForecastInputError("cutoffs is empty; give a number >= 1 or a list of dates.")

    series = canonical[SERIES].unique(maintain_order=True).to_list()
    n_workers = max(1, min(int(n_jobs), len(series)))
    if n_workers == 1:
        forecasts, timings, seasons = _forecast_at_cutoffs(
            canonical, closed, models, cutoff_days, horizon, min_train, frequency
        )
    else:
        chunks = [series[i::n_workers] for i in range(n_workers)]
        with spawn_pool(n_workers) as pool, plain_main():
            futures = [
                pool.submit(
                    _forecast_at_cutoffs,
                    canonical.filter(pl.col(SERIES).is_in(chunk)),
                    closed.filter(pl.col(SERIES).is_in(chunk)),
                    models,
                    cutoff_days,
                    horizon,
                    min_train,
                    frequency,
                )
                for chunk in chunks
            ]
            results = [f.result() for f in futures]
        forecasts = pl.concat([r[0] for r in results])
        seasons = pl.concat([r[2] for r in results])
        timings = {
            name: (sum(r[1][name][0] for r in results), sum(r[1][name][1] for r in results))
            for name in models
        }

    open_rows = canonical.join(closed, on=[SERIES, DATE], how="anti")
    points = (
        forecasts.join(open_rows, on=[SERIES, DATE], how="inner")
        .with_columns(
            (
                frequency.period_expr(pl.col(DATE))
                - frequency.period_expr(pl.col("cutoff"))
                + 1
            )
            .cast(pl.Int32)
            .alias("step")
        )
        .filter(pl.col("step").is_between(1, horizon))
        .select(SERIES, "model", "cutoff", DATE, "step", VALUE, *OUTPUT_COLUMNS, "scale")
        .sort(SERIES, "model", "cutoff", DATE)
    )
    per_horizon = _summarise(points, [SERIES, "model", "step"])
    overall = _summarise(points, [SERIES, "model"])
    recommended = _recommend(overall, candidates, baseline, list(models))
    chosen = recommended.select(SERIES, "model")
    per_horizon = pl.concat(
        [
            per_horizon,
            per_horizon.join(chosen, on=[SERIES, "model"]).with_columns(
                pl.lit(RECOMMENDED).alias("model")
            ),
        ]
    )
    overall = pl.concat(
        [
            overall,
            overall.join(chosen, on=[SERIES, "model"]).with_columns(
                pl.lit(RECOMMENDED).alias("model")
            ),
        ]
    )
    renames = {SERIES: id_col, DATE: date_col}
    return BacktestResult(
        per_horizon=per_horizon.rename(renames, strict=False),
        overall=overall.rename(renames, strict=False),
        recommended=recommended.rename(renames, strict=False),
        gaps=_gaps(canonical, closed, frequency).rename(renames, strict=False),
        cutoffs=cutoff_days,
        points=points.rename({**renames, VALUE: value_col}, strict=False),
        seconds_per_fit={name: (s / n if n else float("nan")) for name, (s, n) in timings.items()},
        frequency=frequency,
        seasons=seasons.sort(SERIES, "cutoff").rename({SERIES: id_col}),
    )


def _summarise(points: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """MASE, sMAPE (%), coverage (%) and 95% width over the points of each group."""
    error = (pl.col(VALUE) - pl.col("yhat")).abs()
    denominator = pl.col(VALUE).abs() + pl.col("yhat").abs()
    smape_term = pl.when(denominator == 0).then(0.0).otherwise(2 * error / denominator)
    return (
        points.group_by(by, maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            (error / pl.col("scale")).mean().alias("mase"),
            (100 * smape_term.mean()).alias("smape"),
            (100 * pl.col(VALUE).is_between(pl.col("lo80"), pl.col("hi80")).mean()).alias(
                "coverage_80"
            ),
            (100 * pl.col(VALUE).is_between(pl.col("lo95"), pl.col("hi95")).mean()).alias(
                "coverage_95"
            ),
            (pl.col("hi95") - pl.col("lo95")).mean().alias("width_95"),
        )
        .sort(by)
    )


def _recommend(
    overall: pl.DataFrame, candidates: list[str], baseline: str, order: list[str]
) -> pl.DataFrame:
    """Per series: the candidate with the lowest MASE if below the baseline's, else the baseline."""
    rank = {name: i for i, name in enumerate(order)}
    rows = []
    for (series_id,), part in overall.partition_by(
        SERIES, as_dict=True, maintain_order=True
    ).items():
        mase_of = dict(zip(part["model"].to_list(), part["mase"].to_list(), strict=True))
        baseline_mase = mase_of.get(baseline, float("nan"))
        scored = [
            (m, mase_of[m])
            for m in candidates
            if m in mase_of and m != baseline and np.isfinite(mase_of[m])
        ]
        best = min(scored, key=lambda item: (item[1], rank[item[0]]), default=None)
        if best is not None and (not np.isfinite(baseline_mase) or best[1] < baseline_mase):
            rows.append((series_id, best[0], best[1], baseline_mase))
        else:
            rows.append((series_id, baseline, baseline_mase, baseline_mase))
    return pl.DataFrame(
        rows,
        schema={
            SERIES: pl.String,
            "model": pl.String,
            "mase": pl.Float64,
            "baseline_mase": pl.Float64,
        },
        orient="row",
    )


def recommended_forecast(
    frame: pl.DataFrame,
    recommended: pl.DataFrame,
    models: dict[str, BaseForecaster],
    horizon: int = 28,
    closed_days: ClosedDays = None,
    *,
    freq: str | None = None,
    id_col: str = SERIES,
    date_col: str = DATE,
    value_col: str = VALUE,
) -> pl.DataFrame:
    """Fit each series' recommended model on all its history and forecast `horizon` periods.

    recommended: BacktestResult.recommended (series, model). Series missing from it get
    the seasonal-naive baseline. freq: as in `backtest` (None reads it from the dates).
    Returns id_col, date_col (one row per period of the series' frequency, dated like
    the data), yhat, lo80, hi80, lo95, hi95, model.
    """
    canonical = validate_series_frame(frame, id_col, date_col, value_col)
    frequency = resolve_frequency(canonical, freq)
    horizon = check_horizon(horizon, frequency.unit)
    closed = validate_closed_days(closed_days, id_col, date_col)
    require = recommended.rename({id_col: SERIES}) if id_col in recommended.columns else recommended
    choice = dict(require.select(SERIES, "model").iter_rows())
    unknown = sorted({m for m in choice.values() if m not in models})
    if unknown:
        raise ForecastInputError(
            f"Recommended model(s) {unknown} not in models ({', '.join(models)})."
        )
    assigned = canonical.with_columns(
        pl.col(SERIES)
        .replace_strict(choice, default=BASELINE, return_dtype=pl.String)
        .alias("model")
    )
    parts = []
    for (name,), part in assigned.partition_by("model", as_dict=True).items():
        model = models.get(name) or default_models(None, freq=frequency.code)[BASELINE]
        fitted = at_frequency(model, frequency.code).fit(part.drop("model"), closed)
        parts.append(fitted.predict(horizon).with_columns(pl.lit(name).alias("model")))
    return pl.concat(parts).sort(SERIES, DATE).rename({SERIES: id_col, DATE: date_col})
