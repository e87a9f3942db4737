"""Public holidays and closed days."""

from __future__ import annotations

import datetime as dt

import pytest

from forecasting import ForecastInputError
from forecasting.calendar import holiday_closed_days, public_holidays


def test_subdivision_adds_local_days_and_keeps_national_observed_days() -> None:
    days = public_holidays("US", "MA", dt.date(2015, 1, 1), dt.date(2015, 12, 31))
    assert dt.date(2015, 4, 20) in days  # Patriots' Day, Massachusetts only
    assert dt.date(2015, 7, 3) in days  # Independence Day observed (national list)
    assert days == sorted(days) and len(days) == len(set(days))
    assert public_holidays(None, None, dt.date(2015, 1, 1), dt.date(2015, 12, 31)) == []


def test_unknown_country_says_what_to_use() -> None:
    with pytest.raises(ForecastInputError, match="Unknown country code 'XX'"):
        public_holidays("XX", None, dt.date(2015, 1, 1), dt.date(2015, 2, 1))


def test_holiday_closed_days_cover_every_series() -> None:
    closed = holiday_closed_days(["a", "b"], dt.date(2015, 12, 1), dt.date(2016, 1, 5), "US")
    assert closed.columns == ["series_id", "ds"]
    assert closed.rows() == [
        ("a", dt.date(2015, 12, 25)),
        ("a", dt.date(2016, 1, 1)),
        ("b", dt.date(2015, 12, 25)),
        ("b", dt.date(2016, 1, 1)),
    ]
