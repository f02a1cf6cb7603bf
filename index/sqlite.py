"""SQLite as every store here uses it: one connection per thread, WAL mode switched on with a retry,
and immediate transactions rolled back on any error. Shared by the index store and the audit trail."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

BUSY_SECONDS = 30  # how long a connection waits for another writer's lock


class PerThreadConnection:
    """One SQLite connection per thread (connections are not shared across threads), opened on first use
    by `open` and closed by `close`."""

    def __init__(self, open: Callable[[], sqlite3.Connection]) -> None:
        self._open = open
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
        return connection

    def opened(self) -> bool:
        return getattr(self._local, "connection", None) is not None

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def use_wal(connection: sqlite3.Connection) -> None:
    """Put the database in WAL mode (readers never block the writer), retrying while a reader holds a lock
    on a database still in rollback-journal mode. Raises the last `sqlite3.OperationalError` after 30 s."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the connection is in autocommit mode)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
