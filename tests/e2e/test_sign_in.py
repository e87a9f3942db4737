"""Sign-in end to end: Streamlit's own OpenID Connect (st.login, st.user) against a real
local identity provider, in Chromium.

One provider for the module: oidc-provider-mock, a real OpenID provider (discovery, an
authorization form, signed ID tokens, an end-session endpoint) served on 127.0.0.1 in a
thread of this process. Its form asks only for the subject (``sub``); the claims that
subject's ID token carries are set beforehand through its ``PUT /users/<sub>``. One
dashboard server for the module, on the small world, with an [auth] section in a
secrets.toml of a temporary folder (``--secrets.files``: nothing is written into the
repository). Each person signs in in a browser context of their own, as a new visitor.

Checked: a visitor not signed in gets the sign-in page and nothing of the data; a head of
one department sees that department only (the scorecard offers no other, a link naming
another department says "not yours or not found" and shows nothing of it, the pages and
the rows behind a number that need the analyst role are not offered and refuse by
address); an analyst of that department gets the rows behind a number, of that
department only (the CSV compared with a direct count); someone signed in with no
departments gets the page that says so and nothing else; someone the token gives no
claims gets a department and a role from the administrators' access file; signing out
returns to the sign-in page. The audit is read directly: one sign-in per sign-in, however
many pages were opened, one sign-out, one row per download.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import polars as pl
import pytest
import sqlalchemy as sa
import werkzeug.serving

from data.database import connect, create_engine
from data.demo_world import DEPARTMENTS, SERVICES
from data.extracts import run_extract
from metrics.drilldown import Scope, rows_query
from metrics.registry import METRICS
from tests.e2e.conftest import has_heading, screenshot, serve, shows_text, wait_for_app
from tests.e2e.test_drilldown import MONDAY, SUNDAY, WEEK

pytestmark = pytest.mark.e2e

OWN = "civil"  # the department of the people who sign in
OWN_NAME = dict(DEPARTMENTS)[OWN]
OTHERS = {department: name for department, name in DEPARTMENTS if department != OWN}
OTHER_SERVICES = [spec.name for spec in SERVICES if spec.department_id != OWN]
OWN_SERVICES = [spec.name for spec in SERVICES if spec.department_id == OWN]
SIGN_IN_HEADING = "Public service KPIs"
PLANNER = "civil.planner@example.gov"  # given a department and a role by the access file alone


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 at a free port; yields its base URL (the issuer)."""
    import oidc_provider_mock

    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def signed_server(provider: str, duckdb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard with sign-in configured against ``provider``; yields its base URL."""
    folder = tmp_path_factory.mktemp("sign-in")
    secrets_file = folder / "secrets.toml"
    # {port}: Streamlit puts in the port it serves on (the free one serve() chose)
    secrets_file.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "kpi-dashboard"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    # the administrators' access file (whatever config/ holds): one person the provider gives no claims
    access_file = folder / "access.toml"
    access_file.write_text(f'[[person]]\nemail = "{PLANNER}"\ndepartments = ["{OWN}"]\nroles = ["planner"]\n', encoding="utf-8")
    environment = {"KPI_ACCESS_FILE": str(access_file)}
    with serve(duckdb_url, folder / "server.log", "--secrets.files", str(secrets_file), environment=environment) as base:
        yield base


def give_claims(provider: str, subject: str, **claims) -> None:
    """What the provider puts in ``subject``'s ID token (besides sub)."""
    response = httpx.put(f"{provider}/users/{quote(subject, safe='')}", json={"email": subject, **claims}, timeout=30)
    assert response.status_code == 204, response.text


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def sidebar_links(page) -> list[str]:
    return page.eval_on_selector_all('[data-testid="stSidebarNav"] a', "links => links.map(a => new URL(a.href).pathname)")


def sign_in(page, base: str, subject: str, *, then: str) -> None:
    """From the sign-in page, through the provider's form as ``subject``, back to the
    dashboard showing the heading ``then``."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.get_by_placeholder("sub").fill(subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/.*"))
    wait_for_app(page, has_heading(then))


@pytest.fixture
def visitor(browser):
    """A new visitor: a browser context of its own (no cookie of anyone else's)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


def sign_out(page, base: str) -> None:
    """Sign out: through the provider's end of session, back to the sign-in page."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/oauth2/end_session.*"))
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/.*"))
    wait_for_app(page, has_heading(SIGN_IN_HEADING) + " && " + shows_text("Sign in with your organisation's account"))
    assert page.get_by_role("button", name="Sign in").is_visible()


def audit_rows(database_url: str, subject: str) -> dict[str, list[int | None]]:
    """The audit's rows of ``subject``: their row counts, by action (read directly, as
    another process would: waiting while the server holds the DuckDB file between queries)."""
    engine = create_engine(database_url)
    try:
        with connect(engine) as conn:
            rows = conn.execute(
                sa.text("SELECT action, row_count FROM audit_events WHERE subject = :subject ORDER BY event_id"), {"subject": subject}
            ).fetchall()
    finally:
        engine.dispose()
    found: dict[str, list[int | None]] = {}
    for action, row_count in rows:
        found.setdefault(action, []).append(row_count)
    return found


def assert_nothing_of_others(text: str) -> None:
    shown = [name for name in [*OTHERS.values(), *OTHER_SERVICES] if name in text]
    assert shown == [], f"another department's names on the page: {shown}"


def test_a_visitor_not_signed_in_sees_only_the_sign_in_page(signed_server, visitor):
    for path in ("", "drilldown", "tables?department=revenue"):
        visitor.goto(f"{signed_server}/{path}")
        wait_for_app(visitor, has_heading(SIGN_IN_HEADING))
        text = main_text(visitor)
        assert "Sign in with your organisation's account" in text
        assert visitor.get_by_role("button", name="Sign in").is_visible()
        assert_nothing_of_others(text)
        assert OWN_NAME not in text and "Weekly scorecard" not in text
        assert visitor.locator('[data-testid="stSidebarNav"]').count() == 0
    screenshot(visitor, "sign-in-page")


def test_a_head_sees_their_department_only_and_no_rows(signed_server, provider, visitor, duckdb_url):
    subject = "civil.head@example.gov"
    give_claims(provider, subject, departments=[OWN], roles=["head"])
    visitor.goto(signed_server)
    wait_for_app(visitor, has_heading(SIGN_IN_HEADING))
    sign_in(visitor, signed_server, subject, then="Weekly scorecard")
    assert f"Signed in as {subject}" in visitor.locator('[data-testid="stSidebar"]').inner_text()
    assert_nothing_of_others(main_text(visitor))

    # the scorecard's department choice offers theirs only
    box = visitor.get_by_role("combobox", name="Department", exact=True).first
    box.click()
    visitor.get_by_role("option").first.wait_for()  # the list is drawn after the click
    offered = [option.strip() for option in visitor.get_by_role("option").all_inner_texts()]
    visitor.keyboard.press("Escape")
    assert offered == ["All departments", OWN_NAME]
    # the pages that need another role are not offered
    links = sidebar_links(visitor)
    assert "/drilldown" in links
    assert not {"/tables", "/planner", "/audit"} & set(links), links
    screenshot(visitor, "sign-in-head-overview", max_height=1800)

    # a link naming another department's department and service: "not yours or not
    # found", and nothing of them (the names of every other department are looked for)
    visitor.goto(f"{signed_server}/overview?department=revenue&service=vehicle_tax&week={WEEK}")
    wait_for_app(visitor, has_heading("Weekly scorecard") + " && " + shows_text("service=vehicle_tax is not yours or not found"))
    text = main_text(visitor)
    assert "The link's department=revenue is not yours or not found" in text
    assert_nothing_of_others(text)
    assert visitor.get_by_role("combobox", name="Department", exact=True).first.input_value() == "All departments"
    screenshot(visitor, "sign-in-head-other-department", max_height=1800)
    visitor.goto(f"{signed_server}/drilldown?department=benefits&week={WEEK}")
    wait_for_app(visitor, has_heading("Drill-down") + " && " + shows_text("not yours or not found"))
    text = main_text(visitor)
    assert_nothing_of_others(text)
    # the rows behind the number are for analysts: said, not shown, no file offered
    assert "are for the analyst or administrator role" in text
    assert visitor.get_by_role("button", name=re.compile("Prepare the CSV and Excel files")).count() == 0
    # the Tables page (individual records) is not theirs even by its address: the
    # navigation does not hold it, so Streamlit says "Page not found" over the default page
    visitor.goto(f"{signed_server}/tables")
    wait_for_app(visitor, has_heading("Weekly scorecard"))
    dialog = visitor.get_by_role("dialog")
    assert "page not found" in dialog.inner_text().lower()
    screenshot(visitor, "sign-in-head-tables-by-address", max_height=900)
    assert "individual records" not in main_text(visitor)
    assert_nothing_of_others(main_text(visitor))
    visitor.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    sign_out(visitor, signed_server)
    audit = audit_rows(duckdb_url, subject)  # who signed in to see nothing is recorded too
    assert (len(audit.get("sign_in", [])), len(audit.get("sign_out", []))) == (1, 1), audit
    assert set(audit) <= {"sign_in", "sign_out", "page"}, audit
    screenshot(visitor, "sign-in-signed-out")
    # one sign-in however many pages were opened (each address typed is a session of its
    # own), one sign-out, and no rows behind a number
    audit = audit_rows(duckdb_url, subject)
    assert (len(audit.get("sign_in", [])), len(audit.get("sign_out", []))) == (1, 1), audit
    assert "rows" not in audit and "download" not in audit


def test_an_analyst_gets_the_rows_of_their_department_only(signed_server, provider, visitor, duckdb_url, all_departments, tmp_path):
    subject = "civil.analyst@example.gov"
    give_claims(provider, subject, departments=[OWN], roles=["analyst"])
    visitor.goto(f"{signed_server}/drilldown?week={WEEK}")
    wait_for_app(visitor, has_heading(SIGN_IN_HEADING))
    sign_in(visitor, signed_server, subject, then="Weekly scorecard")
    visitor.goto(f"{signed_server}/drilldown?week={WEEK}")
    wait_for_app(visitor, has_heading("Drill-down") + " && " + shows_text("cases"))
    assert_nothing_of_others(main_text(visitor))
    assert "/tables" in sidebar_links(visitor)

    total = int(re.search(r"([\d,]+) cases", visitor.get_by_text(re.compile(r"^[\d,]+ cases")).first.inner_text()).group(1).replace(",", ""))
    visitor.get_by_role("button", name=re.compile("Prepare the CSV and Excel files")).click()
    wait_for_app(visitor, "document.querySelector('.st-key-drill-csv button')")
    with visitor.expect_download() as download:
        visitor.locator(".st-key-drill-csv button").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    wait_for_app(visitor)  # the download button's rerun, which writes its audit row, is over
    screenshot(visitor, "sign-in-analyst-drilldown")

    rows = pl.read_csv(path, infer_schema_length=None)
    assert set(rows["Service"]) <= set(OWN_SERVICES), set(rows["Service"]) - set(OWN_SERVICES)
    engine = create_engine(duckdb_url)
    query = rows_query(METRICS["on_time_rate"], Scope(department_id=OWN), [OWN], MONDAY, SUNDAY, timezone="Europe/London", limit=1_000_000)
    expected = run_extract(engine, query.extract, departments=[OWN], **query.params)
    everyone = rows_query(METRICS["on_time_rate"], Scope(), all_departments, MONDAY, SUNDAY, timezone="Europe/London", limit=1_000_000)
    every_row = run_extract(engine, everyone.extract, departments=all_departments, **everyone.params)
    engine.dispose()
    assert rows.height == total == expected.height > 0
    assert every_row.height > expected.height  # the others' rows exist: the scope left them out
    assert rows["Case"].to_list() == expected["case_id"].to_list()


def test_someone_with_no_departments_sees_only_that_and_can_sign_out(signed_server, provider, visitor, duckdb_url):
    subject = "nobody@example.gov"
    give_claims(provider, subject, roles=["head"])  # no departments claim
    visitor.goto(signed_server)
    wait_for_app(visitor, has_heading(SIGN_IN_HEADING))
    sign_in(visitor, signed_server, subject, then=SIGN_IN_HEADING)
    wait_for_app(visitor, shows_text("no department has been given to you"))
    text = main_text(visitor)
    assert f"You are signed in as {subject}, but no department has been given to you" in text
    assert_nothing_of_others(text)
    assert OWN_NAME not in text and "Weekly scorecard" not in text and "Data as of" not in text
    assert sidebar_links(visitor) == []
    screenshot(visitor, "sign-in-no-departments")

    sign_out(visitor, signed_server)
    audit = audit_rows(duckdb_url, subject)  # who signed in to see nothing is recorded too
    assert (len(audit.get("sign_in", [])), len(audit.get("sign_out", []))) == (1, 1), audit
    assert set(audit) <= {"sign_in", "sign_out", "page"}, audit


def test_the_access_file_gives_departments_and_a_role_to_someone_the_token_gives_none(signed_server, provider, visitor):
    give_claims(provider, PLANNER)  # an email and nothing else
    visitor.goto(signed_server)
    wait_for_app(visitor, has_heading(SIGN_IN_HEADING))
    sign_in(visitor, signed_server, PLANNER, then="Weekly scorecard")
    assert_nothing_of_others(main_text(visitor))
    links = sidebar_links(visitor)
    assert "/planner" in links and not {"/tables", "/audit"} & set(links), links
