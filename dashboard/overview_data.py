"""What the weekly scorecard page loads: the scorecard of a scope and week, from the cached
loaders in state.py (the drill-down and the catalogue share their facts)."""

from __future__ import annotations

from dashboard import state
from metrics.scorecard import Scorecard


def scorecard(context: state.Context, department: str, service: str, week: str) -> Scorecard:
    """The scorecard of a department (or all) and a service (or all) for an ISO week."""
    return state.weekly_scorecard(
        context.engine, str(context.engine.url), context.departments, department, service, week, context.as_of, data_from=context.first_day,
    )
