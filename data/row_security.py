"""Row-level security on PostgreSQL: the departments every dashboard query runs under, and
``python -m data secure``, which creates the dashboard's role and the policies.

The policies (sql/security/postgresql_row_security.sql) bind every role but the tables'
owner: a session sees the rows of the departments in its setting ``kpi.departments``, set
for the transaction (``set_config('kpi.departments', 'revenue,transport', true)``; ``*``
for every department); without the setting it sees none. ``data.extracts.run_extract``
sets it to the departments it binds as ``:departments`` before every extract, so a query
that forgets its department filter still returns only the viewer's rows. On DuckDB
(single-user, embedded) there are no roles: the app layer is the boundary.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from data.database import DATA_DIR, DatabaseError, backend, connect, create_schema, describe, schema_tables

SETTING = "kpi.departments"
EVERY_DEPARTMENT = "*"  # the setting's value for a viewer of every department
DEFAULT_ROLE = "kpi_dashboard"
SCRIPT = DATA_DIR.parent / "sql" / "security" / "postgresql_row_security.sql"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
DUCKDB_REFUSAL = (
    "DuckDB is single-user and embedded: it has no roles or row-level security, and the app layer "
    "(the departments every extract binds) is the boundary there; python -m data secure is for PostgreSQL"
)

_SET = sa.text("SELECT set_config('kpi.departments', :departments, :local)")
_GET = sa.text("SELECT current_setting('kpi.departments', true)")


def setting_value(departments: Sequence[str] | str) -> str:
    """The text of ``kpi.departments`` for a list of department ids (``EVERY_DEPARTMENT``:
    every department). Raises ValueError for an id the comma-separated setting cannot carry."""
    if isinstance(departments, str):
        if departments == EVERY_DEPARTMENT:
            return EVERY_DEPARTMENT
        raise ValueError("departments must be a list of department ids, not one string")
    ids = list(departments)
    bad = [d for d in ids if not isinstance(d, str) or not d.strip() or d != d.strip() or "," in d or d == EVERY_DEPARTMENT]
    if bad:
        raise ValueError(
            f"department id(s) {', '.join(repr(d) for d in bad)} cannot be set in {SETTING} "
            "(empty, a comma, spaces around it, or '*')"
        )
    return ",".join(ids)


def _autocommit(conn: Connection) -> bool:
    return bool(getattr(conn.connection.driver_connection, "autocommit", False))


@contextlib.contextmanager
def viewer_scope(conn: Connection, departments: Sequence[str] | str) -> Iterator[None]:
    """Run the block with ``kpi.departments`` set to ``departments`` (PostgreSQL; nothing on
    DuckDB). Inside a transaction the setting is the transaction's (``set_config(...,
    true)``), and the value it had is put back when the block ends without an error (an
    error aborts the transaction, which drops the setting). A connection in autocommit
    mode has no transaction to hold it: it is set for the session and reset afterwards."""
    if conn.dialect.name != "postgresql":
        yield
        return
    value = setting_value(departments)
    if _autocommit(conn):
        conn.execute(_SET, {"departments": value, "local": False})
        try:
            yield
        finally:
            conn.execute(_SET, {"departments": "", "local": False})
        return
    previous = conn.execute(_GET).scalar_one()
    conn.execute(_SET, {"departments": value, "local": True})
    yield
    conn.execute(_SET, {"departments": previous or "", "local": True})


def set_viewer(conn: Connection, departments: Sequence[str] | str) -> None:
    """Set ``kpi.departments`` for the rest of the connection's transaction (PostgreSQL;
    nothing on DuckDB): for a short read or write in a transaction of its own, such as
    ``with connect(engine, begin=True) as conn: set_viewer(conn, departments); ...``."""
    if conn.dialect.name == "postgresql":
        conn.execute(_SET, {"departments": setting_value(departments), "local": True})


@contextlib.contextmanager
def scoped_transaction(engine: Engine, departments: Sequence[str] | str | None) -> Iterator[Connection]:
    """A transaction of its own with ``kpi.departments`` set to ``departments`` (None: the
    caller runs as the owner, unscoped): for the dashboard's short writes."""
    with connect(engine, begin=True) as conn:
        if departments is not None:
            set_viewer(conn, departments)
        yield conn


# ----------------------------------------------------------------------- python -m data secure


def check_role_name(role: str) -> str:
    """The role name, if it is one the script accepts; else DatabaseError."""
    if not ROLE_NAME.fullmatch(role) or role.startswith("pg_"):
        raise DatabaseError(
            f"{role!r} is not a role name for the dashboard: lower-case letters, digits and _, "
            "starting with a letter or _, at most 63 characters, not starting pg_"
        )
    return role


@dataclass(frozen=True)
class Secured:
    """What ``secure`` did, for the command to print."""

    database: str
    role: str
    created: bool
    tables: tuple[str, ...]  # with row-level security enabled
    policies: tuple[tuple[str, str], ...]  # (table, policy)
    grants: tuple[tuple[str, str], ...]  # (table, privilege)
    unprotected: tuple[str, ...]  # tables of sql/schema/ without row-level security
    others: tuple[tuple[str, str], ...] = ()  # (table, policy) of policies not this script's

    def report(self) -> str:
        writes = sorted({f"{p} on {t}" for t, p in self.grants if p != "SELECT"})
        read = sum(1 for _t, p in self.grants if p == "SELECT")
        lines = [
            f"Row-level security on {self.database}:",
            (f"  role {self.role}: created (LOGIN, NOSUPERUSER, NOBYPASSRLS) without a password: an administrator "
             f"sets one with ALTER ROLE {self.role} PASSWORD '...', or allows the role in pg_hba.conf (peer, cert)")
            if self.created else
            f"  role {self.role}: already there, neither a superuser nor BYPASSRLS; LOGIN, its password unchanged",
            f"  row-level security enabled on {len(self.tables)} tables, each with its policy kpi_scope "
            f"({len(self.policies)} in all)",
            f"  {self.role} may SELECT from {read} tables; " + ("; ".join(writes) if writes else "write nothing")
            + "; draw ids from anomaly_ack_ids and subscription_ids",
            "  the tables' owner and superusers are not bound (the loaders, runs and batch commands see every row)",
            f"  the dashboard connects as it: KPI_DATABASE_URL=postgresql+psycopg://{self.role}@HOST:PORT/DATABASE",
        ]
        if self.others:
            lines.append("  warning: other policies widen what the role sees (policies combine with OR): "
                         + ", ".join(f"{p} on {t}" for t, p in self.others))
        if self.unprotected:
            lines.append(f"  warning: no row-level security on {', '.join(self.unprotected)}: {self.role} cannot read them")
        return "\n".join(lines)


def secure(engine: Engine, role: str = DEFAULT_ROLE) -> Secured:
    """Create (or keep) the dashboard's login role ``role`` and apply the row-level security
    script to the database of ``engine``, which must be a superuser's (or the tables'
    owner's, with CREATEROLE) connection. Idempotent. Creates the schema's tables first."""
    if backend(engine) != "postgresql":
        raise DatabaseError(DUCKDB_REFUSAL)
    check_role_name(role)
    create_schema(engine)
    with connect(engine, begin=True) as conn:
        created = not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role)"), {"role": role}).scalar_one()
        conn.execute(sa.text("SELECT set_config('kpi.app_role', :role, true)"), {"role": role})
        raw = conn.connection.driver_connection
        try:
            with raw.cursor() as cursor:
                cursor.execute(SCRIPT.read_text())  # no parameters: the script runs as written, every statement
        except Exception as error:  # psycopg's errors; the script's own say what to do
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DatabaseError(f"row-level security was not applied to {describe(engine)}: {first_line}") from None
        tables = tuple(conn.execute(sa.text(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
            "AND c.relkind = 'r' AND c.relrowsecurity ORDER BY 1"
        )).scalars())
        every_policy = [tuple(row) for row in conn.execute(sa.text(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema() ORDER BY 1, 2"
        ))]
        policies = tuple((t, p) for t, p in every_policy if p == "kpi_scope")
        grants = tuple((t, p) for t, p in conn.execute(sa.text(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = :role AND table_schema = current_schema() "
            "UNION SELECT table_name, privilege_type || ' (' || string_agg(column_name, ', ' ORDER BY column_name) || ')' "
            "FROM information_schema.column_privileges c WHERE grantee = :role AND table_schema = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM information_schema.role_table_grants g WHERE g.grantee = c.grantee "
            "AND g.table_name = c.table_name AND g.privilege_type = c.privilege_type) "
            "GROUP BY table_name, privilege_type ORDER BY 1, 2"
        ), {"role": role}))
    unprotected = tuple(sorted(set(schema_tables()) - set(tables)))
    others = tuple((t, p) for t, p in every_policy if p != "kpi_scope" and t in tables)
    return Secured(describe(engine), role, created, tables, policies, grants, unprotected, others)


__all__ = [
    "DEFAULT_ROLE", "DUCKDB_REFUSAL", "EVERY_DEPARTMENT", "SCRIPT", "SETTING", "Secured",
    "check_role_name", "secure", "set_viewer", "setting_value", "viewer_scope",
]
