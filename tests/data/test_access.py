"""data.access: which departments a viewer may see, with viewers built directly."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from sqlalchemy.engine import Engine

from data.access import (
    ALL,
    ROLES,
    AccessError,
    Viewer,
    every_department,
    may,
    may_see_department,
    sees_every_department,
    visible_departments,
)
from data.database import create_engine
from data.extracts import run_extract

WINDOW = {"start": datetime(2026, 11, 9), "end": datetime(2026, 11, 16)}


@pytest.fixture(scope="module")
def small(duckdb_url: str):
    engine = create_engine(duckdb_url)
    yield engine
    engine.dispose()


def cases_seen_by(engine: Engine, viewer: Viewer) -> pl.DataFrame:
    departments = visible_departments(engine, viewer)
    services = run_extract(engine, "services", departments=departments).select("service_id", "department_id")
    return run_extract(engine, "cases", departments=departments, **WINDOW).join(services, on="service_id", how="left")


def test_a_viewer_of_one_department_sees_only_its_rows(small, all_departments):
    head = Viewer("civil head", {"civil"}, {"head"})
    assert visible_departments(small, head) == ("civil",)
    cases = cases_seen_by(small, head)
    assert cases.height > 0
    assert set(cases["department_id"].unique()) == {"civil"}
    everything = cases_seen_by(small, Viewer.local_admin())
    assert cases.height == everything.filter(pl.col("department_id") == "civil").height < everything.height


def test_a_viewer_with_no_departments_sees_nothing(small):
    nobody = Viewer("nobody")
    assert visible_departments(small, nobody) == ()
    assert cases_seen_by(small, nobody).height == 0
    assert not may_see_department(nobody, "civil")


def test_the_local_admin_sees_every_department_with_every_role(small, all_departments):
    admin = Viewer.local_admin()
    assert visible_departments(small, admin) == tuple(sorted(all_departments)) == every_department(small)
    assert admin.departments is ALL
    assert all(may(admin, role) for role in ROLES)
    assert may_see_department(admin, "a department added tomorrow")


def test_departments_a_viewer_may_see_but_the_database_lacks_are_not_listed(small):
    viewer = Viewer("two", {"civil", "closed_last_year"}, {"analyst"})
    assert visible_departments(small, viewer) == ("civil",)


def test_roles_are_checked():
    analyst = Viewer("analyst", ALL, {"analyst"})
    assert may(analyst, "analyst") and not may(analyst, "planner")
    with pytest.raises(AccessError, match=r"viewer 'x' has unknown role\(s\) boss; use head, analyst, planner, admin"):
        Viewer("x", ALL, {"boss"})
    with pytest.raises(AccessError, match="unknown role 'boss'"):
        may(analyst, "boss")
    with pytest.raises(AccessError, match="not the string 'civil'"):
        Viewer("x", "civil")  # type: ignore[arg-type]


def test_a_viewer_is_a_value():
    assert Viewer("a", ["civil", "civil"], ("head",)) == Viewer("a", frozenset({"civil"}), frozenset({"head"}))
    assert Viewer("a", {"b", "a"}).key == ("a", ("a", "b"), ())
    assert Viewer.local_admin().key == ("local administrator", "ALL", tuple(sorted(ROLES)))


def test_a_viewer_from_id_token_claims():
    viewer = Viewer.from_claims({"email": "ana@example.org", "departments": ["civil", "revenue"], "roles": ["analyst"]})
    assert viewer == Viewer("ana@example.org", {"civil", "revenue"}, {"analyst"})
    assert Viewer.from_claims({"sub": "42", "departments": "*", "roles": []}).departments is ALL
    assert Viewer.from_claims({"sub": "42"}) == Viewer("42", subject="42")  # no claims: sees nothing
    with pytest.raises(AccessError, match="the 'departments' claim must be a list of strings, not 'civil'"):
        Viewer.from_claims({"sub": "42", "departments": "civil"})
    with pytest.raises(AccessError, match="unknown role"):
        Viewer.from_claims({"sub": "42", "roles": ["root"]})


def test_seeing_every_department():
    assert sees_every_department(["a", "b", "c"], ["a", "b"])
    assert not sees_every_department(["a"], ["a", "b"])
    assert not sees_every_department([], ["a"])
    assert not sees_every_department([], [])


def test_the_claims_are_read_under_the_names_the_settings_give():
    from data.access import Viewer, named_claims

    token = {"sub": "u1", "email": "ada@example.gov", "extension_Departments": ["civil"], "app_roles": ["analyst"],
             "departments": ["revenue"], "roles": ["admin"]}
    renamed = named_claims(token, {"KPI_DEPARTMENTS_CLAIM": "extension_Departments", "KPI_ROLES_CLAIM": "app_roles"})
    viewer = Viewer.from_claims(renamed)
    assert (set(viewer.departments), set(viewer.roles)) == ({"civil"}, {"analyst"})  # not the default-named claims
    as_they_are = Viewer.from_claims(named_claims(token, {}))
    assert (set(as_they_are.departments), set(as_they_are.roles)) == ({"revenue"}, {"admin"})
    missing = Viewer.from_claims(named_claims(token, {"KPI_DEPARTMENTS_CLAIM": "no_such_claim"}))
    assert set(missing.departments) == set()  # a setting that names nothing gives no department, never the default's
