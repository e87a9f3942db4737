"""NHS England's A&E attendances and 4-hour breaches (../shared/data/README.md), an
aggregate series, imported on DuckDB and PostgreSQL and read back through the product.

England's 4-hour performance per month must be the sum of (attendances - breaches) over
the sum of attendances of the file itself, computed here with plain Polars over the CSV,
and with plain SQL over the loaded table as a second, independent reading.
"""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.database import create_engine
from data.extracts import run_extract
from data.importer import import_file
from metrics.aggregate import aggregate
from tests.conftest import SHARED_DATA
from tests.imports.conftest import rows, scalar

NHS_AE_FILE = SHARED_DATA / "nhs_ae_attendances_2016_2019.csv"
DEPARTMENT = "nhs_england_ae"
WHOLE_FILE = {"first_day": date(2016, 4, 1), "last_day": date(2019, 3, 31)}


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def nhs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(url, result, admissions): the file imported into an empty database with nhs_ae, then nhs_ae_admissions."""
    if not NHS_AE_FILE.is_file():
        pytest.skip(f"the real file is not at {NHS_AE_FILE}")
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('nhs') / 'nhs.duckdb'}"
    else:
        url = request.getfixturevalue("make_postgres_database")()
    result = import_file(NHS_AE_FILE, "nhs_ae", url)
    admissions = import_file(NHS_AE_FILE, "nhs_ae_admissions", url)
    return url, result, admissions


def _csv() -> pl.DataFrame:
    return pl.read_csv(NHS_AE_FILE, schema_overrides={"type": pl.String, "period": pl.Date})


def _observations(url: str, series: str = "ae_four_hour") -> pl.DataFrame:
    engine = create_engine(url)
    try:
        frame = run_extract(engine, "observations", departments=[DEPARTMENT], **WHOLE_FILE)
    finally:
        engine.dispose()
    return frame.filter(pl.col("series") == series)


def test_it_reconciles_exactly_with_the_one_impossible_row_quarantined(nhs):
    url, result, _admissions = nhs
    r = result.reconciliation
    assert (r.read, r.loaded, r.inserted, r.excluded, r.quarantined) == (
        12_765, 12_764, 12_764, {}, {"admissions_above_attendances": 1})
    assert r.balanced
    rejected = rows(url, "SELECT line, column_name, rule, raw_row FROM import_rejects WHERE load_id = :load_id",
                    load_id=result.load_id)
    assert len(rejected) == 1
    line, column, rule, raw = rejected[0]
    assert (line, column, rule) == (10_447, "admissions", "admissions_above_attendances")
    assert json.loads(raw) == {"period": "2018-10-01", "org_code": "RTX", "type": "2", "attendances": "74.0",
                               "breaches": "0.0", "admissions": "92.0"}


def test_the_rows_and_dimensions_are_as_in_the_file(nhs):
    url, _result, _admissions = nhs
    assert rows(url, "SELECT series_id, label, unit, direction, kind FROM series WHERE series_id LIKE 'ae%' ORDER BY 1") == [
        ("ae_emergency_admissions", "Emergency admissions via A&E", "count", "context", "count"),
        ("ae_four_hour", "A&E 4-hour standard: attendances seen within 4 hours", "%", "higher", "ratio")]
    assert rows(url, "SELECT DISTINCT source, grain, target FROM observations WHERE series = 'ae_four_hour'") == [
        ("nhs_ae", "month", 0.95)]
    assert scalar(url, "SELECT COUNT(DISTINCT office_id) FROM observations") == 274
    assert rows(url, "SELECT service_id, COUNT(*) FROM observations WHERE series = 'ae_four_hour' "
                     "GROUP BY service_id ORDER BY 1") == [
        ("nhs_ae_other", 6_698), ("nhs_ae_type_1", 4_932), ("nhs_ae_type_2", 1_134)]
    # 2017-03-01,RF4,1,21289.0,2879.0,5060.0: counts stored as floats
    assert rows(url, "SELECT series, period_start, period_end, numerator, denominator FROM observations "
                     "WHERE office_id = 'nhs_rf4' AND service_id = 'nhs_ae_type_1' AND period_start = DATE '2017-03-01' "
                     "ORDER BY series") == [
        ("ae_emergency_admissions", date(2017, 3, 1), date(2017, 3, 31), 5_060.0, None),
        ("ae_four_hour", date(2017, 3, 1), date(2017, 3, 31), 21_289.0 - 2_879.0, 21_289.0)]


def test_englands_monthly_four_hour_performance_is_recomputed_from_its_parts(nhs):
    url, _result, _admissions = nhs
    expected = (
        _csv().group_by("period")
        .agg(seen=(pl.col("attendances") - pl.col("breaches")).sum(), attendances=pl.col("attendances").sum())
        .with_columns(value=pl.col("seen") / pl.col("attendances"))
        .sort("period")
    )
    england = aggregate(_observations(url))
    assert england.height == 36
    assert england.get_column("note").null_count() == 36
    assert england.get_column("period_start").to_list() == expected.get_column("period").to_list()
    # The one quarantined row (RTX, 2018-10) has no breaches: its 74 attendances are all
    # that the product's October 2018 lacks.
    october = expected.get_column("period") == date(2018, 10, 1)
    expected = expected.with_columns(
        seen=pl.when(october).then(pl.col("seen") - 74).otherwise(pl.col("seen")),
        attendances=pl.when(october).then(pl.col("attendances") - 74).otherwise(pl.col("attendances")),
    ).with_columns(value=pl.col("seen") / pl.col("attendances"))
    assert_frame_equal(
        england.select(period="period_start", seen="numerator", attendances="denominator", value="value"),
        expected.select("period", pl.col("seen").cast(pl.Float64), pl.col("attendances").cast(pl.Float64), "value"),
    )
    lowest, highest = england.sort("value").row(0, named=True), england.sort("value").row(-1, named=True)
    assert (lowest["period_start"], round(100 * lowest["value"], 2)) == (date(2019, 2, 1), 84.23)
    assert (highest["period_start"], round(100 * highest["value"], 2)) == (date(2016, 8, 1), 90.98)
    assert england.get_column("value").max() < 0.95  # never met the standard


ENGLAND_BY_QUARTER_SQL = """
SELECT CAST(EXTRACT(YEAR FROM period_start) AS INTEGER) AS year,
       CAST(FLOOR((EXTRACT(MONTH FROM period_start) - 1) / 3) AS INTEGER) + 1 AS quarter,
       SUM(numerator) / SUM(denominator) AS value
FROM observations WHERE series = 'ae_four_hour'
GROUP BY 1, 2 ORDER BY 1, 2
"""


def test_quarters_and_financial_years_are_ratios_of_sums_like_plain_sql(nhs):
    url, _result, _admissions = nhs
    observations = _observations(url)
    quarters = aggregate(observations, "quarter")
    by_sql = rows(url, ENGLAND_BY_QUARTER_SQL)
    assert quarters.height == len(by_sql) == 12
    assert quarters.get_column("periods").to_list() == [3] * 12
    for row, (year, quarter, value) in zip(quarters.iter_rows(named=True), by_sql, strict=True):
        assert row["period_start"] == date(year, 3 * quarter - 2, 1)
        assert row["value"] == pytest.approx(value, rel=1e-12)
    years = aggregate(observations, "financial_year")
    assert years.get_column("period_start").to_list() == [date(2016, 4, 1), date(2017, 4, 1), date(2018, 4, 1)]
    assert years.get_column("period_end").to_list() == [date(2017, 3, 31), date(2018, 3, 31), date(2019, 3, 31)]
    csv = _csv().filter(~((pl.col("org_code") == "RTX") & (pl.col("type") == "2") & (pl.col("period") == date(2018, 10, 1))))
    by_year = (csv.with_columns(year=pl.col("period").dt.year() - (pl.col("period").dt.month() < 4).cast(pl.Int32))
               .group_by("year").agg(value=(pl.col("attendances") - pl.col("breaches")).sum() / pl.col("attendances").sum())
               .sort("year"))
    assert years.get_column("value").to_list() == pytest.approx(by_year.get_column("value").to_list(), rel=1e-12)
    # Never the mean of the months' percentages (the months differ in size).
    months = aggregate(observations).filter(pl.col("period_start") < date(2017, 4, 1))
    assert years.get_column("value")[0] != pytest.approx(months.get_column("value").mean(), rel=1e-9)


def test_a_viewer_of_other_departments_sees_no_observation(nhs):
    url, _result, _admissions = nhs
    engine = create_engine(url)
    try:
        assert run_extract(engine, "observations", departments=["transport"], **WHOLE_FILE).height == 0
    finally:
        engine.dispose()


def test_importing_the_file_again_changes_nothing(nhs):
    url, _result, _admissions = nhs
    before = scalar(url, "SELECT COUNT(*) FROM observations")
    again = import_file(NHS_AE_FILE, "nhs_ae", url)
    assert again.written.already is not None
    assert (again.reconciliation.inserted, again.reconciliation.updated, again.reconciliation.unchanged) == (0, 0, 12_764)
    assert scalar(url, "SELECT COUNT(*) FROM observations") == before == 2 * 12_764
    assert scalar(url, "SELECT COUNT(*) FROM imports") == 2


def test_emergency_admissions_are_a_count_that_adds_up(nhs):
    url, _result, admissions = nhs
    r = admissions.reconciliation
    assert (r.read, r.loaded, r.quarantined) == (12_765, 12_764, {"admissions_above_attendances": 1})
    csv = _csv().filter(~((pl.col("org_code") == "RTX") & (pl.col("type") == "2") & (pl.col("period") == date(2018, 10, 1))))
    expected = csv.group_by("period").agg(pl.col("admissions").sum().cast(pl.Float64)).sort("period")
    months = aggregate(_observations(url, "ae_emergency_admissions"))
    assert months.select(period="period_start", admissions="value").rows() == expected.rows()
    years = aggregate(_observations(url, "ae_emergency_admissions"), "financial_year")
    assert years.get_column("value").sum() == csv.get_column("admissions").sum()
    assert years.get_column("denominator").null_count() == 3
