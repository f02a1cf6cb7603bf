"""The vector index at archive scale: exact (flat) against IVF, and HNSW for comparison, in one run.

Vectors are MiniLM-like: real all-MiniLM-L6-v2 embeddings of passages of the sample documents and the public
fixture (cached in .test-cache/), each synthetic chunk one of them plus part of another plus Gaussian noise,
normalized (a cosine of about 0.8 to its first parent); queries are the real embeddings of the eval
questions. Indexes are built by `index.store.build_vector_index`, the function the store builds FAISS with
from SQLite (SQLite is skipped here; `benchmarks/ingest.py --chunks` exercises it).

Reported per size: build seconds, resident memory added by the index, warm single-query search p50/p95 at
k=5, and recall@10 against exact search, for a sweep of nprobe (the store's default marked) and for scoped
searches (an ID selector over 1% and 20% of the chunks, nprobe from `scoped_nprobe`).

    python benchmarks/vector_index.py [--sizes 100000 1000000] [--queries 200] [--hnsw-at 100000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.quiet import quiet_libraries  # noqa: E402

quiet_libraries()

BASE_CACHE = ROOT / ".test-cache" / "vector_bench_base.npz"


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def real_embeddings() -> tuple[Any, Any]:
    """(passage embeddings, question embeddings) of the bundled model, computed once and cached."""
    import numpy as np

    if BASE_CACHE.exists():
        cached = np.load(BASE_CACHE)
        return cached["passages"], cached["questions"]
    from benchmarks.retrieval_quality import CORPORA
    from index.embeddings import Embedder

    passages, questions = [], []
    for corpus in CORPORA.values():
        for path in sorted(corpus.docs.rglob("*")):
            if path.suffix in {".md", ".txt", ".csv", ".html"}:
                words = path.read_text(errors="ignore").split()
                passages += [" ".join(words[i:i + 120]) for i in range(0, len(words), 60)]
        questions += [json.loads(line)["question"] for line in corpus.questions.read_text().splitlines() if line]
    embedder = Embedder("bundled:all-MiniLM-L6-v2", dtype="float32")
    result = embedder.embed(passages), embedder.embed(questions)
    BASE_CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(BASE_CACHE, passages=result[0], questions=result[1])
    return result


def synthetic(base: Any, count: int, seed: int = 5, noise: float = 0.035) -> Any:
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.empty((count, base.shape[1]), dtype="float32")
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        first, second = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
        block = base[first] + rng.uniform(0, 0.5, (n, 1)).astype("float32") * base[second]
        block += rng.standard_normal(block.shape, dtype="float32") * noise
        out[start:start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def timed_searches(index: Any, queries: Any, k: int, params: Any = None) -> tuple[float, float, Any]:
    """(p50 ms, p95 ms, ids) of single-query searches, after a warm-up pass."""
    import numpy as np

    for query in queries[:10]:
        index.search(query.reshape(1, -1), k, params=params)
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query.reshape(1, -1), k, params=params)
        times.append(time.perf_counter() - started)
        found.append(ids[0])
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000, np.array(found)


def recall(found: Any, truth: Any) -> float:
    return sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)) / truth.size


def bench_size(count: int, base: Any, queries: Any, flat_queries: int, hnsw: bool) -> dict[str, Any]:
    import faiss
    import numpy as np

    from index.store import Scope, build_vector_index, ivf_nprobe, scoped_nprobe

    vectors = synthetic(base, count)
    ids = np.arange(count, dtype="int64") * 3 + 1  # not positions: the ID map is exercised
    _, truth_rows = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    truth = ids[truth_rows]
    row: dict[str, Any] = {"chunks": count}

    before, started = rss_mb(), time.perf_counter()
    flat = build_vector_index(ids, vectors, vectors.shape[1], approximate_from=0)
    row["flat"] = {"build_s": round(time.perf_counter() - started, 2), "memory_mb": round(rss_mb() - before)}
    p50, p95, _ = timed_searches(flat, queries[:flat_queries], 5)
    row["flat"].update(p50_ms=round(p50, 2), p95_ms=round(p95, 2))
    del flat

    before, started = rss_mb(), time.perf_counter()
    ivf = build_vector_index(ids, vectors, vectors.shape[1], approximate_from=1)
    row["ivf"] = {"lists": ivf.nlist, "build_s": round(time.perf_counter() - started, 2),
                  "memory_mb": round(rss_mb() - before), "default_nprobe": ivf_nprobe(ivf.nlist), "sweep": []}
    for nprobe in sorted({4, 8, 16, 32, 64, 128, ivf_nprobe(ivf.nlist)}):
        ivf.nprobe = nprobe
        p50, p95, _ = timed_searches(ivf, queries, 5)
        _, found = ivf.search(queries, 10)
        row["ivf"]["sweep"].append({"nprobe": nprobe, "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
                                    "recall@10": round(recall(found, truth), 4)})
    ivf.nprobe = ivf_nprobe(ivf.nlist)
    row["scoped"] = []
    rng = np.random.default_rng(9)
    for share in (0.01, 0.2):
        chosen = np.sort(rng.choice(count, int(count * share), replace=False))
        scope = Scope("bench", (), frozenset(ids[chosen].tolist()))
        _, scoped_rows = faiss.knn(queries, vectors[chosen], 10, metric=faiss.METRIC_INNER_PRODUCT)
        nprobe = scoped_nprobe(ivf, len(chosen))
        params = scope.search_params(nprobe)
        p50, p95, _ = timed_searches(ivf, queries, 5, params)
        _, found = ivf.search(queries, 10, params=params)
        row["scoped"].append({"share": share, "nprobe": nprobe, "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
                              "recall@10": round(recall(found, ids[chosen][scoped_rows]), 4)})
    del ivf
    if hnsw:
        before, started = rss_mb(), time.perf_counter()
        graph = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        graph.add(vectors)
        row["hnsw"] = {"M": 32, "build_s": round(time.perf_counter() - started, 2),
                       "memory_mb": round(rss_mb() - before), "sweep": []}
        for ef in (32, 64, 128):
            graph.hnsw.efSearch = ef
            p50, p95, _ = timed_searches(graph, queries, 5)
            _, found = graph.search(queries, 10)
            row["hnsw"]["sweep"].append({"efSearch": ef, "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
                                         "recall@10": round(recall(ids[found], truth), 4)})
        del graph
    return row


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--flat-queries", type=int, default=50, help="the exact scan is slow at 1M: fewer")
    parser.add_argument("--hnsw-at", type=int, nargs="*", default=[100_000])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    passages, questions = real_embeddings()
    queries = np.ascontiguousarray(questions[np.arange(args.queries) % len(questions)])
    if args.queries > len(questions):  # more queries than questions: perturbed copies
        queries = synthetic(questions, args.queries, seed=13, noise=0.01)
    rows = [bench_size(size, passages, queries, args.flat_queries, size in args.hnsw_at) for size in args.sizes]
    if args.json:
        print(json.dumps(rows))
        return
    for row in rows:
        flat, ivf = row["flat"], row["ivf"]
        print(f"\n{row['chunks']:,} chunks (base: {len(passages)} real passage embeddings), {len(queries)} queries")
        print(f"  flat (exact): build {flat['build_s']} s, +{flat['memory_mb']} MB, p50 {flat['p50_ms']} ms, "
              f"p95 {flat['p95_ms']} ms")
        print(f"  IVF{ivf['lists']},Flat: build {ivf['build_s']} s, +{ivf['memory_mb']} MB")
        for sweep in ivf["sweep"]:
            mark = "  <- default" if sweep["nprobe"] == ivf["default_nprobe"] else ""
            print(f"    nprobe {sweep['nprobe']:>4}: p50 {sweep['p50_ms']} ms, p95 {sweep['p95_ms']} ms, "
                  f"recall@10 {sweep['recall@10']}{mark}")
        for scoped in row["scoped"]:
            print(f"    scope {scoped['share']:.0%}: nprobe {scoped['nprobe']}, p50 {scoped['p50_ms']} ms, "
                  f"recall@10 {scoped['recall@10']}")
        if "hnsw" in row:
            hnsw = row["hnsw"]
            print(f"  HNSW{hnsw['M']},Flat: build {hnsw['build_s']} s, +{hnsw['memory_mb']} MB")
            for sweep in hnsw["sweep"]:
                print(f"    efSearch {sweep['efSearch']:>4}: p50 {sweep['p50_ms']} ms, recall@10 {sweep['recall@10']}")


if __name__ == "__main__":
    main()
