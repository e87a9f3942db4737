"""What the drill-down page loads and remembers: its path in the URL, cached figures from the
metric engine, the individual values behind its distributions, and the rows behind a
number from the SQL extracts, and the View the sections lay out. Caching lives here (and
in state.py), never in the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
import streamlit as st

from anomalies import links
from dashboard import anomalies_data, downloads, overview_data, params, state
from dashboard.drilldown_figures import on_screen
from dashboard.text import plain
from data import notes
from data.fact_frames import Facts
from metrics import drilldown as drill
from metrics.engine import compute
from metrics.registry import METRICS, Metric
from metrics.targets import Targets

PAGE_SIZE = 50
MAX_PAGE = 1_000_000  # ?page= above this is clamped (a 50-million-row offset is past any table here)
DOWNLOAD_CAP = 50_000  # rows in one CSV or Excel file
URL_KEYS = links.SCOPE_PARAMS  # the scope's URL parameters, as notifications' links write them
WeekValues = pl.DataFrame  # the engine's long values of one KPI by week (period, period_start, value, n, note…)
FACTS_WEEKS = 52  # facts are loaded a year back, as the overview loads them: one shared cache entry


# ---------------------------------------------------------------------- the path in the URL


def scope(context: state.Context) -> drill.Scope:
    """The scope named in the URL, limited to what the viewer may see: a value outside it
    is said to be "not yours or not found" and taken out of the URL."""
    values = {key: st.query_params.get(key) for key in URL_KEYS.values()}
    where = drill.scope_from(
        values, departments=context.departments, services=context.services, offices=context.offices["office_id"].to_list()
    )
    for level, key in URL_KEYS.items():
        if values[key] and getattr(where, level) is None:
            params.not_yours(key, values[key])
            del st.query_params[key]
    return where


def go_to(target: drill.Scope) -> None:
    """Move the page to ``target``: the URL holds the path, the table starts at page 1."""
    for level, key in URL_KEYS.items():
        value = getattr(target, level)
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = value
    first_page()


def first_page() -> None:
    if "page" in st.query_params:
        del st.query_params["page"]
    st.session_state.pop("param-page", None)


def keep_page_for(cell: tuple) -> None:
    """A new cell starts at the first page of its rows; a shared link keeps its page."""
    previous = st.session_state.get("drill-cell")
    if previous is not None and previous != cell:
        first_page()
    st.session_state["drill-cell"] = cell


def requested_page() -> int:
    """?page= from the URL (a page past the end is handled where the rows are read)."""
    return params.whole_number("page", 1, min_value=1, max_value=MAX_PAGE)


def pin(key: str, value: str) -> None:
    """Keep ``value`` in the URL even when it is the default: a link to the rows behind
    a number must still show the same week after the next week's data arrives."""
    if st.query_params.get(key) != value:
        st.query_params[key] = value


def url_flag(key: str) -> bool:
    return st.query_params.get(key) == "1"


def set_url_flag(key: str, on: bool) -> None:
    if on:
        st.query_params[key] = "1"
    elif key in st.query_params:
        del st.query_params[key]


def name_of(context: state.Context, level: str, value: str | None) -> str:
    if level == drill.WEEK:
        return value or ""
    return context.name_of(level, value)


def crumbs(context: state.Context, where: drill.Scope, week: str) -> list[tuple[str, str]]:
    """Breadcrumbs: all departments, each level chosen, and the week (where we are)."""
    path = [("All departments", "all")]
    path += [(name_of(context, level, value), level) for level, value in where.chosen().items()]
    path.append((f"Week {week}", drill.WEEK))
    return path


def scope_words(context: state.Context, where: drill.Scope) -> str:
    """'Passport application at Leeds Service Centre, phone channel', or 'all departments'."""
    chosen = where.chosen()
    if not chosen:
        return "all departments"
    parts = []
    if where.service_id:
        parts.append(context.name_of("service_id", where.service_id))
    elif where.department_id:
        parts.append(context.name_of("department_id", where.department_id))
    else:
        parts.append("all departments")
    if where.office_id:
        parts.append(f"at {context.name_of('office_id', where.office_id)}")
    if where.channel:
        parts[-1] += ","
        parts.append(f"{context.name_of('channel', where.channel).lower()} channel")
    return " ".join(parts)


@dataclass(frozen=True)
class View:
    """What the page shows: a measure in one cell (scope and week) and its window."""

    context: state.Context
    metric: Metric
    where: drill.Scope
    week: str
    latest: str  # the last complete week
    weeks: int  # shown in the trend
    targets: Targets
    facts: Facts
    facts_key: tuple

    @property
    def words(self) -> str:
        """The scope in words, as Markdown (names escaped: they came from a file)."""
        return plain(self.words_text)

    @property
    def words_text(self) -> str:
        """The scope in words, as plain text (for charts, sentences and file names)."""
        return scope_words(self.context, self.where)

    @property
    def window(self) -> tuple[date, date]:
        return drill.window(self.week, self.latest, self.weeks)

    @property
    def days(self) -> tuple[date, date]:
        return drill.week_days(self.week)

    @property
    def narrowing(self) -> tuple:
        return tuple(self.where.chosen().items())

    @property
    def target(self) -> float | None:
        where = self.where
        return self.targets.for_scope(self.metric.name, department_id=where.department_id, service_id=where.service_id, office_id=where.office_id)[0]

    @property
    def partial(self) -> bool:
        return self.context.as_of is not None and self.days[1] > self.context.as_of

    def values(self, by: tuple[str, ...]) -> pl.DataFrame:
        """The engine's values of the measure in the scope over the window, at ``by``."""
        first_day, last_day = self.window
        return kpi_values(self.facts, self.facts_key, self.narrowing, self.metric.name, by, first_day, last_day)


    def peer_values(self, level: str) -> pl.DataFrame:
        """The members of ``level`` in the chosen week (the engine's values), without the
        services the measure does not apply to (``not_applicable_peers`` names them)."""
        values = self.values(("week", level)).filter(pl.col("period") == self.week)
        return drill.applicable_peers(values, self.metric, level, offline_services(self.context))[0]

    def not_applicable_peers(self, level: str) -> list[str]:
        """The names of the services of the scope the measure does not apply to."""
        values = self.values(("week", level)).filter(pl.col("period") == self.week)
        return [self.context.name_of(level, member) for member in drill.applicable_peers(values, self.metric, level, offline_services(self.context))[1]]

    def cell(self, series: pl.DataFrame) -> dict:
        """The engine's row for the chosen week."""
        return series.filter(pl.col("period") == self.week).row(0, named=True)

    def week_before(self, series: pl.DataFrame) -> float | None:
        """The value of the week before the chosen one, if it is in the window."""
        before = series.filter(pl.col("period_start") == self.days[0] - timedelta(weeks=1))["value"].to_list()
        return before[0] if before else None


def offline_services(context: state.Context) -> frozenset[str]:
    """The services with no online channel (services.digital false)."""
    return frozenset(overview_data.offline_services(context))


def no_observations(series: pl.DataFrame) -> bool:
    """No week of the window has an observation (nothing to draw a trend or peers from)."""
    return series["n"].fill_null(0).sum() == 0


def fetch_rows(
    view: View, page: int, *, with_left_out: bool, limit: int = PAGE_SIZE, order: str | None = None, states: tuple[str, ...] = (),
) -> pl.DataFrame:
    """A page of the rows behind the view's number (``limit`` rows from page ``page``), in
    ``order`` (the metric's default: the ones that make it bad first), only the cases in
    ``states`` when some are given; ordered and filtered by the database over every row."""
    query = drill.rows_query(
        view.metric, view.where, view.context.departments, *view.days, timezone=view.facts.timezone,
        limit=limit, offset=(page - 1) * PAGE_SIZE, with_left_out=with_left_out, order=order, triage=states,
    )
    return rows(view.context, query)


# ---------------------------------------------------------------------- figures from the engine


def facts_for(context: state.Context, last_day: date) -> tuple[Facts, tuple]:
    """The facts of every department the viewer may see, a year back from ``last_day``
    (as the overview loads them for all departments: one shared cache entry), and the key
    that names them in the caches below. A department is narrowed in memory, so walking
    down and up never reloads facts."""
    end_monday = last_day - timedelta(days=6)
    first = end_monday - timedelta(weeks=FACTS_WEEKS)
    loaded = state.scoped_facts(context, state.ALL, first, last_day)
    return loaded, (str(context.engine.url), context.departments, first, last_day)


@st.cache_data(ttl=state.CACHE_SECONDS, max_entries=256, show_spinner=False)
def kpi_values(_facts: Facts, facts_key: tuple, narrowing: tuple, kpi: str, by: tuple[str, ...], first_day: date, last_day: date) -> pl.DataFrame:
    """The engine's long values of one KPI in the scope (``narrowing``: its choices of
    department, service, office and channel) at the grain ``by``."""
    narrowed = _facts.where(**dict(narrowing)) if narrowing else _facts
    return compute(narrowed, [kpi], by=list(by), first_day=first_day, last_day=last_day).values


@st.cache_data(ttl=state.CACHE_SECONDS, max_entries=64, show_spinner=False)
def cell_values(_facts: Facts, facts_key: tuple, narrowing: tuple, first_day: date, last_day: date) -> dict[str, pl.Series]:
    """The individual processing times and waits of one cell (see metrics.drilldown)."""
    narrowed = _facts.where(**dict(narrowing)) if narrowing else _facts
    return drill.cell_values(narrowed, first_day, last_day)


# ---------------------------------------------------------------------- notes on the record


NOTE_CHARACTERS, NoteError = notes.NOTE_CHARACTERS, notes.NoteError


def today() -> date:
    """Today (UTC), the latest day a note may be about."""
    return datetime.now(UTC).date()


RECORD_WORDS = {"note": "Note", "acknowledged": "Anomaly acknowledged", "known": "Anomaly marked as known"}


def trend_notes(view: View) -> pl.DataFrame:
    """The notes on this measure (and on every measure) of exactly this scope, dated in the
    trend's window (read each run, not cached: a note just added shows at once)."""
    first_day, last_day = view.window
    return notes.notes(view.context.engine, list(view.context.departments), kpi=view.metric.name,
                       first_day=first_day, last_day=last_day, **view.where.chosen())


def flag_scope(where: drill.Scope) -> tuple[str, str] | None:
    """The anomaly flags' (scope_kind, scope_id) for a drill-down scope, when the flags
    have one: all departments, a department, a service (of its department), an office or
    a channel on its own; None for a combination (a service at an office), which the
    detector does not watch."""
    chosen = where.chosen()
    if not chosen:
        return "total", "all"
    if set(chosen) == {"department_id"}:
        return "department", chosen["department_id"]
    if set(chosen) == {"department_id", "service_id"}:
        return "service", chosen["service_id"]
    if len(chosen) == 1:
        level, member = next(iter(chosen.items()))
        return level.removesuffix("_id"), member
    return None


def scope_record(view: View) -> pl.DataFrame:
    """What is on the record for the scope, every measure, newest first: its notes and
    the anomalies of the scope someone acknowledged or marked as known, as one table a
    person reads (day, measure, what, the words, who, when written)."""
    context = view.context
    written = notes.notes(context.engine, list(context.departments), kpi=None, first_day=notes.EARLIEST,
                          last_day=date.max, **view.where.chosen())
    label = {name: metric.label for name, metric in METRICS.items()}
    parts = [written.select(
        pl.col("noted_on").alias("Day"),
        pl.when(pl.col("kpi").is_null()).then(pl.lit("Every measure")).otherwise(pl.col("kpi").replace(label)).alias("Measure"),
        pl.lit(RECORD_WORDS["note"]).alias("What"), pl.col("note").alias("Words"), pl.col("written_by").alias("By"),
        pl.col("written_at").alias("Written (UTC)"),
    )]
    scope = flag_scope(view.where)
    if scope is not None:
        flags = anomalies_data.stored_flags(context.engine, str(context.engine.url), context.departments)
        acked = flags.filter((pl.col("scope_kind") == scope[0]) & (pl.col("scope_id") == scope[1])
                             & pl.col("status").is_in(["acknowledged", "known"]))
        parts.append(acked.select(
            pl.col("first_day").alias("Day"),
            pl.col("kpi").replace_strict(label, default=None, return_dtype=pl.String).fill_null(pl.col("kpi")).alias("Measure"),
            pl.col("status").replace_strict(RECORD_WORDS, return_dtype=pl.String).alias("What"),
            pl.col("note").fill_null("").alias("Words"), pl.col("acked_by").alias("By"),
            pl.col("acked_at").alias("Written (UTC)"),
        ))
    return pl.concat(parts, how="vertical_relaxed").sort(["Day", "Written (UTC)"], descending=True)


def add_note(view: View, *, noted_on: date, words: str, every_measure: bool) -> int:
    """Record a note on the view's scope (raises notes.NoteError with what to change)."""
    context = view.context
    return notes.add_note(
        context.engine, context.viewer, kpi=None if every_measure else view.metric.name, noted_on=noted_on, note=words,
        departments=list(context.departments), today=today(), **view.where.chosen(),
    )


# ---------------------------------------------------------------------- the rows behind a number


def rows(context: state.Context, query: drill.RowsQuery) -> pl.DataFrame:
    """A page of the rows behind a number (cached like every extract)."""
    return state.extract(context.engine, str(context.engine.url), query.extract, query.departments, **query.params)


@st.cache_data(ttl=state.CACHE_SECONDS, max_entries=16, show_spinner=False)
def files(_frame: pl.DataFrame, key: tuple, name: str) -> tuple[bytes, bytes]:
    """The CSV and the Excel workbook of a frame (local times, readable headers); ``key``
    names the frame (its cell) in the cache."""
    frame = _frame
    excel = downloads.excel_bytes(frame, name or "rows", autofit=True, dtype_formats={pl.Datetime: "yyyy-mm-dd hh:mm:ss"}, float_precision=2)
    return downloads.csv_bytes(on_screen(frame)), excel


def week_choice(week: str, default: str) -> None:
    """Move the page to another week (a click in the peer view of weeks)."""
    params.set_value(links.WEEK, week, default)
    first_page()

