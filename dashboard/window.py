"""A window of complete ISO weeks, chosen in the URL: how many weeks (?weeks=) and the last
of them (?to=). Shared by the queues and the satisfaction pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dashboard import params, state
from metrics.periods import parse_week, week_label

WEEK_COUNTS = ("4", "8", "13", "26", "52")
DEFAULT_WEEKS = "13"


@dataclass(frozen=True)
class Window:
    weeks: int
    last_week: str
    first_day: date  # a Monday
    last_day: date  # a Sunday

    @property
    def last_monday(self) -> date:
        return self.last_day - timedelta(days=6)

    @property
    def first_week(self) -> str:
        return week_label(self.first_day)

    @property
    def text(self) -> str:
        return f"{self.weeks} weeks, {self.first_week} to {self.last_week} ({self.first_day:%d %b %Y} – {self.last_day:%d %b %Y})"


def complete_weeks(context: state.Context) -> list[str]:
    """ISO weeks with data that are over, newest first."""
    if context.as_of is None:
        return []
    return [week for week in state.week_options(context) if parse_week(week) + timedelta(days=6) <= context.as_of]


def of(weeks: int, last_week: str) -> Window:
    monday = parse_week(last_week)
    return Window(weeks, last_week, monday - timedelta(weeks=weeks - 1), monday + timedelta(days=6))


def choose(context: state.Context, weeks_container, week_container) -> Window | None:
    """The two window filters; None when no week is over yet."""
    options = complete_weeks(context)
    if not options:
        return None
    count = params.choice("Weeks", "weeks", WEEK_COUNTS, DEFAULT_WEEKS, format_func=lambda n: f"{n} weeks", container=weeks_container)
    default = state.default_week(context)
    last = params.choice(
        "Up to the week", "to", options, default if default in options else options[0],
        format_func=state.week_label_short, container=week_container,
    )
    return of(int(count), last)
