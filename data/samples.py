"""Where the real public sample files live (../shared/data/ beside the project).

They are never copied into the repository. Set KPI_SHARED_DATA to point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """The folder of the real sample files, or None when it cannot be found.

    Looked for in $KPI_SHARED_DATA, then shared/data beside the project or beside any
    folder above it (a clone may sit deeper than the original checkout), then the
    project machines' own copy.
    """
    candidates = []
    if os.environ.get("KPI_SHARED_DATA"):
        candidates.append(Path(os.environ["KPI_SHARED_DATA"]))
    candidates += [folder / "shared" / "data" for folder in ROOT.parents]
    candidates.append(Path("/work/shared/data"))  # where this project's machines keep them
    for candidate in candidates:
        if (candidate / "boston311_2015.csv.gz").is_file():
            return candidate
    return None
