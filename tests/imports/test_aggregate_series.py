"""Aggregate files into observations: periods as governments write them, counts stored as
floats, and fields the target does not take (an error unless ignore = true)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from data.database import create_engine
from data.extracts import run_extract
from data.importer import import_file
from data.importer.errors import ImportFailed
from data.importer.mapping import load_mapping
from data.importer.reporting_periods import parse_period
from tests.imports.conftest import rows


@pytest.mark.parametrize(
    ("text", "form", "expected"),
    [
        ("2017-03-01", "month", (date(2017, 3, 1), date(2017, 3, 31), "month")),
        ("2016-02", "month", (date(2016, 2, 1), date(2016, 2, 29), "month")),
        ("Mar 2017", "month", (date(2017, 3, 1), date(2017, 3, 31), "month")),
        ("2019-03-03", "week_ending", (date(2019, 2, 25), date(2019, 3, 3), "week")),
        ("2019-02-25", "week_starting", (date(2019, 2, 25), date(2019, 3, 3), "week")),
        ("2016-17", "financial_year", (date(2016, 4, 1), date(2017, 3, 31), "financial_year")),
        ("2016/17", "financial_year", (date(2016, 4, 1), date(2017, 3, 31), "financial_year")),
        ("2099/2100", "financial_year", (date(2099, 4, 1), date(2100, 3, 31), "financial_year")),
        ("1999-00", "financial_year", (date(1999, 4, 1), date(2000, 3, 31), "financial_year")),
        ("2017 Q3", "quarter", (date(2017, 7, 1), date(2017, 9, 30), "quarter")),
        ("2017-Q4", "quarter", (date(2017, 10, 1), date(2017, 12, 31), "quarter")),
        ("Q1 2018", "quarter", (date(2018, 1, 1), date(2018, 3, 31), "quarter")),
        ("Q3 2017-18", "quarter", (date(2017, 10, 1), date(2017, 12, 31), "quarter")),  # financial: Oct-Dec
        ("Q4 2017/18", "quarter", (date(2018, 1, 1), date(2018, 3, 31), "quarter")),
        ("2016-17", "any", (date(2016, 4, 1), date(2017, 3, 31), "financial_year")),
        ("Q3 2017-18", "any", (date(2017, 10, 1), date(2017, 12, 31), "quarter")),
        ("2017-03", "any", (date(2017, 3, 1), date(2017, 3, 31), "month")),
        ("2011-12", "month", (date(2011, 12, 1), date(2011, 12, 31), "month")),
        ("2011-12", "financial_year", (date(2011, 4, 1), date(2012, 3, 31), "financial_year")),
        (date(2017, 3, 1), "month", (date(2017, 3, 1), date(2017, 3, 31), "month")),  # a real date (Excel, Parquet)
    ],
)
def test_each_period_form_reads_to_its_first_and_last_day(text, form, expected):
    assert parse_period(text, form) == expected


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("2017-03-15", "month"),  # a month is its first day
        ("2017-13", "month"),
        ("2016-18", "financial_year"),  # not consecutive years
        ("2017 Q5", "quarter"),
        ("2017-03-01", "any"),  # a date does not say its grain
        ("2011-12", "any"),  # December 2011, or the financial year 2011-12?
        ("2016-17", "quarter"),
        ("2017 Q3", "financial_year"),
        ("last March", "month"),
        ("2019-02-30", "week_ending"),
        ("", "month"),
    ],
)
def test_a_text_that_is_not_such_a_period_gives_none(text, form):
    assert parse_period(text, form) is None


def test_a_financial_year_may_start_in_another_month():
    assert parse_period("2016-17", "financial_year", year_starts=7) == (date(2016, 7, 1), date(2017, 6, 30), "financial_year")
    assert parse_period("Q1 2016-17", "quarter", year_starts=7) == (date(2016, 7, 1), date(2016, 9, 30), "quarter")


MAPPING = """
[source]
name = "standards"
key = ["year", "service"]
timezone = "America/Toronto"
max_unparseable = 0.5  # a tiny file: one bad value is a sixth of it

[target]
table = "observations"

[fields]
period_start = {{ from = "year", period = "financial_year" }}
met = {{ from = "met", type = "integer" }}
numerator = {{ sql = "met" }}
denominator = {{ from = "total", type = "float" }}
target = {{ from = "target", type = "float" }}
series = {{ value = "standard_met" }}
service_id = {{ slug = ["service"] }}
{extra}

[dimensions.departments]
department_id = {{ value = "ircc" }}
name = {{ value = "Immigration, Refugees and Citizenship Canada" }}

[dimensions.services]
service_id = "service_id"
department_id = {{ value = "ircc" }}
name = {{ value = "A service" }}
digital = false

[dimensions.series]
series_id = "series"
label = {{ value = "Service standard met" }}
unit = {{ value = "%" }}
direction = {{ value = "higher" }}
kind = {{ value = "ratio" }}
"""

FILE = """year,service,met,total,target,note
2016-17,Passports,"21,289.0",25000.0,0.9,a
2017/18,Passports,21289.5,25000.0,0.9,b
2018-19,Passports,100.0,90.0,0.9,c
Q3 2017,Passports,1.0,2.0,0.9,d
2019-20,Visas,80.0,0.0,0.8,e
2019-20,Passports,80.0,100.0,,f
"""


def _write(tmp_path, extra: str = ""):
    mapping = tmp_path / "standards.toml"
    mapping.write_text(MAPPING.format(extra=extra))
    export = tmp_path / "standards.csv"
    export.write_text(FILE)
    return mapping, export


def test_periods_counts_and_invariants_of_an_aggregate_file(tmp_path):
    mapping, export = _write(tmp_path)
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    result = import_file(export, mapping, url)
    r = result.reconciliation
    assert (r.read, r.loaded) == (6, 2)
    assert r.quarantined == {"bad_number": 1, "bad_period": 1, "denominator_not_positive": 1, "numerator_above_denominator": 1}
    assert r.excluded == {}
    assert r.balanced
    # 100 met of 90 is above 100% for a share (a ratio in %): the target itself refuses it.
    # "21,289.0" is a whole number.
    assert rows(url, "SELECT source, series, service_id, grain, period_start, period_end, numerator, denominator, target "
                     "FROM observations ORDER BY period_start") == [
        ("standards", "standard_met", "passports", "financial_year", date(2016, 4, 1), date(2017, 3, 31), 21_289.0, 25_000.0, 0.9),
        ("standards", "standard_met", "passports", "financial_year", date(2019, 4, 1), date(2020, 3, 31), 80.0, 100.0, None),
    ]
    rejects = {rule: (line, column, message) for line, column, rule, message in
               rows(url, "SELECT line, column_name, rule, message FROM import_rejects")}
    assert rejects["bad_number"] == (3, "met", "met '21289.5' is not a whole number")
    assert rejects["bad_period"] == (5, "year", "year 'Q3 2017' is not a financial year like 2016-17 or 2016/17")
    assert rejects["denominator_not_positive"][:2] == (6, "total")  # the column it came from
    assert rejects["numerator_above_denominator"] == (
        4, "numerator", "numerator 100.0 is above denominator 90.0: standard_met is a share (%), which cannot be above 100%")
    assert json.loads(rows(url, "SELECT raw_row FROM import_rejects WHERE rule = 'bad_period'")[0][0])["year"] == "Q3 2017"
    # No department_id of their own: the observations belong to their service's department.
    engine = create_engine(url)
    try:
        window = {"first_day": date(2016, 1, 1), "last_day": date(2020, 12, 31)}
        seen = run_extract(engine, "observations", departments=["ircc"], **window)
        assert seen.get_column("department_id").to_list() == ["ircc"] * 2
        assert seen.get_column("kind").unique().to_list() == ["ratio"]
        assert run_extract(engine, "observations", departments=["transport"], **window).height == 0
    finally:
        engine.dispose()


def test_a_period_field_with_when_is_empty_where_it_is_not_true(tmp_path):
    mapping, export = _write(tmp_path)
    mapping.write_text(mapping.read_text().replace(
        'period = "financial_year" }', 'period = "financial_year", when = "year <> \'Q3 2017\'" }'))
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    r = import_file(export, mapping, url).reconciliation
    # Q3 2017 is not read, so not bad_period: its period is empty instead (missing_value).
    assert r.quarantined == {"bad_number": 1, "missing_value": 1, "denominator_not_positive": 1, "numerator_above_denominator": 1}


def test_a_field_the_target_does_not_take_is_an_error_unless_ignored(tmp_path):
    mapping, _export = _write(tmp_path, 'remark = { from = "note" }')
    with pytest.raises(ImportFailed) as error:
        load_mapping(mapping)
    assert ("[fields.remark] is not a column of observations, and no rule, other field or dimension uses it, so it "
            "would be dropped: remove it, or write ignore = true if it is read on purpose") in str(error.value)
    mapping, _export = _write(tmp_path, 'remark = { from = "note", ignore = true }')
    assert "remark" in load_mapping(mapping).field_names()
    mapping, _export = _write(tmp_path, 'value = { from = "met", type = "float", ignore = true }')
    with pytest.raises(ImportFailed, match=r"\[fields.value\] is a column of observations: it cannot be ignore = true"):
        load_mapping(mapping)


def test_a_period_field_gives_period_end_and_grain_itself(tmp_path):
    mapping, _export = _write(tmp_path, 'grain = { value = "month" }')
    with pytest.raises(ImportFailed, match=r"\[fields.grain\] is made by the period field period_start: remove it"):
        load_mapping(mapping)
    mapping, _export = _write(tmp_path)
    text = mapping.read_text().replace('period = "financial_year"', 'period = "fiscal"')
    mapping.write_text(text)
    with pytest.raises(ImportFailed, match=r"period must be one of month, week_ending, week_starting, quarter, financial_year, any"):
        load_mapping(mapping)


def test_the_source_column_is_filled_by_the_importer(tmp_path):
    mapping, _export = _write(tmp_path, 'source = { value = "mine" }')
    with pytest.raises(ImportFailed, match=r"\[fields\] must not give source: the importer fills it with \[source\] name"):
        load_mapping(mapping)


WIDE_MAPPING = r"""
[source]
name = "transactions"
key = ["service", "period"]
timezone = "Europe/London"
max_unparseable = 0.5
unpivot = { pattern = '^\d{4} Q[1-4]$', name = "period", value = "transactions" }

[target]
table = "observations"

[fields]
period_start = { from = "period", period = "quarter" }
numerator = { from = "transactions", type = "integer" }
series = { value = "transactions" }
service_id = { slug = ["service"] }
department_id = { value = "gds" }
notes = { from = "notes", ignore = true }

[dimensions.departments]
department_id = { value = "gds" }
name = { value = "Government Digital Service" }

[dimensions.services]
service_id = "service_id"
department_id = { value = "gds" }
name = { value = "A service" }
digital = true

[dimensions.series]
series_id = "series"
label = { value = "Transactions" }
unit = { value = "count" }
direction = { value = "context" }
kind = { value = "count" }
"""


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_wide_sheet_is_unpivoted_and_reconciled_in_cells(tmp_path, new_database, backend):
    mapping = tmp_path / "transactions.toml"
    mapping.write_text(WIDE_MAPPING)
    export = tmp_path / "wide.csv"
    export.write_text("service,2017 Q1,2017 Q2,2017 Q3,notes\n"
                      "Passports,100.0,120.0,,none\n"
                      "Visas,50.0,x,70.0,\n")
    url = new_database(backend)
    result = import_file(export, mapping, url)
    r = result.reconciliation
    assert (r.read, r.lines, r.loaded, r.excluded, r.quarantined) == (6, 2, 4, {"empty_cell": 1}, {"bad_number": 1})
    assert r.balanced
    assert "  read                    6   (cells: 2 lines, one row per unpivoted column)" in result.report()
    assert rows(url, "SELECT service_id, grain, period_start, period_end, numerator FROM observations "
                     "ORDER BY service_id, period_start") == [
        ("passports", "quarter", date(2017, 1, 1), date(2017, 3, 31), 100.0),
        ("passports", "quarter", date(2017, 4, 1), date(2017, 6, 30), 120.0),
        ("visas", "quarter", date(2017, 1, 1), date(2017, 3, 31), 50.0),
        ("visas", "quarter", date(2017, 7, 1), date(2017, 9, 30), 70.0),
    ]
    [(line, column, message, raw)] = rows(url, "SELECT line, column_name, message, raw_row FROM import_rejects")
    assert (line, column, message) == (3, "transactions", "transactions 'x' is not a whole number")
    assert json.loads(raw) == {"service": "Visas", "notes": None, "period": "2017 Q2", "transactions": "x"}
    assert any("line 2: the cell of column '2017 Q3' is empty" in text for text in r.examples["empty_cell"])

    again = import_file(export, mapping, url)
    assert (again.reconciliation.inserted, again.reconciliation.unchanged) == (0, 4)
    export.write_text("service,2017 Q1,2017 Q2,2017 Q3,2017 Q4,notes\n"
                      "Passports,100.0,125.0,,90,none\n"
                      "Visas,50.0,x,70.0,,\n")
    newer = import_file(export, mapping, url).reconciliation
    assert (newer.inserted, newer.updated, newer.unchanged) == (1, 1, 3)
    assert rows(url, "SELECT numerator FROM observations WHERE service_id = 'passports' AND period_start = DATE '2017-04-01'") == [(125.0,)]


def test_unpivot_mistakes_are_named(tmp_path):
    mapping = tmp_path / "transactions.toml"
    mapping.write_text(WIDE_MAPPING.replace('key = ["service", "period"]', 'key = ["service"]'))
    with pytest.raises(ImportFailed, match=r"\[source\] key must include the unpivot column 'period'"):
        load_mapping(mapping)
    mapping.write_text(WIDE_MAPPING)
    export = tmp_path / "long.csv"
    export.write_text("service,Q1,notes\nPassports,1,\n")
    with pytest.raises(ImportFailed, match=r"unpivot pattern .* matches no column of long.csv; its header has: service, Q1, notes"):
        import_file(export, mapping, f"duckdb:///{tmp_path / 'kpi.duckdb'}")


def test_columns_the_mapping_does_not_read_are_named_unless_ignored(tmp_path):
    mapping = tmp_path / "transactions.toml"
    mapping.write_text(WIDE_MAPPING)
    export = tmp_path / "wide.csv"
    export.write_text("service,2017 Q1,notes,owner,url\nPassports,100.0,,HMPO,https://gov.uk\n")
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    warnings = import_file(export, mapping, url).warnings
    assert ("2 column(s) of wide.csv are not read by mapping transactions: owner, url (list them in [source] ignore = "
            "[...] to say they are left out on purpose)") in warnings
    mapping.write_text(WIDE_MAPPING.replace('max_unparseable = 0.5', 'max_unparseable = 0.5\nignore = ["owner", "url"]'))
    assert not [w for w in import_file(export, mapping, url).warnings if "not read" in w]


def test_a_registry_kpi_may_be_the_series(tmp_path):
    mapping = tmp_path / "take_up.toml"
    text = WIDE_MAPPING.replace('series = { value = "transactions" }', 'series = { value = "digital_take_up" }')
    text = text.replace('numerator = { from = "transactions", type = "integer" }',
                        'numerator = { from = "transactions", type = "integer" }\ndenominator = { from = "all", type = "integer" }')
    mapping.write_text(text[: text.index("[dimensions.series]")])
    export = tmp_path / "wide.csv"
    export.write_text("service,all,2017 Q1,notes\nPassports,100,60,\n")
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    result = import_file(export, mapping, url)
    assert "series" not in result.written.created  # the registry's KPIs are in series from the start (061_registry_series.sql)
    assert rows(url, "SELECT series_id, label, unit, direction, kind FROM series WHERE series_id = 'digital_take_up'") == [
        ("digital_take_up", "Digital take-up", "%", "higher", "ratio")]
    assert rows(url, "SELECT COUNT(*) FROM observations WHERE series = 'digital_take_up'") == [(1,)]
    mapping.write_text(text[: text.index("[dimensions.series]")].replace('"digital_take_up"', '"no_such_kpi"'))
    with pytest.raises(ImportFailed, match=r"series 'no_such_kpi' is not in series: add a \[dimensions.series\] section"):
        import_file(export, mapping, f"duckdb:///{tmp_path / 'other.duckdb'}")


def test_only_a_share_refuses_a_numerator_above_its_denominator(tmp_path):
    """A ratio in £ (cost per transaction: cost over transactions) has a numerator far above
    its denominator and loads; a share named by the registry (digital take-up, known from
    the schema even before the database exists) does not."""
    mapping, export = _write(tmp_path)
    mapping.write_text(MAPPING.format(extra="").replace('unit = { value = "%" }', 'unit = { value = "£" }'))
    export.write_text("year,service,met,total,target,note\n2018-19,Passports,3800.0,100.0,40.0,a\n")
    url = f"duckdb:///{tmp_path / 'cost.duckdb'}"
    assert import_file(export, mapping, url).reconciliation.loaded == 1
    text = MAPPING.format(extra="").replace('value = "standard_met"', 'value = "digital_take_up"')
    mapping.write_text(text[: text.index("[dimensions.series]")])
    export.write_text("year,service,met,total,target,note\n2018-19,Passports,120.0,100.0,0.8,a\n2019-20,Passports,60.0,100.0,0.8,b\n")
    url = f"duckdb:///{tmp_path / 'take_up.duckdb'}"
    r = import_file(export, mapping, url).reconciliation
    assert (r.read, r.loaded, r.quarantined) == (2, 1, {"numerator_above_denominator": 1})
    assert rows(url, "SELECT numerator, denominator FROM observations") == [(60.0, 100.0)]
