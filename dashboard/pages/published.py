"""Published series, for analysts and department heads: one aggregate series at its own
grain, walked down the dimensions its source publishes (department, service, office,
channel) and no further, with the place it stops said plainly."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from anomalies import links
from dashboard import components, params, published_data, published_figures, state
from dashboard.text import plain
from metrics import published

context = state.open_or_stop()
st.title("Published series", anchor=False)
state.data_as_of(context)
frame = published_data.observations(context)
options = published_data.series_options(frame)
if not options:
    components.empty("There are no published series for your departments.",
                     "Import one with `python -m data import FILE --mapping nhs_ae` (see docs/import-targets.md).")
    st.stop()

series = params.choice("Series", "series", list(options), next(iter(options)), format_func=options.__getitem__)
chosen = published_data.of_series(frame, series)
where: dict[str, str] = {}
levels = published.depth(chosen)
columns = st.columns(max(len(levels), 1))
for column, container in zip(levels, columns, strict=False):
    names = published_data.names(context, column)
    values = published_data.values_of(published.narrowed(chosen, where), column)
    word = published.DIMENSION_WORDS[column]
    pick = params.choice(word.capitalize(), links.SCOPE_PARAMS[column], [state.ALL, *values], state.ALL,
                         format_func=lambda v, n=names, w=word: f"Every {w}" if v == state.ALL else n.get(v, v), container=container,
                         widget=f"published-{column}")
    if pick == state.ALL:
        break
    where[column] = pick
scoped = published.narrowed(chosen, where)
info = published_data.meta(chosen)
label, unit = info["label"], info["unit"]
scope_words = " / ".join(published_data.names(context, c).get(v, v) for c, v in where.items()) or "every department you may see"

trend = published_data.trend(scoped)
grain = published_data.grain_of(scoped)
st.subheader(f"{plain(label)}: {plain(scope_words)}", anchor=False)
components.chart(
    published_figures.trend_figure(trend, label, unit, grain),
    published_figures.trend_summary(trend, label, unit, grain, scope_words),
    published_figures.trend_table(trend, unit, grain), f"published-{series}-{scope_words}",
)

below = published.next_level(chosen, where)
if below is None:
    st.subheader("Where it stops", anchor=False)
    components.empty(published.stops_here(chosen, label), "Go up a level with the boxes above.")
else:
    noun = published.DIMENSION_WORDS[below]
    st.subheader(f"By {noun}", anchor=False)
    starts = published_data.period_starts(trend)
    period_column, _rest = st.columns([1, 3])
    start = params.choice("Period", "at", [s.isoformat() for s in starts], starts[0].isoformat(),
                          format_func=lambda s: published_figures.period_label(published_data.as_date(s), grain), container=period_column)
    period = published_figures.period_label(published_data.as_date(start), grain)
    peers = published_data.peers(scoped, below, published_data.as_date(start))
    names = published_data.names(context, below)
    st.markdown(f"**{plain(published_figures.peers_summary(peers, below, names, unit, period))}**")
    components.table(published_figures.peers_table(peers, below, names, unit), f"published-{series}-{noun}-{start}")
    st.caption(plain(published_figures.go_down(noun) + published.stops_here(chosen, label)))
