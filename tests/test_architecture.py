"""The import arrows of docs/architecture.md: every import of every package's .py files
(module level and inside functions) is one the document allows.

The allowed arrows, the narrower module-level rule and the exceptions are read from the
document's tables, so the two cannot drift.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

DOCUMENT = ROOT / "docs" / "architecture.md"
PACKAGES = ("data", "metrics", "forecasting", "anomalies", "notify", "dashboard", "public_page", "devtools", "bench", "tests")
NAME = re.compile(r"`([^`]+)`")


def tables(text: str) -> dict[str, list[list[str]]]:
    """Each '## heading' of the document's Markdown tables: its body rows, cells stripped."""
    found: dict[str, list[list[str]]] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("|") and not set(line) <= set("|-: "):
            found.setdefault(heading, []).append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return {name: rows[1:] for name, rows in found.items()}  # without the header row


def names(cell: str) -> set[str]:
    return set(NAME.findall(cell))


def rules(document: Path = DOCUMENT) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, set[str]]]:
    """(package: packages it may import, package: modules it may import at module level,
    file: packages it may also import), from the document."""
    read = tables(document.read_text())
    allowed = {names(row[0]).pop(): names(row[1]) for row in read["Allowed arrows"]}
    narrower = {names(row[0]).pop(): names(row[1]) for row in read["Narrower at module level"]}
    exceptions = {names(row[0]).pop(): names(row[1]) for row in read["Exceptions"]}
    return allowed, narrower, exceptions


def imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, module, at module level) of every absolute import in the file; an import
    under a module-level if or try counts as module level."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    top |= {id(child) for node in tree.body if isinstance(node, ast.If | ast.Try) for child in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, id(node) in top))
    return sorted(found)


def forbidden(root: Path, allowed: dict[str, set[str]], narrower: dict[str, set[str]], exceptions: dict[str, set[str]]) -> list[str]:
    """Every import under ``root``'s packages that the rules forbid, as 'file:line ...'."""
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            for line, module, at_top in imports(path):
                target = module.split(".")[0]
                if target not in PACKAGES or target == package:
                    continue
                if target not in allowed[package] | exceptions.get(where, set()):
                    problems.append(f"{where}:{line} imports {module}: {package} may not import {target}")
                    continue
                only = {name for name in narrower.get(package, set()) if name.split(".")[0] == target}
                if at_top and only and not any(module == name or module.startswith(name + ".") for name in only):
                    problems.append(f"{where}:{line} imports {module} at module level: {package} may import only "
                                    f"{', '.join(sorted(only))} of {target} there (import it inside the function)")
    return problems


def test_every_import_follows_docs_architecture():
    problems = forbidden(ROOT, *rules())
    assert not problems, "imports docs/architecture.md forbids:\n" + "\n".join(problems)


def test_the_document_names_every_package_and_only_packages():
    allowed, narrower, exceptions = rules()
    assert set(allowed) == set(PACKAGES)
    for package, targets in allowed.items():
        assert targets <= set(PACKAGES) - {package}, package
    assert set(narrower) <= set(PACKAGES)
    for where in exceptions:
        assert (ROOT / where).is_file(), f"docs/architecture.md names an exception for {where}, which does not exist"


def test_a_forbidden_arrow_is_named_with_its_file_and_line(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "data" / "leak.py").write_text("import polars\n\n\ndef f():\n    from dashboard import state\n")
    (tmp_path / "metrics" / "engine.py").write_text(
        "from data.vocabulary import PHONE\nfrom data.database import connect\n\n\ndef run():\n    from data.extracts import run_extract\n"
    )
    (tmp_path / "bench" / "dashboard_render.py").write_text("from tests.e2e.conftest import serve\n")
    (tmp_path / "public_page" / "app.py").write_text("from data.extracts import run_extract\n")
    assert forbidden(tmp_path, *rules()) == [
        "data/leak.py:5 imports dashboard: data may not import dashboard",
        "metrics/engine.py:2 imports data.database at module level: metrics may import only data.fact_frames, "
        "data.vocabulary of data there (import it inside the function)",
        "public_page/app.py:1 imports data.extracts: public_page may not import data",
        "bench/dashboard_render.py:1 imports tests.e2e.conftest: bench may not import tests",
    ]
