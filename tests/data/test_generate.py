"""The generator: deterministic, large enough, and with the shapes a dashboard is read for."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.demo_world import COUNTRY, OFFICES, SERVICES, SUBDIVISION, TIMEZONE
from data.generate import Scenario, generate
from tests.conftest import SMALL

TINY = Scenario(seed=3, scale=0.01, end=date(2026, 6, 30))


def local(column: str) -> pl.Expr:
    return pl.col(column).dt.replace_time_zone("UTC").dt.convert_time_zone(TIMEZONE)


def test_same_seed_gives_identical_tables():
    first, second = generate(TINY, quiet=True), generate(TINY, quiet=True)
    assert first.keys() == second.keys()
    for name in first:
        assert_frame_equal(first[name], second[name])


def test_another_seed_gives_other_data():
    first = generate(TINY, quiet=True)
    other = generate(Scenario(seed=4, scale=0.01, end=TINY.end), quiet=True)
    assert not first["cases"].equals(other["cases"])
    # the world itself stays the same
    assert_frame_equal(first["services"], other["services"])


@pytest.mark.slow
def test_scale_one_gives_over_a_million_cases_with_their_companions():
    tables = generate(Scenario(seed=42, scale=1.0, end=date(2026, 11, 1)), quiet=True)
    assert tables["cases"].height >= 1_000_000
    assert tables["contacts"].height >= 500_000
    assert tables["journeys"].height >= 500_000
    assert tables["feedback"].height >= 100_000
    assert tables["costs"].height >= 100_000


def test_the_world_has_the_promised_size(small_tables):
    assert small_tables["departments"].height == 4
    assert small_tables["services"].height == len(SERVICES) == 16
    offices = small_tables["offices"]
    assert offices.height == len(OFFICES) == 12
    assert offices["region"].n_unique() == 3
    assert set(offices["kind"]) == {"service_centre", "contact_centre", "online"}


def test_three_years_ending_on_the_end_date(small_tables):
    submitted = small_tables["cases"].select(local("submitted_at").dt.date().alias("day"))["day"]
    assert submitted.max() == SMALL.end
    assert submitted.min() == date(SMALL.end.year - 3, SMALL.end.month, SMALL.end.day) + timedelta(days=1)


def test_default_end_is_yesterday():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert Scenario().end_date() == datetime.now(ZoneInfo(TIMEZONE)).date() - timedelta(days=1)


# ------------------------------------------------------------------ shapes


def daily_counts(frame: pl.DataFrame, column: str, *filters: pl.Expr) -> pl.DataFrame:
    return (
        frame.filter(*filters) if filters else frame
    ).group_by(local(column).dt.date().alias("day")).len()


def test_weekly_cycle_mondays_are_busier_than_sundays(small_tables):
    counts = daily_counts(small_tables["cases"], "submitted_at").with_columns(pl.col("day").dt.weekday().alias("weekday"))
    by_weekday = counts.group_by("weekday").agg(pl.col("len").mean()).sort("weekday")["len"].to_list()
    monday, sunday = by_weekday[0], by_weekday[6]
    assert monday > 1.5 * sunday


def test_yearly_season_self_assessment_peaks_in_january(small_tables):
    cases = small_tables["cases"].filter(pl.col("service_id") == "self_assessment")
    by_month = cases.group_by(local("submitted_at").dt.month().alias("month")).len()
    january = by_month.filter(pl.col("month") == 1)["len"].item()
    july = by_month.filter(pl.col("month") == 7)["len"].item()
    assert january > 2 * july


def test_offices_are_closed_on_public_holidays(small_tables):
    bank_holidays = holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=range(2023, 2027))
    cases = small_tables["cases"].with_columns(local("submitted_at").dt.date().alias("day"))
    first_day = date(SMALL.end.year - 3, SMALL.end.month, SMALL.end.day) + timedelta(days=1)
    holiday_days = [d for d in bank_holidays if first_day <= d <= SMALL.end]
    walk_ins = cases.filter(pl.col("day").is_in(holiday_days), pl.col("channel").is_in(["in_person", "phone", "mail"]))
    online = cases.filter(pl.col("day").is_in(holiday_days), pl.col("channel") == "online")
    assert walk_ins.height == 0
    assert online.height > 0  # the online service never closes
    contacts = small_tables["contacts"].filter(local("arrived_at").dt.date().is_in(holiday_days))
    assert contacts.height == 0
    closures = small_tables["office_closures"]
    assert {d for d in holiday_days if d.isoweekday() <= 6} <= set(closures["closed_on"])
    assert closures["closed_on"].max() > SMALL.end + timedelta(days=300)  # known ahead of time


def test_walk_ins_come_only_in_opening_hours(small_tables):
    visits = small_tables["contacts"].filter(pl.col("channel") == "in_person").with_columns(local("arrived_at").alias("at"))
    assert visits.filter(pl.col("at").dt.weekday() == 7).height == 0
    hours = visits["at"].dt.hour()
    assert hours.min() >= 9 and hours.max() < 17


def test_digital_take_up_grows_over_the_years(small_tables):
    cases = small_tables["cases"].with_columns(
        local("submitted_at").dt.date().alias("day"), pl.col("channel").is_in(["online", "mobile_app"]).alias("digital")
    )
    first_year = cases.filter(pl.col("day") < SMALL.end - timedelta(days=730))["digital"].mean()
    last_year = cases.filter(pl.col("day") > SMALL.end - timedelta(days=365))["digital"].mean()
    assert last_year > first_year + 0.10


def test_waits_rise_when_demand_outruns_the_roster(small_tables):
    """On demand-surge days (walk-ins far above what the roster was planned for) visitors
    wait longer and leave more often than in the four weeks before."""
    incidents = small_tables["incidents"].filter(pl.col("kind") == "demand_surge")
    contacts = small_tables["contacts"].with_columns((pl.col("answered_at") - pl.col("arrived_at")).dt.total_seconds().alias("wait"))
    during, before = [], []
    for surge in incidents.iter_rows(named=True):
        at_office = contacts.filter(pl.col("office_id") == surge["office_id"])
        during.append(at_office.filter(pl.col("arrived_at").is_between(surge["starts_at"], surge["ends_at"], closed="left")))
        before.append(at_office.filter(pl.col("arrived_at").is_between(surge["starts_at"] - timedelta(days=28), surge["starts_at"], closed="left")))
    surge_days, usual_days = pl.concat(during), pl.concat(before)
    assert surge_days["wait"].mean() > 1.4 * usual_days["wait"].mean()
    assert surge_days["abandoned"].mean() > 1.5 * usual_days["abandoned"].mean()


def test_satisfaction_falls_as_waits_grow(small_tables):
    """Across office-weeks, more waiting goes with fewer ratings of 4 or 5."""
    contacts = small_tables["contacts"].with_columns(
        (pl.col("answered_at") - pl.col("arrived_at")).dt.total_seconds().alias("wait"),
        pl.col("arrived_at").dt.truncate("1w").alias("week"),
    )
    waits = contacts.group_by("office_id", "week").agg(pl.col("wait").mean())
    ratings = (
        small_tables["feedback"]
        .filter(pl.col("channel").is_in(["phone", "in_person"]))
        .with_columns(pl.col("submitted_at").dt.truncate("1w").alias("week"))
        .group_by("office_id", "week")
        .agg((pl.col("rating") >= 4).mean().alias("top2"), pl.len().alias("n"))
        .filter(pl.col("n") >= 10)
    )
    joined = waits.join(ratings, on=["office_id", "week"])
    assert joined.select(pl.corr("wait", "top2")).item() < -0.1


def test_sla_misses_when_a_backlog_builds(small_tables):
    """Weeks in which a service's cases take longer (its queue backed up) are weeks in
    which fewer close on time; a slowed-down back office misses its due dates."""
    cases = small_tables["cases"].filter(pl.col("due_at").is_not_null(), pl.col("closed_at").is_not_null())
    closed = cases.with_columns(
        pl.col("closed_at").dt.truncate("1w").alias("week"),
        (pl.col("closed_at") <= pl.col("due_at")).alias("on_time"),
        (pl.col("closed_at") - pl.col("submitted_at")).dt.total_days().alias("days"),
    )
    passport = closed.filter(pl.col("service_id") == "passport")
    weekly = passport.group_by("week").agg(pl.col("on_time").mean(), pl.col("days").median(), pl.len()).filter(pl.col("len") >= 30)
    assert weekly.select(pl.corr("days", "on_time")).item() < -0.5
    for slowdown in small_tables["incidents"].filter(pl.col("kind") == "processing_slowdown").iter_rows(named=True):
        service = closed.filter(pl.col("service_id") == slowdown["service_id"])
        hit = service.filter(pl.col("submitted_at").is_between(slowdown["starts_at"], slowdown["ends_at"]))
        usual = service.filter(pl.col("submitted_at").is_between(slowdown["starts_at"] - timedelta(days=56), slowdown["starts_at"] - timedelta(days=14)))
        assert hit["on_time"].mean() < usual["on_time"].mean() - 0.10, slowdown["description"]
