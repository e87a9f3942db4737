"""The metric engine's old name for data.fact_frames (Facts, FactsError, DIMENSIONS, ...).

Facts moved to data/ so that data, which builds them, imports nothing from metrics
(docs/architecture.md). New code imports data.fact_frames; this name stays until the
dashboard modules that still use it (being refactored on another branch) move over.
"""

from data.fact_frames import (
    DERIVED,
    DIMENSIONS,
    FACTS,
    NOT_RECORDED,
    REQUIRED,
    Facts,
    FactsError,
    journeys_with_channel,
)

__all__ = ["DERIVED", "DIMENSIONS", "FACTS", "NOT_RECORDED", "REQUIRED", "Facts", "FactsError", "journeys_with_channel"]
