"""One pool of ADBC PostgreSQL connections per process, shared by every extract.

An extract on PostgreSQL reads through ADBC (binary COPY decoded to Arrow in C). Opening an
ADBC connection costs a TCP connection, authentication and a backend process: a cold
Overview used to open 31 of them, one per extract. Here a connection is borrowed for one
extract and given back, so a process keeps a few open connections per database URL and
sessions take turns on them.

What a borrower may rely on, and what the pool guarantees when it takes a connection back:

- no transaction is left open (the connection is rolled back), so an idle connection
  holds no snapshot and no lock an import or a schema change would wait on;
- ``kpi.departments`` (row-level security's setting, data/row_security.py) is reset to
  the empty list, which the policies read as no department: a connection is never handed
  on carrying the previous viewer's scope. Each extract sets its own scope first anyway;
- a connection that failed, or that could not be reset, is closed, not pooled. A pooled
  connection the server has dropped since (a restart, a forced DROP DATABASE) is found by
  a round trip before it is lent (as SQLAlchemy's pre-ping) and replaced by a new one.

At most ``KPI_DB_POOL_SIZE`` (default 4; 0 turns pooling off) idle connections are kept,
over every URL together (a test run that makes many databases must not hold connections
to each): more may be open at once while more sessions work, and the least recently used
idle one is closed when one more is given back to a full pool. The pool is per process: a forked child starts with an empty one.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

DEFAULT_SIZE = 4
ENV_SIZE = "KPI_DB_POOL_SIZE"
RESET = "SELECT set_config('kpi.departments', '', false)"


def pool_size() -> int:
    raw = os.environ.get(ENV_SIZE, "").strip()
    if not raw:
        return DEFAULT_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(f"{ENV_SIZE}={raw!r} is not a whole number of connections") from None
    if size < 0:
        raise ValueError(f"{ENV_SIZE}={raw!r}: the number of idle connections to keep cannot be negative")
    return size


class AdbcPool:
    """Idle ADBC connections per URI. Thread-safe; a connection serves one borrower at a time."""

    def __init__(self, connect: Callable[[str], Any] | None = None) -> None:
        self._connect = connect or _adbc_connect
        self._idle: dict[str, list[Any]] = {}
        self._order: list[tuple[str, Any]] = []  # every idle connection, least recently given back first
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.opened = 0  # connections opened by this pool (for the benchmarks and tests)

    def _take(self, uri: str) -> Any:
        """An idle connection that still answers (a round trip, as SQLAlchemy's pre-ping),
        else a new one."""
        while True:
            with self._lock:
                if self._pid != os.getpid():  # forked: the parent's connections are not ours to use or close
                    self._idle, self._order, self._pid = {}, [], os.getpid()
                idle = self._idle.get(uri)
                conn = idle.pop() if idle else None
                if conn is not None:
                    self._order.remove((uri, conn))
            if conn is None:
                break
            try:
                with conn.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    cursor.fetchall()
                return conn
            except Exception:  # noqa: BLE001 - dropped by the server while idle: try the next
                _close(conn)
        with self._lock:
            self.opened += 1
        return self._connect(uri)

    def _give_back(self, uri: str, conn: Any) -> None:
        try:
            conn.rollback()  # also undoes a setting made inside the borrower's transaction
            with conn.cursor() as cursor:
                cursor.execute(RESET)
                cursor.fetchall()
            conn.commit()
        except Exception:  # noqa: BLE001 - a connection that cannot be reset is not reused
            _close(conn)
            return
        evicted = None
        with self._lock:
            size = pool_size()
            if size and self._pid == os.getpid():
                self._idle.setdefault(uri, []).append(conn)
                self._order.append((uri, conn))
                if len(self._order) > size:  # across every URL: the least recently given back goes
                    old_uri, evicted = self._order.pop(0)
                    self._idle[old_uri].remove(evicted)
            else:
                evicted = conn
        if evicted is not None:
            _close(evicted)

    @contextlib.contextmanager
    def borrow(self, uri: str) -> Iterator[Any]:
        """A connection for the block; given back (reset) after it, closed if the block failed."""
        conn = self._take(uri)
        try:
            yield conn
        except BaseException:
            _close(conn)
            raise
        self._give_back(uri, conn)

    def idle(self, uri: str) -> int:
        with self._lock:
            return len(self._idle.get(uri, []))

    def close_all(self) -> None:
        """Close every idle connection (at exit, or when a database is about to be dropped)."""
        with self._lock:
            pooled = [conn for _, conn in self._order] if self._pid == os.getpid() else []
            self._idle, self._order = {}, []
        for conn in pooled:
            _close(conn)


def _adbc_connect(uri: str) -> Any:
    import adbc_driver_postgresql.dbapi as adbc

    return adbc.connect(uri)


def _close(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()


POOL = AdbcPool()
atexit.register(POOL.close_all)
