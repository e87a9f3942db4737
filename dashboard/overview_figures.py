"""Tables and sentences of the weekly scorecard page: pure functions of the scorecard's
frames (the tiles themselves are components.tiles)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

import polars as pl

from anomalies import links
from dashboard.badges import status_badge
from dashboard.text import html_text
from metrics.backlog import clear_words, needed_words, projection
from metrics.breaches import breach_sentence
from metrics.formatting import change_judged, gap, number
from metrics.periods import parse_week, week_label
from metrics.registry import METRICS
from metrics.report_periods import MONTHS, ReportPeriod, Span
from metrics.scorecard import UNKNOWN_SCOPE, YEAR_WEEKS, Scorecard
from metrics.status import status_word
from metrics.where import Where

RANKED = 5  # measures listed furthest above and below target


def ranked(rows: pl.DataFrame, kpis: list[str], limit: int = RANKED) -> str:
    """The first ``limit`` of ``kpis`` as a Markdown list: value and how far from its
    target in words ('79.7%, 0.3 points below the 80.0% target'; the lists are split by
    the unrounded score, so a score shown 1.00 can be below target: the words say so)."""
    by_kpi = {row["kpi"]: row for row in rows.iter_rows(named=True)}
    lines = []
    for kpi in kpis[:limit]:
        row = by_kpi[kpi]
        distance = gap(row["value"], row["target"], kpi) if row["value"] != row["target"] else f"on the {number(row['target'], kpi)} target"
        lines.append(f"- {METRICS[kpi].label}: {number(row['value'], kpi)}, {distance}")
    return "\n".join(lines) if lines else "- none"


def composite_badge_word(entry: dict) -> str | None:
    """The composite's badge word: with measures below target it says how many, so an
    average on target never reads "On target" next to measures far off it."""
    if entry["score"] is None or entry["partial"] or not entry["below"]:
        return None
    return f"{len(entry['below'])} of {entry['metrics_scored']} below target"


def composite_caption(entry: dict, rows: pl.DataFrame) -> str:
    """The rule and the worst measure under the composite score."""
    text = "1.00 means on target on average. Green only when no measure is off target."
    if entry["worst"] and not entry["partial"]:
        row = rows.filter(pl.col("kpi") == entry["worst"]).row(0, named=True)
        text += f" Furthest below: {METRICS[row['kpi']].label}, {number(row['value'], row['kpi'])}, {gap(row['value'], row['target'], row['kpi'])}."
    return text


WEEK_HEADINGS = {"value": "This week", "change": "On last week", "last_week": "Last week", "same_week_last_year": "Same week last year"}


def scorecard_table(rows: pl.DataFrame, headings: dict[str, str] | None = None) -> pl.DataFrame:
    """The scorecard as a person reads it: every number in its unit ('1,284', '59.2%',
    '£60.13'), '–' for none, the change judged in words, status in words, labels not ids
    (the CSV download keeps ids and raw numbers: ``Scorecard.long``). ``headings`` name
    the value and comparison columns (the week's by default; ``period_headings``)."""
    named = headings or WEEK_HEADINGS
    lines = []
    for row in rows.iter_rows(named=True):
        metric = METRICS[row["kpi"]]
        applicable = row.get("applicable") is not False
        line = {"Measure": metric.label, named["value"]: number(row["value"], metric) if applicable else "n/a",
                named["change"]: change_judged(row["change_on_last_week"] if "last_week" in named else row["change_on_last_year"], metric)}
        if "last_week" in named:  # the financial year to date has no previous period
            line[named["last_week"]] = number(row["last_week"], metric) if applicable else "n/a"
        line |= {
            named["same_week_last_year"]: number(row["same_week_last_year"], metric) if applicable else "n/a",
            "Target": number(row["target"], metric),
            "Status": status_word(row["status"], row["value"], row["target"], partial=bool(row["partial"]), applicable=applicable),
            "Observations": "–" if row["n"] is None else f"{row['n']:,}",
            "Note": row["note"] or "",
        }
        lines.append(line)
    columns = ["Measure", *[named[key] for key in ("value", "change", "last_week", "same_week_last_year") if named.get(key)],
               "Target", "Status", "Observations", "Note"]
    return pl.DataFrame(lines, schema={key: pl.String for key in columns}) if lines else pl.DataFrame(schema={key: pl.String for key in columns})


def period_headings(period: ReportPeriod) -> dict[str, str]:
    """The table's headings for a month, quarter or financial year to date: each column
    named by its span ('November 2026', 'On October 2026'; '... to 3 Dec' when to date)."""
    def named(span: Span) -> str:
        return f"{span.label} to {span.last_day.day} {span.last_day:%b}" if period.partial else span.label

    headings = {"value": named(period.this), "same_week_last_year": named(period.last_year)}
    if period.previous is not None:
        headings |= {"change": f"On {named(period.previous)}", "last_week": named(period.previous)}
    else:
        headings |= {"change": f"On {named(period.last_year)}"}
    return headings


def period_summary(card: Scorecard, period: ReportPeriod) -> str:
    """One sentence: how many measures are below target over the period and the furthest."""
    composite = card.composite.row(0, named=True) if card.composite.height else None
    judged = card.rows.filter(pl.col("score").is_not_null())
    heading = period.heading()
    if composite is None or not judged.height:
        return f"{heading}: no measure has both a figure and a target."
    below = composite["below"]
    if not below:
        return f"{heading}: all {judged.height} measures with a target are on target."
    worst = card.rows.filter(pl.col("kpi") == below[0]).row(0, named=True)
    metric = METRICS[worst["kpi"]]
    return (f"{heading}: {len(below)} of {judged.height} measures with a target are below it; furthest below, "
            f"{metric.label} {number(worst['value'], metric)} against {number(worst['target'], metric)}.")


PERIOD_NOTE = (
    "Each figure is computed over the whole period from every case, call and rating in it (a rate from its own "
    "numerator and denominator, never an average of weeks; the backlog on its last day). A period not yet over is "
    "compared over the same number of days of the previous period and of the same period last year. The financial "
    "year starts in {month} (financial_year_start in metrics/targets.toml); its previous period is the same span "
    "last year, so it has one comparison."
)


def period_csv(card: Scorecard, period: ReportPeriod) -> pl.DataFrame:
    """The period's scorecard for the CSV download: raw numbers, spans, status codes, ids."""
    previous = period.previous
    return card.rows.select(
        pl.lit(period.kind).alias("period_kind"), pl.lit(period.label).alias("period"),
        pl.lit(period.this.first_day).alias("first_day"), pl.lit(period.this.last_day).alias("last_day"),
        pl.lit(period.partial).alias("to_date"), pl.col("label").alias("Measure"), "value",
        pl.lit(previous.label if previous else None, dtype=pl.String).alias("previous_period"),
        pl.col("last_week").alias("previous_value"),
        pl.lit(period.last_year.label).alias("same_period_last_year"), pl.col("same_week_last_year").alias("last_year_value"),
        "target", pl.col("status").alias("Status"), pl.col("n").alias("Observations"), pl.col("note").alias("Note"),
        pl.col("kpi").alias("KPI"),
    )


def period_caption(period: ReportPeriod) -> str | None:
    """Says a period is shown to the chosen week's end (or the last day of data) and so
    compared over the same days; None for a whole period."""
    if not period.partial:
        return None
    to = f"{period.this.last_day:%a} {period.this.last_day.day} {period.this.last_day:%b %Y}"
    if period.kind == "fytd":
        return f"{period.label} to {to}, the end of the week chosen, against {period.last_year.label} over the same days."
    previous = period.previous.label if period.previous else period.last_year.label
    return (f"{period.label} to {to}, the end of the week chosen (or the last day of data), against {previous} and "
            f"{period.last_year.label} over the same days.")


def period_note(financial_year_start: int) -> str:
    return PERIOD_NOTE.format(month=MONTHS[financial_year_start - 1])


def scorecard_csv(rows: pl.DataFrame) -> pl.DataFrame:
    """The scorecard for the CSV download: raw numbers, status codes and KPI ids."""
    return rows.select(
        pl.col("label").alias("Measure"), "value", "last_week", "same_week_last_year", "target",
        pl.col("status").alias("Status"), pl.col("n").alias("Observations"), pl.col("note").alias("Note"), pl.col("kpi").alias("KPI"),
    )


def sparkline_table(history: pl.DataFrame) -> pl.DataFrame:
    """The sparklines' numbers as a person reads them: one row per measure, one column
    per week, each in the measure's unit ('–' for none)."""
    shown = history.with_columns(
        pl.struct("kpi", "value").map_elements(lambda cell: number(cell["value"], cell["kpi"]), return_dtype=pl.String).alias("shown"),
        pl.col("kpi").replace_strict({k: m.label for k, m in METRICS.items()}).alias("Measure"),
    )
    return shown.pivot(on="period", index="Measure", values="shown", maintain_order=True).fill_null("–")


def sparkline_csv(history: pl.DataFrame) -> pl.DataFrame:
    """The sparklines' numbers for the CSV download: ids and raw values, long."""
    return history.select("scope", "kpi", "period", "period_start", "value", "n")


def rules_caption(card: Scorecard, week: str) -> str | None:
    """The rows each rule left out in the weeks the comparisons read, and the targets'
    version; None when no rule left anything out."""
    counts = card.rule_counts
    if not counts:
        return None
    return (
        f"Left out by rule in the {YEAR_WEEKS + 1} weeks the comparisons read ({week_label(parse_week(week) - timedelta(weeks=YEAR_WEEKS))} "
        f"to {week}): "
        + "; ".join(f"{name.replace('_', ' ')}: {count:,} rows" for name, count in counts.items())
        + f". Targets: metrics/targets.toml version {card.targets_version}."
    )


# ---------------------------------------------------------------------- links and the where-matrix

UNKNOWN = UNKNOWN_SCOPE  # a child not recorded (contacts to a shared line)
CHILD_WORDS = {"department_id": ("Department", "departments"), "service_id": ("Service", "services"), "office_id": ("Office", "offices")}


def page_href(page: str, params: dict[str, str | None]) -> str:
    """A link to another page of the dashboard, relative to this one (so that it works
    under a base path); page paths and parameter names are anomalies.links'."""
    query = urlencode({key: value for key, value in params.items() if value})
    return links.PAGES[page] + (f"?{query}" if query else "")


def scope_params(department: str | None, service: str | None, office: str | None = None) -> dict[str, str | None]:
    """The URL filters of a scope (None for a level not chosen)."""
    return {links.DEPARTMENT: department, links.SERVICE: service, links.OFFICE: office}


def child_params(dimension: str, child: str, department: str | None, service: str | None) -> dict[str, str | None]:
    """The URL filters of one child of the scope: the scope's own and the child's level."""
    if dimension == "department_id":
        return scope_params(child, None)
    if dimension == "service_id":
        return scope_params(department, child)
    return scope_params(department, service, child)


def drilldown_href(kpi: str, week: str, filters: dict[str, str | None]) -> str:
    """The drill-down at a KPI, a scope and an ISO week."""
    return page_href("drilldown", {links.KPI: kpi, **filters, links.WEEK: week})


def tile_hrefs(rows: pl.DataFrame, week: str, department: str | None, service: str | None) -> dict[str, str]:
    """Each tile's link: the drill-down at its KPI, the scorecard's scope and week."""
    return {kpi: drilldown_href(kpi, week, scope_params(department, service)) for kpi in rows["kpi"]}


def child_name(names: dict[str, str], child: str, dimension: str) -> str:
    if child == UNKNOWN:
        return {"department_id": "No department recorded", "office_id": "No office recorded"}.get(dimension, "Not recorded")
    return names.get(child, child)


MATRIX_CSS = """
<style>
.wm-scroll{overflow-x:auto;margin:4px 0 6px;border:1px solid rgba(128,128,128,.35);border-radius:8px}
.wm-scroll:focus-visible{outline:2px solid #1A73E8;outline-offset:2px}
table.wm{border-collapse:collapse;width:100%;font-size:.85rem;font-variant-numeric:tabular-nums}
table.wm caption{caption-side:top;text-align:left;padding:8px 10px;font-size:.85rem;font-weight:600}
.wm-rule{font-size:.85rem;margin:0 0 4px}
table.wm th,table.wm td{border-top:1px solid rgba(128,128,128,.25);padding:5px 6px;vertical-align:top}
table.wm thead th{text-align:left;font-weight:600;vertical-align:bottom;min-width:6.2rem}
table.wm thead th .wm-rank{display:block;font-weight:400;font-size:.78rem;opacity:.85}
table.wm tbody th{text-align:left;font-weight:600;min-width:9.5rem}
table.wm tbody th .wm-target{display:block;font-weight:400;font-size:.78rem;opacity:.85}
table.wm td.wm-scope{background:rgba(128,128,128,.08)}
table.wm td a{color:inherit;text-decoration:none;display:block}
table.wm td a:hover .wm-v,table.wm td a:focus .wm-v{text-decoration:underline}
table.wm .wm-v{display:block;font-weight:600;text-align:right}
table.wm .wm-b{display:block;text-align:right;margin-top:2px}
table.wm .kpi-badge{font-size:.72rem;padding:0 7px}
table.wm .wm-none{font-size:.74rem;opacity:.85}
table.wm .wm-t{display:block;text-align:right;font-size:.74rem;opacity:.85}
table.wm a.wm-head{color:inherit}
</style>
"""


def _cell(row: dict, href: str | None, scope_target: float | None) -> str:
    metric = METRICS[row["kpi"]]
    applicable = row.get("applicable", True) is not False
    value = number(row["value"], metric) if applicable else "n/a"
    word = status_word(row["status"], row["value"], row["target"], partial=bool(row["partial"]), applicable=applicable)
    own_target = ""
    if applicable and row["target"] is not None and row["target"] != scope_target:
        own_target = f'<span class="wm-t">target {number(row["target"], metric)}</span>'
    judged = row["status"] != "grey" or not applicable
    if not judged and not row["n"] and row["value"] is None:
        word = "No data"  # nothing recorded there (a shared line has no cases), not too few
    badge = status_badge(row["status"], word) if judged else f'<span class="wm-none">{html_text(word)}</span>'
    inner = f'<span class="wm-v">{value}</span><span class="wm-b">{badge}</span>{own_target}'
    return f'<a href="{html_text(href)}" target="_self">{inner}</a>' if href else inner


def matrix_html(where: Where, names: dict[str, str], scope_label: str, scope_rows: pl.DataFrame, department: str | None, service: str | None) -> str:
    """The where-matrix as one accessible HTML table: a row per KPI (its label and the
    scope's target as the row header), the scope itself, then a column per child, worst
    first; each cell the value and its status by icon, word and colour, a link into the
    drill-down at that KPI, that child and the week."""
    singular, plural = CHILD_WORDS[where.dimension]
    scope_of = {row["kpi"]: row for row in scope_rows.iter_rows(named=True)}
    ranking = where.ranking.iter_rows(named=True)
    heads = ['<th scope="col">Measure</th>', f'<th scope="col">{html_text(scope_label)}<span class="wm-rank">the whole scope</span></th>']
    for rank, entry in enumerate(ranking, start=1):
        child = entry["scope"]
        name = html_text(child_name(names, child, where.dimension))
        if where.dimension != "office_id" and child != UNKNOWN:
            name = f'<a href="{html_text(page_href("overview", {**child_params(where.dimension, child, department, service), links.WEEK: where.week}))}" target="_self" class="wm-head">{name}</a>'
        off = "not judged" if where.partial else f"{entry['red']} off target"
        heads.append(f'<th scope="col">{rank}. {name}<span class="wm-rank">{off}</span></th>')
    body = []
    cells = {(row["scope"], row["kpi"]): row for row in where.cells.iter_rows(named=True)}
    for kpi in where.kpis:
        metric = METRICS[kpi]
        own = scope_of.get(kpi)
        target = own["target"] if own else None
        line = [f'<th scope="row">{html_text(metric.label)}<span class="wm-target">target {number(target, metric)}</span></th>']
        line.append(f'<td class="wm-scope">{_cell(own, drilldown_href(kpi, where.week, scope_params(department, service)), target)}</td>' if own else "<td>–</td>")
        for child in where.order:
            row = cells.get((child, kpi))
            if row is None:
                line.append("<td>–</td>")
                continue
            href = None if child == UNKNOWN else drilldown_href(kpi, where.week, child_params(where.dimension, child, department, service))
            line.append(f"<td>{_cell(row, href, target)}</td>")
        body.append("<tr>" + "".join(line) + "</tr>")
    whose = f"The {plural}" if where.dimension == "department_id" else f"The {plural} of {html_text(scope_label)}"
    rule = (
        "Columns are ordered worst first: most measures off target, then the largest miss as a share of its target, "
        f"then most near target. Each value links to the drill-down of that measure for that {singular.lower()} and week."
    )
    return (
        MATRIX_CSS
        + f'<p class="wm-rule">{rule}</p>'
        + f'<div class="wm-scroll" role="region" aria-label="Where: {whose.lower()} against the measures" tabindex="0"><table class="wm">'
        + f"<caption>{whose} against the measures, {where.week}</caption>"
        + f'<thead><tr>{"".join(heads)}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def matrix_table(where: Where, names: dict[str, str]) -> pl.DataFrame:
    """The where-matrix's cells for the CSV download: ids kept, raw numbers, the order."""
    rank = {child: i for i, child in enumerate(where.order, start=1)}
    return (
        where.cells.filter(pl.col("kpi").is_in(where.kpis))
        .with_columns(
            pl.col("scope").replace_strict(rank, return_dtype=pl.Int64).alias("rank"),
            pl.col("scope").map_elements(lambda child: child_name(names, child, where.dimension), return_dtype=pl.String).alias("name"),
        )
        .select("rank", pl.col("scope").alias(where.dimension), "name", "kpi", "label", "value", "target", "status", "miss", "n", "note")
        .sort("rank", maintain_order=True)
    )


# ---------------------------------------------------------------------- what it will take


BACKLOG_NOTE = (
    "A backlog is never zero while cases keep coming: the cases in progress are part of it. Give a scope a backlog target "
    "in metrics/targets.toml and the closing rate that brings the backlog down to it is given too."
)


def backlog_lines(card: Scorecard, by: date) -> list[str]:
    """The backlog projection of the scorecard's scope in sentences: weeks to clear at
    the last four weeks' net flow, and the closing rate that clears it by ``by`` (and
    brings it to its target, when it has one)."""
    if card.partial:
        return [f"{card.week} is not over yet: pick a complete week to project its backlog from."]
    p = projection(card.history, card.week)
    if p is None:
        return ["No backlog figure this week to project."]
    lines = [clear_words(p), needed_words(p, by)]
    target = card.rows.filter(pl.col("kpi") == "backlog")["target"]
    if target.len() and target[0] is not None and p.backlog > target[0]:
        lines.append(needed_words(p, by, down_to=target[0]))
    return lines


def projection_table(where: Where, names: dict[str, str], by: date) -> pl.DataFrame:
    """Each child's backlog projection, as a person reads it: growing backlogs first,
    then the longest to clear."""
    singular, _plural = CHILD_WORDS[where.dimension]
    lines = []
    for child in where.history["scope"].unique().sort().to_list():
        p = projection(where.history, where.week, scope=child)
        if p is None or child == UNKNOWN:
            continue
        needed = p.closing_needed(by)
        weeks = p.weeks_to_clear
        lines.append({
            singular: child_name(names, child, where.dimension),
            "Backlog": f"{p.backlog:,.0f}",
            f"Net flow a week (last {p.weeks})": ("+" if p.net_flow_per_week > 0 else "−" if p.net_flow_per_week < 0 else "±") + f"{abs(p.net_flow_per_week):,.0f}",
            "Weeks to clear": ("growing: never" if p.net_flow_per_week > 0 else "never at this rate") if weeks is None else f"{weeks:,.1f}",
            "Closed a week now": f"{p.closed_per_week:,.0f}",
            f"Needed a week by {by:%d %b %Y}": "–" if needed is None else f"{needed:,.0f}",
            "_order": (0 if weeks is None else 1, -(weeks or 0.0), -p.net_flow_per_week),
        })
    lines.sort(key=lambda line: line["_order"])
    return pl.DataFrame([{k: v for k, v in line.items() if k != "_order"} for line in lines])


def breaches_in_view(card: Scorecard, where: Where, scope_name: str, names: dict[str, str]) -> pl.DataFrame:
    """The scope's own current breaches, then its children's (each longest first), with
    the name of where each is (``where_name``)."""
    own = card.current_breaches().with_columns(pl.lit(scope_name).alias("where_name"))
    children = where.breaches.filter(pl.col("scope") != UNKNOWN).with_columns(
        pl.col("scope").map_elements(lambda child: child_name(names, child, where.dimension), return_dtype=pl.String).alias("where_name"),
    )
    return pl.concat([own, children], how="vertical_relaxed")


def breach_lines(breaches: pl.DataFrame, week: str, limit: int = 6) -> list[str]:
    """The sustained breaches in sentences (metrics.breaches.breach_sentence), the ones still
    going first; the rest are in the table."""
    if breaches.height == 0:
        return []
    going = breaches.filter(pl.col("ongoing"))
    lines = [breach_sentence(row, row["where_name"], week=week) for row in going.head(limit).iter_rows(named=True)]
    if going.height > limit:
        lines.append(f"And {going.height - limit:,} more still going: see the table.")
    ended = breaches.filter(~pl.col("ongoing"))
    lines += [breach_sentence(row, row["where_name"]) for row in ended.head(limit).iter_rows(named=True)]
    return lines


def breach_table(breaches: pl.DataFrame) -> pl.DataFrame:
    """Every breach shown, as a person reads it (values in their units, state in words)."""
    return pl.DataFrame(
        [
            {
                "Where": row["where_name"],
                "Measure": row["label"],
                "State": "Still below target" if row["ongoing"] else f"Back on target in {row['ended_week']}",
                "Since": row["start_week"] + (" or earlier" if row["from_window_start"] else ""),
                "Weeks below": f"{row['weeks']:,}",
                "Worst": f"{number(row['worst_value'], row['kpi'])} in {row['worst_week']}",
                "Target": number(row["target"], row["kpi"]),
                "Last figure below": row["last_below_week"],
            }
            for row in breaches.iter_rows(named=True)
        ],
        schema=["Where", "Measure", "State", "Since", "Weeks below", "Worst", "Target", "Last figure below"],
    )


def breach_csv(breaches: pl.DataFrame) -> pl.DataFrame:
    """The breaches for a download: ids and raw numbers."""
    return breaches.select(
        pl.col("scope"), "kpi", "start_week", "last_below_week", "weeks", "worst_value", "worst_week", "target", "ongoing", "ended_week",
        "from_window_start",
    )


BREACH_NOTE = (
    "A sustained breach: a measure below its target (near target counts) for {weeks} complete weeks or more in a row. "
    "It lasts until a week back on target; a week with no figure neither lengthens nor ends it. "
    "Anomalies, by contrast, are surprises against a measure's own recent weeks, so a failure that lasts stops being one."
)


def breach_headline(breaches: pl.DataFrame, week: str) -> list[str]:
    """One line for the summary at the top: how many breaches are going, and the longest."""
    going = breaches.filter(pl.col("ongoing"))
    if going.height == 0:
        return []
    longest = going.sort(["weeks", "where_name", "kpi"], descending=[True, False, False]).row(0, named=True)
    count = f"{going.height:,} measure{'s' if going.height != 1 else ''} below target for weeks on end"
    return [f"{count}; the longest: {breach_sentence(longest, longest['where_name'], week=week)}"]
