"""Command line: ``python -m data generate|ensure|counts|import|targets|secure``."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from data.database import DatabaseError
from data.importer.errors import ImportFailed


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError("the scale must be above 0 and at most 100")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m data", description="Make and load the dashboard's data.")
    commands = main.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="generate realistic data and load it (replaces generated tables)")
    generate.add_argument("--scale", type=_scale, default=1.0, help="1 gives over 1,000,000 cases (default 1)")
    generate.add_argument("--end", type=_date, default=None, help="last day of data, YYYY-MM-DD (default yesterday)")
    generate.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same data")
    generate.add_argument("--database", default=None, help="SQLAlchemy URL (default $KPI_DATABASE_URL or data/kpi.duckdb)")
    generate.add_argument("--quiet", action="store_true", help="no progress output")

    ensure = commands.add_parser("ensure", help="build the default database if it is missing; create the schema")
    ensure.add_argument("--database", default=None)

    counts = commands.add_parser("counts", help="print the rows in each table")
    counts.add_argument("--database", default=None)

    imports = commands.add_parser(
        "import",
        help="import an export (CSV, gzipped CSV, TSV, Parquet, Excel) with a mapping",
        description="Import an export with a mapping; see README, 'Importing your own exports'.",
    )
    imports.add_argument("file", help="the export file")
    imports.add_argument("--mapping", required=True, help="a shipped mapping's name (see data/mappings/) or the path of a .toml file")
    imports.add_argument("--dry-run", action="store_true", help="read, check and count everything, write nothing")
    imports.add_argument("--database", default=None, help="SQLAlchemy URL (default $KPI_DATABASE_URL or data/kpi.duckdb)")
    imports.add_argument("--quiet", action="store_true", help="no progress bar")

    targets = commands.add_parser(
        "targets", help="print the importer's reference: every target table and column, allowed values, mapping keys",
    )
    targets.add_argument("--out", default=None, help="write it to this file instead (docs/import-targets.md is this output)")

    secure = commands.add_parser(
        "secure",
        help="PostgreSQL: create the dashboard's login role and the row-level security policies (idempotent)",
        description="PostgreSQL: create the dashboard's login role and the row-level security policies of "
        "sql/security/postgresql_row_security.sql; see README, 'PostgreSQL row-level security'.",
    )
    secure.add_argument("--database", required=True, help="SQLAlchemy URL of a superuser's (or the tables' owner's) connection, not the dashboard's")
    secure.add_argument("--role", default="kpi_dashboard", help="the dashboard's role (default kpi_dashboard)")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "generate":
            from data.build import build
            from data.generate import Scenario

            build(args.database, Scenario(seed=args.seed, scale=args.scale, end=args.end), quiet=args.quiet)
        elif args.command == "ensure":
            from data.build import ensure_database
            from data.database import describe

            engine = ensure_database(args.database)
            print(f"Database ready: {describe(engine)}")
        elif args.command == "counts":
            from data.build import row_counts
            from data.database import create_engine

            for table, count in row_counts(create_engine(args.database)).items():
                print(f"{table:<16} {count:>12,}")
        elif args.command == "import":
            from data.importer import import_file

            result = import_file(
                args.file, args.mapping, args.database, dry_run=args.dry_run, quiet=args.quiet,
                progress=False if args.quiet else None,
            )
            print(result.report())
        elif args.command == "targets":
            from pathlib import Path

            from data.importer.reference import targets_reference

            text = targets_reference() + "\n"
            if args.out:
                Path(args.out).write_text(text, encoding="utf-8")
                print(f"reference written to {args.out}")
            else:
                print(text, end="")
        elif args.command == "secure":
            from data.database import create_engine, database_url
            from data.row_security import DUCKDB_REFUSAL, secure

            if database_url(args.database).startswith("duckdb"):
                raise DatabaseError(DUCKDB_REFUSAL)
            engine = create_engine(args.database)
            try:
                print(secure(engine, args.role).report())
            finally:
                engine.dispose()
    except (DatabaseError, ImportFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
