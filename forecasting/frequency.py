"""A series' own frequency: daily, weekly or monthly, read from its dates.

Models, backtests and gaps count in periods of the series' frequency, numbered from
1970: day numbers (days since 1970-01-01), week numbers or month numbers
((year - 1970) x 12 + month - 1). A `Frequency` turns dates into those numbers and back,
so "13 steps ahead" is 13 weeks on a weekly file and a forecast row falls on the same
weekday (or the same first or last day of the month) as the data's.

Dates label periods this way:
- daily: the day;
- weekly: every date on one weekday; a Monday labels the week it starts, any other
  weekday the week ending on it (the "week ending Sunday" of NHS England, the "week
  ending Friday" of the ONS);
- monthly: every date the first day of its month, or every date the last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from forecasting._frame import DATE, SERIES, ForecastInputError

CODES = ("D", "W", "M")
AUTO = "auto"
UNITS = {"D": "day", "W": "week", "M": "month"}
SEASONS = {"D": 7, "W": 52, "M": 12}
LABELS = {"D": "daily", "W": "weekly", "M": "monthly"}
# CLI defaults per frequency: 8 windows of 4 weeks, 4 quarters, 2 half-years
DEFAULT_HORIZONS = {"D": 28, "W": 13, "M": 6}
DEFAULT_CUTOFFS = {"D": 8, "W": 4, "M": 2}
# the fewest open periods before a cutoff for a series to be backtested there
MIN_TRAIN = {"D": 28, "W": 26, "M": 14}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A season s is used for the seasonal-naive baseline and the MASE scale only when the
# history holds MIN_SEASONS x s observed periods: then the scale averages at least a full
# season of lag-s pairs (Prophet turns yearly seasonality on by the same two-year rule).
MIN_SEASONS = 2
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday


@dataclass(frozen=True)
class Frequency:
    """A frequency and how its dates sit in their periods.

    code: "D", "W" or "M". phase: for "W" the weekday of the dates (Monday = 0); for "M"
    0 when dates are first days of months, -1 when they are last days; 0 for "D".
    """

    code: str = "D"
    phase: int = 0

    @property
    def unit(self) -> str:
        return UNITS[self.code]

    @property
    def season(self) -> int:
        """The yearly (weekly for daily data) season in periods: 7, 52 or 12."""
        return SEASONS[self.code]

    @property
    def min_train(self) -> int:
        """Open periods a series needs before a cutoff to be backtested there."""
        return MIN_TRAIN[self.code]

    @property
    def label(self) -> str:
        return LABELS[self.code]

    def units(self, count: int) -> str:
        """'13 weeks', '1 month'."""
        return f"{count} {self.unit}{'' if count == 1 else 's'}"

    def describe(self) -> str:
        """'weekly (weeks ending Sunday)', 'monthly (first day of each month)', 'daily'."""
        if self.code == "W":
            if self.phase == 0:
                return "weekly (weeks starting Monday)"
            return f"weekly (weeks ending {WEEKDAYS[self.phase]})"
        if self.code == "M":
            return f"monthly ({'last' if self.phase == -1 else 'first'} day of each month)"
        return "daily"

    # ---------------------------------------------------------------- dates <-> periods

    def period_expr(self, dates: pl.Expr) -> pl.Expr:
        """An Int64 expression: the period number of each date (see the module doc)."""
        if self.code == "M":
            return (dates.dt.year().cast(pl.Int64) - 1970) * 12 + dates.dt.month().cast(pl.Int64) - 1
        days = dates.cast(pl.Int64)
        if self.code == "W":
            return (days + _EPOCH_WEEKDAY - self.phase) // 7
        return days

    def periods(self, dates: pl.Series | Sequence[dt.date]) -> np.ndarray:
        """Period numbers (int64) of dates."""
        series = dates if isinstance(dates, pl.Series) else pl.Series(DATE, list(dates), pl.Date)
        column = series.alias(DATE).to_frame().select(self.period_expr(pl.col(DATE)))
        return column.to_series().to_numpy().astype(np.int64)

    def period(self, date: dt.date) -> int:
        return int(self.periods([date])[0])

    def date(self, period: int) -> dt.date:
        """The date labelling a period number, in the data's own convention."""
        period = int(period)
        if self.code == "M":
            year, month = divmod(period, 12)
            first = dt.date(1970 + year, month + 1, 1)
            if self.phase == -1:
                return _next_month(first) - dt.timedelta(days=1)
            return first
        if self.code == "W":
            return _EPOCH + dt.timedelta(days=7 * period + self.phase - _EPOCH_WEEKDAY)
        return _EPOCH + dt.timedelta(days=period)

    def dates(self, periods: np.ndarray | Sequence[int]) -> list[dt.date]:
        return [self.date(p) for p in np.asarray(periods).tolist()]

    def shift(self, date: dt.date, steps: int) -> dt.date:
        """The date `steps` periods after (negative: before) the period of `date`."""
        return self.date(self.period(date) + steps)

    def span(self, period: int) -> tuple[dt.date, dt.date]:
        """First and last calendar day a period covers."""
        label = self.date(period)
        if self.code == "M":
            first = label.replace(day=1)
            return first, _next_month(first) - dt.timedelta(days=1)
        if self.code == "W":
            if self.phase == 0:  # a Monday starts its week
                return label, label + dt.timedelta(days=6)
            return label - dt.timedelta(days=6), label
        return label, label


DAILY = Frequency("D")


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def season_for(observed: int, season: int) -> int:
    """The season to use with `observed` periods of history: `season`, or 1 (naive) if short.

    Rule: season s needs MIN_SEASONS x s observed periods, so the lag-s pairs of the
    in-sample scale cover at least one full season; with fewer, the baseline and the
    MASE scale fall back to the non-seasonal naive (lag 1). Daily series always have the
    14 days season 7 needs (every forecaster requires 14 open days).
    """
    return season if observed >= MIN_SEASONS * season else 1


def season_reason(frequency: Frequency, observed: int) -> str:
    """Why season_for fell back, in words."""
    return (
        f"{frequency.units(observed)} of history; season {frequency.season} needs "
        f"{frequency.units(MIN_SEASONS * frequency.season)} ({MIN_SEASONS} full "
        f"{'weeks' if frequency.code == 'D' else 'years'}), so "
        "seasonal naive and the MASE scale use the previous "
        f"{frequency.unit} (non-seasonal naive)"
    )


def resolve_frequency(canonical: pl.DataFrame, freq: str | None = AUTO) -> Frequency:
    """The frequency of a canonical (series_id, ds, y) frame: detected, or `freq` checked.

    Detection: monthly when every date is the first day of its month (or every date the
    last day); weekly when every date falls on one weekday; daily otherwise. A file whose
    series differ (one weekly, one daily; weeks ending on different days) is refused
    rather than read as daily with weeks of "missing days". An explicit "W" or "M" must
    fit the dates; "D" is always accepted.
    """
    code = "AUTO" if freq is None else str(freq).upper()
    if code not in (*CODES, "AUTO"):
        raise ForecastInputError(f"frequency must be D (daily), W (weekly), M (monthly) or auto, got {freq!r}.")
    dates = canonical[DATE].unique()
    monthly = _month_phase(dates)
    weekday = _single_weekday(dates)
    if code == "AUTO":
        if monthly is not None:
            return Frequency("M", monthly)
        if weekday is not None and dates.len() > 1:
            return Frequency("W", weekday)
        _refuse_mixed(canonical)
        return DAILY
    if code == "M":
        if monthly is None:
            example = dates.filter(dates.dt.day() != 1).min()
            raise ForecastInputError(
                "monthly series need every date on the first day of its month "
                f"(or every one the last day); found e.g. {example}. Aggregate to months "
                "first, e.g. group_by(pl.col('ds').dt.truncate('1mo'))."
            )
        return Frequency("M", monthly)
    if code == "W":
        if weekday is None:
            found = [WEEKDAYS[d - 1] for d in sorted(dates.dt.weekday().unique().to_list())]
            raise ForecastInputError(
                "weekly series need every date on one weekday (the Monday a week starts, or "
                f"the day it ends); found {', '.join(found[:4])}"
                f"{'...' if len(found) > 4 else ''}. Aggregate to weeks first, e.g. "
                "group_by(pl.col('ds').dt.truncate('1w'))."
            )
        return Frequency("W", weekday)
    return DAILY


def _refuse_mixed(canonical: pl.DataFrame) -> None:
    """Raise when some series (of 3+ dates) look weekly or monthly and the file is not."""
    kinds: dict[str, list[str]] = {}
    for (series_id,), part in canonical.partition_by(SERIES, as_dict=True, maintain_order=True).items():
        dates = part[DATE]
        if dates.len() < 3:
            continue
        weekday = _single_weekday(dates)
        if _month_phase(dates) is not None:
            kind = "monthly"
        elif weekday is not None:
            kind = f"weekly ({'weeks starting Monday' if weekday == 0 else 'weeks ending ' + WEEKDAYS[weekday]})"
        else:
            kind = "daily"
        kinds.setdefault(kind, []).append(str(series_id))
    if len(kinds) > 1:
        found = "; ".join(f"{kind}: {', '.join(ids[:3])}{'...' if len(ids) > 3 else ''}" for kind, ids in kinds.items())
        raise ForecastInputError(
            f"the series of this file have different frequencies ({found}). Backtest each "
            "frequency from its own file, or pass --freq D (freq='D') to treat every series "
            "as daily."
        )


def _month_phase(dates: pl.Series) -> int | None:
    if (dates.dt.day() == 1).all():
        return 0
    if (dates.dt.month_end() == dates).all():
        return -1
    return None


def _single_weekday(dates: pl.Series) -> int | None:
    weekdays = dates.dt.weekday().unique()  # Monday = 1
    return int(weekdays[0]) - 1 if weekdays.len() == 1 else None


def missing_periods(canonical: pl.DataFrame, frequency: Frequency) -> pl.DataFrame:
    """(series_id, ds) of every period missing inside each series' own range, sorted."""
    numbered = canonical.select(SERIES, frequency.period_expr(pl.col(DATE)).alias("period"))
    spans = numbered.group_by(SERIES).agg(
        pl.int_ranges(pl.col("period").min(), pl.col("period").max() + 1).first().alias("period")
    )
    missing = spans.explode("period").join(numbered, on=[SERIES, "period"], how="anti")
    return pl.DataFrame(
        {
            SERIES: missing[SERIES],
            DATE: pl.Series(frequency.dates(missing["period"].to_numpy()), dtype=pl.Date),
        },
        schema={SERIES: pl.String, DATE: pl.Date},
    ).sort(SERIES, DATE)
