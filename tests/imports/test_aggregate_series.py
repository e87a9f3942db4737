"""Aggregate files into observations: periods as governments write them, counts stored as
floats, and fields the target does not take (an error unless ignore = true)."""

from __future__ import annotations

import json
from datetime import date

import pytest

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
    assert (r.read, r.loaded) == (6, 3)
    assert r.quarantined == {"bad_number": 1, "bad_period": 1, "denominator_not_positive": 1}
    assert r.excluded == {}
    # A numerator above its denominator is the mapping's to refuse (a cost per transaction
    # is such a ratio): here 100 of 90 loads; "21,289.0" is a whole number.
    assert rows(url, "SELECT source, series, service_id, grain, period_start, period_end, numerator, denominator, target "
                     "FROM observations ORDER BY period_start") == [
        ("standards", "standard_met", "passports", "financial_year", date(2016, 4, 1), date(2017, 3, 31), 21_289.0, 25_000.0, 0.9),
        ("standards", "standard_met", "passports", "financial_year", date(2018, 4, 1), date(2019, 3, 31), 100.0, 90.0, 0.9),
        ("standards", "standard_met", "passports", "financial_year", date(2019, 4, 1), date(2020, 3, 31), 80.0, 100.0, None),
    ]
    rejects = {rule: (line, column, message) for line, column, rule, message in
               rows(url, "SELECT line, column_name, rule, message FROM import_rejects")}
    assert rejects["bad_number"] == (3, "met", "met '21289.5' is not a whole number")
    assert rejects["bad_period"] == (5, "year", "year 'Q3 2017' is not a financial year like 2016-17 or 2016/17")
    assert rejects["denominator_not_positive"][:2] == (6, "total")  # the column it came from
    assert json.loads(rows(url, "SELECT raw_row FROM import_rejects WHERE rule = 'bad_period'")[0][0])["year"] == "Q3 2017"


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
