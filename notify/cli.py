"""Command line: ``python -m notify send`` and ``python -m notify briefing``.

``send`` sends the due notifications of every active subscription once each (see
notify.send); ``briefing`` the weekly briefings (notify.briefing), once, or on a weekly
schedule with ``--every monday 07:00``. ``python -m forecasting notify`` is its old name (see ALIASES). Errors the
user can fix print as one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from forecasting._frame import ForecastInputError
from forecasting.cli import DATABASE_HELP, Command, run
from notify import NotifyError


def configure_send(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default=None, help=DATABASE_HELP)
    parser.add_argument("--smtp-host", default=None, help="SMTP server (default $KPI_SMTP_HOST, else [smtp] host in .streamlit/secrets.toml, else localhost; login and TLS: see README)")
    parser.add_argument("--smtp-port", type=int, default=None, help="SMTP port (default $KPI_SMTP_PORT, else 25)")
    parser.add_argument("--sender", default=None, help="From address (default $KPI_SMTP_FROM, else kpi-dashboard@localhost)")
    parser.add_argument("--dashboard-url", default=None, help="base URL of links (default $KPI_DASHBOARD_URL, else http://localhost:8501)")
    parser.add_argument("--since-days", type=int, default=7, help="anomalies whose first day is at most this many days before the data's end (default 7)")
    parser.add_argument("--attempts", type=int, default=3, help="tries per event within one run (default 3)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be sent; send and record nothing")


def _settings(settings_class, args: argparse.Namespace, **more):
    """The SMTP and link settings (notify/smtp.py says where each comes from); a setting
    that cannot be used is one line."""
    from notify.smtp import SmtpSettingsError

    try:
        return settings_class.from_environment(smtp_host=args.smtp_host, smtp_port=args.smtp_port, sender=args.sender,
                                               dashboard_url=args.dashboard_url, **more)
    except SmtpSettingsError as problem:
        raise ForecastInputError(str(problem)) from None


def run_send(args: argparse.Namespace) -> int:
    from data.database import create_engine
    from notify.send import NotifySettings, notify

    if args.since_days < 0 or args.attempts < 1:
        raise ForecastInputError("--since-days must be 0 or more and --attempts at least 1.")
    settings = _settings(NotifySettings, args, since_days=args.since_days, attempts=args.attempts)
    engine = create_engine(args.database)
    try:
        report = notify(engine, settings, dry_run=args.dry_run)
    finally:
        engine.dispose()
    for line in report.lines():
        print(line, file=sys.stderr if line.startswith(("failed", "gave up", "skipped")) else sys.stdout)
    return 1 if report.failed or report.given_up or report.skipped else 0


def configure_briefing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default=None, help=DATABASE_HELP)
    parser.add_argument("--smtp-host", default=None, help="SMTP server (default $KPI_SMTP_HOST, else [smtp] host in .streamlit/secrets.toml, else localhost; login and TLS: see README)")
    parser.add_argument("--smtp-port", type=int, default=None, help="SMTP port (default $KPI_SMTP_PORT, else 25)")
    parser.add_argument("--sender", default=None, help="From address (default $KPI_SMTP_FROM, else kpi-dashboard@localhost)")
    parser.add_argument("--dashboard-url", default=None, help="base URL of links (default $KPI_DASHBOARD_URL, else http://localhost:8501)")
    parser.add_argument("--week", default=None, help="ISO week, e.g. 2026-W47 (default the last complete week of data)")
    parser.add_argument("--out", default=None, help="folder to write each briefing's PDF and HTML into as well")
    parser.add_argument("--dry-run", action="store_true", help="build and draw the briefings (and --out them); send and record nothing")
    parser.add_argument("--every", nargs=2, metavar=("WEEKDAY", "HH:MM"), default=None,
                        help="keep running and send at this time every week, e.g. --every monday 07:00 (local time; "
                             "sends what is due at once on start; a briefing already sent is never sent again)")


def run_briefing(args: argparse.Namespace) -> int:
    import datetime as dt
    import time

    from data.database import create_engine
    from notify.briefing import Every, run_every, send_briefings
    from notify.send import NotifySettings

    every = None
    if args.every:
        try:
            every = Every.parse(" ".join(args.every))
        except ValueError as problem:
            raise ForecastInputError(str(problem)) from None
    settings = _settings(NotifySettings, args)

    def once() -> int:
        engine = create_engine(args.database)
        try:
            report = send_briefings(engine, settings, week=args.week, dry_run=args.dry_run, out=args.out)
        finally:
            engine.dispose()
        for line in report.lines():
            print(line, file=sys.stderr if line.startswith(("failed", "skipped")) else sys.stdout, flush=True)
        return 1 if report.failed or report.skipped else 0

    if every is None:
        return once()
    print(f"sending briefings every {' '.join(args.every)} (local time); next after this run: "
          f"{every.next_run(dt.datetime.now()):%a %d %b %Y %H:%M}", flush=True)
    run_every(every, once, clock=dt.datetime.now, sleep=time.sleep)
    return 0


PROG = "python -m notify"
DESCRIPTION = "Notifications of target breaches, anomalies and weekly digests."
SEND = Command("send", "send due notifications of target breaches, anomalies and weekly digests, once each", configure_send, run_send)
BRIEFING = Command("briefing", "send each weekly-digest subscriber the weekly briefing (HTML email with charts, PDF attached), once a week", configure_briefing, run_briefing)
COMMANDS = [SEND, BRIEFING]
# The name ``python -m forecasting`` has always had for this command.
ALIASES = [dataclasses.replace(SEND, name="notify")]


def main(argv: list[str] | None = None) -> int:
    return run(argv, COMMANDS, PROG, DESCRIPTION, errors=(NotifyError,))
