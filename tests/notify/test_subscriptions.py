"""Subscriptions are checked, stored and seen by department, on DuckDB and PostgreSQL."""

from __future__ import annotations

import re

import polars as pl
import pytest

from notify import NotifyError
from notify.subscriptions import Subscription, add_subscription, set_subscription_active, subscriptions


def test_subscriptions_are_checked_stored_and_scoped(stored, all_departments, monkeypatch):
    with pytest.raises(NotifyError) as problems:
        add_subscription(stored, Subscription("", "sometimes", "pigeon", "nowhere", kpis=("happiness",)))
    message = str(problems.value)
    for part in ("a subscriber's name is needed", "rule 'sometimes'", "channel 'pigeon'", "unknown KPI(s) happiness"):
        assert part in message
    with pytest.raises(NotifyError, match="is not an email address"):
        add_subscription(stored, Subscription("Ada", "anomaly", "email", "ada at example"))
    monkeypatch.setenv("KPI_WEBHOOK_URL_FTP", "ftp://x")
    with pytest.raises(NotifyError, match="the webhook ftp's URL is not an http"):
        add_subscription(stored, Subscription("Ada", "anomaly", "webhook", "secret:ftp"))
    civil = add_subscription(stored, Subscription("Ada", "anomaly", "email", "ada@example.org", service_id="passport", kpis=("completion_rate",)))
    monkeypatch.setenv("KPI_WEBHOOK_URL_OPS", "http://127.0.0.1:9/hook")
    everything = add_subscription(stored, Subscription("Head", "weekly_digest", "webhook", "secret:ops"))
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


def test_a_webhook_with_a_line_break_or_a_space_is_refused(stored, monkeypatch):
    for url in ("http://127.0.0.1:9/hook\r\nX-Evil: 1", "http://127.0.0.1:9/a b", "javascript:alert(1)"):
        monkeypatch.setenv("KPI_WEBHOOK_URL_ODD", url)
        with pytest.raises(NotifyError, match="not an http"):
            add_subscription(stored, Subscription("Ops", "anomaly", "webhook", "secret:odd"))


@pytest.mark.parametrize(("address", "refusal"), [
    ("https://hooks.example.gov/services/T0/B0/s3cret", "a webhook's URL is not kept in the database"),
    ("secret:nobody", "no webhook named nobody is configured (KPI_WEBHOOK_URL_NOBODY"),
    ("secret:../etc", "a webhook's name has only letters, digits and _"),
])
def test_a_webhook_is_stored_only_by_the_name_of_one_configured_on_the_server(stored, address, refusal):
    with pytest.raises(NotifyError, match=re.escape(refusal)):
        add_subscription(stored, Subscription("Ops", "anomaly", "webhook", address))


def test_a_webhook_named_in_the_secrets_file_is_found_and_the_environment_wins(tmp_path, monkeypatch):
    from notify.webhooks import named_webhooks, webhook_url

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[webhooks]\nOps = "https://hooks.example.gov/services/T0/B0/s3cret"\nteam = "https://a.example.gov/x"\n', encoding="utf-8")
    monkeypatch.setenv("KPI_WEBHOOK_URL_TEAM", "https://b.example.gov/y")
    found = named_webhooks()
    assert (found["ops"], found["team"]) == ("https://hooks.example.gov/services/T0/B0/s3cret", "https://b.example.gov/y")
    assert webhook_url("secret:OPS") == ("https://hooks.example.gov/services/T0/B0/s3cret", None)


def test_spaces_around_an_address_are_dropped_not_stored(stored, all_departments):
    number = add_subscription(stored, Subscription("Ada", "anomaly", "email", "  ada@example.org "))
    row = subscriptions(stored, all_departments).filter(pl.col("subscription_id") == number).row(0, named=True)
    assert row["address"] == "ada@example.org"


@pytest.mark.parametrize(("allowed", "url", "refusal"), [
    ("", "https://hooks.example.gov/x", "webhooks are switched off"),
    ("hooks.example.gov", "https://other.example.gov/x", "other.example.gov is not a host webhooks may call"),
    ("*.example.gov", "http://127.0.0.1:9/hook", "127.0.0.1 is not a host"),
    ("*.example.gov, 10.0.0.0/8", "http://169.254.169.254/latest/meta-data", "169.254.169.254 is not a host"),
    ("hooks.example.gov", "http://[::1]:9/hook", "::1 is not a host"),
    ("hooks.example.gov", "http://10.0.0.1/hook", "10.0.0.1 is not a host"),  # a private address, not listed
])
def test_a_webhook_to_a_host_not_allowed_or_internal_is_refused(stored, monkeypatch, allowed, url, refusal):
    monkeypatch.setenv("KPI_WEBHOOK_ALLOWED_HOSTS", allowed)
    monkeypatch.setenv("KPI_WEBHOOK_URL_OPS", url)
    with pytest.raises(NotifyError, match=re.escape(refusal)):
        add_subscription(stored, Subscription("Ops", "anomaly", "webhook", "secret:ops"))


def test_an_internal_address_is_allowed_only_when_listed_itself(monkeypatch):
    from notify.webhooks import host_problem, resolved_problem

    assert host_problem("https://a.example.gov/x", ["*.example.gov"]) is None
    assert host_problem("https://example.gov/x", ["*.example.gov"]) is not None  # the wildcard means its hosts
    assert host_problem("http://10.0.0.1/x", ["10.0.0.0/8"]) is None
    assert "internal address" in host_problem("http://10.0.0.1/x", ["*.0.0.1"])  # a wildcard never lets in an internal address
    # a name the administrator allowed that resolves to this machine is refused when sending
    problem = resolved_problem("http://localhost:9/hook", ["localhost"])
    assert problem is not None and "resolves to the internal address" in problem
    assert resolved_problem("http://localhost:9/hook", ["localhost", "127.0.0.0/8", "::1"]) is None


def test_who_may_subscribe_what():
    from data.access import Viewer
    from notify.subscriptions import may_subscribe

    services = {"passport": "civil", "vehicle_tax": "transport"}
    ada = Viewer("ada@example.gov", {"civil"}, {"analyst"})
    own = Subscription("Ada", "anomaly", "email", "Ada@Example.gov", department_id="civil")
    assert may_subscribe(ada, own, ["civil"], services) == []
    assert may_subscribe(ada, Subscription("Ada", "anomaly", "email", "ada@example.gov", service_id="passport"), ["civil"], services) == []
    refused = may_subscribe(ada, Subscription("Ada", "anomaly", "email", "bob@example.gov", department_id="civil"), ["civil"], services)
    assert refused == ["you may subscribe only your own address (ada@example.gov); an administrator may subscribe others"]
    assert may_subscribe(ada, Subscription("Ada", "anomaly", "email", "ada@example.gov", department_id="transport"), ["civil"], services) == [
        "that scope is not one of your departments"]
    assert may_subscribe(ada, Subscription("Ada", "anomaly", "email", "ada@example.gov", service_id="vehicle_tax"), ["civil"], services) == [
        "that scope is not one of your departments"]
    assert "a scope over every department" in may_subscribe(ada, Subscription("Ada", "anomaly", "email", "ada@example.gov"), ["civil"], services)[0]
    assert may_subscribe(ada, Subscription("Ops", "anomaly", "webhook", "secret:ops", department_id="civil"), ["civil"], services) == [
        "only an administrator may add a webhook"]
    admin = Viewer.local_admin()
    assert may_subscribe(admin, Subscription("Bob", "anomaly", "email", "bob@example.gov"), ["civil", "transport"], services) == []


def test_a_viewer_sees_and_manages_only_their_own_subscriptions_an_administrator_every_one(stored, monkeypatch):
    from data.access import Viewer
    from notify.subscriptions import whose_subscriptions

    monkeypatch.setenv("KPI_WEBHOOK_URL_OPS", "http://127.0.0.1:9/hook?token=s3cret")

    ada = add_subscription(stored, Subscription("Ada", "anomaly", "email", "Ada@Example.gov", department_id="civil"))
    bob = add_subscription(stored, Subscription("Bob", "anomaly", "email", "bob@example.gov", department_id="civil"))
    hook = add_subscription(stored, Subscription("Ops", "anomaly", "webhook", "secret:ops", department_id="civil"))
    assert "s3cret" not in str(subscriptions(stored, ["civil"]).filter(pl.col("subscription_id") == hook).rows())  # not in the database
    civil = subscriptions(stored, ["civil"]).filter(pl.col("subscription_id").is_in([ada, bob, hook]))
    analyst = Viewer("ada@example.gov", {"civil"}, {"analyst"})
    assert whose_subscriptions(analyst, civil)["subscription_id"].to_list() == [ada]  # not Bob's address, not the webhook
    assert whose_subscriptions(Viewer("carol@example.gov", {"civil"}, {"head"}), civil).height == 0
    assert sorted(whose_subscriptions(Viewer("root@example.gov", {"civil"}, {"admin"}), civil)["subscription_id"].to_list()) == sorted([ada, bob, hook])


def test_a_webhook_is_shown_by_its_name_and_host_never_its_token(monkeypatch):
    from notify.subscriptions import shown_address

    monkeypatch.setenv("KPI_WEBHOOK_URL_OPS", "https://hooks.example.gov/services/T0/B0/s3cret?token=abc")
    assert shown_address("webhook", "secret:ops") == "webhook ops (hooks.example.gov)"
    assert shown_address("webhook", "secret:gone") == "webhook gone (not configured)"
    # a URL stored by an older version: never sent now, shown by its host only
    assert shown_address("webhook", "https://hooks.example.gov/services/T0/B0/s3cret?token=abc") == "https://hooks.example.gov/…"
    assert shown_address("webhook", "not a url") == "(a webhook)"
    assert shown_address("email", "ada@example.gov") == "ada@example.gov"
