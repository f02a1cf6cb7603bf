"""The store: SQLite as the system of record, FAISS as a derived vector index.

SQLite holds documents, chunks, their vectors (float32 blobs), an FTS5 table for
BM25 and the embedding model's name and dimension. Every document is written in
the same transaction as its chunks, so a crash at any instant leaves whole
documents only. FAISS (ID-mapped, keyed by chunk id) is saved by write-to-temp and
rename, and stamped with the data generation it reflects; a reader that finds it
stale (a crash, or an ingest still running) rebuilds it in memory from SQLite.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from index.chunking import search_title
from index.sqlite import BUSY_SECONDS, PerThreadConnection, immediate_transaction, use_wal
from index.types import Chunk, Submission, TableRow

SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    pages INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    status TEXT NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    position INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id, page, position);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, heading, title, tokenize = 'porter unicode61 remove_diacritics 2'
);
COMMIT;
"""

# Numbered migrations, applied in order once per workspace (their names are kept in meta "migrations"):
# SCHEMA creates the first version's tables; each change to them after that is a step here.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("0001_chunk_location", "ALTER TABLE chunks ADD COLUMN location TEXT NOT NULL DEFAULT ''"),
    ("0002_chunk_flags", "ALTER TABLE chunks ADD COLUMN flags TEXT NOT NULL DEFAULT ''"),
    # An e-mail's attachments are documents whose parent is the message file on disk.
    ("0003_document_parent", "ALTER TABLE documents ADD COLUMN parent TEXT NOT NULL DEFAULT ''"),
    ("0004_documents_by_parent", "CREATE INDEX IF NOT EXISTS documents_by_parent ON documents(parent)"),
    # What ingest found in the file (JSON): pages in, with text, OCR'd, empty; rows, sections; warnings.
    ("0005_document_report", "ALTER TABLE documents ADD COLUMN report TEXT NOT NULL DEFAULT '{}'"),
    # E-mail metadata (JSON): from, to, date, subject.
    ("0006_document_meta", "ALTER TABLE documents ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'"),
    # Table rows (a loss run's claims, an SOV's locations) with their columns, per chunk, for the profile.
    ("0007_table_rows", "CREATE TABLE IF NOT EXISTS table_rows ("
                        "chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE, "
                        "document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE, "
                        "position INTEGER NOT NULL, table_name TEXT NOT NULL, row_number INTEGER NOT NULL, "
                        "cells TEXT NOT NULL)"),
    ("0008_table_rows_by_document", "CREATE INDEX IF NOT EXISTS table_rows_by_document "
                                    "ON table_rows(document_id, position)"),
)

_FTS_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "did", "do", "does", "for", "from", "has", "have",
    "how", "in", "is", "it", "its", "of", "on", "or", "the", "their", "there", "this", "to", "was", "were",
    "what", "when", "where", "which", "who", "whom", "why", "will", "with", "any", "all", "our", "we", "you",
    "your", "i", "me", "my", "doing", "done", "than", "that", "these", "those", "into", "about",
))


MIN_CHUNKS_TO_PRUNE = 1000  # below this, BM25 queries are cheap whatever their terms
_SCOPE_LOCK = threading.Lock()


class StoreError(RuntimeError):
    """The workspace's index cannot be used as asked; the message is one line for the user."""


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the store knows it."""

    id: int
    path: str
    title: str
    kind: str
    content_hash: str
    size: int
    mtime: float
    pages: int
    chunks: int
    status: str  # "ok", or "no text" (read, but nothing in it to index)
    ingested_at: float
    parent: str = ""  # an e-mail attachment: the message file it came in
    report: dict[str, Any] = field(default_factory=dict)  # pages_in, pages_text, pages_ocr, pages_empty, rows,
    # sections, hidden, warnings (see LoadedDocument.report)
    meta: dict[str, str] = field(default_factory=dict)  # e-mail: from, to, date, subject


@dataclass
class Scope:
    """The documents a search is limited to (see `Store.resolve_scope`), with their chunks' ids."""

    label: str  # the scope as given
    paths: tuple[str, ...]  # the documents' paths as ingested
    chunk_ids: frozenset[int]
    _search_params: Any = field(default=None, init=False, repr=False, compare=False)

    def search_params(self, nprobe: int | None = None) -> Any:
        """FAISS search parameters selecting this scope's chunk ids; with `nprobe`, for an IVF index (which
        takes IVF parameters only). Built once per nprobe; the selector is kept alive here, since the
        parameters hold only a pointer to it."""
        with _SCOPE_LOCK:  # built once: a second build would free the selector a search may be using
            import faiss

            if self._search_params is None:
                import numpy as np

                selector = faiss.IDSelectorBatch(np.fromiter(sorted(self.chunk_ids), dtype="int64",
                                                             count=len(self.chunk_ids)))
                self._search_params = (selector, {})
            selector, by_nprobe = self._search_params
            if nprobe not in by_nprobe:
                by_nprobe[nprobe] = (faiss.SearchParameters(sel=selector) if nprobe is None
                                     else faiss.SearchParametersIVF(sel=selector, nprobe=nprobe))
            return by_nprobe[nprobe]


# ---- the vector index -----------------------------------------------------------------------------------

APPROXIMATE_FROM = 50_000  # chunks; the default of Settings.approximate_index_chunks (0: always exact)
IVF_TRAIN_PER_LIST = 40  # k-means training points per list (a sample of the vectors)
IVF_PROBE_SHARE = 0.02  # of the lists searched per query (ivf_nprobe)
IVF_KEEP_BELOW = 0.8  # an IVF index stays IVF until deletes take it under this share of the threshold


def ivf_lists(count: int) -> int:
    """IVF lists for `count` vectors: about 4 sqrt(n) (1,264 at 100k, 4,000 at 1M)."""
    return max(64, int(4 * math.sqrt(max(count, 1))))


def ivf_nprobe(lists: int) -> int:
    """Lists searched per query: the least giving recall@10 >= 0.99 against exact search on MiniLM-like
    vectors at 100k and 1M chunks, with a margin (benchmarks/vector_index.py)."""
    return max(8, min(lists, math.ceil(lists * IVF_PROBE_SHARE)))


def is_ivf(index: Any) -> bool:
    return hasattr(index, "nprobe") and hasattr(index, "nlist")


def index_fits(index: Any, count: int, approximate_from: int) -> bool:
    """Whether `index` is the kind `count` chunks want: exact below the threshold, IVF at or above it (kept
    down to IVF_KEEP_BELOW of it, so deletes near the line do not rebuild it each time), and an IVF index
    whose list count still suits the count (retrained once it has grown about 4x)."""
    if approximate_from <= 0:
        return not is_ivf(index)
    if not is_ivf(index):
        return count < approximate_from
    return count >= IVF_KEEP_BELOW * approximate_from and ivf_lists(count) <= 2 * index.nlist


def build_vector_index(ids: Any, vectors: Any, dimension: int, approximate_from: int = APPROXIMATE_FROM,
                       nprobe: int = 0, seed: int = 1234) -> Any:
    """The FAISS index over `vectors` (float32, normalized) keyed by `ids` (int64): exact inner product below
    `approximate_from` vectors; at or above it IVF (flat lists, inner product), k-means trained on a sample,
    with a hash-table direct map so deletes (`remove_ids`) and `reconstruct` (exact: lists hold the float32
    vectors) keep working. `nprobe` 0: `ivf_nprobe` of its list count."""
    import faiss
    import numpy as np

    vectors = np.ascontiguousarray(vectors, dtype="float32").reshape(-1, dimension)
    ids = np.ascontiguousarray(ids, dtype="int64")
    count = len(ids)
    if approximate_from <= 0 or count < approximate_from:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        if count:
            index.add_with_ids(vectors, ids)
        return index
    lists = ivf_lists(count)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.cp.min_points_per_centroid = 1  # small indexes (tests) train on what there is, without a warning
    sample = np.random.default_rng(seed).choice(count, size=min(count, lists * IVF_TRAIN_PER_LIST), replace=False)
    index.train(vectors[np.sort(sample)])
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, ids)
    index.nprobe = nprobe or ivf_nprobe(lists)
    return index


def scoped_nprobe(index: Any, scope_size: int) -> int:
    """Lists to search for a scope of `scope_size` chunks: more as the scope is a smaller share of the index
    (its nearest chunks lie in farther lists), every list (exact within the scope) for a small scope."""
    share = scope_size / max(index.ntotal, 1)
    return min(index.nlist, math.ceil(index.nprobe / max(share, 1e-9)))


@dataclass(frozen=True)
class StoreStats:
    documents: int
    chunks: int
    pages: int
    embedding_model: str | None
    dimension: int | None
    db_bytes: int
    faiss_bytes: int


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def fts_phrases(text: str) -> list[str]:
    """The FTS5 phrases of a query: every meaningful term, identifiers kept as phrases.

    Identifiers such as "HF-PR-2024-00417" or "CG 00 01" tokenize into runs of
    alphanumerics; quoting each run as a phrase keeps its parts adjacent."""
    phrases: list[str] = []
    for raw in re.findall(r"[\w][\w\-/.]*[\w]|[\w]", text):
        parts = _FTS_TOKEN.findall(raw)
        if len(parts) > 1:
            phrases.append('"' + " ".join(parts) + '"')
        for part in parts:
            if part.lower() not in STOPWORDS:
                phrases.append(f'"{part}"')
    # Runs of codes separated by spaces ("CG 00 01") as one phrase as well.
    for run in re.findall(r"\b[A-Z]{1,4}(?:\s+\d{2,4}){1,3}\b", text):
        phrases.append('"' + " ".join(run.split()) + '"')
    return list(dict.fromkeys(phrases))


class Store:
    """SQLite (system of record) plus the FAISS file derived from it."""

    def __init__(self, db_path: Path, faiss_path: Path, *, readonly: bool = False,
                 approximate_from: int = APPROXIMATE_FROM, nprobe: int = 0) -> None:
        self.db_path = Path(db_path)
        self.approximate_from = approximate_from  # chunks from which FAISS is IVF (0: always exact)
        self.nprobe = nprobe  # IVF lists per query (0: ivf_nprobe of the list count)
        self.faiss_path = Path(faiss_path)
        self.readonly = readonly
        self._connections = PerThreadConnection(self._open_connection)
        self._faiss: Any = None
        self._faiss_generation: int | None = None
        self._faiss_lock = threading.Lock()
        self._phrase_counts: tuple[int, int, dict[str, int]] | None = None  # (generation, chunks, per phrase)
        self._scopes: tuple[int, dict[tuple[str, str], Scope | None]] = (-1, {})  # (generation, by scope, cwd)
        if readonly and not self.db_path.exists():
            raise StoreError(f"no index at {self.db_path.parent} yet: run `assistant ingest PATH` first")
        if not readonly:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._use_wal()
            self.db.executescript(SCHEMA)  # idempotent, one transaction: readers see all tables or none
            self._migrate()
        elif not self._has_schema():
            raise StoreError(f"the index at {self.db_path.parent} is still being created: try again in a moment")
        elif self._pending_migrations():
            self._migrate()  # a workspace written by an older version: brought up to date once

    # ---- connections ------------------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        """One connection per thread (SQLite connections are not shared across threads)."""
        return self._connections.get()

    def _open_connection(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.db_path, timeout=BUSY_SECONDS, isolation_level=None)
        # journal_mode=WAL is persistent and set once by the writer (`_use_wal`): switching it takes an
        # exclusive lock that fails at once ("database is locked", no busy wait) while anyone reads.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        return connection

    def _use_wal(self) -> None:
        """WAL mode (`index.sqlite.use_wal`), its failure a `StoreError` naming the database."""
        try:
            use_wal(self.db)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.db_path}: {exc}") from exc

    def _has_schema(self) -> bool:
        try:
            row = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        except sqlite3.OperationalError:
            return False
        return row is not None

    def _pending_migrations(self) -> list[str]:
        applied = set((self.meta("migrations") or "").split(","))
        return [name for name, _ in MIGRATIONS if name not in applied]

    def _migrate(self) -> None:
        """Apply the migrations this workspace has not had, each in its own transaction."""
        with self.transaction() as db:
            applied = set(filter(None, (self._meta_in(db, "migrations") or "").split(",")))
            for name, statement in MIGRATIONS:
                if name not in applied:
                    db.execute(statement)
                    applied.add(name)
            self._set_meta(db, "migrations", ",".join(sorted(applied)))

    @staticmethod
    def _meta_in(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        with immediate_transaction(self.db) as db:
            yield db

    def close(self) -> None:
        self._connections.close()

    # ---- meta -------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        return self._meta_in(self.db, key)

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   (key, value))

    @property
    def generation(self) -> int:
        """Bumped by every commit that changes chunks."""
        return int(self.meta("generation") or 0)

    def embedding_model(self) -> tuple[str | None, int | None]:
        dimension = self.meta("dimension")
        return self.meta("embedding_model"), int(dimension) if dimension else None

    def check_embedding_model(self, name: str, dimension: int) -> None:
        """Refuse to mix vectors of two models in one index."""
        stored_name, stored_dim = self.embedding_model()
        if stored_name is None:
            with self.transaction() as db:
                self._set_meta(db, "embedding_model", name)
                self._set_meta(db, "dimension", str(dimension))
            return
        if stored_name != name or stored_dim != dimension:
            raise StoreError(
                f"this workspace was indexed with {stored_name} ({stored_dim} dims), not {name} ({dimension} dims); "
                "run `assistant ingest --rebuild` to re-embed everything with the new model"
            )

    def reset_embeddings(self, name: str, dimension: int) -> list[Chunk]:
        """Forget the stored model (before a rebuild); returns every chunk to re-embed."""
        with self.transaction() as db:
            self._set_meta(db, "embedding_model", name)
            self._set_meta(db, "dimension", str(dimension))
        return self.all_chunks()

    def replace_vectors(self, ids: Sequence[int], vectors: Any) -> None:
        """Overwrite the stored vectors of chunks (a re-embed with another model)."""
        with self.transaction() as db:
            db.executemany("UPDATE chunks SET vector = ? WHERE id = ?",
                           [(vectors[i].tobytes(), chunk) for i, chunk in enumerate(ids)])
            self._bump_generation(db)
        with self._faiss_lock:
            self._faiss, self._faiss_generation = None, None

    # ---- documents --------------------------------------------------------------------------

    _DOCUMENT_SELECT = ("SELECT id, path, title, kind, content_hash, size, mtime, pages, chunks, status, ingested_at, "
                        "parent, report, meta FROM documents ")

    @staticmethod
    def _record(row: Sequence[Any]) -> DocumentRecord:
        *fields, report, meta = row
        return DocumentRecord(*fields, report=_json_object(report), meta=_json_object(meta))

    def documents(self) -> list[DocumentRecord]:
        rows = self.db.execute(self._DOCUMENT_SELECT + "ORDER BY path").fetchall()
        return [self._record(row) for row in rows]

    def document(self, path: str) -> DocumentRecord | None:
        row = self.db.execute(self._DOCUMENT_SELECT + "WHERE path = ?", (path,)).fetchone()
        return self._record(row) if row else None

    def rows_of(self, path: str) -> list[TableRow]:
        """The table rows stored for a document (its sheets' rows, its tables'), in document order, each with
        its columns: what a submission profile reads loss runs and statements of values from. Rows of flagged
        chunks (planted instructions, hidden text) are left out, as they are never evidence."""
        found = self.db.execute(
            "SELECT r.table_name, r.row_number, r.cells FROM table_rows r JOIN documents d ON d.id = r.document_id "
            "JOIN chunks c ON c.id = r.chunk_id WHERE d.path = ? AND c.flags = '' "
            "ORDER BY c.page, c.position, r.position", (path,))
        return [TableRow(name, number, tuple((str(k), str(v)) for k, v in json.loads(cells)))
                for name, number, cells in found.fetchall()]

    def submissions(self) -> list[Submission]:
        """The submissions of the workspace: documents grouped by the folder they lie in, by name then folder."""
        rows = self.db.execute("SELECT path, chunks FROM documents ORDER BY path").fetchall()
        groups: dict[str, list[tuple[str, int]]] = {}
        for path, chunks in rows:
            groups.setdefault(os.path.dirname(path), []).append((path, chunks))
        found = [Submission(os.path.basename(folder), folder, tuple(path for path, _ in items),
                            sum(chunks for _, chunks in items)) for folder, items in groups.items()]
        return sorted(found, key=lambda submission: (submission.name, submission.folder))

    def resolve_scope(self, scope: str) -> Scope | None:
        """The documents a scope names, or None when it names none.

        A scope is a submission's name (the documents whose folder has that name) or a path, absolute or
        relative to the current folder (the documents at it or under it). Cached per data generation."""
        generation = self.generation
        if self._scopes[0] != generation or len(self._scopes[1]) > 64:
            self._scopes = (generation, {})  # replaced whole: safe across threads
        key = (scope, os.getcwd())
        cache = self._scopes[1]
        if key not in cache:
            cache[key] = self._resolve_scope(scope)
        return cache[key]

    def _resolve_scope(self, scope: str) -> Scope | None:
        paths = [row[0] for row in self.db.execute("SELECT path FROM documents ORDER BY path")]
        name = scope.rstrip("/" + os.sep)
        chosen = [path for path in paths if os.path.basename(os.path.dirname(path)) == name] if name else []
        if not chosen and scope.strip():
            roots = {os.path.abspath(os.path.expanduser(scope))}
            roots.add(os.path.realpath(next(iter(roots))))
            prefixes = tuple(root.rstrip(os.sep) + os.sep for root in roots)
            chosen = [path for path in paths if path in roots or path.startswith(prefixes)]
        if not chosen:
            return None
        ids = self.db.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE d.path IN (SELECT value FROM json_each(?))", (json.dumps(chosen),)).fetchall()
        return Scope(scope, tuple(chosen), frozenset(row[0] for row in ids))

    def touch_document(self, path: str, mtime: float) -> None:
        """Record a new mtime for a document whose content did not change."""
        with self.transaction() as db:
            db.execute("UPDATE documents SET mtime = ? WHERE path = ?", (mtime, path))

    def put_documents(self, items: Sequence[tuple[dict[str, Any], Sequence[Chunk], Any]]) -> None:
        """Insert or replace documents with their chunks and vectors, all in one transaction.

        Each item is (document fields, chunks, vectors as an (n, dim) float32 array). Fields may carry
        `parent` (an attachment's message file), `status`, `report` and `meta` (dicts). A document of a file
        on disk (no parent) replaces the attachments stored for it before, so its new ones follow it."""
        if not items:
            return
        import numpy as np

        removed: list[int] = []
        added_ids: list[int] = []
        added_vectors = []
        with self.transaction() as db:
            before = self._generation_in(db)
            for fields, chunks, vectors in items:
                removed += self._delete_document(db, fields["path"])
                parent = fields.get("parent", "")
                if not parent:
                    for (child,) in db.execute("SELECT path FROM documents WHERE parent = ?", (fields["path"],)):
                        removed += self._delete_document(db, child)
                cursor = db.execute(
                    "INSERT INTO documents(path, title, kind, content_hash, size, mtime, pages, chunks, status, "
                    "ingested_at, parent, report, meta) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (fields["path"], fields["title"], fields["kind"], fields["content_hash"], fields["size"],
                     fields["mtime"], fields["pages"], len(chunks), fields.get("status", "ok"), time.time(), parent,
                     json.dumps(fields.get("report") or {}), json.dumps(fields.get("meta") or {})),
                )
                document_id = cursor.lastrowid
                db.executemany(
                    "INSERT INTO chunks(id, document_id, page, position, heading, text, vector, location, flags) "
                    "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(c.id, document_id, c.page, c.position, c.heading, c.text, vectors[i].tobytes(), c.location,
                      "\n".join(c.flags)) for i, c in enumerate(chunks)],
                )
                db.executemany(
                    "INSERT INTO chunks_fts(rowid, text, heading, title) VALUES(?, ?, ?, ?)",
                    [(c.id, c.text, c.heading, search_title(c)) for c in chunks],
                )
                db.executemany(
                    "INSERT INTO table_rows(chunk_id, document_id, position, table_name, row_number, cells) "
                    "VALUES(?, ?, ?, ?, ?, ?)",
                    [(c.id, document_id, i, row.table, row.number, json.dumps([list(cell) for cell in row.cells]))
                     for c in chunks for i, row in enumerate(c.rows)],
                )
                if chunks:
                    added_ids += [c.id for c in chunks]
                    added_vectors.append(np.asarray(vectors, dtype="float32").reshape(len(chunks), -1))
            after = self._bump_generation(db)
        vectors_all = np.concatenate(added_vectors) if added_vectors else None
        self._apply_to_faiss(before, after, removed, added_ids, vectors_all)

    def remove_documents(self, paths: Iterable[str]) -> int:
        """Delete documents and their chunks; returns how many were removed."""
        removed_docs = 0
        removed_chunks: list[int] = []
        with self.transaction() as db:
            before = after = self._generation_in(db)
            for path in paths:
                children = [row[0] for row in db.execute("SELECT path FROM documents WHERE parent = ?", (path,))]
                for document in [path, *children]:  # a message takes its attachments with it
                    if self.document_exists(db, document):
                        removed_docs += 1
                        removed_chunks += self._delete_document(db, document)
            if removed_docs:
                after = self._bump_generation(db)
        if removed_docs:
            self._apply_to_faiss(before, after, removed_chunks, [], None)
        return removed_docs

    @staticmethod
    def document_exists(db: sqlite3.Connection, path: str) -> bool:
        return db.execute("SELECT 1 FROM documents WHERE path = ?", (path,)).fetchone() is not None

    @staticmethod
    def _delete_document(db: sqlite3.Connection, path: str) -> list[int]:
        """Delete one document's rows; returns the ids of the chunks it had."""
        row = db.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
        if row is None:
            return []
        ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE document_id = ?", (row[0],))]
        db.execute("DELETE FROM table_rows WHERE document_id = ?", (row[0],))
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_id = ?)", (row[0],))
        db.execute("DELETE FROM chunks WHERE document_id = ?", (row[0],))
        db.execute("DELETE FROM documents WHERE id = ?", (row[0],))
        return ids

    @staticmethod
    def _generation_in(db: sqlite3.Connection) -> int:
        current = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(current[0]) if current else 0

    def _bump_generation(self, db: sqlite3.Connection) -> int:
        generation = self._generation_in(db) + 1
        self._set_meta(db, "generation", str(generation))
        return generation

    def _apply_to_faiss(self, before: int, after: int, removed: list[int], added: list[int], vectors: Any) -> None:
        """Keep an in-memory FAISS index current with a commit, instead of rebuilding it."""
        import numpy as np

        with self._faiss_lock:
            if self._faiss is None or self._faiss_generation != before:
                self._faiss, self._faiss_generation = None, None  # stale: rebuilt on next use
                return
            if removed:
                self._faiss.remove_ids(np.asarray(removed, dtype="int64"))
            if added:
                self._faiss.add_with_ids(vectors, np.asarray(added, dtype="int64"))
            if not index_fits(self._faiss, self._faiss.ntotal, self.approximate_from):
                self._faiss, self._faiss_generation = None, None  # crossed the threshold: rebuilt on next use
                return
            self._faiss_generation = after

    # ---- chunks -----------------------------------------------------------------------------

    _CHUNK_SELECT = (
        "SELECT c.id, d.path, c.page, c.position, c.text, d.title, c.heading, c.location, c.flags "
        "FROM chunks c JOIN documents d ON d.id = c.document_id "
    )

    @staticmethod
    def _chunk(row: Sequence[Any]) -> Chunk:
        *fields, flags = row
        return Chunk(*fields, flags=tuple(filter(None, flags.split("\n"))))

    def flagged_chunks(self) -> dict[str, list[Chunk]]:
        """The chunks ingest flagged (planted instructions, hidden text), by document path, in reading order."""
        rows = self.db.execute(self._CHUNK_SELECT + "WHERE c.flags != '' ORDER BY d.path, c.page, c.position")
        flagged: dict[str, list[Chunk]] = {}
        for row in rows.fetchall():
            chunk = self._chunk(row)
            flagged.setdefault(chunk.source, []).append(chunk)
        return flagged

    def chunks_by_id(self, ids: Sequence[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        placeholders = ",".join("?" * len(ids))
        rows = self.db.execute(self._CHUNK_SELECT + f"WHERE c.id IN ({placeholders})", list(ids)).fetchall()
        return {row[0]: self._chunk(row) for row in rows}

    def chunks_of(self, path: str) -> list[Chunk]:
        """A document's chunks in order, each with its table rows."""
        rows = self.db.execute(self._CHUNK_SELECT + "WHERE d.path = ? ORDER BY c.page, c.position", (path,))
        table = self._table_rows("WHERE d.path = ?", (path,))
        return [self._with_rows(self._chunk(row), table) for row in rows.fetchall()]

    def all_chunks(self) -> list[Chunk]:
        """Every chunk, by document, each with its table rows."""
        rows = self.db.execute(self._CHUNK_SELECT + "ORDER BY d.path, c.page, c.position").fetchall()
        table = self._table_rows("", ())
        return [self._with_rows(self._chunk(row), table) for row in rows]

    def _table_rows(self, where: str, params: tuple[Any, ...]) -> dict[int, list[TableRow]]:
        found: dict[int, list[TableRow]] = {}
        for chunk, name, number, cells in self.db.execute(
                "SELECT r.chunk_id, r.table_name, r.row_number, r.cells FROM table_rows r "
                f"JOIN documents d ON d.id = r.document_id {where} ORDER BY r.chunk_id, r.position", params):
            found.setdefault(chunk, []).append(
                TableRow(name, number, tuple((str(k), str(v)) for k, v in json.loads(cells))))
        return found

    @staticmethod
    def _with_rows(chunk: Chunk, table: dict[int, list[TableRow]]) -> Chunk:
        rows = table.get(chunk.id)
        return replace(chunk, rows=tuple(rows)) if rows else chunk

    def bm25(self, query: str, limit: int, scope: Scope | None = None) -> list[tuple[int, float]]:
        """(chunk id, score) by FTS5 BM25, best first; higher score is better. With `scope`, its chunks only
        (scored as in the whole index)."""
        phrases = fts_phrases(query)
        if not phrases:
            return []
        expression = " OR ".join(self._weighted_phrases(phrases))
        try:
            if scope is None:
                rows = self.db.execute(
                    "SELECT rowid, bm25(chunks_fts, 1.0, 0.5, 0.3) AS rank FROM chunks_fts WHERE chunks_fts MATCH ? "
                    "ORDER BY rank LIMIT ?",
                    (expression, limit),
                ).fetchall()
            else:
                rows = self.db.execute(
                    "SELECT f.rowid, bm25(chunks_fts, 1.0, 0.5, 0.3) AS rank FROM chunks_fts f "
                    "JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id "
                    "WHERE chunks_fts MATCH ? AND d.path IN (SELECT value FROM json_each(?)) ORDER BY rank LIMIT ?",
                    (expression, json.dumps(scope.paths), limit),
                ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [(row[0], -float(row[1])) for row in rows]

    def _weighted_phrases(self, phrases: list[str]) -> list[str]:
        """The phrases BM25 gives weight to: those in fewer than half of all chunks.

        FTS5's BM25 clamps the IDF of a phrase found in half the chunks or more to about zero, so
        dropping it changes no score that matters, while OR-matching it would make FTS5 score most of
        the index (100 ms and more at 100k chunks). When every phrase is that common, all are kept."""
        total, counts = self.phrase_counts(phrases)
        if total < MIN_CHUNKS_TO_PRUNE:
            return phrases
        kept = [phrase for phrase in phrases if counts[phrase] * 2 < total]
        return kept or phrases

    def phrase_counts(self, phrases: Sequence[str]) -> tuple[int, dict[str, int]]:
        """(chunks in the index, chunks matching each FTS5 phrase), cached per data generation.

        Phrases are FTS5 syntax (`'"sprinkler"'`); the porter tokenizer stems them, so "sprinklers"
        counts the chunks that say "sprinkler". A phrase FTS5 cannot parse counts 0."""
        generation = self.generation
        if self._phrase_counts is None or self._phrase_counts[0] != generation:
            total_chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            self._phrase_counts = (generation, total_chunks, {})  # replaced whole: safe across threads
        _, total, counts = self._phrase_counts
        found = {}
        for phrase in phrases:
            key = phrase.lower()
            if key not in counts:
                try:
                    counts[key] = self.db.execute(
                        "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (phrase,)).fetchone()[0]
                except sqlite3.OperationalError:
                    counts[key] = 0
            found[phrase] = counts[key]
        return total, found

    # ---- FAISS ------------------------------------------------------------------------------

    def faiss_index(self) -> Any:
        """The FAISS index matching the current data generation (loaded, or rebuilt from SQLite)."""
        generation = self.generation
        with self._faiss_lock:
            if self._faiss is not None and self._faiss_generation == generation:
                return self._faiss
            index = self._load_faiss_file(generation)
            if index is None:
                index = self._build_faiss()
            self._faiss, self._faiss_generation = index, generation
            return index

    def _load_faiss_file(self, generation: int) -> Any:
        import faiss

        if str(generation) != (self.meta("faiss_generation") or "") or not self.faiss_path.exists():
            return None
        try:
            index = faiss.read_index(str(self.faiss_path))
        except RuntimeError:
            return None
        # The file is renamed into place before its generation is recorded: check it holds what SQLite says.
        count = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        if index.ntotal != count or not index_fits(index, count, self.approximate_from):
            return None  # stale, or the other kind (the threshold was crossed or changed): rebuilt
        if is_ivf(index):
            index.nprobe = self.nprobe or ivf_nprobe(index.nlist)
        return index

    def _build_faiss(self) -> Any:
        """Exact or IVF by chunk count (`build_vector_index`), from the vectors in SQLite."""
        import numpy as np

        _, dimension = self.embedding_model()
        ids: list[int] = []
        blobs: list[bytes] = []
        for chunk_id_, blob in self.db.execute("SELECT id, vector FROM chunks"):
            ids.append(chunk_id_)
            blobs.append(blob)
        vectors = np.frombuffer(b"".join(blobs), dtype="float32")
        return build_vector_index(np.asarray(ids, dtype="int64"), vectors, dimension or 384,
                                  self.approximate_from, self.nprobe)

    def save_faiss(self) -> None:
        """Write the FAISS file for the current generation: temp file, fsync, rename, then stamp."""
        import faiss

        if self.readonly:
            raise StoreError("read-only store cannot save the vector index")
        generation = self.generation
        index = self.faiss_index()
        tmp = self.faiss_path.with_name(f".{self.faiss_path.name}.{os.getpid()}.tmp")
        faiss.write_index(index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.faiss_path)
        with self.transaction() as db:
            self._set_meta(db, "faiss_generation", str(generation))

    def dense(self, vector: Any, limit: int, scope: Scope | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine) by FAISS inner product over normalized vectors, best first. With `scope`, its
        chunks only: FAISS skips the others (an ID selector), so as many come back as the scope holds (on an
        IVF index, from the lists searched: every list for a small scope, see `scoped_nprobe`)."""
        import numpy as np

        index = self.faiss_index()
        if index.ntotal == 0:
            return []
        query = np.asarray(vector, dtype="float32").reshape(1, -1)
        if scope is None:
            scores, ids = index.search(query, min(limit, index.ntotal))
        else:
            wanted = min(limit, len(scope.chunk_ids), index.ntotal)
            if wanted == 0:
                return []
            nprobe = scoped_nprobe(index, len(scope.chunk_ids)) if is_ivf(index) else None
            scores, ids = index.search(query, wanted, params=scope.search_params(nprobe))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def dense_scores(self, vector: Any, ids: Sequence[int], scope: Scope | None = None) -> dict[int, float]:
        """Exact cosine of `vector` with the stored vectors of `ids` (those missing from the index, or outside
        `scope`, are left out)."""
        import numpy as np

        index = self.faiss_index()
        query = np.asarray(vector, dtype="float32").reshape(-1)
        scores = {}
        for chunk in ids if scope is None else [chunk for chunk in ids if chunk in scope.chunk_ids]:
            try:
                stored = index.reconstruct(int(chunk))
            except RuntimeError:
                continue
            scores[int(chunk)] = float(np.dot(stored, query))
        return scores

    # ---- stats ------------------------------------------------------------------------------

    def stats(self) -> StoreStats:
        documents, chunks, pages = self.db.execute(
            "SELECT count(*), coalesce(sum(chunks), 0), coalesce(sum(pages), 0) FROM documents"
        ).fetchone()
        name, dimension = self.embedding_model()
        db_bytes = sum(p.stat().st_size for p in self.db_path.parent.glob(self.db_path.name + "*") if p.is_file())
        faiss_bytes = self.faiss_path.stat().st_size if self.faiss_path.exists() else 0
        return StoreStats(documents, chunks, pages, name, dimension, db_bytes, faiss_bytes)
