"""Overview: the weekly scorecard of a scope, for department heads."""

from __future__ import annotations

from datetime import timedelta

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import polars as pl
import streamlit as st

from dashboard import components, params, state
from dashboard.text import plain
from metrics.formatting import number
from metrics.periods import parse_week, week_label
from metrics.registry import METRICS
from metrics.scorecard import YEAR_WEEKS
from metrics.summary import sentences

context = state.open_or_stop()
st.title("Weekly scorecard")
state.data_as_of(context)
if context.as_of is None:
    components.empty("There are no cases or contacts in the database yet.", "Run `python -m data generate` for demo data, or import an export with `python -m data import`.")
    st.stop()

components.missing_data(
    context.missing("contacts", "feedback", "journeys", "costs"),
    "the measures built on them are shown as \"too little data\"",
)
left, middle, right = st.columns([1, 1, 1])
department = params.department(context, container=left)
service = params.service(context, department, container=middle)
weeks = state.week_options(context)
week = params.choice("Week", "week", weeks, state.default_week(context), format_func=lambda w: state.week_label_text(w, context), container=right)

with st.spinner("Computing the scorecard…"):
    card = state.weekly_scorecard(context.engine, str(context.engine.url), context.departments, department, service, week, context.as_of, data_from=context.first_day)
scope_name = (
    context.service_names.get(service, service) if service != state.ALL
    else context.department_names.get(department, department) if department != state.ALL
    else "All departments"
)
rows = card.rows

st.subheader(f"{plain(scope_name)}, {state.week_label_text(week, context)}")
st.markdown("\n".join(f"- {sentence}" for sentence in sentences(card)))
if card.partial:
    st.warning(f"{week} is not over yet: its figures are partial and are not compared or judged.", icon=":material/schedule:")

composite = card.composite.row(0, named=True)
score_column, above_column, below_column = st.columns([1, 2, 2])
with score_column:
    score = composite["score"]
    st.metric("Composite score", "–" if score is None else f"{score:.2f}", help="Boston's CityScore: each measure's actual ÷ target (target ÷ actual where lower is better), capped at 1.25, averaged. 1.00 means on target.")
    st.caption("1.00 means on target")
    st.markdown(components.status_badge(composite["status"]), unsafe_allow_html=True)


def ranked(kpis: list[str], limit: int = 5) -> str:
    scores = dict(zip(rows["kpi"], rows["score"], strict=True))
    values = dict(zip(rows["kpi"], rows["value"], strict=True))
    targets = dict(zip(rows["kpi"], rows["target"], strict=True))
    lines = [
        f"- {METRICS[k].label}: {number(values[k], k)} (target {number(targets[k], k)}, score {scores[k]:.2f})"
        for k in kpis[:limit]
    ]
    return "\n".join(lines) if lines else "- none"


with above_column:
    st.markdown("**Furthest above target**")
    st.markdown(ranked(composite["above"]))
with below_column:
    st.markdown("**Furthest below target**")
    st.markdown(ranked(composite["below"]))

components.tiles(rows, card.history)

with st.expander("The scorecard as a table", expanded=False):
    table = rows.select(
        pl.col("label").alias("Measure"), "value", "last_week", "same_week_last_year", "target",
        pl.col("status").alias("Status"), pl.col("n").alias("Observations"), pl.col("note").alias("Note"), pl.col("kpi").alias("KPI"),
    )
    components.table(table, f"scorecard-{scope_name}-{week}", column_config={
        "value": st.column_config.NumberColumn("This week", format="%.2f"),
        "last_week": st.column_config.NumberColumn("Last week", format="%.2f"),
        "same_week_last_year": st.column_config.NumberColumn("Same week last year", format="%.2f"),
        "target": st.column_config.NumberColumn("Target", format="%.2f"),
    })
with st.expander("The last 13 weeks of every measure (the sparklines)", expanded=False):
    history = card.history.with_columns(pl.col("kpi").replace_strict({k: m.label for k, m in METRICS.items()}).alias("Measure"))
    wide = history.pivot(on="period", index="Measure", values="value", maintain_order=True)
    components.table(wide, f"sparklines-{scope_name}-{week}")

counts = card.rule_counts
if counts:
    st.caption(
        f"Left out by rule in the {YEAR_WEEKS + 1} weeks the comparisons read ({week_label(parse_week(week) - timedelta(weeks=YEAR_WEEKS))} "
        f"to {week}): "
        + "; ".join(f"{name.replace('_', ' ')}: {count:,} rows" for name, count in counts.items())
        + f". Targets: metrics/targets.toml version {card.targets_version}."
    )
