"""Anomaly flags on real daily series, with incidents injected at random days (issue 16).

    python -m bench.anomaly_quality_real [--runs 40] [--seed 0] [--world-seed 42 --world-scale 1]

Runs the detector exactly as ``python -m anomalies detect-csv --csv FILE`` does
(anomalies.own.flag_csv_series: counts, both directions, public holidays known) on:

- real: Boston 311 requests per day in 2015 (../shared/data/boston311_2015.csv.gz), in
  total, per channel (Source) and per department (SUBJECT) with at least 30 a day on
  the median day; US/MA holidays known. 2015-07-22 has no rows in the export: a gap.
- real, too short: the Anonymous Bank's calls per day in February 1999 (PHANTOM calls
  left out); Israeli holidays known. 28 days: shorter than the detector's warm-up
  (13 weeks), so none of its days is scored; it is reported, not measured.
- generated: cases per local day of a generated world (data.generate; by default the
  demo database's, seed 42 at scale 1): the total, each department and each channel;
  GB/ENG holidays known.

*Injections.* Each run copies every series and injects incidents at random scored days,
at least six weeks apart, each of a random kind and size (seeded; ``--seed``):

- ``drop``: one day falls by 30, 50, 70 or 95%;
- ``spike``: one day rises 2, 3 or 5 times;
- ``shift``: every day from the start falls or rises by 20, 30, 45 or 60% for 1 to 8
  weeks (the direction at random);
- ``drift``: the series slides down or up linearly to 30 or 50% over 4 to 8 weeks,
  then stays there for two weeks.

*Recall*: the share of injected incidents with a flag in their direction whose first
day lies from the incident's first day to one day after it (drops and spikes), to seven
days after it (shifts: a shift of 30% in a series whose days vary by 15% is two noise
scales a day, and takes days to tell from noise), or anywhere in the drift (drifts).
*Precision*: the share of the flags raised in the injected runs whose first day lies
inside an injected incident or the seven days after it. *False alarms per series-month*:
flags on the series as they are (no injection), over their scored days / 30.44; every
flag there counts, although some are real events (a Christmas Eve at a third of the
usual requests). Goals (issue 16): recall >= 0.9 for drops of 50% or more and for shifts
of 30% or more; at most 1 false alarm per series per month on the real series.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from anomalies.detect import DetectionSettings
from anomalies.own import flag_csv_series, known_days
from data.samples import shared_data_dir

SHARED = shared_data_dir() or Path(__file__).resolve().parents[2] / "shared" / "data"
BOSTON_CSV = SHARED / "boston311_2015.csv.gz"
ANONBANK_TSV = SHARED / "anonbank_calls_feb1999.tsv"
DAYS_PER_MONTH = 30.44
SIZES = {"drop": (0.30, 0.50, 0.70, 0.95), "spike": (2.0, 3.0, 5.0), "shift": (0.20, 0.30, 0.45, 0.60), "drift": (0.30, 0.50)}
DETECT_DAYS = {"drop": 1, "spike": 1, "shift": 7}
AFTER_DAYS = 7  # a flag this long after an incident's end still belongs to it (precision)
GAP_DAYS = 42  # incidents of one run at least this far apart
WARM_UP_DAYS = 91  # the detector's warm-up (anomalies.detect.GrainSettings.warm_up)
GOALS = {"drop": 0.50, "shift": 0.30}  # recall >= 0.9 from these sizes
BUSY = 50  # a day whose weekday's median is at least this is busy (DetectionSettings.busy_count)
MIN_MEDIAN = 30  # a Boston channel or department with fewer requests on its median day is left out


@dataclass(frozen=True)
class Source:
    """One group of series: name, kind (real or generated), holidays and the frame."""

    name: str
    kind: str
    country: str | None
    subdivision: str | None
    frame: pl.DataFrame  # series_id, ds, y


def load_boston(path: Path = BOSTON_CSV) -> pl.DataFrame:
    """Requests per OPEN_DT date: total, per Source and per SUBJECT (busy ones)."""
    cases = pl.read_csv(path, columns=["OPEN_DT", "SUBJECT", "Source"], infer_schema_length=0).with_columns(
        pl.col("OPEN_DT").str.strptime(pl.Datetime, "%m/%d/%Y %I:%M:%S %p").dt.date().alias("ds")
    )
    parts = [cases.group_by("ds").len().select(pl.lit("boston:total").alias("series_id"), "ds", "len")]
    for column, prefix in (("Source", "boston:channel:"), ("SUBJECT", "boston:department:")):
        daily = cases.group_by(column, "ds").len()
        busy = daily.group_by(column).agg(pl.col("len").median()).filter(pl.col("len") >= MIN_MEDIAN)[column]
        parts.append(daily.filter(pl.col(column).is_in(busy.implode())).select(
            (pl.lit(prefix) + pl.col(column)).alias("series_id"), "ds", "len"))
    return pl.concat(parts).select("series_id", "ds", pl.col("len").cast(pl.Float64).alias("y")).sort("series_id", "ds")


def load_anonbank(path: Path = ANONBANK_TSV) -> pl.DataFrame:
    """Calls per day (PHANTOM calls left out)."""
    calls = pl.read_csv(path, separator="\t", columns=["date", "outcome"], infer_schema_length=0)
    return (
        calls.filter(pl.col("outcome").str.strip_chars() != "PHANTOM")
        .select(pl.col("date").str.strip_chars().str.strptime(pl.Date, "%y%m%d").alias("ds"))
        .group_by("ds").len()
        .select(pl.lit("anonbank:total").alias("series_id"), "ds", pl.col("len").cast(pl.Float64).alias("y"))
        .sort("ds")
    )


def load_generated(tables: dict[str, pl.DataFrame], timezone: str = "Europe/London") -> pl.DataFrame:
    """Cases per local day of a generated world (data.generate.generate's tables): the
    total, each department and each channel."""
    cases = tables["cases"].join(tables["services"].select("service_id", "department_id"), on="service_id").select(
        pl.col("submitted_at").dt.replace_time_zone("UTC").dt.convert_time_zone(timezone).dt.date().alias("ds"),
        "department_id", "channel",
    )
    parts = [cases.group_by("ds").len().select(pl.lit("generated:total").alias("series_id"), "ds", "len")]
    for column in ("department_id", "channel"):
        parts.append(cases.group_by(column, "ds").len().select(
            (pl.lit(f"generated:{column.removesuffix('_id')}:") + pl.col(column)).alias("series_id"), "ds", "len"))
    return pl.concat(parts).select("series_id", "ds", pl.col("len").cast(pl.Float64).alias("y")).sort("series_id", "ds")


def sources(generated: dict[str, pl.DataFrame] | None, label: str = "generated world") -> list[Source]:
    """Boston, the Anonymous Bank (when its file is there) and a generated world's tables."""
    boston = load_boston()
    total = pl.col("series_id") == "boston:total"
    found = [
        Source("Boston 311, 2015, daily requests", "real", "US", "MA", boston.filter(total)),
        Source("Boston 311, 2015, by channel and department", "real, parts", "US", "MA", boston.filter(~total)),
    ]
    if ANONBANK_TSV.is_file():
        found.append(Source("Anonymous Bank, Feb 1999", "real", "IL", None, load_anonbank()))
    if generated is not None:
        found.append(Source(label, "generated", "GB", "ENG", load_generated(generated)))
    return found


def flags_of(frame: pl.DataFrame, source: Source, settings: DetectionSettings | None = None) -> pl.DataFrame:
    flags, _summary = flag_csv_series(frame, country=source.country, subdivision=source.subdivision, settings=settings)
    return flags


def scored_days(frame: pl.DataFrame, source: Source) -> dict[str, list[dt.date]]:
    """The days of each series that the detector may score: after its warm-up, with a
    value (a day missing from the file cannot fall), and not a public holiday or the day
    after one (known days, never scored)."""
    known = known_days(source.country, source.subdivision, frame["ds"].min(), frame["ds"].max())
    days: dict[str, list[dt.date]] = {}
    for (series,), part in frame.partition_by(["series_id"], as_dict=True).items():
        start = part["ds"].min() + dt.timedelta(days=WARM_UP_DAYS)
        days[series] = [d for d in part.filter(pl.col("ds") >= start)["ds"].to_list() if d not in known]
    return days


def draw_incidents(days: dict[str, list[dt.date]], rng: np.random.Generator) -> list[dict]:
    """Random incidents for every series: kind, size, direction, first and last day."""
    incidents: list[dict] = []
    for series in sorted(days):
        candidates = days[series]
        if len(candidates) < 60:
            continue
        last = candidates[-1]
        position = int(rng.integers(0, 21))
        while position < len(candidates) and candidates[position] <= last - dt.timedelta(days=14):
            day = candidates[position]
            kind = str(rng.choice(list(SIZES)))
            size = float(rng.choice(SIZES[kind]))
            weeks = int(rng.integers(1, 9)) if kind == "shift" else int(rng.integers(4, 9)) if kind == "drift" else 0
            length = 1 if kind in ("drop", "spike") else 7 * weeks + (14 if kind == "drift" else 0)
            end = min(day + dt.timedelta(days=length - 1), last)
            direction = "down" if kind == "drop" else "up" if kind == "spike" else str(rng.choice(["down", "up"]))
            incidents.append({"series_id": series, "kind": kind, "size": size, "direction": direction,
                              "first_day": day, "last_day": end, "ramp_days": 7 * weeks if kind == "drift" else 0})
            following = end + dt.timedelta(days=GAP_DAYS + int(rng.integers(0, 21)))
            position = next((i for i, d in enumerate(candidates) if d >= following), len(candidates))
    return incidents


def factor(incident: dict, offset: int) -> float:
    """The multiplier the incident applies ``offset`` days after its first day."""
    kind, size, sign = incident["kind"], incident["size"], -1.0 if incident["direction"] == "down" else 1.0
    if kind == "drop":
        return 1.0 - size
    if kind == "spike":
        return size
    if kind == "shift":
        return 1.0 + sign * size
    share = min(1.0, (offset + 1) / incident["ramp_days"])
    return 1.0 + sign * size * share


def inject(frame: pl.DataFrame, incidents: list[dict]) -> pl.DataFrame:
    rows = []
    for incident in incidents:
        span = (incident["last_day"] - incident["first_day"]).days + 1
        for offset in range(span):
            rows.append((incident["series_id"], incident["first_day"] + dt.timedelta(days=offset), factor(incident, offset)))
    if not rows:
        return frame
    factors = pl.DataFrame(rows, schema={"series_id": pl.String, "ds": pl.Date, "factor": pl.Float64}, orient="row")
    return frame.join(factors, on=["series_id", "ds"], how="left").select(
        "series_id", "ds", (pl.col("y") * pl.col("factor").fill_null(1.0)).round(0).alias("y")
    )


def judge(incidents: list[dict], flags: pl.DataFrame) -> tuple[list[dict], int, int]:
    """(incidents with ``detected``, flags inside an incident, all flags)."""
    by_series: dict[str, list[dict]] = {}
    for row in flags.iter_rows(named=True):
        by_series.setdefault(row["series_id"], []).append(row)
    inside = 0
    for row in flags.iter_rows(named=True):
        inside += any(
            i["series_id"] == row["series_id"] and i["first_day"] <= row["ds"] <= i["last_day"] + dt.timedelta(days=AFTER_DAYS)
            for i in incidents
        )
    judged = []
    for incident in incidents:
        allowed = incident["last_day"] if incident["kind"] == "drift" else incident["first_day"] + dt.timedelta(days=DETECT_DAYS[incident["kind"]])
        detected = any(
            row["direction"] == incident["direction"] and incident["first_day"] <= row["ds"] <= allowed
            for row in by_series.get(incident["series_id"], [])
        )
        judged.append({**incident, "detected": detected})
    return judged, inside, flags.height


@dataclass(frozen=True)
class Measured:
    source: Source
    series: int
    series_months: float
    false_alarms: int
    plain_flags: pl.DataFrame
    incidents: pl.DataFrame  # one row per injected incident, with detected
    inside: int
    flags: int

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.series_months if self.series_months else float("nan")

    @property
    def precision(self) -> float:
        return self.inside / self.flags if self.flags else float("nan")


def measure(source: Source, runs: int, seed: int, settings: DetectionSettings | None = None) -> Measured:
    """Flags on the series as they are, then on ``runs`` injected copies (seeded)."""
    frame = source.frame
    days = scored_days(frame, source)
    plain = flags_of(frame, source, settings)
    months = sum(len(d) for d in days.values()) / DAYS_PER_MONTH
    rng = np.random.default_rng(seed)
    typical = {
        (row["series_id"], row["weekday"]): row["y"]
        for row in frame.group_by("series_id", pl.col("ds").dt.weekday().alias("weekday")).agg(pl.col("y").median()).iter_rows(named=True)
    }
    judged: list[dict] = []
    inside = total = 0
    for run in range(runs):
        incidents = draw_incidents(days, rng)
        if not incidents:
            break
        found, run_inside, run_total = judge(incidents, flags_of(inject(frame, incidents), source, settings))
        judged += [{**i, "run": run, "busy": typical.get((i["series_id"], i["first_day"].isoweekday()), 0) >= BUSY} for i in found]
        inside += run_inside
        total += run_total
    schema = {"series_id": pl.String, "kind": pl.String, "size": pl.Float64, "direction": pl.String, "first_day": pl.Date,
              "last_day": pl.Date, "ramp_days": pl.Int64, "detected": pl.Boolean, "run": pl.Int64, "busy": pl.Boolean}
    scored_series = sum(1 for d in days.values() if d)
    return Measured(source, scored_series, months, plain.height, plain, pl.DataFrame(judged, schema=schema), inside, total)


def recall_table(measured: list[Measured]) -> pl.DataFrame:
    """Recall per kind and size, one column per group of series."""
    parts = [m.incidents.with_columns(pl.lit(m.source.kind).alias("data")) for m in measured if m.incidents.height]
    if not parts:
        return pl.DataFrame()
    everything = pl.concat(parts)
    everything = pl.concat([everything, everything.filter(pl.col("busy")).with_columns(pl.col("data") + ", busy days")])
    return (
        everything.group_by("data", "kind", "size").agg(pl.col("detected").sum().alias("found"), pl.len().alias("incidents"))
        .with_columns(
            pl.struct("found", "incidents").map_elements(
                lambda r: f"{r['found'] / r['incidents']:.2f} ({r['found']}/{r['incidents']})", return_dtype=pl.String
            ).alias("cell")
        )
        .pivot(on="data", index=["kind", "size"], values="cell")
        .sort("kind", "size")
    )


def goal_recalls(measured: list[Measured]) -> dict[tuple[str, str], float]:
    """Recall of drops >= 50% and shifts >= 30% per data kind (real, generated)."""
    result = {}
    for data in ("real", "real, parts", "generated"):
        parts = [m.incidents for m in measured if m.source.kind == data and m.incidents.height]
        if not parts:
            continue
        everything = pl.concat(parts)
        for kind, size in GOALS.items():
            chosen = everything.filter((pl.col("kind") == kind) & (pl.col("size") >= size - 1e-9))
            result[(data, kind)] = float(chosen["detected"].mean()) if chosen.height else float("nan")
            busy = chosen.filter(pl.col("busy"))
            result[(data + ", busy days", kind)] = float(busy["detected"].mean()) if busy.height else float("nan")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.anomaly_quality_real", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="injected copies of every series (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--world-seed", type=int, default=42, help="the generated world's seed (default 42, the demo database's)")
    parser.add_argument("--world-scale", type=float, default=1.0, help="its scale (default 1; 0 leaves it out)")
    parser.add_argument("--world-end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    world = None
    label = ""
    if args.world_scale > 0:
        from data.generate import Scenario, generate

        world = generate(Scenario(seed=args.world_seed, scale=args.world_scale, end=args.world_end), quiet=True)
        label = f"generated, seed {args.world_seed}, scale {args.world_scale:g}"
    measured = [measure(source, args.runs, args.seed) for source in sources(world, label)]
    print(f"{args.runs} injected runs per group, seed {args.seed}, {time.perf_counter() - started:.1f} s\n")
    print("| series | kind | series scored | series-months | false alarms (as they are) | per series-month | precision (injected) |")
    print("|---|---|---|---|---|---|---|")
    for m in measured:
        print(f"| {m.source.name} | {m.source.kind} | {m.series} | {m.series_months:.1f} | {m.false_alarms} | "
              f"{m.false_alarm_rate:.2f} | {m.precision:.2f} ({m.inside}/{m.flags}) |")
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_width_chars=200,
                   tbl_formatting="MARKDOWN"):
        print("\nrecall by kind and size (detected / injected)\n")
        print(recall_table(measured))
        for m in measured:
            if m.plain_flags.height:
                print(f"\nflags on {m.source.name} as it is\n")
                print(m.plain_flags.select("series_id", "ds", "expected", "actual", "score", "direction", "detector", "last_date"))
    recalls = goal_recalls(measured)
    print()
    for (data, kind), value in sorted(recalls.items()):
        print(f"recall {data} {kind}s of {GOALS[kind]:.0%} or more: {value:.2f} (goal 0.90)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
