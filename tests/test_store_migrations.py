"""The store's numbered migrations: a workspace written before a column existed opens and reads."""

from __future__ import annotations

import sqlite3

from index.store import MIGRATIONS, SCHEMA, Store


def _old_workspace(tmp_path):
    """A database as the first version wrote it: SCHEMA only, one document with one chunk."""
    db_path = tmp_path / "index.sqlite"
    db = sqlite3.connect(db_path, isolation_level=None)
    db.executescript(SCHEMA)
    db.execute("INSERT INTO documents VALUES(1, '/docs/a/report.pdf', 'Report', 'pdf', 'h', 1, 1.0, 1, 1, 'ok', 1.0)")
    db.execute("INSERT INTO chunks VALUES(7, 1, 2, 0, '', 'The roof is a steel deck.', x'00000000')")
    db.close()
    return db_path


def test_a_reader_brings_an_old_workspace_up_to_date(tmp_path):
    db_path = _old_workspace(tmp_path)
    store = Store(db_path, tmp_path / "index.faiss", readonly=True)
    chunk = store.chunks_by_id([7])[7]
    assert (chunk.page, chunk.location, chunk.flags) == (2, "", ())
    assert set(store.meta("migrations").split(",")) == {name for name, _ in MIGRATIONS}


def test_migrations_run_once(tmp_path):
    db_path = _old_workspace(tmp_path)
    Store(db_path, tmp_path / "index.faiss").close()
    Store(db_path, tmp_path / "index.faiss").close()  # a second ALTER TABLE ADD COLUMN would raise
    columns = [row[1] for row in sqlite3.connect(db_path).execute("PRAGMA table_info(chunks)")]
    assert columns.count("location") == 1 and columns.count("flags") == 1
