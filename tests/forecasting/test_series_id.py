"""forecasting.series_id: the kind:member grammar and who may see a series."""

from __future__ import annotations

import polars as pl
import pytest

from forecasting import series_id as ids
from forecasting.series_id import SeriesId, SeriesIdError

SERVICES = {"passport": "civil", "vehicle_tax": "transport"}
EVERY = ("benefits", "civil", "revenue", "transport")


@pytest.mark.parametrize(
    ("kind", "member", "text"),
    [("total", None, "total"), ("total", "all", "total:all"), ("service", "passport", "service:passport"),
     ("contacts", "sheffield_cc", "contacts:sheffield_cc"), ("department", "civil", "department:civil"),
     ("channel", "mobile_app", "channel:mobile_app"), ("office", "a:b", "office:a:b")],
)
def test_format_and_parse_round_trip(kind, member, text):
    assert ids.format_id(kind, member) == text
    assert ids.parse(text) == SeriesId(kind, member)
    assert ids.format_id(*ids.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "series id '' is empty"), ("passport", "series id 'passport' has unknown kind 'passport'"),
     ("servce:passport", "series id 'servce:passport' has unknown kind 'servce'"),
     ("service:", "series id 'service:' has an empty member after 'service':"),
     ("service", "series id 'service' has no member; write service:<id>"),
     (":passport", "series id ':passport' has unknown kind ''")],
)
def test_a_malformed_id_is_refused_naming_it(text, message):
    with pytest.raises(SeriesIdError, match="^" + message.replace("(", r"\(")):
        ids.parse(text)


def test_kinds_can_be_narrowed():
    with pytest.raises(SeriesIdError, match="unknown kind 'department'; use one of total, service, office, channel, contacts"):
        ids.parse("department:civil", ids.FORECAST_KINDS)
    with pytest.raises(SeriesIdError, match="unknown series kind 'region'"):
        ids.format_id("region", "north")


def test_id_expr_writes_the_same_ids():
    frame = pl.DataFrame({"office_id": ["leeds", "york"]})
    assert frame.select(ids.id_expr("office", pl.col("office_id")))["literal"].to_list() == ["office:leeds", "office:york"]


def test_which_series_cross_departments():
    assert [ids.crosses_departments(s) for s in ("total", "total:all", "office:leeds", "channel:phone", "contacts:x")] == [True] * 5
    assert not ids.crosses_departments("service:passport")
    assert not ids.crosses_departments("department:civil")
    assert not ids.crosses_departments("nonsense")  # a hand-made URL's id is no pooled series


def test_department_of_a_series():
    assert ids.department_of("service:passport", SERVICES) == "civil"
    assert ids.department_of("department:revenue", SERVICES) == "revenue"
    assert ids.department_of("service:unknown", SERVICES) is None
    assert ids.department_of("office:leeds", SERVICES) is None


def test_who_may_see_a_series():
    assert ids.viewer_may_see("service:passport", ["civil"], EVERY, SERVICES)
    assert not ids.viewer_may_see("service:vehicle_tax", ["civil"], EVERY, SERVICES)
    assert not ids.viewer_may_see("total", ["civil"], EVERY, SERVICES)
    assert not ids.viewer_may_see("contacts:sheffield_cc", EVERY[:3], EVERY, SERVICES)
    assert ids.viewer_may_see("contacts:sheffield_cc", EVERY, EVERY, SERVICES)
    assert not ids.viewer_may_see("service:passport", [], EVERY, SERVICES)
