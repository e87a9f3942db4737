"""The importer's reference (python -m data targets) describes every key the importer
accepts and every target column, and docs/import-targets.md is its current output."""

from __future__ import annotations

from pathlib import Path

from data.__main__ import main
from data.importer.reference import targets_reference, undescribed
from data.importer.targets import DIMENSIONS, TARGETS

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-targets.md"


def test_every_mapping_key_the_importer_accepts_is_described():
    assert undescribed() == []


def test_every_target_column_and_allowed_value_is_listed():
    text = targets_reference()
    for table in [*TARGETS.values(), *DIMENSIONS.values()]:
        assert f"### `{table.table}`" in text
        for name, column in table.columns.items():
            line = next(line for line in text.splitlines() if line.startswith(f"| `{name}` | {column.sql_type} |"))
            assert all(f"`{value}`" in line for value in column.allowed)
    assert "`phone`" in text and "`service_centre`" in text  # the vocabularies a mapping maps into


def test_the_committed_document_is_the_current_output(tmp_path, capsys):
    assert main(["targets"]) == 0
    printed = capsys.readouterr().out
    assert printed == DOC.read_text(encoding="utf-8"), "docs/import-targets.md is stale: run python -m data targets --out docs/import-targets.md"
    assert main(["targets", "--out", str(tmp_path / "ref.md")]) == 0
    assert (tmp_path / "ref.md").read_text(encoding="utf-8") == printed
