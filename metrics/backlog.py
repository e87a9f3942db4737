"""What it will take to clear a backlog: weeks to clear at the recent net flow, and the
closing rate that clears it (or brings it down to its target) by a chosen date.

Pure, from the scorecard's history (the engine's figures): the backlog at the end of
the week, and the last ``NET_FLOW_WEEKS`` complete weeks' cases submitted and closed
(the net flow's numerator and denominator), so that submitted - closed is exactly how
the backlog moved (the engine counts every close, administrative ones too, in both).

- Net flow a week: the mean of submitted - closed over those weeks.
- Weeks to clear: backlog / -(net flow a week) when the backlog shrinks; none when it
  does not ("growing: never at this rate", or flat).
- Closing rate needed by a date: submissions go on at their recent mean, so closes a
  week = submitted a week + (backlog - down_to) / weeks left, weeks left counted from the
  week's end (Sunday) to the date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

NET_FLOW_WEEKS = 4


@dataclass(frozen=True)
class Projection:
    """A backlog and the flow of the weeks before: every figure a week, in cases."""

    backlog: float
    weeks: int  # complete weeks the flow was read from (at most NET_FLOW_WEEKS)
    submitted_per_week: float
    closed_per_week: float
    week_end: date  # the Sunday the backlog was counted at

    @property
    def net_flow_per_week(self) -> float:
        return self.submitted_per_week - self.closed_per_week

    @property
    def weeks_to_clear(self) -> float | None:
        """Weeks until the backlog is 0 at the recent net flow; None if it does not shrink."""
        if self.backlog <= 0:
            return 0.0
        if self.net_flow_per_week >= 0:
            return None
        return self.backlog / -self.net_flow_per_week

    @property
    def cleared_on(self) -> date | None:
        weeks = self.weeks_to_clear
        return None if weeks is None else self.week_end + timedelta(days=math.ceil(weeks * 7))

    def weeks_until(self, by: date) -> float:
        """Weeks from the week's end to ``by`` (may be 0 or less: a date already past)."""
        return (by - self.week_end).days / 7

    def closing_needed(self, by: date, down_to: float = 0.0) -> float | None:
        """Cases to close a week to bring the backlog down to ``down_to`` by ``by``;
        None for a date not after the week's end."""
        weeks = self.weeks_until(by)
        if weeks <= 0:
            return None
        return self.submitted_per_week + max(self.backlog - down_to, 0.0) / weeks


def projection(history: pl.DataFrame, week: str, scope: str | None = None, weeks: int = NET_FLOW_WEEKS) -> Projection | None:
    """The projection of the backlog at the end of ``week`` from the scorecard's history
    (``scope``: one scope of a split scorecard); None without a backlog figure or any
    week of flow."""
    rows = history if scope is None else history.filter(pl.col("scope") == scope)
    rows = rows.filter(pl.col("period") <= week)
    backlog = rows.filter((pl.col("kpi") == "backlog") & (pl.col("period") == week))
    flow = rows.filter(pl.col("kpi") == "net_flow").sort("period_start").tail(weeks)
    if backlog.height != 1 or backlog["value"][0] is None or flow.height == 0:
        return None
    return Projection(
        backlog=float(backlog["value"][0]),
        weeks=flow.height,
        submitted_per_week=float(flow["numerator"].fill_null(0).mean()),
        closed_per_week=float(flow["denominator"].fill_null(0).mean()),
        week_end=backlog["period_start"][0] + timedelta(days=6),
    )


def _count(value: float) -> str:
    return f"{value:,.0f}"


def clear_words(p: Projection) -> str:
    """'At the last 4 weeks' net flow (−54 a week: 1,230 submitted, 1,284 closed), the
    backlog of 2,115 clears in 39.2 weeks, by Sun 23 Aug 2027.' or 'growing: never'."""
    flow = p.net_flow_per_week
    sign = "+" if flow > 0 else ("−" if flow < 0 else "±")
    rates = f"{sign}{_count(abs(flow))} a week: {_count(p.submitted_per_week)} submitted, {_count(p.closed_per_week)} closed"
    over = f"the last {p.weeks} weeks'" if p.weeks > 1 else "the last week's"
    if p.backlog <= 0:
        return f"No backlog at the end of the week ({rates} at {over} net flow)."
    weeks = p.weeks_to_clear
    if weeks is None:
        state = "growing" if flow > 0 else "not shrinking"
        return f"The backlog of {_count(p.backlog)} is {state} at {over} net flow ({rates}): never cleared at this rate."
    return f"At {over} net flow ({rates}), the backlog of {_count(p.backlog)} clears in {weeks:,.1f} weeks, by {p.cleared_on:%a %d %b %Y}."


def needed_words(p: Projection, by: date, down_to: float = 0.0) -> str:
    """'To clear it by Wed 31 Mar 2027 (18.4 weeks), close 1,400 a week: 116 more than
    the 1,284 a week now (+9%).'"""
    needed = p.closing_needed(by, down_to)
    if needed is None:
        return f"{by:%a %d %b %Y} is not after the week's end ({p.week_end:%a %d %b %Y}): pick a later date."
    goal = "clear it" if down_to <= 0 else f"bring it down to its target of {_count(down_to)}"
    if p.backlog <= down_to:
        return f"It is already at or below {'zero' if down_to <= 0 else 'its target'}: closing as many as are submitted ({_count(p.submitted_per_week)} a week) keeps it there."
    more = needed - p.closed_per_week
    now = f"the {_count(p.closed_per_week)} a week now"
    if round(more) > 0:
        share = f" (+{more / p.closed_per_week:.0%})" if p.closed_per_week > 0 else ""
        compare = f"{_count(more)} more than {now}{share}"
    elif round(more) < 0:
        compare = f"{_count(-more)} fewer than {now}: the current rate is enough"
    else:
        compare = f"as many as {now}"
    return f"To {goal} by {by:%a %d %b %Y} ({p.weeks_until(by):,.1f} weeks), close {_count(needed)} a week: {compare}."
