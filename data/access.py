"""Who may see what: the one place that decides which departments a viewer may see.

A viewer is a value passed in (``Viewer``), never looked up behind the caller's back, so a
test builds the viewer it needs and a page, a command or a job says whose view it
computes. Every extract takes the departments a viewer may see as ``:departments``
(data/extracts.py refuses one that does not); ``visible_departments`` gives that list.

    viewer = Viewer.local_admin()                      # no sign-in: this machine's user
    departments = visible_departments(engine, viewer)  # ('benefits', 'civil', ...)
    run_extract(engine, "cases", departments=departments, ...)

Roles say what a viewer may do beside seeing (head, analyst, planner, admin); sign-in
(the next step) builds viewers from identity with ``Viewer.from_claims``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from data.database import connect
from data.row_security import EVERY_DEPARTMENT, set_viewer

ROLES = ("head", "analyst", "planner", "admin")


class _Every(enum.Enum):
    """Every department, present and future (a department added later included)."""

    ALL = "all"

    def __repr__(self) -> str:
        return "ALL"


ALL = _Every.ALL


class AccessError(ValueError):
    """A viewer that cannot be built as asked (an unknown role, a malformed claim)."""


@dataclass(frozen=True)
class Viewer:
    """Someone looking at the data: the departments they may see and their roles.

    departments: a set of department ids, or ALL (every department in the database).
    roles: a subset of ROLES.
    """

    name: str
    departments: frozenset[str] | _Every = frozenset()
    roles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.departments is not ALL:
            if isinstance(self.departments, str):
                raise AccessError(f"viewer {self.name!r}: departments must be a set of ids or ALL, not the string {self.departments!r}")
            object.__setattr__(self, "departments", frozenset(self.departments))
        if isinstance(self.roles, str):
            raise AccessError(f"viewer {self.name!r}: roles must be a set of roles, not the string {self.roles!r}")
        roles = frozenset(self.roles)
        unknown = sorted(roles - set(ROLES))
        if unknown:
            raise AccessError(f"viewer {self.name!r} has unknown role(s) {', '.join(unknown)}; use {', '.join(ROLES)}")
        object.__setattr__(self, "roles", roles)

    @property
    def key(self) -> tuple[str, tuple[str, ...] | str, tuple[str, ...]]:
        """The viewer as plain sorted values (a cache key that does not depend on set order)."""
        departments = "ALL" if self.departments is ALL else tuple(sorted(self.departments))
        return self.name, departments, tuple(sorted(self.roles))

    @classmethod
    def local_admin(cls) -> Viewer:
        """The viewer of a dashboard without sign-in (it listens on this machine only):
        every department, every role."""
        return cls("local administrator", ALL, frozenset(ROLES))

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], *, name_claim: str = "email") -> Viewer:
        """A viewer from an ID token's claims: ``departments`` (a list of ids, or "*" for
        every department), ``roles`` (a list of ROLES) and ``name_claim`` (the name shown).
        Absent claims give no departments and no roles: a viewer who sees nothing."""
        name = str(claims.get(name_claim) or claims.get("sub") or "unknown viewer")
        departments = claims.get("departments") or []
        roles = claims.get("roles") or []
        for claim, value in (("departments", departments), ("roles", roles)):
            if not (value == "*" and claim == "departments") and not (
                isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
            ):
                raise AccessError(f"viewer {name!r}: the {claim!r} claim must be a list of strings, not {value!r}")
        return cls(name, ALL if departments == "*" else frozenset(departments), frozenset(roles))


def _departments(engine: Engine, scope: Sequence[str] | str) -> tuple[str, ...]:
    with connect(engine) as conn:
        set_viewer(conn, scope)  # row-level security (PostgreSQL) binds the dashboard's role to this scope
        rows = conn.exec_driver_sql("SELECT department_id FROM departments ORDER BY department_id").fetchall()
    return tuple(row[0] for row in rows)


def every_department(engine: Engine) -> tuple[str, ...]:
    """Every department in the database, sorted: the one place their list is read (for
    jobs and for what pools departments; a viewer's own list is visible_departments)."""
    return _departments(engine, EVERY_DEPARTMENT)


def visible_departments(engine: Engine, viewer: Viewer) -> tuple[str, ...]:
    """The departments in the database ``viewer`` may see, sorted (the ``:departments``
    of every extract run for them). Read under the viewer's own scope, so on PostgreSQL
    with row-level security the database agrees."""
    if viewer.departments is ALL:
        return _departments(engine, EVERY_DEPARTMENT)
    if not viewer.departments:
        return ()
    return tuple(d for d in _departments(engine, sorted(viewer.departments)) if may_see_department(viewer, d))


def may_see_department(viewer: Viewer, department_id: str) -> bool:
    return viewer.departments is ALL or department_id in viewer.departments


def may(viewer: Viewer, role: str) -> bool:
    """Whether ``viewer`` has ``role`` (one of ROLES; another name is a mistake, refused)."""
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}; use {', '.join(ROLES)}")
    return role in viewer.roles


def sees_every_department(visible: Iterable[str], every: Iterable[str]) -> bool:
    """Whether departments ``visible`` hold every department of ``every`` (and one at
    least): what seeing anything that pools departments (a total, an office, a
    channel) needs."""
    visible, every = set(visible), set(every)
    return bool(every & visible) and every <= visible
