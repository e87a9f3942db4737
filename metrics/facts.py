"""The facts the engine computes from: one Polars frame per fact table, as the extracts give them.

Nothing here reads a database: a caller (``data/facts.py`` for the database, tests for
hand-made cases) builds a Facts and hands it to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

DIMENSIONS = ("department_id", "service_id", "office_id", "region", "channel")

# The columns each fact must have (more are allowed and ignored).
REQUIRED: dict[str, tuple[str, ...]] = {
    "cases": ("department_id", "service_id", "office_id", "region", "timezone", "channel", "sla_days", "submitted_at", "due_at", "closed_at"),
    "contacts": ("department_id", "service_id", "office_id", "region", "timezone", "channel", "arrived_at", "answered_at", "ended_at", "abandoned"),
    "journeys": ("journey_id", "department_id", "service_id", "started_at", "completed_at", "device", "resumed_from"),
    "feedback": ("department_id", "service_id", "office_id", "region", "timezone", "channel", "submitted_at", "rating"),
    "costs": ("department_id", "service_id", "office_id", "region", "channel", "period_start", "period_end", "cost"),
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

    ``timezone`` places facts that have no office (online journeys, anonymous ratings)
    in local time. ``unavailable`` says why a fact is absent, for the notes.
    """

    cases: pl.DataFrame | None = None
    contacts: pl.DataFrame | None = None
    journeys: pl.DataFrame | None = None
    feedback: pl.DataFrame | None = None
    costs: pl.DataFrame | None = None
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
            object.__setattr__(self, "journeys", journeys_with_channel(self.journeys))

    def frames(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in REQUIRED if getattr(self, name) is not None}

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
                if dimension not in frame.columns:
                    reason = NOT_RECORDED.get(name, {}).get(dimension, f"{name} are not recorded by {dimension}")
                    frame = None
                    unavailable[name] = reason
                    break
                values = [wanted] if isinstance(wanted, str) else list(wanted)
                frame = frame.filter(pl.col(dimension).is_in(values))
            changes[name] = frame
        return replace(self, **changes, unavailable=unavailable)


def journeys_with_channel(journeys: pl.DataFrame) -> pl.DataFrame:
    """Journeys in the app are the mobile_app channel; the rest are online."""
    return journeys.with_columns(
        pl.when(pl.col("device") == "app").then(pl.lit("mobile_app")).otherwise(pl.lit("online")).alias("channel")
    )
