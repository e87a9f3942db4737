"""Benchmark: a 1,000,000-row extract from PostgreSQL into Polars, against pandas.read_sql
over SQLAlchemy, in the same run on the same database. Goal: at least 4 times faster.

    python -m bench.extract_postgres [--scale 1]
"""

from __future__ import annotations

import argparse
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from bench.common import best_of, throwaway_postgres
from data.build import build
from data.database import create_engine
from data.extracts import load_extract, run_extract
from data.generate import Scenario

WINDOW = {"start": datetime(2000, 1, 1), "end": datetime(2100, 1, 1)}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with throwaway_postgres() as url:
        print(f"Loading scale {args.scale:g} into a throwaway PostgreSQL database…", flush=True)
        build(url, Scenario(seed=42, scale=args.scale), quiet=True)
        engine = create_engine(url)
        with engine.connect() as conn:
            departments = [row[0] for row in conn.exec_driver_sql("SELECT department_id FROM departments")]
        extract = load_extract("cases")

        def ours():
            return run_extract(engine, "cases", departments=departments, **WINDOW)

        def pandas_read_sql():
            statement = sa.text(extract.sql).bindparams(sa.bindparam("departments", expanding=True))
            with engine.connect() as conn:
                return pd.read_sql(statement, conn, params={"departments": departments, **WINDOW})

        ours()  # warm the server's caches for both contenders alike
        ours_median, ours_best, frame = best_of(ours, args.repeats)
        pandas_median, pandas_best, pandas_frame = best_of(pandas_read_sql, args.repeats)
        engine.dispose()
    assert frame.height == len(pandas_frame)
    ratio = pandas_median / ours_median
    print(f"cases extract: {frame.height:,} rows x {frame.width} columns")
    print(f"  run_extract (ADBC -> Polars):     median {ours_median:6.2f} s  (best {ours_best:.2f} s)")
    print(f"  pandas.read_sql over SQLAlchemy:  median {pandas_median:6.2f} s  (best {pandas_best:.2f} s)")
    print(f"  ratio: {ratio:.1f}x faster (goal: at least 4x)")
    return {"rows": frame.height, "ours_s": ours_median, "pandas_s": pandas_median, "ratio": ratio}


if __name__ == "__main__":
    main()
