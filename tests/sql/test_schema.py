"""The schema: created idempotently, and its constraints refuse impossible rows on both backends."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from data.database import create_engine, create_schema, table_names
from tests.conftest import BACKENDS

TABLES = {
    "departments", "services", "offices", "office_hours", "office_closures", "cases",
    "contacts", "journeys", "feedback", "costs", "incidents", "data_loads", "series", "observations",
}


@pytest.fixture(params=BACKENDS)
def empty_engine(request, tmp_path):
    if request.param == "duckdb":
        engine = create_engine(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    else:
        engine = create_engine(request.getfixturevalue("make_postgres_database")())
    yield engine
    engine.dispose()


def test_schema_is_created_and_can_be_created_again(empty_engine):
    create_schema(empty_engine)
    create_schema(empty_engine)  # idempotent: a second run changes nothing and does not fail
    assert table_names(empty_engine) >= TABLES


GOOD_CASE = dict(
    case_id=1, service_id="s", office_id="o", channel="online",
    submitted_at=datetime(2026, 1, 5, 9), due_at=datetime(2026, 1, 15, 9),
    closed_at=datetime(2026, 1, 6, 9), status="closed", outcome="approved",
)


@pytest.mark.parametrize(
    "change",
    [
        {"closed_at": datetime(2026, 1, 5, 8)},  # closed before it was submitted
        {"status": "open"},  # open but has a closed_at
        {"closed_at": None},  # closed without a closed_at
        {"channel": "carrier_pigeon"},
        {"due_at": datetime(2026, 1, 4)},  # due before it was submitted
        {"submitted_at": None},
    ],
    ids=["closed-before-submitted", "open-with-close", "closed-without-close", "unknown-channel", "due-before-submitted", "no-submitted"],
)
def test_cases_refuse_impossible_rows(empty_engine, change):
    create_schema(empty_engine)
    row = {**GOOD_CASE, **change}
    insert = sa.text(
        "INSERT INTO cases (case_id, service_id, office_id, channel, submitted_at, due_at, closed_at, status, outcome) "
        "VALUES (:case_id, :service_id, :office_id, :channel, :submitted_at, :due_at, :closed_at, :status, :outcome)"
    )
    with empty_engine.begin() as conn:
        conn.execute(insert, GOOD_CASE)  # the good row goes in
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.execute(insert, {**row, "case_id": 2})


@pytest.mark.parametrize("rating", [0, 6])
def test_feedback_ratings_are_one_to_five(empty_engine, rating):
    create_schema(empty_engine)
    insert = sa.text(
        "INSERT INTO feedback (feedback_id, service_id, office_id, channel, submitted_at, rating) "
        "VALUES (:id, 's', NULL, 'online', :at, :rating)"
    )
    with empty_engine.begin() as conn:
        conn.execute(insert, {"id": 1, "at": datetime(2026, 1, 1), "rating": 5})
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.execute(insert, {"id": 2, "at": datetime(2026, 1, 1), "rating": rating})


def test_an_abandoned_contact_cannot_have_been_answered(empty_engine):
    create_schema(empty_engine)
    insert = sa.text(
        "INSERT INTO contacts (contact_id, office_id, service_id, channel, arrived_at, answered_at, ended_at, abandoned) "
        "VALUES (:id, 'o', NULL, 'phone', :arrived, :answered, :ended, :abandoned)"
    )
    arrived, answered, ended = datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 9, 1), datetime(2026, 1, 1, 9, 5)
    with empty_engine.begin() as conn:
        conn.execute(insert, {"id": 1, "arrived": arrived, "answered": None, "ended": answered, "abandoned": True})
        conn.execute(insert, {"id": 2, "arrived": arrived, "answered": answered, "ended": ended, "abandoned": False})
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.execute(insert, {"id": 3, "arrived": arrived, "answered": answered, "ended": ended, "abandoned": True})
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.execute(insert, {"id": 4, "arrived": answered, "answered": arrived, "ended": ended, "abandoned": False})


def test_office_kinds_and_weekdays_are_checked(empty_engine):
    create_schema(empty_engine)
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO offices VALUES ('x', 'X', 'North', 'castle', 'Europe/London')")
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO office_hours VALUES ('x', 8, '09:00:00', '17:00:00')")


GOOD_OBSERVATION = {"observation_id": 1, "source": "nhs_ae", "series": "ae_four_hour", "grain": "month",
                    "period_start": "2019-02-01", "period_end": "2019-02-28", "numerator": 84.0, "denominator": 100.0,
                    "value": None}


@pytest.mark.parametrize(
    "change",
    [{"grain": "year"}, {"period_end": "2019-01-31"}, {"numerator": None}, {"denominator": 0.0}, {"period_start": None}],
    ids=["unknown-grain", "ends-before-start", "no-figure", "zero-denominator", "no-start"],
)
def test_observations_refuse_impossible_rows(empty_engine, change):
    create_schema(empty_engine)
    insert = sa.text(
        "INSERT INTO observations (observation_id, source, series, grain, period_start, period_end, numerator, "
        "denominator, value) VALUES (:observation_id, :source, :series, :grain, CAST(:period_start AS DATE), "
        "CAST(:period_end AS DATE), :numerator, :denominator, :value)"
    )
    with empty_engine.begin() as conn:
        conn.execute(insert, GOOD_OBSERVATION)
        conn.execute(insert, {**GOOD_OBSERVATION, "observation_id": 2, "numerator": None, "denominator": None, "value": 4.5})
    with pytest.raises(sa.exc.DBAPIError), empty_engine.begin() as conn:
        conn.execute(insert, {**GOOD_OBSERVATION, **change, "observation_id": 3})
