"""Sustained target breaches: hand-computed weeks, the setting, and on the small world the
scorecard's breaches against its own week-by-week statuses."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics.breaches import BREACH_WEEKS, breach_sentence, find_breaches
from metrics.periods import week_label
from metrics.scorecard import scorecard
from metrics.targets import TargetsError, load_targets
from tests.conftest import SMALL

FIRST = date(2026, 1, 5)  # 2026-W02


def weeks_of(kpi: str, values: list[float | None], scope: str = "All departments") -> pl.DataFrame:
    mondays = [FIRST + timedelta(weeks=i) for i in range(len(values))]
    return pl.DataFrame(
        {"scope": scope, "kpi": kpi, "period": [week_label(m) for m in mondays], "period_start": mondays, "value": values},
        schema={"scope": pl.String, "kpi": pl.String, "period": pl.String, "period_start": pl.Date, "value": pl.Float64},
    )


def ninety(scope: str, kpi: str) -> float:
    return 90.0


def test_three_weeks_below_target_are_a_breach_that_the_first_week_back_on_target_ends():
    # W02 on target; W03-W05 below (85, 80, 70); W06 back on (92); W07-W08 below again (2 weeks: no breach)
    found = find_breaches(weeks_of("on_time_rate", [95, 85, 80, 70, 92, 85, 88]), ninety)
    assert found.height == 1
    breach = found.row(0, named=True)
    assert (breach["start_week"], breach["last_below_week"], breach["weeks"]) == ("2026-W03", "2026-W05", 3)
    assert (breach["worst_value"], breach["worst_week"], breach["target"]) == (70.0, "2026-W05", 90.0)
    assert (breach["ongoing"], breach["ended_week"], breach["from_window_start"]) == (False, "2026-W06", False)
    assert breach_sentence(breach, "Passports") == (
        "On-time rate in Passports: back on its 90.0% target in 2026-W06 after 3 weeks below it, since 2026-W03 (worst 70.0% in 2026-W05)."
    )
    # with breach_weeks 2 the last two weeks are a breach too, still going
    two = find_breaches(weeks_of("on_time_rate", [95, 85, 80, 70, 92, 85, 88]), ninety, weeks=2)
    assert two["start_week"].to_list() == ["2026-W03", "2026-W07"]
    assert two["ongoing"].to_list() == [False, True]


def test_near_target_is_below_target_and_a_week_without_a_figure_neither_lengthens_nor_ends_it():
    found = find_breaches(weeks_of("on_time_rate", [89.9, None, 89.5, 60.0]), ninety)
    breach = found.row(0, named=True)
    assert (breach["start_week"], breach["weeks"], breach["ongoing"], breach["from_window_start"]) == ("2026-W02", 3, True, True)
    assert breach_sentence(breach, "Civil registration") == (
        "On-time rate in Civil registration: below its 90.0% target for 3 weeks, since 2026-W02 or earlier (worst 60.0% in 2026-W05)."
    )
    assert find_breaches(weeks_of("on_time_rate", [89.9, 90.0, 89.5, 60.0]), ninety).height == 0  # exactly on target ends it
    # still going with no figure in the weeks since: said so
    quiet = find_breaches(weeks_of("on_time_rate", [80, 80, 80, None, None]), ninety).row(0, named=True)
    assert breach_sentence(quiet, "Passports", week="2026-W06") == (
        "On-time rate in Passports: below its 90.0% target for 3 weeks, since 2026-W02 or earlier (worst 80.0% in 2026-W04); "
        "no figure since 2026-W04."
    )


def test_lower_is_better_and_kpis_without_a_direction_or_target():
    waits = weeks_of("asa", [30, 65, 61, 70, 55], scope="Leeds")
    found = find_breaches(waits, lambda scope, kpi: 60.0)
    assert found.select("start_week", "weeks", "worst_value", "ongoing").row(0) == ("2026-W03", 3, 70.0, False)
    assert find_breaches(waits, lambda scope, kpi: None).height == 0  # no target: never a breach
    assert find_breaches(weeks_of("volume", [1, 1, 1, 1]), lambda scope, kpi: 100.0).height == 0  # context only


def test_the_breach_length_is_a_checked_setting(tmp_path):
    assert load_targets().breach_weeks == BREACH_WEEKS == 3
    path = tmp_path / "targets.toml"
    path.write_text('version = "t"\nbreach_weeks = 5\n')
    assert load_targets(path).breach_weeks == 5
    for bad in ("0", "2.5", '"three"', "true"):
        path.write_text(f'version = "t"\nbreach_weeks = {bad}\n')
        with pytest.raises(TargetsError, match="breach_weeks must be a whole number of weeks from 1 to 52"):
            load_targets(path)
    with pytest.raises(ValueError, match="at least 1 week"):
        find_breaches(weeks_of("on_time_rate", [80]), ninety, weeks=0)


@pytest.fixture(scope="module")
def service_card(duckdb_url, all_departments):
    from data.database import create_engine
    from data.facts import load_facts
    from metrics.scorecard import latest_complete_week

    week = latest_complete_week(SMALL.end)
    engine = create_engine(duckdb_url)
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    facts = load_facts(engine, all_departments, monday - timedelta(weeks=52), SMALL.end)
    engine.dispose()
    return facts, week, monday


def test_the_scorecards_breaches_agree_with_its_own_weekly_statuses(service_card):
    """Independently: a scope's KPI is in a breach still going at week W exactly when the
    scorecards of W, W-1, W-2 (each computed on its own) all put it below target."""
    facts, week, monday = service_card
    card = scorecard(facts, week, by="service_id", as_of=SMALL.end)
    ongoing = {(row["scope"], row["kpi"]): row for row in card.current_breaches().filter(pl.col("ongoing")).iter_rows(named=True)}
    below: dict[tuple[str, str], int] = {}
    on_target: set[tuple[str, str]] = set()
    for back in range(card.breach_weeks):
        earlier = scorecard(facts, week_label(monday - timedelta(weeks=back)), by="service_id", as_of=SMALL.end).rows
        for row in earlier.iter_rows(named=True):
            key = (row["scope"], row["kpi"])
            if row["status"] in ("amber", "red"):
                below[key] = below.get(key, 0) + 1
            elif row["status"] == "green":
                on_target.add(key)
    expected = {key for key, count in below.items() if count == card.breach_weeks}
    assert expected, "the small world should have some KPI below target three weeks running"
    assert expected <= set(ongoing)
    # the others had a week with no figure among the three (it neither lengthens nor ends a
    # breach), never a week on target, and the breach reaches further back
    for key in set(ongoing) - expected:
        assert key not in on_target, key
        assert ongoing[key]["weeks"] >= card.breach_weeks
    for key, breach in ongoing.items():
        assert breach["weeks"] >= card.breach_weeks
        assert (breach["last_below_week"] == week) == (key in expected)
        this_week = card.rows.filter((pl.col("scope") == key[0]) & (pl.col("kpi") == key[1])).row(0, named=True)
        assert breach["target"] == this_week["target"]
