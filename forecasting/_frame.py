"""Input validation shared by every forecaster, the backtest and the CLI.

Every public entry point takes ONE long Polars frame, one row per (series, day), with
configurable column names. Here it is checked loudly and renamed to the canonical
internal columns ``series_id`` (string), ``ds`` (pl.Date) and ``y`` (Float64).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable

import polars as pl

SERIES = "series_id"
DATE = "ds"
VALUE = "y"

ClosedDays = pl.DataFrame | Iterable[tuple[str, dt.date]] | None


class ForecastInputError(ValueError):
    """An input frame or argument cannot be used; the message says how to fix it."""


def suggest_column(missing: str, available: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" when a close match exists, else ''."""
    available = list(available)
    lowered = {name.lower(): name for name in available}
    if missing.lower() in lowered:
        return f" (did you mean '{lowered[missing.lower()]}'?)"
    matches = difflib.get_close_matches(missing, available, n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def require_columns(frame: pl.DataFrame, columns: dict[str, str]) -> None:
    """Raise one error listing every missing column, each with its role and a close match."""
    problems = [
        f"{role} '{name}'{suggest_column(name, frame.columns)}"
        for role, name in columns.items()
        if name not in frame.columns
    ]
    if problems:
        available = ", ".join(frame.columns) or "(none)"
        raise ForecastInputError(
            f"missing column(s): {'; '.join(problems)}. Available columns: {available}. "
            "Name them with id_col=/date_col=/value_col= (CLI: --id-col/--date-col/--value-col)."
        )


def _as_date(frame: pl.DataFrame, date_col: str) -> pl.Series:
    """The date column as pl.Date, parsing ISO strings; raise on anything else."""
    column = frame[date_col]
    dtype = column.dtype
    if dtype == pl.Date:
        return column
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            raise ForecastInputError(
                f"Column '{date_col}' has time zone {dtype.time_zone}; daily forecasting "
                "needs local calendar dates. Convert to local time and drop the zone, "
                "e.g. pl.col(...).dt.convert_time_zone('America/New_York').dt.date()."
            )
        if (column.dt.truncate("1d") != column).any():
            raise ForecastInputError(
                f"Column '{date_col}' holds times of day, not dates. Aggregate to one "
                "row per calendar day first, e.g. "
                f"frame.group_by(id, pl.col('{date_col}').dt.date()).len()."
            )
        return column.dt.date()
    if dtype == pl.String:
        parsed = column.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        bad = column.filter(parsed.is_null() & column.is_not_null())
        if bad.len():
            examples = ", ".join(repr(v) for v in bad.head(3).to_list())
            raise ForecastInputError(
                f"Column '{date_col}' has {bad.len()} value(s) that are not dates in "
                f"YYYY-MM-DD form, e.g. {examples}. Convert them to dates first."
            )
        return parsed
    raise ForecastInputError(
        f"Column '{date_col}' must hold dates (pl.Date or YYYY-MM-DD strings), got "
        f"{dtype}. Convert it with pl.col('{date_col}').cast(pl.Date) or str.to_date()."
    )


def validate_series_frame(
    frame: pl.DataFrame,
    id_col: str = SERIES,
    date_col: str = DATE,
    value_col: str = VALUE,
) -> pl.DataFrame:
    """Check a long (series, date, value) frame and return it canonical and sorted.

    Returns columns series_id (String), ds (Date), y (Float64), sorted by series and
    date. Raises ForecastInputError naming the problem and the fix: not a Polars frame,
    missing columns, non-date dates, null dates or ids, non-numeric or negative or
    non-finite values, duplicate (series, date) rows, or an empty frame.
    """
    if not isinstance(frame, pl.DataFrame):
        raise ForecastInputError(
            f"Expected a polars.DataFrame, got {type(frame).__name__}. Convert it with "
            "pl.from_pandas(df) or pl.DataFrame(...)."
        )
    require_columns(frame, {"series id": id_col, "date": date_col, "value": value_col})
    if frame.height == 0:
        raise ForecastInputError("The frame has no rows; there is nothing to forecast.")
    dates = _as_date(frame, date_col)
    if dates.null_count():
        raise ForecastInputError(
            f"Column '{date_col}' has {dates.null_count()} empty value(s); drop those rows."
        )
    if frame[id_col].null_count():
        raise ForecastInputError(
            f"Column '{id_col}' has {frame[id_col].null_count()} empty value(s); give "
            "every row a series id (use one constant id for a single series)."
        )
    values = frame[value_col]
    if not values.dtype.is_numeric():
        raise ForecastInputError(
            f"Column '{value_col}' must be numeric, got {values.dtype}. Cast it with "
            f"pl.col('{value_col}').cast(pl.Float64)."
        )
    values = values.cast(pl.Float64)
    if values.null_count() or values.is_nan().any() or values.is_infinite().any():
        raise ForecastInputError(
            f"Column '{value_col}' has empty, NaN or infinite values; drop those rows. "
            "A day with no data is a gap (leave the row out), not a zero."
        )
    if (values < 0).any():
        raise ForecastInputError(
            f"Column '{value_col}' has {(values < 0).sum()} negative value(s); demand "
            "counts cannot be negative. Fix or drop those rows."
        )
    canonical = pl.DataFrame({SERIES: frame[id_col].cast(pl.String), DATE: dates, VALUE: values})
    duplicates = canonical.filter(pl.struct(SERIES, DATE).is_duplicated())
    if duplicates.height:
        first = duplicates.row(0, named=True)
        raise ForecastInputError(
            f"{duplicates.height} rows share a ({id_col}, {date_col}) pair, e.g. "
            f"({first[SERIES]!r}, {first[DATE]}). Aggregate to one row per series and "
            f"day first, e.g. frame.group_by('{id_col}', '{date_col}').agg(pl.col("
            f"'{value_col}').sum())."
        )
    return canonical.sort(SERIES, DATE)


def validate_closed_days(
    closed_days: ClosedDays, id_col: str = SERIES, date_col: str = DATE
) -> pl.DataFrame:
    """Closed days as a canonical (series_id, ds) frame; accepts a frame or pairs.

    A closed day is a day on which a series is known to have zero demand by design
    (an office shut on a public holiday), not by chance.
    """
    if closed_days is None:
        return pl.DataFrame(schema={SERIES: pl.String, DATE: pl.Date})
    if not isinstance(closed_days, pl.DataFrame):
        pairs = list(closed_days)
        bad = [p for p in pairs if not (isinstance(p, tuple) and len(p) == 2)]
        if bad:
            raise ForecastInputError(
                f"closed_days must be a frame ({id_col}, {date_col}) or (series_id, date) "
                f"pairs; got {bad[0]!r}."
            )
        closed_days = pl.DataFrame(
            {id_col: [str(p[0]) for p in pairs], date_col: [p[1] for p in pairs]},
            schema={id_col: pl.String, date_col: pl.Date},
        )
    require_columns(closed_days, {"closed-day series id": id_col, "closed-day date": date_col})
    return (
        pl.DataFrame(
            {
                SERIES: closed_days[id_col].cast(pl.String),
                DATE: _as_date(closed_days, date_col),
            }
        )
        .drop_nulls()
        .unique()
        .sort(SERIES, DATE)
    )


def check_horizon(horizon: int, unit: str = "day") -> int:
    """The horizon in periods (days, weeks, months) as an int >= 1, or a ForecastInputError."""
    if isinstance(horizon, bool) or not isinstance(horizon, int):
        raise ForecastInputError(f"horizon must be a whole number of {unit}s, got {horizon!r}.")
    if horizon < 1:
        raise ForecastInputError(
            f"horizon must be at least 1 {unit}, got {horizon}. It counts {unit}s after the "
            "last date of each series."
        )
    return horizon


def find_gaps(
    frame: pl.DataFrame,
    closed_days: ClosedDays = None,
    id_col: str = SERIES,
    date_col: str = DATE,
    value_col: str = VALUE,
    freq: str = "auto",
) -> pl.DataFrame:
    """Periods missing inside each series' own date range, known closed days excepted.

    Returns (id_col, date_col) rows, one per missing day, week or month (the frequency
    read from the dates, or `freq`), sorted. Missing periods are data-quality problems to
    report, never zeros: the forecasters skip them.
    """
    from forecasting.frequency import resolve_frequency

    canonical = validate_series_frame(frame, id_col, date_col, value_col)
    closed = validate_closed_days(closed_days, id_col, date_col)
    frequency = resolve_frequency(canonical, freq)
    return _gaps(canonical, closed, frequency).rename({SERIES: id_col, DATE: date_col})


def _gaps(canonical: pl.DataFrame, closed: pl.DataFrame, frequency: object = None) -> pl.DataFrame:
    """find_gaps on canonical frames; frequency: a forecasting.frequency.Frequency (daily)."""
    from forecasting.frequency import DAILY, missing_periods

    return (
        missing_periods(canonical, frequency or DAILY)  # type: ignore[arg-type]
        .join(closed, on=[SERIES, DATE], how="anti")
        .sort(SERIES, DATE)
    )
