"""What the published-series pages load: the viewer's observations (sql/observations.sql,
scoped to the viewer's departments by the extract itself), cached through state.extract,
narrowed to a scope and read at their own grain by metrics/published.py."""

from __future__ import annotations

from datetime import date

import polars as pl

from dashboard import state
from metrics import published

EARLIEST = date(1990, 1, 1)  # the importer's default earliest plausible date
LATEST = date(9999, 12, 31)


def observations(context: state.Context, last_day: date = LATEST) -> pl.DataFrame:
    """Every observation the viewer may see that began by ``last_day`` (cached; never mutate)."""
    return context.get("observations", first_day=EARLIEST, last_day=last_day)


def scope_of(department: str, service: str) -> dict[str, str]:
    """The Overview's department and service filters as a scope ({column: value})."""
    where = {}
    if department != state.ALL:
        where["department_id"] = department
    if service != state.ALL:
        where["service_id"] = service
    return where


def scorecard(context: state.Context, where: dict[str, str], day: date) -> pl.DataFrame:
    """The scope's published series at their own grain: latest period over by ``day``,
    previous period, same period last year, target and status (metrics.published.latest)."""
    return published.latest(published.narrowed(observations(context), where), day)


def series_options(frame: pl.DataFrame) -> dict[str, str]:
    """{series id: label} of the observations, by label."""
    pairs = frame.select("series", "label").unique().sort(["label", "series"])
    return dict(zip(pairs["series"], pairs["label"], strict=True))


def of_series(frame: pl.DataFrame, series: str) -> pl.DataFrame:
    return frame.filter(pl.col("series") == series)


def values_of(frame: pl.DataFrame, column: str) -> list[str]:
    """The distinct non-empty values of a scope column, sorted."""
    return sorted(frame.get_column(column).drop_nulls().unique().to_list())


def trend(frame: pl.DataFrame) -> pl.DataFrame:
    """The scope's figure per period at its own grain (one grain: the coarsest is kept
    only when the source publishes several)."""
    cells = published.periods(frame)
    grains = cells["grain"].unique().to_list()
    return cells.filter(pl.col("grain") == grains[0]).sort("period_start") if len(grains) == 1 else cells.sort(["grain", "period_start"])


def peers(frame: pl.DataFrame, column: str, start: date) -> pl.DataFrame:
    """The scope's parts by ``column`` in the period that starts on ``start``, judged."""
    cells = published.periods(frame.filter(pl.col("period_start") == start), by=[column])
    return published.judged(cells)


def grain_of(frame: pl.DataFrame) -> str:
    return str(frame["grain"].mode().sort()[0])


def meta(frame: pl.DataFrame) -> dict:
    """The series' label, unit and direction."""
    return frame.select("label", "unit", "direction").row(0, named=True)


def period_starts(trend: pl.DataFrame) -> list[date]:
    """The trend's periods, newest first."""
    return sorted(trend["period_start"].unique().to_list(), reverse=True)


def names(context: state.Context, column: str) -> dict[str, str]:
    return {"department_id": context.department_names, "service_id": context.service_names,
            "office_id": context.office_names}.get(column, {})


def as_date(text: str) -> date:
    return date.fromisoformat(text)


def today() -> date:
    return date.today()
