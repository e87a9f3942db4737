"""Flags on KPI series: a seasonal one-step-ahead forecast with a wide interval, a
weekday-adjusted robust z-score, persistence rules, and IsolationForest over a day's KPIs.

Pure functions from long frames to frames (no I/O). A *series* is one KPI of one scope
at one grain (day or ISO week): ``grain, scope_kind, scope_id, kpi``; WATCHED says which
KPIs are watched for which scope and grain. For every period of a series the detector
computes, from earlier periods only:

- ``expected``: the median of the same weekday over the last 8 weeks (weekly series: of
  the last 8 weeks), adjusted by the same-period behaviour of a year earlier: how far the
  series then stood above or below that same median (364 days / 52 weeks back, smoothed
  over a week / three weeks, and shrunk towards nothing by twice its own noise). Known
  peaks (a January tax rush, a spring passport rush) are in last year's behaviour, so
  they are expected rather than flagged once a year of history exists.
- ``scale``: the noise of the period: the sampling noise of its observations (binomial
  for rates, Poisson for counts, size / sqrt(n) for means, medians and percentiles),
  times the spread of the series' recent Pearson residuals when above 1: the larger of
  1.4826 x their MAD over 8 weeks and their 99th percentile over a year / 2.576 (heavy
  tails: a queue that overflows now and then); never below the smallest meaningful
  change of the unit. A zero or near-zero baseline therefore still has a scale and can
  flag (no percent-change rule).
- ``z`` = (value - expected) / scale: a weekday-adjusted robust z-score; the wide
  forecast interval is expected +- ``interval_z`` scales.

A flag opens, in a direction that matters for the KPI (the worse one; both for volumes,
net flow, handle time and cost per transaction), when

- ``robust_z``: z reaches ``z_alone``; or z reaches ``z_threshold`` and a KPI of another
  family of the same scope and period is off by ``support_z`` or more (corroboration:
  KPIs of one family, like a queue's abandonment and service level, move together by
  construction and do not corroborate each other);
- ``forecast_interval``: the value lies outside the wide interval on ``persistence``
  consecutive scored periods;
- ``sustained_shift`` (back-office flows only): a one-sided CUSUM of z (the excess over
  ``cusum_k`` summed over consecutive periods) reaches ``cusum_h``: a smaller shift that
  lasts, as when a back office works at a fraction of its capacity;
- ``level_shift`` (an analyst's CSV, ``shift_z``; off on the dashboard's series): a step,
  the mean standardised residual of the last 3 to 14 periods against that of the 21
  before them (``level_shifts``), at ``shift_z`` standard errors; the flag starts at the
  step's first period past half of it, and a flag that closed inside the step reopens.
  Judged against the level just before the step, a slow seasonal drift (which the
  same-weekday median lags) cancels; the series' return from a flag of the other
  direction is not a shift of its own.

Counter queues overflow for a day now and then (staff are rostered from expected
demand): their waits flag alone only at ``family_z_alone['counter']``, or on two days
running. A flag stays open (no new flag: no flapping) until the series has been back
inside ``reset_z`` scales for ``reset_periods`` scored periods: a level shift is flagged
once, when it starts, while the same-weekday median catches up with the new level.

Detection runs twice: the second pass leaves the periods flagged by the first out of
the noise (an anomaly is not noise), so one incident does not hide the next.

Public holidays and the day after one (from ``office_closures``) are known days: neither
scored nor used as history. Days a scope is always closed (Sundays at a service centre)
have a same-weekday history of zeros or gaps and so expect nothing. A series is scored
after a warm-up (13 weeks of days, 26 weeks of weeks), and a period with fewer than
``MIN_OBSERVATIONS`` observations behind a rate, mean, median or percentile is not.

IsolationForest (scikit-learn, seeded) looks at the vector of a day's KPI z-scores for a
scope; a day is flagged as odd in combination when its isolation score is among the
most extreme (``isolation_quantile``) and at least ``isolation_min_kpis`` KPIs are each
worse by ``isolation_kpi_z`` or more, without any single-KPI flag of the scope that day.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from forecasting.series_id import SCOPE_KINDS as SCOPE_ID_KINDS
from metrics.registry import METRICS, Aggregation, Direction

DETECTORS = ("robust_z", "forecast_interval", "sustained_shift", "level_shift", "isolation_forest")
GRAINS = ("day", "week")
SCOPE_KINDS = SCOPE_ID_KINDS  # the kinds of forecasting.series_id's anomaly scopes
SCOPE_DIMENSION = {"department": "department_id", "service": "service_id", "office": "office_id", "channel": "channel"}
MAD_TO_SD = 1.4826
# Smallest change worth a flag, per unit: a floor under the noise scale.
MIN_CHANGE = {"count": 1.0, "%": 1.0, "days": 0.5, "minutes": 0.5, "seconds": 2.0, "£": 1.0}
# Fewer observations than this behind a rate, mean, median or percentile: not scored.
MIN_OBSERVATIONS = 20

# Where each KPI is watched. Demand and digital measures everywhere. The back office's
# measures where a back office answers for them (a service, its department, the total:
# offices and channels only pass cases on); its stocks and lagging measures (backlogs,
# ages, processing times, on-time rate) weekly only: they move slowly and every public
# holiday leaves a queue in them for days. Queues where they form (offices, the phone
# and in-person channels, the total); their skewed tails (90th percentile of waits,
# average speed of answer) weekly only.
DEMAND_KPIS = ("volume", "digital_take_up", "completion_rate", "satisfaction", "satisfaction_index")
BACK_OFFICE_FLOWS = ("net_flow", "cost_per_transaction")
BACK_OFFICE_STOCKS = ("backlog", "backlog_overdue", "backlog_age_median", "processing_time_median", "processing_time_p90", "on_time_rate")
QUEUE_KPIS = ("wait_time_median", "wait_within_target", "service_level", "abandonment_rate", "aht")
QUEUE_TAILS = ("wait_time_p90", "asa")
BACK_OFFICE_KPIS = BACK_OFFICE_FLOWS + BACK_OFFICE_STOCKS
_DAILY = {
    "total": DEMAND_KPIS + BACK_OFFICE_FLOWS + QUEUE_KPIS,
    "department": DEMAND_KPIS + BACK_OFFICE_FLOWS,
    "service": DEMAND_KPIS + BACK_OFFICE_FLOWS,
    "office": DEMAND_KPIS + QUEUE_KPIS,
    "channel": DEMAND_KPIS + QUEUE_KPIS,
}
WATCHED: dict[str, dict[str, tuple[str, ...]]] = {
    "day": _DAILY,
    "week": {
        "total": _DAILY["total"] + BACK_OFFICE_STOCKS + QUEUE_TAILS,
        "department": _DAILY["department"] + BACK_OFFICE_STOCKS,
        "service": _DAILY["service"] + BACK_OFFICE_STOCKS,
        "office": _DAILY["office"] + QUEUE_TAILS,
        "channel": _DAILY["channel"] + QUEUE_TAILS,
    },
}

# Families of KPIs that move together by construction (a queue that overflows raises its
# abandonment and lowers its service level at once): corroboration must come from
# another family.
FAMILY = {
    "volume": "demand", "digital_take_up": "demand", "completion_rate": "journeys",
    "satisfaction": "ratings", "satisfaction_index": "ratings",
    "net_flow": "back_office", "cost_per_transaction": "back_office", "backlog": "back_office",
    "backlog_overdue": "back_office", "backlog_age_median": "back_office", "processing_time_median": "back_office",
    "processing_time_p90": "back_office", "on_time_rate": "back_office",
    "service_level": "phone", "abandonment_rate": "phone", "asa": "phone", "aht": "phone",
    "wait_time_median": "counter", "wait_time_p90": "counter", "wait_within_target": "counter",
}
# Watched both ways although one way is better: a sudden fall in cost per case means the
# paid back-office hours fell, which comes before a backlog.
BOTH_WAYS = ("cost_per_transaction",)

SERIES_KEYS = ("grain", "scope_kind", "scope_id", "kpi")
VALUE_SCHEMA = {
    "grain": pl.String, "scope_kind": pl.String, "scope_id": pl.String, "kpi": pl.String,
    "period_start": pl.Date, "value": pl.Float64, "n": pl.Int64,
}
SCORE_SCHEMA = {
    **VALUE_SCHEMA, "expected": pl.Float64, "scale": pl.Float64, "z": pl.Float64, "scored": pl.Boolean,
    "worse": pl.Float64, "support": pl.Int64,
}
FLAG_SCHEMA = {
    "grain": pl.String, "scope_kind": pl.String, "scope_id": pl.String, "kpi": pl.String,
    "detector": pl.String, "direction": pl.String, "first_day": pl.Date, "detected_on": pl.Date,
    "last_day": pl.Date, "value": pl.Float64, "expected": pl.Float64, "lower": pl.Float64,
    "upper": pl.Float64, "score": pl.Float64, "kpis": pl.String,
    "scale": pl.Float64,  # the noise scale the first period was judged with (not stored: (upper - lower) / 2 interval_z)
    # The period that closed the flag (back inside reset_z for reset_periods); None: still
    # outside since first_day. Not stored: derived from last_day and the run's data_end.
    "recovered_on": pl.Date,
}


@dataclass(frozen=True)
class GrainSettings:
    """The detector's windows for one grain (day or week)."""

    season: int  # periods between the same weekday (7 days) or 1 (weeks)
    year: int  # periods back to the same period last year (364 days, 52 weeks)
    smooth: int  # half-width of the year-ago smoothing window, in periods
    baseline: int = 8  # same-weekday values behind the median
    min_baseline: int = 4  # fewer known values than this: not scored
    scale_window: int = 56  # recent periods behind the noise scale
    min_scale: int = 14  # fewer residuals than this: not scored
    tail_window: int = 364  # recent periods behind the tail scale
    warm_up: int = 91  # periods of history before the first scored one


@dataclass(frozen=True)
class DetectionSettings:
    """Thresholds and windows (defaults measured in bench/anomaly_quality.py)."""

    z_alone: float = 6.0  # a single period this far out flags on its own
    z_threshold: float = 5.0  # ... this far out flags with a corroborating KPI
    support_z: float = 3.0  # what counts as a corroborating KPI
    interval_z: float = 3.0  # half-width of the wide interval, in scales
    persistence: int = 3  # consecutive periods outside the interval
    mask_year_ago: bool = False  # second pass: leave flagged periods out of the year-ago adjustment
    mask_noise: bool = True  # second pass: leave flagged periods out of the noise
    # Per family: a counter queue that overflows for a day is common (staff are rostered
    # from expected demand): alone it needs a larger z, or two days running.
    family_z_alone: dict[str, float] = field(default_factory=lambda: {"counter": 12.0})
    family_persistence: dict[str, int] = field(default_factory=lambda: {"counter": 2})
    # The sustained-shift rule (CUSUM) runs on the back office's flows only: a cut in
    # capacity shows there as days of moderately high net flow; elsewhere slow drifts
    # (a season that comes earlier than last year's) would raise it.
    cusum_families: tuple[str, ...] = ("back_office",)
    cusum_k: float = 1.0  # sustained shift: z in excess of this accumulates ...
    cusum_h: float = 8.0  # ... and flags when the sum reaches this (a one-sided CUSUM)
    reset_z: float = 2.0  # back inside this many scales ...
    reset_periods: int = 3  # ... for this many scored periods closes a flag
    year_ago: bool = True  # use last year's same-period behaviour when there is one
    ratio_clip: float = 3.0  # year-ago ratios kept within [1/clip, clip]
    year_ago_shrink: float = 2.0  # year-ago standing shrunk by this many of its standard errors
    tail_quantile: float = 0.99  # the tail scale: this quantile of recent |residuals| / its normal value
    # Kinds whose scale also follows the year's tail of residuals (queues overflow now and then).
    # Counts too on the dashboard's series (measured: without, precision on the generated
    # world fell from 70% to 52%); an analyst's CSV (anomalies.own) leaves counts out.
    tail_kinds: tuple[str, ...] = ("rate", "ratio", "quantile", "level", "count", "difference")
    mask_z: float = 4.0  # residuals this many spreads out are masked before the spread is estimated again ...
    scale_rounds: int = 3  # ... in this many rounds (flag, mask, re-estimate)
    # A lone period of a busy count (expected at least busy_count) at or under
    # collapse_share of its expected value flags whatever its noise scale: a day when
    # most callers could not get through is an anomaly however noisy the series was.
    # Off on the dashboard's series (busy_count inf: on the generated world it lowered
    # precision from 70% to 62%); on for an analyst's CSV (anomalies.own.CSV_SETTINGS).
    collapse_share: float = 0.5
    busy_count: float = float("inf")
    # ... and a smaller fall, to fall_share of the expected value or less, when it is
    # also fall_z robust noise scales below it (a noisy series' usual swings are not).
    fall_share: float = 0.0
    fall_z: float = 2.5
    # While a flag is open, judge the series against its level before the flag started
    # (see Reference): a sustained failure stays open instead of becoming the new normal.
    # Off by default: when the periods before a flag were themselves unusual (the end of
    # a seasonal rush) the flag never closed (issue 16 item 2 is not finished).
    judge_against_before: bool = False
    # The level-shift test (see ``level_shifts``): the mean standardised residual of the
    # last shift_min_periods to shift_max_periods scored periods against that of the
    # shift_before periods before them; it opens a flag at the estimated start of a step
    # when the difference is shift_z of its standard errors and at least shift_min
    # residual spreads. Off (shift_z inf) on the dashboard's series; on for an analyst's CSV.
    shift_z: float = float("inf")
    shift_min: float = 1.0
    shift_min_periods: int = 3
    shift_max_periods: int = 14
    shift_before: int = 21
    directions: str = "adverse"  # "adverse": only the worse direction of KPIs that have one; "both"
    isolation: bool = True
    isolation_quantile: float = 0.002  # share of a scope's days the forest may call odd
    isolation_kpi_z: float = 3.0
    isolation_min_kpis: int = 3
    isolation_trees: int = 200
    seed: int = 0
    day: GrainSettings = field(default_factory=lambda: GrainSettings(season=7, year=364, smooth=3))
    week: GrainSettings = field(default_factory=lambda: GrainSettings(season=1, year=52, smooth=1, scale_window=26, min_scale=10, tail_window=52, warm_up=26))

    def grain(self, grain: str) -> GrainSettings:
        return self.day if grain == "day" else self.week


# --------------------------------------------------------------------------- KPI kinds


def kpi_kind(kpi: str) -> str:
    """'rate' (binomial noise), 'count' (Poisson), 'difference' (Poisson, additive),
    'ratio' (a mean of n values) or 'quantile' (a median or percentile of n values).
    ('level', an additive measure with no sampling model, is for an analyst's series.)"""
    metric = METRICS[kpi]
    if metric.unit == "%":
        return "rate"
    if metric.aggregation == Aggregation.COUNT:
        return "count"
    if metric.aggregation == Aggregation.DIFFERENCE:
        return "difference"
    if metric.aggregation == Aggregation.RATIO:
        return "ratio"
    return "quantile"


def adverse_signs(kpi: str, directions: str = "adverse") -> tuple[int, ...]:
    """The directions (+1 up, -1 down) that may flag for this KPI: the worse one, or
    both for KPIs without a better direction (volumes, net flow, handle time)."""
    better = METRICS[kpi].better
    if directions == "both" or better == Direction.CONTEXT or kpi in BOTH_WAYS:
        return (1, -1)
    return (-1,) if better == Direction.HIGHER else (1,)


def worse_sign(kpi: str) -> float:
    """+1 when up is worse, -1 when down is worse, 0 for context KPIs."""
    better = METRICS[kpi].better
    return 1.0 if better == Direction.LOWER else -1.0 if better == Direction.HIGHER else 0.0


def is_watched(grain: str, scope_kind: str, kpi: str) -> bool:
    return kpi in WATCHED.get(grain, {}).get(scope_kind, ())


def watched(values: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``values`` whose series are watched (see WATCHED)."""
    pairs = pl.DataFrame(
        [(grain, kind, kpi) for grain, kinds in WATCHED.items() for kind, kpis in kinds.items() for kpi in kpis],
        schema={"grain": pl.String, "scope_kind": pl.String, "kpi": pl.String}, orient="row",
    )
    return values.join(pairs, on=["grain", "scope_kind", "kpi"], how="semi")


# --------------------------------------------------------------------------- arrays


def _lagged(values: np.ndarray, lags: Sequence[int]) -> np.ndarray:
    """(T, len(lags)) matrix of values[t - lag] (NaN before the start)."""
    out = np.full((values.size, len(lags)), np.nan)
    for j, lag in enumerate(lags):
        if lag < values.size:
            out[lag:, j] = values[: values.size - lag]
    return out


def _nanmedian_rows(matrix: np.ndarray, minimum: int) -> np.ndarray:
    counts = np.sum(~np.isnan(matrix), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(matrix, axis=1)
    return np.where(counts >= minimum, medians, np.nan)


def _trailing_window(values: np.ndarray, width: int) -> np.ndarray:
    """(T, width) matrix of values[t - width .. t - 1] (strictly before t)."""
    padded = np.concatenate([np.full(width, np.nan), values])
    return np.lib.stride_tricks.sliding_window_view(padded, width)[: values.size]


def _trailing_quantile(values: np.ndarray, width: int, quantile: float, minimum: int, every: int = 7) -> np.ndarray:
    """The quantile of values[t - width .. t - 1], computed every ``every`` periods and
    carried to the next ones (a tail moves slowly; this keeps it cheap). NaN with fewer
    than ``minimum`` values."""
    window = _trailing_window(values, width)
    picked = np.arange(0, values.size, every)
    counts = np.sum(~np.isnan(window[picked]), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = np.nanquantile(window[picked], quantile, axis=1)
    found = np.where(counts >= minimum, found, np.nan)
    return np.repeat(found, every)[: values.size]


def _normal_quantile(quantile: float) -> float:
    """The normal distribution's two-sided quantile: 1.96 for 0.95."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + quantile / 2)


def _centred_window(values: np.ndarray, half: int) -> np.ndarray:
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)


@dataclass(frozen=True)
class SeriesScores:
    expected: np.ndarray
    scale: np.ndarray
    z: np.ndarray
    scored: np.ndarray


def score_series(
    values: np.ndarray,
    n: np.ndarray,
    known: np.ndarray,
    kind: str,
    unit: str,
    grain: GrainSettings,
    settings: DetectionSettings,
    *,
    unusual: np.ndarray | None = None,
) -> SeriesScores:
    """Expected value, noise scale and z-score of every period of one series.

    values: the KPI per consecutive period (NaN: no value); n: its observations;
    known: periods known to differ (public holidays): neither scored nor used as history;
    unusual: periods already flagged: left out of the year-ago adjustment (last year's
    incident is not expected to come back) and of the noise (an anomaly is not noise). Every statistic of period t uses
    periods before t only (the year-ago window ends ``year - smooth`` periods back).
    """
    y = np.where(known, np.nan, values.astype(float))
    observations = np.maximum(np.nan_to_num(n.astype(float), nan=0.0), 1.0)
    multiplicative = kind in ("count", "ratio", "quantile")
    lags = [grain.season * (j + 1) for j in range(grain.baseline)]
    base = _nanmedian_rows(_lagged(y, lags), grain.min_baseline)

    # The year-ago behaviour: how far the series stood from its own baseline then.
    if multiplicative:
        with np.errstate(divide="ignore", invalid="ignore"):
            standing = np.where(base > 0, y / base, np.nan)
    else:
        standing = y - base
    if unusual is not None and settings.mask_year_ago:
        standing = np.where(unusual, np.nan, standing)
    seasonal = np.full(y.size, 1.0 if multiplicative else 0.0)
    if settings.year_ago and y.size > grain.year:
        # The smoothed standing a year ago, shrunk towards none by twice its own noise:
        # a real seasonal peak stands far out, day-to-day noise does not.
        if multiplicative:
            with np.errstate(divide="ignore"):
                standing = np.log(standing)
        smoothed = _nanmedian_rows(_centred_window(standing, grain.smooth), grain.smooth + 1)
        recent = _trailing_window(standing, grain.scale_window)
        noise = _nanmedian_rows(np.abs(recent - _nanmedian_rows(recent, grain.min_scale)[:, None]), grain.min_scale) * MAD_TO_SD
        noise = 1.25 * noise / np.sqrt(2 * grain.smooth + 1)
        shrunk = np.sign(smoothed) * np.fmax(np.abs(smoothed) - settings.year_ago_shrink * noise, 0.0)
        year_ago = np.full(y.size, np.nan)
        year_ago[grain.year:] = shrunk[: y.size - grain.year]
        if multiplicative:
            year_ago = np.exp(np.clip(year_ago, -np.log(settings.ratio_clip), np.log(settings.ratio_clip)))
        seasonal = np.where(np.isnan(year_ago), seasonal, year_ago)
    expected = base * seasonal if multiplicative else base + seasonal
    if unit == "%":
        expected = np.clip(expected, 0.0, 100.0)
    elif kind != "difference":
        expected = np.maximum(expected, 0.0)

    # Noise: Pearson residuals (error over the sampling noise of the period's
    # observations), scaled by their robust spread over the recent past when that is
    # above 1 (a series is at least as noisy as sampling makes it).
    sampling = _sampling_noise(expected, observations, kind)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = (y - expected) / sampling
    masked = unusual is not None and settings.mask_noise
    outliers = unusual.copy() if masked else np.zeros(y.size, dtype=bool)  # an anomaly is not noise
    spread = _robust_spread(pearson, outliers, grain, settings, tails=kind in settings.tail_kinds)
    scale = np.fmax(sampling * np.fmax(spread, 1.0), MIN_CHANGE.get(unit, 1e-9))
    enough = np.ones(y.size, dtype=bool) if kind in ("count", "difference", "level") else observations >= MIN_OBSERVATIONS
    scored = ~np.isnan(y) & ~np.isnan(expected) & ~np.isnan(spread) & enough
    scored[: grain.warm_up] = False
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scored, (y - expected) / scale, np.nan)
    return SeriesScores(expected, scale, z, scored)


def _robust_spread(pearson: np.ndarray, outliers: np.ndarray, grain: GrainSettings, settings: DetectionSettings, *, tails: bool) -> np.ndarray:
    """The spread of the Pearson residuals behind each period (strictly earlier ones),
    which past shocks cannot inflate: flag, mask, re-estimate.

    Each round takes 1.4826 x the MAD of the last ``scale_window`` residuals not masked
    yet and, with ``tails`` (rates, means, medians: a queue that overflows now and then),
    at least the year's ``tail_quantile`` of them over its normal value; then every
    residual more than ``mask_z`` of those spreads (at least 1: sampling noise) from the
    centre is masked, and the next round estimates again without them. A residual is
    judged by the spread of the periods before it, so the result still uses earlier
    periods only. ``outliers``: periods masked from the start (already flagged).
    """
    mask = outliers.copy()
    spread = np.full(pearson.size, np.nan)
    for _round in range(settings.scale_rounds):
        history = np.where(mask, np.nan, pearson)
        window = _trailing_window(history, grain.scale_window)
        centre = _nanmedian_rows(window, grain.min_scale)
        spread = _nanmedian_rows(np.abs(window - centre[:, None]), grain.min_scale) * MAD_TO_SD
        if tails:
            tail = _trailing_quantile(np.abs(history), grain.tail_window, settings.tail_quantile, grain.min_scale * 2, grain.season)
            spread = np.fmax(spread, tail / _normal_quantile(settings.tail_quantile))
        with np.errstate(invalid="ignore"):
            mask = outliers | (np.abs(pearson - centre) > settings.mask_z * np.fmax(spread, 1.0))
    return spread


def _sampling_noise(expected: np.ndarray, observations: np.ndarray, kind: str) -> np.ndarray:
    """The standard deviation sampling alone gives a period with this many observations:
    binomial for rates, Poisson for counts and differences, and for means, medians and
    percentiles of skewed durations about their own size over sqrt(n)."""
    base = np.nan_to_num(expected, nan=0.0)
    if kind == "rate":
        share = np.clip(base / 100.0, 0.01, 0.99)
        return 100.0 * np.sqrt(share * (1 - share) / observations)
    if kind == "count":
        return np.sqrt(np.maximum(base, 0.0) + 1.0)
    if kind == "difference":
        return np.sqrt(observations + 1.0)
    if kind == "level":
        return np.full(base.shape, 1e-9)
    return np.maximum(np.abs(base), 1e-9) / np.sqrt(observations)


# --------------------------------------------------------------------------- level shifts


def shift_residuals(values: np.ndarray, expected: np.ndarray, z: np.ndarray, scored: np.ndarray, kind: str, grain: GrainSettings) -> np.ndarray:
    """The standardised residuals the level-shift test reads: for counts
    (y - e) / sqrt(e + 1 + (c e)^2), with c the relative noise beyond Poisson, from the
    robust spread (1.4826 x MAD) of the relative residuals (y - e) / e of the last
    ``scale_window`` scored periods less their Poisson part; for other kinds the z-score.

    A busy count's days vary by a share of their level (Boston 311: 13-22% on every
    weekday), which a Poisson scale times one spread overstates on quiet days and
    understates on busy ones; a shift moves every day by the same share, so it is read
    against that share. Every period with a value and an expected value has one (the
    warm-up too: history before a step); ``values`` must hold NaN on known days. Uses
    earlier periods only."""
    if kind != "count":
        return np.where(scored, z, np.nan)
    e = np.where(np.isfinite(values), expected, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(e > 0, (values - e) / e, np.nan)
        poisson = np.where(e > 0, 1.0 / (e + 1.0), np.nan)
    window = _trailing_window(relative, grain.scale_window)
    centre = _nanmedian_rows(window, grain.min_scale)
    spread = _nanmedian_rows(np.abs(window - centre[:, None]), grain.min_scale) * MAD_TO_SD
    extra = np.fmax(spread**2 - _nanmedian_rows(_trailing_window(poisson, grain.scale_window), grain.min_scale), 0.0)
    with np.errstate(invalid="ignore"):
        return (values - expected) / np.sqrt(np.maximum(expected, 0.0) + 1.0 + extra * expected**2)


def level_shifts(residuals: np.ndarray, scored: np.ndarray, settings: DetectionSettings) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each sign (+1 up, -1 down) and period t: the strongest step ending at t and the
    period it starts at, as (statistic, start) arrays (NaN and -1 where none).

    Over scored periods only, residuals clipped to +-4 (one spike cannot make a step): for
    every start s with shift_min_periods to shift_max_periods periods s..t, D = mean(s..t)
    - mean of the shift_before periods before s, judged by its standard error
    sigma sqrt(1/n_after + 1/n_before), sigma the robust spread of the 56 periods before s
    (at least 1). A step counts when sign x D is at least shift_min sigma; its statistic
    is sign x D over the standard error. Against the level just before the step, not the
    seasonal expected value alone: a slow seasonal drift, which the same-weekday median
    lags, is in both means and cancels."""
    size = residuals.size
    out = {sign: (np.full(size, np.nan), np.full(size, -1, dtype=int)) for sign in (1, -1)}
    positions = np.flatnonzero(np.isfinite(residuals))  # unscored history (the warm-up) may stand before a step
    v = np.clip(residuals[positions], -4.0, 4.0)
    if v.size < settings.shift_before + settings.shift_min_periods:
        return out
    prefix = np.concatenate([[0.0], np.cumsum(v)])
    window = _trailing_window(v, 56)  # the 56 periods before each start
    centre = _nanmedian_rows(window, settings.shift_before // 2)
    sigma = np.fmax(_nanmedian_rows(np.abs(window - centre[:, None]), settings.shift_before // 2) * MAD_TO_SD, 1.0)
    sigma = np.where(np.isnan(sigma), 1.0, sigma)
    minimum_before = max(settings.shift_before // 2, 2)
    p = np.arange(v.size)
    best = {sign: (np.full(v.size, -np.inf), np.full(v.size, -1, dtype=int)) for sign in (1, -1)}
    for after in range(settings.shift_min_periods, settings.shift_max_periods + 1):
        start = p - after + 1
        valid = start >= minimum_before
        start = np.where(valid, start, minimum_before)
        first_before = np.maximum(0, start - settings.shift_before)
        before = start - first_before
        difference = (prefix[p + 1] - prefix[start]) / after - (prefix[start] - prefix[first_before]) / before
        scale = sigma[start]
        error = scale * np.sqrt(1.0 / after + 1.0 / before)
        for sign in (1, -1):
            statistic = np.where(valid & (sign * difference >= settings.shift_min * scale), sign * difference / error, -np.inf)
            better = statistic > best[sign][0]
            best[sign][0][better] = statistic[better]
            best[sign][1][better] = start[better]
    for sign in (1, -1):
        # A step's first period is the first one past half of it: the ordinary periods a
        # longer window takes in before the step are not part of it.
        for q in np.flatnonzero(best[sign][0] >= settings.shift_z):
            start = best[sign][1][q]
            first_before = max(0, start - settings.shift_before)
            level = (prefix[start] - prefix[first_before]) / (start - first_before)
            half = ((prefix[q + 1] - prefix[start]) / (q - start + 1) - level) / 2
            while start < q and sign * (v[start] - level) < sign * half:
                start += 1
            best[sign][1][q] = start
        found = best[sign][1] >= 0
        out[sign][0][positions[found]] = best[sign][0][found]
        out[sign][1][positions[found]] = positions[best[sign][1][found]]
    return out


# --------------------------------------------------------------------------- flags


@dataclass(frozen=True)
class Reference:
    """What an open flag is judged against: the series' values, expected values and
    scales, and its season (7 for days, 1 for weeks). While a flag is open, each period is
    compared with the expected value and scale of the same weekday in the season before
    the flag started: the level before the shift, not the new normal the same-weekday
    median drifts to."""

    values: np.ndarray
    expected: np.ndarray
    scale: np.ndarray
    season: int

    def z(self, t: int, first: int, fallback: float) -> float:
        before = first - self.season + (t - first) % self.season
        if before < 0 or not np.isfinite(self.expected[before]) or not self.scale[before] > 0 or not np.isfinite(self.values[t]):
            return fallback
        return float((self.values[t] - self.expected[before]) / self.scale[before])


def open_flags(
    z: np.ndarray,
    support: np.ndarray,
    scored: np.ndarray,
    signs: tuple[int, ...],
    settings: DetectionSettings,
    *,
    alone: float | None = None,
    collapse: np.ndarray | None = None,
    reference: Reference | None = None,
    shifts: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[tuple[int, int, int, int, str, int]]:
    """(first, detected, last, sign, detector, recovered) index runs of the flags of one
    series; recovered is the period that closed the flag, -1 while it is still open.

    support: how many other watched KPIs of the scope are off by support_z or more in
    the same period; collapse: periods that fell to collapse_share of the expected value
    or less (see ``collapsed``), which open a downward flag whatever their z;
    shifts: ``level_shifts``, whose steps open a flag at
    their first period (a flag closed inside the step reopens); reference:
    while a flag is open its periods are judged against the level before it started (see
    Reference), so a sustained failure stays open until the series is back there. See
    the module docstring for the rules.
    """
    alone = settings.z_alone if alone is None else alone
    collapse = np.zeros(z.size, dtype=bool) if collapse is None else collapse
    flags: list[tuple[int, int, int, int, str, int]] = []
    index = np.flatnonzero(scored)
    for sign in signs:
        state_open = False
        first = detected = last = -1
        detector = ""
        calm = 0
        outside_run: list[int] = []
        cusum = 0.0
        cusum_start = -1
        closed = -1  # where this sign's last flag closed, and its place in flags
        closed_at = -1
        for position, t in enumerate(index):
            zt = z[t] * sign
            if state_open and sign < 0 and collapse[t] and t != first:
                # A collapse inside an open flag is an event of its own (whatever came before it).
                following = index[position + 1] if position + 1 < index.size else -1
                flags.append((t, t, t, sign, "robust_z", following))
            outside_run = [*outside_run[-(settings.persistence - 1):], t] if zt >= settings.interval_z else []
            cusum = max(0.0, cusum + zt - settings.cusum_k)
            cusum_start = (t if cusum_start < 0 else cusum_start) if cusum > 0 else -1
            if state_open:
                judged = zt if reference is None else reference.z(t, first, z[t]) * sign
                if judged >= settings.reset_z:
                    last = t
                    calm = 0
                else:
                    calm += 1
                    if calm >= settings.reset_periods:
                        closed, closed_at = t, len(flags)
                        flags.append((first, detected, last, sign, detector, t))
                        state_open = False
                        cusum, cusum_start = 0.0, -1
                continue
            if zt >= alone or (zt >= settings.z_threshold and support[t] >= 1) or (sign < 0 and collapse[t]):
                state_open, first, detected, last, detector, calm = True, t, t, t, "robust_z", 0
            elif len(outside_run) >= settings.persistence:
                state_open, first, detected, last, detector, calm = True, outside_run[0], t, t, "forecast_interval", 0
            elif shifts is not None and shifts[sign][0][t] >= settings.shift_z:
                start = int(shifts[sign][1][t])
                if start > closed or flags[closed_at][2] < start:
                    # A new step (after the last flag's last period outside; its calm periods may overlap it)
                    state_open, first, detected, last, detector, calm = True, start, t, t, "level_shift", 0
                else:
                    # The step began while the last flag was still outside: that flag was its start; it reopens.
                    first, detected, _last, _sign, _detector, _recovered = flags.pop(closed_at)
                    state_open, last, detector, calm, closed = True, t, "level_shift", 0, -1
            elif cusum >= settings.cusum_h:
                state_open, first, detected, last, detector, calm = True, cusum_start, t, t, "sustained_shift", 0
        if state_open:
            flags.append((first, detected, last, sign, detector, -1))
    return _without_returns(flags)


def _without_returns(flags: list[tuple[int, int, int, int, str, int]]) -> list[tuple[int, int, int, int, str, int]]:
    """Leave out a level shift that starts while a flag of the other direction is open
    (from its first period to the one that closed it): the series coming back from that
    flag, not a shift of its own."""
    kept = []
    for flag in flags:
        first, _detected, _last, sign, detector, _recovered = flag
        returning = detector == "level_shift" and any(
            other[3] != sign and other[0] <= first and (other[5] < 0 or first <= other[5]) for other in flags
        )
        if not returning:
            kept.append(flag)
    return kept


def collapsed(values: np.ndarray, expected: np.ndarray, z: np.ndarray, scored: np.ndarray, kind: str, settings: DetectionSettings) -> np.ndarray:
    """Scored periods of a busy count (expected at least ``busy_count``) that fell to
    ``collapse_share`` of the expected value or less, or to ``fall_share`` of it or less
    with a z of -``fall_z`` or lower and a fall of 3.5 Poisson standard deviations or more."""
    if kind != "count":
        return np.zeros(values.size, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = values / expected
        # the smaller fall must also be beyond what sampling alone does (3.5 Poisson sds)
        sampled = (expected - values) >= 3.5 * np.sqrt(np.maximum(expected, 0.0) + 1.0)
        fell = (share <= settings.collapse_share) | ((share <= settings.fall_share) & (z <= -settings.fall_z) & sampled)
        return scored & (expected >= settings.busy_count) & fell


def _calendar(grain: str, first_day: date, last_day: date) -> list[date]:
    step = 1 if grain == "day" else 7
    start = first_day if grain == "day" else first_day - timedelta(days=first_day.weekday())
    count = (last_day - start).days // step + 1
    return [start + timedelta(days=step * i) for i in range(count)]


def _known_weeks(days: set[date]) -> set[date]:
    """The Mondays of weeks with three or more known days (Christmas) and of the week
    after: the other holiday weeks are carried by their year-ago behaviour."""
    counts: dict[date, int] = {}
    for day in days:
        monday = day - timedelta(days=day.weekday())
        counts[monday] = counts.get(monday, 0) + 1
    heavy = {monday for monday, count in counts.items() if count >= 3}
    return heavy | {monday + timedelta(weeks=1) for monday in heavy}


def _known_lookup(known_days: pl.DataFrame | None) -> dict[tuple[str, str], set[date]]:
    lookup: dict[tuple[str, str], set[date]] = {}
    if known_days is None or known_days.height == 0:
        return lookup
    for (scope_kind, scope_id), part in known_days.partition_by(["scope_kind", "scope_id"], as_dict=True).items():
        lookup[(scope_kind, scope_id)] = set(part["day"].to_list())
    return lookup


def score(
    values: pl.DataFrame,
    known_days: pl.DataFrame | None = None,
    settings: DetectionSettings | None = None,
    *,
    unusual: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Scores of every period of every series in ``values`` (SCORE_SCHEMA).

    values: VALUE_SCHEMA rows (one per series and period; missing periods are gaps).
    known_days: scope_kind, scope_id, day: known days (public holidays and the day after)
    per scope; a week with three or more of them (Christmas) and the week after are
    known weeks, the other holiday weeks are carried by their year-ago behaviour.
    unusual: SERIES_KEYS + period_start of periods not to expect again a year later.
    """
    settings = settings or DetectionSettings()
    known = _known_lookup(known_days)
    unusual_lookup: dict[tuple, set[date]] = {}
    if unusual is not None and unusual.height:
        for keys, part in unusual.partition_by(list(SERIES_KEYS), as_dict=True).items():
            unusual_lookup[keys] = set(part["period_start"].to_list())
    parts: list[pl.DataFrame] = []
    ordered = values.sort(*SERIES_KEYS, "period_start")
    for keys, part in ordered.partition_by(list(SERIES_KEYS), as_dict=True, maintain_order=True).items():
        parts.append(_score_one(part, keys, known, unusual_lookup.get(keys, set()), settings))
    if not parts:
        return pl.DataFrame(schema=SCORE_SCHEMA)
    scores = pl.concat(parts)
    return _with_support(scores, settings)


def _score_one(part: pl.DataFrame, keys: tuple, known: dict, unusual: set[date], settings: DetectionSettings) -> pl.DataFrame:
    grain, scope_kind, scope_id, kpi = keys
    days = _calendar(grain, part["period_start"].min(), part["period_start"].max())
    frame = pl.DataFrame({"period_start": days}, schema={"period_start": pl.Date}).join(
        part.select("period_start", "value", "n"), on="period_start", how="left"
    )
    known_set = known.get((scope_kind, scope_id), set())
    if grain == "week":
        known_set = _known_weeks(known_set)
    known_mask = np.array([day in known_set for day in days], dtype=bool)
    unusual_mask = np.array([day in unusual for day in days], dtype=bool) if unusual else None
    result = score_series(
        frame["value"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        frame["n"].fill_null(0).to_numpy(),
        known_mask,
        kpi_kind(kpi),
        METRICS[kpi].unit,
        settings.grain(grain),
        settings,
        unusual=unusual_mask,
    )
    return frame.select(
        pl.lit(grain).alias("grain"), pl.lit(scope_kind).alias("scope_kind"), pl.lit(scope_id).alias("scope_id"),
        pl.lit(kpi).alias("kpi"), "period_start", pl.col("value").cast(pl.Float64), pl.col("n").cast(pl.Int64),
    ).with_columns(
        pl.Series("expected", result.expected), pl.Series("scale", result.scale), pl.Series("z", result.z),
        pl.Series("scored", result.scored),
    ).with_columns(pl.col("expected", "scale", "z").fill_nan(None))


def _with_support(scores: pl.DataFrame, settings: DetectionSettings) -> pl.DataFrame:
    """Add ``worse`` (z turned so that positive is worse; context KPIs and those watched
    both ways: its size) and ``support`` (KPIs of other families off by support_z or
    more in the same scope and period)."""
    signs = {kpi: 0.0 if kpi in BOTH_WAYS else worse_sign(kpi) for kpi in METRICS}
    sign = pl.col("kpi").replace_strict(signs, return_dtype=pl.Float64)
    scores = scores.with_columns(pl.when(sign == 0).then(pl.col("z").abs()).otherwise(pl.col("z") * sign).alias("worse"))
    family = pl.col("kpi").replace_strict(FAMILY, return_dtype=pl.String)
    off = (pl.col("worse") >= settings.support_z).fill_null(False).cast(pl.Int64)
    cell = ["grain", "scope_kind", "scope_id", "period_start"]
    return scores.with_columns(
        (off.sum().over(cell) - off.sum().over(*cell, family)).alias("support")
    )


def univariate_flags(scores: pl.DataFrame, settings: DetectionSettings | None = None) -> pl.DataFrame:
    """The flags of every series of ``scores`` (see ``open_flags``), FLAG_SCHEMA columns."""
    settings = settings or DetectionSettings()
    rows: list[dict] = []
    for keys, part in scores.partition_by(list(SERIES_KEYS), as_dict=True, maintain_order=True).items():
        grain, scope_kind, scope_id, kpi = keys
        z = part["z"].fill_null(np.nan).to_numpy()
        family = FAMILY.get(kpi, "")
        rules = settings
        if family in settings.family_persistence:
            rules = dataclasses.replace(settings, persistence=settings.family_persistence[family])
        alone = settings.family_z_alone.get(family, settings.z_alone)
        if family not in settings.cusum_families:
            rules = dataclasses.replace(rules, cusum_h=float("inf"))
        scored = part["scored"].to_numpy()
        collapse = collapsed(part["value"].fill_null(np.nan).to_numpy(), part["expected"].fill_null(np.nan).to_numpy(), z, scored, kpi_kind(kpi), settings)
        reference = Reference(part["value"].fill_null(np.nan).to_numpy(), part["expected"].fill_null(np.nan).to_numpy(),
                              part["scale"].fill_null(np.nan).to_numpy(), settings.grain(grain).season) if settings.judge_against_before else None
        found = open_flags(z, part["support"].fill_null(0).to_numpy(), scored, adverse_signs(kpi, settings.directions), rules,
                           alone=alone, collapse=collapse, reference=reference)
        if not found:
            continue
        days = part["period_start"].to_list()
        value = part["value"].to_list()
        expected = part["expected"].to_list()
        scale = part["scale"].to_list()
        for first, detected, last, sign, detector, recovered in found:
            rows.append({
                "grain": grain, "scope_kind": scope_kind, "scope_id": scope_id, "kpi": kpi,
                "detector": detector, "direction": "up" if sign > 0 else "down",
                "first_day": days[first], "detected_on": days[detected], "last_day": days[last],
                "value": value[first], "expected": expected[first],
                "lower": expected[first] - settings.interval_z * scale[first],
                "upper": expected[first] + settings.interval_z * scale[first],
                "score": float(z[first]), "kpis": kpi, "scale": scale[first], "recovered_on": days[recovered] if recovered >= 0 else None,
            })
    return pl.DataFrame(rows, schema=FLAG_SCHEMA)


def isolation_flags(scores: pl.DataFrame, univariate: pl.DataFrame, settings: DetectionSettings | None = None) -> pl.DataFrame:
    """Days odd in combination: IsolationForest over each scope's daily KPI z-scores.

    Features: each watched KPI's ``worse`` z-score, clipped to [-8, 8], missing as 0. One
    forest per scope over its scored days (seeded). A day flags when its isolation score
    is within the ``isolation_quantile`` most extreme of the scope, at least
    ``isolation_min_kpis`` KPIs are worse by ``isolation_kpi_z`` or more, no single-KPI
    flag of the scope covers it, and the scope had no such flag in the 7 days before.
    """
    from sklearn.ensemble import IsolationForest

    settings = settings or DetectionSettings()
    daily = scores.filter((pl.col("grain") == "day") & pl.col("scored"))
    if daily.height == 0:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    covered = _covered_days(univariate.filter(pl.col("grain") == "day"))
    rows: list[dict] = []
    for (scope_kind, scope_id), part in daily.partition_by(["scope_kind", "scope_id"], as_dict=True, maintain_order=True).items():
        wide = part.pivot(on="kpi", index="period_start", values="worse", aggregate_function="first").sort("period_start")
        kpis = [c for c in wide.columns if c != "period_start"]
        if len(kpis) < settings.isolation_min_kpis:
            continue
        matrix = np.clip(wide.select(kpis).to_numpy().astype(float), -8.0, 8.0)
        usable = (~np.isnan(matrix)).sum(axis=1) >= settings.isolation_min_kpis
        if usable.sum() < 100:
            continue
        features = np.nan_to_num(matrix[usable], nan=0.0)
        forest = IsolationForest(n_estimators=settings.isolation_trees, random_state=settings.seed)
        isolation = forest.fit(features).score_samples(features)
        threshold = np.quantile(isolation, settings.isolation_quantile)
        days = np.array(wide["period_start"].to_list(), dtype=object)[usable]
        taken = covered.get((scope_kind, scope_id), set())
        last_flag: date | None = None
        for i in np.flatnonzero(isolation <= threshold):
            named = [kpis[j] for j in np.argsort(-features[i]) if features[i][j] >= settings.isolation_kpi_z]
            if len(named) < settings.isolation_min_kpis or days[i] in taken:
                continue
            if last_flag is not None and (days[i] - last_flag).days < 7:
                continue
            last_flag = days[i]
            cell = part.filter((pl.col("period_start") == days[i]) & (pl.col("kpi") == named[0])).row(0, named=True)
            rows.append({
                "grain": "day", "scope_kind": scope_kind, "scope_id": scope_id, "kpi": named[0],
                "detector": "isolation_forest", "direction": "up" if (cell["z"] or 0) > 0 else "down",
                "first_day": days[i], "detected_on": days[i], "last_day": days[i],
                "value": cell["value"], "expected": cell["expected"],
                "lower": cell["expected"] - settings.interval_z * cell["scale"],
                "upper": cell["expected"] + settings.interval_z * cell["scale"],
                "score": float(isolation[i]), "kpis": ",".join(named), "scale": cell["scale"], "recovered_on": days[i] + timedelta(days=1),
            })
    return pl.DataFrame(rows, schema=FLAG_SCHEMA)


def _covered_days(flags: pl.DataFrame) -> dict[tuple[str, str], set[date]]:
    covered: dict[tuple[str, str], set[date]] = {}
    for row in flags.iter_rows(named=True):
        days = covered.setdefault((row["scope_kind"], row["scope_id"]), set())
        day = row["first_day"]
        while day <= row["last_day"]:
            days.add(day)
            day += timedelta(days=1)
    return covered


def _flagged_periods(flags: pl.DataFrame) -> pl.DataFrame:
    """SERIES_KEYS + period_start of every period inside a flag (first to last day)."""
    if flags.height == 0:
        return pl.DataFrame(schema={**{k: pl.String for k in SERIES_KEYS}, "period_start": pl.Date})
    step = pl.when(pl.col("grain") == "day").then(pl.lit("1d")).otherwise(pl.lit("7d"))
    spans = flags.select(*SERIES_KEYS, "first_day", "last_day", step.alias("step"))
    parts = [
        part.with_columns(pl.date_ranges("first_day", "last_day", interval=every).alias("period_start")).explode("period_start")
        for (every,), part in spans.partition_by(["step"], as_dict=True).items()
    ]
    return pl.concat(parts).select(*SERIES_KEYS, "period_start")


def detect(
    values: pl.DataFrame,
    known_days: pl.DataFrame | None = None,
    settings: DetectionSettings | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(scores, flags) of every watched series in ``values``, flags sorted.

    Two passes: the second leaves the periods flagged by the first out of the noise
    (and, with mask_year_ago, out of the year-ago adjustment).
    """
    settings = settings or DetectionSettings()
    values = watched(values)
    scores = score(values, known_days, settings)
    flags = univariate_flags(scores, settings)
    if (settings.mask_noise or settings.mask_year_ago) and flags.height:
        affected = flags.select(*SERIES_KEYS).unique()
        again = values.join(affected, on=list(SERIES_KEYS), how="semi")
        rescored = score(again, known_days, settings, unusual=_flagged_periods(flags))
        scores = pl.concat([scores.join(affected, on=list(SERIES_KEYS), how="anti"), rescored.drop("support", "worse")], how="diagonal")
        scores = _with_support(scores.drop("support", "worse", strict=False), settings)
        flags = univariate_flags(scores, settings)
    if settings.isolation:
        flags = pl.concat([flags, isolation_flags(scores, flags, settings)])
    return scores, flags.sort("first_day", "grain", "scope_kind", "scope_id", "kpi")
