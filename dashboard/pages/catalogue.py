"""Metric catalogue and data quality: every KPI as the registry defines it, its targets and
rules; when the data was loaded, what it covers, and how many rows each rule touched."""

from __future__ import annotations

from datetime import date, timedelta

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import components, params, state
from dashboard.text import html_text, plain
from data.database import DatabaseError
from data.extracts import ExtractError, extract_names
from metrics.catalogue import (
    BETTER_WORDS,
    UNIT_WORDS,
    catalogue,
    reconcile_imports,
    rule_counts,
    rules_of,
    target_overrides,
)
from metrics.engine import compute
from metrics.periods import parse_week
from metrics.registry import METRICS
from metrics.targets import load_targets

WEEKS = ("4", "13", "26", "52")
DEFAULT_WEEKS = "13"
IMPORT_COLUMNS = {  # the imports extract's columns as the table heads them, in this order
    "load_id": "Load", "imported_at": "Imported (UTC)", "source": "Source", "target_table": "Into",
    "rows_read": "Read", "rows_inserted": "Inserted", "rows_updated": "Updated", "rows_unchanged": "Unchanged",
    "rows_excluded": "Excluded", "rows_quarantined": "Quarantined", "accounted": "Accounted for",
    "reconciles": "Adds up", "file_name": "File", "mapping": "Mapping",
}

CARD_CSS = """
<style>
.kpi-cat{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px;margin:4px 0 12px}
@media (max-width:640px){.kpi-cat{grid-template-columns:1fr}}
.kpi-def{border:1px solid rgba(128,128,128,.35);border-radius:8px;padding:10px 14px;background:rgba(128,128,128,.06)}
.kpi-def h3{font-size:1.05rem;font-weight:600;margin:0 0 4px;padding:0;line-height:1.3}
.kpi-def p{margin:0 0 6px;font-size:.92rem;line-height:1.45}
.kpi-def dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0;font-size:.86rem;line-height:1.4}
.kpi-def dt{font-weight:600}.kpi-def dd{margin:0;overflow-wrap:anywhere}
.kpi-def code{font-size:.82rem}
</style>
"""


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def rules_touched(_engine: Engine, url: str, departments: tuple[str, ...], week: str, weeks: int, as_of: date) -> pl.DataFrame:
    """Rows each rule touched over the ``weeks`` weeks ending with ``week``. The facts are
    those the Overview loads for that week (the same cache entry)."""
    monday = parse_week(week)
    facts = state.facts(_engine, url, departments, *state.facts_window(monday, as_of))
    result = compute(facts, None, by=(), first_day=monday - timedelta(weeks=weeks - 1), last_day=monday + timedelta(days=6))
    return rule_counts(result)


def cards(frame: pl.DataFrame) -> str:
    """The catalogue as a readable list: one card per KPI."""
    parts = [CARD_CSS, '<div class="kpi-cat">']
    for row in frame.iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        rules = "; ".join(rule.name.replace("_", " ") for rule in rules_of(metric)) or "none"
        fields = [
            ("Formula", row["formula"]),
            ("Unit", UNIT_WORDS.get(metric.unit, metric.unit)),
            ("Direction", BETTER_WORDS[metric.better]),
            ("Target", row["targets"]),
            ("Minimum", row["minimum"]),
            ("Source", row["source"] or "this project's definition"),
            ("Rules", rules),
        ]
        rows = "".join(f"<dt>{name}</dt><dd>{html_text(value)}</dd>" for name, value in fields)
        parts.append(
            f'<section class="kpi-def" id="kpi-{metric.name}" aria-label="{html_text(metric.label)}">'
            f"<h3>{html_text(metric.label)} <code>{metric.name}</code></h3>"
            f"<p>{html_text(row['description'])}</p><dl>{rows}</dl></section>"
        )
    parts.append("</div>")
    return "".join(parts)


def rule_line(row: dict) -> str:
    """One rule as a list item: its name, what it touched, and what it does."""
    if row["rows"] is None:
        touched = "not counted (its data is absent)"
    elif row["share"] is not None:
        touched = f"{row['rows']:,} of {row['out_of']:,} {row['of_what']} ({row['share']:.1f}%)"
    else:
        touched = f"{row['rows']:,} rows"
    kind = "can be switched off" if row["switchable"] else "part of the definition"
    return f"- **{row['rule'].replace('_', ' ')}**: {touched}. {row['description']} ({kind})"


def import_line(row: dict) -> str:
    """One import's reconciliation in words (needs the imports extract's counts)."""
    loaded = sum(row.get(k) or 0 for k in ("rows_inserted", "rows_updated", "rows_unchanged"))
    when = f"{row['imported_at']:%d %b %Y %H:%M} UTC" if row.get("imported_at") else "at an unknown time"
    verdict = "✔ adds up" if row["reconciles"] else "✖ does **not** add up"
    return (
        f"- Load {row.get('load_id', '?')}, {plain(row.get('source', ''))} into {plain(row.get('target_table', ''))}, {when}: "
        f"{row['rows_read']:,} read = {loaded:,} loaded ({row.get('rows_inserted') or 0:,} new, {row.get('rows_updated') or 0:,} updated, "
        f"{row.get('rows_unchanged') or 0:,} unchanged) + {row.get('rows_excluded') or 0:,} excluded + "
        f"{row.get('rows_quarantined') or 0:,} quarantined: {verdict}"
    )


context = state.open_or_stop()
st.title("Metric catalogue and data quality")
state.data_as_of(context)

# ---------------------------------------------------------------------------- the catalogue

targets = load_targets()
everything = catalogue(targets, context.name_of)
st.header("Measures")
st.markdown(
    f"Every measure as the metric registry defines it, with its default target and the "
    f"overrides of the targets file (version {targets.version}), and the rules that leave rows out of it."
)
kpi = params.choice(
    "Measure", "kpi", ["all", *METRICS], "all",
    format_func=lambda k: "All measures" if k == "all" else METRICS[k].label,
    help="Show one measure's definition, or all of them.", container=st.columns([1, 2])[0],
)
shown = everything if kpi == "all" else everything.filter(pl.col("kpi") == kpi)
st.markdown(cards(shown), unsafe_allow_html=True)

with st.expander(f"The catalogue as a table ({shown.height} measures)"):
    components.table(
        shown.select(
            pl.col("label").alias("Measure"), pl.col("kpi").alias("Name"), pl.col("description").alias("Definition"),
            pl.col("formula").alias("Formula"), pl.col("unit").alias("Unit"), pl.col("better").alias("Better"),
            pl.col("default_target").alias("Default target"), pl.col("targets").alias("Targets"),
            pl.col("min_n").alias("Minimum observations"), pl.col("observations").alias("Observations"),
            pl.col("source").alias("Source"), pl.col("rules").alias("Rules"),
        ),
        "metric-catalogue",
    )

st.subheader("Targets set per department, service or office")
overrides = target_overrides(targets, context.name_of)
if kpi != "all":
    overrides = overrides.filter(pl.col("kpi") == kpi)
st.markdown(
    f"metrics/targets.toml version **{plain(targets.version)}**. Where several rows fit, the most "
    "specific wins: a service at an office, then a service, then an office, then a department."
)
if overrides.height:
    components.table(
        overrides.select(
            pl.col("label").alias("Measure"), pl.col("scope").alias("Applies to"), pl.col("target").alias("Target"),
            pl.col("default_target").alias("Default target"), pl.col("reason").alias("Reason"),
            pl.col("kpi").alias("Name"), "department_id", "service_id", "office_id",
        ),
        f"target-overrides-{kpi}",
        column_config={"Target": st.column_config.NumberColumn(format="%.1f"), "Default target": st.column_config.NumberColumn(format="%.1f")},
    )
else:
    components.empty("This measure has no targets of its own for a department, service or office.", "Its default target applies everywhere.")

# ---------------------------------------------------------------------------- data quality

st.header("Data quality")
loads = context.get("data_loads")
if loads.height:
    latest = loads.row(0, named=True)
    st.markdown(
        f"Last loaded **{latest['loaded_at']:%d %B %Y at %H:%M} UTC** ({plain(latest['kind'])}, {latest['rows_loaded']:,} rows, "
        f"from {plain(latest['source'])}); {loads.height:,} load{'s' if loads.height != 1 else ''} in all."
    )
    components.table(
        loads.select(
            pl.col("load_id").alias("Load"), pl.col("kind").alias("Kind"), pl.col("loaded_at").alias("Loaded (UTC)"),
            pl.col("rows_loaded").alias("Rows"), pl.col("source").alias("Source"), pl.col("details").alias("Details"),
        ),
        "data-loads",
        column_config={"Rows": st.column_config.NumberColumn(format="localized"), "Loaded (UTC)": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
    )
else:
    components.empty("No data has been loaded yet.", "Run `python -m data generate`, or import an export with `python -m data import`.")

if context.as_of is None or context.first_day is None:
    components.empty("There are no cases or contacts in the database, so there is nothing to check.", "Load data first (see above).")
    st.stop()
days = (context.as_of - context.first_day).days + 1
st.markdown(
    f"Cases and contacts run from **{context.first_day:%A %d %B %Y}** to **{context.as_of:%A %d %B %Y}** "
    f"({days:,} days, local dates in {context.timezone})."
)

st.subheader("Rows each rule left out or repaired")
left, right = st.columns(2)
department = params.department(context, container=left)
weeks = int(params.choice("Window", "weeks", WEEKS, DEFAULT_WEEKS, format_func=lambda w: f"The last {w} complete weeks", container=right))
week = state.default_week(context)
last_day = parse_week(week) + timedelta(days=6)
first_day = last_day - timedelta(weeks=weeks) + timedelta(days=1)
chosen = context.departments if department == state.ALL else (department,)
with st.spinner("Counting the rows each rule touched…"):
    touched = rules_touched(context.engine, str(context.engine.url), chosen, week, weeks, context.as_of)
scope_name = "all departments" if department == state.ALL else context.department_names.get(department, department)
st.markdown(f"From {first_day:%d %B %Y} to {last_day:%d %B %Y} ({weeks} weeks), {plain(scope_name)}:")
st.markdown("\n".join(rule_line(row) for row in touched.iter_rows(named=True)))
components.table(
    touched.select(
        pl.col("rule").alias("Rule"), pl.col("rows").alias("Rows touched"), pl.col("out_of").alias("Out of"),
        pl.col("of_what").alias("Rows of"), pl.col("share").alias("Share (%)"), pl.col("affects").alias("Measures affected"),
        pl.when(pl.col("switchable")).then(pl.lit("Can be switched off")).otherwise(pl.lit("Part of the definition")).alias("Kind"),
        pl.col("description").alias("What it does"),
    ),
    f"rule-counts-{department}-{weeks}-weeks",
    column_config={
        "Rows touched": st.column_config.NumberColumn(format="localized"),
        "Out of": st.column_config.NumberColumn(format="localized"),
        "Share (%)": st.column_config.NumberColumn(format="%.2f"),
    },
)

st.subheader("Imports")
available = set(extract_names())
if "imports" not in available:
    st.markdown("There have been no imports: this database holds generated data only (see the loads above).")
else:
    try:
        imports = context.get("imports")
    except (ExtractError, DatabaseError) as error:
        imports = None
        st.warning(f"The imports cannot be read: {error}", icon=":material/warning:")
    if imports is not None and imports.height == 0:
        st.markdown("There have been no imports: the data was generated (`python -m data generate`). "
                    "`python -m data import FILE --mapping NAME` loads an export of your own.")
    elif imports is not None:
        reconciled = reconcile_imports(imports)
        if "reconciles" in reconciled.columns:
            broken = reconciled.filter(~pl.col("reconciles")).height
            st.markdown(
                f"{reconciled.height:,} import{'s' if reconciled.height != 1 else ''}; rows read = rows loaded + excluded + quarantined "
                + ("holds for every one." if broken == 0 else f"does **not** hold for {broken:,} of them (marked below).")
            )
            st.markdown("\n".join(import_line(row) for row in reconciled.head(5).iter_rows(named=True)))
        ordered = [name for name in IMPORT_COLUMNS if name in reconciled.columns] + [c for c in reconciled.columns if c not in IMPORT_COLUMNS]
        shown = reconciled.select(ordered).rename({name: label for name, label in IMPORT_COLUMNS.items() if name in reconciled.columns})
        if "Adds up" in shown.columns:
            shown = shown.with_columns(pl.when(pl.col("Adds up")).then(pl.lit("✔ yes")).otherwise(pl.lit("✖ no")).alias("Adds up"))
        config = {label: st.column_config.NumberColumn(format="localized") for label in shown.columns if shown.schema[label].is_integer() and label != "Load"}
        if "Imported (UTC)" in shown.columns:
            config["Imported (UTC)"] = st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")
        components.table(shown, "imports", column_config=config)
        if "import_rule_counts" in available:
            counts = context.get("import_rule_counts")
            if counts.height:
                with st.expander(f"Rows each import rule excluded, quarantined, repaired or flagged ({counts.height:,} rules)"):
                    components.table(
                        counts.rename({"load_id": "Load", "rule": "Rule", "action": "Action", "row_count": "Rows", "description": "What it does"}),
                        "import-rule-counts",
                    )
