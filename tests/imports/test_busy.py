"""An import never makes a reader of a DuckDB file fail (issue 15 item 10): the
transaction runs on a copy that is swapped in, so the file is free while it runs."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data.importer import import_file
from tests.imports import boston
from tests.imports.conftest import scalar

READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])  # as the dashboard connects; no retry here: a lock fails at once
print(con.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
"""
WRITE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("INSERT INTO anomaly_acks (flag_key, status, acked_by, acked_at, note) "
            "VALUES ('k', 'known', 'me', now()::TIMESTAMP, 'written meanwhile')")
print("written")
"""


@contextlib.contextmanager
def _while_the_import_writes(script: str, path: Path) -> Iterator[list[str]]:
    """Run ``script`` on ``path`` in another process once, in the middle of the import's
    transaction (as it records the keys); the list gets what it printed, or its error."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO import_keys") and not seen:
            done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
            seen.append(done.stdout.strip() or done.stderr.strip().splitlines()[-1])

    sa.event.listen(Engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(Engine, "before_cursor_execute", listen)


def _first_import(tmp_path: Path, first_id: int) -> tuple[Path, list[dict[str, str]]]:
    path = tmp_path / "kpi.duckdb"
    cases = [boston.case(first_id + i, "01/05/2015 09:00:00 AM") for i in range(20)]
    import_file(boston.write(tmp_path / "first.csv", cases[:10]), "boston311", f"duckdb:///{path}")
    return path, cases


def test_a_reader_of_the_file_is_not_blocked_while_an_import_writes(tmp_path):
    path, cases = _first_import(tmp_path, 800)
    with _while_the_import_writes(READ, path) as seen:
        result = import_file(boston.write(tmp_path / "second.csv", cases), "boston311", f"duckdb:///{path}")
    assert seen == ["10"]  # the reader ran, and saw the file as it was before the import
    assert result.reconciliation.inserted == 10
    assert scalar(f"duckdb:///{path}", "SELECT COUNT(*) FROM cases") == 20


def test_a_write_by_another_process_during_the_import_is_kept(tmp_path, capsys):
    """Someone acknowledges a flag while the import runs: the copy is dropped and the
    import is written into the file itself, so both are there."""
    path, cases = _first_import(tmp_path, 900)
    with _while_the_import_writes(WRITE, path) as seen:
        result = import_file(boston.write(tmp_path / "second.csv", cases), "boston311", f"duckdb:///{path}", quiet=False)
    assert seen == ["written"]
    assert f"DuckDB file {path} changed during the import; writing into it directly" in capsys.readouterr().err
    assert result.reconciliation.inserted == 10
    assert scalar(f"duckdb:///{path}", "SELECT COUNT(*) FROM cases") == 20
    assert scalar(f"duckdb:///{path}", "SELECT note FROM anomaly_acks") == "written meanwhile"
    assert [p.name for p in tmp_path.iterdir() if "importing" in p.name] == []
