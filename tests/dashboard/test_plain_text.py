"""Names that came from a file are shown as plain text (issue 15, item 7): a service named
``[x](javascript:alert(1))`` and a department name carrying an image and a formula show
literally on every page, and no Markdown element carries a link or an image made of them."""

from __future__ import annotations

import re
import sys

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from tests.conftest import ROOT
from tests.dashboard.conftest import HOSTILE_DEPARTMENT, HOSTILE_OFFICE, HOSTILE_SERVICE

if str(ROOT / "dashboard") not in sys.path:
    sys.path.insert(0, str(ROOT / "dashboard"))
# Markdown that makes a link or an image; escaped (a backslash before it) it is literal text
LINK_OR_IMAGE = re.compile(r"(?<!\\)(\]\(|!\[)")


def texts(at: AppTest) -> list[str]:
    """Every piece of Markdown the page rendered: text, headings, alerts, labels."""
    values = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        values += [element.value for element in getattr(at, kind)]
    values += [button.label for button in at.button]
    values += [metric.label for metric in at.metric]
    values += [expander.label for expander in at.expander]
    return values


def literal(markdown: str) -> str:
    """What a Markdown text shows once its backslash escapes are read."""
    return re.sub(r"\\(.)", r"\1", markdown)


def open_page(page: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / page), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def hostile_texts(at: AppTest) -> list[str]:
    names = (HOSTILE_SERVICE, HOSTILE_OFFICE, HOSTILE_DEPARTMENT)
    return [text for text in texts(at) if any(name in literal(text) for name in names)]


@pytest.mark.parametrize(
    ("page", "query", "shown"),
    [
        ("drilldown.py", {"kpi": "volume", "department": "civil", "service": "passport", "office": "leeds"}, HOSTILE_SERVICE),
        ("overview.py", {"department": "civil", "service": "passport"}, HOSTILE_SERVICE),
        ("satisfaction.py", {"department": "civil"}, HOSTILE_DEPARTMENT),
        ("queues.py", {"office": "leeds"}, HOSTILE_OFFICE),
        ("catalogue.py", {"department": "civil"}, HOSTILE_DEPARTMENT),
    ],
)
def test_imported_names_show_as_literal_text(hostile_env, page, query, shown):
    at = open_page(page, query)
    found = hostile_texts(at)
    assert any(shown in literal(text) for text in found), f"{shown!r} is not on the page"
    for text in found:
        for name in (HOSTILE_SERVICE, HOSTILE_OFFICE, HOSTILE_DEPARTMENT):
            if name in literal(text):
                assert name not in text, f"{name!r} is not escaped in {text!r}"
    assert not [text for text in texts(at) if LINK_OR_IMAGE.search(text)]


def test_the_drilldown_heading_and_breadcrumb_show_the_service_name_itself(hostile_env):
    at = open_page("drilldown.py", {"kpi": "volume", "department": "civil", "service": "passport"})
    heading = at.subheader[0].value
    assert heading.startswith(f"Volume, {plain(HOSTILE_SERVICE)}, week ")
    assert literal(heading).startswith(f"Volume, {HOSTILE_SERVICE}, week ")
    assert literal(at.button(key="crumb-service_id").label) == HOSTILE_SERVICE


def test_plain_escapes_what_starts_markdown_and_leaves_ordinary_names():
    assert plain("[x](javascript:alert(1))") == r"\[x\](javascript\:alert(1))"
    assert plain("![](https://any.host/p.png)") == r"\!\[\](https\://any.host/p.png)"
    assert plain("see www.phish.example") == r"see www\.phish.example"
    assert plain("# Heading\n- item") == r"\# Heading - item"
    assert plain("1. first") == r"1\. first"
    assert plain("<img src=x onerror=alert(1)>") == r"\<img src=x onerror=alert(1)\>"
    assert plain(":red[alarm] :material/home:") == r"\:red\[alarm\] \:material/home\:"
    for name in ("Residents' parking permit", "Online (North)", "Jobseeker's allowance claim", "2026-W47"):
        assert plain(name) == name
