"""Database faults, said in one line: what is wrong and that the page will try again.

Every page runs inside ``guarded`` (app.py), and ``state.open_or_stop`` checks that the
database answers on every run, so a database that goes away mid-session (PostgreSQL
stopped, its connections terminated, a DuckDB file removed) gives one line on every
page, not a traceback and not old figures from the caches shown as if current. The
traceback goes to the server's log. The page reruns itself every RETRY_SECONDS until
the database answers again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard.text import plain
from data.database import DatabaseError, connect
from data.extracts import ExtractError

RETRY_SECONDS = 30
LOG = logging.getLogger("dashboard.faults")
_ARMED = "_fault_retry_armed"

try:  # DuckDB's own errors, where a driver lets one through unwrapped
    import duckdb

    _DRIVER_ERRORS: tuple[type[BaseException], ...] = (duckdb.Error,)
except ImportError:  # pragma: no cover - duckdb is a dependency
    _DRIVER_ERRORS = ()

DATABASE_FAULTS = (DatabaseError, ExtractError, sa.exc.SQLAlchemyError, *_DRIVER_ERRORS)


def probe(engine: Engine) -> None:
    """Raise a database fault unless the database answers and still holds its tables (a
    removed DuckDB file reopens empty; a dropped PostgreSQL database refuses to connect)."""
    with connect(engine) as conn:
        conn.exec_driver_sql("SELECT 1 FROM departments LIMIT 1").fetchall()


def first_line(error: BaseException) -> str:
    """The first line of what the driver said (without SQL or parameters)."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


def message(error: BaseException) -> str:
    """One line: what is wrong, and that the page will try again."""
    return (
        f"The database cannot be read just now ({first_line(error).rstrip('.')}), so nothing on this page can be "
        f"shown. The page tries again every {RETRY_SECONDS} seconds."
    )


def show(error: BaseException) -> None:
    """Say what is wrong on the page, log the traceback, and try again later."""
    LOG.error("database fault on a page", exc_info=error)
    st.error(plain(message(error)), icon=":material/cloud_off:")
    st.session_state[_ARMED] = False
    _retry_later()


@st.fragment(run_every=RETRY_SECONDS)
def _retry_later() -> None:
    """Rerun the whole page RETRY_SECONDS after the fault was shown (the fragment's
    first run, with the page, only arms it)."""
    if st.session_state.get(_ARMED):
        st.session_state[_ARMED] = False
        st.rerun(scope="app")
    st.session_state[_ARMED] = True


def guarded(run: Callable[[], object]) -> None:
    """Run a page; a database fault becomes the one-line message (see ``show``)."""
    try:
        run()
    except DATABASE_FAULTS as error:
        show(error)
