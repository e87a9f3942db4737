"""The sql tests read the session's small world in this process only (no test here lets
another process open it, removes it or replaces it), so each module holds its DuckDB file
open (tests.conftest.held_open): the same queries, without reopening the file for each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import held_open


@pytest.fixture(scope="module", autouse=True)
def small_world_held_open(duckdb_url: str) -> Iterator[str]:
    with held_open(duckdb_url) as url:
        yield url
