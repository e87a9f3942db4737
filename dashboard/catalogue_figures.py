"""Cards, tables and sentences of the catalogue and data-quality page: pure functions of
the catalogue, the targets' overrides, the loads, the rule counts and the imports."""

from __future__ import annotations

import polars as pl

from dashboard.text import html_text, plain
from metrics.catalogue import BETTER_WORDS, UNIT_WORDS, rules_of
from metrics.registry import METRICS
from metrics.status import GREEN, RED, STATUS_ICONS

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
    verdict = f"{STATUS_ICONS[GREEN]} adds up" if row["reconciles"] else f"{STATUS_ICONS[RED]} does **not** add up"
    return (
        f"- Load {row.get('load_id', '?')}, {plain(row.get('source', ''))} into {plain(row.get('target_table', ''))}, {when}: "
        f"{row['rows_read']:,} read = {loaded:,} loaded ({row.get('rows_inserted') or 0:,} new, {row.get('rows_updated') or 0:,} updated, "
        f"{row.get('rows_unchanged') or 0:,} unchanged) + {row.get('rows_excluded') or 0:,} excluded + "
        f"{row.get('rows_quarantined') or 0:,} quarantined: {verdict}"
    )


def catalogue_table(shown: pl.DataFrame) -> pl.DataFrame:
    return shown.select(
        pl.col("label").alias("Measure"), pl.col("kpi").alias("Name"), pl.col("description").alias("Definition"),
        pl.col("formula").alias("Formula"), pl.col("unit").alias("Unit"), pl.col("better").alias("Better"),
        pl.col("default_target").alias("Default target"), pl.col("targets").alias("Targets"),
        pl.col("min_n").alias("Minimum observations"), pl.col("observations").alias("Observations"),
        pl.col("source").alias("Source"), pl.col("rules").alias("Rules"),
    )


def overrides_table(overrides: pl.DataFrame) -> pl.DataFrame:
    return overrides.select(
        pl.col("label").alias("Measure"), pl.col("scope").alias("Applies to"), pl.col("target").alias("Target"),
        pl.col("default_target").alias("Default target"), pl.col("reason").alias("Reason"),
        pl.col("kpi").alias("Name"), "department_id", "service_id", "office_id",
    )


def last_load_text(loads: pl.DataFrame) -> str:
    latest = loads.row(0, named=True)
    return (
        f"Last loaded **{latest['loaded_at']:%d %B %Y at %H:%M} UTC** ({plain(latest['kind'])}, {latest['rows_loaded']:,} rows, "
        f"from {plain(latest['source'])}); {loads.height:,} load{'s' if loads.height != 1 else ''} in all."
    )


def loads_table(loads: pl.DataFrame) -> pl.DataFrame:
    return loads.select(
        pl.col("load_id").alias("Load"), pl.col("kind").alias("Kind"), pl.col("loaded_at").alias("Loaded (UTC)"),
        pl.col("rows_loaded").alias("Rows"), pl.col("source").alias("Source"), pl.col("details").alias("Details"),
    )


def rules_table(touched: pl.DataFrame) -> pl.DataFrame:
    return touched.select(
        pl.col("rule").alias("Rule"), pl.col("rows").alias("Rows touched"), pl.col("out_of").alias("Out of"),
        pl.col("of_what").alias("Rows of"), pl.col("share").alias("Share (%)"), pl.col("affects").alias("Measures affected"),
        pl.when(pl.col("switchable")).then(pl.lit("Can be switched off")).otherwise(pl.lit("Part of the definition")).alias("Kind"),
        pl.col("description").alias("What it does"),
    )


def reconciliation_text(reconciled: pl.DataFrame, broken: int) -> str:
    return (
        f"{reconciled.height:,} import{'s' if reconciled.height != 1 else ''}; rows read = rows loaded + excluded + quarantined "
        + ("holds for every one." if broken == 0 else f"does **not** hold for {broken:,} of them (marked below).")
    )


def import_lines(reconciled: pl.DataFrame, shown: int = 5) -> str:
    """The first ``shown`` imports' reconciliation, as a Markdown list."""
    return "\n".join(import_line(row) for row in reconciled.head(shown).iter_rows(named=True))


def imports_table(reconciled: pl.DataFrame) -> pl.DataFrame:
    """The imports under the table's heads, in IMPORT_COLUMNS' order (other columns after),
    whether each adds up in icon and word."""
    ordered = [name for name in IMPORT_COLUMNS if name in reconciled.columns] + [c for c in reconciled.columns if c not in IMPORT_COLUMNS]
    shown = reconciled.select(ordered).rename({name: label for name, label in IMPORT_COLUMNS.items() if name in reconciled.columns})
    if "Adds up" in shown.columns:
        yes, no = f"{STATUS_ICONS[GREEN]} yes", f"{STATUS_ICONS[RED]} no"
        shown = shown.with_columns(pl.when(pl.col("Adds up")).then(pl.lit(yes)).otherwise(pl.lit(no)).alias("Adds up"))
    return shown


def count_columns(shown: pl.DataFrame) -> list[str]:
    """The columns of whole numbers to print with thousands separators (not the load's id)."""
    return [label for label in shown.columns if shown.schema[label].is_integer() and label != "Load"]


def import_rules_table(counts: pl.DataFrame) -> pl.DataFrame:
    return counts.rename({"load_id": "Load", "rule": "Rule", "action": "Action", "row_count": "Rows", "description": "What it does"})


def runs_table(runs: pl.DataFrame) -> pl.DataFrame:
    """The stored forecast runs as people read them, with the code version each ran."""
    return runs.select(
        pl.col("run_id").alias("Run"),
        pl.col("finished_at").dt.strftime("%Y-%m-%d %H:%M").alias("Made (UTC)"),
        pl.col("data_end").cast(pl.String).alias("Data to"),
        pl.col("horizon").alias("Days ahead"),
        pl.col("series_count").alias("Series"),
        pl.col("models").str.replace_all(",", ", ").alias("Models compared"),
        pl.col("holidays").fill_null("none").alias("Public holidays"),
        pl.col("code_version").alias("Code version"),
        pl.col("seconds").round(0).alias("Seconds"),
    )
