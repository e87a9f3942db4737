"""One engine that computes any set of metrics at any grain.

``compute(facts, ["on_time_rate", "volume"], by=["week", "service_id"], first_day=...,
last_day=...)`` aggregates the named measures each metric is built from at the requested
grain — a time grain (day, ISO week, month, quarter, or none) crossed with any of
department, service, office, region and channel — and divides at the end: a ratio over a
group is the sum of its numerators over the sum of its denominators, never a mean of
ratios. A value from too few observations comes back as null with the reason. Rules that
leave rows out are named, switchable and counted.

The result is long: one row per grain cell and metric, with its numerator, denominator
and number of observations, so that any coarser figure can be recomputed from finer ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from data.fact_frames import DIMENSIONS, NOT_RECORDED, OPTIONAL, REQUIRED, Facts, FactsError
from data.vocabulary import IN_PERSON, PHONE
from metrics.periods import GRAINS, Periods, date_index_of, index_of
from metrics.registry import GROUPS, MEASURES, Aggregation, Measure, Metric, resolve
from metrics.rules import DEFAULT_RULES, DEFAULT_THRESHOLDS, Thresholds, check_rules

# The defaults of the thresholds (metrics/rules.py Thresholds), for callers that read them.
SERVICE_LEVEL_SECONDS = DEFAULT_THRESHOLDS.service_level_seconds
VISIT_TARGET_SECONDS = DEFAULT_THRESHOLDS.visit_target_seconds
ADMIN_CLOSE_SECONDS = DEFAULT_THRESHOLDS.admin_close_seconds
SHORT_ABANDON_SECONDS = DEFAULT_THRESHOLDS.short_abandon_seconds
# The fact each group of measures reads (the sums of other measures read none of their own).
FACT_OF_GROUP: dict[str, str] = {measure.group: measure.fact for measure in MEASURES.values() if not measure.parts}


def _measures_of(group: str) -> list[Measure]:
    return [measure for measure in MEASURES.values() if measure.group == group]


def _fact_columns_read(fact: str) -> list[str]:
    """The fact's own columns that the measures' expressions read (beyond what the engine
    selects anyway): a KPI on a new column needs no engine edit to have it."""
    derived = {column for group in GROUPS.values() for column in group.columns}
    names = {
        name
        for group, declared in GROUPS.items() if declared.fact == fact and not declared.computed
        for measure in _measures_of(group)
        for name in measure.expression.meta.root_names()
    }
    own = {*REQUIRED[fact], *OPTIONAL.get(fact, {})}
    return sorted((names & own) - derived)


def _aggregations(group: str) -> list[pl.Expr]:
    """The group's measures as aggregations: a sum as itself; a set of values as its
    median, 90th percentile and number of values."""
    aggregations: list[pl.Expr] = []
    for measure in _measures_of(group):
        expression = measure.expression
        if measure.distribution:
            aggregations += [
                expression.median().alias(f"{measure.name}_median"),
                expression.quantile(0.9, interpolation="linear").alias(f"{measure.name}_p90"),
                expression.len().alias(f"{measure.name}_n"),
            ]
        else:
            aggregations.append(expression.alias(measure.name))
    return aggregations


def _standard_due(zone: str) -> pl.Expr:
    """sla_days calendar days after submission on the local clock, as naive UTC. A due
    moment in the hour the clocks skip moves forward an hour; in the repeated hour it
    takes the first."""
    local_due = (
        pl.col("submitted_at").dt.replace_time_zone("UTC").dt.convert_time_zone(zone).dt.replace_time_zone(None)
        + pl.duration(days=pl.col("sla_days"))
    )
    return pl.coalesce(
        local_due.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null"),
        (local_due + pl.duration(hours=1)).dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null"),
    ).dt.convert_time_zone("UTC").dt.replace_time_zone(None)


def exact_seconds(duration: pl.Expr) -> pl.Expr:
    """A duration in exact seconds, fractions kept (``dt.total_seconds`` truncates)."""
    return duration.dt.total_microseconds() / 1e6



class CellError(KeyError):
    """``MetricResult.value`` was asked for a cell that is not exactly one row."""

    def __str__(self) -> str:  # KeyError quotes its message; this should read as a sentence
        return str(self.args[0])


class GrainError(ValueError):
    """The requested grain is not one the engine knows."""


@dataclass(frozen=True)
class MetricResult:
    """Long values plus what was left out and over which window."""

    values: pl.DataFrame
    rule_counts: dict[str, int]
    periods: Periods
    by: tuple[str, ...]

    @property
    def dimensions(self) -> list[str]:
        return [column for column in self.by if column in DIMENSIONS]

    def wide(self) -> pl.DataFrame:
        """One row per grain cell, one column per metric (values only)."""
        keys = (["period", "period_start"] if self.periods.grain else []) + self.dimensions
        if self.values.height == 0:
            return pl.DataFrame(schema={key: self.values.schema[key] for key in keys})
        return self.values.pivot(on="kpi", index=keys, values="value", maintain_order=True)

    def value(self, kpi: str, **cell: object) -> float | None:
        """The value of one metric in one cell, e.g. ``value("volume", period="2026-W47")``."""
        rows = self.values.filter(pl.col("kpi") == kpi, *[pl.col(k) == v for k, v in cell.items()])
        if rows.height != 1:
            which = "no cell matches" if rows.height == 0 else f"{rows.height} cells match"
            keys = (["period"] if self.periods.grain else []) + self.dimensions
            raise CellError(f"{which} {kpi} at {cell or 'the whole result'}; name one value of each of: {', '.join(keys) or '(nothing: the result has one cell per metric)'}")
        return rows["value"].item()


def _split_grain(by: Sequence[str]) -> tuple[str | None, list[str]]:
    time = [part for part in by if part in GRAINS]
    dims = [part for part in by if part in DIMENSIONS]
    unknown = [part for part in by if part not in GRAINS and part not in DIMENSIONS]
    if unknown or len(time) > 1 or len(set(by)) != len(by):
        raise GrainError(
            f"cannot group by {list(by)}: use at most one of {', '.join(GRAINS)} and any of {', '.join(DIMENSIONS)}"
        )
    return (time[0] if time else None), dims


def compute(
    facts: Facts,
    metrics: Sequence[str] | str | None = None,
    by: Sequence[str] = ("week",),
    *,
    first_day: date,
    last_day: date,
    rules: frozenset[str] | set[str] = DEFAULT_RULES,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    service_level_seconds: float | None = None,
) -> MetricResult:
    """Compute ``metrics`` (the scorecard's when None) at the grain ``by`` over local
    dates [first_day, last_day]. See the module docstring.

    ``thresholds``: the settings the rules and contact measures count with (admin close
    60 s, short abandon 5 s, service-level answer time 20 s, in-person wait 15 minutes).
    ``service_level_seconds``: a shortcut for the service level's answer time (some
    centres use 60 s)."""
    chosen = resolve(metrics)
    enabled = check_rules(rules)
    grain, dims = _split_grain(by)
    periods = Periods(grain, first_day, last_day)
    if service_level_seconds is not None:
        thresholds = replace(thresholds, service_level_seconds=service_level_seconds)
    context = _Context(facts, periods, dims, enabled, thresholds)

    needed_groups = {group for metric in chosen for group in _groups(metric)}
    measures: list[pl.DataFrame] = []
    unavailable: dict[str, str] = {}
    for group in sorted(needed_groups):
        frame, reason = context.group(group)
        if frame is None:
            unavailable[group] = reason
        else:
            measures.append(frame)

    keys = dims + ["period_index"]
    grid = context.grid(measures)
    table = grid
    for frame in measures:
        table = table.join(frame, on=keys, how="left", nulls_equal=True)
    for measure in MEASURES.values():
        # sums of other measures (the on-time rate's denominator: closed with a due date,
        # plus open and overdue at the end)
        if measure.parts and set(measure.parts) <= set(table.columns):
            table = table.with_columns(pl.sum_horizontal(pl.col(part).fill_null(0) for part in measure.parts).alias(measure.name))
    values = pl.concat([_metric_rows(metric, table, keys, unavailable) for metric in chosen], how="vertical_relaxed")
    period_frame = periods.frame()
    values = values.join(period_frame.select("period_index", "period", "period_start"), on="period_index").drop("period_index")
    leading = (["period", "period_start"] if grain else []) + dims
    values = values.select(leading + ["kpi", "value", "numerator", "denominator", "n", "note"]).sort(
        (["period_start"] if grain else []) + dims, nulls_last=True, maintain_order=True
    )
    return MetricResult(values, context.rule_counts, periods, tuple(by))


def _groups(metric: Metric) -> set[str]:
    """The measure groups (engine methods ``_<group>``) a metric's figure needs."""
    groups: set[str] = set()
    for name in metric.measures:
        measure = MEASURES[name]
        groups |= {MEASURES[part].group for part in measure.parts} if measure.parts else {measure.group}
    return groups


def _metric_rows(metric: Metric, table: pl.DataFrame, keys: list[str], unavailable: dict[str, str]) -> pl.DataFrame:
    """The long rows of one metric: value, numerator, denominator, n and note."""
    missing = [unavailable[group] for group in sorted(_groups(metric)) if group in unavailable]
    base = table.select(keys)
    if missing:
        return base.with_columns(
            pl.lit(metric.name).alias("kpi"),
            pl.lit(None, dtype=pl.Float64).alias("value"),
            pl.lit(None, dtype=pl.Float64).alias("numerator"),
            pl.lit(None, dtype=pl.Float64).alias("denominator"),
            pl.lit(None, dtype=pl.Int64).alias("n"),
            pl.lit(missing[0]).alias("note"),
        ).select(keys + ["kpi", "value", "numerator", "denominator", "n", "note"])

    aggregation = metric.aggregation
    if aggregation in (Aggregation.MEDIAN, Aggregation.P90):
        suffix = "median" if aggregation == Aggregation.MEDIAN else "p90"
        raw = pl.col(f"{metric.numerator}_{suffix}")
        numerator = pl.lit(None, dtype=pl.Float64)
        denominator = pl.lit(None, dtype=pl.Float64)
        n = pl.col(f"{metric.numerator}_n").fill_null(0)
    else:
        numerator = pl.col(metric.numerator).cast(pl.Float64).fill_null(0)
        denominator = (
            pl.col(metric.denominator).cast(pl.Float64).fill_null(0) if metric.denominator else pl.lit(None, dtype=pl.Float64)
        )
        if aggregation == Aggregation.COUNT:
            raw = numerator
            n = numerator.cast(pl.Int64)
        elif aggregation == Aggregation.DIFFERENCE:
            raw = numerator - denominator
            n = (numerator + denominator).cast(pl.Int64)
        else:
            raw = pl.when(denominator > 0).then(numerator / denominator * metric.scale)
            n = pl.col(metric.n_measure).fill_null(0).cast(pl.Int64)
    enough = n >= metric.min_n
    recorded_by = MEASURES[metric.numerator].recorded_by
    unrecorded = pl.lit(False)
    if recorded_by is not None:
        # No cost records in a cell is "costs unknown", not "it cost nothing".
        unrecorded = pl.col(recorded_by).fill_null(0) == 0
        enough = enough & ~unrecorded
    note = (
        pl.when(n == 0)
        .then(pl.lit(f"no {metric.observations}"))
        .when(unrecorded)
        .then(pl.lit(f"no {MEASURES[metric.numerator].fact} recorded"))
        .when(~enough)
        .then(pl.format("fewer than {} {} ({})", pl.lit(metric.min_n), pl.lit(metric.observations), n))
    )
    if aggregation in (Aggregation.COUNT, Aggregation.DIFFERENCE):
        value, note = raw, pl.lit(None, dtype=pl.String)  # a count of nothing is 0, not unknown
    else:
        value = pl.when(enough).then(raw)
    return table.select(
        *keys,
        pl.lit(metric.name).alias("kpi"),
        value.cast(pl.Float64).alias("value"),
        numerator.cast(pl.Float64).alias("numerator"),
        denominator.cast(pl.Float64).alias("denominator"),
        n.cast(pl.Int64).alias("n"),
        note.cast(pl.String).alias("note"),
    )


class _Context:
    """The measure families, computed once each for one compute() call."""

    def __init__(self, facts: Facts, periods: Periods, dims: list[str], rules: frozenset[str], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> None:
        self.thresholds = thresholds
        self.facts = facts
        self.periods = periods
        self.dims = dims
        self.rules = rules
        self.n = len(periods)
        self.rule_counts: dict[str, int] = {}
        self._cases: pl.DataFrame | None = None
        self._zone: str | None = None
        self._boundaries: dict[str, pl.Series] = {}

    # ------------------------------------------------------------------ plumbing

    def group(self, name: str) -> tuple[pl.DataFrame | None, str]:
        """The measures of one group at the grain, or None and why they cannot be had."""
        fact = FACT_OF_GROUP[name]
        frame = getattr(self.facts, fact)
        if frame is None:
            return None, self.facts.unavailable.get(fact, f"no {fact} data")
        lacking = [dim for dim in self.dims if not self.facts.records(fact, dim)]
        if lacking:
            return None, NOT_RECORDED.get(fact, {}).get(lacking[0], f"{fact} are not recorded by {lacking[0]}")
        if fact == "costs" and "channel" in self.dims and frame["channel"].null_count():
            # Costs without a channel (a back office, an online platform) would leave some
            # channels looking free: no figure by channel rather than a wrong one.
            return None, "costs are not all recorded by channel"
        if GROUPS[name].computed:
            return getattr(self, f"_{name}")(), ""
        rows, index = getattr(self, f"_rows_{name}")()
        lacking = sorted(set(GROUPS[name].columns) - set(rows.collect_schema().names()))
        if lacking:
            raise RuntimeError(f"metrics/engine.py _rows_{name} does not derive {', '.join(lacking)}, which metrics/registry.py GROUPS[{name!r}] declares")
        left_out = GROUPS[name].left_out
        if left_out:
            counts = rows.lazy().filter(pl.col(index).is_between(0, self.n - 1)).select(
                condition.fill_null(False).sum().alias(rule) for rule, condition in left_out.items()
            )
            self.rule_counts.update({rule: int(count) for rule, count in counts.collect().row(0, named=True).items()})
        return self._group(rows, index, *_aggregations(name)), ""

    def grid(self, measures: list[pl.DataFrame]) -> pl.DataFrame:
        """Every combination of the grain's dimension values seen, crossed with every period."""
        periods = pl.DataFrame({"period_index": pl.Series(range(self.n), dtype=pl.Int32)})
        if not self.dims:
            return periods
        seen = [frame.select(pl.col(dim).cast(pl.String) for dim in self.dims) for frame in measures if frame.height]
        if not seen:
            return pl.DataFrame(schema={**{dim: pl.String for dim in self.dims}, "period_index": pl.Int32})
        combos = pl.concat(seen, how="vertical_relaxed").unique(maintain_order=True)
        return combos.join(periods, how="cross")

    def boundaries(self, zone: str) -> pl.Series:
        if zone not in self._boundaries:
            self._boundaries[zone] = self.periods.utc_boundaries(zone)
        return self._boundaries[zone]

    def slim(self, fact: str, columns: list[str]) -> tuple[pl.DataFrame, str | None]:
        """The fact's grain dimensions (looked up where the fact does not carry them) and
        the columns asked for; and its one time zone, or None when its offices are in
        several, in which case a ``timezone`` column comes too."""
        frame = getattr(self.facts, fact)
        if frame is None:
            raise FactsError(f"no {fact} in the facts: load them, or leave out the metrics that need them")
        columns = [*columns, *(column for column in _fact_columns_read(fact) if column not in columns)]
        selected = [self.facts.column(frame, dim).alias(dim) for dim in self.dims]
        selected += [self._own(frame, fact, column) for column in columns if column not in self.dims]
        zones = [self.facts.timezone]
        if "timezone" in frame.columns or ("office_id" in frame.columns and self.facts.offices is not None):
            zone = self.facts.column(frame, "timezone").fill_null(self.facts.timezone).alias("timezone")
            zones = frame.select(zone.unique())["timezone"].to_list() or zones
            if len(zones) > 1:
                return frame.select(*selected, zone), None
        return frame.select(selected), zones[0]

    def _own(self, frame: pl.DataFrame, fact: str, column: str) -> pl.Expr:
        """A column of the fact: its own, looked up, or (an optional one the frame lacks) nulls."""
        optional = OPTIONAL.get(fact, {})
        if column in optional and column not in frame.columns:
            return pl.lit(None, dtype=optional[column]).alias(column)
        return self.facts.column(frame, column).alias(column)

    def _index(self, frame: pl.DataFrame, zone: str | None, column: str, out: str) -> pl.DataFrame:
        """Add the period index of ``column`` (naive UTC) in the frame's time zone(s)."""
        if zone is not None:
            return frame.with_columns(index_of(pl.col(column), self.boundaries(zone)).alias(out))
        parts = [
            frame.filter(pl.col("timezone") == each).with_columns(index_of(pl.col(column), self.boundaries(each)).alias(out))
            for each in frame["timezone"].unique().to_list()
        ]
        return pl.concat(parts)

    def _group(self, frame: pl.DataFrame | pl.LazyFrame, index: str, *aggregations: pl.Expr) -> pl.DataFrame:
        inside = frame.lazy().filter(pl.col(index).is_between(0, self.n - 1))
        grouped = inside.group_by(self.dims + [pl.col(index).alias("period_index")]).agg(*aggregations)
        return self._strings(grouped.collect())

    def _strings(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Grain dimensions as plain strings (facts may carry them as categoricals)."""
        return frame.with_columns(pl.col(dim).cast(pl.String) for dim in self.dims)

    # ------------------------------------------------------------------ cases

    def cases(self) -> pl.DataFrame:
        """Cases with period indices of their events and their due instant."""
        if self._cases is not None:
            return self._cases
        source = self.facts.cases
        if source is None:
            raise FactsError("no cases in the facts: load them, or leave out the metrics that need them")
        needs_standard = bool(source.select((pl.col("due_at").is_null()).any()).item())
        frame, zone = self.slim("cases", ["channel", "submitted_at", "due_at", "closed_at", "cancelled", *(["sla_days"] if needs_standard else [])])
        frame = frame.with_columns(pl.col("cancelled").fill_null(False))
        self._zone = zone
        due = frame["due_at"]
        if needs_standard:
            # Due: the case's own due_at, else sla_days calendar days after submission on
            # the local clock. Only the cases without a due_at need time-zone arithmetic,
            # so it is done on them alone and scattered back.
            missing = frame.select((pl.col("due_at").is_null() & pl.col("sla_days").is_not_null()).arg_true()).to_series()
            if missing.len():
                subset = frame[missing]
                if zone is not None:
                    standard = subset.select(_standard_due(zone)).to_series()
                else:
                    standard = pl.Series("due", [None] * subset.height, dtype=pl.Datetime("us"))
                    for each in subset["timezone"].unique().to_list():
                        rows = subset.select((pl.col("timezone") == each).arg_true()).to_series()
                        standard = standard.scatter(rows, subset[rows].select(_standard_due(each)).to_series())
                due = due.clone().scatter(missing, standard)
            frame = frame.drop("sla_days")
        # A cancelled case is not handled work at all, so never also an administrative close.
        admin = (exact_seconds(pl.col("closed_at") - pl.col("submitted_at")) < self.thresholds.admin_close_seconds) & ~pl.col("cancelled")
        due_or_closed = pl.when(pl.col("closed_at").is_not_null() & pl.col("due").is_not_null()).then(pl.max_horizontal("due", "closed_at"))
        lazy = frame.lazy().with_columns(due.alias("due")).drop("due_at").with_columns(
            (admin.fill_null(False) & pl.lit("admin_close_60s" in self.rules)).alias("_excluded"),
            due_or_closed.alias("_due_or_closed"),
        )
        if zone is not None:
            boundaries = self.boundaries(zone)
            lazy = lazy.with_columns(
                index_of(pl.col(column), boundaries).alias(out)
                for column, out in (("submitted_at", "_submitted"), ("closed_at", "_closed"), ("due", "_due"), ("_due_or_closed", "_due_closed"))
            )
            frame = lazy.drop("_due_or_closed").collect()
        else:
            frame = lazy.collect()
            for column, out in (("submitted_at", "_submitted"), ("closed_at", "_closed"), ("due", "_due"), ("_due_or_closed", "_due_closed")):
                frame = self._index(frame, zone, column, out)
            frame = frame.drop("_due_or_closed")
        counts = frame.select(
            (pl.col("_closed").is_between(0, self.n - 1) & pl.col("_excluded")).sum().alias("admin"),
            # submitted by the window's end: the count must not depend on how far past it the facts were loaded
            (pl.col("due").is_null() & (pl.col("_submitted") < self.n) & (pl.col("_closed").is_null() | pl.col("_closed").is_between(0, self.n - 1))).sum().alias("no_due"),
        ).row(0, named=True)
        self.rule_counts["admin_close_60s"] = int(counts["admin"])
        self.rule_counts["no_due_date"] = int(counts["no_due"])
        self._cases = frame
        return frame

    def _rows_submitted(self) -> tuple[pl.DataFrame, str]:
        return self.cases(), "_submitted"

    def _rows_closed(self) -> tuple[pl.LazyFrame, str]:
        regular = ~pl.col("_excluded") & ~pl.col("cancelled")
        has_due = regular & pl.col("due").is_not_null()
        return self.cases().lazy().with_columns(
            regular.alias("regular"),
            has_due.alias("has_due"),
            (has_due & (pl.col("closed_at") <= pl.col("due"))).alias("on_time"),
            ((pl.col("closed_at") - pl.col("submitted_at")).dt.total_microseconds() / 86_400e6).alias("processing_days"),
        ), "_closed"

    def _stock(self) -> pl.DataFrame:
        """Open and overdue cases at each period's end, from cumulative counts:
        open(p) = #submitted before its end - #closed before its end, and
        overdue(p) = #due before its end - #(due and closed) before its end."""
        frame = self.cases()
        grid = self.grid([frame.select(self.dims).unique()]) if self.dims else self.grid([])
        keys = self.dims + ["period_index"]
        counted = grid
        for index, name in (("_submitted", "opened"), ("_closed", "shut"), ("_due", "fell_due"), ("_due_closed", "due_and_shut")):
            counts = (
                frame.filter(pl.col(index).is_not_null() & (pl.col(index) < self.n))
                .group_by(self.dims + [pl.col(index).clip(lower_bound=0).alias("period_index")])
                .agg(pl.len().cast(pl.Int64).alias(name))
            )
            counts = self._strings(counts)
            counted = counted.join(counts, on=keys, how="left", nulls_equal=True)
        counted = counted.with_columns(pl.col("opened", "shut", "fell_due", "due_and_shut").fill_null(0)).sort(keys)
        cumulative = [pl.col(c).cum_sum().over(self.dims) if self.dims else pl.col(c).cum_sum() for c in ("opened", "shut", "fell_due", "due_and_shut")]
        counted = counted.with_columns(cumulative)
        return counted.select(
            *keys,
            (pl.col("opened") - pl.col("shut")).alias("backlog"),
            (pl.col("fell_due") - pl.col("due_and_shut")).alias("backlog_overdue"),
        )

    def _backlog_age(self) -> pl.DataFrame:
        """Ages of the cases open at each period's end: each case is repeated for every
        period end it was open at, then the median is taken per cell."""
        frame = self.cases().filter(pl.col("_submitted") < self.n)
        last = pl.when(pl.col("_closed").is_null()).then(self.n - 1).otherwise(pl.col("_closed") - 1).clip(upper_bound=self.n - 1)
        first = pl.col("_submitted").clip(lower_bound=0)
        zone_columns = ["timezone"] if self._zone is None else []
        spans = frame.select(*self.dims, *zone_columns, "submitted_at", first.alias("_from"), last.alias("_to")).filter(pl.col("_from") <= pl.col("_to"))
        exploded = spans.with_columns(pl.int_ranges("_from", pl.col("_to") + 1, dtype=pl.Int32).alias("period_index")).explode("period_index")
        zones = [self._zone] if self._zone is not None else exploded["timezone"].unique().to_list()
        ends = pl.concat(
            [
                pl.DataFrame({"timezone": each, "period_index": pl.Series(range(self.n), dtype=pl.Int32), "_end": self.boundaries(each)[1:]})
                for each in zones
            ]
        )
        if self._zone is not None:
            aged = exploded.join(ends.drop("timezone"), on="period_index")
        else:
            aged = exploded.join(ends, on=["timezone", "period_index"])
        aged = aged.with_columns(((pl.col("_end") - pl.col("submitted_at")).dt.total_microseconds() / 86_400e6).alias("age"))
        return self._strings(aged.group_by(self.dims + ["period_index"]).agg(
            pl.col("age").median().alias("backlog_age_days_median"),
            pl.col("age").quantile(0.9, interpolation="linear").alias("backlog_age_days_p90"),
            pl.len().alias("backlog_age_days_n"),
        ))

    # ------------------------------------------------------------------ contacts

    def _rows_contacts(self) -> tuple[pl.LazyFrame, str]:
        frame, zone = self.slim("contacts", ["channel", "arrived_at", "answered_at", "ended_at", "abandoned"])
        frame = self._index(frame, zone, "arrived_at", "_arrived")
        # exact durations: imported times carry fractions of a second, and 20.9 s is not within 20 s
        wait = exact_seconds(pl.col("answered_at") - pl.col("arrived_at"))
        to_abandon = exact_seconds(pl.col("ended_at") - pl.col("arrived_at"))
        short = pl.col("abandoned") & (to_abandon < self.thresholds.short_abandon_seconds).fill_null(False)
        if "short_abandon_5s" not in self.rules:
            short = pl.lit(False)
        rows = frame.lazy().with_columns(
            (pl.col("channel") == PHONE).alias("call"),
            (pl.col("channel") == IN_PERSON).alias("visit"),
            (~pl.col("abandoned")).alias("answered"),
            short.alias("short"),
            wait.alias("wait_seconds"),
            exact_seconds(pl.col("ended_at") - pl.col("answered_at")).alias("handle_seconds"),
            (wait <= self.thresholds.service_level_seconds).alias("within_service_level"),
            (wait <= self.thresholds.visit_target_seconds).alias("within_visit_target"),
        )
        return rows, "_arrived"

    # ------------------------------------------------------------------ journeys

    def _rows_journeys(self) -> tuple[pl.DataFrame, str]:
        frame, zone = self.slim("journeys", ["journey_id", "started_at", "completed_at", "resumed_from"])
        resumed = frame.filter(pl.col("resumed_from").is_not_null())
        completed_later = resumed.filter(pl.col("completed_at").is_not_null()).select(pl.col("resumed_from").alias("journey_id")).unique()
        originals = frame.filter(pl.col("resumed_from").is_null()).with_columns(
            (pl.col("completed_at").is_not_null() | pl.col("journey_id").is_in(completed_later["journey_id"].implode())).alias("completed")
        )
        originals = self._index(originals, zone, "started_at", "_started")
        self.rule_counts["resumed_journey"] = int(
            self._index(resumed, zone, "started_at", "_s").filter(pl.col("_s").is_between(0, self.n - 1)).height
        )
        return originals, "_started"

    # ------------------------------------------------------------------ feedback

    def _rows_feedback(self) -> tuple[pl.DataFrame, str]:
        frame, zone = self.slim("feedback", ["submitted_at", "rating"])
        return self._index(frame, zone, "submitted_at", "_rated"), "_rated"

    # ------------------------------------------------------------------ costs

    def _rows_costs(self) -> tuple[pl.DataFrame, str]:
        """Costs by local date; a record over several days is spread evenly over them."""
        frame, _ = self.slim("costs", ["period_start", "period_end", "cost"])
        days = (pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1
        single = frame.filter(days == 1).with_columns(pl.col("period_start").alias("_day"), pl.col("cost").alias("day_cost"))
        spread = (
            frame.filter(days > 1)
            .with_columns((pl.col("cost") / days).alias("day_cost"), pl.date_ranges("period_start", "period_end").alias("_day"))
            .explode("_day")
        )
        frame = pl.concat([single, spread], how="diagonal_relaxed").with_columns(date_index_of(pl.col("_day"), self.periods).alias("_on"))
        return frame, "_on"


def _check_groups() -> None:
    """Every group of the registry has its engine method (checked at import; that its rows
    carry the columns the registry declares is checked as they are made)."""
    problems = []
    for name, group in GROUPS.items():
        method = f"_{name}" if group.computed else f"_rows_{name}"
        if name in FACT_OF_GROUP and not callable(getattr(_Context, method, None)):
            problems.append(f"group {name!r} has no _Context.{method} in metrics/engine.py")
    if problems:
        raise RuntimeError("metrics/registry.py and metrics/engine.py disagree: " + "; ".join(problems))


_check_groups()
