"""Anomalies: the stored flags on a timeline and over their KPI's chart, each with its
explanation and a link into the drill-down; acknowledgements; subscriptions to
notifications. Flags are computed by ``python -m anomalies detect``; nothing is
detected at page load."""

from __future__ import annotations

import _boot  # noqa: F401  (first: makes the project importable; see dashboard/_boot.py)
import streamlit as st

from anomalies import AnomalyError, links
from anomalies.links import drilldown_url
from dashboard import anomalies_data, anomalies_figures, components, overview_figures, params, state
from dashboard.anomalies_figures import ACKNOWLEDGE_WORDS, FLAG_STATUS_BADGE, FLAG_STATUS_WORDS, RULE_WORDS
from dashboard.text import plain
from data.vocabulary import CHANNELS
from metrics.registry import METRICS
from notify import NotifyError
from notify.subscriptions import Subscription

context = state.open_or_stop()
st.title("Anomalies")
state.data_as_of(context)
if message := st.session_state.pop("anomalies-message", None):
    st.success(message, icon=":material/check_circle:")

run = anomalies_data.run_of(context)
jobs = anomalies_data.jobs_running(context)
if run is None:
    components.empty(*anomalies_figures.no_run_words(jobs))
else:
    st.markdown(anomalies_figures.run_text(run))
    if rerun := anomalies_figures.rerun_words(jobs):
        st.caption(rerun)
    flags, labels = anomalies_data.flags_of(context)

    grain_column, scope_column, kpi_column, status_column, weeks_column = st.columns([1.3, 2, 2, 1.4, 1.4])
    grain = params.choice("Series", links.GRAIN, ["day", "week"], "day", format_func=lambda g: "Daily" if g == "day" else "Weekly", container=grain_column)
    of_grain = anomalies_data.of_grain(flags, grain)
    scope_options = anomalies_data.scope_options(of_grain, labels)
    scope = params.choice("Scope", links.SCOPE, [state.ALL, *scope_options], state.ALL, format_func=lambda s: "All scopes" if s == state.ALL else labels[s], container=scope_column)
    kpi_options = anomalies_data.kpi_options(of_grain)
    kpi = params.choice("Measure", links.KPI, [state.ALL, *kpi_options], state.ALL, format_func=lambda k: "All measures" if k == state.ALL else METRICS[k].label, container=kpi_column)
    status = params.choice("Status", "status", [state.ALL, *FLAG_STATUS_WORDS], state.ALL, format_func=lambda s: "Any status" if s == state.ALL else FLAG_STATUS_WORDS[s], container=status_column)
    weeks = params.choice("Period", "weeks", ["13", "26", "52", state.ALL], "26", format_func=lambda w: "All time" if w == state.ALL else f"{w} weeks", container=weeks_column)
    shown = anomalies_data.filtered(of_grain, scope=scope, kpi=kpi, status=status, weeks=weeks, data_end=run["data_end"])

    if shown.height == 0:
        components.empty(
            "No flag matches these filters.",
            "Widen the period, choose another scope or measure, or set the status to any: quiet is good news.",
        )
    else:
        st.markdown(anomalies_figures.flags_summary(shown, grain, anomalies_data.still_open(shown)))
        timeline = anomalies_figures.timeline_frame(shown)
        period = (anomalies_data.period_start(weeks, run["data_end"], shown), run["data_end"])
        components.chart(
            anomalies_figures.timeline_figure(timeline, labels, title="Flags over time: ▲ rose, ▼ fell, ◆ combination", period=period),
            anomalies_figures.timeline_summary(shown),
            anomalies_figures.timeline_table(timeline),
            f"anomaly-timeline-{grain}",
        )

        st.subheader("Flags, open and most severe first", anchor=False)
        st.caption("Choose a row to see the flag, its series and its drill-down; click a column's heading to sort by it.")
        ordered = anomalies_data.triage_order(shown)
        picked = st.dataframe(anomalies_figures.picker_table(ordered), key="flag-picker", on_select="rerun", selection_mode="single-row",
                              hide_index=True, width="stretch", height=min(38 + 35 * ordered.height, 400), column_config={
                                  # typed, so that a click on a heading sorts by number and by date
                                  "Severity": st.column_config.NumberColumn("Severity", format="%.1f spreads", help="How far from expected, in noise spreads; empty for a combination of measures"),
                                  "First day": st.column_config.DateColumn("First day", format="ddd D MMM YYYY"),
                                  "Outside until": st.column_config.DateColumn("Outside until", format="ddd D MMM YYYY"),
                              })
        chosen = anomalies_data.chosen_flag(ordered, list(picked.selection.rows), st.query_params.get(links.FLAG))
        params.keep(links.FLAG, chosen)
        flag = anomalies_data.flag_row(ordered, chosen)
        metric = METRICS[flag["kpi"]]
        st.subheader(anomalies_figures.flag_title(flag, metric))
        st.markdown(flag["explanation"])
        facts, actions = st.columns([3, 2])
        with facts:
            st.markdown(components.status_badge(FLAG_STATUS_BADGE[flag["status"]], FLAG_STATUS_WORDS[flag["status"]]), unsafe_allow_html=True)
            if acknowledged := anomalies_figures.acknowledged_text(flag):
                st.markdown(acknowledged)
            st.markdown(anomalies_figures.flag_facts(flag, metric, anomalies_data.usual_range_from(flag, metric)))
            st.markdown(components.same_tab_link(drilldown_url(flag), f"Open the drill-down at this scope and week ({flag['week']})"), unsafe_allow_html=True)
        with actions, st.form("acknowledge", border=True):
            st.markdown("**Acknowledge this flag**")
            choice = st.radio("What is it?", list(ACKNOWLEDGE_WORDS), horizontal=True, format_func=ACKNOWLEDGE_WORDS.get)
            who = st.text_input("Your name", max_chars=200)
            note = st.text_area("Note", max_chars=2000, placeholder="What happened, or what was done")
            if st.form_submit_button("Save", icon=":material/done:"):
                try:
                    anomalies_data.acknowledge_flag(context, flag["flag_key"], choice, who, note)
                except AnomalyError as error:
                    st.error(str(error), icon=":material/error:")
                else:
                    st.session_state["anomalies-message"] = f"Saved: {FLAG_STATUS_WORDS[choice].lower()} by {who.strip()}."
                    st.rerun()

        series = anomalies_data.series_of(context, flag, of_grain)
        components.chart(
            anomalies_figures.series_figure(series.scores, series.flags, flag["kpi"], title=anomalies_figures.series_title(flag, metric), selected=flag["flag_key"]),
            anomalies_figures.series_summary(flag, metric, series.scores, series.outside),
            anomalies_figures.series_table(series.scores),
            f"anomaly-series-{flag['scope']}-{flag['kpi']}",
        )

        with st.expander(f"Every flag shown ({shown.height})", expanded=False):
            # A link inside a table always opens a new tab (Streamlit's LinkColumn): the
            # addresses are text to copy, and the flag chosen above links in this tab.
            st.caption("Choose a flag in the table above for its link into the drill-down in this tab; the addresses below are to copy.")
            components.table(anomalies_figures.flags_table(shown), f"anomaly-flags-{grain}", column_config={
                "Drill-down": st.column_config.TextColumn("Drill-down", help="The drill-down's address at this scope and week"),
            })

# --------------------------------------------------------------------------- sustained breaches

st.header("Below target for weeks on end")
breach_scope, breach_kpi = (scope, kpi) if run is not None else (state.ALL, state.ALL)
with st.spinner("Finding the sustained breaches…"):
    breach_week, breaches = anomalies_data.breaches_of(context, scope=breach_scope, kpi=breach_kpi)
st.markdown(plain(anomalies_figures.breaches_summary(breaches, breach_week, narrowed=(breach_scope, breach_kpi) != (state.ALL, state.ALL))))
if breaches.height:
    st.markdown("\n".join(f"- {plain(line)}" for line in overview_figures.breach_lines(breaches, breach_week)))
    st.dataframe(overview_figures.breach_table(breaches), hide_index=True, width="stretch")
    components.csv_download(overview_figures.breach_csv(breaches), f"breaches-{breach_week}", label="Download the breaches as CSV")
st.caption(anomalies_figures.BREACHES_BESIDE_FLAGS)

# --------------------------------------------------------------------------- notifications

st.header("Notifications")
st.markdown(
    "Subscribers hear about a scope by email or webhook: **anomalies** as they are flagged, **target breaches** of the last "
    "complete week, or a **weekly digest** with the scorecard, the week's flags and links back here. "
    "`python -m notify send` sends each event once."
)
subscribed, sent = anomalies_data.subscriptions_of(context)
if subscribed.height == 0:
    components.empty("Nobody has subscribed yet.", "Add a subscription below.")
else:
    scopes = [anomalies_data.subscription_scope(context, row) for row in subscribed.iter_rows(named=True)]
    components.table(anomalies_figures.subscriptions_table(subscribed, scopes), "subscriptions")
    pause_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    target = pause_column.selectbox("Subscription", subscribed["subscription_id"].to_list(), format_func=lambda i: f"{i}: {anomalies_data.subscription(subscribed, i)['subscriber']}")
    active = bool(anomalies_data.subscription(subscribed, target)["active"])
    if button_column.button("Pause" if active else "Resume", icon=":material/pause:" if active else ":material/play_arrow:"):
        anomalies_data.set_active(context, target, not active)
        st.session_state["anomalies-message"] = f"Subscription {target} {'paused' if active else 'resumed'}."
        st.rerun()

with st.expander("Add a subscription", expanded=subscribed.height == 0), st.form("subscribe"):
    # one row of two fields at a time: on a phone the columns stack, and each pair stays together
    left, right = st.columns(2)
    who = left.text_input("Who", max_chars=200)
    rule = right.selectbox("Rule", list(RULE_WORDS), format_func=RULE_WORDS.get)
    left, right = st.columns(2)
    channel = left.selectbox("Channel", ["email", "webhook"], format_func=lambda c: "Email" if c == "email" else "Webhook (JSON)")
    address = right.text_input("Email address, or secret:NAME of a configured webhook", max_chars=500,
                               help="A webhook's URL holds its token, so it is configured on the server (KPI_WEBHOOK_URL_NAME, "
                                    "or [webhooks] in .streamlit/secrets.toml), never typed here or stored in the database.")
    left, right = st.columns(2)
    department = left.selectbox("Department", [None, *context.departments], format_func=lambda d: "Any" if d is None else context.department_names.get(d, d))
    service = right.selectbox("Service", [None, *context.services["service_id"].to_list()], format_func=lambda s: "Any" if s is None else context.service_names.get(s, s))
    left, right = st.columns(2)
    office = left.selectbox("Office", [None, *context.offices["office_id"].to_list()], format_func=lambda o: "Any" if o is None else context.office_names.get(o, o))
    scope_channel = right.selectbox("Channel of the service", [None, *CHANNELS], format_func=lambda c: "Any" if c is None else context.name_of("channel", c))
    kpis = st.multiselect("Measures (none: every measure)", list(METRICS), format_func=lambda k: METRICS[k].label)
    if st.form_submit_button("Subscribe", icon=":material/notifications:"):
        try:
            number_added = anomalies_data.subscribe(context, Subscription(
                who, rule, channel, address, department_id=department, service_id=service, office_id=office,
                scope_channel=scope_channel, kpis=tuple(kpis), created_by=who,
            ))
        except NotifyError as error:
            st.error(f"Not saved: {error}", icon=":material/error:")
        else:
            st.session_state["anomalies-message"] = f"Subscription {number_added} saved for {who.strip()}."
            st.rerun()

if sent.height:
    with st.expander(f"Notifications sent or failed ({sent.height})", expanded=False):
        components.table(anomalies_figures.sent_table(sent), "notifications-sent")
