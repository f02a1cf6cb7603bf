"""Ingestion: scan paths, load and chunk changed files, embed in batches, commit whole documents.

Incremental: a file with the same size and mtime, or the same content hash, costs
nothing; a changed file has its chunks replaced; a file gone from a re-ingested
folder is pruned. A file that fails keeps whatever was stored for it before. The hash carries the
readers' version (`READER_VERSION`): a file read by an earlier version of the loaders and chunker is
read again once, so a better reading reaches documents already in the workspace.

An e-mail file yields several documents (its body, each attachment: see `index.messages`), all parts of
that file: they are unchanged, replaced and pruned with it, while an attachment that cannot be read fails
alone. A file read but holding no text is stored with status "no text" (and reported), never dropped.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.chunking import Chunker, embedding_text
from index.embeddings import Embedder
from index.loaders import LoadError, NoText, check_file, kind_of, read_bytes
from index.lock import WriterLock
from index.messages import load_parts
from index.planted import flag_chunks, warning_for
from index.store import Store
from index.types import Chunk, LoadedDocument

ADDED, UPDATED, UNCHANGED, REMOVED, FAILED, SKIPPED = "added", "updated", "unchanged", "removed", "failed", "skipped"
NO_TEXT = "no text"  # a document's stored status when it was read but holds no text


@dataclass(frozen=True)
class IngestEvent:
    """One step of an ingest, for progress displays."""

    kind: str  # "start" (total files known), "file" (one file done), "error", "skipped", "warning"
    path: str = ""
    status: str = ""
    chunks: int = 0
    total_files: int = 0
    reason: str = ""


Progress = Callable[[IngestEvent], None]


@dataclass
class IngestReport:
    """What an ingest did; `failed` and `skipped` carry one-line reasons."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped, {len(self.warnings)} warnings; "
            f"{self.chunks} chunks in {self.seconds:.1f} s"
        )


@dataclass
class ScanResult:
    files: list[Path]
    roots: list[Path]  # folders scanned (their missing files are pruned)
    failed: list[tuple[str, str]]
    skipped: list[tuple[str, str]]


def scan(paths: Iterable[Path]) -> ScanResult:
    """Files under `paths`, recursively, following folder links once; hidden entries are passed over.

    Unsupported types found inside folders are skipped; named explicitly, they fail."""
    result = ScanResult([], [], [], [])
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()

    def add_file(path: Path, explicit: bool) -> None:
        key = os.path.abspath(path)
        if key in seen_files:
            return
        seen_files.add(key)
        if kind_of(path) is None and not explicit:
            result.skipped.append((key, f"unsupported file type {path.suffix or '(no extension)'}"))
            return
        result.files.append(Path(key))

    def walk(folder: Path) -> None:
        try:
            real = os.path.realpath(folder, strict=True)
        except OSError:
            result.failed.append((os.path.abspath(folder), "symlink loop or broken link"))
            return
        if real in seen_dirs:
            if folder.is_symlink():
                result.failed.append((os.path.abspath(folder), "symlink loop (folder already scanned)"))
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            result.failed.append((os.path.abspath(folder), exc.strerror or str(exc)))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir:
                walk(path)
            elif entry.is_symlink() and not path.exists():
                reason = "symlink loop" if _is_loop(path) else "broken symlink"
                result.failed.append((os.path.abspath(path), reason))
            else:
                add_file(path, explicit=False)

    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            result.roots.append(Path(os.path.abspath(path)))
            walk(path)
        elif path.exists() or path.is_symlink():
            add_file(path, explicit=True)
        else:
            result.failed.append((os.path.abspath(path), "no such file or folder"))
    return result


def _is_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == 40
    return False


READER_VERSION = 2  # of the loaders and the chunker: raise it when the same bytes would be read differently


def content_hash(data: bytes) -> str:
    """The file's content hash, tagged with the readers' version ("r2:<hex>")."""
    return f"r{READER_VERSION}:" + hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class _Pending:
    fields: dict[str, Any]
    chunks: list[Chunk]
    status: str
    note: str = ""


@dataclass
class _Prepared:
    """What one file on disk gives: its documents to store, and its parts that failed or were skipped."""

    pending: list[_Pending] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class Ingester:
    """Runs one ingest against a store, holding the writer lock."""

    def __init__(self, store: Store, embedder: Embedder, *, chunk_size: int, chunk_overlap: int,
                 max_file_bytes: int, batch_chunks: int = 512) -> None:
        self.store = store
        self.embedder = embedder
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.max_file_bytes = max_file_bytes
        self.batch_chunks = batch_chunks
        self._chunker: Chunker | None = None
        self._model_checked = False

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            self._chunker = Chunker(self.chunk_size, self.chunk_overlap, tokenize=self.embedder.count_tokens)
        return self._chunker

    def run(self, paths: Sequence[Path], lock: WriterLock, progress: Progress | None = None,
            prune: bool = True, rebuild: bool = False) -> IngestReport:
        emit = progress or (lambda event: None)
        started = time.perf_counter()
        report = IngestReport()
        with lock:
            if rebuild:
                report.chunks += self._rebuild()
            scanned = scan(paths)
            report.failed += scanned.failed
            report.skipped += scanned.skipped
            emit(IngestEvent("start", total_files=len(scanned.files)))
            for path, reason in scanned.failed:
                emit(IngestEvent("error", path=path, reason=reason))
            for path, reason in scanned.skipped:
                emit(IngestEvent("skipped", path=path, reason=reason))
            pending: list[_Pending] = []
            pending_chunks = 0
            for path in scanned.files:
                try:
                    prepared = self._prepare(path)
                except LoadError as exc:
                    report.failed.append((str(path), str(exc)))
                    emit(IngestEvent("error", path=str(path), reason=str(exc)))
                    continue
                if prepared is None:
                    report.count(UNCHANGED)
                    emit(IngestEvent("file", path=str(path), status=UNCHANGED))
                    continue
                for where, reason in prepared.failed:
                    report.failed.append((where, reason))
                    emit(IngestEvent("error", path=where, reason=reason))
                for where, reason in prepared.skipped:
                    report.skipped.append((where, reason))
                    emit(IngestEvent("skipped", path=where, reason=reason))
                for item in prepared.pending:
                    if item.note:
                        report.warnings.append((item.fields["path"], item.note))
                        emit(IngestEvent("warning", path=item.fields["path"], reason=item.note))
                    pending.append(item)
                    pending_chunks += len(item.chunks)
                if pending_chunks >= self.batch_chunks:
                    self._commit(pending, report, emit)
                    pending, pending_chunks = [], 0
            self._commit(pending, report, emit)
            if prune:
                report.removed += self._prune(scanned)
            self.store.save_faiss()
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(self, path: Path) -> _Prepared | None:
        """Load and chunk a file that changed (an e-mail: each of its parts); None when it is unchanged."""
        info = check_file(path, self.max_file_bytes)
        key = str(path)
        record = self.store.document(key)
        current = record is not None and record.content_hash.startswith(f"r{READER_VERSION}:")
        if record is not None and current and record.size == info.st_size and record.mtime == info.st_mtime:
            return None
        data = read_bytes(path)
        digest = content_hash(data)
        if record is not None and record.content_hash == digest:
            self.store.touch_document(key, info.st_mtime)
            return None
        prepared = _Prepared()
        try:
            parts = load_parts(path, data)
        except NoText as exc:  # listed as "no text", and reported
            prepared.pending.append(self._pending(exc.document, key, digest, info.st_size, info.st_mtime, record))
            prepared.failed.append((key, str(exc)))
            return prepared
        for part in parts:
            if part.document is None:
                (prepared.skipped if part.skipped else prepared.failed).append((part.path, part.error))
                continue
            top = part.path == key
            item = self._pending(part.document, part.path, digest if top else content_hash(part.data),
                                 info.st_size if top else len(part.data), info.st_mtime,
                                 record if top else None, "" if top else key)
            if part.error or not item.chunks:
                prepared.failed.append((part.path, part.error or "no text content"))
            prepared.pending.append(item)
        return prepared

    def _pending(self, document: LoadedDocument, path: str, digest: str, size: int, mtime: float,
                 record: Any, parent: str = "") -> _Pending:
        """A document to store: its chunks, and what the file held (pages, rows, sections, warnings)."""
        chunks = self.chunks_of(document) if document.pages else []
        report = document.report()
        report["chunks"] = len(chunks)
        report["sections"] = len({chunk.heading for chunk in chunks if chunk.heading and not chunk.flags})
        if document.note:
            report["warnings"] = [document.note, *report["warnings"]]
        flagged = warning_for(chunks)
        if flagged:
            report["warnings"].append(flagged)
        fields = {"path": path, "title": document.title, "kind": document.kind, "content_hash": digest,
                  "size": size, "mtime": mtime, "pages": len(document.pages), "parent": parent,
                  "status": "ok" if chunks else NO_TEXT, "report": report, "meta": dict(document.meta)}
        status = UPDATED if record is not None or (parent and self.store.document(path)) else ADDED
        return _Pending(fields, chunks, status, "; ".join(report["warnings"]))

    def chunks_of(self, document: LoadedDocument) -> list[Chunk]:
        """The one place a document's chunks are made (a check on the chunks, such as flagging planted text,
        goes here)."""
        return flag_chunks(self.chunker.split(document))

    def _ensure_model(self) -> None:
        if not self._model_checked:
            self.store.check_embedding_model(self.embedder.name, self.embedder.dimension)
            self._model_checked = True

    def _commit(self, pending: list[_Pending], report: IngestReport, emit: Progress) -> None:
        """Embed a batch of documents' chunks in one call and store them in one transaction."""
        if not pending:
            return
        self._ensure_model()
        texts = [embedding_text(chunk) for item in pending for chunk in item.chunks]
        vectors = self.embedder.embed(texts) if texts else []
        items, offset = [], 0
        for item in pending:
            count = len(item.chunks)
            items.append((item.fields, item.chunks, vectors[offset:offset + count]))
            offset += count
        self.store.put_documents(items)
        for item in pending:
            if item.fields["status"] != NO_TEXT:  # a document without text is reported among the failed
                report.count(item.status)
            report.chunks += len(item.chunks)
            if not item.fields["parent"]:  # one event per file on disk, its attachments' chunks included
                chunks = sum(len(other.chunks) for other in pending
                             if other is item or other.fields["parent"] == item.fields["path"])
                emit(IngestEvent("file", path=item.fields["path"], status=item.status, chunks=chunks))

    def _prune(self, scanned: ScanResult) -> int:
        """Remove stored documents that lived under a scanned folder and are gone from it."""
        if not scanned.roots:
            return 0
        present = {str(path) for path in scanned.files} | {path for path, _ in scanned.failed}
        gone = []
        for record in self.store.documents():
            on_disk = record.parent or record.path  # an attachment lives and dies with its message
            if on_disk in present:
                continue
            if any(_is_under(on_disk, root) for root in scanned.roots) and not os.path.exists(on_disk):
                gone.append(record.path)
        return self.store.remove_documents(gone)

    def _rebuild(self) -> int:
        """Re-embed every stored chunk with the current embedding model."""
        chunks = self.store.reset_embeddings(self.embedder.name, self.embedder.dimension)
        self._model_checked = True
        vectors = self.embedder.embed([embedding_text(chunk) for chunk in chunks])
        self.store.replace_vectors([chunk.id for chunk in chunks], vectors)
        return len(chunks)


def _is_under(path: str, root: Path) -> bool:
    try:
        Path(path).relative_to(root)
    except ValueError:
        return False
    return True
