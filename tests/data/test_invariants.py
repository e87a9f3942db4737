"""Every invariant of the data model holds on generated data, in the database as loaded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

# Each query counts the rows that break one rule; every count must be zero.
VIOLATIONS = {
    "case closed before it was submitted": "SELECT COUNT(*) FROM cases WHERE closed_at < submitted_at",
    "case status disagrees with closed_at": "SELECT COUNT(*) FROM cases WHERE (status = 'open') <> (closed_at IS NULL)",
    "case due before it was submitted": "SELECT COUNT(*) FROM cases WHERE due_at < submitted_at",
    "case of an unknown service": "SELECT COUNT(*) FROM cases c LEFT JOIN services s ON s.service_id = c.service_id WHERE s.service_id IS NULL",
    "case at an unknown office": "SELECT COUNT(*) FROM cases c LEFT JOIN offices o ON o.office_id = c.office_id WHERE o.office_id IS NULL",
    "digital case not at an online office": "SELECT COUNT(*) FROM cases c JOIN offices o ON o.office_id = c.office_id WHERE c.channel IN ('online', 'mobile_app') AND o.kind <> 'online'",
    "walk-in case not at a service centre": "SELECT COUNT(*) FROM cases c JOIN offices o ON o.office_id = c.office_id WHERE c.channel = 'in_person' AND o.kind <> 'service_centre'",
    "contact answered before it arrived": "SELECT COUNT(*) FROM contacts WHERE answered_at < arrived_at",
    "contact ended before it was answered": "SELECT COUNT(*) FROM contacts WHERE ended_at < answered_at",
    "abandoned contact that was answered": "SELECT COUNT(*) FROM contacts WHERE abandoned AND answered_at IS NOT NULL",
    "answered contact with no answer time": "SELECT COUNT(*) FROM contacts WHERE NOT abandoned AND answered_at IS NULL",
    "contact with no end": "SELECT COUNT(*) FROM contacts WHERE ended_at IS NULL",
    "contact at an unknown office": "SELECT COUNT(*) FROM contacts c LEFT JOIN offices o ON o.office_id = c.office_id WHERE o.office_id IS NULL",
    "journey completed before it started": "SELECT COUNT(*) FROM journeys WHERE completed_at < started_at",
    "journey resuming an unknown journey": "SELECT COUNT(*) FROM journeys j LEFT JOIN journeys e ON e.journey_id = j.resumed_from WHERE j.resumed_from IS NOT NULL AND e.journey_id IS NULL",
    "journey resuming a later one": "SELECT COUNT(*) FROM journeys j JOIN journeys e ON e.journey_id = j.resumed_from WHERE e.started_at > j.started_at",
    "journey of a service that is not digital": "SELECT COUNT(*) FROM journeys j JOIN services s ON s.service_id = j.service_id WHERE NOT s.digital",
    "rating outside 1 to 5": "SELECT COUNT(*) FROM feedback WHERE rating NOT BETWEEN 1 AND 5",
    "feedback of an unknown service": "SELECT COUNT(*) FROM feedback f LEFT JOIN services s ON s.service_id = f.service_id WHERE s.service_id IS NULL",
    "cost with a negative amount": "SELECT COUNT(*) FROM costs WHERE cost < 0 OR staff_hours < 0",
    "cost period ending before it starts": "SELECT COUNT(*) FROM costs WHERE period_end < period_start",
    "service of an unknown department": "SELECT COUNT(*) FROM services s LEFT JOIN departments d ON d.department_id = s.department_id WHERE d.department_id IS NULL",
    "incident ending before it starts": "SELECT COUNT(*) FROM incidents WHERE ends_at <= starts_at",
    "hours of an unknown office": "SELECT COUNT(*) FROM office_hours h LEFT JOIN offices o ON o.office_id = h.office_id WHERE o.office_id IS NULL",
}


@pytest.mark.parametrize("rule", list(VIOLATIONS))
def test_invariant_holds(db, rule):
    with db.connect() as conn:
        assert conn.execute(sa.text(VIOLATIONS[rule])).scalar_one() == 0, rule


def test_completion_never_exceeds_starts(db):
    """Resumed sessions are not new starts, so completions per service never exceed starts."""
    query = """
        SELECT service_id,
               SUM(CASE WHEN resumed_from IS NULL THEN 1 ELSE 0 END) AS starts,
               SUM(CASE WHEN completed_at IS NOT NULL THEN 1 ELSE 0 END) AS completions
        FROM journeys GROUP BY service_id
    """
    with db.connect() as conn:
        rows = conn.execute(sa.text(query)).fetchall()
    assert rows
    for service, starts, completions in rows:
        assert completions <= starts, service


def test_every_fact_table_is_filled(db):
    with db.connect() as conn:
        for table in ("cases", "contacts", "journeys", "feedback", "costs", "incidents", "office_closures"):
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one() > 0, table
