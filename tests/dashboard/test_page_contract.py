"""One contract per page (STYLE.md, "Pages are thin"): a page in dashboard/pages/ reads its
widgets, calls its own data module (dashboard/<page>_data.py: cached loaders, a small view
dataclass) and its figures module (dashboard/<page>_figures.py: pure builders, frame in,
figure, table or sentence out), and lays them out. So a page holds no polars, no SQL and
no cache. A page whose layout is long may split it into dashboard/<page>_sections.py,
which keeps the same rules.

Read with ``ast``, never imported: a failure names the file and the line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DASHBOARD = ROOT / "dashboard"
PAGES = sorted(path for path in (DASHBOARD / "pages").glob("*.py") if path.name != "__init__.py")
PAGE_NAMES = [path.stem for path in PAGES]
LAYOUT = PAGES + sorted(DASHBOARD.glob("*_sections.py"))  # what a page may be split into
PAGE_MODULE_KINDS = ("data", "figures", "sections")

DATABASE_MODULES = ("sqlalchemy", "duckdb", "psycopg", "psycopg2")
NO_PAGE_IMPORTS = ("polars", *DATABASE_MODULES)
NO_FIGURES_IMPORTS = ("streamlit", *DATABASE_MODULES, "dashboard.state", "data.database", "data.extracts", "data.facts")
CACHES = ("cache_data", "cache_resource")
# SQL as it is written in this project's extracts (keywords in capitals), and the common
# lower-case statements; prose ("select a row", "choose one from the list") is not SQL
SQL = (
    re.compile(r"\bSELECT\b[\s\S]*?\bFROM\b"),
    re.compile(r"\bINSERT\s+INTO\b"),
    re.compile(r"\bUPDATE\s+\w+\s+SET\b"),
    re.compile(r"\bDELETE\s+FROM\b"),
    re.compile(r"\bselect\s+(\*|count\(|distinct\b)[\s\S]*?\bfrom\s+\w+", re.IGNORECASE),
    re.compile(r"\binsert\s+into\s+\w+\s*(\(|values\b|select\b)", re.IGNORECASE),
    re.compile(r"\bdelete\s+from\s+\w+\s+where\b", re.IGNORECASE),
)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _imported(node: ast.AST) -> list[tuple[str, str]]:
    """(module, the name it is bound to) of an import statement."""
    if isinstance(node, ast.Import):
        return [(alias.name, alias.asname or alias.name.split(".")[0]) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [(f"{node.module}.{alias.name}", alias.asname or alias.name) for alias in node.names]
    return []


def _is(module: str, names: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def page_problems(path: Path) -> list[str]:
    """Every way the module at ``path`` breaks the page rules, as 'file:line: what'."""
    tree = ast.parse(path.read_text(), filename=str(path))
    where = _relative(path)
    problems = []
    polars_names = {"pl", "polars"}
    for node in ast.walk(tree):
        for module, bound in _imported(node):
            if _is(module, NO_PAGE_IMPORTS):
                problems.append(f"{where}:{node.lineno}: imports {module} (polars and the database belong in the page's data module)")
                if _is(module, ("polars",)):
                    polars_names.add(bound)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in polars_names:
            problems.append(f"{where}:{node.lineno}: uses {node.value.id}.{node.attr} (a polars expression: move it to the data or figures module)")
        elif isinstance(node, ast.Attribute) and node.attr in CACHES:
            problems.append(f"{where}:{node.lineno}: uses st.{node.attr} (caches live in the page's data module)")
        elif isinstance(node, ast.Name) and node.id in CACHES:
            problems.append(f"{where}:{node.lineno}: uses {node.id} (caches live in the page's data module)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and any(pattern.search(node.value) for pattern in SQL):
            problems.append(f"{where}:{node.lineno}: a string that reads as SQL ({node.value[:60]!r}): SQL lives in sql/*.sql, read by a data module")
    return sorted(set(problems), key=lambda problem: int(problem.split(":")[1]))


@pytest.mark.parametrize("path", LAYOUT, ids=_relative)
def test_a_page_holds_no_polars_sql_or_cache(path):
    problems = page_problems(path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_page_has_its_data_and_figures_module_and_calls_them(page):
    for kind in ("data", "figures"):
        assert (DASHBOARD / f"{page}_{kind}.py").is_file(), f"dashboard/pages/{page}.py has no dashboard/{page}_{kind}.py"
    layout = [DASHBOARD / "pages" / f"{page}.py", DASHBOARD / f"{page}_sections.py"]
    modules = {
        module for path in layout if path.is_file() for node in ast.walk(ast.parse(path.read_text())) for module, _ in _imported(node)
    }
    for kind in ("data", "figures"):
        own = f"dashboard.{page}_{kind}"
        assert any(module == own or module.startswith(own + ".") for module in modules), f"dashboard/pages/{page}.py does not use {own}"


def test_modules_named_after_a_page_follow_the_scheme():
    """<page>_data, <page>_figures and <page>_sections only, and none for a page that does
    not exist; no figures_<page>.py or <page>_state.py of the old names."""
    problems = []
    for path in sorted(DASHBOARD.glob("*.py")):
        stem = path.stem
        if stem.startswith("figures_") or stem.endswith("_state") and stem != "state":
            problems.append(f"dashboard/{path.name}: name it <page>_data.py or <page>_figures.py")
        page, _, kind = stem.rpartition("_")
        if kind in PAGE_MODULE_KINDS and page and page not in PAGE_NAMES:
            problems.append(f"dashboard/{path.name}: there is no page dashboard/pages/{page}.py")
        if stem in PAGE_NAMES:
            problems.append(f"dashboard/{path.name}: has the name of a page; shared modules are named for what they do")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", sorted(DASHBOARD.glob("*_figures.py")), ids=_relative)
def test_a_figures_module_is_pure(path):
    """Frame in, figure, table or sentence out: no Streamlit, no cache, no database."""
    tree = ast.parse(path.read_text(), filename=str(path))
    problems = [
        f"{_relative(path)}:{node.lineno}: imports {module}"
        for node in ast.walk(tree) for module, _ in _imported(node) if _is(module, NO_FIGURES_IMPORTS)
    ]
    assert not problems, "\n".join(problems)


def test_no_module_is_imported_as_data():
    """'data' is the package that reads the database; an alias of that name hides it."""
    problems = [
        f"{_relative(path)}:{node.lineno}: imports {module} as data"
        for path in sorted(DASHBOARD.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        for module, bound in _imported(node)
        if bound == "data" and module != "data"
    ]
    assert not problems, "\n".join(problems)


def test_the_rules_catch_what_they_are_for(tmp_path):
    """A page that breaks each rule is named, with the line."""
    page = tmp_path / "broken.py"
    page.write_text(
        "import polars as pl\n"
        "import streamlit as st\n"
        "from sqlalchemy import text\n"
        "\n"
        "@st.cache_data(ttl=60)\n"
        "def load(): ...\n"
        "shown = frame.filter(pl.col('kpi') == 'x')\n"
        "rows = text(\"SELECT kpi FROM metrics WHERE week = :week\")\n"
        "st.button('Select a row from the list')\n"
    )
    problems = page_problems(page)
    lines = sorted({int(problem.split(":")[1]) for problem in problems})
    assert lines == [1, 3, 5, 7, 8], problems
    assert any("pl.col" in problem for problem in problems)
    assert any("reads as SQL" in problem for problem in problems)
    assert all(problem.startswith(f"{page}:") for problem in problems)
