"""Fleet series ids, zeros, gaps and closed days, on a hand-made world of three offices."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from forecasting import ForecastInputError
from forecasting.series import build_fleet_series, history_summary, office_closed_days

MONDAY = dt.date(2023, 12, 25)
DAYS = [MONDAY + dt.timedelta(days=i) for i in range(14)]  # two weeks, Monday to Sunday
HOLIDAY = dt.date(2024, 1, 1)  # a Monday
NO_DATA = dt.date(2024, 1, 3)  # nothing at all was loaded that day: a gap

OFFICES = pl.DataFrame(
    {
        "office_id": ["web", "callcentre", "counter"],
        "name": ["Online", "Call Centre", "Counter"],
        "region": ["r", "r", "r"],
        "kind": ["online", "contact_centre", "service_centre"],
        "timezone": ["Europe/London"] * 3,
    }
)
HOURS = pl.DataFrame(
    [("web", d, "00:00:00", "24:00:00") for d in range(1, 8)]
    + [("callcentre", d, "08:00:00", "20:00:00") for d in range(1, 7)]  # Monday to Saturday
    + [("counter", d, "09:00:00", "17:00:00") for d in range(1, 6)],  # Monday to Friday
    schema={"office_id": pl.String, "weekday": pl.Int16, "opens_at": pl.String, "closes_at": pl.String},
    orient="row",
)
CLOSURES = pl.DataFrame(
    {
        "office_id": ["callcentre", "counter", "callcentre", "counter"],
        "closed_on": [HOLIDAY, HOLIDAY, dt.date(2024, 1, 12), dt.date(2024, 1, 12)],
        "reason": ["New Year's Day", "New Year's Day", "Future closure", "Future closure"],
    }
)
SERVICES = pl.DataFrame(
    {
        "service_id": ["passport", "tax"],
        "department_id": ["civil", "revenue"],
        "name": ["Passport application", "Tax return"],
        "sla_days": [15, 20],
        "digital": [True, False],
    }
)


def _is_open(office: str, day: dt.date) -> bool:
    if office == "web":
        return True
    if day == HOLIDAY:
        return False
    return day.isoweekday() <= (6 if office == "callcentre" else 5)


def daily_demand() -> pl.DataFrame:
    """passport: 10 online a day, 5 by phone when the call centre is open; tax: 3 at the counter."""
    rows = []
    for day in DAYS:
        if day == NO_DATA:
            continue
        rows.append((day, "civil", "passport", "web", "online", 10))
        if _is_open("callcentre", day):
            rows.append((day, "civil", "passport", "callcentre", "phone", 5))
        if _is_open("counter", day):
            rows.append((day, "revenue", "tax", "counter", "in_person", 3))
    return pl.DataFrame(
        rows,
        schema={
            "ds": pl.Date,
            "department_id": pl.String,
            "service_id": pl.String,
            "office_id": pl.String,
            "channel": pl.String,
            "cases": pl.Int64,
        },
        orient="row",
    )


def contact_intervals() -> pl.DataFrame:
    """Two calls at 09:00 and one at 09:30 on every day the call centre is open (a gap aside)."""
    rows = [
        ("callcentre", "phone", day, slot, calls, calls, 0, 300.0 * calls, 20.0 * calls)
        for day in DAYS
        if _is_open("callcentre", day) and day != NO_DATA
        for slot, calls in ((540, 2), (570, 1))
    ]
    return pl.DataFrame(
        rows,
        schema={
            "office_id": pl.String,
            "channel": pl.String,
            "ds": pl.Date,
            "slot": pl.Int32,
            "arrivals": pl.Int64,
            "answered": pl.Int64,
            "abandoned": pl.Int64,
            "handle_seconds": pl.Float64,
            "wait_seconds": pl.Float64,
        },
        orient="row",
    )


@pytest.fixture(scope="module")
def fleet():
    return build_fleet_series(
        daily_demand(), contact_intervals(), SERVICES, OFFICES, HOURS, CLOSURES, horizon=7
    )


def closed_on(fleet, series_id: str) -> list[dt.date]:
    return fleet.closed_days.filter(pl.col("series_id") == series_id)["ds"].to_list()


def test_series_ids_kinds_and_departments(fleet) -> None:
    expected = pl.DataFrame(
        [
            ("total", "total", None, None, "All cases"),
            ("service:passport", "service", "passport", "civil", "Passport application"),
            ("service:tax", "service", "tax", "revenue", "Tax return"),
            ("office:callcentre", "office", "callcentre", None, "Call Centre"),
            ("office:counter", "office", "counter", None, "Counter"),
            ("office:web", "office", "web", None, "Online"),
            ("channel:in_person", "channel", "in_person", None, "In person"),
            ("channel:online", "channel", "online", None, "Online"),
            ("channel:phone", "channel", "phone", None, "Phone"),
            ("contacts:callcentre", "contacts", "callcentre", None, "Calls to Call Centre"),
        ],
        schema=fleet.catalog.schema,
        orient="row",
    )
    assert_frame_equal(fleet.catalog, expected)
    assert fleet.data_end == DAYS[-1]


def test_phone_is_closed_on_sundays_and_holidays_but_the_total_never(fleet) -> None:
    sundays = [dt.date(2023, 12, 31), dt.date(2024, 1, 7), dt.date(2024, 1, 14)]
    future_closure = dt.date(2024, 1, 12)  # known in advance, inside the 7-day horizon
    assert closed_on(fleet, "channel:phone") == sorted([*sundays, HOLIDAY, future_closure])
    assert closed_on(fleet, "office:callcentre") == closed_on(fleet, "channel:phone")
    assert closed_on(fleet, "contacts:callcentre") == closed_on(fleet, "channel:phone")
    # passport is also sold online, and the web office never closes
    assert closed_on(fleet, "service:passport") == []
    assert closed_on(fleet, "total") == [] and closed_on(fleet, "office:web") == []
    # tax is only served at the counter: closed on weekends and on its closures
    weekends = [d for d in DAYS + [DAYS[-1] + dt.timedelta(days=i) for i in range(1, 8)] if d.isoweekday() >= 6]
    assert closed_on(fleet, "service:tax") == sorted([*weekends, HOLIDAY, future_closure])


def test_missing_combinations_are_zeros_and_a_day_without_data_is_a_gap(fleet) -> None:
    tax = fleet.values.filter(pl.col("series_id") == "service:tax")
    assert NO_DATA not in tax["ds"].to_list()
    saturday = tax.filter(pl.col("ds") == dt.date(2023, 12, 30))
    assert saturday["y"].to_list() == [0.0]  # closed that day: a known zero, kept as a row
    total = fleet.values.filter(pl.col("series_id") == "total")
    assert total.filter(pl.col("ds") == MONDAY)["y"].to_list() == [18.0]
    summary = history_summary(fleet).filter(pl.col("series_id").is_in(["total", "service:tax"]))
    assert summary.select("series_id", "open_days", "closed_days", "gap_days").rows() == [
        ("service:tax", 8, 5, 1),  # 14 days: 9 weekdays (one a holiday), 4 weekend days, 1 gap
        ("total", 13, 0, 1),
    ]


def test_an_office_without_any_hours_is_never_taken_as_closed() -> None:
    offices = OFFICES.vstack(
        pl.DataFrame({"office_id": ["pop_up"], "name": ["Pop-up"], "region": ["r"], "kind": ["service_centre"], "timezone": ["Europe/London"]})
    )
    closed = office_closed_days(offices, HOURS, CLOSURES.clear(), DAYS[0], DAYS[-1])
    assert closed.filter(pl.col("office_id") == "pop_up").height == 0
    assert closed.filter(pl.col("office_id") == "counter").height == 4  # two weekends


def test_no_cases_says_how_to_get_some() -> None:
    with pytest.raises(ForecastInputError, match="^no cases to forecast: run python -m data generate or import data$"):
        build_fleet_series(daily_demand().clear(), contact_intervals(), SERVICES, OFFICES, HOURS, CLOSURES)


def test_subset_names_unknown_series(fleet) -> None:
    assert fleet.subset(["total"]).catalog.height == 1
    with pytest.raises(ForecastInputError, match=r"unknown series service:nope; known: total, service:passport"):
        fleet.subset(["total", "service:nope"])
