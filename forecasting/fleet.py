"""Backtest and forecast every series of the fleet, in parallel, one series per task.

    fleet = build_fleet_series(...)            # forecasting.series, or store.load_fleet_series
    result = run_fleet(fleet, horizon=28, cutoffs=4, jobs=2, country="GB", subdivision="ENG")
    result.forecasts    # series_id, ds, model, recommended, closed, yhat, lo80..hi95
    result.backtests    # series_id, model, step (0 = all steps), n, mase, smape, ...
    result.series       # catalog + history summary + recommended model and MASE

Each task backtests one series on the fleet's common cutoffs (so that scores compare
across series), then fits the recommended model and the seasonal-naive baseline on the
whole history. Both happen in the same worker process on purpose: the ensemble's
interval calibration refits its members on the windows before the data's end, which are
exactly the backtest's windows, and the per-process forecast cache
(models.FORECAST_CACHE) turns those refits into look-ups. Workers start with the spawn
method (fork hangs once Prophet has run in the parent, see DOMAIN.md section 3).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass

import polars as pl
from sklearn.base import clone

from forecasting._frame import DATE, SERIES, ForecastInputError
from forecasting.backtest import BASELINE, RECOMMENDED, backtest, rolling_cutoffs
from forecasting.models import OUTPUT_COLUMNS, BaseForecaster, default_models
from forecasting.pool import plain_main, spawn_pool
from forecasting.series import FleetSeries, history_summary

BACKTEST_COLUMNS = ("n", "mase", "smape", "coverage_80", "coverage_95", "width_95")
FORECAST_SCHEMA = {
    SERIES: pl.String,
    DATE: pl.Date,
    "model": pl.String,
    "recommended": pl.Boolean,
    "closed": pl.Boolean,
    **{name: pl.Float64 for name in OUTPUT_COLUMNS},
}
BACKTEST_SCHEMA = {
    SERIES: pl.String,
    "model": pl.String,
    "step": pl.Int16,
    "n": pl.Int32,
    **{name: pl.Float64 for name in BACKTEST_COLUMNS[1:]},
    "recommended": pl.Boolean,
}


@dataclass(frozen=True)
class SeriesOutcome:
    """What one task learned about one series (picklable, returned by workers).

    recommended: the model whose forecast is recommended; mase, baseline_mase: their
    backtest MASE (None when the series could not be backtested, see note).
    """

    series_id: str
    recommended: str
    mase: float | None
    baseline_mase: float | None
    forecasts: pl.DataFrame
    backtests: pl.DataFrame
    seconds: float
    note: str | None = None


@dataclass(frozen=True)
class FleetResult:
    """A whole run, ready to store (forecasting.store.store_run).

    series: catalog (series_id, kind, member, department_id, label), history summary
        (first_day, last_day, open_days, closed_days, gap_days), recommended_model, mase,
        baseline_mase, seconds (this series' task), note.
    forecasts: FORECAST_SCHEMA rows, `horizon` days after each series' last day.
    backtests: BACKTEST_SCHEMA rows (step 0: over all steps).
    skipped: series_id, reason: series too short to forecast at all.
    """

    series: pl.DataFrame
    forecasts: pl.DataFrame
    backtests: pl.DataFrame
    skipped: pl.DataFrame
    cutoffs: list[dt.date]
    data_end: dt.date
    horizon: int
    models: list[str]
    holidays: str | None
    jobs: int
    seconds: float


def fleet_models(country: str | None, subdivision: str | None = None) -> dict[str, BaseForecaster]:
    """The candidates every series is backtested with: default_models(country, subdivision)."""
    return default_models(country, subdivision)


def forecast_one_series(
    values: pl.DataFrame,
    closed_days: pl.DataFrame,
    models: dict[str, BaseForecaster],
    cutoffs: list[dt.date],
    horizon: int,
) -> SeriesOutcome:
    """Backtest one series, then forecast it with its recommended model and the baseline.

    values, closed_days: canonical frames of ONE series (series_id, ds, y) and (series_id,
    ds). A series too short for any cutoff is not backtested and gets the baseline
    (note says why). Raises ForecastInputError when it is too short even for that.
    """
    started = time.perf_counter()
    series_id = values[SERIES][0]
    note = None
    try:
        result = backtest(values, models, cutoffs=cutoffs, horizon=horizon, closed_days=closed_days, freq="D")
    except ForecastInputError as error:
        result = None
        note = f"not backtested, forecast with {BASELINE}: {error}"
    if result is not None and result.recommended.height:
        chosen = result.recommended.row(0, named=True)
        recommended, mase, baseline_mase = chosen["model"], chosen["mase"], chosen["baseline_mase"]
        backtests = _backtest_rows(result.per_horizon, result.overall, recommended)
    else:
        recommended, mase, baseline_mase = BASELINE, None, None
        backtests = pl.DataFrame(schema=BACKTEST_SCHEMA)
    parts = []
    for name in dict.fromkeys([recommended, BASELINE]):
        forecast = clone(models[name]).fit(values, closed_days).predict(horizon)
        parts.append(
            forecast.with_columns(
                pl.lit(name).alias("model"), pl.lit(name == recommended).alias("recommended")
            )
        )
    closed = closed_days.select(SERIES, DATE, pl.lit(True).alias("closed"))
    forecasts = (
        pl.concat(parts)
        .join(closed, on=[SERIES, DATE], how="left")
        .with_columns(pl.col("closed").fill_null(False))
        .select(list(FORECAST_SCHEMA))
        .cast(FORECAST_SCHEMA)  # type: ignore[arg-type]
    )
    return SeriesOutcome(
        series_id,
        recommended,
        mase,
        baseline_mase,
        forecasts,
        backtests,
        time.perf_counter() - started,
        note,
    )


def _backtest_rows(per_horizon: pl.DataFrame, overall: pl.DataFrame, recommended: str) -> pl.DataFrame:
    """Backtest scores in BACKTEST_SCHEMA: real models only, step 0 for the overall row."""
    rows = pl.concat(
        [
            overall.with_columns(pl.lit(0).alias("step")).select(SERIES, "model", "step", *BACKTEST_COLUMNS),
            per_horizon.select(SERIES, "model", "step", *BACKTEST_COLUMNS),
        ],
        how="vertical_relaxed",
    ).filter(pl.col("model") != RECOMMENDED)
    return (
        rows.with_columns((pl.col("model") == recommended).alias("recommended"))
        .cast(BACKTEST_SCHEMA)  # type: ignore[arg-type]
        .sort("model", "step")
    )


def _one_task(
    values: pl.DataFrame,
    closed_days: pl.DataFrame,
    models: dict[str, BaseForecaster],
    cutoffs: list[dt.date],
    horizon: int,
) -> SeriesOutcome | tuple[str, str]:
    """forecast_one_series, or (series_id, reason) when the series is too short for any model."""
    try:
        return forecast_one_series(values, closed_days, models, cutoffs, horizon)
    except ForecastInputError as error:
        return values[SERIES][0], str(error)


def _progress(total: int, enabled: bool):  # noqa: ANN202 - tqdm's type is optional at runtime
    """A tqdm bar on stderr; off when disabled or when stderr is not a terminal (logs)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="forecasting",
        unit="series",
        disable=None if enabled else True,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _run_tasks(
    tasks: list[tuple[pl.DataFrame, pl.DataFrame]],
    models: dict[str, BaseForecaster],
    cutoffs: list[dt.date],
    horizon: int,
    jobs: int,
) -> Iterator[SeriesOutcome | tuple[str, str]]:
    """Outcomes as they complete: in-process for jobs == 1, else a spawn process pool."""
    if jobs == 1:
        for values, closed in tasks:
            try:
                yield _one_task(values, closed, models, cutoffs, horizon)
            except Exception as error:
                raise RuntimeError(f"forecasting series {values[SERIES][0]!r} failed: {error}") from error
        return
    # One worker per core runs one Prophet fit at a time; let neither Polars nor BLAS
    # start a thread per core in each worker on top (children inherit the environment).
    saved = {name: os.environ.get(name) for name in _SINGLE_THREAD}
    os.environ.update(_SINGLE_THREAD)
    pool = spawn_pool(jobs)
    try:
        with plain_main():  # the workers are started as the tasks are submitted
            futures = {
                pool.submit(_one_task, values, closed, models, cutoffs, horizon): values[SERIES][0]
                for values, closed in tasks
            }
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:
                raise RuntimeError(f"forecasting series {futures[future]!r} failed: {error}") from error
    finally:
        # on an error or an interrupt, queued series are dropped instead of run to the end
        pool.shutdown(wait=True, cancel_futures=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_SINGLE_THREAD = {
    "POLARS_MAX_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def run_fleet(
    fleet: FleetSeries,
    *,
    horizon: int = 28,
    cutoffs: int | Sequence[dt.date] = 4,
    jobs: int = 2,
    country: str | None = None,
    subdivision: str | None = None,
    models: dict[str, BaseForecaster] | None = None,
    progress: bool = False,
) -> FleetResult:
    """Backtest and forecast every series of `fleet`; nothing is stored here.

    horizon: days forecast (and per backtest window). cutoffs: how many rolling origins
    (the last non-overlapping `horizon`-day windows ending at fleet.data_end, the same
    for every series) or their first days. jobs: worker processes (1: in this process).
    country/subdivision: the public-holiday calendar of the models (closed days come
    from the database either way). models: candidates (default fleet_models(...)); must
    include seasonal_naive. progress: a progress bar on stderr.
    """
    started = time.perf_counter()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ForecastInputError(f"jobs must be a whole number >= 1, got {jobs!r}.")
    models = dict(models) if models is not None else fleet_models(country, subdivision)
    if BASELINE not in models:
        raise ForecastInputError(f"models must include the baseline {BASELINE!r}.")
    cutoff_days = (
        rolling_cutoffs(fleet.data_end, cutoffs, horizon)
        if isinstance(cutoffs, int)
        else sorted(cutoffs)
    )
    values_of = {k[0]: part for k, part in fleet.values.partition_by(SERIES, as_dict=True).items()}
    closed_of = {k[0]: part for k, part in fleet.closed_days.partition_by(SERIES, as_dict=True).items()}
    empty_closed = fleet.closed_days.clear()
    # longest histories first, so that no long task starts last and runs alone
    order = sorted(values_of, key=lambda sid: -values_of[sid].height)
    tasks = [(values_of[sid], closed_of.get(sid, empty_closed)) for sid in order]
    outcomes: list[SeriesOutcome] = []
    skipped: list[tuple[str, str]] = []
    with _progress(len(tasks), progress) as bar:
        for outcome in _run_tasks(tasks, models, cutoff_days, horizon, min(jobs, max(len(tasks), 1))):
            if isinstance(outcome, SeriesOutcome):
                outcomes.append(outcome)
            else:
                skipped.append(outcome)
            bar.update(1)
    summary = pl.DataFrame(
        [
            (o.series_id, o.recommended, o.mase, o.baseline_mase, o.seconds, o.note)
            for o in outcomes
        ],
        schema={
            SERIES: pl.String,
            "recommended_model": pl.String,
            "mase": pl.Float64,
            "baseline_mase": pl.Float64,
            "seconds": pl.Float64,
            "note": pl.String,
        },
        orient="row",
    )
    series = (
        fleet.catalog.join(history_summary(fleet), on=SERIES)
        .join(summary, on=SERIES)  # inner: skipped series have no forecast to show
    )
    holidays = f"{country}/{subdivision}" if country and subdivision else country
    return FleetResult(
        series=series,
        forecasts=_concat([o.forecasts for o in outcomes], FORECAST_SCHEMA).sort(SERIES, "model", DATE),
        backtests=_concat([o.backtests for o in outcomes], BACKTEST_SCHEMA).sort(SERIES, "model", "step"),
        skipped=pl.DataFrame(skipped, schema={SERIES: pl.String, "reason": pl.String}, orient="row"),
        cutoffs=cutoff_days,
        data_end=fleet.data_end,
        horizon=horizon,
        models=list(models),
        holidays=holidays,
        jobs=jobs,
        seconds=time.perf_counter() - started,
    )


def _concat(frames: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def accuracy_summary(result: FleetResult) -> pl.DataFrame:
    """Per recommended model: series, median MASE of the recommendation and of the baseline.

    A last row "all" covers every backtested series. MASE below 1 beats the in-sample
    seasonal naive; the recommendation never scores worse than the baseline.
    """
    scored = result.series.filter(pl.col("mase").is_not_null())
    aggregate = [
        pl.len().alias("series"),
        pl.col("mase").median().alias("median_mase"),
        pl.col("baseline_mase").median().alias("median_baseline_mase"),
        (pl.col("mase") < pl.col("baseline_mase")).sum().alias("beats_baseline"),
    ]
    by_model = scored.group_by(pl.col("recommended_model").alias("model")).agg(aggregate).sort(
        "series", "model", descending=[True, False]
    )
    overall = scored.select(pl.lit("all").alias("model"), *aggregate)
    return pl.concat([by_model, overall], how="vertical_relaxed")


__all__ = [
    "BACKTEST_SCHEMA",
    "FORECAST_SCHEMA",
    "FleetResult",
    "SeriesOutcome",
    "accuracy_summary",
    "fleet_models",
    "forecast_one_series",
    "run_fleet",
]
