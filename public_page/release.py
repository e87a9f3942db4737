"""Find and read the latest open-data release (see metrics/publish.py for how it is made).

A releases folder holds ``latest.txt`` (the newest version's name) and one folder per
version with ``datapackage.json`` and a CSV per dataset. Every cell is read as text: a
suppressed cell is ``*`` and an empty one has no value, and the page must say which.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RELEASES = ROOT / "data" / "releases"
DATASETS = ("service_performance", "processing_times", "waits", "satisfaction")
SUPPRESSED = "*"
_VERSION = re.compile(r"^[0-9A-Za-z._-]{1,64}$")


class ReleaseError(ValueError):
    """The releases folder is there but cannot be read; the message says what to do."""


@dataclass(frozen=True)
class Release:
    version: str
    folder: Path
    package: dict
    frames: dict[str, pl.DataFrame]

    @property
    def publisher(self) -> str:
        return str(self.package.get("publisher", ""))

    @property
    def data_as_of(self) -> str:
        return str(self.package.get("data_as_of", ""))

    @property
    def latest_three_months(self) -> str:
        return str(self.package.get("period", {}).get("latest_three_months", ""))

    @property
    def licence(self) -> dict:
        licences = self.package.get("licenses") or [{}]
        return licences[0]

    @property
    def disclosure_rule(self) -> str:
        return str(self.package.get("disclosure", {}).get("rule", ""))

    def description(self, dataset: str, field: str) -> str:
        """The datapackage's description of a field (the KPI registry's definition)."""
        for resource in self.package.get("resources", []):
            if resource.get("path") == f"{dataset}.csv" or resource.get("name") == dataset.replace("_", "-"):
                for entry in resource.get("schema", {}).get("fields", []):
                    if entry.get("name") == field:
                        return str(entry.get("description", ""))
        return ""

    def files(self) -> list[Path]:
        """The release's files, datapackage.json first, for download."""
        return [self.folder / "datapackage.json", *(self.folder / f"{name}.csv" for name in DATASETS)]


def releases_folder() -> Path:
    """Where releases are read from: $KPI_PUBLIC_RELEASES, or data/releases."""
    configured = os.environ.get("KPI_PUBLIC_RELEASES", "").strip()
    return Path(configured) if configured else DEFAULT_RELEASES


def latest_release(folder: Path | None = None) -> Release | None:
    """The newest release, or None when nothing has been published yet."""
    folder = folder or releases_folder()
    pointer = folder / "latest.txt"
    if not pointer.is_file():
        return None
    version = pointer.read_text(encoding="utf-8").strip()
    if not _VERSION.match(version):
        raise ReleaseError(f"{pointer} does not name a release; publish again with python -m metrics publish")
    where = folder / version
    try:
        package = json.loads((where / "datapackage.json").read_text(encoding="utf-8"))
        frames = {name: pl.read_csv(where / f"{name}.csv", infer_schema=False) for name in DATASETS}
    except (OSError, ValueError, pl.exceptions.PolarsError) as problem:
        raise ReleaseError(f"release {version} in {folder} cannot be read ({type(problem).__name__}); publish again with python -m metrics publish") from None
    return Release(version, where, package, frames)
