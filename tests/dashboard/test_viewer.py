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
