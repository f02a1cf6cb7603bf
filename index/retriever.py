"""Retrieval: dense (FAISS) and BM25 (SQLite FTS5) results fused by weighted reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.embeddings import Embedder
from index.store import Store
from index.types import ScoredChunk

MODES = ("hybrid", "dense", "bm25")


class RetrievalError(ValueError):
    """A search that cannot be run as asked."""


@dataclass
class Retriever:
    """Searches one store. `candidates` results are taken from each side before fusion."""

    store: Store
    embedder: Embedder
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 50

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[ScoredChunk]:
        """The `k` best chunks for `query`, best first."""
        if mode not in MODES:
            raise RetrievalError(f"unknown search mode {mode!r}; known: {', '.join(MODES)}")
        if not query.strip() or k <= 0:
            return []
        depth = max(self.candidates, k)
        dense = self.store.dense(self.embedder.embed_query(query), depth) if mode != "bm25" else []
        bm25 = self.store.bm25(query, depth) if mode != "dense" else []
        return self._fuse(dense, bm25, k)

    def search_many(self, queries: Sequence[str], k: int = 5, mode: str = "hybrid") -> list[list[ScoredChunk]]:
        """Search a batch: the queries are embedded together in one call."""
        if mode not in MODES:
            raise RetrievalError(f"unknown search mode {mode!r}; known: {', '.join(MODES)}")
        depth = max(self.candidates, k)
        vectors = self.embedder.embed(list(queries)) if mode != "bm25" else [None] * len(queries)
        results = []
        for query, vector in zip(queries, vectors, strict=True):
            dense = self.store.dense(vector, depth) if mode != "bm25" and query.strip() else []
            bm25 = self.store.bm25(query, depth) if mode != "dense" else []
            results.append(self._fuse(dense, bm25, k))
        return results

    def _fuse(self, dense: list[tuple[int, float]], bm25: list[tuple[int, float]], k: int) -> list[ScoredChunk]:
        scores: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        dense_scores = dict(dense)
        bm25_scores = dict(bm25)
        for name, hits, weight in (("dense", dense, self.dense_weight), ("bm25", bm25, self.bm25_weight)):
            for rank, (chunk_id, _) in enumerate(hits, start=1):
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (self.rrf_k + rank)
                ranks.setdefault(chunk_id, {})[name] = rank
        best = sorted(scores, key=lambda chunk_id: -scores[chunk_id])[: k * 2]
        chunks = self.store.chunks_by_id(best)
        results = [
            ScoredChunk(chunk=chunks[chunk_id], score=scores[chunk_id], ranks=ranks[chunk_id],
                        dense_score=dense_scores.get(chunk_id), bm25_score=bm25_scores.get(chunk_id))
            for chunk_id in best
            if chunk_id in chunks  # a chunk deleted since the vector index was built
        ]
        return results[:k]
