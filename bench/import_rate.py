"""Benchmark: import a large synthetic CSV of cases into a fresh DuckDB file (goal: at
least 500,000 rows a second, memory bounded).

    python -m bench.import_rate [--rows 10000000] [--block-mb 32]

The file (about 95 bytes a row, in a temporary folder) has a unique case reference,
opening and closing times as text, a department, a type and a channel: the shape of a
311 export. It is imported with a mapping like boston311's (slugged dimensions, a channel
map, two timestamps with a time zone, a repair rule and a flag), end to end: reading,
mapping, validating, staging, one transaction into DuckDB, indexes. The rate is rows
read per second of wall time; peak memory is the process's maximum resident set.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from data.importer import import_file, load_mapping

GOAL_ROWS_PER_SECOND = 500_000

MAPPING = """
[source]
name = "bench_cases"
key = ["case_ref"]
timezone = "Europe/London"

[target]
table = "cases"

[fields]
department_id = { slug = ["department"] }
department_name = { from = "department" }
service_id = { slug = ["department", "type"] }
service_name = { from = "type" }
office_id = { value = "bench_office" }
channel = { from = "channel", map = { Phone = "phone", App = "mobile_app", Web = "online", Counter = "in_person", Letter = "mail" } }
submitted_at = { from = "opened", timestamp = "%Y-%m-%d %H:%M:%S" }
closed_at = { from = "closed", timestamp = "%Y-%m-%d %H:%M:%S" }
status = { sql = "CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END" }

[[rules]]
name = "closed_seconds_before_opened"
action = "repair"
when = "closed_at < submitted_at AND closed_at >= submitted_at - INTERVAL '1 minute'"
set = { closed_at = "submitted_at" }

[[rules]]
name = "closed_within_a_minute"
action = "flag"
when = "closed_at < submitted_at + INTERVAL '1 minute'"

[dimensions.departments]
department_id = "department_id"
name = "department_name"

[dimensions.services]
service_id = "service_id"
department_id = "department_id"
name = "service_name"
digital = true

[dimensions.offices]
office_id = "office_id"
name = { value = "Bench office" }
region = { value = "Bench" }
kind = { value = "service_centre" }
timezone = { value = "Europe/London" }
"""


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    """A 311-like CSV of ``rows`` cases, written in chunks (bounded memory)."""
    rng = np.random.default_rng(seed)
    departments = [f"Department {i}" for i in range(8)]
    types = [f"Request type {i}" for i in range(40)]
    channels = ["Phone", "App", "Web", "Counter", "Letter"]
    start = np.datetime64("2024-01-01T00:00:00")
    chunk = 1_000_000
    with open(path, "wb") as handle:
        for offset in range(0, rows, chunk):
            n = min(chunk, rows - offset)
            opened = start + np.sort(rng.integers(0, 365 * 86400, n)).astype("timedelta64[s]")
            duration = rng.exponential(5 * 86400, n).astype("int64") - 30  # a few close before they open
            closed = opened + duration.astype("timedelta64[s]")
            frame = pl.DataFrame(
                {
                    "case_ref": np.arange(offset + 1, offset + n + 1) + 100_000_000,
                    "opened": opened.astype("datetime64[ms]"),
                    "closed": closed.astype("datetime64[ms]"),
                    "department": rng.integers(0, len(departments), n),
                    "type": rng.integers(0, len(types), n),
                    "channel": rng.integers(0, len(channels), n),
                }
            ).with_columns(
                pl.col("opened").dt.strftime("%Y-%m-%d %H:%M:%S"),
                pl.when(pl.int_range(pl.len()) % 6 == 0).then(None).otherwise(pl.col("closed").dt.strftime("%Y-%m-%d %H:%M:%S")).alias("closed"),
                pl.col("department").replace_strict(dict(enumerate(departments)), return_dtype=pl.String),
                pl.col("type").replace_strict(dict(enumerate(types)), return_dtype=pl.String),
                pl.col("channel").replace_strict(dict(enumerate(channels)), return_dtype=pl.String),
            )
            frame.write_csv(handle, include_header=offset == 0)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--block-mb", type=int, default=32)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kpi-bench-import-") as folder:
        csv_path = Path(folder) / "cases.csv"
        started = time.perf_counter()
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"wrote {args.rows:,} rows ({size_mb:,.0f} MB) in {time.perf_counter() - started:.1f} s", flush=True)
        mapping_path = Path(folder) / "bench_cases.toml"
        mapping_path.write_text(MAPPING)
        mapping = load_mapping(mapping_path)
        url = f"duckdb:///{Path(folder) / 'bench.duckdb'}"
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        result = import_file(csv_path, mapping, url, block_bytes=args.block_mb * 1024 * 1024, progress=False)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rate = result.reconciliation.read / seconds
        print(result.report())
        for phase, spent in result.phases.items():
            print(f"  {phase:<30} {spent:6.1f} s")
        print(
            f"imported {result.reconciliation.read:,} rows into DuckDB in {seconds:.1f} s: {rate:,.0f} rows/s "
            f"(goal: {GOAL_ROWS_PER_SECOND:,}; {rate / GOAL_ROWS_PER_SECOND:.2f}x the goal); {cpu_seconds:.1f} s of CPU "
            f"on {os.cpu_count()} cores, load average {load:.1f} when it started; peak resident memory "
            f"{peak_mb:,.0f} MB (before the import: {before / 1024:,.0f} MB)",
            flush=True,
        )
        started = time.perf_counter()
        with duckdb.connect(str(Path(folder) / "baseline.duckdb")) as raw:
            raw.execute(
                "CREATE TABLE cases AS SELECT * FROM read_csv(?, header = true, "
                "timestampformat = '%Y-%m-%d %H:%M:%S')",
                [str(csv_path)],
            )
        baseline = time.perf_counter() - started
        print(
            f"baseline, DuckDB's own read_csv straight into a table (no mapping, rules, rejects or keys): "
            f"{baseline:.1f} s ({args.rows / baseline:,.0f} rows/s); the import takes {seconds / baseline:.1f}x that",
            flush=True,
        )
        started = time.perf_counter()
        again = import_file(csv_path, mapping, url, block_bytes=args.block_mb * 1024 * 1024, progress=False)
        seconds_again = time.perf_counter() - started
        print(
            f"the same file again: {again.reconciliation.unchanged:,} unchanged, {again.reconciliation.inserted:,} "
            f"inserted in {seconds_again:.1f} s ({again.reconciliation.read / seconds_again:,.0f} rows/s)",
            flush=True,
        )
    return {"rows": float(result.reconciliation.read), "seconds": seconds, "baseline_seconds": baseline, "rows_per_second": rate, "peak_mb": peak_mb}


if __name__ == "__main__":
    main()
