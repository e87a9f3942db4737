"""The facts the engine computes from: one Polars frame per fact table, as the extracts give
them, plus the two small dimension frames that place them (services, offices).

Fact frames stay slim (ids and timestamps): a fact's department, region, time zone and
service standard are looked up from the dimensions when a computation needs them, which
keeps ten million cases within a few hundred megabytes. A fact frame that already carries
one of those columns (a hand-made test case, say) is used as it is.

Nothing here reads a database (polars only): ``data/facts.py`` builds a Facts from the
extracts, and the metric engine (metrics/) computes from it. It lives in data/ because
data builds it and data imports nothing from metrics (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

DIMENSIONS = ("department_id", "service_id", "office_id", "region", "channel")

# The columns each fact must have (more are allowed and ignored).
REQUIRED: dict[str, tuple[str, ...]] = {
    "cases": ("service_id", "office_id", "channel", "submitted_at", "due_at", "closed_at"),
    "contacts": ("service_id", "office_id", "channel", "arrived_at", "answered_at", "ended_at", "abandoned"),
    "journeys": ("journey_id", "service_id", "started_at", "completed_at", "resumed_from"),
    "feedback": ("service_id", "office_id", "channel", "submitted_at", "rating"),
    "costs": ("service_id", "office_id", "channel", "period_start", "period_end", "cost"),
}
FACTS = tuple(REQUIRED)
# Columns a fact may have, with their type: a frame without one (an export that does not
# record it) gets it as nulls, so the measures that read it have no value ("no calls with
# a recorded resolution") rather than a wrong one, and the fact's other measures still count.
OPTIONAL: dict[str, dict[str, pl.DataType]] = {
    # cancelled: the case ended cancelled or withdrawn (status 'cancelled'), not handled;
    # a frame without it has no cancelled cases (null is read as false)
    "cases": {"cancelled": pl.Boolean()},
    "contacts": {"resolved_first_contact": pl.Boolean()},
}

# Where a derived column comes from: (dimension frame, its key, the fact's key).
DERIVED = {
    "department_id": ("services", "service_id"),
    "sla_days": ("services", "service_id"),
    "region": ("offices", "office_id"),
    "timezone": ("offices", "office_id"),
}

# Dimensions a fact does not record, and how to say so.
NOT_RECORDED: dict[str, dict[str, str]] = {
    "journeys": {
        "office_id": "online journeys are not recorded by office",
        "region": "online journeys are not recorded by region",
    },
}


class FactsError(ValueError):
    """A fact frame lacks columns the engine needs."""


@dataclass(frozen=True)
class Facts:
    """The fact frames of one scope and window. Absent facts are None.

    ``services`` (service_id, department_id, sla_days) and ``offices`` (office_id, region,
    timezone) place the facts. ``timezone`` places facts that have no office (online
    journeys, anonymous ratings). ``unavailable`` says why a fact is absent.
    """

    cases: pl.DataFrame | None = None
    contacts: pl.DataFrame | None = None
    journeys: pl.DataFrame | None = None
    feedback: pl.DataFrame | None = None
    costs: pl.DataFrame | None = None
    services: pl.DataFrame | None = None
    offices: pl.DataFrame | None = None
    timezone: str = "UTC"
    unavailable: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        for name, columns in REQUIRED.items():
            frame = getattr(self, name)
            if frame is None:
                continue
            missing = [column for column in columns if column not in frame.columns]
            if missing:
                problems.append(f"{name} lacks {', '.join(missing)}")
        if problems:
            raise FactsError("facts are incomplete: " + "; ".join(problems))
        if self.journeys is not None and "channel" not in self.journeys.columns:
            if "device" not in self.journeys.columns:
                raise FactsError("facts are incomplete: journeys lack channel (or device)")
            object.__setattr__(self, "journeys", journeys_with_channel(self.journeys))

    def frames(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in FACTS if getattr(self, name) is not None}

    def records(self, fact: str, dimension: str) -> bool:
        """Whether ``fact`` can be split by ``dimension`` (directly or through a dimension frame)."""
        frame = getattr(self, fact)
        if frame is None:
            return False
        if dimension in frame.columns:
            return True
        source = DERIVED.get(dimension)
        return source is not None and source[1] in frame.columns and getattr(self, source[0]) is not None

    def column(self, frame: pl.DataFrame, name: str) -> pl.Expr:
        """An expression for ``name`` on a fact frame: the column itself, or its lookup
        through the services or offices frame (null where the key is unknown)."""
        if name in frame.columns:
            return pl.col(name)
        dimension, key = DERIVED[name]
        lookup = getattr(self, dimension)
        if lookup is None or key not in frame.columns:
            raise FactsError(f"cannot find {name}: the facts have no {dimension} frame")
        values = lookup.select(pl.col(key).cast(pl.String), name).unique(key)
        mapping = dict(zip(values[key].to_list(), values[name].to_list(), strict=True))
        dtype = values.schema[name]
        return pl.col(key).cast(pl.String).replace_strict(mapping, default=None, return_dtype=dtype).alias(name)

    def where(self, **dimensions: str | list[str] | None) -> Facts:
        """The facts of a narrower scope, e.g. ``where(service_id="passport")``.

        A fact that does not record a dimension cannot be narrowed by it: it is dropped,
        and ``unavailable`` says why (online journeys of one office, say).
        """
        changes: dict[str, pl.DataFrame | None] = {}
        unavailable = dict(self.unavailable)
        for name, frame in self.frames().items():
            for dimension, wanted in dimensions.items():
                if wanted is None:
                    continue
                if dimension not in DIMENSIONS:
                    raise FactsError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
                if not self.records(name, dimension):
                    frame = None
                    unavailable[name] = NOT_RECORDED.get(name, {}).get(dimension, f"{name} are not recorded by {dimension}")
                    break
                values = [wanted] if isinstance(wanted, str) else list(wanted)
                frame = frame.filter(self.column(frame, dimension).cast(pl.String).is_in(values))
            changes[name] = frame
        return replace(self, **changes, unavailable=unavailable)


def journeys_with_channel(journeys: pl.DataFrame) -> pl.DataFrame:
    """Journeys in the app are the mobile_app channel; the rest are online."""
    return journeys.with_columns(
        pl.when(pl.col("device") == "app").then(pl.lit("mobile_app")).otherwise(pl.lit("online")).alias("channel")
    )
