"""Spawned worker processes that do not re-run the parent's main script.

A spawned child first runs the parent's ``__main__`` again when that is a script (no
module spec): harmless for ``python -m forecasting``, but inside a Streamlit session or an
AppTest the main module is the page being run, and a child re-running a page crashes (and
the pool then reports every series as "terminated abruptly"). The workers need only
functions of this package, so the children are started while ``__main__`` is an empty
module.
"""

from __future__ import annotations

import multiprocessing
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


def spawn_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool on spawn (fork hangs once Prophet has run in the parent)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


@contextmanager
def plain_main() -> Iterator[None]:
    """Start processes inside this block: they see an empty ``__main__``."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main
