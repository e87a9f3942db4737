"""The Overview's "Published series" section: the scope's aggregate series at their own
grain (months, quarters), beside the weekly event-grain scorecard, each with its latest
period, the previous period, the same period last year, the source's target and a status
by icon, word and colour, a link into its drill-down, and the table behind."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import components, published_data, published_figures, state
from dashboard.text import plain

NOTE = (
    "Published series are figures a source publishes per period (NHS England's A&E attendances per provider and month, "
    "a department's transactions per quarter), imported with python -m data import. Each is shown at the grain it was "
    "published: a monthly series is compared with the previous month and the same month last year, never with a week."
)


def overview_section(context: state.Context, department: str, service: str, day: date, scope_name: str, *,
                     no_events: bool = False) -> bool:
    """Show the section when the scope has published series; True when it had some.
    ``no_events``: the scope has no cases, calls or ratings in the weeks shown (say so)."""
    where = published_data.scope_of(department, service)
    rows = published_data.scorecard(context, where, day)
    if rows.is_empty():
        return False
    st.subheader("Published series", anchor=False)
    if no_events:
        st.info(plain(f"{scope_name} has no cases, calls, visits or ratings in the 13 weeks to this week, so its weekly "
                      "measures further down are empty: its figures are these published series, at the grain they were published."),
                icon=":material/info:")
    st.markdown(plain(published_figures.summary(rows, scope_name)))
    st.markdown(published_figures.section_html(rows, where), unsafe_allow_html=True)
    st.dataframe(published_figures.scorecard_table(rows), hide_index=True, width="stretch")
    components.csv_download(published_figures.scorecard_csv(rows), f"published-{scope_name}-{day}", label="Download the published series as CSV")
    st.caption(NOTE)
    return True
