"""The application core: the one composition root the CLI and the UI call.

Built from settings; every heavy part (embedder, store, engine) is created on
first use, so `assistant --help` and light commands stay instant.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.settings import Settings

if TYPE_CHECKING:
    from index.embeddings import Embedder
    from index.ingest import IngestReport, Progress
    from index.retriever import Retriever
    from index.store import DocumentRecord, Store, StoreStats
    from index.types import ScoredChunk


class Assistant:
    """Ingest, search and the rest of the product over one workspace."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # ---- parts ------------------------------------------------------------------------------

    @cached_property
    def embedder(self) -> Embedder:
        from index.embeddings import Embedder

        return Embedder(self.settings.embedding_model, batch_size=self.settings.embed_batch_size)

    @cached_property
    def store(self) -> Store:
        """The writable store (created if missing)."""
        from index.store import Store

        return Store(self.settings.db_path, self.settings.faiss_path)

    @cached_property
    def reader(self) -> Store:
        """A read-only view of the store: never takes the writer lock, fails if nothing was ingested."""
        from index.store import Store

        return Store(self.settings.db_path, self.settings.faiss_path, readonly=True)

    @cached_property
    def retriever(self) -> Retriever:
        from index.retriever import Retriever

        s = self.settings
        return Retriever(self.reader, self.embedder, rrf_k=s.rrf_k, dense_weight=s.dense_weight,
                         bm25_weight=s.bm25_weight, fusion=s.fusion)

    # ---- index ------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None, *, wait: float = 0.0,
               prune: bool = True, rebuild: bool = False) -> IngestReport:
        """Add, update and prune documents under `paths`."""
        from index.ingest import Ingester
        from index.lock import WriterLock

        s = self.settings
        ingester = Ingester(self.store, self.embedder, chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap,
                            max_file_bytes=s.max_file_mb * 1024 * 1024, batch_chunks=s.ingest_batch_chunks)
        return ingester.run(paths, WriterLock(s.lock_path, wait=wait), progress, prune=prune, rebuild=rebuild)

    def remove_documents(self, paths: Sequence[Path], *, wait: float = 0.0) -> list[str]:
        """Remove documents by path (a folder removes everything under it); returns the paths removed."""
        from index.lock import WriterLock

        targets = []
        for raw in paths:
            absolute = os.path.abspath(Path(raw).expanduser())
            for record in self.store.documents():
                if record.path == absolute or record.path.startswith(absolute.rstrip(os.sep) + os.sep):
                    targets.append(record.path)
        with WriterLock(self.settings.lock_path, wait=wait):
            self.store.remove_documents(targets)
            self.store.save_faiss()
        return targets

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[ScoredChunk]:
        return self.retriever.search(query, k or self.settings.top_k, mode or self.settings.search_mode)

    def search_many(self, queries: Sequence[str], k: int | None = None,
                    mode: str | None = None) -> list[list[ScoredChunk]]:
        return self.retriever.search_many(queries, k or self.settings.top_k, mode or self.settings.search_mode)

    def documents(self) -> list[DocumentRecord]:
        return self.reader.documents()

    def stats(self) -> StoreStats:
        return self.reader.stats()
