"""The series-id grammar, ``kind`` or ``kind:member``, and who may see a series.

Forecast series are ``total``, ``service:<service_id>``, ``office:<office_id>``,
``channel:<channel>`` and ``contacts:<office_id>`` (an office's calls or visits);
anomaly scopes, as in the Anomalies page's ``?scope=``, are ``total:all``,
``department:<id>``, ``service:<id>``, ``office:<id>`` and ``channel:<channel>``. This
module is the one place that writes and reads them, and the one place that says which of
them a viewer may see: a series of one service (or department) belongs to that
department; every other kind pools every department's demand, so only a viewer of every
department may see it.

    format_id("service", "passport")  -> "service:passport"
    parse("contacts:sheffield_cc")    -> SeriesId(kind="contacts", member="sheffield_cc")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import polars as pl

from data.access import sees_every_department

SEPARATOR = ":"
FORECAST_KINDS = ("total", "service", "office", "channel", "contacts")
SCOPE_KINDS = ("total", "department", "service", "office", "channel")  # anomaly scopes
KINDS = tuple(dict.fromkeys(FORECAST_KINDS + SCOPE_KINDS))
# Kinds whose member belongs to one department, and those that pool every department.
DEPARTMENT_KINDS = ("department", "service")
CROSSING_KINDS = ("total", "office", "channel", "contacts")


class SeriesIdError(ValueError):
    """A series id that does not follow the grammar."""


class SeriesId(NamedTuple):
    kind: str
    member: str | None  # None for the forecast's "total"


def format_id(kind: str, member: str | None = None) -> str:
    """``kind:member`` (``kind`` alone when there is no member: the forecast's total)."""
    if kind not in KINDS:
        raise SeriesIdError(f"unknown series kind {kind!r}; use one of {', '.join(KINDS)}")
    if member is None:
        return kind
    if member == "":
        raise SeriesIdError(f"series kind {kind!r} needs a member, not an empty one")
    return f"{kind}{SEPARATOR}{member}"


def parse(series_id: str, kinds: Iterable[str] = KINDS) -> SeriesId:
    """The kind and member of ``series_id``; SeriesIdError, naming the id, when it has
    no kind, an empty member or a kind not among ``kinds``."""
    kinds = tuple(kinds)
    if not isinstance(series_id, str) or not series_id:
        raise SeriesIdError(f"series id {series_id!r} is empty; write kind:member, e.g. service:passport")
    kind, separator, member = series_id.partition(SEPARATOR)
    if kind not in kinds:
        raise SeriesIdError(f"series id {series_id!r} has unknown kind {kind!r}; use one of {', '.join(kinds)}")
    if separator and not member:
        raise SeriesIdError(f"series id {series_id!r} has an empty member after {kind!r}{SEPARATOR}")
    if not separator and kind != "total":
        raise SeriesIdError(f"series id {series_id!r} has no member; write {kind}{SEPARATOR}<id>")
    return SeriesId(kind, member if separator else None)


def id_expr(kind: str, member: pl.Expr) -> pl.Expr:
    """A Polars expression writing ``kind:member`` for every row (``member`` a String)."""
    format_id(kind, "x")  # the kind is checked once, not per row
    return pl.lit(f"{kind}{SEPARATOR}") + member


def crosses_departments(series_id: str) -> bool:
    """Whether the series pools the demand of every department (total, office, channel,
    contacts): only a viewer of every department may see it. Read leniently, by the
    kind before the separator: an id from a hand-made URL that does not parse is no
    crossing series (the page then says it has no such series)."""
    return series_id.partition(SEPARATOR)[0] in CROSSING_KINDS


def department_of(series_id: str, service_departments: Mapping[str, str]) -> str | None:
    """The department a series belongs to, or None when it crosses departments (or names
    a service not in ``service_departments``, {service_id: department_id})."""
    kind, member = parse(series_id)
    if kind == "department":
        return member
    if kind == "service":
        return service_departments.get(member or "")
    return None


def viewer_may_see(
    series_id: str,
    visible: Iterable[str],
    every: Iterable[str],
    service_departments: Mapping[str, str],
) -> bool:
    """Whether a viewer of departments ``visible`` (data.access.visible_departments) may
    see the series, in a database of departments ``every``: one department's series if
    they see that department, a series that crosses departments if they see them all."""
    visible = tuple(visible)
    if crosses_departments(series_id):
        return sees_every_department(visible, every)
    return department_of(series_id, service_departments) in visible
