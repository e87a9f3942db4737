"""Command line: ``python -m metrics scorecard --week 2026-W47 [--department ID] [--by ...]``.

Prints exactly the numbers the dashboard shows, in long form.
"""

from __future__ import annotations

import argparse
import json
import sys

import polars as pl

from metrics.periods import parse_week
from metrics.registry import METRICS
from metrics.scorecard import SCORECARD_BY, latest_complete_week, scorecard


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m metrics", description="KPIs from the command line.")
    commands = main.add_subparsers(dest="command", required=True)
    card = commands.add_parser("scorecard", help="the weekly scorecard, in long form")
    card.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: the last complete week of data)")
    card.add_argument("--department", help="department id (default: every department you may see)")
    card.add_argument("--service", help="service id")
    card.add_argument("--office", help="office id")
    card.add_argument("--by", choices=[b.removesuffix("_id") for b in SCORECARD_BY], help="one scorecard per department, service, office or channel")
    card.add_argument("--format", choices=["table", "csv", "json"], default="table")
    card.add_argument("--database", default=None, help="SQLAlchemy URL (default $KPI_DATABASE_URL or data/kpi.duckdb)")
    commands.add_parser("list", help="the KPIs in the registry")
    release = commands.add_parser("publish", help="write an open-data release (CSV files and datapackage.json)")
    release.add_argument("--out", required=True, help="folder of releases; the release goes into OUT/<version>/")
    release.add_argument("--period", choices=["month", "quarter"], default="month", help="the periods of the release (default month)")
    release.add_argument("--config", default=None, help="publication settings (default config/publication.toml)")
    release.add_argument("--database", default=None, help="SQLAlchemy URL (default $KPI_DATABASE_URL or data/kpi.duckdb)")
    return main


def _print(frame: pl.DataFrame, style: str) -> None:
    if style == "csv":
        sys.stdout.write(frame.write_csv())
    elif style == "json":
        sys.stdout.write(json.dumps(frame.to_dicts(), default=str, indent=1) + "\n")
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=40, tbl_hide_dataframe_shape=True, float_precision=2):
            print(frame)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "list":
        _print(pl.DataFrame([{"kpi": m.name, "label": m.label, "unit": m.unit, "better": m.better.value, "target": m.target} for m in METRICS.values()]), "table")
        return 0
    from data.database import DatabaseError

    try:
        if args.command == "publish":
            from metrics.publish import run_command

            return run_command(args)
        return _scorecard(args)
    except (DatabaseError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _scorecard(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from data.build import ensure_database
    from data.extracts import run_extract
    from data.facts import data_extent, load_facts, organisation_timezone

    if args.week:
        parse_week(args.week)  # fail early on a malformed week
    engine = ensure_database(args.database, quiet=True)
    with engine.connect() as conn:
        everyone = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments ORDER BY 1")]
    departments = everyone
    if args.department:
        if args.department not in everyone:
            raise ValueError(f"unknown department {args.department!r}; known: {', '.join(everyone)}")
        departments = [args.department]
    timezone = organisation_timezone(run_extract(engine, "offices", departments=departments))
    extent = data_extent(engine, departments, timezone)
    if extent is None:
        raise ValueError("the database has no cases or contacts: run python -m data generate or import data")
    as_of = extent[1]
    week = args.week or latest_complete_week(as_of)
    monday = parse_week(week)
    facts = load_facts(engine, departments, monday - timedelta(weeks=52), monday + timedelta(days=6))
    scope = {}
    if args.department:
        scope["department_id"] = args.department
    for flag, column in (("service", "service_id"), ("office", "office_id")):
        value = getattr(args, flag)
        if value:
            known = run_extract(engine, "services" if flag == "service" else "offices", departments=departments)[column].to_list()
            if value not in known:
                raise ValueError(f"unknown {flag} {value!r}; known: {', '.join(known)}")
            scope[column] = value
    narrowed = facts.where(**{k: v for k, v in scope.items() if k != "department_id"})
    by = f"{args.by}_id" if args.by and args.by != "channel" else args.by
    card = scorecard(narrowed, week, by=by, scope=scope, as_of=as_of, data_from=extent[0])
    columns = ["week", "scope", "kpi", "value", "last_week", "same_week_last_year", "target", "status", "n", "change_on_last_week", "change_on_last_year", "unit", "note", "partial"]
    _print(card.long().select(columns), args.format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
