"""The administrators' access file (data.access.AccessFile): for identity providers that
cannot put departments and roles in the ID token, it gives them by email or by group. It
is checked before anyone is let in, and every mistake is named with its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from data.access import ALL, AccessFile, AccessFileError, Viewer

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
# who may see what
[[person]]
email = "A.Head@Example.gov"
departments = ["civil"]
roles = ["head"]

[[person]]
email = "planner@example.gov"
departments = ["benefits", "revenue"]
roles = ["planner"]

[[group]]
name = "kpi-analysts"
departments = "*"
roles = ["analyst"]
"""


def test_a_person_is_found_by_email_whatever_its_case_and_a_group_by_name():
    access = AccessFile.parse(GOOD)
    head = Viewer.from_claims({"email": "a.head@example.gov"}, access=access)
    assert head.departments == {"civil"} and head.roles == {"head"}
    assert head.can("figures") and not head.can("rows") and not head.can("plan")

    both = Viewer.from_claims({"email": "planner@example.gov", "groups": ["kpi-analysts", "staff"]}, access=access)
    assert both.departments is ALL  # the group's "every department" wins over the person's two
    assert both.roles == {"planner", "analyst"} and both.can("rows") and both.can("plan") and not both.can("administer")


def test_what_the_token_says_is_kept_and_the_file_adds_to_it():
    access = AccessFile.parse(GOOD)
    viewer = Viewer.from_claims({"email": "a.head@example.gov", "departments": ["transport"], "roles": ["planner"]}, access=access)
    assert viewer.departments == {"civil", "transport"} and viewer.roles == {"head", "planner"}


def test_someone_the_file_does_not_name_gets_nothing_from_it():
    stranger = Viewer.from_claims({"email": "someone@else.org", "groups": ["staff"]}, access=AccessFile.parse(GOOD))
    assert stranger.departments == frozenset() and stranger.roles == frozenset()


def test_every_mistake_is_named_with_its_line_at_once():
    text = """\
[[person]]
email = "a.head@example.gov"
departments = ["civil"]
roles = ["heads"]

[[person]]
email = "not-an-address"
roles = ["analyst"]
colour = "blue"

[[group]]
departments = "civil"
roles = []

[[person]]
email = "A.HEAD@example.gov"
roles = ["admin"]
"""
    with pytest.raises(AccessFileError) as raised:
        AccessFile.parse(text, "config/access.toml")
    message = str(raised.value)
    assert message.startswith("config/access.toml has 7 problems:")
    assert "config/access.toml line 1 ([[person]] 1): unknown role(s) 'heads'; use head, analyst, planner, admin" in message
    assert "line 6 ([[person]] 2): unknown key(s) colour; use email, departments, roles" in message
    assert "line 6 ([[person]] 2): 'not-an-address' is not an email address" in message
    assert 'line 11 ([[group]] 1): needs name = "..."' in message
    assert 'line 11 ([[group]] 1): departments must be a list of department ids, or "*" for every department' in message
    assert "line 11 ([[group]] 1): gives no role; give at least one of head, analyst, planner, admin" in message
    assert message.index("line 6 ") < message.index("line 11 ") < message.index("line 15 ")  # in the file's order
    assert "line 15 ([[person]] 3): email 'a.head@example.gov' is already given at line 1" in message


def test_a_file_that_is_not_toml_says_where():
    with pytest.raises(AccessFileError, match=r"config/access.toml: not valid TOML: .*line 2"):
        AccessFile.parse('[[person]]\nemail = "x@y.org\n', "config/access.toml")


def test_the_command_checks_the_file_before_anyone_is_let_in(tmp_path):
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD)
    bad.write_text('[[person]]\nemail = "x@y.org"\nroles = ["boss"]\n')
    run = lambda path: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "dashboard", "--check-access"], cwd=ROOT, capture_output=True, text=True,
        env={"KPI_ACCESS_FILE": str(path), "PATH": "/usr/bin:/bin"}, timeout=120,
    )
    passed, failed = run(good), run(bad)
    assert passed.returncode == 0 and "2 people and 1 groups, no mistakes" in passed.stdout
    assert failed.returncode == 2 and "line 1 ([[person]] 1): unknown role(s) 'boss'" in failed.stderr


def test_the_example_in_the_repository_is_a_valid_access_file():
    access = AccessFile.load(ROOT / "config" / "access.example.toml")
    assert {grant.key for grant in access.grants} == {"civil.head@example.gov", "benefits.planner@example.gov", "kpi-analysts"}
