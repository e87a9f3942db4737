"""Numbers as people read them."""

from __future__ import annotations

import pytest

from metrics.formatting import axis_title, change, number
from metrics.registry import UnknownMetricError


def test_units_once_and_sensible_decimals():
    assert number(81.234, "on_time_rate") == "81.2%"
    assert number(38.1666, "cost_per_transaction") == "£38.17"
    assert number(6.04, "processing_time_median") == "6.0 days"
    assert number(26.4, "asa") == "26 s"
    assert number(1234.0, "volume") == "1,234"
    assert number(None, "volume") == "–"


def test_negative_numbers_use_a_true_minus_and_no_negative_zero():
    assert number(-54.0, "net_flow") == "−54"
    assert number(-0.04, "processing_time_median") == "0.0 days"
    assert change(-0.04, "processing_time_median") == "±0.0 days"
    assert change(-1.25, "on_time_rate") == "−1.2 pts" or change(-1.25, "on_time_rate") == "−1.3 pts"
    assert change(3.0, "volume") == "+3"


def test_axis_titles_carry_the_unit_once():
    assert axis_title("on_time_rate") == "On-time rate (%)"
    assert axis_title("volume") == "Volume (cases)"


def test_an_unknown_metric_name_says_which_names_are_known():
    with pytest.raises(UnknownMetricError, match=r"unknown metric 'on_time'; known metrics: volume, digital_take_up"):
        number(90.0, "on_time")
    assert number(20.0, "visit_handle_time") == "20.0 min"  # off the scorecard, still in the registry
