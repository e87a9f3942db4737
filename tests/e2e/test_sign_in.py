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


# ------------------------------------------------------------------ the walk of every page
# Every page a civil head, analyst and planner is offered, each opened plainly and by a link
# naming other departments' ids: (path, its title, the foreign link's query string, whether
# the page reads the link's department or service and so must say "not yours or not found").
FOREIGN_SERVICE = "vehicle_tax"  # transport's
WALK = [
    ("overview", "Weekly scorecard", f"department=revenue&service={FOREIGN_SERVICE}&week={WEEK}", True),
    ("drilldown", "Drill-down", f"kpi=on_time_rate&department=transport&service={FOREIGN_SERVICE}&week={WEEK}", True),
    ("published", "Published series", "department=revenue&service=tax_refund", False),
    ("queues", "Queues", "department=benefits&service=housing_benefit&office=contact_centres", False),
    ("satisfaction", "Satisfaction and digital", "department=benefits&service=housing_benefit", True),
    ("anomalies", "Anomalies", f"scope=service:{FOREIGN_SERVICE}&kpi=on_time_rate&department=revenue", False),
    ("planner", "Demand and staffing", f"series=service:{FOREIGN_SERVICE}&department=revenue", False),
    ("catalogue", "Metric catalogue and data quality", "kpi=on_time_rate&department=revenue&service=tax_refund", False),
    ("tables", "Tables", "department=revenue", False),
]
NOT_YOURS = "is not yours or not found"
CSVS_PER_PAGE = 2  # the first table downloads of each page (each is the table shown beside it)


def foreign_words(database_url: str) -> tuple[list[str], list[str]]:
    """The other departments' and their services' ids and names, read from the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            departments = conn.execute(sa.text("SELECT department_id, name FROM departments WHERE department_id <> :own"), {"own": OWN}).fetchall()
            services = conn.execute(sa.text("SELECT service_id, name FROM services WHERE department_id <> :own"), {"own": OWN}).fetchall()
    finally:
        engine.dispose()
    rows = [*departments, *services]
    return [row[0] for row in rows], [row[1] for row in rows]


class Walk:
    """The checks the walk makes, counted (the issue's closing note quotes the count)."""

    def __init__(self, ids: list[str], names: list[str]) -> None:
        self.ids = re.compile(r"\b(" + "|".join(re.escape(i) for i in ids) + r")\b")
        self.names = names
        self.checks = 0

    def check(self, condition: bool, message: str) -> None:
        self.checks += 1
        assert condition, message

    def nothing_foreign(self, text: str, where: str) -> None:
        """No id or name of another department in ``text`` (the refusal's own line, which
        quotes the link's value back, set aside)."""
        text = "\n".join(line for line in text.splitlines() if NOT_YOURS not in line)
        found = self.ids.search(text)
        self.check(found is None, f"{where}: another department's ids {sorted(set(self.ids.findall(text)))}, first in "
                                  f"{text[max(found.start() - 150, 0):found.end() + 80]!r}" if found else "")
        shown = [name for name in self.names if name in text]
        self.check(not shown, f"{where}: another department's names {shown}")


def page_text(page) -> str:
    """What the page says: the main area and the sidebar, and the text of closed expanders."""
    return page.evaluate("() => document.querySelector('[data-testid=\"stApp\"]').textContent")


def table_downloads(page, tmp_path, label: str) -> list[str]:
    """The first CSVS_PER_PAGE table downloads of the page, fetched; their text."""
    buttons = page.locator('[class*="st-key-csv-"] button')
    texts = []
    for index in range(min(buttons.count(), CSVS_PER_PAGE)):
        with page.expect_download() as download:
            buttons.nth(index).dispatch_event("click")  # a button in a closed expander too
        path = tmp_path / f"{label}-{index}-{download.value.suggested_filename}"
        download.value.save_as(path)
        wait_for_app(page)  # the download's rerun (its audit row) is over
        texts.append(path.read_text(encoding="utf-8-sig"))
    return texts


def test_a_civil_user_walks_every_page_and_sees_nothing_of_another_department(signed_server, provider, visitor, duckdb_url, tmp_path):
    subject = "civil.everyone@example.gov"
    give_claims(provider, subject, departments=[OWN], roles=["head", "analyst", "planner"])
    walk = Walk(*foreign_words(duckdb_url))
    # read before the walk (the server holds the DuckDB file while it works): civil's cases by
    # a direct SQL query, and the on-time rate's rows of civil in the week by the rows extract
    engine = create_engine(duckdb_url)
    try:
        with connect(engine) as conn:
            civil_cases = {str(case) for (case,) in conn.execute(sa.text(
                "SELECT c.case_id FROM cases c JOIN services s ON s.service_id = c.service_id WHERE s.department_id = :own"
            ), {"own": OWN})}
        query = rows_query(METRICS["on_time_rate"], Scope(department_id=OWN), [OWN], MONDAY, SUNDAY, timezone="Europe/London", limit=1_000_000)
        expected = run_extract(engine, query.extract, departments=[OWN], **query.params)
    finally:
        engine.dispose()
    visitor.goto(signed_server)
    wait_for_app(visitor, has_heading(SIGN_IN_HEADING))
    sign_in(visitor, signed_server, subject, then="Weekly scorecard")
    offered = set(sidebar_links(visitor))
    # the default page (the scorecard) is "/" in the menu; every other page offered is walked
    walk.check(offered == {"/", *(f"/{path}" for path, *_ in WALK[1:])}, f"the pages offered: {sorted(offered)}")

    pages = links = downloads = 0
    for path, title, foreign, reads_scope in WALK:
        for query in ("", foreign):
            visitor.goto(f"{signed_server}/{path}" + (f"?{query}" if query else ""))
            wait_for_app(visitor, has_heading(title) + (" && " + shows_text(NOT_YOURS) if query and reads_scope else ""))
            where = f"/{path}?{query}"
            walk.nothing_foreign(page_text(visitor), where)
            if query:
                links += 1
                if reads_scope:
                    walk.check(NOT_YOURS in main_text(visitor), f"{where}: no 'not yours or not found'")
                if path == "overview":
                    screenshot(visitor, "sign-in-walk-overview-foreign-link", max_height=2400)
            else:
                pages += 1
            for number, text in enumerate(table_downloads(visitor, tmp_path, f"{path}-{bool(query)}")):
                downloads += 1
                walk.nothing_foreign(text, f"{where} download {number}")

    # the rows behind the number, from a link naming another department: the rows of civil only
    visitor.goto(f"{signed_server}/drilldown?kpi=on_time_rate&department=transport&service={FOREIGN_SERVICE}&week={WEEK}")
    wait_for_app(visitor, has_heading("Drill-down") + " && " + shows_text(NOT_YOURS) + " && " + shows_text(" cases"))
    total = int(re.search(r"([\d,]+) cases", visitor.get_by_text(re.compile(r"^[\d,]+ cases")).first.inner_text()).group(1).replace(",", ""))
    visitor.get_by_role("button", name=re.compile("Prepare the CSV and Excel files")).click()
    wait_for_app(visitor, "document.querySelector('.st-key-drill-csv button')")
    with visitor.expect_download() as download:
        visitor.locator(".st-key-drill-csv button").click()
    rows_file = tmp_path / download.value.suggested_filename
    download.value.save_as(rows_file)
    wait_for_app(visitor)
    screenshot(visitor, "sign-in-walk-drilldown-foreign-link", max_height=2400)
    downloads += 1
    walk.nothing_foreign(rows_file.read_text(encoding="utf-8-sig"), "the drill-down's rows CSV")
    rows = pl.read_csv(rows_file, infer_schema_length=None)
    own_cases = len(set(rows["Case"].cast(pl.String)) & civil_cases)
    walk.check(rows.height == total == expected.height == own_cases > 0, f"rows CSV {rows.height}, the page's {total}, extract {expected.height}, civil's by SQL {own_cases}")
    walk.check(rows["Case"].cast(pl.String).to_list() == expected["case_id"].cast(pl.String).to_list(), "the file's cases are not the extract's")
    walk.check(set(rows["Service"]) <= set(OWN_SERVICES), f"services in the rows: {set(rows['Service']) - set(OWN_SERVICES)}")
    print(f"\nthe walk: {pages} pages x 2 (plain and a foreign link: {links} links), {downloads} downloads, {walk.checks} checks")

