"""Subscriptions are checked, stored and seen by department, on DuckDB and PostgreSQL."""

from __future__ import annotations

import polars as pl
import pytest

from notify import NotifyError
from notify.subscriptions import Subscription, add_subscription, set_subscription_active, subscriptions


def test_subscriptions_are_checked_stored_and_scoped(stored, all_departments):
    with pytest.raises(NotifyError) as problems:
        add_subscription(stored, Subscription("", "sometimes", "pigeon", "nowhere", kpis=("happiness",)))
    message = str(problems.value)
    for part in ("a subscriber's name is needed", "rule 'sometimes'", "channel 'pigeon'", "unknown KPI(s) happiness"):
        assert part in message
    with pytest.raises(NotifyError, match="is not an email address"):
        add_subscription(stored, Subscription("Ada", "anomaly", "email", "ada at example"))
    with pytest.raises(NotifyError, match="not an http"):
        add_subscription(stored, Subscription("Ada", "anomaly", "webhook", "ftp://x"))
    civil = add_subscription(stored, Subscription("Ada", "anomaly", "email", "ada@example.org", service_id="passport", kpis=("completion_rate",)))
    everything = add_subscription(stored, Subscription("Head", "weekly_digest", "webhook", "http://127.0.0.1:9/hook"))
    seen = subscriptions(stored, ["civil"])
    assert seen.filter(pl.col("subscription_id") == civil).row(0, named=True)["department_id"] == "civil"
    assert everything not in seen["subscription_id"].to_list()  # crosses departments
    assert everything in subscriptions(stored, all_departments)["subscription_id"].to_list()
    set_subscription_active(stored, civil, False)
    assert subscriptions(stored, all_departments).filter(pl.col("subscription_id") == civil)["active"][0] is False
    with pytest.raises(NotifyError, match="no subscription 999999"):
        set_subscription_active(stored, 999999, True)


@pytest.mark.parametrize("address", [
    "ada@example.org\r\nBcc: everyone@example.org",  # header injection
    "ada@example.org\r\nbcc:everyone@example.org",  # no space: passed the old check
    "ada@example.org\n",
    "Ada <ada@example.org>",
    "ada@@example.org",
    "ada@localhost",
    "ada@exa mple.org",
    "",
])
def test_an_email_address_is_checked_strictly_when_stored(stored, address):
    with pytest.raises(NotifyError, match="is not an email address"):
        add_subscription(stored, Subscription("Ada", "anomaly", "email", address))


def test_a_webhook_with_a_line_break_or_a_space_is_refused(stored):
    for url in ("http://127.0.0.1:9/hook\r\nX-Evil: 1", "http://127.0.0.1:9/a b", "javascript:alert(1)"):
        with pytest.raises(NotifyError, match="not an http"):
            add_subscription(stored, Subscription("Ops", "anomaly", "webhook", url))


def test_spaces_around_an_address_are_dropped_not_stored(stored, all_departments):
    number = add_subscription(stored, Subscription("Ada", "anomaly", "email", "  ada@example.org "))
    row = subscriptions(stored, all_departments).filter(pl.col("subscription_id") == number).row(0, named=True)
    assert row["address"] == "ada@example.org"
