"""An analyst's own daily series: ``python -m anomalies detect-csv --csv FILE``.

The same detector as the dashboard's (anomalies.detect) on each series of a
long frame (id, date, value): weekday-adjusted robust z-scores against the seasonal
same-weekday median, flagged in either direction when a day is ``z_alone`` scales out or
outside the wide interval on ``persistence`` days running. With ``country`` its public
holidays and the day after each are known days (not scored). Series are counts by
default (Poisson noise); ``kind='rate'`` reads percentages (0-100, binomial noise needs
counts, so only the spread of the series is used), ``kind='value'`` any measure.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from anomalies.detect import DetectionSettings, open_flags, score_series
from forecasting._frame import ForecastInputError
from forecasting.calendar import public_holidays

KINDS = {"count": ("count", "count"), "rate": ("level", "%"), "value": ("level", "value")}


def flag_csv_series(
    frame: pl.DataFrame,
    *,
    id_col: str = "series_id",
    date_col: str = "ds",
    value_col: str = "y",
    country: str | None = None,
    subdivision: str | None = None,
    kind: str = "count",
    settings: DetectionSettings | None = None,
) -> tuple[pl.DataFrame, str]:
    """(flags, summary line). Flags: id, date, expected, actual, score (z), lower,
    upper, direction, detector, last_date; one row per flag, by series and date."""
    settings = settings or DetectionSettings(directions="both", isolation=False)
    if kind not in KINDS:
        raise ForecastInputError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    values = frame[value_col]
    if not values.dtype.is_numeric():
        bad = frame.filter(values.cast(pl.Float64, strict=False).is_null() & values.is_not_null())[value_col]
        raise ForecastInputError(
            f"column '{value_col}' must hold numbers; {bad.len()} value(s) are not, e.g. {bad[0]!r}."
        )
    clean = frame.select(
        pl.col(id_col).cast(pl.String).alias("id"), pl.col(date_col).alias("ds"), pl.col(value_col).cast(pl.Float64).alias("y")
    ).filter(pl.col("ds").is_not_null())
    if clean.height == 0:
        raise ForecastInputError("the file has no rows with a date; there is nothing to look at.")
    duplicated = clean.filter(pl.struct("id", "ds").is_duplicated())
    if duplicated.height:
        row = duplicated.row(0, named=True)
        raise ForecastInputError(
            f"series {row['id']!r} has {duplicated.filter((pl.col('id') == row['id']) & (pl.col('ds') == row['ds'])).height} "
            f"rows for {row['ds']}; give one row per series and day (sum them first)."
        )
    if kind == "count" and clean.filter(pl.col("y") < 0).height:
        row = clean.filter(pl.col("y") < 0).row(0, named=True)
        raise ForecastInputError(
            f"series {row['id']!r} has a negative count ({row['y']:g} on {row['ds']}); use --kind value for measures that can be negative."
        )
    first, last = clean["ds"].min(), clean["ds"].max()
    known: set[dt.date] = set()
    if country:
        holidays = set(public_holidays(country, subdivision, first, last))
        known = set(holidays)
        for day in holidays:
            after = day + dt.timedelta(days=1)
            while after in holidays:
                after += dt.timedelta(days=1)
            known.add(after)
    detector_kind, unit = KINDS[kind]
    rows: list[dict] = []
    short: list[str] = []
    scored_days = 0
    for (series_id,), part in clean.sort("id", "ds").partition_by(["id"], as_dict=True, maintain_order=True).items():
        start, end = part["ds"].min(), part["ds"].max()
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        full = pl.DataFrame({"ds": days}, schema={"ds": pl.Date}).join(part.select("ds", "y"), on="ds", how="left")
        y = full["y"].fill_null(np.nan).to_numpy()
        result = score_series(
            y, np.ones(y.size), np.array([d in known for d in days]), detector_kind, unit, settings.day, settings
        )
        if not result.scored.any():
            short.append(str(series_id))
            continue
        scored_days += int(result.scored.sum())
        found = open_flags(result.z, np.zeros(y.size, dtype=int), result.scored, (1, -1), settings)
        for first_i, _detected, last_i, sign, detector in found:
            rows.append({
                id_col: series_id, date_col: days[first_i], "expected": float(result.expected[first_i]),
                "actual": float(y[first_i]), "score": float(result.z[first_i]),
                "lower": float(result.expected[first_i] - settings.interval_z * result.scale[first_i]),
                "upper": float(result.expected[first_i] + settings.interval_z * result.scale[first_i]),
                "direction": "up" if sign > 0 else "down", "detector": detector, "last_date": days[last_i],
            })
    schema = {
        id_col: pl.String, date_col: pl.Date, "expected": pl.Float64, "actual": pl.Float64, "score": pl.Float64,
        "lower": pl.Float64, "upper": pl.Float64, "direction": pl.String, "detector": pl.String, "last_date": pl.Date,
    }
    flags = pl.DataFrame(rows, schema=schema).sort(id_col, date_col).with_columns(
        pl.col("expected", "actual", "lower", "upper").round(2), pl.col("score").round(2)
    )
    series = clean["id"].n_unique()
    holidays_text = f"public holidays of {country}{'/' + subdivision if subdivision else ''} are known days" if country else "no public holidays (pass --country)"
    summary = (
        f"{flags.height} flag(s) in {series} series ({scored_days:,} days scored; the first 8 weeks of each are history); {holidays_text}"
    )
    if short:
        summary += f"; too short to score (under about 10 weeks): {', '.join(short)}"
    return flags, summary
