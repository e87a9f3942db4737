"""The backlog projection against cases worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics.backlog import clear_words, needed_words, projection

WEEK = "2026-W47"  # Monday 16 to Sunday 22 November 2026


def history(backlog: float, flows: list[tuple[int, int]], scope: str = "all") -> pl.DataFrame:
    """The scorecard's history: one net-flow row per (submitted, closed) week ending with
    W47, oldest first, and the backlog at W47's end."""
    rows = []
    last_monday = date(2026, 11, 16)
    for back, (submitted, closed) in enumerate(reversed(flows)):
        monday = last_monday - timedelta(weeks=back)
        period = f"2026-W{47 - back}"
        rows.append({"scope": scope, "kpi": "net_flow", "period": period, "period_start": monday, "value": float(submitted - closed),
                     "numerator": float(submitted), "denominator": float(closed), "n": submitted + closed})
    rows.append({"scope": scope, "kpi": "backlog", "period": WEEK, "period_start": last_monday, "value": backlog,
                 "numerator": backlog, "denominator": None, "n": int(backlog)})
    return pl.DataFrame(rows, schema={"scope": pl.String, "kpi": pl.String, "period": pl.String, "period_start": pl.Date, "value": pl.Float64,
                                      "numerator": pl.Float64, "denominator": pl.Float64, "n": pl.Int64})


# W43 (1,000 submitted, none closed) is five weeks back: not read. W44-W47: 100 submitted
# a week on average (100, 110, 90, 100) and 150 closed: net flow -50 a week.
SHRINKING = history(2000, [(1000, 0), (100, 150), (110, 150), (90, 150), (100, 150)])


def test_weeks_to_clear_at_the_last_four_weeks_net_flow():
    p = projection(SHRINKING, WEEK)
    assert (p.weeks, p.submitted_per_week, p.closed_per_week, p.net_flow_per_week) == (4, 100.0, 150.0, -50.0)
    assert p.weeks_to_clear == 40.0  # 2,000 / 50
    assert p.week_end == date(2026, 11, 22)
    assert p.cleared_on == date(2027, 8, 29)  # 280 days after Sunday 22 November 2026
    assert clear_words(p) == (
        "At the last 4 weeks' net flow (−50 a week: 100 submitted, 150 closed), the backlog of 2,000 clears in 40.0 weeks, by Sun 29 Aug 2027."
    )


def test_closing_rate_needed_by_a_date():
    p = projection(SHRINKING, WEEK)
    by = date(2027, 2, 21)  # 91 days, 13 weeks after the week's end
    assert p.weeks_until(by) == 13.0
    assert p.closing_needed(by) == pytest.approx(100 + 2000 / 13)  # 253.8
    assert needed_words(p, by) == "To clear it by Sun 21 Feb 2027 (13.0 weeks), close 254 a week: 104 more than the 150 a week now (+69%)."
    # down to a target of 700: 100 + 1,300 / 13 = 200
    assert p.closing_needed(by, down_to=700) == pytest.approx(200.0)
    assert needed_words(p, by, down_to=700).startswith("To bring it down to its target of 700 by Sun 21 Feb 2027 (13.0 weeks), close 200 a week: 50 more")
    # a year away, 100 + 2,000 / 52 = 138.5: fewer than now
    assert "fewer than the 150 a week now: the current rate is enough" in needed_words(p, date(2027, 11, 21))
    assert p.closing_needed(date(2026, 11, 22)) is None
    assert "pick a later date" in needed_words(p, date(2026, 11, 1))


def test_a_growing_backlog_is_never_cleared_at_this_rate():
    p = projection(history(500, [(160, 150)] * 4), WEEK)
    assert p.net_flow_per_week == 10.0 and p.weeks_to_clear is None and p.cleared_on is None
    assert clear_words(p) == "The backlog of 500 is growing at the last 4 weeks' net flow (+10 a week: 160 submitted, 150 closed): never cleared at this rate."
    flat = projection(history(500, [(150, 150)] * 4), WEEK)
    assert "is not shrinking" in clear_words(flat) and flat.weeks_to_clear is None


def test_fewer_weeks_of_flow_are_said_and_one_scope_is_read():
    two = pl.concat([history(300, [(10, 40), (20, 40)], scope="civil"), history(999, [(1, 2)], scope="revenue")])
    p = projection(two, WEEK, scope="civil")
    assert (p.weeks, p.submitted_per_week, p.closed_per_week, p.weeks_to_clear) == (2, 15.0, 40.0, 12.0)
    assert clear_words(p).startswith("At the last 2 weeks' net flow (−25 a week")
    assert projection(two, WEEK, scope="nowhere") is None
