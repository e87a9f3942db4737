"""A publication of part of the small world, and its release (written once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.database import create_engine
from metrics.publish import load_publication, publish
from tests.conftest import held_open

# Two departments publish some of their services; benefits and revenue publish nothing.
PUBLICATION = """
[release]
publisher = "Test Performance Team"
open_data_url = "https://example.gov/open-data"

[departments.transport]
services = ["driving_licence", "blue_badge"]
offices = ["leeds", "birmingham", "sheffield_cc"]

[departments.civil]
services = ["passport", "marriage_notice"]
offices = ["brighton", "coventry_cc"]
"""
PUBLISHED = ("driving_licence", "blue_badge", "passport", "marriage_notice")


@pytest.fixture(scope="session")
def publication_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "publication.toml"
    path.write_text(PUBLICATION, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def release(duckdb_url: str, publication_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A month release of the small world: its record (folder, version, ...)."""
    with held_open(duckdb_url):  # opened once, not for every query (tests.conftest)
        engine = create_engine(duckdb_url)
        try:
            return publish(engine, tmp_path_factory.mktemp("releases"), publication=load_publication(publication_file))
        finally:
            engine.dispose()
