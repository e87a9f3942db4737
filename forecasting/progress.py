"""Which batch job is running on a database now, so that a page can say "detection is
running" instead of "run python -m anomalies detect" while ``make run`` runs it.

A job marks itself with a small JSON file (its process id, its name, when it started) in
the machine's temporary folder, named after the database's address, and removes it when
it ends, however it ends. A page reads the mark and believes it only while that process
is alive, so a job killed hard leaves no false "running". Only jobs on this machine are
seen: that is the embedded demo's case; a job elsewhere is seen by its stored run alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

JOBS = ("forecast", "detect")
FOLDER = Path(tempfile.gettempdir()) / "kpi-dashboard-jobs"


def marker_path(database_url: str, job: str) -> Path:
    """The mark of ``job`` on the database at ``database_url`` (passwords never in it)."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}; known: {', '.join(JOBS)}")
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return FOLDER / f"{digest}-{job}.json"


@contextmanager
def marking(database_url: str, job: str) -> Iterator[None]:
    """Mark ``job`` as running for the duration of the block."""
    path = marker_path(database_url, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    path.write_text(json.dumps({"pid": os.getpid(), "job": job, "started_at": started.isoformat()}))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def running(database_url: str, job: str) -> dt.datetime | None:
    """When ``job`` started on that database, if it is running now on this machine."""
    path = marker_path(database_url, job)
    try:
        mark = json.loads(path.read_text())
        pid, started = int(mark["pid"]), dt.datetime.fromisoformat(mark["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # the job died without removing its mark
    except PermissionError:
        pass  # alive, another user's
    return started
