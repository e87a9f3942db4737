"""What the dashboard writes to the audit (data.audit): each page opened with its filters,
each listing of the rows behind a number, each download, acknowledgement and
subscription, sign-in and sign-out; one row per action, however often Streamlit reruns
the page.

``state.open_or_stop`` keeps the session's database, viewer and departments here
(``remember``), so that download buttons and other callbacks record without a context.
A write that fails (a database gone away or busy) is said on the page and does not stop
it: the figures are still the viewer's own, and the fault is reported like any other.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from data import audit
from data.access import Viewer

SESSION_KEY = "_audit_session"  # (engine, viewer, departments) of this session
SEEN_KEY = "_audit_last"  # the last of each action recorded in this session, by what makes it one
PAGE_KEY = "_audit_page"  # the page app.py is running (its url_path)
LOG = logging.getLogger(__name__)


def remember(engine: Engine, viewer: Viewer, departments: tuple[str, ...]) -> None:
    st.session_state[SESSION_KEY] = (engine, viewer, departments)


def current_page() -> str | None:
    return st.session_state.get(PAGE_KEY)


def note(action: str, *, once_per: Any = None, page: str | None = None, detail: dict | None = None, row_count: int | None = None) -> bool:
    """Record ``action`` for this session's viewer. ``once_per``: what makes the action
    the same one (a page with the same filters): while it stays the same, reruns are not
    recorded again. Whether a row was written."""
    session = st.session_state.get(SESSION_KEY)
    if session is None:
        return False  # before open_or_stop: nothing has been shown yet
    last = st.session_state.setdefault(SEEN_KEY, {})
    if once_per is not None and last.get(action) == once_per:
        return False
    engine, viewer, departments = session
    try:
        audit.record(engine, viewer, action, page=page or current_page(), detail=detail, row_count=row_count, departments=departments)
    except Exception as error:  # noqa: BLE001 - the audit must not hide the page; say it instead
        LOG.warning("audit write failed: %s", error)
        st.caption(f"This action could not be written to the audit ({type(error).__name__}); an administrator will see it in the server log.")
        return False
    if once_per is not None:
        last[action] = once_per
    return True


@st.cache_resource(show_spinner=False)
def _sign_ins() -> tuple[set, threading.Lock]:
    return set(), threading.Lock()


def signed_in(token: tuple) -> None:
    """Record a sign-in once per ID token (``token``: its subject, time of issue and
    nonce), not once per session: every page opened in a new tab, every reload, starts a
    session of its own with the same identity cookie. Kept per server process: after a
    restart, a cookie still valid is recorded once more."""
    seen, lock = _sign_ins()
    with lock:
        if token not in seen and note("sign_in"):
            seen.add(token)


def page_viewed() -> None:
    """Record the page this run showed with the filters in its address (once while they
    stay the same; the page's own row number is not a new view)."""
    filters = tuple(sorted((key, value) for key, value in st.query_params.to_dict().items() if key != "page"))
    note("page", once_per=(current_page(), filters), detail=dict(filters))


def download(file_name: str, rows: int) -> None:
    """A download button's on_click: record the file and its rows."""
    note("download", detail={"file": file_name, "filters": dict(st.query_params.to_dict())}, row_count=rows)
