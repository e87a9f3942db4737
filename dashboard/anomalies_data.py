"""What the anomalies page loads and writes: the stored detection run, its flags with
their scopes named, the filters over them, a flagged series' scores around the flag, and
the notification subscriptions. Caching lives here, never in the page; every write
forgets the cached frames it changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from anomalies.store import acknowledge, latest_flags, latest_run, series_scores
from dashboard import audit_trail, overview_data, state
from dashboard.anomalies_figures import KIND_WORDS
from forecasting.progress import JOBS, running
from metrics.registry import METRICS, Metric
from metrics.scorecard import UNKNOWN_SCOPE, latest_complete_week
from notify import NotifyError
from notify.subscriptions import (
    Subscription,
    add_subscription,
    may_subscribe,
    notification_log,
    set_subscription_active,
    shown_address,
    subscriptions,
    whose_subscriptions,
)

DIMENSIONS = {"department": "department_id", "service": "service_id", "office": "office_id", "channel": "channel"}
SUBSCRIPTION_SCOPE = (("department_id", "department_id"), ("service_id", "service_id"), ("office_id", "office_id"), ("scope_channel", "channel"))
# the scores drawn around a flag: (weeks before its first day, weeks after its last) by grain
SERIES_SPAN = {"day": (13, 4), "week": (52, 12)}


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_flags(_engine: Engine, url: str, departments: tuple[str, ...]) -> pl.DataFrame:
    return latest_flags(_engine, departments)


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_run(_engine: Engine, url: str, departments: tuple[str, ...]) -> dict | None:
    return latest_run(_engine, departments)


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_scores(_engine: Engine, url: str, departments: tuple[str, ...], grain: str, scope_kind: str, scope_id: str, kpi: str) -> pl.DataFrame:
    return series_scores(_engine, departments, grain, scope_kind, scope_id, kpi)


@st.cache_data(ttl=state.CACHE_SECONDS, show_spinner=False)
def stored_subscriptions(_engine: Engine, url: str, departments: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return subscriptions(_engine, departments), notification_log(_engine, departments)


def forget_writes() -> None:
    for loader in (stored_flags, stored_subscriptions):
        loader.clear()


# --------------------------------------------------------------------------- flags


def jobs_running(context: state.Context) -> dict[str, dt.datetime | None]:
    """When the forecast and the detection running on this database now started (None:
    not running), as ``make run`` starts them in the background (forecasting.progress)."""
    return {job: running(str(context.engine.url), job) for job in JOBS}


def run_of(context: state.Context) -> dict | None:
    """The latest detection run the viewer may see, or None."""
    return stored_run(context.engine, str(context.engine.url), context.departments)


def scope_label(context: state.Context, scope_kind: str, scope_id: str) -> str:
    if scope_kind == "total":
        return "Total"
    return f"{KIND_WORDS[scope_kind]}: {context.name_of(DIMENSIONS[scope_kind], scope_id)}"


def flags_of(context: state.Context) -> tuple[pl.DataFrame, dict[str, str]]:
    """The run's flags with a ``scope`` key ('kind:id') and ``scope_label``, and the
    labels by scope key."""
    flags = stored_flags(context.engine, str(context.engine.url), context.departments)
    flags = flags.with_columns(pl.concat_str("scope_kind", pl.lit(":"), "scope_id").alias("scope"))
    labels = {scope: scope_label(context, *scope.split(":", 1)) for scope in flags["scope"].unique().to_list()}
    flags = flags.with_columns(pl.col("scope").replace_strict(labels, return_dtype=pl.String).alias("scope_label"))
    return flags, labels


def of_grain(flags: pl.DataFrame, grain: str) -> pl.DataFrame:
    return flags.filter(pl.col("grain") == grain)


def scope_options(flags: pl.DataFrame, labels: dict[str, str]) -> list[str]:
    """The scopes with a flag, by kind (total, department, …) then by name."""
    return sorted(flags["scope"].unique().to_list(), key=lambda s: (list(KIND_WORDS).index(s.split(":")[0]), labels[s]))


def kpi_options(flags: pl.DataFrame) -> list[str]:
    """The measures with a flag, in the registry's order."""
    flagged = set(flags["kpi"].to_list())
    return [k for k in METRICS if k in flagged]


def filtered(flags: pl.DataFrame, *, scope: str, kpi: str, status: str, weeks: str, data_end: date) -> pl.DataFrame:
    """The flags the filters keep (state.ALL keeps every one), the newest first."""
    shown = flags
    if scope != state.ALL:
        shown = shown.filter(pl.col("scope") == scope)
    if kpi != state.ALL:
        shown = shown.filter(pl.col("kpi") == kpi)
    if status != state.ALL:
        shown = shown.filter(pl.col("status") == status)
    if weeks != state.ALL:
        shown = shown.filter(pl.col("first_day") > pl.lit(data_end) - pl.duration(weeks=int(weeks)))
    return shown.sort("first_day", "scope_label", descending=[True, False])


def period_start(weeks: str, data_end: date, flags: pl.DataFrame) -> date:
    """The first day of the period the filters show: ``weeks`` before the data's end, or
    the first flag's day for all time."""
    if weeks == state.ALL:
        return flags["first_day"].min() if flags.height else data_end
    return data_end - timedelta(weeks=int(weeks)) + timedelta(days=1)


def triage_order(shown: pl.DataFrame) -> pl.DataFrame:
    """The flags as an analyst works through them: open ones first, then the most severe
    (the furthest from expected, in spreads; combinations, whose score is of another kind,
    after the single measures), then the newest."""
    return shown.with_columns(
        pl.when(pl.col("detector") == "isolation_forest").then(None).otherwise(pl.col("score").abs()).alias("severity"),
    ).sort(
        [pl.col("status") != "open", "severity", "first_day", "scope_label"],
        descending=[False, True, True, False], nulls_last=True,
    )


def chosen_flag(ordered: pl.DataFrame, selected_rows: list[int], wanted: str | None) -> str:
    """The flag shown in detail: the row chosen in the table, else the one in the address
    (a notification's link), else the first in triage order."""
    keys = ordered["flag_key"].to_list()
    if selected_rows and 0 <= selected_rows[0] < len(keys):
        return keys[selected_rows[0]]
    if wanted in keys:
        return wanted
    return keys[0]


def flag_row(flags: pl.DataFrame, flag_key: str) -> dict:
    return flags.filter(pl.col("flag_key") == flag_key).row(0, named=True)


def still_open(flags: pl.DataFrame) -> int:
    return flags.filter(pl.col("status") == "open").height


def usual_range_from(flag: dict, metric: Metric) -> float:
    """The lower end of the usual range as said in words: zero at the least, unless the
    measure can be negative (net flow)."""
    return flag["lower_bound"] if metric.can_be_negative else max(flag["lower_bound"], 0.0)


@dataclass(frozen=True)
class SeriesView:
    """A flagged series around its flag: the scores drawn, the series' flags among them,
    and how many periods fell outside the expected range."""

    scores: pl.DataFrame
    flags: pl.DataFrame
    outside: int


def series_of(context: state.Context, flag: dict, flags: pl.DataFrame) -> SeriesView:
    """The scores of ``flag``'s series around it, and ``flags`` (of its grain) of that series."""
    scores = stored_scores(context.engine, str(context.engine.url), context.departments, flag["grain"], flag["scope_kind"], flag["scope_id"], flag["kpi"])
    before, after = SERIES_SPAN[flag["grain"]]
    window = scores.filter(
        pl.col("period_start").is_between(pl.lit(flag["first_day"]) - pl.duration(weeks=before), pl.lit(flag["last_day"]) + pl.duration(weeks=after))
    )
    series_flags = flags.filter((pl.col("scope") == flag["scope"]) & (pl.col("kpi") == flag["kpi"]))
    shown_flags = series_flags.filter(pl.col("first_day").is_between(window["period_start"].min(), window["period_start"].max()))
    outside = window.filter((pl.col("value") < pl.col("lower_bound")) | (pl.col("value") > pl.col("upper_bound"))).height
    return SeriesView(window, shown_flags, outside)


def acknowledge_flag(context: state.Context, flag_key: str, status: str, who: str, note: str) -> None:
    """Store an acknowledgement (raises AnomalyError with what is wrong)."""
    acknowledge(context.engine, flag_key, status, who, note, departments=context.departments)
    audit_trail.note("acknowledge", page="anomalies", detail={"flag": flag_key, "status": status, "by": who, "note": note})
    forget_writes()


# --------------------------------------------------------------------------- subscriptions


def subscriptions_of(context: state.Context) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(subscriptions, notifications sent or failed) the viewer may see: of their
    departments, and only their own unless they are an administrator
    (notify.subscriptions.whose_subscriptions)."""
    subscribed, sent = stored_subscriptions(context.engine, str(context.engine.url), context.departments)
    own = whose_subscriptions(context.viewer, subscribed)
    return own, sent.filter(pl.col("subscription_id").is_in(own["subscription_id"].to_list()))


def subscription_scope(context: state.Context, row: dict) -> str:
    """A subscription's scope in names: 'Tax · Leeds Service Centre', or 'Everything'."""
    parts = [context.name_of(dimension, row[key]) for key, dimension in SUBSCRIPTION_SCOPE if row[key]]
    return " · ".join(parts) or "Everything"


def subscription(subscribed: pl.DataFrame, subscription_id: int) -> dict:
    return subscribed.filter(pl.col("subscription_id") == subscription_id).row(0, named=True)


def set_active(context: state.Context, subscription_id: int, active: bool) -> None:
    """Pause or resume one of the viewer's subscriptions (another's is not found)."""
    if subscription_id not in subscriptions_of(context)[0]["subscription_id"].to_list():
        raise NotifyError(f"no subscription {subscription_id} of yours")
    set_subscription_active(context.engine, int(subscription_id), active, departments=context.departments)
    audit_trail.note("subscribe" if active else "unsubscribe", page="anomalies", detail={"subscription": int(subscription_id), "active": active})
    forget_writes()


def subscribe(context: state.Context, subscription: Subscription) -> int:
    """Store a subscription and return its number (raises NotifyError with what is wrong).
    Who is looking decides whose address and which scopes (notify.subscriptions.may_subscribe)."""
    services = dict(zip(context.services["service_id"], context.services["department_id"], strict=True))
    refused = may_subscribe(state.viewer(), subscription, context.departments, services)
    if refused:
        raise NotifyError("; ".join(refused))
    number_added = add_subscription(context.engine, subscription, departments=context.departments)
    audit_trail.note("subscribe", page="anomalies", detail={
        "subscription": number_added, "rule": subscription.rule, "channel": subscription.channel,
        # a webhook by its configured name and host, never its URL (which holds its token)
        "address": shown_address(subscription.channel, subscription.address),
        "department": subscription.department_id, "service": subscription.service_id, "office": subscription.office_id,
    })
    forget_writes()
    return number_added


# --------------------------------------------------------------------------- sustained breaches


BREACH_BY = {"department": "department_id", "service": "service_id"}


def breaches_of(context: state.Context, *, scope: str, kpi: str) -> tuple[str, pl.DataFrame]:
    """The last complete week and the sustained target breaches (metrics.breaches) of the
    departments and services the viewer may see that are going then or ended that week,
    with a ``scope`` key ('kind:id', as the flags have it) and ``where_name``; narrowed to
    the page's scope and measure when they are set. These are judged against targets,
    not against the series' own past as flags are: a failure that lasts stays here."""
    if context.as_of is None:
        return "", pl.DataFrame()
    week = latest_complete_week(context.as_of)
    frames = []
    for kind, column in BREACH_BY.items():
        card = state.weekly_scorecard(
            context.engine, str(context.engine.url), context.departments, state.ALL, state.ALL, week, context.as_of,
            by=column, data_from=context.first_day, offline_services=overview_data.offline_services(context),
        )
        found = card.current_breaches().filter(pl.col("scope") != UNKNOWN_SCOPE)
        frames.append(found.with_columns(
            pl.format("{}:{}", pl.lit(kind), pl.col("scope")).alias("scope"),
            pl.col("scope").map_elements(lambda member, kind=kind: f"{context.name_of(DIMENSIONS[kind], member)} ({kind})",
                                         return_dtype=pl.String).alias("where_name"),
        ))
    breaches = pl.concat(frames, how="vertical_relaxed")
    if scope != state.ALL:
        breaches = breaches.filter(pl.col("scope") == scope)
    if kpi != state.ALL:
        breaches = breaches.filter(pl.col("kpi") == kpi)
    return week, breaches.sort(["ongoing", "weeks", "where_name", "kpi"], descending=[True, True, False, False])

