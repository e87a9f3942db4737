"""Pieces every page lays out: a chart with its one-sentence summary and its table (a
graph and a table are the same data), downloads, KPI tiles, empty states."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import audit_trail, downloads
from dashboard.badges import STATUS_COLOURS, status_badge  # noqa: F401  (pages call components.status_badge)
from dashboard.charts import sparkline_svg
from dashboard.text import html_text, plain
from metrics.formatting import change_judged, number
from metrics.registry import METRICS
from metrics.status import status_word

if TYPE_CHECKING:  # state imports this module
    from dashboard.state import Context

def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def same_tab_link(href: str, text: str) -> str:
    """An HTML link that opens in this tab (Streamlit's Markdown links open a new one), its
    address and words escaped; for ``st.markdown(..., unsafe_allow_html=True)``."""
    return f'<a href="{html_text(href)}" target="_self">{html_text(text)}</a>'


def csv_download(frame: pl.DataFrame, name: str, *, label: str = "Download CSV") -> None:
    """The frame as a CSV file to download (safe to open in a spreadsheet: see downloads)."""
    st.download_button(
        label, downloads.csv_bytes(frame), file_name=f"{slug(name)}.csv", mime="text/csv", key=f"csv-{slug(name)}", icon=":material/download:",
        on_click=audit_trail.download, args=(f"{slug(name)}.csv", frame.height),
    )


def excel_download(frame: pl.DataFrame, name: str) -> None:
    st.download_button(
        "Download Excel", downloads.excel_bytes(frame, name), file_name=f"{slug(name)}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"xlsx-{slug(name)}", icon=":material/table:",
        on_click=audit_trail.download, args=(f"{slug(name)}.xlsx", frame.height),
    )


def table(frame: pl.DataFrame, name: str, *, column_config: dict | None = None, height: int | None = None) -> None:
    """A table with its CSV download."""
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config, height=height or "auto")
    csv_download(frame, name)


def chart(figure: go.Figure, summary: str, data: pl.DataFrame, name: str, *, column_config: dict | None = None, expanded: bool = False) -> None:
    """A chart, the sentence that says what it shows, and the same data as a table."""
    st.markdown(f"**{plain(summary)}**")
    st.plotly_chart(figure, config={"displaylogo": False, "responsive": True}, key=f"chart-{slug(name)}")
    with st.expander(f"The numbers behind this chart ({data.height:,} rows)", expanded=expanded):
        table(data, name, column_config=column_config)


def empty(reason: str, what_to_do: str) -> None:
    """An empty state that says why and what to do."""
    st.info(f"{reason} {what_to_do}", icon=":material/info:")


def stop_without_data(context: Context, reason: str) -> None:
    """When the database has no cases or contacts yet: say so, say how to get some, stop."""
    if context.as_of is None:
        empty(reason, "Run `python -m data generate` for demo data, or import an export with `python -m data import`.")
        st.stop()


TILE_CSS = """
<style>
.kpi-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(245px,1fr));gap:12px;margin:4px 0 12px}
.kpi-tile{border:1px solid rgba(128,128,128,.35);border-radius:8px;padding:10px 12px;background:rgba(128,128,128,.06)}
.kpi-tile h3{font-size:.95rem;font-weight:600;margin:0 0 2px;padding:0;line-height:1.3}
.kpi-tile h3 a{color:inherit;text-decoration:underline;text-decoration-thickness:1px;text-underline-offset:3px}
.kpi-value{font-size:1.7rem;font-weight:700;line-height:1.2;font-variant-numeric:tabular-nums}
.kpi-row{display:flex;justify-content:space-between;align-items:center;gap:8px;flex-wrap:wrap}
.kpi-badge{display:inline-block;color:#fff;border-radius:999px;padding:1px 9px;font-size:.8rem;font-weight:600;white-space:nowrap}
.kpi-meta{font-size:.82rem;line-height:1.45;margin-top:4px;font-variant-numeric:tabular-nums}
.kpi-meta dt{display:inline;font-weight:600;white-space:nowrap}.kpi-meta dd{display:inline;margin:0 8px 0 2px;white-space:nowrap}
.kpi-note{font-size:.78rem;opacity:.85;margin-top:3px}
.kpi-spark{margin-top:6px}.kpi-spark svg{width:100%;height:34px;display:block}
</style>
"""


def tiles(rows: pl.DataFrame, history: pl.DataFrame, hrefs: dict[str, str] | None = None) -> None:
    """One tile per KPI: value, status by icon and word and colour, the change on last
    week and on the same week last year judged better or worse in words, the target, and
    a 13-week sparkline; with ``hrefs``, its title links there (the drill-down)."""
    hrefs = hrefs or {}
    parts = [TILE_CSS, '<div class="kpi-grid">']
    for row in rows.iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        series = history.filter(pl.col("kpi") == metric.name).sort("period_start")["value"].to_list()
        spark = sparkline_svg(
            series,
            target=row["target"],
            label=f"{metric.label}, last {len(series)} weeks: from {number(series[0], metric) if series else '–'} to {number(series[-1], metric) if series else '–'}",
        )
        note = f'<div class="kpi-note">{html_text(row["note"])}</div>' if row["note"] else ""
        applicable = row.get("applicable") is not False
        word = status_word(row["status"], row["value"], row["target"], partial=bool(row.get("partial")), applicable=applicable)
        title = html_text(metric.label)
        if metric.name in hrefs:
            title = f'<a href="{html_text(hrefs[metric.name])}" target="_self">{title}</a>'
        parts.append(
            f'<section class="kpi-tile" aria-label="{html_text(metric.label)}">'
            f'<h3>{title}</h3>'
            f'<div class="kpi-row"><span class="kpi-value">{number(row["value"], metric) if applicable else "n/a"}</span>{status_badge(row["status"], word)}</div>'
            f'<dl class="kpi-meta">'
            f'<dt>On last week</dt><dd>{change_judged(row["change_on_last_week"], metric)}</dd> '
            f'<dt>On a year ago</dt><dd>{change_judged(row["change_on_last_year"], metric)}</dd> '
            f'<dt>Target</dt><dd>{number(row["target"], metric)}</dd></dl>'
            f'<div class="kpi-spark">{spark}</div>{note}</section>'
        )
    parts.append("</div>")
    st.markdown("".join(parts), unsafe_allow_html=True)


# Streamlit's own page furniture has one accessibility fault that axe-core rates serious
# and no option turns off (still so in 1.67): the navigation's <ul> holds its section
# headers as <div>s, so its <li>s are not in a list. This script, run once per browser
# tab, mends it as Streamlit draws it (a MutationObserver), without changing what it
# does. (1.50's other faults, mended here before, are gone in 1.67: aria-expanded on the
# sidebar's <section> and on the wrappers of the main menu and of a table's toolbar menus,
# the main menu's unnamed button, a select box's aria-activedescendant left pointing at
# an option of its closed list.)
_MEND_SCRIPT = """
(function () {
  const doc = document;
  if (window.__kpiMended) return;
  window.__kpiMended = true;
  function mend() {
    doc.querySelectorAll('[data-testid="stSidebarNavItems"]').forEach(function (list) {
      const sections = Array.prototype.filter.call(list.children, function (child) { return child.tagName !== 'LI'; });
      if (!sections.length) return;
      list.setAttribute('role', 'none');
      sections.forEach(function (section, index) {
        section.setAttribute('role', 'list');
        const header = section.querySelector('[data-testid="stNavSectionHeader"]');
        if (header) {
          if (!header.id) header.id = 'kpi-nav-section-' + index;
          header.setAttribute('role', 'presentation');
          section.setAttribute('aria-labelledby', header.id);
        }
      });
    });
  }
  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; mend(); });
  }
  mend();
  new window.MutationObserver(schedule).observe(doc.body, {subtree: true, childList: true});
})();
"""


def mend_streamlit_accessibility() -> None:
    """Put the script above in the sidebar, beside the navigation it mends (called by
    state.open_or_stop, so every page has it); st.html runs it in the page itself, not in
    a frame. (The public page has no navigation and needs none of it.)"""
    st.sidebar.html(f"<script>{_MEND_SCRIPT}</script>", unsafe_allow_javascript=True)


WHAT_IS_MISSING = {
    "cases": "cases",
    "contacts": "calls or visits",
    "feedback": "satisfaction ratings",
    "journeys": "online journeys",
    "costs": "costs",
}


def missing_data(missing: list[str], affects: str, *, stop: bool = False) -> None:
    """Say plainly which kinds of data this database lacks and what that leaves blank."""
    if not missing:
        return
    kinds = [WHAT_IS_MISSING.get(table, table) for table in missing]
    listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
    st.info(
        f"This database has no {listed}, so {affects}. To add them, import an export with "
        "`python -m data import FILE --mapping NAME` (see the README's \"Importing your own exports\").",
        icon=":material/info:",
    )
    if stop:
        st.stop()
