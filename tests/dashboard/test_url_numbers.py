"""Numbers in a link are parsed one way (dashboard/params.parse_number): a value that is
not a finite number is refused, one out of range is clamped, and the page says so in one
line instead of failing (issue 15, item 11). The planner's what-ifs: tests/dashboard/test_planner.py."""

from __future__ import annotations

import sys

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.params import parse_number
from tests.conftest import ROOT

if str(ROOT / "dashboard") not in sys.path:
    sys.path.insert(0, str(ROOT / "dashboard"))
PAGE_FILE = str(ROOT / "dashboard" / "pages" / "drilldown.py")


@pytest.mark.parametrize(
    ("raw", "value", "problem"),
    [
        (None, 7, None),
        ("", 7, None),
        ("12", 12, None),
        ("12.4", 12, None),
        ("0", 1, "The link's n=0 is outside 1 to 100: using 1."),
        ("99999999999999999999999", 100, "The link's n=99999999999999999999999 is outside 1 to 100: using 100."),
        ("1e400", 7, "The link's n=1e400 is not a number: using 7."),
        ("inf", 7, "The link's n=inf is not a number: using 7."),
        ("-inf", 7, "The link's n=-inf is not a number: using 7."),
        ("nan", 7, "The link's n=nan is not a number: using 7."),
        ("ten", 7, "The link's n=ten is not a number: using 7."),
        ("x" * 100, 7, f"The link's n={'x' * 40}… is not a number: using 7."),
    ],
)
def test_parse_number(raw, value, problem):
    assert parse_number("n", raw, 7, min_value=1, max_value=100) == (value, problem)


@pytest.mark.parametrize("raw", ["99999999999999999999999", "1e400", "inf", "-inf", "nan", "-3", "two"])
def test_a_drilldown_page_number_that_cannot_be_a_page_opens_the_first_page_with_a_message(app_env, raw):
    at = AppTest.from_file(PAGE_FILE, default_timeout=120)
    at.query_params["kpi"] = "volume"
    at.query_params["page"] = raw
    at.run()
    assert not at.exception
    assert any("Rows 1 to 50." in md.value for md in at.markdown)
    assert len([info.value for info in at.info if "The link's page=" in info.value]) == 1
