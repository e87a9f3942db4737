"""Benchmark: generate and load scale 1 into DuckDB (goal: at most 60 s on 2 cores).

    python -m bench.generate [--scale 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from data.build import build, row_counts
from data.database import create_engine
from data.generate import Scenario


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"duckdb:///{Path(folder) / 'bench.duckdb'}"
        started = time.perf_counter()
        rows = build(url, Scenario(seed=42, scale=args.scale), quiet=True)
        seconds = time.perf_counter() - started
        cases = row_counts(create_engine(url))["cases"]
    print(f"scale {args.scale:g}: {cases:,} cases, {rows:,} rows in all, generated and loaded into DuckDB in {seconds:.1f} s (goal: 60 s)")
    return {"seconds": seconds, "cases": cases, "rows": rows}


if __name__ == "__main__":
    main()
