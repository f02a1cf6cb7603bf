"""Retrieval: dense (FAISS) and BM25 (SQLite FTS5) candidates, fused.

Two fusions: `rrf` (weighted reciprocal rank) and `score` (each side's scores
normalized over the candidate set, then weighted and summed). Every candidate
gets its exact cosine, even when only BM25 found it, so `score` fusion and the
relevance gate downstream see both signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from index.embeddings import Embedder
from index.store import Scope, Store
from index.types import ScoredChunk

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("score", "rrf")
_BM25_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bm25")


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
    fusion: str = "score"

    def search(self, query: str, k: int = 5, mode: str = "hybrid", scope: str | None = None) -> list[ScoredChunk]:
        """The `k` best chunks for `query`, best first; with `scope` (see `resolve`), that submission's only."""
        return self.search_many([query], k, mode, scope)[0]

    def search_many(self, queries: Sequence[str], k: int = 5, mode: str = "hybrid",
                    scope: str | None = None) -> list[list[ScoredChunk]]:
        """Search a batch: the queries are embedded together in one call."""
        if mode not in MODES:
            raise RetrievalError(f"unknown search mode {mode!r}; known: {', '.join(MODES)}")
        if self.fusion not in FUSIONS:
            raise RetrievalError(f"unknown fusion {self.fusion!r}; known: {', '.join(FUSIONS)}")
        scoped = self.resolve(scope) if scope is not None else None
        depth = max(self.candidates, k)
        wanted = [bool(query.strip()) and k > 0 for query in queries]
        # In hybrid mode BM25 (SQLite) runs beside embedding and FAISS: both release the GIL.
        bm25_job = _BM25_POOL.submit(self._bm25_all, queries, wanted, depth, scoped) if mode == "hybrid" else None
        vectors = self.embedder.embed(list(queries)) if mode != "bm25" else [None] * len(queries)
        if bm25_job is not None:
            bm25_all = bm25_job.result()
        elif mode == "bm25":
            bm25_all = self._bm25_all(queries, wanted, depth, scoped)
        else:
            bm25_all = [[] for _ in queries]
        results = []
        for query_wanted, vector, bm25 in zip(wanted, vectors, bm25_all, strict=True):
            if not query_wanted:
                results.append([])
                continue
            dense = self.store.dense(vector, depth, scoped) if mode != "bm25" else []
            cosines = dict(dense)
            if vector is not None:
                missing = [chunk for chunk, _ in bm25 if chunk not in cosines]
                cosines.update(self.store.dense_scores(vector, missing, scoped))
            results.append(self._fuse(dense, bm25, cosines, k, mode))
        return results

    def resolve(self, scope: str) -> Scope:
        """The documents of a scope: a submission's name (its folder's name) or a path (absolute, or relative
        to the current folder) to documents or a folder of them."""
        resolved = self.store.resolve_scope(scope)
        if resolved is None:
            known = sorted({submission.name for submission in self.store.submissions()})
            raise RetrievalError(f"no submission or ingested document matches scope {scope!r}; known submissions: "
                                 + (", ".join(known) or "none (nothing is ingested)"))
        return resolved

    def _bm25_all(self, queries: Sequence[str], wanted: Sequence[bool], depth: int,
                  scope: Scope | None = None) -> list[list[tuple[int, float]]]:
        return [self.store.bm25(query, depth, scope) if ok else [] for query, ok in zip(queries, wanted, strict=True)]

    def _fuse(self, dense: list[tuple[int, float]], bm25: list[tuple[int, float]], cosines: dict[int, float],
              k: int, mode: str) -> list[ScoredChunk]:
        ranks: dict[int, dict[str, int]] = {}
        for name, hits in (("dense", dense), ("bm25", bm25)):
            for rank, (chunk_id, _) in enumerate(hits, start=1):
                ranks.setdefault(chunk_id, {})[name] = rank
        bm25_scores = dict(bm25)
        if mode == "dense":
            scores = dict(dense)
        elif mode == "bm25":
            scores = dict(bm25)
        elif self.fusion == "rrf":
            scores = {chunk: sum(self._weight(name) / (self.rrf_k + rank) for name, rank in by.items())
                      for chunk, by in ranks.items()}
        else:
            scores = self._score_fusion(ranks, cosines, bm25_scores)
        best = sorted(scores, key=lambda chunk_id: -scores[chunk_id])[: k * 2]
        chunks = self.store.chunks_by_id(best)
        results = [
            ScoredChunk(chunk=chunks[chunk_id], score=scores[chunk_id], ranks=ranks.get(chunk_id, {}),
                        dense_score=cosines.get(chunk_id), bm25_score=bm25_scores.get(chunk_id))
            for chunk_id in best
            if chunk_id in chunks  # a chunk deleted since the vector index was built
        ]
        return results[:k]

    def _weight(self, name: str) -> float:
        return self.dense_weight if name == "dense" else self.bm25_weight

    def _score_fusion(self, ranks: dict[int, dict[str, int]], cosines: dict[int, float],
                      bm25_scores: dict[int, float]) -> dict[int, float]:
        candidates = list(ranks)
        dense_values = [cosines.get(chunk, 0.0) for chunk in candidates]
        low, high = (min(dense_values), max(dense_values)) if dense_values else (0.0, 0.0)
        top_bm25 = max(bm25_scores.values(), default=0.0)
        scores = {}
        for chunk in candidates:
            dense_part = (cosines.get(chunk, low) - low) / (high - low) if high > low else 0.0
            bm25_part = bm25_scores.get(chunk, 0.0) / top_bm25 if top_bm25 > 0 else 0.0
            scores[chunk] = self.dense_weight * dense_part + self.bm25_weight * bm25_part
        return scores
