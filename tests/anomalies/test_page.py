"""The Anomalies page through Streamlit's AppTest, on the small world with a stored run."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from anomalies.store import latest_flags
from data.database import connect, create_engine, duckdb_path
from notify.subscriptions import subscriptions
from tests.dashboard.conftest import APP, app_on, page_file

DEPARTMENTS = ["benefits", "civil", "revenue", "transport"]


@pytest.fixture
def page_world(anomaly_world, tmp_path, monkeypatch):
    """The app on a private copy of the stored small world (the page writes to it)."""
    target = tmp_path / "page.duckdb"
    shutil.copy(duckdb_path(anomaly_world.url), target)
    with app_on(f"duckdb:///{target}", monkeypatch) as url:
        yield url


def open_page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page_file("pages/anomalies.py")).run()
    assert not at.exception, at.exception
    return at


def test_the_page_lists_the_stored_flags_with_their_explanation_and_drilldown_link(page_world):
    at = open_page(weeks="all")
    assert at.title[0].value == "Anomalies"
    assert any("Data as of" in c.value for c in at.caption)
    assert any("Flags from the detection run" in m.value for m in at.markdown)
    flags = latest_flags(create_engine(page_world), DEPARTMENTS).filter(pl.col("grain") == "day")
    summary = next(m.value for m in at.markdown if "flags on daily series" in m.value)
    assert summary.startswith(f"**{flags.height} flags on daily series, {flags.height} still open.**")
    newest = flags.sort("first_day", descending=True).row(0, named=True)
    assert newest["explanation"] in summary
    # the flags in a table, open first and the most severe first (combinations after)
    picker = next(pl.from_pandas(f.value) for f in at.dataframe if "Severity" in pl.from_pandas(f.value).columns)
    assert picker.height == flags.height
    single = flags.filter(pl.col("detector") != "isolation_forest")
    worst = single.filter(pl.col("status") == "open").sort(pl.col("score").abs(), descending=True).row(0, named=True)
    assert picker.row(0, named=True)["Severity"] == pytest.approx(round(abs(worst["score"]), 1))
    # typed columns, so that a click on a heading sorts numbers and dates, not their words
    assert picker.schema["Severity"].is_float() and picker.schema["First day"].is_temporal() and picker.schema["Outside until"].is_temporal()
    severities = picker.filter(pl.col("Status") == picker["Status"][0])["Severity"].drop_nulls().to_list()
    assert severities == sorted(severities, reverse=True)
    assert picker.filter(pl.col("Severity").is_null()).height == flags.filter(pl.col("detector") == "isolation_forest").height
    # the first in that order is shown, its key in the address for a link to keep
    chosen = flags.filter(pl.col("flag_key") == shown_flag(at)).row(0, named=True)
    assert abs(chosen["score"]) == pytest.approx(abs(worst["score"]))
    assert chosen["explanation"] in [m.value for m in at.markdown]
    link = next(m.value for m in at.markdown if "Open the drill-down" in m.value)
    assert f'href="/drilldown?kpi={chosen["kpi"]}' in link and 'target="_self"' in link and f"week={chosen['week']}" in link
    # no link in a table, which would open a new tab: the list of every flag gives the addresses as text
    listed = next(f for f in at.dataframe if "Drill-down" in pl.from_pandas(f.value).columns)
    assert json.loads(listed.proto.columns)["Drill-down"]["type_config"]["type"] == "text"
    assert pl.from_pandas(listed.value)["Drill-down"].str.starts_with("/drilldown?").all()


def shown_flag(at: AppTest) -> str:
    """The flag the page shows in detail (its key is kept in the address)."""
    return at.query_params["flag"]


def picker_rows(at: AppTest) -> int:
    return next(pl.from_pandas(f.value) for f in at.dataframe if "Severity" in pl.from_pandas(f.value).columns).height


def test_a_flag_in_the_address_is_the_one_shown(page_world):
    """A notification's link names its flag: the page opens on it, not on the first."""
    flags = latest_flags(create_engine(page_world), DEPARTMENTS).filter(pl.col("grain") == "day")
    last = flags.sort("first_day").row(0, named=True)
    at = open_page(weeks="all", flag=last["flag_key"])
    assert last["explanation"] in [m.value for m in at.markdown]


def test_filters_in_the_url_give_the_matching_flags(page_world):
    flags = latest_flags(create_engine(page_world), DEPARTMENTS)
    weekly = flags.filter(pl.col("grain") == "week")
    scope_kind, scope_id = weekly.group_by("scope_kind", "scope_id").len().sort("len", "scope_id", descending=[True, False]).row(0)[:2]
    at = open_page(grain="week", weeks="all", scope=f"{scope_kind}:{scope_id}")
    expected = weekly.filter((pl.col("scope_kind") == scope_kind) & (pl.col("scope_id") == scope_id))
    summary = next(m.value for m in at.markdown if "flags on weekly series" in m.value or "flag on weekly series" in m.value)
    assert summary.startswith(f"**{expected.height} flag")
    assert picker_rows(at) == expected.height
    at.selectbox(key="param-kpi").set_value(expected["kpi"][0]).run()
    narrowed = expected.filter(pl.col("kpi") == expected["kpi"][0])
    assert picker_rows(at) == narrowed.height
    assert at.query_params["kpi"] == expected["kpi"][0]


def test_a_filter_with_nothing_says_why_and_what_to_do(page_world):
    at = open_page(status="known")
    assert any("No flag matches these filters." in i.value for i in at.info)


def test_acknowledging_a_flag_is_stored_with_who_and_the_note(page_world):
    at = open_page(weeks="all")
    key = shown_flag(at)
    at.radio[0].set_value("known")
    at.text_input[0].input("Grace Hopper")
    at.text_area[0].input("Planned outage of the web form")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception
    row = latest_flags(create_engine(page_world), DEPARTMENTS).filter(pl.col("flag_key") == key).row(0, named=True)
    assert (row["status"], row["acked_by"], row["note"]) == ("known", "Grace Hopper", "Planned outage of the web form")
    with connect(create_engine(page_world)) as conn:  # and one row of the audit, by the local administrator
        audited = conn.execute(sa.text("SELECT subject, detail FROM audit_events WHERE action = 'acknowledge'")).fetchall()
    assert [(subject, json.loads(detail)["flag"]) for subject, detail in audited if json.loads(detail)["flag"] == key] == [("local", key)]
    assert any("Saved: known cause by Grace Hopper." in s.value for s in at.success)


ADDRESS = "Email address, or secret:NAME of a configured webhook"


def test_a_subscription_is_added_and_a_bad_one_explained(page_world):
    at = open_page()
    who = next(t for t in at.text_input if t.label == "Who")
    address = next(t for t in at.text_input if t.label == ADDRESS)
    who.input("Ada")
    address.input("not an address")
    next(b for b in at.button if b.label == "Subscribe").click().run()
    assert any("is not an email address" in e.value for e in at.error)
    who = next(t for t in at.text_input if t.label == "Who")
    address = next(t for t in at.text_input if t.label == ADDRESS)
    who.input("Ada")
    address.input("ada@example.gov")
    next(s for s in at.selectbox if s.label == "Rule").set_value("weekly_digest")
    next(b for b in at.button if b.label == "Subscribe").click().run()
    assert not at.exception
    stored = subscriptions(create_engine(page_world), DEPARTMENTS)
    assert stored.select("subscriber", "rule", "channel", "address").rows() == [("Ada", "weekly_digest", "email", "ada@example.gov")]


@pytest.fixture
def plain_world(duckdb_url, monkeypatch):
    """The app on the shared small world, where no detection was ever stored."""
    with app_on(duckdb_url, monkeypatch, hold=True) as url:
        yield url


def test_without_a_stored_run_the_page_says_how_to_make_one(plain_world):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(page_file("pages/anomalies.py")).run()
    assert not at.exception
    assert any("python -m anomalies detect" in i.value for i in at.info)


def test_sustained_breaches_are_listed_beside_the_flags_even_without_a_run(plain_world, all_departments):
    """The page's breaches are the scorecards' (departments and services of the last
    complete week), and stay listed while no detection has been stored."""
    from datetime import timedelta

    from data.facts import data_extent, load_facts
    from metrics.periods import parse_week
    from metrics.scorecard import latest_complete_week, scorecard

    engine = create_engine(plain_world)
    first, as_of = data_extent(engine, all_departments, "Europe/London")
    week = latest_complete_week(as_of)
    monday = parse_week(week)
    facts = load_facts(engine, all_departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
    with engine.connect() as connection:  # services with no online channel: digital take-up does not apply
        offline = frozenset(connection.execute(sa.text("SELECT service_id FROM services WHERE NOT digital")).scalars())
    expected = set()
    for kind in ("department", "service"):
        card = scorecard(facts, week, by=f"{kind}_id", as_of=as_of, data_from=first, offline_services=offline)
        current = card.current_breaches().filter(pl.col("scope") != "(unknown)")
        expected |= {(f"{kind}:{row['scope']}", row["kpi"], row["start_week"], row["ongoing"]) for row in current.iter_rows(named=True)}
    engine.dispose()
    assert expected, "the small world has sustained breaches"

    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(page_file("pages/anomalies.py")).run()
    assert not at.exception
    assert any(h.value == "Below target for weeks on end" for h in at.header)
    going = sum(1 for item in expected if item[3])
    said = [m.value for m in at.markdown if "sustained target breach" in m.value]
    assert said and said[0].startswith(f"{going:,} sustained target breach") and week in said[0], said
    table = next(pl.from_pandas(f.value) for f in at.dataframe if "Weeks below" in pl.from_pandas(f.value).columns)
    assert table.height == len(expected)
    assert set(table["Since"].str.replace(" or earlier", "")) == {item[2] for item in expected}


def test_a_webhook_is_subscribed_by_its_configured_name_never_its_url(page_world, monkeypatch):
    monkeypatch.setenv("KPI_WEBHOOK_URL_OPS", "http://127.0.0.1:9/services/T0/B0/s3cret")
    at = open_page()

    def subscribe(address: str) -> None:
        next(t for t in at.text_input if t.label == "Who").input("Ops")
        next(t for t in at.text_input if t.label == ADDRESS).input(address)
        next(s for s in at.selectbox if s.label == "Channel").set_value("webhook")
        next(b for b in at.button if b.label == "Subscribe").click().run()

    subscribe("http://127.0.0.1:9/services/T0/B0/s3cret")
    assert any("a webhook's URL is not kept in the database" in e.value for e in at.error)
    subscribe("secret:ops")
    assert not at.exception
    stored = subscriptions(create_engine(page_world), DEPARTMENTS)
    assert stored.select("channel", "address").rows() == [("webhook", "secret:ops")]
    shown = " ".join(str(frame.value.to_dict()) for frame in at.dataframe)
    assert "webhook ops (127.0.0.1)" in shown and "s3cret" not in shown
