"""Metric catalogue and data quality: every KPI as the registry defines it, its targets and
rules; when the data was loaded, what it covers, and how many rows each rule touched."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from dashboard import catalogue_data, catalogue_figures, components, params, state
from dashboard.text import plain
from metrics.registry import METRICS
from metrics.targets import load_targets

context = state.open_or_stop()
st.title("Metric catalogue and data quality")
state.data_as_of(context)

# ---------------------------------------------------------------------------- the catalogue

targets = catalogue_data.visible_targets(context, load_targets())  # the viewer's own rows only
st.header("Measures")
st.markdown(
    f"Every measure as the metric registry defines it, with its default target and the "
    f"overrides of the targets file (version {targets.version}), and the rules that leave rows out of it."
)
kpi = params.choice(
    "Measure", "kpi", [state.ALL, *METRICS], state.ALL,
    format_func=lambda k: "All measures" if k == state.ALL else METRICS[k].label,
    help="Show one measure's definition, or all of them.", container=st.columns([1, 2])[0],
)
shown = catalogue_data.measures(context, targets, kpi)
st.markdown(catalogue_figures.cards(shown), unsafe_allow_html=True)

with st.expander(f"The catalogue as a table ({shown.height} measures)"):
    components.table(catalogue_figures.catalogue_table(shown), "metric-catalogue")

st.subheader("Targets set per department, service or office")
overrides = catalogue_data.overrides(context, targets, kpi)
st.markdown(
    f"metrics/targets.toml version **{plain(targets.version)}**. Where several rows fit, the most "
    "specific wins: a service at an office, then a service, then an office, then a department."
)
if overrides.height:
    components.table(
        catalogue_figures.overrides_table(overrides),
        f"target-overrides-{kpi}",
        column_config={"Target": st.column_config.NumberColumn(format="%.1f"), "Default target": st.column_config.NumberColumn(format="%.1f")},
    )
else:
    components.empty("This measure has no targets of its own for a department, service or office.", "Its default target applies everywhere.")

# ---------------------------------------------------------------------------- data quality

st.header("Data quality")
loads = catalogue_data.loads(context)
if loads.height:
    st.markdown(catalogue_figures.last_load_text(loads))
    components.table(
        catalogue_figures.loads_table(loads),
        "data-loads",
        column_config={"Rows": st.column_config.NumberColumn(format="localized"), "Loaded (UTC)": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
    )
else:
    components.empty("No data has been loaded yet.", "Run `python -m data generate`, or import an export with `python -m data import`.")

if context.as_of is None or context.first_day is None:
    components.empty("There are no cases or contacts in the database, so there is nothing to check.", "Load data first (see above).")
    st.stop()
st.markdown(
    f"Cases and contacts run from **{context.first_day:%A %d %B %Y}** to **{context.as_of:%A %d %B %Y}** "
    f"({catalogue_data.days_of_data(context):,} days, local dates in {context.timezone})."
)

st.subheader("Rows each rule left out or repaired")
left, right = st.columns(2)
department = params.department(context, container=left)
weeks = int(params.choice("Window", "weeks", catalogue_data.WEEKS, catalogue_data.DEFAULT_WEEKS, format_func=lambda w: f"The last {w} complete weeks", container=right))
window = catalogue_data.rule_window(context, weeks)
with st.spinner("Counting the rows each rule touched…"):
    touched = catalogue_data.rules_in(context, department, window)
scope_name = "all departments" if department == state.ALL else context.department_names.get(department, department)
st.markdown(f"From {window.first_day:%d %B %Y} to {window.last_day:%d %B %Y} ({weeks} weeks), {plain(scope_name)}:")
st.markdown("\n".join(catalogue_figures.rule_line(row) for row in touched.iter_rows(named=True)))
components.table(
    catalogue_figures.rules_table(touched),
    f"rule-counts-{department}-{weeks}-weeks",
    column_config={
        "Rows touched": st.column_config.NumberColumn(format="localized"),
        "Out of": st.column_config.NumberColumn(format="localized"),
        "Share (%)": st.column_config.NumberColumn(format="%.2f"),
    },
)

st.subheader("Imports")
imports = catalogue_data.imports_of(context)
if not imports.extract:
    st.markdown("There have been no imports: this database holds generated data only (see the loads above).")
elif imports.error is not None:
    st.warning(f"The imports cannot be read: {imports.error}", icon=":material/warning:")
elif imports.reconciled.height == 0:
    st.markdown("There have been no imports: the data was generated (`python -m data generate`). "
                "`python -m data import FILE --mapping NAME` loads an export of your own.")
else:
    reconciled = imports.reconciled
    if imports.broken is not None:
        st.markdown(catalogue_figures.reconciliation_text(reconciled, imports.broken))
        st.markdown(catalogue_figures.import_lines(reconciled))
    shown = catalogue_figures.imports_table(reconciled)
    config = {label: st.column_config.NumberColumn(format="localized") for label in catalogue_figures.count_columns(shown)}
    if "Imported (UTC)" in shown.columns:
        config["Imported (UTC)"] = st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")
    components.table(shown, "imports", column_config=config)
    counts = imports.rule_counts
    if counts is not None and counts.height:
        with st.expander(f"Rows each import rule excluded, quarantined, repaired or flagged ({counts.height:,} rules)"):
            components.table(catalogue_figures.import_rules_table(counts), "import-rule-counts")

st.subheader("Forecast runs")
runs = catalogue_data.forecast_runs(context)
if runs is None:
    st.warning("The stored forecast runs cannot be read.", icon=":material/warning:")
elif runs.height == 0:
    st.markdown("No forecast has been run on this database yet (`python -m forecasting run`).")
else:
    st.markdown(f"{runs.height:,} stored forecast runs, newest first, with the version of the code that made each.")
    components.table(catalogue_figures.runs_table(runs), "forecast-runs")
