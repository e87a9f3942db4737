"""Properties that hold for any data: rates stay within 0 and 100, volumes add up across
any split, and the figures of a union of disjoint scopes agree with its parts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.fact_frames import Facts
from metrics.engine import compute
from metrics.registry import METRICS, Aggregation
from metrics.scorecard import scorecard
from tests.metrics.builders import ZONE

FIRST, LAST = date(2026, 3, 2), date(2026, 3, 22)  # three weeks around nothing special
START = datetime(2026, 2, 16)
SERVICES = ["s1", "s2", "s3"]
OFFICES = ["o1", "o2"]
CHANNELS = ["online", "mobile_app", "phone", "in_person", "mail"]
DEPARTMENT_OF = {"s1": "d1", "s2": "d1", "s3": "d2"}


@st.composite
def case_rows(draw):
    n = draw(st.integers(0, 60))
    rows = []
    for i in range(n):
        service = draw(st.sampled_from(SERVICES))
        submitted = START + timedelta(minutes=draw(st.integers(0, 50_000)))
        duration = draw(st.one_of(st.none(), st.integers(10, 30 * 24 * 60)))  # minutes; None: open
        due = draw(st.one_of(st.none(), st.integers(1, 20)))
        rows.append(
            {
                "case_id": i, "department_id": DEPARTMENT_OF[service], "service_id": service,
                "office_id": draw(st.sampled_from(OFFICES)), "region": "r1", "timezone": ZONE,
                "channel": draw(st.sampled_from(CHANNELS)), "sla_days": draw(st.one_of(st.none(), st.just(10))),
                "submitted_at": submitted,
                "due_at": None if due is None else submitted + timedelta(days=due),
                "closed_at": None if duration is None else submitted + timedelta(minutes=duration),
            }
        )
    return pl.DataFrame(rows, schema={
        "case_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "office_id": pl.String, "region": pl.String,
        "timezone": pl.String, "channel": pl.String, "sla_days": pl.Int32, "submitted_at": pl.Datetime("us"),
        "due_at": pl.Datetime("us"), "closed_at": pl.Datetime("us"),
    })


@st.composite
def contact_rows(draw):
    n = draw(st.integers(0, 60))
    rows = []
    for i in range(n):
        service = draw(st.sampled_from(SERVICES))
        arrived = START + timedelta(minutes=draw(st.integers(0, 50_000)))
        abandoned = draw(st.booleans())
        wait = draw(st.integers(0, 3000))
        rows.append(
            {
                "contact_id": i, "department_id": DEPARTMENT_OF[service], "service_id": service,
                "office_id": draw(st.sampled_from(OFFICES)), "region": "r1", "timezone": ZONE,
                "channel": draw(st.sampled_from(["phone", "in_person"])), "arrived_at": arrived,
                "answered_at": None if abandoned else arrived + timedelta(seconds=wait),
                "ended_at": arrived + timedelta(seconds=wait + draw(st.integers(0, 900))),
                "abandoned": abandoned,
            }
        )
    return pl.DataFrame(rows, schema={
        "contact_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "office_id": pl.String, "region": pl.String,
        "timezone": pl.String, "channel": pl.String, "arrived_at": pl.Datetime("us"), "answered_at": pl.Datetime("us"),
        "ended_at": pl.Datetime("us"), "abandoned": pl.Boolean,
    })


@st.composite
def rating_rows(draw):
    ratings = draw(st.lists(st.integers(1, 5), max_size=60))
    rows = []
    for i, rating in enumerate(ratings):
        service = draw(st.sampled_from(SERVICES))
        rows.append({
            "feedback_id": i, "department_id": DEPARTMENT_OF[service], "service_id": service, "office_id": draw(st.sampled_from(OFFICES)),
            "region": "r1", "timezone": ZONE, "channel": "online",
            "submitted_at": START + timedelta(minutes=draw(st.integers(0, 50_000))), "rating": rating,
        })
    return pl.DataFrame(rows, schema={
        "feedback_id": pl.Int64, "department_id": pl.String, "service_id": pl.String, "office_id": pl.String, "region": pl.String,
        "timezone": pl.String, "channel": pl.String, "submitted_at": pl.Datetime("us"), "rating": pl.Int16,
    })


worlds = st.builds(lambda c, k, f: Facts(cases=c, contacts=k, feedback=f, timezone=ZONE), case_rows(), contact_rows(), rating_rows())
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ADDITIVE = [m.name for m in METRICS.values() if m.aggregation in (Aggregation.COUNT, Aggregation.DIFFERENCE, Aggregation.RATIO)]
KPIS = [m for m in METRICS if m not in ("completion_rate", "cost_per_transaction")]  # no journeys or costs here


@SETTINGS
@given(worlds)
def test_rates_stay_within_0_and_100(facts):
    result = compute(facts, KPIS, by=["week", "service_id"], first_day=FIRST, last_day=LAST)
    rates = result.values.filter(pl.col("kpi").is_in([m.name for m in METRICS.values() if m.is_rate]), pl.col("value").is_not_null())
    assert rates.filter((pl.col("value") < 0) | (pl.col("value") > 100)).height == 0


@SETTINGS
@given(worlds, st.sampled_from(["service_id", "office_id", "channel", "department_id"]))
def test_numerators_and_denominators_add_up_across_any_split(facts, split):
    kpis = [k for k in ADDITIVE if k in KPIS]
    whole = compute(facts, kpis, by=["week"], first_day=FIRST, last_day=LAST).values
    parts = compute(facts, kpis, by=["week", split], first_day=FIRST, last_day=LAST).values
    summed = parts.group_by("period", "kpi").agg(pl.col("numerator").sum(), pl.col("denominator").sum())
    # a split of nothing has no cells: its sums are zero
    joined = whole.join(summed, on=["period", "kpi"], how="left", suffix="_parts").with_columns(
        pl.col("numerator_parts", "denominator_parts").fill_null(0)
    )
    assert (joined["numerator"] - joined["numerator_parts"]).abs().max() < 1e-6
    has_denominator = joined.filter(pl.col("denominator").is_not_null())
    assert has_denominator.height == 0 or (has_denominator["denominator"] - has_denominator["denominator_parts"]).abs().max() < 1e-6
    # volumes themselves add up
    volume = joined.filter(pl.col("kpi") == "volume")
    assert (volume["value"] == volume["numerator_parts"]).all()


@SETTINGS
@given(worlds)
def test_the_scorecard_of_a_union_of_disjoint_scopes_agrees_with_its_parts(facts):
    week = "2026-W11"
    union = scorecard(facts.where(service_id=["s1", "s2", "s3"]), week, as_of=LAST).rows
    by_service = compute(facts, KPIS, by=["week", "service_id"], first_day=date(2026, 3, 9), last_day=date(2026, 3, 15)).values
    sums = by_service.group_by("kpi").agg(pl.col("numerator").sum(), pl.col("denominator").sum(), pl.col("n").sum())
    for row in union.filter(pl.col("kpi").is_in(ADDITIVE), pl.col("value").is_not_null()).iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        found = sums.filter(pl.col("kpi") == row["kpi"])
        parts = found.row(0, named=True) if found.height else {"numerator": 0.0, "denominator": 0.0}
        if metric.aggregation == Aggregation.RATIO:
            assert abs(row["value"] - parts["numerator"] / parts["denominator"] * metric.scale) < 1e-6
        elif metric.aggregation == Aggregation.COUNT:
            assert row["value"] == parts["numerator"]
        else:
            assert row["value"] == parts["numerator"] - parts["denominator"]
