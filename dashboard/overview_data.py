"""What the weekly scorecard page loads: the scorecard of a scope and week and its
where-matrix, from the cached loaders in state.py (the drill-down and the catalogue share
their facts)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from dashboard import state
from metrics.periods import parse_week
from metrics.report_periods import ReportPeriod, report_period
from metrics.scorecard import Scorecard
from metrics.targets import load_targets
from metrics.where import Where, child_dimension, where


def offline_services(context: state.Context) -> tuple[str, ...]:
    """The services with no online channel (services.digital false), sorted."""
    return tuple(sorted(context.services.filter(~pl.col("digital").fill_null(True))["service_id"].to_list()))


def scorecard(context: state.Context, department: str, service: str, week: str, by: str | None = None) -> Scorecard:
    """The scorecard of a department (or all) and a service (or all) for an ISO week."""
    return state.weekly_scorecard(
        context.engine, str(context.engine.url), context.departments, department, service, week, context.as_of,
        by=by, data_from=context.first_day, offline_services=offline_services(context),
    )


def period_card(context: state.Context, department: str, service: str, week: str, kind: str) -> tuple[Scorecard, ReportPeriod]:
    """The scorecard of the month, quarter or financial year that holds the chosen week's
    Sunday (or the last day of data, if earlier), to that day, and that period: the page
    reads as of the week chosen, a period not over by then is shown to that day."""
    day = parse_week(week) + timedelta(days=6)
    if context.as_of is not None:
        day = min(day, context.as_of)
    period = report_period(kind, day, day, financial_year_start_month=load_targets().financial_year_start)
    card = state.report_period_scorecard(
        context.engine, str(context.engine.url), context.departments, department, service, kind, day, day,
        data_from=context.first_day, offline_services=offline_services(context),
    )
    return card, period


def financial_year_start() -> int:
    """The month the financial year starts in (metrics/targets.toml)."""
    return load_targets().financial_year_start


def where_matrix(context: state.Context, department: str, service: str, week: str) -> Where:
    """The scope's children against the KPIs, worst first (metrics.where)."""
    dimension = child_dimension(department, service)
    return where(scorecard(context, department, service, week, by=dimension), dimension)


def child_names(context: state.Context, dimension: str) -> dict[str, str]:
    """The children's names by id (departments, services or offices)."""
    return {"department_id": context.department_names, "service_id": context.service_names, "office_id": context.office_names}[dimension]


def level(value: str) -> str | None:
    """A filter's value for a link: None for state.ALL."""
    return None if value == state.ALL else value


CLEAR_BY_WEEKS = 13  # the date the backlog projection proposes: a quarter after the week's end


def clear_by_choices(week: str) -> tuple[date, date]:
    """The first date the head may pick to clear the backlog by (the day after the week's
    end) and the one proposed (a quarter after it)."""
    sunday = parse_week(week) + timedelta(days=6)
    return sunday + timedelta(days=1), sunday + timedelta(weeks=CLEAR_BY_WEEKS)


def week_end(week: str) -> date:
    """The Sunday of an ISO week: published periods over by then are the week's."""
    return parse_week(week) + timedelta(days=6)


def without_events(card: Scorecard) -> bool:
    """No case, call, visit or rating behind any measure in the card's 13 weeks."""
    return int(card.history["n"].fill_null(0).sum()) == 0
