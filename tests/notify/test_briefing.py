"""The weekly briefing (python -m notify briefing): its content against the engine and plain
SQL, the recipient's access, the schedule's next run by a clock passed in, and, drawn in
Chromium, the PDF and the email a local SMTP server receives, once across a restart."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from data.access import AccessFile
from data.database import connect, create_engine, duckdb_path
from data.facts import load_facts
from metrics.engine import compute
from metrics.formatting import number
from metrics.periods import parse_week
from notify.briefing import (
    BriefingSkipped,
    Every,
    build_briefing,
    every_department,
    recipient_access,
    run_every,
    send_briefings,
    week_of,
)
from notify.briefing_render import CHROMIUM
from notify.cli import main as cli_main
from notify.send import NotifySettings
from notify.subscriptions import Subscription, add_subscription, subscriptions
from tests.conftest import held_open

DASHBOARD = "https://kpi.example.gov/dash"
WEEK = "2026-W47"  # the small world ends on Sunday 22 November 2026


@pytest.fixture
def world(duckdb_url: str, tmp_path: Path) -> Iterator[str]:
    """A private copy of the small world (subscriptions and the log are written to it)."""
    target = tmp_path / "briefing.duckdb"
    shutil.copy(duckdb_path(duckdb_url), target)
    with held_open(f"duckdb:///{target}") as url:  # opened once, not for every query (tests.conftest)
        yield url


def subscription_row(engine, subscription_id: int) -> dict:
    rows = subscriptions(engine, every_department(engine)).filter(pl.col("subscription_id") == subscription_id)
    return rows.row(0, named=True)


def built(url: str, subscription: Subscription, access: AccessFile | None = None):
    engine = create_engine(url)
    try:
        number_ = add_subscription(engine, subscription)
        context = week_of(engine, DASHBOARD)
        every = every_department(engine)
        row = subscription_row(engine, number_)
        return build_briefing(engine, row, context, recipient_access(engine, row["address"], access, every), every), engine
    finally:
        engine.dispose()


def scorecard_cells(page: str) -> dict[str, list[str]]:
    """The briefing's scorecard table: measure label -> its cells as text."""
    table = page.split(">Scorecard</h2>", 1)[1].split("</table>", 1)[0]
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
        found[cells[0]] = cells[1:]
    return found


def test_a_department_briefing_holds_the_engines_figures_of_its_week_and_no_other_department(world):
    briefing, engine = built(world, Subscription("Head of Civil <script>alert(1)</script>", "weekly_digest", "email",
                                                 "head@example.gov", department_id="civil"))
    assert briefing.week == WEEK and briefing.departments == ("civil",)
    page = briefing.html(images={})
    cells = scorecard_cells(page)

    # every KPI against the engine computed afresh for the department and week
    monday = parse_week(WEEK)
    engine = create_engine(world)
    facts = load_facts(engine, ["civil"], monday - timedelta(weeks=1), monday + timedelta(days=6))
    values = compute(facts, None, by=["week"], first_day=monday, last_day=monday + timedelta(days=6)).values.filter(pl.col("period") == WEEK)
    checked = 0
    from metrics.registry import METRICS

    for row in values.iter_rows(named=True):
        label = METRICS[row["kpi"]].label
        if label in cells and cells[label][0] != "n/a":
            assert cells[label][0] == number(row["value"], row["kpi"]), label
            checked += 1
    assert checked >= 10, f"only {checked} measures compared"

    # volume and digital take-up against plain SQL on the database
    with connect(engine) as conn:
        volume, digital = conn.execute(sa.text(
            "SELECT COUNT(*), 100.0 * SUM(CASE WHEN c.channel IN ('online', 'mobile_app') THEN 1 ELSE 0 END) / COUNT(*) "
            "FROM cases c JOIN services s ON s.service_id = c.service_id JOIN offices o ON o.office_id = c.office_id "
            "WHERE s.department_id = 'civil' AND CAST((c.submitted_at AT TIME ZONE 'UTC') AT TIME ZONE o.timezone AS DATE) BETWEEN :a AND :b"
        ), {"a": monday, "b": monday + timedelta(days=6)}).one()
        names = dict(conn.execute(sa.text("SELECT department_id, name FROM departments")).fetchall())
    engine.dispose()
    assert cells["Volume"][0] == f"{volume:,}"
    assert cells["Digital take-up"][0] == f"{digital:,.1f}%"

    # scope, filters and data as of at the top; status in words; names escaped; no other department
    header = dict(briefing.header)
    assert header["Scope"] == names["civil"] and header["Data as of"].startswith("Sunday 22 November 2026")
    assert "every measure" in header["Filters"] and WEEK in header["Week"]
    assert any(word in page for word in ("Off target", "On target", "Near target"))
    assert "<script>" not in page and "&lt;script&gt;" in page
    for department, name in names.items():
        if department != "civil":
            assert name not in page and name not in briefing.text, name
    assert briefing.headline and briefing.headline[0].startswith("Composite score")
    assert len(briefing.charts) >= 2 and all(len(chart.alt) > 40 for chart in briefing.charts)


def test_the_recipients_access_narrows_the_briefing_and_refuses_a_scope_outside_it(world):
    access = AccessFile.parse('[[person]]\nemail = "t.head@example.gov"\ndepartments = ["transport"]\nroles = ["head"]\n')
    everything, _ = built(world, Subscription("T", "weekly_digest", "email", "t.head@example.gov"), access)
    assert everything.departments == ("transport",)
    assert dict(everything.header)["Built for"].endswith("their access in the access file")
    with pytest.raises(BriefingSkipped, match="may not see department civil"):
        built(world, Subscription("T", "weekly_digest", "email", "t.head@example.gov", department_id="civil"), access)
    unnamed, _ = built(world, Subscription("D", "weekly_digest", "email", "director@example.gov"), access)
    assert len(unnamed.departments) == 4 and dict(unnamed.header)["Scope"] == "All departments"


def test_every_monday_at_seven_is_computed_from_the_clock_given():
    every = Every.parse("monday 07:00")
    assert every.next_run(dt.datetime(2026, 11, 23, 6, 59)) == dt.datetime(2026, 11, 23, 7, 0)  # a Monday, before
    assert every.next_run(dt.datetime(2026, 11, 23, 7, 0)) == dt.datetime(2026, 11, 23, 7, 0)  # due now
    assert every.next_run(dt.datetime(2026, 11, 23, 7, 1)) == dt.datetime(2026, 11, 30, 7, 0)
    assert every.next_run(dt.datetime(2026, 11, 29, 23, 0)) == dt.datetime(2026, 11, 30, 7, 0)  # Sunday night
    zone = dt.timezone(dt.timedelta(hours=1))
    assert every.next_run(dt.datetime(2026, 11, 25, 12, 0, tzinfo=zone)) == dt.datetime(2026, 11, 30, 7, 0, tzinfo=zone)
    with pytest.raises(ValueError, match="give a weekday and a time"):
        Every.parse("mondays 07:00")
    with pytest.raises(ValueError, match="is not a time of day"):
        Every.parse("monday 7am")

    # the loop: a run at once (a restart catches up), then each Monday at 07:00 by the clock
    now = [dt.datetime(2026, 11, 25, 9, 30)]
    ran: list[dt.datetime] = []

    def sleep(seconds: float) -> None:
        now[0] += dt.timedelta(seconds=seconds)

    run_every(every, lambda: ran.append(now[0]), clock=lambda: now[0], sleep=sleep, runs=3)
    assert ran == [dt.datetime(2026, 11, 25, 9, 30), dt.datetime(2026, 11, 30, 7, 0), dt.datetime(2026, 12, 7, 7, 0)]


def test_a_bad_every_is_one_line_from_the_command_line(capsys):
    assert cli_main(["briefing", "--every", "someday", "07:00", "--database", "duckdb:///:memory:"]) == 2
    assert "give a weekday and a time" in capsys.readouterr().err


@pytest.mark.skipif(not Path(CHROMIUM).exists() or not shutil.which("pdftoppm"),
                    reason=f"needs Chromium at {CHROMIUM} and poppler's pdftoppm (.ci/run installs both)")
def test_each_subscriber_receives_one_briefing_with_its_pdf_and_none_again_after_a_restart(world, smtp, tmp_path):
    inbox, port = smtp
    engine = create_engine(world)
    ids = {
        "civil": add_subscription(engine, Subscription("Head of Civil", "weekly_digest", "email", "civil@example.gov", department_id="civil")),
        "birth": add_subscription(engine, Subscription("Births", "weekly_digest", "email", "births@example.gov", service_id="birth_registration")),
    }
    add_subscription(engine, Subscription("Anomalies only", "anomaly", "email", "a@example.gov"))  # not a briefing's rule
    settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=port, sender="kpi@example.gov", dashboard_url=DASHBOARD, timeout_seconds=10)
    first = send_briefings(engine, settings, out=tmp_path / "out", access=None)
    engine.dispose()
    assert first.failed == [] and first.skipped == []
    assert sorted(b.subscription_id for b in first.sent) == sorted(ids.values())
    assert sorted(m["To"] for m in inbox.messages) == ["births@example.gov", "civil@example.gov"]

    for message in inbox.messages:
        assert message["Subject"].startswith(f"[KPI] Weekly briefing {WEEK}: ")
        page = message.get_body(preferencelist=("html",)).get_content()
        images = [part for part in message.walk() if part.get_content_type() == "image/png"]
        assert len(images) >= 2 and all(f"cid:{part['Content-ID'].strip('<>')}" in page for part in images)
        assert all(alt for alt in re.findall(r'<img [^>]*alt="([^"]*)"', page)) and "<img " in page
        pdfs = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1
        pdf = tmp_path / f"{message['To']}.pdf"
        pdf.write_bytes(pdfs[0].get_content())
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Weekly briefing" in text and "Data as of" in text and "What needs attention" in text and "Scorecard" in text
        assert text.count("\f") >= 2  # pages
        assert len(message.as_bytes()) < 1_500_000  # small enough for any mail server
    births = next(m for m in inbox.messages if m["To"] == "births@example.gov")
    assert "Birth registration" in births["Subject"]

    # the first page as a person sees it (looked at when this test was written)
    pdf = tmp_path / "civil@example.gov.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    page_one = next(tmp_path.glob("page*.png"))
    assert page_one.stat().st_size > 20_000

    # a restart: a new process (a new engine) on the same database sends nothing again
    engine = create_engine(world)
    again = send_briefings(engine, settings, access=None)
    with connect(engine) as conn:
        logged = conn.execute(sa.text("SELECT subscription_id, event_key, rule, status FROM notifications ORDER BY 1")).fetchall()
    engine.dispose()
    assert again.sent == [] and sorted(again.already) == sorted(ids.values())
    assert len(inbox.messages) == 2
    assert [tuple(row) for row in logged] == [(i, f"briefing:{WEEK}", "briefing", "sent") for i in sorted(ids.values())]
    assert date.fromisoformat("2026-11-22") == week_of(create_engine(world), DASHBOARD).as_of


def test_the_notes_on_the_record_of_the_scope_are_in_the_briefing_and_on_its_trend(world):
    from data.access import Viewer
    from data.notes import add_note

    engine = create_engine(world)
    analyst = Viewer("Ana <b>Lyst</b>", frozenset({"civil"}), frozenset({"analyst"}))
    add_note(engine, analyst, kpi=None, noted_on=date(2026, 11, 18), note="Strike <script>x</script>", department_id="civil")
    add_note(engine, analyst, kpi="volume", noted_on=date(2026, 10, 1), note="New forms online", department_id="civil")
    engine.dispose()
    briefing, _ = built(world, Subscription("Head of Civil", "weekly_digest", "email", "civil@example.gov", department_id="civil"))
    page = briefing.html(images={})
    record = page.split(">On the record</h2>", 1)[1].split("<h2", 1)[0]
    assert "Wed 18 Nov 2026, every measure: Strike &lt;script&gt;x&lt;/script&gt; (Ana &lt;b&gt;Lyst&lt;/b&gt;)" in record
    assert "Thu 01 Oct 2026, volume: New forms online" in record
    assert record.index("18 Nov") < record.index("01 Oct")  # newest first
    assert "1 of them this week" in record
    assert "<script>" not in page
    assert "- Wed 18 Nov 2026, every measure: Strike <script>x</script> (Ana <b>Lyst</b>)" in briefing.text  # the plain-text part
    # every chart is a trend or bars; the trends carry the every-measure note, with it said in their text
    trends = [chart for chart in briefing.charts if chart.name.startswith("trend-")]
    assert trends
    for chart in trends:
        assert "notes on the record marked: 18 Nov, Strike <script>x</script>" in chart.alt
        assert "Note on the record" in [trace.name for trace in chart.figure.data]

    # a revenue head's briefing holds none of civil's notes
    revenue, _ = built(world, Subscription("Head of Revenue", "weekly_digest", "email", "rev@example.gov", department_id="revenue"))
    assert "No note is on the record for this scope" in revenue.html(images={})
    assert "Strike" not in revenue.text
