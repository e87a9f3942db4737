"""The fleet against the small generated world on DuckDB and PostgreSQL: series from the
extracts, stored runs read back, the latest run for pages, department scoping, closed
days in stored forecasts, staffing from the database, and the `run` command."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from sqlalchemy.engine import Engine

from data.database import create_engine, create_schema
from data.extracts import run_extract
from forecasting import ForecastInputError
from forecasting.cli import _print_live_accuracy, main
from forecasting.fleet import FleetResult, run_fleet
from forecasting.live import live_accuracy
from forecasting.models import SeasonalNaiveForecaster, WeekdayMeanForecaster
from forecasting.planning import default_settings, plan_staffing
from forecasting.series import FleetSeries
from forecasting.store import (
    forecast_history,
    forecast_runs,
    latest_backtests,
    latest_forecasts,
    latest_series,
    load_fleet_series,
    load_staffing_inputs,
    store_run,
)
from tests.conftest import BACKENDS, SMALL

SERIES = ["total", "service:marriage_notice", "office:leeds", "channel:phone", "contacts:sheffield_cc"]
# Fast models keep these tests short; Prophet and the pool run in the CLI test below.
FAST_MODELS = {
    "seasonal_naive": SeasonalNaiveForecaster(),
    "weekday_mean": WeekdayMeanForecaster(country="GB", subdivision="ENG"),
}
HORIZON = 35  # the small world ends 2026-11-22: 35 days reach past Christmas
CHRISTMAS = dt.date(2026, 12, 25)
STARTED_AT = dt.datetime(2026, 11, 23, 6, 0)


@dataclass
class Stored:
    engine: Engine
    fleet: FleetSeries
    result: FleetResult
    run_id: int
    departments: list[str]


@pytest.fixture(scope="module", params=BACKENDS)
def stored(request: pytest.FixtureRequest, fresh_world) -> Iterator[Stored]:
    engine = create_engine(fresh_world(request.param))
    fleet = load_fleet_series(engine, horizon=HORIZON).subset(SERIES)
    result = run_fleet(fleet, horizon=HORIZON, cutoffs=2, jobs=1, models=FAST_MODELS, country="GB", subdivision="ENG")
    run_id = store_run(engine, result, started_at=STARTED_AT)
    departments = ["benefits", "civil", "revenue", "transport"]
    yield Stored(engine, fleet, result, run_id, departments)
    engine.dispose()


def test_series_from_the_database(stored: Stored) -> None:
    assert stored.fleet.data_end == SMALL.end
    assert stored.fleet.catalog["series_id"].to_list() == SERIES
    assert stored.result.skipped.is_empty()
    phone = stored.fleet.closed_days.filter(pl.col("series_id") == "channel:phone")["ds"]
    assert {day.isoweekday() for day in phone.to_list()} >= {7}
    assert CHRISTMAS in phone.to_list()


def test_stored_forecasts_and_backtests_read_back_equal(stored: Stored) -> None:
    assert stored.run_id == 1
    forecasts = latest_forecasts(stored.engine, stored.departments)
    assert forecasts["run_id"].unique().to_list() == [stored.run_id]
    assert_frame_equal(
        forecasts.select(stored.result.forecasts.columns).sort("series_id", "model", "ds"),
        stored.result.forecasts.sort("series_id", "model", "ds"),
    )
    backtests = latest_backtests(stored.engine, stored.departments)
    assert_frame_equal(
        backtests.select(stored.result.backtests.columns).sort("series_id", "model", "step"),
        stored.result.backtests.sort("series_id", "model", "step"),
    )
    series = latest_series(stored.engine, stored.departments)
    expected = stored.result.series.drop("seconds", "note")
    assert_frame_equal(series.select(expected.columns).sort("series_id"), expected.sort("series_id"))
    # the recommended model and the baseline, horizon days each (one set when they agree)
    per_series = forecasts.group_by("series_id").agg(pl.col("model").n_unique(), pl.len())
    for row in per_series.iter_rows(named=True):
        assert row["len"] == HORIZON * row["model"]


def test_holidays_and_sundays_are_forecast_as_zero_where_offices_close(stored: Stored) -> None:
    forecasts = latest_forecasts(stored.engine, stored.departments)
    leeds_christmas = forecasts.filter((pl.col("series_id") == "office:leeds") & (pl.col("ds") == CHRISTMAS))
    assert leeds_christmas.height >= 1
    assert leeds_christmas["closed"].all()
    assert (leeds_christmas.select("yhat", "lo80", "hi80", "lo95", "hi95").to_numpy() == 0).all()
    phone_sundays = forecasts.filter((pl.col("series_id") == "channel:phone") & (pl.col("ds").dt.weekday() == 7))
    assert phone_sundays.height >= 5 and (phone_sundays["yhat"] == 0).all() and phone_sundays["closed"].all()
    total_christmas = forecasts.filter((pl.col("series_id") == "total") & (pl.col("ds") == CHRISTMAS))
    assert not total_christmas["closed"].any() and (total_christmas["yhat"] > 0).all()


def test_the_recommendation_is_never_worse_than_seasonal_naive(stored: Stored) -> None:
    series = latest_series(stored.engine, stored.departments)
    assert (series["mase"] <= series["baseline_mase"]).all()
    overall = latest_backtests(stored.engine, stored.departments).filter(pl.col("step") == 0)
    chosen = overall.filter(pl.col("recommended")).select("series_id", pl.col("mase").alias("chosen"))
    baseline = overall.filter(pl.col("model") == "seasonal_naive").select("series_id", "mase")
    both = chosen.join(baseline, on="series_id")
    assert both.height == len(SERIES)
    assert (both["chosen"] <= both["mase"]).all()


def test_a_viewer_sees_only_the_series_of_their_departments(stored: Stored) -> None:
    civil = latest_series(stored.engine, ["civil"])
    assert civil["series_id"].to_list() == ["service:marriage_notice"]
    assert set(latest_forecasts(stored.engine, ["civil"])["series_id"]) == {"service:marriage_notice"}
    assert set(latest_backtests(stored.engine, ["civil"])["series_id"]) == {"service:marriage_notice"}
    assert latest_series(stored.engine, ["transport"]).is_empty()  # none of its services in SERIES
    assert latest_forecasts(stored.engine, []).is_empty()
    assert forecast_runs(stored.engine, []).is_empty()


def test_staffing_a_contact_centre_from_the_database(stored: Stored) -> None:
    first, last = dt.date(2026, 11, 23), dt.date(2026, 11, 29)
    inputs = load_staffing_inputs(stored.engine, "sheffield_cc", first, last, stored.departments)
    queue = inputs.queue
    assert queue.channel == "phone" and inputs.office_kind == "contact_centre"
    sums = queue.profile.group_by("weekday").agg(pl.col("share").sum()).sort("weekday")
    assert sums["weekday"].to_list() == [1, 2, 3, 4, 5, 6]  # closed on Sundays
    assert sums["share"].to_list() == pytest.approx([1.0] * 6)
    assert 200 < queue.aht_seconds < 500 and 100 < queue.patience_seconds < 600
    assert inputs.rostered["source"].to_list() == ["last 4 weeks"] * 6 + ["closed"]
    plan = plan_staffing(inputs.forecast, queue, inputs.rostered, default_settings(inputs.office_kind))
    assert plan.days["ds"].to_list() == [first + dt.timedelta(days=i) for i in range(7)]
    assert (plan.intervals["agents_erlang_a"] <= plan.intervals["agents_erlang_c"] + 1e-9).all()
    sunday = plan.days.filter(pl.col("ds") == last).row(0, named=True)
    assert sunday["arrivals"] == 0 and sunday["hours_needed_erlang_c"] == 0 and sunday["rostered_hours"] == 0


def test_staffing_refuses_what_it_cannot_plan(stored: Stored) -> None:
    first = dt.date(2026, 11, 23)
    with pytest.raises(ForecastInputError, match=r"crosses departments: only a viewer of every department may plan it"):
        load_staffing_inputs(stored.engine, "sheffield_cc", first, first, ["civil"])
    with pytest.raises(ForecastInputError, match=r"unknown office 'atlantis'; offices with queues: "):
        load_staffing_inputs(stored.engine, "atlantis", first, first, stored.departments)
    with pytest.raises(ForecastInputError, match=r"covers 2026-11-23 to 2026-12-27; choose days inside it"):
        load_staffing_inputs(stored.engine, "sheffield_cc", first, dt.date(2027, 1, 31), stored.departments)
    with pytest.raises(ForecastInputError, match=r"no stored forecast of contacts:leeds: run python -m forecasting run"):
        load_staffing_inputs(stored.engine, "leeds", first, first, stored.departments)


def test_a_second_run_is_added_pages_read_the_latest_and_storing_again_replaces(stored: Stored) -> None:
    second = store_run(stored.engine, stored.result, started_at=STARTED_AT + dt.timedelta(days=1))
    assert second == stored.run_id + 1
    runs = forecast_runs(stored.engine, stored.departments)
    assert runs["run_id"].to_list() == [second, stored.run_id]  # newest first, old runs kept
    assert latest_forecasts(stored.engine, stored.departments)["run_id"].unique().to_list() == [second]
    assert latest_series(stored.engine, stored.departments)["run_id"].unique().to_list() == [second]
    again = store_run(stored.engine, stored.result, started_at=STARTED_AT, run_id=second)
    assert again == second
    with stored.engine.connect() as conn:
        counts = dict(conn.execute(sa.text("SELECT run_id, COUNT(*) FROM forecasts GROUP BY run_id")).fetchall())
    assert counts == {stored.run_id: stored.result.forecasts.height, second: stored.result.forecasts.height}
    assert forecast_runs(stored.engine, stored.departments).height == 2


def test_live_accuracy_of_an_earlier_run_read_back_from_the_database(stored: Stored, capsys: pytest.CaptureFixture[str]) -> None:
    """A run made as if the data ended two weeks earlier is kept beside the latest; its
    forecasts of the last two weeks are scored against what happened, as the database
    gives them back (extract forecast_history), and a viewer of one department sees only
    that department's series."""
    data_end = stored.fleet.data_end
    made = data_end - dt.timedelta(days=14)
    earlier = run_fleet(stored.fleet.until(made), horizon=HORIZON, cutoffs=2, jobs=1, models=FAST_MODELS, country="GB", subdivision="ENG")
    try:
        store_run(stored.engine, earlier, started_at=STARTED_AT - dt.timedelta(days=14), run_id=0)
        history = forecast_history(stored.engine, stored.departments, made + dt.timedelta(days=1), data_end)
        assert set(history["run_id"]) == {0}  # the latest run forecasts only after data_end
        live = live_accuracy(history, stored.fleet.values)
        assert set(live.periods["lead"]) <= set(range(1, 15)) and live.periods["lead"].max() == 14
        expected = (
            earlier.forecasts.filter(pl.col("recommended") & ~pl.col("closed") & (pl.col("ds") <= data_end))
            .join(stored.fleet.values, on=["series_id", "ds"])
            .group_by("series_id")
            .agg(pl.len().cast(pl.Int32).alias("n"), (pl.col("yhat") - pl.col("y")).abs().mean().alias("mae"))
            .sort("series_id")
        )
        assert_frame_equal(live.overall.select("series_id", "n", "mae"), expected)
        assert live.overall["runs"].to_list() == [1] * len(SERIES)
        civil = forecast_history(stored.engine, ["civil"], made + dt.timedelta(days=1), data_end)
        assert set(civil["series_id"]) == {"service:marriage_notice"}
        _print_live_accuracy(stored.engine, stored.fleet, stored.result)  # what `run` prints after storing
        out = capsys.readouterr().out
        assert f"live accuracy, {data_end - dt.timedelta(weeks=13, days=-1)} to {data_end}: each day against the latest of 1 stored run(s)" in out
        wape = live.overall.filter(pl.col("series_id") == "total")["wape"].round(1)[0]
        assert any(line.split()[1:4] == ["total", "┆", "14"] and f"{wape}" in line for line in out.splitlines()), out
    finally:
        with stored.engine.begin() as conn:
            for table in ("forecast_series", "forecasts", "forecast_backtests", "forecast_runs"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE run_id = 0"))


# --------------------------------------------------------------------------- extracts


def _local(column: str) -> pl.Expr:
    return pl.col(column).dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/London")


def test_daily_demand_counts_each_case_on_its_local_date(db, all_departments) -> None:
    # the window holds the end of British summer time (2026-10-25)
    first, last = dt.date(2026, 10, 20), dt.date(2026, 11, 5)
    daily = run_extract(db, "daily_demand", departments=all_departments, first_day=first, last_day=last)
    cases = run_extract(
        db, "cases", departments=all_departments, start=dt.datetime(2026, 10, 18), end=dt.datetime(2026, 11, 8)
    ).join(run_extract(db, "services", departments=all_departments).select("service_id", "department_id"), on="service_id")
    offices = run_extract(db, "offices", departments=all_departments)
    assert set(offices["timezone"]) == {"Europe/London"}
    expected = (
        cases.with_columns(_local("submitted_at").dt.date().alias("ds"))
        .filter(pl.col("ds").is_between(first, last))
        .group_by("ds", "department_id", "service_id", "office_id", "channel")
        .agg(pl.len().cast(pl.Int64).alias("cases"))
    )
    keys = ["ds", "service_id", "office_id", "channel"]
    assert_frame_equal(daily.sort(keys), expected.select(daily.columns).sort(keys))


def test_contact_intervals_sum_each_contact_in_its_local_half_hour(db, all_departments) -> None:
    first, last = dt.date(2026, 10, 22), dt.date(2026, 10, 28)
    intervals = run_extract(db, "contact_intervals", departments=all_departments, first_day=first, last_day=last)
    contacts = run_extract(
        db, "contacts", departments=all_departments, start=dt.datetime(2026, 10, 20), end=dt.datetime(2026, 10, 31)
    )
    local = _local("arrived_at")
    expected = (
        contacts.with_columns(
            local.dt.date().alias("ds"),
            (local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32) // 30 * 30).alias("slot"),
        )
        .filter(pl.col("ds").is_between(first, last))
        .group_by("office_id", "channel", "ds", "slot")
        .agg(
            pl.len().cast(pl.Int64).alias("arrivals"),
            pl.col("answered_at").is_not_null().sum().cast(pl.Int64).alias("answered"),
            pl.col("abandoned").sum().cast(pl.Int64).alias("abandoned"),
            ((pl.col("ended_at") - pl.col("answered_at")).dt.total_microseconds() / 1e6).sum().alias("handle_seconds"),
            ((pl.coalesce("answered_at", "ended_at") - pl.col("arrived_at")).dt.total_microseconds() / 1e6)
            .sum()
            .alias("wait_seconds"),
        )
    )
    keys = ["office_id", "channel", "ds", "slot"]
    assert_frame_equal(intervals.sort(keys), expected.select(intervals.columns).sort(keys))


# --------------------------------------------------------------------------- command line


@pytest.mark.slow
def test_run_command_uses_both_processes_and_stores_a_run(
    fresh_world, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_world("duckdb")
    argv = ["run", "--database", url, "--series", "total", "contacts:leeds"]
    code = main([*argv, "--horizon", "14", "--cutoffs", "2", "--jobs", "2", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "2 series from DuckDB file" in out and "public holidays: GB/ENG" in out
    assert "run 1 stored: 2 series, horizon 14 days, cutoffs 2026-10-26, 2026-11-09" in out
    assert "on 2 process(es)" in out
    assert "live accuracy: no stored run forecast a day from 2026-08-24 to 2026-11-22" in out
    engine = create_engine(url)
    try:
        series = latest_series(engine, ["benefits", "civil", "revenue", "transport"])
        runs = forecast_runs(engine, ["civil"])
    finally:
        engine.dispose()
    models = ("seasonal_naive", "weekday_mean", "prophet", "ensemble")
    assert set(series["recommended_model"]) <= set(models)
    assert (series["mase"] <= series["baseline_mase"]).all()
    run = runs.row(0, named=True)
    assert (run["horizon"], run["series_count"], run["models"]) == (14, 2, ",".join(models))
    assert run["code_version"].startswith("fleet-1")


def test_run_command_on_a_missing_database_file_says_how_to_get_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.duckdb"
    code = main(["run", "--database", f"duckdb:///{missing}", "--no-progress"])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: no cases to forecast: run python -m data generate or import data "
        f"(DuckDB file {missing} does not exist)\n"
    )
    assert not missing.exists()  # not created as a side effect


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_command_on_an_empty_database_says_how_to_get_data(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    if backend == "duckdb":
        url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    else:
        url = request.getfixturevalue("make_postgres_database")()
    engine = create_engine(url)
    try:
        code = main(["run", "--database", url, "--no-progress"])
        no_table = capsys.readouterr().err
        create_schema(engine)
        empty_code = main(["run", "--database", url, "--no-progress"])
        no_cases = capsys.readouterr().err
        description = "DuckDB file" if backend == "duckdb" else "PostgreSQL at"
    finally:
        engine.dispose()
    prefix = "error: no cases to forecast: run python -m data generate or import data ("
    if backend == "postgresql":  # an empty DuckDB file does not exist until something is written
        assert code == 2 and no_table.startswith(prefix + description) and no_table.endswith("has no cases table)\n")
    assert empty_code == 2
    assert no_cases.startswith(prefix + description) and no_cases.endswith("has no cases)\n")
