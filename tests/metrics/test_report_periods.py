"""Month, quarter and financial year to date: the spans (hand cases), the setting, and the
period scorecard's figures against the engine and against a plain count."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from data.facts import load_facts
from metrics.engine import compute
from metrics.report_periods import financial_year_label, financial_year_start, report_period
from metrics.scorecard import period_scorecard
from metrics.targets import TargetsError, load_targets
from tests.conftest import SMALL
from tests.metrics.builders import cases as make_cases
from tests.metrics.builders import facts


def test_a_complete_month_is_compared_with_the_whole_previous_month_and_the_same_month_last_year():
    period = report_period("month", date(2026, 11, 29), as_of=date(2026, 12, 3))
    assert (period.this.first_day, period.this.last_day, period.partial) == (date(2026, 11, 1), date(2026, 11, 30), False)
    assert period.previous is not None
    assert (period.previous.first_day, period.previous.last_day) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (period.last_year.first_day, period.last_year.last_day) == (date(2025, 11, 1), date(2025, 11, 30))
    assert period.heading() == "November 2026"


def test_a_month_to_date_is_partial_and_compared_over_the_same_days():
    period = report_period("month", date(2026, 12, 6), as_of=date(2026, 12, 3))
    assert period.partial
    assert (period.this.first_day, period.this.last_day) == (date(2026, 12, 1), date(2026, 12, 3))
    assert period.previous is not None
    assert (period.previous.first_day, period.previous.last_day) == (date(2026, 11, 1), date(2026, 11, 3))
    assert (period.last_year.first_day, period.last_year.last_day) == (date(2025, 12, 1), date(2025, 12, 3))
    assert period.heading() == "December 2026 to Thu 3 Dec 2026"


def test_a_month_to_date_longer_than_the_previous_month_stops_at_its_end():
    period = report_period("month", date(2027, 3, 31), as_of=date(2027, 3, 30))
    assert period.previous is not None
    assert (period.previous.first_day, period.previous.last_day) == (date(2027, 2, 1), date(2027, 2, 28))


def test_quarters_and_their_previous_across_a_year_end():
    period = report_period("quarter", date(2026, 2, 10), as_of=date(2026, 12, 3))
    assert (period.this.first_day, period.this.last_day, period.label) == (date(2026, 1, 1), date(2026, 3, 31), "2026 Q1")
    assert period.previous is not None
    assert (period.previous.first_day, period.previous.last_day, period.previous.label) == (date(2025, 10, 1), date(2025, 12, 31), "2025 Q4")
    assert period.last_year.label == "2025 Q1"


def test_the_financial_year_to_date_starts_in_its_month_and_has_one_comparison():
    period = report_period("fytd", date(2026, 11, 29), as_of=date(2026, 12, 3))
    assert (period.this.first_day, period.this.last_day, period.label) == (date(2026, 4, 1), date(2026, 11, 29), "FY 2026-27")
    assert period.previous is None  # its previous period is the same span a year earlier
    assert (period.last_year.first_day, period.last_year.last_day, period.last_year.label) == (date(2025, 4, 1), date(2025, 11, 29), "FY 2025-26")
    assert period.heading() == "FY 2026-27 to Sun 29 Nov 2026"
    # a day before the start month belongs to the year that started the April before
    assert financial_year_start(date(2026, 3, 31)) == date(2025, 4, 1)
    # a calendar financial year
    january = report_period("fytd", date(2026, 11, 29), as_of=date(2026, 12, 3), financial_year_start_month=1)
    assert (january.this.first_day, january.label) == (date(2026, 1, 1), "FY 2026")
    assert financial_year_label(date(2026, 7, 1)) == "FY 2026-27"


def test_bad_periods_and_settings_are_refused_with_what_to_write(tmp_path: Path):
    with pytest.raises(ValueError, match="use one of month, quarter, fytd"):
        report_period("year", date(2026, 1, 1), as_of=date(2026, 1, 1))
    with pytest.raises(ValueError, match="month number from 1 to 12"):
        financial_year_start(date(2026, 1, 1), 13)
    with pytest.raises(ValueError, match="the data ends on 2026-12-03"):
        report_period("month", date(2027, 1, 5), as_of=date(2026, 12, 3))
    bad = tmp_path / "targets.toml"
    bad.write_text('version = "x"\nfinancial_year_start = 0\n')
    with pytest.raises(TargetsError, match="financial_year_start must be a month number"):
        load_targets(bad)
    assert load_targets().financial_year_start == 4


def test_a_month_scorecard_counts_its_own_days_hand_computed():
    data = facts(cases=make_cases(
        *[{"submitted_at": "2026-10-31 23:59", "channel": "phone"}] * 6,  # October, local time
        *[{"submitted_at": "2026-11-01 00:00", "channel": "online"}] * 3,  # November from midnight
        *[{"submitted_at": "2026-11-03 10:00", "channel": "phone"}] * 2,
        *[{"submitted_at": "2026-11-30 23:00", "channel": "online"}] * 5,
        *[{"submitted_at": "2025-11-15 10:00", "channel": "online"}] * 7,  # a year earlier
    ))
    card = period_scorecard(data, report_period("month", date(2026, 11, 29), as_of=date(2026, 12, 3)))
    rows = {row["kpi"]: row for row in card.rows.iter_rows(named=True)}
    assert card.week == "November 2026"
    assert rows["volume"]["value"] == 10
    assert rows["volume"]["last_week"] == 6  # October as a whole
    assert rows["volume"]["same_week_last_year"] == 7
    assert rows["digital_take_up"]["value"] == pytest.approx(80.0)  # 8 of 10
    assert rows["digital_take_up"]["last_week"] == pytest.approx(0.0)
    # the month to date: the first three days of December against the first three of November
    to_date = period_scorecard(data, report_period("month", date(2026, 12, 2), as_of=date(2026, 12, 3)))
    rows = {row["kpi"]: row for row in to_date.rows.iter_rows(named=True)}
    assert rows["volume"]["value"] == 0
    assert rows["volume"]["last_week"] == 5  # 1-3 November, not the whole month
    assert "compared over the same days" in rows["volume"]["note"]


@pytest.fixture(scope="module")
def two_years_of_facts(duckdb_url, all_departments):
    from data.database import create_engine

    engine = create_engine(duckdb_url)
    loaded = load_facts(engine, all_departments, SMALL.end - timedelta(days=800), SMALL.end)
    engine.dispose()
    return loaded


@pytest.mark.parametrize("kind", ["month", "quarter", "fytd"])
def test_period_figures_are_the_engines_over_each_span_for_every_department(two_years_of_facts, kind):
    period = report_period(kind, date(2026, 10, 18), as_of=SMALL.end)
    card = period_scorecard(two_years_of_facts, period, by="department_id")
    spans = {"value": period.this, "last_week": period.previous, "same_week_last_year": period.last_year}
    checked = 0
    for column, span in spans.items():
        if span is None:
            assert card.rows[column].is_null().all()
            continue
        expected = compute(two_years_of_facts, None, by=["department_id"], first_day=span.first_day, last_day=span.last_day).values
        joined = card.rows.join(expected.select(pl.col("department_id").fill_null("(unknown)").alias("scope"), "kpi", pl.col("value").alias("engine")),
                                on=["scope", "kpi"], how="left").filter(pl.col("applicable"))
        assert joined.height > 0
        for row in joined.iter_rows(named=True):
            assert row[column] == pytest.approx(row["engine"], nan_ok=True), (kind, column, row["scope"], row["kpi"])
            checked += 1
    assert checked > 100
    # every scope has a composite and a status in words
    assert set(card.composite["scope"]) == set(card.rows["scope"])


def test_a_quarters_volume_is_a_plain_count_of_its_cases(two_years_of_facts, duckdb_url):
    """Independent of the engine: cases submitted in 2026 Q3 (local dates), counted in SQL."""
    import duckdb

    period = report_period("quarter", date(2026, 8, 1), as_of=SMALL.end)
    card = period_scorecard(two_years_of_facts, period, by="department_id")
    path = duckdb_url.removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as connection:
        counted = dict(connection.execute(
            """
            SELECT s.department_id, count(*)
            FROM cases c JOIN services s USING (service_id) JOIN offices o USING (office_id)
            WHERE CAST(timezone(o.timezone, CAST(c.submitted_at AS TIMESTAMPTZ)) AS DATE) BETWEEN ? AND ?
            GROUP BY 1
            """,
            [period.this.first_day, period.this.last_day],
        ).fetchall())
    volumes = {row["scope"]: row["value"] for row in card.rows.filter(pl.col("kpi") == "volume").iter_rows(named=True) if row["value"]}
    assert volumes == {department: float(count) for department, count in counted.items()}
