"""Who is looking (dashboard/state.py viewer and say_who, on data.access): with no sign-in
configured every page says so plainly and the local administrator sees every department;
with sign-in configured a visitor who is not signed in sees only the sign-in page; a
viewer of one department sees only it; a viewer of none sees only a page that says so."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data.access import Viewer
from tests.dashboard.conftest import APP, page_file

NO_SIGN_IN = "No sign-in is configured: you are the local administrator and see every department."
PAGES = ("pages/overview.py", "pages/drilldown.py", "pages/queues.py", "pages/satisfaction.py", "pages/catalogue.py", "pages/tables.py")


def open_app(viewer: Viewer | None = None, page: str | None = None, secrets: dict | None = None, query: dict | None = None) -> AppTest:
    """The app as ``viewer`` sees it (no sign-in: the local administrator), at ``page``
    with ``query`` in the address."""
    at = AppTest.from_file(APP, default_timeout=120)
    if viewer is not None:
        at.session_state["viewer"] = viewer
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page_file(page)).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_without_sign_in_every_page_says_so_plainly(app_env, page):
    at = open_app(page=page)
    assert not at.exception
    assert any(caption.value.startswith(NO_SIGN_IN) for caption in at.caption), page


def test_with_sign_in_configured_a_visitor_not_signed_in_sees_only_the_sign_in_page(app_env):
    at = open_app(secrets={"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                                   "client_id": "kpi", "client_secret": "s", "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration"}})
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.selectbox and not at.dataframe and not at.metric
    assert not any(caption.value.startswith(NO_SIGN_IN) for caption in at.caption)


def test_a_viewer_of_one_department_is_offered_only_it(app_env):
    at = open_app(Viewer("civil head", {"civil"}, {"head"}))
    assert not at.exception
    department = next(box for box in at.selectbox if box.label == "Department")
    assert [str(option) for option in department.options] == ["All departments", "Civil Registration and Permits"]  # "all": all of theirs
    shown = " ".join(m.value for m in at.markdown) + " ".join(s.value for s in at.subheader)
    for other in ("Benefits", "Revenue", "Transport and Licensing"):
        assert other not in shown


def test_a_viewer_of_no_department_sees_only_that(app_env):
    at = open_app(Viewer("new starter", set(), {"head"}))
    assert not at.exception
    assert [w.value for w in at.warning][0].startswith("You are signed in as new starter, but no department has been given to you")
    assert not at.selectbox and not at.dataframe and not at.metric


NOT_YOURS = "The link's {key}={value} is not yours or not found: it is left out."


def open_page(page: str | None, viewer: Viewer, query: dict) -> AppTest:
    """``page`` opened straight from a link (None: the app's default page, the scorecard)."""
    if page is None:
        return open_app(viewer, query=query)
    at = AppTest.from_file(page_file(page), default_timeout=120)
    at.session_state["viewer"] = viewer
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.parametrize("page", [None, "pages/drilldown.py", "pages/satisfaction.py"])
def test_a_link_naming_another_departments_ids_says_not_yours_or_not_found_and_nothing_of_them(app_env, page):
    # revenue and vehicle_tax exist (another department's), no_such_service nowhere: the same words
    at = open_page(page, Viewer("civil head", {"civil"}, {"head"}), {"department": "revenue", "service": "vehicle_tax"})
    assert not at.exception
    said = [info.value for info in at.info]
    assert NOT_YOURS.format(key="department", value="revenue") in said
    assert NOT_YOURS.format(key="service", value="vehicle\\_tax") in said  # plain text: the underscore escaped
    shown = " ".join(element.value for element in (*at.markdown, *at.subheader, *at.caption, *at.info))
    for other in ("Revenue and Tax", "Vehicle tax", "Transport and Licensing", "Benefits and Pensions"):
        assert other not in shown, other
    nowhere = open_page(page, Viewer("civil head", {"civil"}, {"head"}), {"service": "no_such_service"})
    assert NOT_YOURS.format(key="service", value="no\\_such\\_service") in [info.value for info in nowhere.info]


def test_the_departments_own_ids_in_a_link_are_not_refused(app_env):
    at = open_app(Viewer("civil head", {"civil"}, {"head"}), query={"department": "civil", "service": "passport"})
    assert not at.exception
    assert not [info.value for info in at.info if "not yours or not found" in info.value]
    assert at.subheader[0].value.startswith("Passport application")
