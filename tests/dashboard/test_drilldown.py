"""The drill-down page through AppTest on the small world: the numbers are the engine's
for the measure, scope and week in the URL; walking down and up moves the URL; a measure
not recorded at a level, an empty cell and the rows behind the number are handled."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from data.database import create_engine
from data.facts import load_facts
from metrics.engine import compute
from metrics.formatting import number
from metrics.periods import parse_week
from tests.conftest import ROOT
from tests.dashboard.conftest import APP, page_file

PAGE = "pages/drilldown.py"
PAGE_FILE = str(ROOT / "dashboard" / PAGE)
# A page run on its own finds dashboard/_boot.py the way app.py lets it: on the path.
if str(ROOT / "dashboard") not in sys.path:
    sys.path.insert(0, str(ROOT / "dashboard"))
LATEST = "2026-W47"  # the small world ends on Sunday 22 November 2026


def open_page(query: dict[str, str] | None = None) -> AppTest:
    """The page as a shared link opens it: a new session, straight to the page with the
    URL's query string (after the home page, its filters would carry over instead)."""
    at = AppTest.from_file(PAGE_FILE, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    # the page checks that the rows behind the number are as many as the figure's n
    assert not [warning.value for warning in at.warning if "do not match" in warning.value]
    return at


def test_the_page_is_routed_from_the_app(app_env):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(page_file(PAGE)).run()
    assert not at.exception
    assert at.title[0].value == "Drill-down"


def engine_figure(url: str, kpi: str, week: str, department: str | None = None, **narrowing: str) -> dict:
    """The engine's figure for one cell, computed apart from the page, with the rows its
    rules left out (``rule_counts``)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        departments = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments").fetchall()]
    monday = parse_week(week)
    facts = load_facts(engine, [department] if department else departments, monday - timedelta(weeks=1), monday + timedelta(days=6))
    engine.dispose()
    facts = facts.where(**narrowing) if narrowing else facts
    result = compute(facts, [kpi], by=["week"], first_day=monday, last_day=monday + timedelta(days=6))
    return {**result.values.row(0, named=True), "rule_counts": result.rule_counts}


def headline(at: AppTest) -> str:
    return at.metric[0].value


def table_starting(at: AppTest, column: str):
    """The table whose first column is ``column`` (the peer view or the rows behind)."""
    return next(frame.value for frame in at.dataframe if len(frame.value.columns) and frame.value.columns[0] == column)


def test_the_default_view_shows_the_engines_on_time_rate_for_the_last_complete_week(app_env):
    at = open_page()
    assert at.title[0].value == "Drill-down"
    assert any("Data as of" in caption.value for caption in at.caption)
    figure = engine_figure(app_env, "on_time_rate", LATEST)
    assert headline(at) == number(figure["value"], "on_time_rate")
    assert at.metric[0].label == f"On-time rate, week {LATEST}"
    subheaders = [header.value for header in at.subheader]
    assert f"On-time rate, all departments, week {LATEST}" in subheaders
    assert f"Departments compared, week {LATEST}" in subheaders
    assert "The cases behind the number" in subheaders
    peers = table_starting(at, "Department")
    assert len(peers) == 4 and peers.columns[1] == "On-time rate (%)"
    rows = table_starting(at, "Case")
    assert len(rows) == 50
    assert any(f"**{int(figure['n']):,} cases**" in md.value for md in at.markdown)


@pytest.mark.parametrize(
    ("query", "kpi", "week", "department", "narrowing"),
    [
        ({"kpi": "volume", "week": "2026-W40"}, "volume", "2026-W40", None, {}),
        ({"kpi": "processing_time_median", "week": "2026-W45", "service": "passport"}, "processing_time_median", "2026-W45", "civil", {"service_id": "passport"}),
        ({"kpi": "asa", "week": "2026-W44", "office": "sheffield_cc", "channel": "phone"}, "asa", "2026-W44", None, {"office_id": "sheffield_cc", "channel": "phone"}),
        ({"kpi": "satisfaction", "week": "2026-W46", "department": "benefits"}, "satisfaction", "2026-W46", "benefits", {}),
    ],
    ids=["volume-week-40", "processing-time-of-a-service", "asa-of-a-contact-centre", "satisfaction-of-a-department"],
)
def test_another_week_measure_and_scope_give_that_cells_engine_figure(app_env, query, kpi, week, department, narrowing):
    at = open_page(query)
    figure = engine_figure(app_env, kpi, week, department, **narrowing)
    assert figure["value"] is not None
    assert headline(at) == number(figure["value"], kpi)


def test_walking_down_by_choosing_and_back_up_by_a_breadcrumb(app_env):
    at = open_page()
    at.selectbox(key=next(box.key for box in at.selectbox if box.label == "Go down to a department")).select("civil").run()
    assert not at.exception
    assert not at.exception
    assert at.query_params["department"] == "civil"
    assert headline(at) == number(engine_figure(app_env, "on_time_rate", LATEST, "civil")["value"], "on_time_rate")
    assert any(header.value == f"Services compared, week {LATEST}" for header in at.subheader)

    at.selectbox(key=next(box.key for box in at.selectbox if box.label == "Go down to a service")).select("passport").run()
    assert at.query_params["service"] == "passport"
    assert headline(at) == number(engine_figure(app_env, "on_time_rate", LATEST, "civil", service_id="passport")["value"], "on_time_rate")
    assert any(header.value == f"Offices compared, week {LATEST}" for header in at.subheader)

    at.button(key="crumb-all").click().run()
    assert not at.exception
    assert "department" not in at.query_params and "service" not in at.query_params
    assert any(header.value == f"Departments compared, week {LATEST}" for header in at.subheader)


def test_a_measure_not_recorded_at_a_level_says_so(app_env):
    at = open_page({"kpi": "completion_rate", "department": "civil", "service": "passport"})
    assert any("not recorded by office (online journeys are not recorded by office), so the next level is the channel" in info.value for info in at.info)
    assert any(header.value == f"Channels compared, week {LATEST}" for header in at.subheader)

    at = open_page({"kpi": "completion_rate", "office": "leeds"})
    assert any("Completion rate cannot be shown for one office: online journeys are not recorded by office." in info.value for info in at.info)
    assert not at.metric


def test_an_empty_cell_says_why_and_what_to_do(app_env):
    at = open_page({"kpi": "wait_time_median", "channel": "online"})
    assert headline(at) == "–"
    messages = [info.value for info in at.info]
    assert any("There are no visits behind wait in person (median) for all departments, online channel in week" in m for m in messages)
    assert any("No visitors served for all departments, online channel in week" in m for m in messages)
    assert any("No visits are behind this number" in m for m in messages)


def test_the_rows_page_on_and_the_files_are_offered(app_env):
    at = open_page({"kpi": "volume", "department": "benefits"})
    first = table_starting(at, "Case")
    at.button(key="drill-next").click().run()
    assert not at.exception
    assert at.query_params["page"] == "2"
    second = table_starting(at, "Case")
    assert set(first["Case"]).isdisjoint(second["Case"])
    assert any("Rows 51 to 100" in md.value for md in at.markdown)

    volume = engine_figure(app_env, "volume", LATEST, "benefits")
    assert at.button(key="drill-prepare").label == f"Prepare the CSV and Excel files of all {volume['n']:,} rows"
    at.button(key="drill-prepare").click().run()
    assert not at.exception
    labels = [element.proto.label for element in at.get("download_button")]
    assert "Download CSV" in labels and "Download Excel" in labels
    assert not at.warning


def test_a_huge_set_of_rows_is_capped_in_the_files_with_a_message(app_env, monkeypatch):
    from dashboard import drilldown_data

    monkeypatch.setattr(drilldown_data, "DOWNLOAD_CAP", 100)
    at = open_page({"kpi": "volume"})
    volume = engine_figure(app_env, "volume", LATEST)
    assert at.button(key="drill-prepare").label == "Prepare the CSV and Excel files of all 100 rows"
    at.button(key="drill-prepare").click().run()
    assert not at.exception
    assert at.warning[0].value == (
        f"The files hold the first 100 of {volume['n']:,} rows. Narrow the scope (a service, an office or a channel) to get them all."
    )


def test_the_week_stays_in_the_link_even_when_it_is_the_latest(app_env):
    at = open_page()
    assert at.query_params["week"] == LATEST


def test_the_rows_left_out_by_rules_can_be_listed_with_their_rule(app_env):
    at = open_page({"kpi": "service_level", "office": "coventry_cc"})
    figure = engine_figure(app_env, "service_level", LATEST, office_id="coventry_cc")
    left_out = figure["rule_counts"]["short_abandon_5s"]
    assert left_out > 0
    assert any(f"**{figure['n']:,} calls**; {left_out:,} more left out by rules" in md.value for md in at.markdown)
    at.toggle(key="drill-left-out").set_value(True).run()
    assert not at.exception
    assert at.query_params["left_out"] == "1"
    assert any(f"**{figure['n'] + left_out:,} calls** ({left_out:,} of them left out by rules)" in md.value for md in at.markdown)

    at = open_page({"kpi": "wait_time_median"})  # no rule leaves a served visitor out
    assert not at.toggle


def test_below_the_channel_the_weeks_are_the_peers_and_choosing_one_moves_the_week(app_env):
    at = open_page({"office": "leeds", "channel": "in_person"})
    assert any(header.value.startswith("Each week compared") for header in at.subheader)
    weeks = next(frame.value for frame in at.dataframe if "Gap to overall" in frame.value.columns)
    assert weeks.columns[0] == "Week" and len(weeks) == 13 and weeks["Week"].iloc[-1] == LATEST
    box = next(box for box in at.selectbox if box.label == "Go to a week")
    box.select("2026-W44").run()
    assert not at.exception
    assert at.query_params["week"] == "2026-W44"
    figure = engine_figure(app_env, "on_time_rate", "2026-W44", office_id="leeds", channel="in_person")
    assert headline(at) == number(figure["value"], "on_time_rate")
    assert at.metric[0].label == "On-time rate, week 2026-W44"


def test_a_sustained_breach_is_named_under_the_number(app_env):
    """A service's measure the scorecard has below target for weeks on end says so in the
    drill-down, with the weeks it started in its window; one on target says nothing."""
    import polars as pl

    from metrics.scorecard import scorecard
    from tests.conftest import SMALL

    engine = create_engine(app_env)
    monday = parse_week(LATEST)
    facts = load_facts(engine, ["civil"], monday - timedelta(weeks=52), monday + timedelta(days=6))
    engine.dispose()
    card = scorecard(facts, LATEST, by="service_id", scope={"department_id": "civil"}, as_of=SMALL.end)
    going = card.current_breaches().filter(pl.col("ongoing") & (pl.col("last_below_week") == LATEST) & (pl.col("weeks") < 13))
    assert going.height, "the small world has a civil service below target for weeks on end"
    breach = going.row(0, named=True)
    at = open_page({"kpi": breach["kpi"], "week": LATEST, "service": breach["scope"]})
    said = [md.value for md in at.markdown if "A sustained breach" in md.value]
    assert said and f"for {breach['weeks']} weeks, since {breach['start_week']}" in said[0]
    on_target = card.rows.filter((pl.col("status") == "green") & (pl.col("kpi") == "volume").not_()).row(0, named=True)
    calm = open_page({"kpi": on_target["kpi"], "week": LATEST, "service": on_target["scope"]})
    assert not [md.value for md in calm.markdown if "A sustained breach" in md.value]


def test_digital_take_up_does_not_apply_to_a_service_with_no_online_channel(app_env):
    """Birth registration has no online channel (services.digital false): its digital
    take-up is not applicable, not 0% off target, and a department's services compared
    leave it out and say so."""
    import polars as pl
    import sqlalchemy as sa

    engine = create_engine(app_env)
    with engine.connect() as connection:
        offline = connection.execute(sa.text("SELECT service_id, name, department_id FROM services WHERE NOT digital ORDER BY 1")).all()
    engine.dispose()
    service, name, department = offline[0]
    at = open_page({"kpi": "digital_take_up", "department": department, "service": service})
    assert any(f"Digital take-up does not apply to {name}: it has no online channel" in info.value for info in at.info)
    assert not at.metric  # no 0.0% beside a target
    at = open_page({"kpi": "digital_take_up", "department": department})
    assert any(name in caption.value and "does not apply" in caption.value for caption in at.caption)
    peers = next(pl.from_pandas(frame.value) for frame in at.dataframe if "Service" in pl.from_pandas(frame.value).columns)
    assert name not in peers["Service"].to_list()


def engine_by_office(url: str, kpi: str, week: str) -> dict[str, dict]:
    """The engine's figure of one week for each office, computed apart from the page."""
    engine = create_engine(url)
    with engine.connect() as conn:
        departments = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments").fetchall()]
        names = dict(conn.exec_driver_sql("SELECT office_id, name FROM offices").fetchall())
    monday = parse_week(week)
    facts = load_facts(engine, departments, monday - timedelta(weeks=1), monday + timedelta(days=6))
    engine.dispose()
    values = compute(facts, [kpi], by=["week", "office_id"], first_day=monday, last_day=monday + timedelta(days=6)).values
    return {names[row["office_id"]]: row for row in values.iter_rows(named=True) if row["denominator"]}


def test_the_cases_behind_the_on_time_rate_open_on_the_overdue_and_late_and_count_by_office(app_env):
    """Triage: the rows behind the on-time rate open on the overdue, then the late; a state
    filter keeps only those, over every page; counted by office, the table is the engine's
    misses (cases counted less those on time) office by office."""
    at = open_page()
    states = list(table_starting(at, "Case")["State"])
    rank = {"overdue": 0, "late": 1, "open": 2, "on time": 3, "closed": 4}
    assert states == sorted(states, key=rank.__getitem__) and states[0] in ("overdue", "late")

    figure = engine_figure(app_env, "on_time_rate", LATEST)
    missed = int(figure["denominator"] - figure["numerator"])
    at = open_page({"states": "late,overdue", "count_by": "office"})
    assert at.query_params["states"] == "overdue,late"  # in the states' own order
    assert any(f"**{missed:,} of the {int(figure['n']):,} cases are overdue or late**" in md.value for md in at.markdown)
    assert set(table_starting(at, "Case")["State"]) <= {"overdue", "late"}
    counts = table_starting(at, "Office")
    by_office = engine_by_office(app_env, "on_time_rate", LATEST)
    expected = {office: int(row["denominator"] - row["numerator"]) for office, row in by_office.items()}
    assert dict(zip(counts["Office"], counts["Rows"], strict=True)) == {office: n for office, n in expected.items() if n}
    assert list(counts["Rows"]) == sorted(counts["Rows"], reverse=True)
    top = counts["Office"][0]
    assert any(f"most in {top} ({expected[top]:,}," in md.value for md in at.markdown)

    assert at.button(key="drill-prepare").label == f"Prepare the CSV and Excel files of all {missed:,} rows"  # what the filter shows
    at.button(key="drill-prepare").click().run()
    assert not at.exception
    assert {element.proto.label for element in at.get("download_button")} >= {"Download CSV", "Download Excel"}


def test_the_rows_behind_a_wait_open_on_the_longest(app_env):
    at = open_page({"kpi": "asa", "office": "sheffield_cc", "channel": "phone"})
    waits = [wait for wait in table_starting(at, "Contact")["Wait (s)"] if wait is not None]
    assert len(waits) > 10 and waits == sorted(waits, reverse=True)
    at = open_page({"kpi": "asa", "office": "sheffield_cc", "channel": "phone", "order": "arrival"})
    arrived = list(table_starting(at, "Contact")["Arrived"])
    assert arrived == sorted(arrived)


# ---------------------------------------------------------------------- notes on the record


@pytest.fixture
def notes_env(duckdb_url, tmp_path, monkeypatch):
    """A copy of the small world of this test's own (a note written stays in it)."""
    import shutil

    from tests.dashboard.conftest import app_on

    path = tmp_path / "notes.duckdb"
    shutil.copy(duckdb_url.removeprefix("duckdb:///"), path)
    with app_on(f"duckdb:///{path}", monkeypatch, hold=True) as url:
        yield url


def open_as(viewer, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(PAGE_FILE, default_timeout=120)
    at.session_state["viewer"] = viewer
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def record_table(at: AppTest):
    """The 'On the record' table (an empty one when the page says nothing is on it)."""
    import pandas as pd

    tables = [frame.value for frame in at.dataframe if {"What", "Words"} <= set(frame.value.columns)]
    if not tables:
        assert any(caption.value.startswith("Nothing is on the record for") for caption in at.caption)
        return pd.DataFrame()
    return tables[0]


def trend_notes(at: AppTest) -> list[str] | None:
    """The hover texts of the notes marked on the trend chart (None: no notes trace)."""
    import json

    spec = next(json.loads(chart.proto.spec) for chart in at.get("plotly_chart") if "by week" in chart.proto.spec)
    return next((trace["hovertext"] for trace in spec["data"] if trace.get("name") == "Note on the record"), None)


def test_an_analyst_adds_a_note_shown_on_the_trend_and_on_the_record_as_text(notes_env):
    from datetime import date

    from data.access import Viewer

    analyst = Viewer("Ana Lyst", frozenset({"civil"}), frozenset({"analyst"}))
    query = {"department": "civil", "week": LATEST}
    at = open_as(analyst, query)
    assert record_table(at).shape[0] == 0
    words = "New case system went live <b>bold</b> **not bold** [x](javascript:alert(1))"
    day = next(box for box in at.date_input if box.label == "Day it happened")
    day.set_value(date(2026, 10, 5))
    next(box for box in at.text_input if box.label == "Note").input(words)
    next(button for button in at.button if button.label == "Add the note").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]

    record = record_table(at)
    assert record.shape[0] == 1
    row = record.iloc[0]
    assert (str(row["Day"])[:10], row["Measure"], row["What"], row["Words"], row["By"]) == (
        "2026-10-05", "On-time rate", "Note", words, "Ana Lyst")  # the words as they were typed, as data
    marked = trend_notes(at)
    assert len(marked) == 1 and marked[0].startswith("05 Oct 2026: New case system went live &lt;b&gt;bold&lt;/b&gt;")  # Plotly gets no tags
    sentence = next(m.value for m in at.markdown if "On the record (1 note" in m.value)
    assert plain(words) in sentence  # shown as the words typed, never read as Markdown

    # the same scope, another measure: the on-time note is not on its trend, but on the record
    other = open_as(analyst, {**query, "kpi": "volume"})
    assert trend_notes(other) is None
    assert record_table(other).shape[0] == 1

    # a head of the department sees the note but no form to add one
    head = open_as(Viewer("Head", frozenset({"civil"}), frozenset({"head"})), query)
    assert len(trend_notes(head)) == 1
    assert not [button for button in head.button if button.label == "Add the note"]
    assert any("Notes are added by the" in caption.value for caption in head.caption)

    # another department's head sees nothing of it
    revenue = open_as(Viewer("Revenue head", frozenset({"revenue"}), frozenset({"head"})), {"department": "revenue", "week": LATEST})
    assert trend_notes(revenue) is None
    assert record_table(revenue).shape[0] == 0


def test_an_empty_note_is_refused_with_what_to_change_and_no_future_day_is_offered(notes_env):
    from datetime import date

    from dashboard import drilldown_data
    from data.access import Viewer

    at = open_as(Viewer("Ana Lyst", frozenset({"civil"}), frozenset({"analyst"})), {"department": "civil", "week": LATEST})
    next(box for box in at.text_input if box.label == "Note").input("   ")
    next(button for button in at.button if button.label == "Add the note").click().run()
    assert not at.exception
    assert at.error and "note" in at.error[0].value.lower()
    assert not any("On the record (1 note" in m.value for m in at.markdown)
    # no later day than today is offered; Streamlit (1.67) puts a day past max_value back to
    # the default before the page sees it, so the page's refusal of a future day (data.notes)
    # is tested in tests/data/test_notes.py
    day = next(box for box in at.date_input if box.label == "Day it happened")
    assert day.max == drilldown_data.today()
    day.set_value(date(2030, 1, 1)).run()
    assert next(box for box in at.date_input if box.label == "Day it happened").value < date(2030, 1, 1)
