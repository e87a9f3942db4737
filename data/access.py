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
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from data.database import connect
from data.row_security import EVERY_DEPARTMENT, set_viewer

ROLES = ("head", "analyst", "planner", "admin")
ROLE_WORDS = {"head": "department head", "analyst": "analyst", "planner": "planner", "admin": "administrator"}

# What each role may do. Every role sees the figures of its departments (the scorecard,
# trends, queues, satisfaction, anomalies, the catalogue) and may download those tables.
ABILITIES: dict[str, tuple[str, ...]] = {
    "figures": ROLES,
    "rows": ("analyst", "admin"),  # the individual rows behind a number, their files, the Tables page
    "plan": ("planner", "admin"),  # demand forecasts and staffing
    "annotate": ("analyst", "admin"),  # notes on the record (data/notes.py)
    "administer": ("admin",),  # imports, every subscription, webhooks, the audit
}


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
    subject: str = ""  # the identity provider's id of the person (the token's sub), for the audit

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
    def from_claims(cls, claims: Mapping[str, Any], *, name_claim: str = "email", access: AccessFile | None = None) -> Viewer:
        """A viewer from an ID token's claims: ``departments`` (a list of ids, or "*" for
        every department), ``roles`` (a list of ROLES) and ``name_claim`` (the name shown),
        together with what the administrators' ``access`` file grants to the viewer's
        email or to any of their ``groups``. Absent claims and no grant give no
        departments and no roles: a viewer who sees nothing."""
        name = str(claims.get(name_claim) or claims.get("sub") or "unknown viewer")
        departments = claims.get("departments") or []
        roles = claims.get("roles") or []
        groups = claims.get("groups") or []
        for claim, value in (("departments", departments), ("roles", roles), ("groups", groups)):
            if not (value == "*" and claim == "departments") and not (
                isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
            ):
                raise AccessError(f"viewer {name!r}: the {claim!r} claim must be a list of strings, not {value!r}")
        seen: frozenset[str] | _Every = ALL if departments == "*" else frozenset(departments)
        granted_roles = set(roles)
        for grant in access.grants_for(claims.get("email"), groups) if access else ():
            seen = ALL if ALL in (seen, grant.departments) else seen | grant.departments
            granted_roles |= grant.roles
        return cls(name, seen, frozenset(granted_roles), str(claims.get("sub") or ""))

    def can(self, ability: str) -> bool:
        """Whether any of the viewer's roles may do ``ability`` (one of ABILITIES)."""
        if ability not in ABILITIES:
            raise AccessError(f"unknown ability {ability!r}; use {', '.join(ABILITIES)}")
        return bool(self.roles & set(ABILITIES[ability]))


CLAIM_SETTINGS = {"departments": "KPI_DEPARTMENTS_CLAIM", "roles": "KPI_ROLES_CLAIM", "groups": "KPI_GROUPS_CLAIM"}


def named_claims(claims: Mapping[str, Any], settings: Mapping[str, str]) -> dict[str, Any]:
    """The ID token's claims with ``departments``, ``roles`` and ``groups`` read from the
    claims the settings name (KPI_DEPARTMENTS_CLAIM, KPI_ROLES_CLAIM, KPI_GROUPS_CLAIM;
    by default the same names), for providers whose claims are called otherwise (Entra ID's
    ``extension_...``, Keycloak's ``realm_access``-mapped names). A claim under the default
    name is not read when a setting names another: the setting says where the truth is."""
    out = dict(claims)
    for claim, setting in CLAIM_SETTINGS.items():
        out[claim] = claims.get(settings.get(setting) or claim)
    return out


def roles_that_can(ability: str) -> str:
    """The roles that may do ``ability``, in words ("analyst or administrator")."""
    words = [ROLE_WORDS[role] for role in ABILITIES[ability]]
    return " or ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " or " + words[-1]


# ---------------------------------------------------------------------- the access file


DEFAULT_ACCESS_FILE = Path(__file__).resolve().parent.parent / "config" / "access.toml"


def access_file_path() -> str | None:
    """The administrators' access file (KPI_ACCESS_FILE, else config/access.toml), or
    None when there is none: departments and roles then come from the ID token alone."""
    path = os.environ.get("KPI_ACCESS_FILE") or str(DEFAULT_ACCESS_FILE)
    return path if os.path.exists(path) else None


class AccessFileError(ValueError):
    """The administrators' access file is malformed; the message names every problem and its line."""


@dataclass(frozen=True)
class Grant:
    """What the access file gives a person (by email) or everyone in a group."""

    kind: str  # "person" or "group"
    key: str  # the email (lower case) or the group's name
    departments: frozenset[str] | _Every
    roles: frozenset[str]
    line: int


@dataclass(frozen=True)
class AccessFile:
    """Who may see what, for identity providers that cannot put departments and roles in
    the ID token: config/access.toml (KPI_ACCESS_FILE), maintained by administrators.

        [[person]]
        email = "a.head@example.gov"
        departments = ["civil"]
        roles = ["head"]

        [[group]]
        name = "kpi-analysts"           # a value of the ID token's groups claim
        departments = "*"               # every department
        roles = ["analyst"]
    """

    path: str
    grants: tuple[Grant, ...]

    @classmethod
    def load(cls, path: str | Path) -> AccessFile:
        text = Path(path).read_text(encoding="utf-8")
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, path: str = "access file") -> AccessFile:
        """Read and check the file, reporting every problem at once with its line."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise AccessFileError(f"{path}: not valid TOML: {error}") from None
        headers = {kind: [number for number, line in enumerate(text.splitlines(), start=1) if re.match(rf"\s*\[\[\s*{kind}\s*\]\]", line)] for kind in ("person", "group")}
        problems: list[str] = [f"{path}: unknown section [{key}]; use [[person]] or [[group]]" for key in document if key not in ("person", "group")]
        grants: list[Grant] = []
        seen: dict[tuple[str, str], int] = {}
        for kind, key_name in (("person", "email"), ("group", "name")):
            entries = document.get(kind, [])
            if not isinstance(entries, list):
                problems.append(f"{path}: {kind} must be written as [[{kind}]] sections")
                continue
            for index, entry in enumerate(entries):
                line = headers[kind][index] if index < len(headers[kind]) else 0
                where = f"{path} line {line} ([[{kind}]] {index + 1})"
                wrong = sorted(set(entry) - {key_name, "departments", "roles"})
                if wrong:
                    problems.append(f"{where}: unknown key(s) {', '.join(wrong)}; use {key_name}, departments, roles")
                key = entry.get(key_name)
                if not isinstance(key, str) or not key.strip():
                    problems.append(f"{where}: needs {key_name} = \"...\"")
                    key = None
                else:
                    key = key.strip().lower() if kind == "person" else key.strip()
                    if kind == "person" and "@" not in key:
                        problems.append(f"{where}: {key!r} is not an email address")
                    if (kind, key) in seen:
                        problems.append(f"{where}: {key_name} {key!r} is already given at line {seen[(kind, key)]}")
                    seen[(kind, key)] = line
                departments = entry.get("departments", [])
                if departments != "*" and not (isinstance(departments, list) and all(isinstance(d, str) and d for d in departments)):
                    problems.append(f"{where}: departments must be a list of department ids, or \"*\" for every department")
                    departments = []
                roles = entry.get("roles", [])
                if not (isinstance(roles, list) and all(isinstance(r, str) for r in roles)):
                    problems.append(f"{where}: roles must be a list of roles ({', '.join(ROLES)})")
                    roles = []
                unknown = sorted(set(roles) - set(ROLES))
                if unknown:
                    problems.append(f"{where}: unknown role(s) {', '.join(map(repr, unknown))}; use {', '.join(ROLES)}")
                if not roles:
                    problems.append(f"{where}: gives no role; give at least one of {', '.join(ROLES)}")
                if key is not None:
                    grants.append(Grant(kind, key, ALL if departments == "*" else frozenset(departments), frozenset(roles) & set(ROLES), line))
        if problems:
            problems.sort(key=lambda problem: int(m.group(1)) if (m := re.search(r" line (\d+) ", problem)) else 0)
            raise AccessFileError(f"{path} has {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n- " + "\n- ".join(problems))
        return cls(path, tuple(grants))

    def grants_for(self, email: object, groups: Iterable[str]) -> list[Grant]:
        """The grants of a person's email (case does not matter) and of their groups."""
        address = email.strip().lower() if isinstance(email, str) else None
        wanted = set(groups)
        return [grant for grant in self.grants if (grant.kind == "person" and grant.key == address) or (grant.kind == "group" and grant.key in wanted)]


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
