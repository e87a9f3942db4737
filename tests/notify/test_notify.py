"""Notifications end to end: a local SMTP server (aiosmtpd on 127.0.0.1) and a local HTTP
receiver (http.server in a thread) receive what `python -m notify send` sends."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest
import sqlalchemy as sa

from anomalies.store import latest_flags
from data.database import connect, create_engine, duckdb_path
from devtools.serving import free_port
from forecasting.__main__ import main as forecasting_main
from notify.cli import main as cli_main
from notify.send import NotifySettings, notify
from notify.subscriptions import Subscription, add_subscription

DASHBOARD = "https://kpi.example.gov/dash"


class Receiver:
    """A local webhook: records JSON bodies; answers 500 to the first ``fail_first``."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.fail_first = 0
        self.seen = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                receiver.seen += 1
                if receiver.seen <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(monkeypatch) -> Iterator[Receiver]:
    """The receiver, configured as the webhook named 'receiver' (subscriptions store
    secret:receiver, never its URL), and a webhook 'gone' whose server is not there."""
    receiver = Receiver()
    monkeypatch.setenv("KPI_WEBHOOK_URL_RECEIVER", receiver.url)
    monkeypatch.setenv("KPI_WEBHOOK_URL_GONE", f"http://127.0.0.1:{free_port()}/gone")
    receiver.address = "secret:receiver"
    yield receiver
    receiver.close()


@pytest.fixture
def world(anomaly_world, tmp_path) -> Iterator:
    """A private copy of the stored small world (subscriptions are written to it)."""
    source = duckdb_path(anomaly_world.url)
    target = tmp_path / "notify.duckdb"
    shutil.copy(source, target)
    engine = create_engine(f"duckdb:///{target}")
    yield engine
    engine.dispose()


def settings(port: int, **more) -> NotifySettings:
    return NotifySettings(smtp_host="127.0.0.1", smtp_port=port, sender="kpi@example.gov", dashboard_url=DASHBOARD,
                          since_days=400, backoff_seconds=0.01, timeout_seconds=5, **more)


def subscribe(engine, receiver_url: str) -> dict[str, int]:
    flags = latest_flags(engine, ["benefits", "civil", "revenue", "transport"]).filter(pl.col("grain") == "day")
    busiest = flags.group_by("scope_kind", "scope_id").len().sort("len", "scope_id", descending=[True, False]).row(0, named=True)
    scope = {"office": {"office_id": busiest["scope_id"]}, "service": {"service_id": busiest["scope_id"]},
             "channel": {"scope_channel": busiest["scope_id"]}, "department": {"department_id": busiest["scope_id"]}, "total": {}}[busiest["scope_kind"]]
    return {
        "anomaly_email": add_subscription(engine, Subscription("Ada", "anomaly", "email", "ada@example.gov", **scope)),
        "digest_email": add_subscription(engine, Subscription("Head of Civil", "weekly_digest", "email", "head@example.gov", department_id="civil")),
        "breach_hook": add_subscription(engine, Subscription("Ops", "target_breach", "webhook", receiver_url)),
        "dead_hook": add_subscription(engine, Subscription("Nobody", "weekly_digest", "webhook", "secret:gone")),
    }


def test_each_event_is_sent_once_and_failures_are_reported_and_retried(world, smtp, webhook):
    inbox, port = smtp
    ids = subscribe(world, webhook.address)
    first = notify(world, settings(port))

    # email: every anomaly of the scope and one digest, each a message with an HTML part
    by_subscription = {}
    for event in first.sent:
        by_subscription.setdefault(event.subscription_id, []).append(event)
    assert len(by_subscription[ids["anomaly_email"]]) >= 2
    assert len(by_subscription[ids["digest_email"]]) == 1
    assert len(inbox.messages) == len(by_subscription[ids["anomaly_email"]]) + 1
    subjects = [m["Subject"] for m in inbox.messages]
    assert all(s.startswith("[KPI] Anomaly: ") for s in subjects[:-1]) or any(s.startswith("[KPI] Weekly digest") for s in subjects)

    digest = next(m for m in inbox.messages if m["Subject"].startswith("[KPI] Weekly digest"))
    assert digest["To"] == "head@example.gov" and digest["From"] == "kpi@example.gov"
    page = digest.get_body(preferencelist=("html",)).get_content()
    assert "<caption" in page and "Scorecard" in page
    assert "On-time rate" in page and "target" in page.lower()
    week = digest["Subject"].split()[3].rstrip(":")
    assert f"{DASHBOARD}/overview?department=civil&amp;week={week}" in page  # the scorecard of the scope and week
    assert f"{DASHBOARD}/drilldown?kpi=" in page and "department=civil" in page
    assert "Anomalies of the week" in page
    assert digest.get_body(preferencelist=("plain",)).get_content().startswith(f"Weekly digest {week} for Civil")

    anomaly = next(m for m in inbox.messages if m["Subject"].startswith("[KPI] Anomaly"))
    html_part = anomaly.get_body(preferencelist=("html",)).get_content()
    assert f"{DASHBOARD}/anomalies?" in html_part and "flag=" in html_part and f"{DASHBOARD}/drilldown?" in html_part

    # the webhook: JSON with the breach, its week and links
    assert webhook.bodies, "the target-breach webhook received nothing"
    body = webhook.bodies[0]
    assert body["rule"] == "target_breach" and body["subscription_id"] == ids["breach_hook"]
    assert body["event"] in ("started", "ended") and body["week"] == week and body["weeks_below"] >= 3
    assert body["links"]["overview"].startswith(f"{DASHBOARD}/overview?week=")

    # the dead webhook failed, is reported with its error and recorded, not dropped
    assert [e.subscription_id for e, _, _ in first.failed] == [ids["dead_hook"]]
    assert any(line.startswith("failed: subscription") and "retried next run" in line for line in first.lines())
    with connect(world) as conn:
        rows = conn.execute(sa.text("SELECT status, attempts, error FROM notifications WHERE subscription_id = :s"), {"s": ids["dead_hook"]}).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("failed", 3)] and "Error" in rows[0][2]

    # a second run sends nothing new, and tries the failed event again
    received, hooked = len(inbox.messages), len(webhook.bodies)
    second = notify(world, settings(port))
    assert second.sent == [] and second.already == len(first.sent)
    assert len(inbox.messages) == received and len(webhook.bodies) == hooked
    assert [e.subscription_id for e, _, n in second.failed] == [ids["dead_hook"]] and second.failed[0][2] == 6

    # after max_runs the event is given up, and still reported every run
    for _ in range(3):
        notify(world, settings(port))
    given_up = notify(world, settings(port))
    assert [(s, n) for s, _, _, n in given_up.given_up] == [(ids["dead_hook"], 15)]
    assert any(line.startswith("gave up: subscription") for line in given_up.lines())


def test_a_send_that_fails_twice_then_succeeds_is_retried_within_the_run(world, smtp, webhook):
    _, port = smtp
    add_subscription(world, Subscription("Ops", "target_breach", "webhook", webhook.address))
    webhook.fail_first = 2
    report = notify(world, settings(port))
    assert report.failed == [] and len(report.sent) >= 1
    with connect(world) as conn:
        rows = conn.execute(sa.text("SELECT status, attempts FROM notifications ORDER BY attempts DESC")).fetchall()
    assert {row[0] for row in rows} == {"sent"}
    assert rows[0][1] == 3  # the first event took three tries; the rest one each
    assert [row[1] for row in rows[1:]] == [1] * (len(rows) - 1)


def test_the_command_line_reports_and_exits_non_zero_on_a_failure(world, smtp, webhook, capsys):
    _, port = smtp
    url = str(world.url.render_as_string(hide_password=False))
    subscribe(world, webhook.address)
    world.dispose()
    code = cli_main(["send", "--database", url, "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
                     "--dashboard-url", DASHBOARD, "--since-days", "400", "--attempts", "1"])
    out = capsys.readouterr()
    assert code == 1
    assert out.out.startswith("sent ") and "failed: subscription" in out.err
    # a dry run lists what is due (only the failed event now) and sends nothing; under the
    # command's old name, python -m forecasting notify
    code = forecasting_main(["notify", "--database", url, "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--since-days", "400", "--dry-run"])
    listed = capsys.readouterr().out
    assert code == 0
    assert listed.startswith("would send 1 notification(s);") and "(Nobody, webhook" in listed


def test_one_bad_subscription_never_stops_the_others(world, smtp, webhook, capsys):
    """A row with a line break in its address (stored by an older, laxer version, or
    written into the table directly) comes first, yet every later subscriber is notified;
    the run reports it by number with the reason and exits non-zero so it gets fixed."""
    inbox, port = smtp
    bad = add_subscription(world, Subscription("Eve", "weekly_digest", "email", "eve@example.org"))
    with connect(world, begin=True) as conn:
        conn.execute(sa.text("UPDATE subscriptions SET address = :address WHERE subscription_id = :id"),
                     {"address": "eve@example.org\r\nBcc: everyone@example.org", "id": bad})
    later = add_subscription(world, Subscription("Head of Civil", "weekly_digest", "email", "head@example.gov", department_id="civil"))
    hook = add_subscription(world, Subscription("Ops", "weekly_digest", "webhook", webhook.address))
    report = notify(world, settings(port))
    assert [(number, who) for number, who, _ in report.skipped] == [(bad, "Eve")]
    assert "line break" in report.skipped[0][2]
    assert {event.subscription_id for event in report.sent} == {later, hook}
    assert [m["To"] for m in inbox.messages] == ["head@example.gov"]
    assert all("everyone@example.org" not in str(m) for m in inbox.messages)
    assert len(webhook.bodies) == 1
    with connect(world) as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM notifications WHERE subscription_id = :id"), {"id": bad}).scalar_one() == 0
    url = str(world.url.render_as_string(hide_password=False))
    world.dispose()
    code = cli_main(["send", "--database", url, "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--dashboard-url", DASHBOARD, "--since-days", "400"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"skipped: subscription {bad} ('Eve')" in err and "correct or deactivate it" in err


def test_a_sustained_breach_is_told_when_it_starts_and_when_it_ends_never_in_between(world, smtp, webhook):
    """Transport in the small world: breaches still going (on-time rate for the whole year,
    satisfaction since W45) are told once as started; call abandonment, back on target in
    W47 after six weeks, once as ended; a second run tells nothing again."""
    _, port = smtp
    add_subscription(world, Subscription("Head of Transport", "target_breach", "webhook", webhook.address, department_id="transport"))
    first = notify(world, settings(port))
    keys = sorted(event.key for event in first.sent)
    assert "breach-start:on_time_rate:long" in keys  # below target all the year the scorecard reads
    assert "breach-start:satisfaction:2026-W45" in keys
    assert "breach-end:abandonment_rate:2026-W41" in keys
    assert not [key for key in keys if not key.startswith(("breach-start:", "breach-end:"))]
    ended = next(body for body in webhook.bodies if body["kpi"] == "abandonment_rate")
    assert (ended["event"], ended["start_week"], ended["weeks_below"], ended["ended_week"]) == ("ended", "2026-W41", 6, "2026-W47")
    assert ended["sentence"].startswith("Call abandonment in Transport and Licensing: back on its 8.0% target in 2026-W47 after 6 weeks")
    assert "department=transport" in ended["links"]["overview"]
    started = next(body for body in webhook.bodies if body["kpi"] == "satisfaction")
    assert started["event"] == "started" and started["began_before_window"] is False
    again = notify(world, settings(port))
    assert again.sent == [] and again.already == len(first.sent)
