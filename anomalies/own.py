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

from anomalies.detect import (
    DetectionSettings,
    GrainSettings,
    Reference,
    collapsed,
    level_shifts,
    open_flags,
    score_series,
    shift_residuals,
)
from forecasting._frame import ForecastInputError
from forecasting.calendar import public_holidays
from forecasting.frequency import resolve_frequency

# An analyst's series: both directions, no IsolationForest; the noise of counts from their
# MAD only (a year's tail of past shocks inflated it about 2x on Boston 311); a busy day
# (50 expected or more) at half its expected value or less flags whatever its z, and one
# at 62% or less when also 1.5 noise scales below; a step of 3 to 14 days against the 21
# before it flags at 3.5 standard errors (detect.level_shifts; measured in
# bench/anomaly_quality_real.py, chosen at injection seed 3).
CSV_SETTINGS = DetectionSettings(
    directions="both", isolation=False, tail_kinds=("rate", "ratio", "quantile", "level"),
    busy_count=50.0, fall_share=0.62, fall_z=1.5, shift_z=3.5,
)
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
    settings = settings or CSV_SETTINGS
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
    known = known_days(country, subdivision, first, last)
    detector_kind, unit = KINDS[kind]
    frequency = resolve_frequency(clean.rename({"id": "series_id"}), None)
    grain = grain_settings(frequency.code, settings)
    rows: list[dict] = []
    short: list[str] = []
    scored_days = 0
    for (series_id,), part in clean.sort("id", "ds").partition_by(["id"], as_dict=True, maintain_order=True).items():
        periods = frequency.periods(part["ds"])
        days = frequency.dates(np.arange(periods.min(), periods.max() + 1))
        full = pl.DataFrame({"ds": days}, schema={"ds": pl.Date}).join(part.select("ds", "y"), on="ds", how="left")
        y = full["y"].fill_null(np.nan).to_numpy()
        holidays = np.array([d in known for d in days]) if frequency.code == "D" else np.zeros(y.size, dtype=bool)
        result = score_series(y, np.ones(y.size), holidays, detector_kind, unit, grain, settings)
        if not result.scored.any():
            short.append(str(series_id))
            continue
        scored_days += int(result.scored.sum())
        collapse = collapsed(y, result.expected, result.z, result.scored, detector_kind, settings)
        reference = Reference(y, result.expected, result.scale, grain.season) if settings.judge_against_before else None
        shifts = None
        if np.isfinite(settings.shift_z):
            residuals = shift_residuals(np.where(holidays, np.nan, y), result.expected, result.z, result.scored, detector_kind, grain)
            shifts = level_shifts(residuals, result.scored, settings)
        found = open_flags(result.z, np.zeros(y.size, dtype=int), result.scored, (1, -1), settings, collapse=collapse, reference=reference,
                           shifts=shifts)
        for first_i, _detected, last_i, sign, detector, recovered in found:
            row = {
                id_col: series_id, date_col: days[first_i], "expected": float(result.expected[first_i]),
                "actual": float(y[first_i]), "score": float(result.z[first_i]), "scale": float(result.scale[first_i]),
                "lower": float(result.expected[first_i] - settings.interval_z * result.scale[first_i]),
                "upper": float(result.expected[first_i] + settings.interval_z * result.scale[first_i]),
                "direction": "up" if sign > 0 else "down", "detector": detector, "last_date": days[last_i],
                "recovered_on": days[recovered] if recovered >= 0 else None,
            }
            row["explanation"] = explanation(row, date_col)
            rows.append(row)
    schema = {
        id_col: pl.String, date_col: pl.Date, "expected": pl.Float64, "actual": pl.Float64, "score": pl.Float64,
        "scale": pl.Float64, "lower": pl.Float64, "upper": pl.Float64, "direction": pl.String, "detector": pl.String,
        "last_date": pl.Date, "recovered_on": pl.Date, "explanation": pl.String,
    }
    flags = pl.DataFrame(rows, schema=schema).sort(id_col, date_col).with_columns(
        pl.col("expected", "actual", "lower", "upper", "scale").round(2), pl.col("score").round(2)
    )
    series = clean["id"].n_unique()
    holidays_text = f"public holidays of {country}{'/' + subdivision if subdivision else ''} are known days" if country else "no public holidays (pass --country)"
    summary = (
        f"{flags.height} flag(s) in {series} series ({frequency.label}; {scored_days:,} {frequency.unit}s scored; the first "
        f"{grain.warm_up} {frequency.unit}s of each are history); {holidays_text}"
    )
    if short:
        summary += f"; too short to score (under {grain.warm_up + 1} {frequency.unit}s): {', '.join(short)}"
    return flags, summary


def known_days(country: str | None, subdivision: str | None, first: dt.date, last: dt.date) -> set[dt.date]:
    """The public holidays of the country in [first, last] and the day after each run of
    them: days not scored (none without a country)."""
    if not country:
        return set()
    holidays = set(public_holidays(country, subdivision, first, last))
    known = set(holidays)
    for day in holidays:
        after = day + dt.timedelta(days=1)
        while after in holidays:
            after += dt.timedelta(days=1)
        known.add(after)
    return known


# Months: the same month over the last 6, a year of 12 back, two years of warm-up.
MONTH = GrainSettings(season=1, year=12, smooth=1, baseline=6, min_baseline=3, scale_window=24, min_scale=8, tail_window=24, warm_up=24)


def grain_settings(code: str, settings: DetectionSettings) -> GrainSettings:
    """The detector's windows for a file's frequency (D, W or M)."""
    return {"D": settings.day, "W": settings.week}.get(code, MONTH)


def explanation(row: dict, date_col: str) -> str:
    """'Fell to 44 against 388 expected (5.6 noise scales of 61 below it); still outside since 2015-11-26.'"""
    moved = "rose" if row["direction"] == "up" else "fell"
    side = "above" if row["score"] > 0 else "below"
    text = (
        f"{moved.capitalize()} to {row['actual']:,.6g} against {row['expected']:,.6g} expected "
        f"({abs(row['score']):.1f} noise scales of {row['scale']:,.4g} {side} it"
    )
    if row["direction"] == "down" and row["expected"] > 0 and row["actual"] <= 0.5 * row["expected"]:
        text += f"; {row['actual'] / row['expected']:.0%} of the expected level"
    text += ")"
    if row["detector"] == "level_shift":
        text += f"; a step {'up' if row['direction'] == 'up' else 'down'} from the level of the weeks before"
    if row["recovered_on"] is None:
        return text + f"; still outside since {row[date_col]}."
    if row["last_date"] > row[date_col]:
        return text + f"; outside to {row['last_date']}, back on {row['recovered_on']}."
    return text + "."
