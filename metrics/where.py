"""Where a scope's figures go wrong: its children (the departments of all, the services of a
department, the offices of a service) against the KPIs, worst first.

The cells are a scorecard split by the child dimension (``scorecard(..., by=...)``, the
engine's figures and the scorecard's targets and statuses): nothing is computed twice.

Worst first, the rule (``ranking``):

1. more KPIs off target (red) first;
2. then the larger *largest miss*: how far the child's worst KPI is from its target, in
   target units (``metrics.status.miss``: (target - value) / target where higher is better, (value -
   target) / target where lower is better; 0.25 is a quarter of the target short);
3. then more KPIs near target (amber);
4. then by id, so that the order never depends on the data's row order;
5. what no child records (contacts to a shared line, with no department) comes last
   whatever its figures: it is no child a head can act on.

A child with no value in any KPI that has a target (the partial week, or no data) has no
miss and comes after those that have one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from metrics.breaches import BREACH_SCHEMA
from metrics.registry import METRICS
from metrics.scorecard import UNKNOWN_SCOPE, Scorecard
from metrics.status import AMBER, GREY, RED, miss

# The child dimension of each scope level.
CHILD_OF = {"all": "department_id", "department": "service_id", "service": "office_id"}
# KPIs that say nothing about a child of this dimension, left out of its matrix: an office
# serves one channel (a service centre in person, a contact centre by phone, an online
# office online), so its digital take-up is 0% or 100% by what it is.
NOT_BY = {"office_id": frozenset({"digital_take_up"})}


def child_dimension(department: str | None, service: str | None) -> str:
    """The dimension a scope splits into: departments of all, services of a department,
    offices of a service (None or "all" for a level not chosen)."""
    if service and service != "all":
        return CHILD_OF["service"]
    if department and department != "all":
        return CHILD_OF["department"]
    return CHILD_OF["all"]


@dataclass(frozen=True)
class Where:
    """``cells``: one row per child and KPI (the scorecard's rows plus ``miss``);
    ``ranking``: one row per child in the worst-first order, with the counts it was
    sorted by; ``kpis``: the matrix's columns (the KPIs with a target and a value in at
    least one child), in the registry's order."""

    dimension: str
    week: str
    partial: bool
    cells: pl.DataFrame
    ranking: pl.DataFrame
    kpis: list[str]
    history: pl.DataFrame  # the split scorecard's 13 weeks, by child (its backlog projections read it)
    breaches: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BREACH_SCHEMA))  # the children's current breaches

    @property
    def order(self) -> list[str]:
        return self.ranking["scope"].to_list()

    def cell(self, scope: str, kpi: str) -> dict:
        return self.cells.filter((pl.col("scope") == scope) & (pl.col("kpi") == kpi)).row(0, named=True)

    def furthest_below(self, kpi: str, limit: int = 2) -> list[dict]:
        """The children below target on ``kpi``, largest miss first (at most ``limit``)."""
        below = self.cells.filter((pl.col("kpi") == kpi) & (pl.col("miss") > 0))
        return below.sort(["miss", "scope"], descending=[True, False]).head(limit).to_dicts()


def where(card: Scorecard, dimension: str) -> Where:
    """The worst-first matrix of a scorecard split by ``dimension`` (see the module)."""
    rows = card.rows
    misses = [
        None if row["partial"] else miss(row["value"], row["target"], row["better"])
        for row in rows.select("value", "target", "better", "partial").iter_rows(named=True)
    ]
    cells = rows.with_columns(pl.Series("miss", misses, dtype=pl.Float64)).filter(~pl.col("kpi").is_in(list(NOT_BY.get(dimension, ()))))
    judged = cells.filter(pl.col("status") != GREY)
    kpis = [kpi for kpi in METRICS if kpi in set(judged["kpi"].to_list())]
    ranking = (
        cells.group_by("scope")
        .agg(
            (pl.col("status") == RED).sum().cast(pl.Int64).alias("red"),
            (pl.col("status") == AMBER).sum().cast(pl.Int64).alias("amber"),
            pl.col("miss").max().alias("largest_miss"),
            pl.col("kpi").filter(pl.col("miss") == pl.col("miss").max()).first().alias("worst_kpi"),
        )
        .with_columns((pl.col("scope") == UNKNOWN_SCOPE).alias("unrecorded"))
        .sort(["unrecorded", "red", "largest_miss", "amber", "scope"], descending=[False, True, True, True, False], nulls_last=True)
        .drop("unrecorded")
    )
    return Where(dimension, card.week, card.partial, cells, ranking, kpis, card.history, card.current_breaches())
