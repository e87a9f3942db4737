"""Building and rebuilding a database; the default file is built when first needed."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

import data.build
import data.database
from data.build import build, ensure_database, row_counts
from data.database import create_engine
from data.generate import Scenario

TINY = Scenario(seed=11, scale=0.01, end=date(2026, 3, 31))


def test_a_rebuild_replaces_rather_than_appends(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    first = build(url, TINY, quiet=True)
    counts_after_first = row_counts(create_engine(url))
    second = build(url, TINY, quiet=True)
    counts_after_second = row_counts(create_engine(url))
    assert first == second
    assert {k: v for k, v in counts_after_second.items() if k != "data_loads"} == {
        k: v for k, v in counts_after_first.items() if k != "data_loads"
    }
    assert counts_after_second["data_loads"] == 1  # a fresh file each time


def test_a_rebuild_keeps_what_people_wrote_in_the_dashboard(tmp_path):
    """Acknowledged flags, subscriptions, sent notifications and notes on the record
    survive `python -m data generate` on a DuckDB file, and new ones get fresh ids after them."""
    from data.access import ALL, Viewer
    from data.notes import add_note
    from notify.subscriptions import Subscription, add_subscription

    analyst = Viewer("Ada", ALL, {"analyst"})

    def acknowledge(engine, key, status, by, note=None):  # as the page does, without needing a stored flag
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO anomaly_acks (flag_key, status, acked_by, acked_at, note) VALUES (:key, :status, :by, TIMESTAMP '2026-03-20 09:00:00', :note)"
            ), {"key": key, "status": status, "by": by, "note": note})

    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    build(url, TINY, quiet=True)
    engine = create_engine(url)
    first = add_subscription(engine, Subscription("Head of Civil", "weekly_digest", "email", "head@example.org", department_id="civil"))
    acknowledge(engine, "day|service|passport|volume|up|2026-03-02|robust_z", "known", "analyst", "Easter rush")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO notifications (subscription_id, event_key, rule, status, attempts, first_attempt_at, last_attempt_at, "
            "sent_at, subject) VALUES (:id, 'digest|2026-W12', 'weekly_digest', 'sent', 1, TIMESTAMP '2026-03-23 07:00:00', "
            "TIMESTAMP '2026-03-23 07:00:00', TIMESTAMP '2026-03-23 07:00:00', 'Weekly digest')"
        ), {"id": first})
    note = add_note(engine, analyst, kpi="volume", department_id="civil", noted_on=date(2026, 3, 2), note="Easter rush", today=date(2026, 3, 20))
    engine.dispose()

    build(url, TINY, quiet=True)
    engine = create_engine(url)
    with engine.connect() as conn:
        subscriptions = conn.execute(sa.text("SELECT subscription_id, subscriber, address FROM subscriptions")).all()
        acks = conn.execute(sa.text("SELECT flag_key, status, acked_by, note FROM anomaly_acks")).all()
        sent = conn.execute(sa.text("SELECT subscription_id, event_key, status FROM notifications")).all()
        noted = conn.execute(sa.text("SELECT note_id, kpi, department_id, noted_on, note, written_by FROM kpi_notes")).all()
    assert noted == [(note, "volume", "civil", date(2026, 3, 2), "Easter rush", "Ada")]
    assert subscriptions == [(first, "Head of Civil", "head@example.org")]
    assert acks == [("day|service|passport|volume|up|2026-03-02|robust_z", "known", "analyst", "Easter rush")]
    assert sent == [(first, "digest|2026-W12", "sent")]
    second = add_subscription(engine, Subscription("Analyst", "anomaly", "email", "analyst@example.org"))
    assert second > first  # the id sequence moved past the rows taken over
    acknowledge(engine, "day|total|all|volume|up|2026-03-09|robust_z", "acknowledged", "analyst")
    assert add_note(engine, analyst, kpi=None, noted_on=date(2026, 3, 9), note="Strike", today=date(2026, 3, 20)) > note
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(DISTINCT ack_id) FROM anomaly_acks")).scalar_one() == 2
    engine.dispose()


def test_rebuilding_postgresql_replaces_in_one_transaction(make_postgres_database):
    url = make_postgres_database()
    build(url, TINY, quiet=True)
    build(url, TINY, quiet=True)
    counts = row_counts(create_engine(url))
    assert counts["cases"] == row_counts(create_engine(url))["cases"] > 0
    assert counts["data_loads"] == 2  # both loads are recorded


def test_the_default_database_is_built_the_first_time_it_is_needed(tmp_path, monkeypatch):
    path = tmp_path / "kpi.duckdb"
    monkeypatch.setattr(data.build, "DEFAULT_DUCKDB_PATH", path)
    monkeypatch.setattr(data.database, "DEFAULT_DUCKDB_PATH", path)
    monkeypatch.setattr(data.build, "DEFAULT_SCENARIO", TINY)
    monkeypatch.delenv("KPI_DATABASE_URL", raising=False)
    engine = ensure_database(quiet=True)
    assert path.exists()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM cases")).scalar_one() > 1000
    # a second call finds it and builds nothing
    modified = path.stat().st_mtime_ns
    ensure_database(quiet=True)
    assert path.stat().st_mtime_ns == modified


def test_a_named_empty_database_gets_the_schema_but_no_data(tmp_path):
    url = f"duckdb:///{tmp_path / 'mine.duckdb'}"
    engine = ensure_database(url, quiet=True)
    assert row_counts(engine)["cases"] == 0
