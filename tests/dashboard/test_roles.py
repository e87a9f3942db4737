"""What each role may open (data.access ABILITIES, dashboard/app.py NEEDS): a department
head sees the figures and trends of their departments but not the individual rows or
the planning pages; an analyst also gets the rows behind a number and their files; a
planner the forecasts and staffing; a viewer with no role sees only a page that says so.
A page not offered refuses anyone who finds its address."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data.access import Viewer
from tests.dashboard.conftest import page_file
from tests.dashboard.test_viewer import open_app

HEAD = Viewer("civil head", {"civil"}, {"head"})
ANALYST = Viewer("civil analyst", {"civil"}, {"analyst"})
PLANNER = Viewer("civil planner", {"civil"}, {"planner"})


def said(at: AppTest) -> str:
    return " ".join(element.value for element in (*at.info, *at.warning, *at.markdown))


def test_a_head_sees_the_figures_of_a_number_but_not_the_cases_behind_it(app_env):
    at = open_app(HEAD, "pages/drilldown.py", query={"kpi": "on_time_rate", "department": "civil"})
    assert not at.exception
    assert at.metric, "the head sees the figure"
    assert "The individual cases behind a number, and their files, are for the analyst or administrator role." in said(at)
    assert not [b for b in at.button if b.label.startswith("Prepare the CSV")]
    assert not [d for d in at.dataframe if "Case" in d.value.columns]


def test_an_analyst_gets_the_cases_behind_the_number_and_their_files(app_env):
    at = open_app(ANALYST, "pages/drilldown.py", query={"kpi": "on_time_rate", "department": "civil"})
    assert not at.exception
    assert "are for the analyst or administrator role" not in said(at)
    assert [b for b in at.button if b.label.startswith("Prepare the CSV")]
    assert [d for d in at.dataframe if "Case" in d.value.columns]


def test_the_planning_page_is_for_planners_and_the_tables_for_analysts(app_env):
    head = open_app(HEAD)
    for page in ("pages/planner.py", "pages/tables.py"):  # not in a head's menu: no page to switch to
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            head.switch_page(page_file(page))

    planning = open_app(PLANNER, "pages/planner.py")
    assert not planning.exception and "are for the planner" not in said(planning)
    assert "Demand and staffing" in [t.value for t in planning.title]


def test_a_page_refuses_a_viewer_whose_role_does_not_allow_it_even_when_reached_directly(app_env):
    for page, words in (("planner.py", "Demand forecasts and staffing are for the planner or administrator role."),
                        ("tables.py", "The tables of individual records are for the analyst or administrator role.")):
        at = AppTest.from_file(page_file(f"pages/{page}"), default_timeout=120)
        at.session_state["viewer"] = HEAD
        at.run()
        assert not at.exception
        assert words in said(at)
        assert not at.dataframe and not at.selectbox


def test_a_viewer_with_departments_but_no_role_sees_only_that(app_env):
    at = open_app(Viewer("new starter", {"civil"}, set()))
    assert not at.exception
    assert [w.value for w in at.warning][0].startswith("You are signed in as new starter, but no role")
    assert not at.selectbox and not at.dataframe and not at.metric
