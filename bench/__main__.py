"""Run every benchmark in turn: ``python -m bench`` (``make bench``).

Each prints its figures and ratios against a baseline measured in the same run. Pass
names to run only some: ``python -m bench extract_postgres``.
"""

from __future__ import annotations

import importlib
import sys
import time

# name -> module; each module has main(argv) and prints its own report
BENCHMARKS = {
    "generate": "bench.generate",
    "extract_postgres": "bench.extract_postgres",
    "metrics_scorecard": "bench.metrics_scorecard",
    "forecast_accuracy": "bench.forecast_accuracy",
    "forecast_fleet": "bench.forecast_fleet",
    "forecast_frequency": "bench.forecast_frequency",
    "import_rate": "bench.import_rate",
    "dashboard_render": "bench.dashboard_render",
    "overview_connections": "bench.overview_connections",
    "anomaly_quality": "bench.anomaly_quality",
}


def main(argv: list[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(f"{__doc__.strip()}\n\nbenchmarks: {', '.join(BENCHMARKS)}")
        return 0
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(BENCHMARKS[name]).main([])
        print(f"({name} took {time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
