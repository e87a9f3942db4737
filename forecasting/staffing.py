"""Staffing from a demand forecast: Erlang B, C and A, and intraday profiles.

Notation (DOMAIN.md section 4): arrivals per interval, average handle time (AHT),
agents N, offered load A = arrival rate x AHT (Erlangs), target answer time t.

- Erlang C assumes callers wait forever; it needs N > A and overstaffs where callers
  hang up. Erlang A (M/M/N+M) adds exponential patience (mean `patience_seconds`) and is
  stable at any load. Show both.
- Required agents: the smallest N with service level >= target and occupancy <= the
  maximum. `StaffingResult.fractional_agents` interpolates between N - 1 and N so that
  plans can add fractional staff across intervals and round once, at the end.
- Erlang assumes steady arrivals within an interval: `intraday_profile` and
  `split_daily_forecast` turn daily forecasts into 30-minute arrivals per weekday.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.sparse import diags
from scipy.sparse.linalg import expm_multiply

from forecasting._frame import ForecastInputError

_TAIL = 1e-14  # probability mass below which the Erlang A chain is truncated
_MAX_QUEUE = 20_000  # states kept in the Erlang A queue, at most


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ForecastInputError(f"{name} must be a positive number, got {value!r}.")


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int | np.integer) or agents < 1:
        raise ForecastInputError(f"agents must be a whole number >= 1, got {agents!r}.")


def offered_load(calls: float, interval_seconds: float, aht_seconds: float) -> float:
    """Offered load in Erlangs: calls per interval x AHT / interval length."""
    _check_positive(interval_seconds=interval_seconds, aht_seconds=aht_seconds)
    if calls < 0:
        raise ForecastInputError(f"calls must be >= 0, got {calls!r}.")
    return calls * aht_seconds / interval_seconds


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/N/N: B(0)=1, B(n) = A B(n-1) / (n + A B(n-1)).

    The recursion stays within 0..1 at every step, so it is stable for any N.
    """
    _check_agents(agents)
    if load < 0:
        raise ForecastInputError(f"load must be >= 0 Erlangs, got {load!r}.")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that a call waits (M/M/N): N B / (N - A (1 - B)); 1 when N <= A."""
    if agents <= load:
        _check_agents(agents)
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1 - blocking))


def service_level_c(agents: int, load: float, aht_seconds: float, target_seconds: float) -> float:
    """Erlang C share of calls answered within target_seconds: 1 - C exp(-(N-A) t / AHT)."""
    if agents <= load:
        return 0.0
    return 1 - erlang_c(agents, load) * math.exp(-(agents - load) * target_seconds / aht_seconds)


def asa_c(agents: int, load: float, aht_seconds: float) -> float:
    """Erlang C average speed of answer in seconds: C AHT / (N - A); inf when N <= A."""
    if agents <= load:
        return math.inf
    return erlang_c(agents, load) * aht_seconds / (agents - load)


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state performance of one interval with a given number of agents.

    service_level: share of offered calls answered within the target (0..1).
    asa_seconds: mean wait of answered calls. occupancy: busy share of agents (0..1).
    p_wait: share of calls that queue. p_abandon: share that hang up (0 for Erlang C).
    """

    agents: int
    service_level: float
    asa_seconds: float
    occupancy: float
    p_wait: float
    p_abandon: float


def erlang_c_metrics(
    agents: int, load: float, aht_seconds: float, target_seconds: float
) -> QueueMetrics:
    """QueueMetrics under Erlang C (callers never hang up)."""
    return QueueMetrics(
        agents=agents,
        service_level=service_level_c(agents, load, aht_seconds, target_seconds),
        asa_seconds=asa_c(agents, load, aht_seconds),
        occupancy=min(load / agents, 1.0),
        p_wait=erlang_c(agents, load),
        p_abandon=0.0,
    )


def _erlang_a_states(
    agents: int, load: float, aht_seconds: float, patience_seconds: float
) -> np.ndarray:
    """Stationary probabilities pi_0..pi_K of the M/M/N+M birth-death chain.

    Birth rate lambda, death rate min(n, N) mu + max(n - N, 0) theta; computed in log space
    (log pi_n = log pi_(n-1) + log lambda - log death_n) and normalised with a max shift,
    so hundreds of agents do not overflow. Truncated once the tail is below 1e-14.
    """
    mu, theta = 1 / aht_seconds, 1 / patience_seconds
    rate = load * mu
    log_terms = [0.0]
    n = 0
    while True:
        n += 1
        death = min(n, agents) * mu + max(n - agents, 0) * theta
        log_terms.append(log_terms[-1] + math.log(rate) - math.log(death))
        past_peak = n > agents and rate < death
        if past_peak and log_terms[-1] < max(log_terms) + math.log(_TAIL):
            break
        if n >= agents + _MAX_QUEUE:
            break
    logs = np.array(log_terms)
    weights = np.exp(logs - logs.max())
    return weights / weights.sum()


def erlang_a_metrics(
    agents: int,
    load: float,
    aht_seconds: float,
    target_seconds: float,
    patience_seconds: float,
) -> QueueMetrics:
    """QueueMetrics under Erlang A (M/M/N+M) with mean patience `patience_seconds`.

    P(abandon) = theta E[queue] / lambda. A call that finds k - 1 others queued reaches an
    agent after k hops at rates N mu + i theta (services or abandons ahead); with its own
    patience it is answered with probability N mu / (N mu + k theta), and answered within
    t with that times the CDF of a sum of exponentials at rates N mu + i theta (i = 1..k),
    computed for all k at once with expm_multiply on the pure-death chain.
    """
    _check_agents(agents)
    _check_positive(aht_seconds=aht_seconds, patience_seconds=patience_seconds)
    if load <= 0:
        return QueueMetrics(agents, 1.0, 0.0, 0.0, 0.0, 0.0)
    pi = _erlang_a_states(agents, load, aht_seconds, patience_seconds)
    mu, theta = 1 / aht_seconds, 1 / patience_seconds
    queued = pi[agents:]  # arrivals that find all agents busy (PASTA)
    positions = np.arange(1, queued.size + 1, dtype=np.float64)  # the arrival's place in the queue
    hop_rates = agents * mu + positions * theta
    p_served_given = agents * mu / hop_rates
    p_abandon = (
        float(theta * np.sum((positions - 1) * queued) / (load * mu)) if queued.size else 0.0
    )
    p_abandon = min(max(p_abandon, 0.0), 1.0)
    p_wait = min(float(queued.sum()), 1.0)
    # answered within t: start mass pi_k * P(served | k) at position k, hop down at rate
    # N mu + k theta (the tilted chain); the mass absorbed by t is the answered-in-time share
    start = queued * p_served_given
    if start.sum() > 0 and target_seconds > 0:
        generator = diags([-hop_rates, hop_rates[1:]], [0, -1], format="csc")
        remaining = expm_multiply(generator.T * target_seconds, start)
        answered_waiting = float(start.sum() - np.clip(remaining, 0, None).sum())
    else:
        answered_waiting = 0.0
    service_level = float(pi[:agents].sum()) + answered_waiting
    # mean wait of answered calls: E[W 1{served} | k] = P(served | k) sum_i 1 / (N mu + i theta)
    expected_wait = np.cumsum(1 / hop_rates)
    answered = 1 - p_abandon
    asa = (
        float(np.sum(queued * p_served_given * expected_wait) / answered)
        if answered > 0
        else math.inf
    )
    return QueueMetrics(
        agents=agents,
        service_level=min(max(service_level, 0.0), 1.0),
        asa_seconds=asa,
        occupancy=min(load * answered / agents, 1.0),
        p_wait=p_wait,
        p_abandon=p_abandon,
    )


@dataclass(frozen=True)
class StaffingResult:
    """Agents needed for one interval under one model ("erlang_c" or "erlang_a").

    agents: the smallest whole N meeting both targets; fractional_agents: the same
    requirement interpolated between N - 1 and N (keep it fractional until the plan is
    summed, then round once). metrics: QueueMetrics at `agents`.
    """

    model: str
    load: float
    agents: int
    fractional_agents: float
    metrics: QueueMetrics


def required_agents(
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    target_seconds: float,
    service_level: float,
    max_occupancy: float = 1.0,
    patience_seconds: float | None = None,
) -> StaffingResult:
    """Smallest N with service level >= target and occupancy <= max_occupancy.

    service_level and max_occupancy are shares (0.8 for 80%). With patience_seconds the
    model is Erlang A, otherwise Erlang C.
    """
    if not 0 < service_level < 1:
        raise ForecastInputError(
            f"service_level must be a share between 0 and 1 (0.8 for 80%), got {service_level!r}."
        )
    if not 0 < max_occupancy <= 1:
        raise ForecastInputError(f"max_occupancy must be a share in (0, 1], got {max_occupancy!r}.")
    if target_seconds < 0:
        raise ForecastInputError(f"target_seconds must be >= 0, got {target_seconds!r}.")
    load = offered_load(calls, interval_seconds, aht_seconds)
    model = "erlang_a" if patience_seconds is not None else "erlang_c"

    def evaluate(n: int) -> QueueMetrics:
        if patience_seconds is not None:
            return erlang_a_metrics(n, load, aht_seconds, target_seconds, patience_seconds)
        return erlang_c_metrics(n, load, aht_seconds, target_seconds)

    if load == 0:
        return StaffingResult(model, 0.0, 0, 0.0, QueueMetrics(0, 1.0, 0.0, 0.0, 0.0, 0.0))
    # SL <= N / A once callers hang up, so Erlang A needs N >= SL x A; Erlang C needs N > A
    n = max(1, math.floor(load * service_level if patience_seconds is not None else load))
    previous = evaluate(n - 1) if n > 1 else None
    current = evaluate(n)
    while current.service_level < service_level or current.occupancy > max_occupancy + 1e-12:
        previous, current = current, evaluate(n + 1)
        n += 1
    # fractional: where the service level crosses the target between N - 1 and N, but
    # never below the occupancy bound A_carried / max_occupancy
    fractional = float(n)
    if previous is not None and current.service_level > previous.service_level:
        share = (service_level - previous.service_level) / (
            current.service_level - previous.service_level
        )
        fractional = n - 1 + min(max(share, 0.0), 1.0)
    carried = load * (1 - current.p_abandon)
    fractional = min(float(n), max(fractional, carried / max_occupancy))
    return StaffingResult(model, load, n, fractional, current)


def scheduled_staff(agents: float, shrinkage: float) -> float:
    """Staff to schedule so `agents` are available: agents / (1 - shrinkage), unrounded."""
    if not 0 <= shrinkage < 1:
        raise ForecastInputError(
            f"shrinkage must be a share in [0, 1) (0.3 for 30%), got {shrinkage!r}."
        )
    return agents / (1 - shrinkage)


# --------------------------------------------------------------------------- intraday


def intraday_profile(
    arrivals: pl.DataFrame,
    timestamp_col: str = "arrived_at",
    count_col: str | None = None,
    interval_minutes: int = 30,
) -> pl.DataFrame:
    """Share of each weekday's arrivals per interval, from history.

    arrivals: one row per arrival (timestamps, local time) or, with count_col, one row
    per interval start with its count. Returns weekday (1 = Monday .. 7), slot (minutes
    after midnight, 0, 30, ...), share (sums to 1 within each weekday that has arrivals).
    """
    if timestamp_col not in arrivals.columns or (count_col and count_col not in arrivals.columns):
        missing = timestamp_col if timestamp_col not in arrivals.columns else count_col
        raise ForecastInputError(
            f"intraday_profile: missing column '{missing}'; available: {', '.join(arrivals.columns)}."
        )
    if not isinstance(arrivals[timestamp_col].dtype, pl.Datetime):
        raise ForecastInputError(
            f"Column '{timestamp_col}' must be a datetime in local time, got {arrivals[timestamp_col].dtype}."
        )
    if 24 * 60 % interval_minutes:
        raise ForecastInputError(f"interval_minutes must divide a day, got {interval_minutes}.")
    counts = pl.col(count_col).cast(pl.Float64) if count_col else pl.lit(1.0)
    ts = pl.col(timestamp_col)
    return (
        arrivals.select(
            ts.dt.weekday().alias("weekday"),
            (
                (ts.dt.hour().cast(pl.Int32) * 60 + ts.dt.minute())
                // interval_minutes
                * interval_minutes
            ).alias("slot"),
            counts.alias("count"),
        )
        .group_by("weekday", "slot")
        .agg(pl.col("count").sum())
        .with_columns((pl.col("count") / pl.col("count").sum().over("weekday")).alias("share"))
        .select("weekday", pl.col("slot").cast(pl.Int32), "share")
        .sort("weekday", "slot")
    )


def split_daily_forecast(
    forecast: pl.DataFrame,
    profile: pl.DataFrame,
    date_col: str = "ds",
    value_col: str = "yhat",
) -> pl.DataFrame:
    """Daily forecasts spread over intervals with the weekday profile.

    Returns the forecast's other key columns plus interval_start (datetime) and
    arrivals (expected calls in the interval). A weekday absent from the profile gets no
    intervals (closed that day).
    """
    for column in (date_col, value_col):
        if column not in forecast.columns:
            raise ForecastInputError(f"split_daily_forecast: missing column '{column}'.")
    keys = [
        c
        for c in forecast.columns
        if c not in (date_col, value_col, "lo80", "hi80", "lo95", "hi95", "model")
    ]
    return (
        forecast.select(*keys, date_col, value_col)
        .with_columns(pl.col(date_col).dt.weekday().alias("weekday"))
        .join(profile, on="weekday", how="inner")
        .select(
            *keys,
            date_col,
            (pl.col(date_col).cast(pl.Datetime) + pl.duration(minutes=pl.col("slot"))).alias(
                "interval_start"
            ),
            (pl.col(value_col) * pl.col("share")).alias("arrivals"),
        )
        .sort(*keys, "interval_start")
    )


def staffing_plan(
    forecast: pl.DataFrame,
    profile: pl.DataFrame,
    aht_seconds: float,
    target_seconds: float,
    service_level: float,
    *,
    max_occupancy: float = 0.85,
    patience_seconds: float = 300.0,
    shrinkage: float = 0.3,
    interval_minutes: int = 30,
    date_col: str = "ds",
    value_col: str = "yhat",
) -> pl.DataFrame:
    """Agents per interval under Erlang C and Erlang A, side by side.

    Columns: the forecast's keys, interval_start, arrivals, load (Erlangs), then per
    model m in (erlang_c, erlang_a): agents_m (fractional), service_level_m (at the
    whole N), scheduled_m = agents_m / (1 - shrinkage) (fractional). Sum the fractional
    columns over a day or week and round once; rounding each interval up overstates.
    """
    intervals = split_daily_forecast(forecast, profile, date_col, value_col)
    interval_seconds = interval_minutes * 60
    rows = []
    for arrivals in intervals["arrivals"].to_list():
        c = required_agents(
            arrivals, interval_seconds, aht_seconds, target_seconds, service_level, max_occupancy
        )
        a = required_agents(
            arrivals,
            interval_seconds,
            aht_seconds,
            target_seconds,
            service_level,
            max_occupancy,
            patience_seconds,
        )
        rows.append(
            (
                c.load,
                c.fractional_agents,
                c.metrics.service_level,
                scheduled_staff(c.fractional_agents, shrinkage),
                a.fractional_agents,
                a.metrics.service_level,
                a.metrics.p_abandon,
                scheduled_staff(a.fractional_agents, shrinkage),
            )
        )
    names = [
        "load",
        "agents_erlang_c",
        "service_level_erlang_c",
        "scheduled_erlang_c",
        "agents_erlang_a",
        "service_level_erlang_a",
        "abandon_erlang_a",
        "scheduled_erlang_a",
    ]
    values = pl.DataFrame(rows, schema={n: pl.Float64 for n in names}, orient="row")
    return pl.concat([intervals, values], how="horizontal")


def staff_hours(
    plan: pl.DataFrame, column: str = "scheduled_erlang_a", interval_minutes: int = 30
) -> int:
    """Total staff-hours of a plan column, summed fractionally and rounded up once."""
    return math.ceil(plan[column].sum() * interval_minutes / 60 - 1e-9)
