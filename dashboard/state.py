"""What every page shares: the database engine, cached extracts, the viewer's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from data.build import ensure_database
from data.database import DatabaseError, connect, describe
from data.extracts import run_extract

CACHE_SECONDS = 600


@st.cache_resource(show_spinner="Opening the database (the first start builds the demo data, about a minute)…")
def engine() -> Engine:
    """The database engine, built once per server process."""
    return ensure_database(quiet=True)


def visible_departments(_engine: Engine) -> list[str]:
    """The departments this viewer may see. Access control will narrow this; today: all."""
    return _departments(_engine)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _departments(_engine: Engine) -> list[str]:
    with connect(_engine) as conn:
        rows = conn.exec_driver_sql("SELECT department_id FROM departments ORDER BY department_id").fetchall()
    return [row[0] for row in rows]


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def extract(_engine: Engine, name: str, departments: tuple[str, ...], **params: Any) -> pl.DataFrame:
    """A cached extract; never mutate the frame it returns."""
    return run_extract(_engine, name, departments=list(departments), **params)


def database_label(_engine: Engine) -> str:
    return describe(_engine)


def open_or_stop() -> tuple[Engine, tuple[str, ...]]:
    """The engine and the viewer's departments, or a clear error and a stopped page."""
    try:
        current = engine()
        departments = tuple(visible_departments(current))
    except DatabaseError as error:
        st.error(f"The database cannot be used: {error}", icon=":material/error:")
        st.stop()
    return current, departments


def data_as_of(_engine: Engine, departments: tuple[str, ...]) -> datetime | None:
    loads = extract(_engine, "data_loads", departments)
    return loads["loaded_at"].max() if loads.height else None  # type: ignore[return-value]


