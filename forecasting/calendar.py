"""Public holidays and closed days, from the `holidays` package."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays
import numpy as np
import polars as pl

from forecasting._frame import DATE, SERIES, ForecastInputError


def public_holidays(
    country: str | None, subdivision: str | None, start: dt.date, end: dt.date
) -> list[dt.date]:
    """Observed public holidays between start and end (inclusive), sorted.

    The union of the national list and the subdivision's list: with `holidays` 0.109,
    US/MA omits the national "observed" Friday of a Saturday holiday (2015-07-03) on
    which Boston's offices did close, while MA adds Patriots' Day. None -> no holidays.
    """
    if country is None:
        return []
    years = range(start.year, end.year + 1)
    try:
        national = holidays.country_holidays(country, years=years)
        local = (
            holidays.country_holidays(country, subdiv=subdivision, years=years)
            if subdivision
            else {}
        )
    except NotImplementedError as error:
        raise ForecastInputError(
            f"Unknown country code {country!r} for public holidays; use an ISO 3166 "
            "code such as 'US', 'GB' or 'DE', or country=None for no holidays."
        ) from error
    except ValueError as error:
        raise ForecastInputError(
            f"{error} (country={country!r}, subdivision={subdivision!r})."
        ) from error
    days = set(national) | set(local)
    return sorted(day for day in days if start <= day <= end)


def holiday_closed_days(
    series_ids: Iterable[str],
    start: dt.date,
    end: dt.date,
    country: str,
    subdivision: str | None = None,
    id_col: str = SERIES,
    date_col: str = DATE,
) -> pl.DataFrame:
    """(id_col, date_col) rows closing every given series on every public holiday.

    For offices that shut on public holidays: pass the result as `closed_days` so those
    days are forecast as 0 and not learned as noise. Cover the forecast horizon too.
    """
    days = public_holidays(country, subdivision, start, end)
    ids = list(dict.fromkeys(str(s) for s in series_ids))
    return pl.DataFrame(
        {id_col: [s for s in ids for _ in days], date_col: [d for _ in ids for d in days]},
        schema={id_col: pl.String, date_col: pl.Date},
    )


def holiday_names(
    country: str | None, subdivision: str | None, start: dt.date, end: dt.date
) -> dict[dt.date, str]:
    """{day: name} of the observed public holidays between start and end (inclusive).

    The same days as `public_holidays` (national and subdivision lists), named for people
    (a day in both lists keeps the subdivision's name, e.g. "Boxing Day"). None -> {}.
    """
    days = public_holidays(country, subdivision, start, end)
    if not days:
        return {}
    years = range(start.year, end.year + 1)
    names = dict(holidays.country_holidays(country, years=years))
    if subdivision:
        names.update(holidays.country_holidays(country, subdiv=subdivision, years=years))
    return {day: str(names.get(day, "Public holiday")) for day in days}


def working_days(
    frequency: object,
    periods: Iterable[int],
    country: str | None,
    subdivision: str | None = None,
) -> np.ndarray:
    """Working days in each period: Monday to Friday, public holidays on them left out.

    frequency: a forecasting.frequency.Frequency; periods: its period numbers. This is
    how holidays reach weekly and monthly series: a week with a bank holiday has 4, a
    month 19 to 23 (fewer weekdays and every holiday in it). Why working days rather than
    a holiday count: for a month they also carry its number of weekdays, which moves
    office demand as much as a holiday does; for a week the two are the same figure.
    country None: weekdays only.
    """
    spans = [frequency.span(p) for p in periods]  # type: ignore[attr-defined]
    if not spans:
        return np.zeros(0)
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    holidays_on = set(public_holidays(country, subdivision, first, last))
    counts = []
    for start, end in spans:
        days = (start + dt.timedelta(days=k) for k in range((end - start).days + 1))
        counts.append(sum(1 for d in days if d.weekday() < 5 and d not in holidays_on))
    return np.array(counts, dtype=np.float64)
