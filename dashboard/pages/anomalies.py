"""Anomalies: the stored flags on a timeline and over their KPI's chart, each with its
explanation and a link into the drill-down; acknowledgements; subscriptions to
notifications. Flags are computed by ``python -m anomalies detect``; nothing is
detected at page load."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import polars as pl
import streamlit as st

from anomalies import AnomalyError
from anomalies.links import drilldown_url
from anomalies.store import acknowledge, latest_flags, latest_run, series_scores
from dashboard import components, params, state
from dashboard.figures_anomalies import DETECTOR_WORDS, describe, series_figure, timeline_figure
from data.vocabulary import CHANNELS
from metrics.formatting import number
from metrics.registry import METRICS
from notify import NotifyError
from notify.subscriptions import (
    Subscription,
    add_subscription,
    notification_log,
    set_subscription_active,
    subscriptions,
)

STATUS_WORDS = {"open": "Open", "acknowledged": "Acknowledged", "known": "Known cause"}
STATUS_BADGE = {"open": "red", "acknowledged": "amber", "known": "grey"}
KIND_WORDS = {"total": "Total", "department": "Department", "service": "Service", "office": "Office", "channel": "Channel"}
RULE_WORDS = {"anomaly": "Anomalies", "target_breach": "Target breaches", "weekly_digest": "Weekly digest"}


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_flags(_engine, url: str, departments: tuple[str, ...]) -> pl.DataFrame:
    return latest_flags(_engine, departments)


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_run(_engine, url: str, departments: tuple[str, ...]) -> dict | None:
    return latest_run(_engine, departments)


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_scores(_engine, url: str, departments: tuple[str, ...], grain: str, scope_kind: str, scope_id: str, kpi: str) -> pl.DataFrame:
    return series_scores(_engine, departments, grain, scope_kind, scope_id, kpi)


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_subscriptions(_engine, url: str, departments: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return subscriptions(_engine, departments), notification_log(_engine, departments)


def forget_writes() -> None:
    for loader in (stored_flags, stored_subscriptions):
        loader.clear()


def scope_label(scope_kind: str, scope_id: str) -> str:
    if scope_kind == "total":
        return "Total"
    dimension = {"department": "department_id", "service": "service_id", "office": "office_id", "channel": "channel"}[scope_kind]
    return f"{KIND_WORDS[scope_kind]}: {context.name_of(dimension, scope_id)}"


context = state.open_or_stop()
url = str(context.engine.url)
st.title("Anomalies")
state.data_as_of(context)
if message := st.session_state.pop("anomalies-message", None):
    st.success(message, icon=":material/check_circle:")

run = stored_run(context.engine, url, context.departments)
flags = stored_flags(context.engine, url, context.departments) if run else pl.DataFrame()

if run is None:
    components.empty(
        "No anomaly detection has been stored yet.",
        "Run `python -m anomalies detect` (it reads the database, flags every KPI series and stores the flags for this page).",
    )
else:
    st.markdown(
        f"Flags from the detection run of {run['finished_at']:%d %b %Y %H:%M} UTC on data from {run['data_first']:%d %b %Y} "
        f"to {run['data_end']:%d %b %Y} ({run['series_count']:,} series watched). Run `python -m anomalies detect` to refresh."
    )
    flags = flags.with_columns(
        pl.concat_str("scope_kind", pl.lit(":"), "scope_id").alias("scope"),
    )
    labels = {scope: scope_label(*scope.split(":", 1)) for scope in flags["scope"].unique().to_list()}
    flags = flags.with_columns(pl.col("scope").replace_strict(labels, return_dtype=pl.String).alias("scope_label"))

    grain_column, scope_column, kpi_column, status_column, weeks_column = st.columns([1.3, 2, 2, 1.4, 1.4])
    grain = params.choice("Series", "grain", ["day", "week"], "day", format_func=lambda g: "Daily" if g == "day" else "Weekly", container=grain_column)
    of_grain = flags.filter(pl.col("grain") == grain)
    scope_options = sorted(of_grain["scope"].unique().to_list(), key=lambda s: (list(KIND_WORDS).index(s.split(":")[0]), labels[s]))
    scope = params.choice("Scope", "scope", [state.ALL, *scope_options], state.ALL, format_func=lambda s: "All scopes" if s == state.ALL else labels[s], container=scope_column)
    kpi_options = [k for k in METRICS if k in set(of_grain["kpi"].to_list())]
    kpi = params.choice("Measure", "kpi", [state.ALL, *kpi_options], state.ALL, format_func=lambda k: "All measures" if k == state.ALL else METRICS[k].label, container=kpi_column)
    status = params.choice("Status", "status", [state.ALL, *STATUS_WORDS], state.ALL, format_func=lambda s: "Any status" if s == state.ALL else STATUS_WORDS[s], container=status_column)
    weeks = params.choice("Period", "weeks", ["13", "26", "52", state.ALL], "26", format_func=lambda w: "All time" if w == state.ALL else f"{w} weeks", container=weeks_column)

    shown = of_grain
    if scope != state.ALL:
        shown = shown.filter(pl.col("scope") == scope)
    if kpi != state.ALL:
        shown = shown.filter(pl.col("kpi") == kpi)
    if status != state.ALL:
        shown = shown.filter(pl.col("status") == status)
    if weeks != state.ALL:
        shown = shown.filter(pl.col("first_day") > pl.lit(run["data_end"]) - pl.duration(weeks=int(weeks)))
    shown = shown.sort("first_day", "scope_label", descending=[True, False])

    if shown.height == 0:
        components.empty(
            "No flag matches these filters.",
            "Widen the period, choose another scope or measure, or set the status to any: quiet is good news.",
        )
    else:
        still_open = shown.filter(pl.col("status") == "open").height
        newest = shown.row(0, named=True)
        st.markdown(
            f"**{shown.height} flag{'s' if shown.height != 1 else ''} on {'daily' if grain == 'day' else 'weekly'} series, "
            f"{still_open} still open.** The latest, {newest['first_day']:%d %b %Y} ({newest['scope_label']}): {newest['explanation']}"
        )
        timeline = shown.select("first_day", "scope", "scope_label", "kpi", "direction", "detector", "explanation", "status")
        components.chart(
            timeline_figure(timeline, labels, title="Flags over time: ▲ rose, ▼ fell, ◆ combination"),
            f"{shown.height} flags from {shown['first_day'].min():%d %b %Y} to {shown['first_day'].max():%d %b %Y} across {shown['scope'].n_unique()} scopes.",
            timeline.select(
                pl.col("first_day").alias("First day"), pl.col("scope_label").alias("Scope"),
                pl.col("kpi").replace_strict({k: m.label for k, m in METRICS.items()}).alias("Measure"),
                pl.col("direction").alias("Direction"), pl.col("explanation").alias("Explanation"), pl.col("status").alias("Status"),
            ),
            f"anomaly-timeline-{grain}",
        )

        keys = shown["flag_key"].to_list()
        rows = {row["flag_key"]: row for row in shown.iter_rows(named=True)}
        chosen = params.choice("Flag", "flag", keys, keys[0], format_func=lambda key: describe(rows[key]))
        flag = rows[chosen]
        metric = METRICS[flag["kpi"]]
        moved = "an unusual combination" if flag["detector"] == "isolation_forest" else ("rose" if flag["direction"] == "up" else "fell")
        st.subheader(f"{flag['scope_label']}: {metric.label} {moved}, {flag['first_day']:%A %d %B %Y}")
        st.markdown(flag["explanation"])
        facts, actions = st.columns([3, 2])
        with facts:
            status_word = STATUS_WORDS[flag["status"]]
            st.markdown(components.status_badge(STATUS_BADGE[flag["status"]], status_word), unsafe_allow_html=True)
            if flag["status"] != "open":
                st.markdown(f"{status_word} by {flag['acked_by']} on {flag['acked_at']:%d %b %Y %H:%M} UTC" + (f": {flag['note']}" if flag["note"] else ""))
            period = "day" if flag["grain"] == "day" else "week"
            lines = [
                f"- How it was found: {DETECTOR_WORDS[flag['detector']]} "
                + (f"(isolation score {flag['score']:.2f})" if flag["detector"] == "isolation_forest" else f"({abs(flag['score']):.1f} times the usual spread)"),
                f"- Value {number(flag['value'], metric)}; expected {number(flag['expected'], metric)}, usual range "
                f"{number(max(flag['lower_bound'], 0.0) if metric.unit != 'count' or flag['kpi'] != 'net_flow' else flag['lower_bound'], metric)} to {number(flag['upper_bound'], metric)}",
                f"- First {period} {flag['first_day']:%d %b %Y}, raised on {flag['detected_on']:%d %b %Y}, still outside on {flag['last_day']:%d %b %Y}",
            ]
            if flag["detector"] == "isolation_forest":
                lines.append("- Measures involved: " + ", ".join(METRICS[k].label for k in flag["kpis"].split(",")))
            st.markdown("\n".join(lines))
            st.markdown(f"[Open the drill-down at this scope and week ({flag['week']})]({drilldown_url(flag)})")
        with actions, st.form("acknowledge", border=True):
            st.markdown("**Acknowledge this flag**")
            choice = st.radio(
                "What is it?", ["acknowledged", "known", "open"], horizontal=True,
                format_func=lambda s: {"acknowledged": "Seen, looking into it", "known": "Known cause", "open": "Reopen"}[s],
            )
            who = st.text_input("Your name", max_chars=200)
            note = st.text_area("Note", max_chars=2000, placeholder="What happened, or what was done")
            if st.form_submit_button("Save", icon=":material/done:"):
                try:
                    acknowledge(context.engine, flag["flag_key"], choice, who, note, departments=context.departments)
                except AnomalyError as error:
                    st.error(str(error), icon=":material/error:")
                else:
                    forget_writes()
                    st.session_state["anomalies-message"] = f"Saved: {STATUS_WORDS[choice].lower()} by {who.strip()}."
                    st.rerun()

        scores = stored_scores(context.engine, url, context.departments, flag["grain"], flag["scope_kind"], flag["scope_id"], flag["kpi"])
        window = scores.filter(
            pl.col("period_start").is_between(
                pl.lit(flag["first_day"]) - pl.duration(weeks=13 if flag["grain"] == "day" else 52),
                pl.lit(flag["last_day"]) + pl.duration(weeks=4 if flag["grain"] == "day" else 12),
            )
        )
        series_flags = of_grain.filter((pl.col("scope") == flag["scope"]) & (pl.col("kpi") == flag["kpi"]))
        outside = window.filter((pl.col("value") < pl.col("lower_bound")) | (pl.col("value") > pl.col("upper_bound"))).height
        components.chart(
            series_figure(window, series_flags.filter(pl.col("first_day").is_between(window["period_start"].min(), window["period_start"].max())),
                          flag["kpi"], title=f"{metric.label} ({'daily' if flag['grain'] == 'day' else 'weekly'}) and its expected range", selected=flag["flag_key"]),
            f"{metric.label} against its expected range: {outside} of {window.height} {'days' if flag['grain'] == 'day' else 'weeks'} shown fell outside it.",
            window.select(
                pl.col("period_start").alias("Period start"), pl.col("value").alias("Value"), pl.col("expected").alias("Expected"),
                pl.col("lower_bound").alias("Range from"), pl.col("upper_bound").alias("Range to"), pl.col("z").round(2).alias("Score"),
            ),
            f"anomaly-series-{flag['scope']}-{flag['kpi']}",
        )

        with st.expander(f"Every flag shown ({shown.height})", expanded=False):
            table = shown.select(
                pl.col("first_day").alias("First day"), pl.col("scope_label").alias("Scope"),
                pl.col("kpi").replace_strict({k: m.label for k, m in METRICS.items()}).alias("Measure"),
                pl.col("direction").alias("Direction"), pl.col("value").round(2).alias("Value"), pl.col("expected").round(2).alias("Expected"),
                pl.col("explanation").alias("Explanation"), pl.col("status").replace_strict(STATUS_WORDS).alias("Status"),
                pl.col("acked_by").alias("By"), pl.col("note").alias("Note"),
                pl.Series("Drill-down", [drilldown_url(row) for row in shown.iter_rows(named=True)]),
            )
            components.table(table, f"anomaly-flags-{grain}", column_config={
                "Drill-down": st.column_config.LinkColumn("Drill-down", display_text="Open", help="The drill-down at this scope and week"),
            })

# --------------------------------------------------------------------------- notifications

st.header("Notifications")
st.markdown(
    "Subscribers hear about a scope by email or webhook: **anomalies** as they are flagged, **target breaches** of the last "
    "complete week, or a **weekly digest** with the scorecard, the week's flags and links back here. "
    "`python -m notify send` sends each event once."
)
subscribed, sent = stored_subscriptions(context.engine, url, context.departments)
if subscribed.height == 0:
    components.empty("Nobody has subscribed yet.", "Add a subscription below.")
else:
    def scope_of(row: dict) -> str:
        parts = [context.name_of(dim, row[key]) for key, dim in (("department_id", "department_id"), ("service_id", "service_id"), ("office_id", "office_id"), ("scope_channel", "channel")) if row[key]]
        return " · ".join(parts) or "Everything"

    listed = subscribed.select(
        pl.col("subscription_id").alias("Id"), pl.col("subscriber").alias("Who"), pl.col("rule").replace_strict(RULE_WORDS).alias("Rule"),
        pl.col("channel").alias("Channel"), pl.col("address").alias("Address"),
        pl.Series("Scope", [scope_of(row) for row in subscribed.iter_rows(named=True)]),
        pl.col("kpis").fill_null("every measure").alias("Measures"), pl.when(pl.col("active")).then(pl.lit("Active")).otherwise(pl.lit("Paused")).alias("State"),
    )
    components.table(listed, "subscriptions")
    pause_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    target = pause_column.selectbox("Subscription", subscribed["subscription_id"].to_list(), format_func=lambda i: f"{i}: {subscribed.filter(pl.col('subscription_id') == i)['subscriber'][0]}")
    active = bool(subscribed.filter(pl.col("subscription_id") == target)["active"][0])
    if button_column.button("Pause" if active else "Resume", icon=":material/pause:" if active else ":material/play_arrow:"):
        set_subscription_active(context.engine, int(target), not active, departments=context.departments)
        forget_writes()
        st.session_state["anomalies-message"] = f"Subscription {target} {'paused' if active else 'resumed'}."
        st.rerun()

with st.expander("Add a subscription", expanded=subscribed.height == 0), st.form("subscribe"):
    # one row of two fields at a time: on a phone the columns stack, and each pair stays together
    left, right = st.columns(2)
    who = left.text_input("Who", max_chars=200)
    rule = right.selectbox("Rule", list(RULE_WORDS), format_func=RULE_WORDS.get)
    left, right = st.columns(2)
    channel = left.selectbox("Channel", ["email", "webhook"], format_func=lambda c: "Email" if c == "email" else "Webhook (JSON)")
    address = right.text_input("Email address or webhook URL", max_chars=500)
    left, right = st.columns(2)
    department = left.selectbox("Department", [None, *context.departments], format_func=lambda d: "Any" if d is None else context.department_names.get(d, d))
    service = right.selectbox("Service", [None, *context.services["service_id"].to_list()], format_func=lambda s: "Any" if s is None else context.service_names.get(s, s))
    left, right = st.columns(2)
    office = left.selectbox("Office", [None, *context.offices["office_id"].to_list()], format_func=lambda o: "Any" if o is None else context.office_names.get(o, o))
    scope_channel = right.selectbox("Channel of the service", [None, *CHANNELS], format_func=lambda c: "Any" if c is None else context.name_of("channel", c))
    kpis = st.multiselect("Measures (none: every measure)", list(METRICS), format_func=lambda k: METRICS[k].label)
    if st.form_submit_button("Subscribe", icon=":material/notifications:"):
        try:
            number_added = add_subscription(context.engine, Subscription(
                who, rule, channel, address, department_id=department, service_id=service, office_id=office,
                scope_channel=scope_channel, kpis=tuple(kpis), created_by=who,
            ), departments=context.departments)
        except NotifyError as error:
            st.error(f"Not saved: {error}", icon=":material/error:")
        else:
            forget_writes()
            st.session_state["anomalies-message"] = f"Subscription {number_added} saved for {who.strip()}."
            st.rerun()

if sent.height:
    with st.expander(f"Notifications sent or failed ({sent.height})", expanded=False):
        components.table(sent.select(
            pl.col("last_attempt_at").alias("Last attempt (UTC)"), pl.col("subscriber").alias("Who"), pl.col("rule").replace_strict(RULE_WORDS).alias("Rule"),
            pl.col("subject").alias("Subject"), pl.col("status").alias("Status"), pl.col("attempts").alias("Attempts"), pl.col("error").alias("Error"),
        ), "notifications-sent")
